"""Saliency: how much each pixel's value moves the target, to first order."""

from __future__ import annotations

import numpy as np
from keras import ops

from aevis import backend
from aevis._utils.validation import check_batch_size
from aevis.methods.batching import compiled_for
from aevis.methods.targets import make_target


def saliency(
    ae,
    images: np.ndarray,
    *,
    target: str | None = None,
    reference_codes: np.ndarray | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """The largest absolute gradient of the target over colour channels (Simonyan et al. 2014).

    map(x)[i, j] = max_c |∂t/∂x[i, j, c]|, with x the [0, 1] image.

    Args:
        ae: the autoencoder.
        images: float32 (N, H, W, C) in [0, 1].
        target: see :mod:`aevis.methods.targets`; None means ``'self'``.
        reference_codes: (N, D) neighbour codes, for ``target='neighbour'`` only.
        batch_size: images per gradient evaluation.

    Returns:
        float32 (N, H, W), non-negative.
    """
    batch_size = check_batch_size(batch_size)
    images = np.asarray(images, dtype=np.float32)
    score = make_target(ae, images, target, reference_codes, batch_size=batch_size)
    # At the image itself, the 'self' target reads ẑ in the same pass: one forward, not two.
    fn = compiled_for(ae, ("saliency", score.kind, "own image"), lambda: saliency_function(score.traceable(own=True)))
    rows = score.own_rows()
    maps = [
        backend.to_numpy(fn(images[start : start + batch_size], rows[start : start + batch_size]))
        for start in range(0, len(images), batch_size)
    ]
    return np.concatenate(maps).astype(np.float32, copy=False)


def saliency_function(image_fn):
    """``fn(images, reference) -> max_c |∂t/∂x|`` (B, H, W) for a traceable target function."""

    def fn(images, reference):
        _, grads = backend.gradient(lambda x: image_fn(x, reference), images)
        return ops.max(ops.abs(grads), axis=-1)

    return fn
