"""Which codes are near each other: cosine similarity, the one neighbour search, and the
cleaning every whole-set computation applies to codes first."""

from __future__ import annotations

import numpy as np

_BLOCK = 1024  # rows of the similarity matrix held at once: N x 1024 floats, not N x N


def nearest_neighbours(codes: np.ndarray, k: int = 6, ordered: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar other codes of each code, by cosine similarity.

    Args:
        codes: float32 (N, D), finite (see :func:`finite_codes`).
        k: neighbours per code; fewer when there are fewer other codes.
        ordered: most similar first, ties to the lower index; False leaves the k in any
            order, by partial selection (ten times faster at 10,000 codes), for figures
            that only count them.

    Returns:
        ``(indices, similarities)``, both (N, min(k, N - 1)). A zero code has similarity 0
        to everything.
    """
    unit = unit_codes(codes)
    count = len(unit)
    k = min(k, count - 1)
    indices = np.empty((count, k), np.int64)
    similarities = np.empty((count, k), np.float32)
    for start in range(0, count, _BLOCK):
        block = unit[start : start + _BLOCK] @ unit.T
        rows = np.arange(len(block))
        block[rows, start + rows] = -np.inf  # never one's own neighbour
        if ordered:  # a stable sort on the negated values: highest first, lower index first on ties
            order = np.argsort(-block, axis=1, kind="stable")[:, :k]
        else:
            order = np.argpartition(-block, k - 1, axis=1)[:, :k]
        indices[start : start + len(block)] = order
        similarities[start : start + len(block)] = np.take_along_axis(block, order, axis=1)
    return indices, similarities


def unit_codes(codes: np.ndarray) -> np.ndarray:
    """Codes flattened to float32 (N, D) and scaled to length 1, the geometry of cosine
    similarity; an all-zero code has no direction and stays zero."""
    codes = np.asarray(codes, np.float32).reshape(len(codes), -1)
    norms = np.linalg.norm(codes, axis=1, keepdims=True)
    return np.divide(codes, norms, out=np.zeros_like(codes), where=norms > 0)


def finite_codes(codes: np.ndarray) -> np.ndarray:
    """Codes with NaN and infinite values set to 0, so one broken image (flagged on its page)
    cannot poison everyone's neighbours, clusters or map."""
    return np.nan_to_num(np.asarray(codes, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
