"""Saliency: how much each pixel's value moves the target, to first order."""

from __future__ import annotations

import numpy as np

from aevis.targets import check_batch_size, make_target


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
        target: see :mod:`aevis.targets`; None means ``'self'``.
        reference_codes: (N, D) neighbour codes, for ``target='neighbour'`` only.
        batch_size: images per gradient evaluation.

    Returns:
        float32 (N, H, W), non-negative.
    """
    batch_size = check_batch_size(batch_size)
    score = make_target(ae, images, target, reference_codes, batch_size=batch_size)
    _, grads = score.gradients(images, batch_size=batch_size)
    return channel_max_abs(grads)


def channel_max_abs(grads: np.ndarray) -> np.ndarray:
    """max_c |g| over the last axis, float32 (..., H, W)."""
    return np.max(np.abs(grads), axis=-1).astype(np.float32, copy=False)
