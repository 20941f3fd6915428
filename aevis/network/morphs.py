"""Latent morphs: decode the straight line between two codes, "the way between two images"
as the network imagines it.
"""

from __future__ import annotations

import numpy as np

from aevis import backend
from aevis.memory import images_per_call

MORPH_STEPS = 14
"""Codes decoded per morph, both ends included."""


def interpolate(start: np.ndarray, end: np.ndarray, steps: int = MORPH_STEPS) -> np.ndarray:
    """float32 (M, steps, D): ``steps`` evenly spaced codes from each ``start`` (M, D) to its
    ``end`` (M, D), both ends included."""
    start, end = np.asarray(start, np.float32), np.asarray(end, np.float32)
    if start.shape != end.shape or start.ndim != 2:
        raise ValueError(f"Expected two (M, D) code arrays of one shape, got {start.shape} and {end.shape}.")
    if steps < 2:
        raise ValueError(f"Expected at least 2 steps (the two ends), got {steps}.")
    weights = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
    return (1 - weights) * start[:, None, :] + weights * end[:, None, :]


def morphs(
    ae, codes: np.ndarray, targets: np.ndarray, steps: int = MORPH_STEPS, batch_size: int = 64
) -> np.ndarray | None:
    """Decoded images along the line from each code to a target code.

    Args:
        ae: the autoencoder; its ``decoder`` must exist.
        codes: float32 (M, D) flattened codes, e.g. ``gallery.codes[paged]``.
        targets: float32 (M, D) the codes to morph into, e.g. each one's nearest neighbour.
        steps: decoded codes per morph, both ends included.
        batch_size: codes per decoder call.

    Returns:
        float32 (M, steps, H, W, C) in [0, 1]; None when the model has no chain decoder
        (skip connections around the bottleneck), since a code alone cannot be decoded then.
    """
    if ae.decoder is None:
        return None
    line = interpolate(codes, targets, steps)
    count = len(line)
    flat = line.reshape(count * steps, -1)
    code_shape = tuple(ae.decoder.inputs[0].shape[1:])
    decode = _decoder(ae)
    batch_size = images_per_call(ae, batch_size)
    frames = [
        backend.to_numpy(decode(flat[start : start + batch_size].reshape(-1, *code_shape)))
        for start in range(0, len(flat), batch_size)
    ]
    images = np.clip(np.concatenate(frames), 0, 1).astype(np.float32)
    return images.reshape(count, steps, *images.shape[1:])


def _decoder(ae):
    cache = ae.__dict__.get("_aevis_morph_decoder")
    if cache is None:
        decoder, spec = ae.decoder, ae.input_spec
        cache = backend.compile_function(lambda code: spec.from_model(decoder(code, training=False)))
        object.__setattr__(ae, "_aevis_morph_decoder", cache)  # Autoencoder is a frozen dataclass
    return cache
