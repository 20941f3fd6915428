"""Groups of similar codes: k-means in the geometry of cosine similarity."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from aevis.latent.neighbours import unit_codes
from aevis.memory import BLOCK_BYTES, SAMPLE_BYTES, rows_within

CLUSTERS = 8
"""k of the map's k-means colouring (fewer for fewer images)."""
FIT_SAMPLE = 10_000
"""Above this many codes the centres are found on a sample of this many, and every code then
joins its nearest centre, a block at a time: at 100,000 codes of 4,096 numbers, k-means on
them all would hold two more copies of them (3.3 GB) and take minutes. A sample of 20,000 held
0.9 GB at its peak. Fewer where they would pass :data:`aevis.memory.SAMPLE_BYTES`."""
_BLOCK = 4096


def kmeans_clusters(codes: np.ndarray, clusters: int, seed: int) -> tuple[np.ndarray, int]:
    """``(cluster of each code, number of clusters)``: k-means (seeded) on unit-length codes,
    k = ``clusters`` or N if fewer; clusters numbered by size, largest first. Above
    :data:`FIT_SAMPLE` codes the centres come from a seeded sample of that many."""
    count = len(codes)
    k = max(1, min(clusters, count))
    if k == 1:
        return np.zeros(count, np.int64), 1
    # copy_x=False: centred in place, the unit codes made here for it; a copy would be 160 MB more.
    kmeans = KMeans(n_clusters=k, n_init=4, random_state=seed, copy_x=False)
    row_bytes = codes.shape[1] * 4
    fitted = rows_within(row_bytes, SAMPLE_BYTES, most=FIT_SAMPLE)
    if count <= fitted:
        raw = kmeans.fit_predict(unit_codes(codes))
    else:
        kmeans.fit(unit_codes(codes[np.sort(np.random.default_rng(seed).choice(count, fitted, replace=False))]))
        block = rows_within(row_bytes, BLOCK_BYTES, most=_BLOCK)
        raw = np.concatenate(
            [kmeans.predict(unit_codes(codes[start : start + block])) for start in range(0, count, block)]
        )
    sizes = np.bincount(raw, minlength=k)
    order = np.argsort(-sizes, kind="stable")
    renumber = np.empty(k, np.int64)
    renumber[order] = np.arange(k)
    return renumber[raw], k
