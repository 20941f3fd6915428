"""Inside the network: every convolution's feature maps for a batch of images, and where each
channel fires most.

All convolutions (``Conv2D`` and ``Conv2DTranspose``) of the whole autoencoder are read in one
pass of one compiled multi-output model, encoder and decoder alike, since they share one graph.
Work in chunks: :func:`feature_maps` holds every layer for the images it is given only; what a
channel gallery needs of each image is boiled down to :func:`channel_means` and
:func:`argmax_cells` (kept per image by :meth:`aevis.store.results.Results.encode`, which ranks
them as it goes: :attr:`aevis.store.encoding.Encoded.rankings`).
"""

from __future__ import annotations

import math

import keras
import numpy as np

from aevis import backend
from aevis.memory import images_per_call
from aevis.network.layers import LayerInfo

_CONV_TYPES = (keras.layers.Conv2D, keras.layers.Conv2DTranspose)


def conv_layers(ae) -> tuple[LayerInfo, ...]:
    """Every ``Conv2D`` / ``Conv2DTranspose`` layer of ``ae.model``, in model order.

    A layer belongs to the encoder when it is one of ``ae.encoder``'s layers (upstream of the
    bottleneck), else to the decoder; a convolution that *is* the bottleneck is 'bottleneck'.
    """
    encoder_names = {layer.name for layer in ae.encoder.layers}
    return tuple(
        _info(ae, layer, _part(ae, layer.name, encoder_names))
        for layer in ae.model.layers
        if isinstance(layer, _CONV_TYPES)
    )


def gallery_layers(ae) -> tuple[LayerInfo, ...]:
    """The layers that get a channel gallery: the encoder's convolutions, then the bottleneck."""
    encoder = tuple(layer for layer in conv_layers(ae) if layer.part == "encoder")
    return encoder + (bottleneck_layer(ae),)


def strip_layers(ae) -> tuple[LayerInfo, ...]:
    """The layer strip's stations in model order: encoder convolutions, the bottleneck (once,
    even when it is itself a convolution), decoder convolutions."""
    layers = conv_layers(ae)
    if any(layer.part == "bottleneck" for layer in layers):
        return layers
    encoder = tuple(layer for layer in layers if layer.part == "encoder")
    return encoder + (bottleneck_layer(ae),) + tuple(layer for layer in layers if layer.part == "decoder")


def bottleneck_layer(ae) -> LayerInfo:
    """The bottleneck as a :class:`LayerInfo` (its channels, or its units when it is flat)."""
    return _info(ae, ae.model.get_layer(ae.bottleneck), "bottleneck")


def _part(ae, name: str, encoder_names: set[str]) -> str:
    if name == ae.bottleneck:
        return "bottleneck"
    return "encoder" if name in encoder_names else "decoder"


def _info(ae, layer, part: str) -> LayerInfo:
    shape = tuple(layer.output.shape[1:])
    height = ae.input_spec.height
    if len(shape) == 3:
        return LayerInfo(
            layer.name,
            type(layer).__name__,
            part,
            int(shape[2]),
            (int(shape[0]), int(shape[1])),
            height / int(shape[0]),
        )
    return LayerInfo(layer.name, type(layer).__name__, part, math.prod(int(size) for size in shape), None, None)


def feature_maps(ae, images: np.ndarray, layers=None, batch_size: int = 32) -> dict[str, np.ndarray]:
    """Each layer's output for a batch of [0, 1] images.

    Args:
        ae: the autoencoder.
        images: float32 (N, H, W, C) in [0, 1]; keep N to a chunk (32 or so): every layer of
            every one of these images is held at once.
        layers: :class:`LayerInfo` objects or layer names; None means :func:`conv_layers` plus
            the bottleneck.
        batch_size: images per model call.

    Returns:
        layer name -> float32 (N, h, w, channels) for maps, or (N, units) for a Dense layer,
        in the model's own units (not rescaled).
    """
    return _run(ae, images, _names(ae, layers), batch_size, rebuild=False)


def feature_maps_and_rebuilds(
    ae, images: np.ndarray, layers=None, batch_size: int = 32
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """:func:`feature_maps` of ``layers``, and the reconstructions in [0, 1] space (float32 (N, H,
    W, C)), from one pass of the model: the encoder runs once for the maps, the code and the
    rebuild, where asking for each apart ran it three times."""
    names = _names(ae, layers)
    outputs = _run(ae, images, names, batch_size, rebuild=True)
    return {name: outputs[name] for name in names}, outputs[_REBUILT]


_REBUILT = "\0rebuilt"  # the model's own output among the layers' in :func:`_run`


def _run(ae, images: np.ndarray, names: tuple[str, ...], batch_size: int, rebuild: bool) -> dict[str, np.ndarray]:
    fn = _compiled(ae, names, rebuild)
    images = np.asarray(images, np.float32)
    if len(images) == 0:
        raise ValueError("No images to read feature maps of.")
    keys = names + ((_REBUILT,) if rebuild else ())
    parts: list[list[np.ndarray]] = [[] for _ in keys]
    batch_size = images_per_call(ae, batch_size)
    for start in range(0, len(images), batch_size):
        outputs = fn(images[start : start + batch_size])
        for bucket, output in zip(parts, outputs):
            bucket.append(backend.to_numpy(output))
    return {key: np.concatenate(bucket).astype(np.float32, copy=False) for key, bucket in zip(keys, parts)}


def _names(ae, layers) -> tuple[str, ...]:
    if layers is None:
        layers = conv_layers(ae) + (bottleneck_layer(ae),)
    names = tuple(dict.fromkeys(layer if isinstance(layer, str) else layer.name for layer in layers))
    known = {layer.name for layer in ae.model.layers}
    missing = [name for name in names if name not in known]
    if missing:
        raise ValueError(f"Expected layers of the model, but it has no layer named {', '.join(map(repr, missing))}.")
    return names


def _compiled(ae, names: tuple[str, ...], rebuild: bool = False):
    """One compiled multi-output model per set of layers (and the model's output, rebuilt into
    [0, 1] space, last, when ``rebuild``), cached on the autoencoder."""
    cache = ae.__dict__.get("_aevis_feature_maps")
    if cache is None:
        cache = {}
        object.__setattr__(ae, "_aevis_feature_maps", cache)  # Autoencoder is a frozen dataclass
    if (names, rebuild) not in cache:
        model, spec = ae.model, ae.input_spec
        outputs = [model.get_layer(name).output for name in names] + (list(model.outputs[:1]) if rebuild else [])
        reader = keras.Model(model.inputs[0], outputs, name="aevis_feature_maps")

        def run(x):
            found = _as_list(reader(spec.to_model(x), training=False))
            return found[:-1] + [spec.from_model(found[-1])] if rebuild else found

        fn = backend.compile_function(run)
        cache[names, rebuild] = lambda x: _as_list(fn(x))
    return cache[names, rebuild]


def _as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def channel_means(maps: np.ndarray) -> np.ndarray:
    """Mean activation of each channel, float32 (N, channels): the spatial mean of each map,
    or the units themselves for a flat (N, units) layer."""
    maps = np.asarray(maps, np.float32)
    return maps.mean(axis=(1, 2)) if maps.ndim == 4 else maps.reshape(len(maps), -1)


def argmax_cells(maps: np.ndarray) -> np.ndarray | None:
    """int32 (N, channels, 2): (row, column) of each channel's strongest cell, the first one
    in row-major order on a tie; None for a flat layer, which has no place to point at."""
    maps = np.asarray(maps)
    if maps.ndim != 4:
        return None
    count, height, width, channels = maps.shape
    flat = maps.reshape(count, height * width, channels).argmax(axis=1)  # first maximum wins
    return np.stack(np.divmod(flat, width), axis=-1).astype(np.int32)


def outline_box(cell, layer: LayerInfo, input_shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The input-pixel square drawn around a channel's strongest cell: (top, left, bottom, right).

    The rule: a feature-map cell covers ``scale`` = H / map height input pixels a side; the
    box is centred on that patch and is ``2 × scale`` pixels a side (a 3×3 convolution also sees
    its neighbours' pixels), but never smaller than ⌈H / 8⌉ so that it stays visible, nor
    larger than the image; it is shifted, not cut, to stay inside. Bottom and right are
    exclusive, so the box covers rows top..bottom-1.
    """
    height, width = input_shape
    if layer.scale is None:
        raise ValueError(f"Layer {layer.name!r} has no spatial map, so there is no region to outline.")
    row, column = int(cell[0]), int(cell[1])
    scale_y, scale_x = height / layer.map_shape[0], width / layer.map_shape[1]
    side_y = int(min(height, max(math.ceil(height / 8), round(2 * scale_y))))
    side_x = int(min(width, max(math.ceil(width / 8), round(2 * scale_x))))
    top = _clamp(round((row + 0.5) * scale_y - side_y / 2), 0, height - side_y)
    left = _clamp(round((column + 0.5) * scale_x - side_x / 2), 0, width - side_x)
    return top, left, top + side_y, left + side_x


def _clamp(value: int, low: int, high: int) -> int:
    return int(min(max(value, low), high))
