"""Where a Keras autoencoder is loaded, split at its bottleneck, and run on images.

Every image aevis handles is float32 (N, H, W, C) in [0, 1]. The model may have been trained
on another range (``input_scale``); :class:`Autoencoder` converts on the way in and out, so
maps and gradients are always with respect to the [0, 1] image a person sees.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from aevis import backend
from aevis.errors import AevisError

# (offset, factor): model value = offset + factor * [0, 1] value.
_SCALES = {"0-1": (0.0, 1.0), "0-255": (0.0, 255.0), "-1-1": (-1.0, 2.0)}


@dataclass(frozen=True)
class InputSpec:
    """What the model takes: image size, channels and value range."""

    height: int
    width: int
    channels: int
    scale: str = "0-1"

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, self.channels)

    def to_model(self, images):
        """[0, 1] images to the model's value range (works on arrays and tensors)."""
        offset, factor = _SCALES[self.scale]
        return images * factor + offset

    def from_model(self, values):
        """The model's value range back to [0, 1]."""
        offset, factor = _SCALES[self.scale]
        return (values - offset) / factor


@dataclass(frozen=True, eq=False)
class Autoencoder:
    """A Keras autoencoder split at its bottleneck.

    Attributes:
        model: the whole autoencoder, image to reconstruction.
        encoder: image to bottleneck activation (a ``keras.Model``).
        decoder: bottleneck activation to reconstruction, or None where the layers after the
            bottleneck do not form a chain that can be run on their own (skip connections).
        bottleneck: name of the bottleneck layer.
        bottleneck_reason: how it was chosen, in words, for the terminal and the manifest.
        input_spec: the input size, channels and value range.
        sha256: SHA-256 of the model file, or None for a model that was never saved.
    """

    model: keras.Model
    encoder: keras.Model
    decoder: keras.Model | None
    bottleneck: str
    bottleneck_reason: str
    input_spec: InputSpec
    sha256: str | None = None

    @property
    def code_size(self) -> int:
        """Length of the flattened bottleneck code."""
        return math.prod(self.encoder.output.shape[1:])

    def encode(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Flattened bottleneck codes, float32 (N, D), for [0, 1] images (N, H, W, C)."""
        codes = _run_batched(self._encode_batch, images, batch_size)
        return codes.reshape(len(images), -1)

    def reconstruct(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Reconstructions in [0, 1] space, float32 (N, H, W, C), for [0, 1] images."""
        return _run_batched(self._reconstruct_batch, images, batch_size)

    def __post_init__(self) -> None:
        spec = self.input_spec
        encoder, model = self.encoder, self.model
        # Compiled once per Autoencoder; frozen dataclass, so set through object.
        object.__setattr__(
            self, "_encode_batch",
            backend.compile_function(lambda x: encoder(spec.to_model(x), training=False)),
        )
        object.__setattr__(
            self, "_reconstruct_batch",
            backend.compile_function(
                lambda x: spec.from_model(model(spec.to_model(x), training=False))
            ),
        )


def _run_batched(fn, images: np.ndarray, batch_size: int) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    if len(images) == 0:
        raise ValueError("No images to run the model on.")
    chunks = [
        backend.to_numpy(fn(images[start : start + batch_size]))
        for start in range(0, len(images), batch_size)
    ]
    return np.concatenate(chunks).astype(np.float32, copy=False)


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_autoencoder(
    path: str | Path,
    bottleneck: str | None = None,
    input_scale: str = "0-1",
    safe_mode: bool = True,
) -> Autoencoder:
    """Load a Keras autoencoder file and split it at its bottleneck.

    Args:
        path: a ``.keras`` file, or a legacy ``.h5`` file that Keras 3 can read.
        bottleneck: name of the layer whose output is the code; None detects it (a layer
            named ``encoded``, else the layer with the smallest output between input and
            output).
        input_scale: value range the model was trained on: '0-1', '0-255' or '-1-1'.
        safe_mode: refuse models that need arbitrary code (Lambda layers) to load; pass
            False only for a file you trust (``--trust-model``).

    Returns:
        An :class:`Autoencoder`.

    Raises:
        AevisError: the file is missing or is not a model Keras can read, or the model is
            not an image autoencoder with a narrowing layer.
    """
    path = Path(path)
    if not path.is_file():
        raise AevisError(f"Expected a Keras model file at {path}, but there is no such file.")
    if path.suffix not in (".keras", ".h5", ".hdf5"):
        raise AevisError(
            f"Expected a .keras or .h5 model file, but {path.name} has the extension {path.suffix or '(none)'}."
        )
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=safe_mode)
    except Exception as error:  # Keras raises many types; the user needs one sentence.
        raise AevisError(_load_failure(path, error)) from error
    return wrap_autoencoder(model, bottleneck, input_scale, sha256=file_sha256(path))


def _load_failure(path: Path, error: Exception) -> str:
    """One sentence on why Keras could not load a model file."""
    text = str(error).strip()
    if "safe_mode" in text:
        return (
            f"Expected a model made only of standard layers, but {path.name} contains Python code "
            "(such as a Lambda layer) that would run on loading; if you trust this file, pass --trust-model."
        )
    located = re.search(r"Could not locate (?:class|function) '([^']+)'", text)
    if located:
        return (
            f"Expected standard Keras layers, but {path.name} needs the custom class or function "
            f"{located.group(1)!r}, whose code is not in the file; aevis cannot load it."
        )
    reason = text.splitlines()[0] if text else type(error).__name__
    return f"Keras could not load {path.name} as a model: {reason}"


def wrap_autoencoder(
    model: keras.Model,
    bottleneck: str | None = None,
    input_scale: str = "0-1",
    sha256: str | None = None,
) -> Autoencoder:
    """Split an in-memory Keras autoencoder at its bottleneck (see :func:`load_autoencoder`)."""
    spec = _input_spec(model, input_scale)
    name, reason = find_bottleneck(model, bottleneck)
    encoder = keras.Model(model.inputs[0], model.get_layer(name).output, name="aevis_encoder")
    decoder = _decoder_after(model, name, encoder, spec)
    return Autoencoder(model, encoder, decoder, name, reason, spec, sha256)


def _input_spec(model: keras.Model, input_scale: str) -> InputSpec:
    if input_scale not in _SCALES:
        raise AevisError(f"Expected an input scale of {', '.join(_SCALES)}, got {input_scale!r}.")
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1:
        raise AevisError(f"Expected an autoencoder with one image input, but the model has {len(inputs)} inputs.")
    shape = tuple(inputs[0].shape[1:])
    if len(shape) != 3 or None in shape:
        raise AevisError(
            f"Expected an image input of fixed shape (height, width, channels), but the model's input is {shape}."
        )
    if shape[2] not in (1, 3, 4):
        raise AevisError(f"Expected an input with 1, 3 or 4 channels, but the model's input has {shape[2]}.")
    outputs = model.outputs
    if len(outputs) != 1 or tuple(outputs[0].shape[1:]) != shape:
        found = [tuple(o.shape[1:]) for o in outputs]
        raise AevisError(
            f"Expected an autoencoder whose output has the input's shape {shape}, but its outputs are {found}."
        )
    return InputSpec(*shape, scale=input_scale)


def _layer_sizes(model: keras.Model) -> list[tuple[str, int]]:
    """(name, output size) of every layer strictly between input and output."""
    output_layer = model.outputs[0]._keras_history.operation
    sizes = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer) or layer is output_layer:
            continue
        try:
            shape = layer.output.shape[1:]
        except (AttributeError, ValueError):  # shared layers have no single output
            continue
        if None not in shape:
            sizes.append((layer.name, math.prod(shape)))
    return sizes


def find_bottleneck(model: keras.Model, name: str | None = None) -> tuple[str, str]:
    """Choose the layer whose output is the code; return ``(name, how it was chosen)``.

    A given ``name`` wins; else a layer named ``encoded``; else the layer between input and
    output with the smallest output (the earliest on a tie). A model where no layer is
    smaller than its input has no bottleneck and is refused.
    """
    names = [layer.name for layer in model.layers]
    if name is not None:
        if name not in names:
            raise AevisError(
                f"Expected a layer named {name!r} for the bottleneck, but the model's layers are: {', '.join(names)}."
            )
        return name, "chosen with --bottleneck"
    if "encoded" in names:
        return "encoded", "the layer named 'encoded'"
    input_size = math.prod(model.inputs[0].shape[1:])
    sizes = _layer_sizes(model)
    if not sizes:
        raise AevisError("Expected layers between the input and the output, but the model has none.")
    smallest, size = min(sizes, key=lambda item: item[1])
    if size >= input_size:
        raise AevisError(
            f"Expected a layer narrower than the input ({input_size} values) to use as the code, "
            f"but the smallest layer, {smallest!r}, has {size}; name one with --bottleneck."
        )
    return smallest, f"the smallest layer between input and output ({size} values)"


def _decoder_after(model, bottleneck: str, encoder, spec: InputSpec) -> keras.Model | None:
    """Rebuild the layers after the bottleneck as a model of their own, if they form a chain."""
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
