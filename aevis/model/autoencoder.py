"""Where a Keras autoencoder is loaded, split at its code layer, and run on images.

Every image aevis handles is float32 (N, H, W, C) in [0, 1]. The model may have been trained
on another range (see :mod:`aevis.model.scale`); :class:`Autoencoder` converts on the way in
and out, so maps and gradients are always with respect to the [0, 1] image a person sees.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from aevis import backend
from aevis.errors import AevisError
from aevis.memory import images_per_call
from aevis.model.files import file_sha256, import_custom_objects, load_model_file
from aevis.model.graph import FlatGraph, flatten, flatten_pair, has_graph
from aevis.model.identity import memory_sha256
from aevis.model.scale import AUTO, SCALES, PixelScales, detect_scales
from aevis.model.waist import find_code_layer


@dataclass(frozen=True)
class InputSpec:
    """What the model takes: image size, channels and the pixel ranges of input and output."""

    height: int
    width: int
    channels: int
    scales: PixelScales = PixelScales()

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, self.channels)

    def to_model(self, images):
        """[0, 1] images to the model's input range (works on arrays and tensors)."""
        return self.scales.to_model(images)

    def from_model(self, values):
        """The model's output range back to [0, 1]."""
        return self.scales.from_model(values)


@dataclass(frozen=True, eq=False)
class Autoencoder:
    """A Keras autoencoder split at its code layer.

    Attributes:
        model: the whole autoencoder, image to reconstruction, as one flat functional graph
            of copies of the user's layers (nested models opened, see :mod:`aevis.model.graph`).
        encoder: image to code layer activation (a ``keras.Model``).
        decoder: code to reconstruction, or None where the layers after the code do not form
            a chain that can be run on their own (skip connections).
        bottleneck: name of the code layer in ``model``.
        bottleneck_reason: how it was chosen, in words, for the terminal and the manifest.
        input_spec: the input size, channels and pixel ranges.
        sha256: a SHA-256 of the model's file or files (of its architecture and weights for a
            model loaded from memory), or None for a model wrapped without one.
        graph: the flat graph, its layer outputs and the names a user may give its layers.
        scales_reason: how the pixel ranges were chosen, in words.
        rebuild_warning: a sentence when even the best pixel ranges rebuild the images
            poorly, else None.
    """

    model: keras.Model
    encoder: keras.Model
    decoder: keras.Model | None
    bottleneck: str
    bottleneck_reason: str
    input_spec: InputSpec
    sha256: str | None = None
    graph: FlatGraph | None = None
    scales_reason: str = "the default, [0, 1]"
    rebuild_warning: str | None = None

    @property
    def code_size(self) -> int:
        """Length of the flattened code."""
        return math.prod(self.encoder.output.shape[1:])

    def layer(self, name: str) -> str:
        """The name in :attr:`model` of a layer a user named (own name, or a path such as
        ``'encoder/latent'``); AevisError listing the layers when there is none."""
        return self.graph.resolve(name)

    def encode(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Flattened codes, float32 (N, D), for [0, 1] images (N, H, W, C)."""
        codes = _run_batched(self._encode_batch, images, images_per_call(self, batch_size))
        return codes.reshape(len(images), -1)

    def reconstruct(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Reconstructions in [0, 1] space, float32 (N, H, W, C), for [0, 1] images."""
        return _run_batched(self._reconstruct_batch, images, images_per_call(self, batch_size))

    def with_scales(self, scales: PixelScales, reason: str, warning: str | None = None) -> Autoencoder:
        """The same autoencoder reading and writing pixels in other ranges."""
        spec = dataclasses.replace(self.input_spec, scales=scales)
        return dataclasses.replace(self, input_spec=spec, scales_reason=reason, rebuild_warning=warning)

    def __post_init__(self) -> None:
        spec = self.input_spec
        encoder, model = self.encoder, self.model
        # Compiled once per Autoencoder; frozen dataclass, so set through object.
        object.__setattr__(
            self,
            "_encode_batch",
            backend.compile_function(lambda x: encoder(spec.to_model(x), training=False)),
        )
        object.__setattr__(
            self,
            "_reconstruct_batch",
            backend.compile_function(lambda x: spec.from_model(model(spec.to_model(x), training=False))),
        )


def _run_batched(fn, images: np.ndarray, batch_size: int) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    if len(images) == 0:
        raise ValueError("No images to run the model on.")
    chunks = [backend.to_numpy(fn(images[start : start + batch_size])) for start in range(0, len(images), batch_size)]
    return np.concatenate(chunks).astype(np.float32, copy=False)


def load_autoencoder(
    path: str | Path | None = None,
    *,
    encoder: str | Path | keras.Model | None = None,
    decoder: str | Path | keras.Model | None = None,
    bottleneck: str | None = None,
    custom_objects: str | Path | dict | None = None,
    input_scale: str = AUTO,
    images: np.ndarray | None = None,
    safe_mode: bool = True,
) -> Autoencoder:
    """Load a Keras autoencoder, in any form users save one, and split it at its code layer.

    Give either ``path`` (one model, image in, image out) or ``encoder`` and ``decoder``
    (files or in-memory models; the decoder reads the encoder's first output). ``path`` may
    also be an in-memory ``keras.Model``. A subclassed model whose ``encoder`` and ``decoder``
    attributes are Keras models is opened as that pair. Sequential, functional and nested
    models all work; a VAE's sampling layer is replaced by its mean, so the code is
    ``z_mean`` and the same image always gives the same code and reconstruction.

    Args:
        path: a ``.keras`` or legacy ``.h5`` file, or a ``keras.Model``.
        encoder, decoder: the two halves, instead of ``path``.
        bottleneck: the code layer's name (its own, or a path such as ``'encoder/latent'``);
            None finds the waist (see :mod:`aevis.model.waist`).
        custom_objects: a Python file defining the model's custom classes (it is run: only
            pass files you trust), or a dict of name to class.
        input_scale: the pixel range the model was trained on, '0-1', '0-255' or '-1-1' for
            input and output alike, or 'auto' to detect both (see :mod:`aevis.model.scale`).
        images: float32 (N, H, W, C) images in [0, 1] to detect the range on; None uses
            built-in shapes of the model's size.
        safe_mode: refuse models holding Python code (Lambda layers); pass False only for
            files you trust (``--trust-model``).

    Raises:
        AevisError: in one sentence: the file cannot be used, or the model is not an image
            autoencoder, or a named layer does not exist.
    """
    objects = _custom_objects(custom_objects)
    if (encoder is None) != (decoder is None):
        raise AevisError("Expected both an encoder and a decoder, but only one was given.")
    if encoder is not None and path is not None:
        raise AevisError("Expected a whole model or an encoder and decoder, but both were given.")
    if encoder is None and path is None:
        raise AevisError("Expected a model: a file, or an encoder and a decoder.")
    with keras.saving.CustomObjectScope(objects or {}):  # flattening copies layers, Lambda functions too
        if encoder is not None:
            halves = [_model(part, objects, safe_mode) for part in (encoder, decoder)]
            ae = _wrap_pair(*halves, bottleneck=bottleneck, sha256=_sha256([encoder, decoder], custom_objects))
        else:
            ae = wrap_autoencoder(_model(path, objects, safe_mode), bottleneck, sha256=_sha256([path], custom_objects))
    return choose_scales(ae, input_scale, images)


def wrap_autoencoder(
    model: keras.Model,
    bottleneck: str | None = None,
    input_scale: str = "0-1",
    sha256: str | None = None,
) -> Autoencoder:
    """Split an in-memory Keras autoencoder at its code layer (see :func:`load_autoencoder`).

    ``input_scale`` here is a fixed range ('0-1', '0-255', '-1-1'); use
    :func:`choose_scales` to detect one on images.
    """
    if not has_graph(model):
        halves = [getattr(model, part, None) for part in ("encoder", "decoder")]
        if all(isinstance(half, keras.Model) for half in halves):
            return choose_scales(_wrap_pair(*halves, bottleneck=bottleneck, sha256=sha256), input_scale)
    _check_image_model(model)
    ae = _split(flatten(model), bottleneck, sha256)
    return choose_scales(ae, input_scale)


def choose_scales(ae: Autoencoder, input_scale: str, images: np.ndarray | None = None) -> Autoencoder:
    """``ae`` reading pixels in ``input_scale`` ('0-1', '0-255', '-1-1', or 'auto': the pair of
    input and output ranges that rebuilds ``images`` best; None: built-in shapes)."""
    if input_scale in SCALES:
        return ae.with_scales(PixelScales(input_scale, input_scale), "as given (--input-scale)")
    if input_scale != AUTO:
        raise AevisError(f"Expected an input scale of auto, {', '.join(SCALES)}, got {input_scale!r}.")
    if images is None:
        images = _probe_images(ae.input_spec)
    model = ae.model
    run = backend.compile_function(lambda x: model(x, training=False))
    detection = detect_scales(lambda batch: _run_batched(run, batch, images_per_call(ae, len(batch))), images)
    return ae.with_scales(detection.scales, detection.reason(), detection.warning())


def _probe_images(spec: InputSpec) -> np.ndarray:
    # Imported here: the built-in images are needed only when no images are given.
    from aevis.data.builtin import make_shapes
    from aevis.data.folders import to_channels

    shapes = make_shapes(32, spec.height, seed=0).images
    if spec.height != spec.width:
        shapes = np.stack(
            [keras.ops.convert_to_numpy(keras.ops.image.resize(image, (spec.height, spec.width))) for image in shapes]
        )
    return np.stack([to_channels(image, spec.channels) for image in shapes]).astype(np.float32)


def _custom_objects(custom_objects) -> dict | None:
    if custom_objects is None or isinstance(custom_objects, dict):
        return custom_objects
    return import_custom_objects(custom_objects)


def _model(source, custom_objects, safe_mode: bool) -> keras.Model:
    if isinstance(source, keras.Model):
        return source
    return load_model_file(source, custom_objects, safe_mode)


def _sha256(sources: list, custom_objects) -> str:
    """The files' SHA-256 (one file: its own; several: of their digests); a model in memory
    counts by its architecture and weights (:func:`aevis.model.identity.memory_sha256`)."""
    digests = [
        memory_sha256(source) if isinstance(source, keras.Model) else file_sha256(Path(source)) for source in sources
    ]
    if custom_objects is not None and not isinstance(custom_objects, dict):
        digests.append(file_sha256(Path(custom_objects)))
    if len(digests) == 1:
        return digests[0]
    return hashlib.sha256(" ".join(digests).encode()).hexdigest()


def _wrap_pair(encoder: keras.Model, decoder: keras.Model, *, bottleneck, sha256) -> Autoencoder:
    for half, role in ((encoder, "encoder"), (decoder, "decoder")):
        if not has_graph(half):
            raise AevisError(
                f"Expected the {role} to be a Sequential or functional Keras model, but it is a subclassed "
                f"{type(half).__name__} whose layers aevis cannot see."
            )
    inputs = getattr(encoder, "inputs", None) or []
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        shape = tuple(inputs[0].shape[1:]) if len(inputs) == 1 else f"{len(inputs)} inputs"
        raise AevisError(f"Expected an encoder that takes one image, but its input is {shape}.")
    code = tuple(keras.tree.flatten(encoder.outputs)[0].shape[1:])
    taken = tuple(decoder.inputs[0].shape[1:]) if len(getattr(decoder, "inputs", None) or []) == 1 else None
    if taken is not None and len(code) == len(taken) and any(a != b for a, b in zip(code, taken) if None not in (a, b)):
        raise AevisError(
            f"The encoder's first output has shape {code}, but the decoder takes {taken}, so one cannot feed the "
            "other (an encoder that gives the mean and log-variance in one tensor, split in code, is one such "
            "pair); save an encoder whose first output is the decoder's input, such as z_mean."
        )
    ae = _split(flatten_pair(encoder, decoder), bottleneck, sha256)
    _check_image_model(ae.model)
    return ae


def _split(graph: FlatGraph, bottleneck: str | None, sha256: str | None) -> Autoencoder:
    spec = _input_spec(graph.model)
    name, reason = find_code_layer(graph, bottleneck)
    if graph.sampled:
        reason += f"; the random sampling in {', '.join(map(repr, graph.sampled))} is replaced by its mean"
    encoder = keras.Model(graph.model.inputs[0], graph.tensors[name], name="aevis_encoder")
    decoder = _decoder_after(graph.model, name, encoder, spec)
    return Autoencoder(graph.model, encoder, decoder, name, reason, spec, sha256, graph)


def _check_image_model(model: keras.Model) -> None:
    """One sentence when a model is not image in, same-shaped image out: what it looks like instead."""
    try:
        inputs, outputs = model.inputs, model.outputs
    except AttributeError:  # an unbuilt Sequential: flatten() says so
        return
    if len(inputs) != 1:
        raise AevisError(f"Expected an autoencoder with one image input, but the model has {len(inputs)} inputs.")
    shape = tuple(inputs[0].shape[1:])
    found = [tuple(output.shape[1:]) for output in outputs]
    if len(shape) != 3:
        if len(found) == 1 and len(found[0]) == 3:
            raise AevisError(
                f"This looks like a decoder alone (it takes {shape} and makes {found[0]} images); pass it with "
                "--decoder and its encoder with --encoder."
            )
        raise AevisError(f"Expected a model that takes images (height, width, channels), but its input is {shape}.")
    if found == [shape]:
        return
    if len(found) == 1 and len(found[0]) == 1 and _ends_in_softmax(model):
        raise AevisError(
            f"This looks like a classifier ({found[0][0]} class scores out), not an autoencoder: aevis needs a "
            "model whose output is the rebuilt image."
        )
    if len(found) == 1 and len(found[0]) == 3 and found[0][:2] == shape[:2]:
        raise AevisError(
            f"This model turns {shape} images into {found[0]} images: an image-to-image model (such as a colouriser), "
            "not an autoencoder that rebuilds its input; aevis needs a model whose output has the input's shape."
        )
    if len(found) >= 1 and found[0] != shape:
        raise AevisError(
            f"This looks like an encoder alone (it turns {shape} images into {found}); pass it with --encoder "
            "and its decoder with --decoder."
        )
    raise AevisError(
        f"Expected an autoencoder whose output has the input's shape {shape}, but its outputs are {found}."
    )


def _ends_in_softmax(model: keras.Model) -> bool:
    last = model.outputs[0]._keras_history.operation
    activation = getattr(last, "activation", None)
    return isinstance(last, keras.layers.Softmax) or getattr(activation, "__name__", "") == "softmax"


def _input_spec(model: keras.Model) -> InputSpec:
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) == 3 and None in shape[:2] and shape[2] is not None:
        raise AevisError(
            f"This model takes images of any size {shape}, and aevis explains one size: build it again on "
            f"keras.Input((height, width, {shape[2]})) at the size it was trained on, copy the weights across with "
            "new.set_weights(old.get_weights()) and save it with new.save('model.keras')."
        )
    if len(shape) != 3 or None in shape:
        raise AevisError(
            f"Expected an image input of fixed shape (height, width, channels), but the model's input is {shape}."
        )
    if shape[2] not in (1, 3, 4):
        raise AevisError(f"Expected an input with 1, 3 or 4 channels, but the model's input has {shape[2]}.")
    return InputSpec(*shape)


def _decoder_after(model, bottleneck: str, encoder, spec: InputSpec) -> keras.Model | None:
    """Rebuild the layers after the code layer as a model of their own, if they form a chain."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    index = [layer.name for layer in layers].index(bottleneck)
    code = keras.Input(shape=encoder.output.shape[1:], name="code")
    x = code
    try:
        for layer in layers[index + 1 :]:
            x = layer(x)
        decoder = keras.Model(code, x, name="aevis_decoder")
        probe = np.random.default_rng(0).random((2, *spec.shape), dtype=np.float32)
        direct = backend.to_numpy(model(probe, training=False))
        chained = backend.to_numpy(decoder(encoder(probe, training=False), training=False))
    except Exception:  # a branchy graph cannot be re-run as a chain
        return None
    return decoder if np.allclose(direct, chained, atol=1e-5) else None
