"""Occlusion: how much the target drops when a square of the image is covered."""

from __future__ import annotations

import math

import numpy as np

from aevis.targets import check_batch_size, check_float, check_int, make_target


def occlusion(
    ae,
    images: np.ndarray,
    *,
    target: str | None = None,
    reference_codes: np.ndarray | None = None,
    patch: int | None = None,
    stride: int | None = None,
    fill: float = 0.5,
    batch_size: int = 32,
) -> np.ndarray:
    """Mean drop of the target when a sliding patch covers each pixel (Zeiler & Fergus 2014).

    A ``patch`` × ``patch`` square of value ``fill`` is placed at every ``stride`` steps
    across the image (plus a last row and column flush with the bottom and right edges, so
    every pixel is covered). map[i, j] is the mean of t(x) − t(x with the patch) over the
    positions whose patch covers (i, j).

    Args:
        ae: the autoencoder.
        images: float32 (N, H, W, C) in [0, 1].
        target: see :mod:`aevis.targets`; None means ``'self'``.
        reference_codes: (N, D) neighbour codes, for ``target='neighbour'`` only.
        patch: side of the square in pixels; None means ⌈H / 8⌉.
        stride: step between positions; None means ⌈patch / 2⌉.
        fill: the patch's value in [0, 1] (default 0.5, mid grey).
        batch_size: occluded copies per evaluation; copies of several images share a batch
            and the map does not depend on it.

    Returns:
        float32 (N, H, W), signed: positive where covering the pixel lowers t.
    """
    images = np.asarray(images, dtype=np.float32)
    height, width = images.shape[1:3]
    patch = math.ceil(height / 8) if patch is None else check_int("patch", patch, minimum=1)
    if patch > min(height, width):
        raise ValueError(f"Option 'patch' must fit in the {height}x{width} image, got {patch}.")
    stride = math.ceil(patch / 2) if stride is None else check_int("stride", stride, minimum=1)
    fill = check_float("fill", fill)
    batch_size = check_batch_size(batch_size)
    score = make_target(ae, images, target, reference_codes, batch_size=batch_size)

    masks = patch_masks(height, width, patch, stride)
    positions = len(masks)
    total = len(images) * positions
    occluded_values = np.empty(total, dtype=np.float32)
    for start in range(0, total, batch_size):
        items = np.arange(start, min(start + batch_size, total))
        owner, position = np.divmod(items, positions)
        covered = np.where(masks[position][..., None], np.float32(fill), images[owner])
        occluded_values[items] = score.values(covered, score.reference[owner], batch_size=len(items))
    drops = score.values(images, batch_size=batch_size)[:, None] - occluded_values.reshape(len(images), positions)
    counts = masks.sum(axis=0, dtype=np.float64)
    sums = drops.astype(np.float64) @ masks.reshape(positions, -1).astype(np.float64)
    return (sums.reshape(images.shape[:3]) / counts).astype(np.float32)


def patch_masks(height: int, width: int, patch: int, stride: int) -> np.ndarray:
    """bool (P, H, W): one mask per patch position, rows first."""
    rows = _bands(height, patch, stride)  # (R, H)
    cols = _bands(width, patch, stride)  # (C, W)
    return (rows[:, None, :, None] & cols[None, :, None, :]).reshape(-1, height, width)


def _bands(size: int, patch: int, stride: int) -> np.ndarray:
    """bool (starts, size): which pixels of one axis each patch start covers."""
    starts = np.arange(0, size - patch + 1, stride)
    if starts[-1] != size - patch:
        starts = np.append(starts, size - patch)  # flush with the far edge: no pixel left uncovered
    pixels = np.arange(size)
    return (pixels >= starts[:, None]) & (pixels < starts[:, None] + patch)
