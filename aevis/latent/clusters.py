"""Groups of similar codes: k-means in the geometry of cosine similarity."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from aevis.latent.neighbours import unit_codes

CLUSTERS = 8
"""k of the map's k-means colouring (fewer for fewer images)."""


def kmeans_clusters(codes: np.ndarray, clusters: int, seed: int) -> tuple[np.ndarray, int]:
    """``(cluster of each code, number of clusters)``: k-means (seeded) on unit-length codes,
    k = ``clusters`` or N if fewer; clusters numbered by size, largest first."""
    count = len(codes)
    k = max(1, min(clusters, count))
    if k == 1:
        return np.zeros(count, np.int64), 1
    raw = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(unit_codes(codes))
    sizes = np.bincount(raw, minlength=k)
    order = np.argsort(-sizes, kind="stable")
    renumber = np.empty(k, np.int64)
    renumber[order] = np.arange(k)
    return renumber[raw], k
