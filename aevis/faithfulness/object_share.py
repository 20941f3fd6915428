"""Object share: on images with object masks, how much of a map's positive mass is on the object."""

from __future__ import annotations

import numpy as np


def object_share(maps: np.ndarray, masks: np.ndarray) -> tuple[float, float]:
    """``(object share, mask share)``: where a map's positive mass lies, and the baseline.

    Object share: Σ max(map, 0) over the object / Σ max(map, 0), averaged over images (an
    image whose map has no positive mass is left out). Mask share: the object's share of
    the image, averaged over the same images. A map that points at the object has an object
    share well above the mask share. NaN if no map has positive mass.

    Args:
        maps: float (N, H, W).
        masks: bool (N, H, W), True on the object.
    """
    maps = np.asarray(maps, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool)
    if masks.shape != maps.shape:
        raise ValueError(f"Expected masks of the maps' shape {maps.shape}, got {masks.shape}.")
    positive = np.maximum(maps, 0.0).reshape(len(maps), -1)
    inside = masks.reshape(len(masks), -1)
    mass = positive.sum(axis=1)
    keep = mass > 0
    if not keep.any():
        return float("nan"), float("nan")
    shares = (positive * inside).sum(axis=1)[keep] / mass[keep]
    return float(shares.mean()), float(inside[keep].mean())
