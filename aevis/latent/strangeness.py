"""Which images are the odd ones out: every image ranked by its reconstruction error.

An autoencoder is trained to rebuild its images as closely as it can, so what it rebuilds worst
is what it learned least: the images least like the rest of the set (or broken ones). The score
is the mean of the image's reconstruction error map, the channel-mean squared difference between
image and rebuild in [0, 1] (:func:`aevis.methods.reconstruction_error.squared_error`): the same
number the image pages print and the map colours by.
"""

from __future__ import annotations

import math

import numpy as np


def image_errors(error_maps: np.ndarray) -> np.ndarray:
    """Each image's reconstruction error, float32 (N,): the mean of its (H, W) error map in
    ``error_maps`` (N, H, W). NaN where the map holds a NaN (a flagged image)."""
    maps = np.asarray(error_maps, np.float32)
    return maps.reshape(len(maps), -1).mean(axis=1) if len(maps) else np.empty(0, np.float32)


def error_ranking(errors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The images from the highest reconstruction error to the lowest.

    Returns:
        ``(order, ranks)``, both int64 (N,): ``order[r]`` is the image at rank r, and
        ``ranks[i]`` is image i's *error rank*: 0 for the highest error (the strangest image),
        N − 1 for the lowest (the most typical). Equal errors rank in manifest order; images
        whose error is not a finite number rank after every finite one, in manifest order.
    """
    errors = np.asarray(errors, np.float64).reshape(-1)
    finite = np.isfinite(errors)
    # Sort on (not finite, −error, index): np.lexsort takes its keys last-first and is stable.
    order = np.lexsort((np.where(finite, -errors, 0.0), ~finite)).astype(np.int64)
    ranks = np.empty(len(errors), np.int64)
    ranks[order] = np.arange(len(errors))
    return order, ranks


def recorded_error(error: float) -> float | None:
    """An image's error as the manifest records it: six significant figures (errors are small
    numbers, so a fixed count of decimals would lose the low ones), None where not finite."""
    error = float(error)
    return float(f"{error:.6g}") if math.isfinite(error) else None
