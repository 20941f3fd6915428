"""Randomization (Adebayo et al. 2018): re-initialise the encoder, top layer first, and remap.

Maps that still look the same describe the image, not the model; a low Spearman rank
correlation with the trained maps is what we want.

The maps are compared without their frame (:func:`without_frame`): what every map of a network
shares, whatever the image. Zero-padded convolutions reach border pixels by fewer paths, so on
the shapes demo's seed every SmoothGrad map is dim within 8 pixels of the edge, for the trained
and the randomised network alike; SmoothGrad averages away the rest, and its trained map of one
image correlated 0.565 with the randomised network's map of *another* image, against 0.66 for the
same image (issue 25). Without the frame those are −0.001 and 0.314.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import keras
import numpy as np
from scipy import stats

from aevis.faithfulness.fresh_weights import fresh_weights
from aevis.methods.registry import REGISTRY, method_named
from aevis.model import Autoencoder, wrap_autoencoder


@dataclass(frozen=True)
class CascadeStep:
    """Maps after re-initialising the encoder from the top down to ``layer``, inclusive."""

    layer: str
    maps: np.ndarray
    """float32 (N, H, W), computed on the partly randomised encoder."""
    spearman: float
    """Mean over images of the Spearman correlation of |maps| with the trained |maps|, each
    without its frame (:func:`agreement`)."""


def encoder_layers_top_down(ae: Autoencoder) -> list[str]:
    """Names of the encoder's layers that have weights, bottleneck side first."""
    return [layer.name for layer in reversed(ae.encoder.layers) if layer.weights]


def randomization_cascade(
    ae: Autoencoder,
    images: np.ndarray,
    method: str,
    maps: np.ndarray | None = None,
    *,
    target: str | None = None,
    reference_codes: np.ndarray | None = None,
    seed: int = 0,
    **options,
) -> list[CascadeStep]:
    """Adebayo et al.'s cascading randomization: one step per weighted encoder layer.

    A copy of the model is made; its encoder layers are re-initialised one by one from the
    top (the bottleneck side) down, each with its own initializer, and after each the maps
    are recomputed with ``method`` and compared with ``maps`` (the trained model's maps,
    computed here when None). The last step has the whole encoder randomised. The trained
    model is left untouched.

    Args:
        ae: the trained autoencoder.
        images: float32 (N, H, W, C) in [0, 1]; keep N small, every step maps them all.
        method: a name from ``aevis.methods.METHODS``.
        maps: float32 (N, H, W), the trained maps, or None.
        target, reference_codes: as in :func:`aevis.explain` (ignored for methods without
            a target).
        seed: seeds the new weights.
        **options: the method's options.

    Returns:
        One :class:`CascadeStep` per weighted encoder layer, top first.
    """
    images = np.asarray(images, dtype=np.float32)
    explain = explainer(method, target, reference_codes, options)
    trained = explain(ae, images) if maps is None else np.asarray(maps, dtype=np.float32)
    cascade = []
    copy = _copy_autoencoder(ae)
    for name in _reinitialised(copy, seed):
        randomised = explain(copy, images)
        cascade.append(CascadeStep(name, randomised, agreement(trained, randomised)))
    return cascade


def agreement(trained: np.ndarray, randomised: np.ndarray) -> float:
    """The randomization figure: the mean over images of :func:`spearman` of the two sets of
    (N, H, W) maps, each without its frame (:func:`without_frame`)."""
    return float(np.mean(spearman(without_frame(trained), without_frame(randomised))))


def without_frame(maps: np.ndarray) -> np.ndarray:
    """|maps| (N, H, W) divided, pixel by pixel, by their mean over the N images: what is left
    is where each image's map stands out from what the network draws for any image (its frame;
    see the module's note). One map has no frame to tell apart: it is returned as |map|."""
    magnitude = np.abs(np.asarray(maps, dtype=np.float64))
    if len(magnitude) < 2:
        return magnitude
    frame = magnitude.mean(axis=0, keepdims=True)
    return np.divide(magnitude, frame, out=np.zeros_like(magnitude), where=frame > 0)


def spearman(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Spearman rank correlation of |first| and |second|, image by image, float64 (N,).

    Absolute values, as in Adebayo et al.: a map whose sign flips but whose emphasis stays
    put has not changed what it points at. A constant map has no ranking to share: 0.
    """
    first = np.abs(np.asarray(first, dtype=np.float64)).reshape(len(first), -1)
    second = np.abs(np.asarray(second, dtype=np.float64)).reshape(len(second), -1)
    result = np.zeros(len(first))
    for index, (a, b) in enumerate(zip(first, second)):
        ra, rb = stats.rankdata(a) - (len(a) + 1) / 2, stats.rankdata(b) - (len(b) + 1) / 2
        denominator = np.sqrt(np.dot(ra, ra) * np.dot(rb, rb))
        result[index] = np.dot(ra, rb) / denominator if denominator > 0 else 0.0
    return result


def explainer(method: str, target, reference_codes, options):
    """``explain(ae, images)``: ``method``'s maps with these options, for any copy of the model."""
    entry = method_named(method, among=sorted(REGISTRY))
    if entry.takes_target:
        options = {"target": target, "reference_codes": reference_codes, **options}

    def explain(ae, images):
        return np.asarray(entry.function(ae, images, **options), dtype=np.float32)

    return explain


def randomised_autoencoder(ae: Autoencoder, layers: int | None = None, seed: int = 0) -> Autoencoder:
    """A copy of ``ae`` with its top ``layers`` weighted encoder layers re-initialised (None: all).

    The same weights as step ``layers`` of :func:`randomization_cascade` with this seed.
    """
    copy = _copy_autoencoder(ae)
    for _ in itertools.islice(_reinitialised(copy, seed), layers):
        pass
    return copy


def _reinitialised(copy: Autoencoder, seed: int):
    """Re-initialise ``copy``'s weighted encoder layers in place, one at a time, top first, each
    seeded by its depth; yield each layer's name once it is done."""
    for depth, name in enumerate(encoder_layers_top_down(copy)):
        _reinitialise(copy.model.get_layer(name), seed=seed * 1009 + depth * 101)
        yield name


def _copy_autoencoder(ae: Autoencoder) -> Autoencoder:
    model = keras.models.clone_model(ae.model)
    model.set_weights(ae.model.get_weights())
    return wrap_autoencoder(model, ae.bottleneck).with_scales(ae.input_spec.scales, ae.scales_reason)


def _reinitialise(layer, seed: int) -> None:
    """Draw new weights for ``layer`` (and any layers inside it) from its own initializers, with
    NumPy (:mod:`aevis.faithfulness.fresh_weights`), so every Keras backend draws the same."""
    inner = getattr(layer, "layers", None)
    if inner:
        for offset, sub in enumerate(inner):
            _reinitialise(sub, seed + offset + 1)
        return
    for offset, variable in enumerate(layer.weights):
        short = variable.name.split("/")[-1]
        initializer = getattr(layer, f"{short}_initializer", None)
        if initializer is None:  # a variable we cannot name: Glorot for matrices, zeros else
            initializer = "glorot_uniform" if len(variable.shape) >= 2 else "zeros"
        values = fresh_weights(initializer, tuple(variable.shape), np.random.default_rng([seed, offset]))
        variable.assign(values.astype(variable.dtype))
