"""Where occlusion's patches fall: one geometry for the method and for the sweep animation that
shows it."""

from __future__ import annotations

import numpy as np


def patch_masks(height: int, width: int, patch: int, stride: int) -> np.ndarray:
    """bool (P, H, W): one mask per patch position, rows first."""
    rows = patch_bands(height, patch, stride)  # (R, H)
    cols = patch_bands(width, patch, stride)  # (C, W)
    return (rows[:, None, :, None] & cols[None, :, None, :]).reshape(-1, height, width)


def patch_starts(size: int, patch: int, stride: int) -> np.ndarray:
    """int32 patch starts along one axis, every ``stride``, the last flush with the far edge."""
    starts = np.arange(0, size - patch + 1, stride)
    if starts[-1] != size - patch:
        starts = np.append(starts, size - patch)  # flush with the far edge: no pixel left uncovered
    return starts.astype(np.int32)


def patch_bands(size: int, patch: int, stride: int) -> np.ndarray:
    """bool (starts, size): which pixels of one axis each patch start covers."""
    starts = patch_starts(size, patch, stride)
    pixels = np.arange(size)
    return (pixels >= starts[:, None]) & (pixels < starts[:, None] + patch)
