"""Per-image neighbourhood figures behind the map's colourings: how far to trust each image's
place on the map (*map trust*), and how crowded its part of code space is (*local density*).

Both look at each image's :data:`~aevis.latent.quality.QUALITY_K` nearest codes by cosine
similarity (exact, a block of rows at a time: :func:`aevis.latent.neighbours.nearest_neighbours`);
map trust also at its nearest map positions by straight-line distance (exact, a k-d tree). Memory
grows with N times a block, never N².
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from aevis._utils.codes import code_rows
from aevis.latent.neighbours import nearest_neighbours
from aevis.latent.quality import QUALITY_K

DENSITY_FLOOR = 1e-6
"""Smallest mean cosine distance density divides by: a clump of identical codes gets a large
finite density instead of infinity."""


def neighbourhoods(
    codes: np.ndarray,
    positions: np.ndarray,
    k: int = QUALITY_K,
    code_neighbours: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """:func:`map_trust` and :func:`local_density` from one neighbour search of the codes:
    ``code_neighbours``, the ``(indices, similarities)`` of at least ``k`` nearest codes each,
    most similar first, where the build already searched; None searches here.

    Returns:
        ``{"map_trust": float32 (N,), "density": float32 (N,)}``.
    """
    codes = code_rows(codes)
    positions = np.asarray(positions, np.float32)
    if len(positions) != len(codes):
        raise ValueError(f"Expected one map position per code, got {len(positions)} positions for {len(codes)} codes.")
    k = min(k, len(codes) - 1)
    if k < 1:  # one image has no neighbours: nothing to trust or to crowd it
        undefined = np.full(len(codes), np.nan, np.float32)
        return {"map_trust": undefined, "density": undefined.copy()}
    if code_neighbours is None:
        indices, similarities = nearest_neighbours(codes, k, ordered=False)
    else:
        indices, similarities = (np.asarray(values)[:, :k] for values in code_neighbours)
    return {"map_trust": _shared_share(indices, map_neighbours(positions, k)), "density": _density(similarities)}


def map_trust(codes: np.ndarray, positions: np.ndarray, k: int = QUALITY_K) -> np.ndarray:
    """Each image's *map trust*: the share of its ``k`` nearest codes (cosine similarity) that
    are also among its ``k`` nearest images on the map (straight-line distance).

    Args:
        codes: float32 (N, D) finite codes.
        positions: float32 (N, 2) map positions.
        k: neighbours per image (:data:`~aevis.latent.quality.QUALITY_K`); fewer when there are
            fewer other images.

    Returns:
        float32 (N,) in [0, 1], in steps of 1/k: 1 where the map keeps the image's whole code
        neighbourhood around it, 0 where none of it; NaN for a set of one image.
    """
    return neighbourhoods(codes, positions, k)["map_trust"]


def local_density(codes: np.ndarray, k: int = QUALITY_K) -> np.ndarray:
    """Each image's *local density* in code space: 1 / the mean cosine distance (1 − cosine
    similarity) to its ``k`` nearest codes, that distance floored at :data:`DENSITY_FLOOR`.

    High where many codes are alike (a common kind of picture), low for an image unlike even
    its closest neighbours. Measured in code space, not on the map, whose distances are bent.

    Returns:
        float32 (N,) > 0; NaN for a set of one image.
    """
    codes = code_rows(codes)
    k = min(k, len(codes) - 1)
    if k < 1:
        return np.full(len(codes), np.nan, np.float32)
    return _density(nearest_neighbours(codes, k, ordered=False)[1])


def map_neighbours(positions: np.ndarray, k: int) -> np.ndarray:
    """int (N, k): each position's ``k`` nearest other positions by straight-line distance (exact)."""
    positions = np.asarray(positions, np.float64)
    found = cKDTree(positions).query(positions, k=k + 1)[1].reshape(len(positions), k + 1)
    # Drop each row's own index: usually first, but not when positions coincide exactly.
    keep = found != np.arange(len(found))[:, None]
    keep[keep.all(axis=1), -1] = False
    return found[keep].reshape(len(found), k)


def _shared_share(code_neighbours: np.ndarray, map_neighbours_: np.ndarray) -> np.ndarray:
    """Share of each row of ``code_neighbours`` also in that row of ``map_neighbours_``."""
    k = code_neighbours.shape[1]
    shared = np.zeros(len(code_neighbours), np.int64)
    for column in range(k):  # k passes over (N, k): no (N, k, k) array
        shared += (map_neighbours_ == code_neighbours[:, column : column + 1]).any(axis=1)
    return (shared / k).astype(np.float32)


def _density(similarities: np.ndarray) -> np.ndarray:
    distance = np.maximum(1.0 - similarities.astype(np.float64).mean(axis=1), DENSITY_FLOOR)
    return (1.0 / distance).astype(np.float32)
