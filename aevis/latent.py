"""The latent space: nearest neighbours by cosine similarity, and a 2-D t-SNE map of the codes."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from threadpoolctl import threadpool_limits  # installed with scikit-learn

_BLOCK = 1024  # rows of the similarity matrix held at once: N x 1024 floats, not N x N
PCA_DIMENSIONS = 50
"""Codes are reduced to this many principal components before t-SNE, as its authors advise."""
TSNE_ITERATIONS = 500
"""250 early-exaggeration iterations, then 250 more: half scikit-learn's default 1,000, for the
same trustworthiness on real codes (bench/run.py measures both; see BENCHMARKS.md)."""
_PARALLEL_FROM = 5000
"""Fewer points run t-SNE's OpenMP loops on one thread: on a busy machine every one of the
thousand iterations waits at a barrier for a descheduled thread, which turned a 100-point map
from 0.2 s into 40 s; only large maps gain from a second core."""


def nearest_neighbours(codes: np.ndarray, k: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar other codes of each code, by cosine similarity.

    Args:
        codes: float32 (N, D).
        k: neighbours per code; fewer when there are fewer other codes.

    Returns:
        ``(indices, similarities)``, both (N, min(k, N - 1)), most similar first; ties go to
        the lower index. A zero code has similarity 0 to everything.
    """
    codes = np.asarray(codes, np.float32)
    count = len(codes)
    k = min(k, count - 1)
    norms = np.linalg.norm(codes, axis=1, keepdims=True)
    unit = np.divide(codes, norms, out=np.zeros_like(codes), where=norms > 0)
    indices = np.empty((count, k), np.int64)
    similarities = np.empty((count, k), np.float32)
    for start in range(0, count, _BLOCK):
        block = unit[start : start + _BLOCK] @ unit.T
        rows = np.arange(len(block))
        block[rows, start + rows] = -np.inf  # never one's own neighbour
        # Stable sort on the negated values: highest first, lower index first on ties.
        order = np.argsort(-block, axis=1, kind="stable")[:, :k]
        indices[start : start + len(block)] = order
        similarities[start : start + len(block)] = np.take_along_axis(block, order, axis=1)
    return indices, similarities


def tsne_map(codes: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D t-SNE positions of the codes, float32 (N, 2), scaled into [0, 1] on both axes.

    PCA initialisation and a fixed seed make the map reproducible. Perplexity is 30, or
    (N - 1) / 3 for small sets, where 30 would exceed what the data can support; Barnes-Hut
    gradients, :data:`TSNE_ITERATIONS` iterations.
    """
    codes = np.asarray(codes, np.float32)
    count = len(codes)
    if count < 3:  # t-SNE needs more points than its perplexity; place one or two by hand
        return np.array([[0.5, 0.5]] if count == 1 else [[0.25, 0.5], [0.75, 0.5]], np.float32)
    dimensions = min(PCA_DIMENSIONS, count, codes.shape[1])
    reduced = PCA(n_components=dimensions, random_state=seed).fit_transform(codes)
    perplexity = float(min(30.0, max(1.0, (count - 1) / 3)))
    tsne = TSNE(
        n_components=2,
        init="pca",
        perplexity=perplexity,
        random_state=seed,
        learning_rate="auto",
        max_iter=TSNE_ITERATIONS,
    )
    with threadpool_limits(1 if count < _PARALLEL_FROM else None, user_api="openmp"):
        embedding = tsne.fit_transform(reduced)
    low, high = embedding.min(axis=0), embedding.max(axis=0)
    return ((embedding - low) / np.where(high > low, high - low, 1.0)).astype(np.float32)


def spread_sample(points: np.ndarray, count: int) -> np.ndarray:
    """Indices of ``count`` points spread over the map (farthest-point sampling).

    Starts at the point nearest the centre, then repeatedly takes the point farthest from all
    taken so far, so a chosen subset covers every region of the map instead of the first N.
    Returned in increasing index order.
    """
    count = min(count, len(points))
    chosen = [int(np.argmin(np.linalg.norm(points - points.mean(axis=0), axis=1)))]
    distance = np.linalg.norm(points - points[chosen[0]], axis=1)
    while len(chosen) < count:
        farthest = int(np.argmax(distance))
        chosen.append(farthest)
        distance = np.minimum(distance, np.linalg.norm(points - points[farthest], axis=1))
    return np.array(sorted(chosen), np.int64)
