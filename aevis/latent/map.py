"""The 2-D map of the codes: t-SNE positions (or a small code itself), and a sample of images
spread over it."""

from __future__ import annotations

import numpy as np
import openTSNE
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits  # installed with scikit-learn

from aevis._utils.codes import code_rows
from aevis.memory import BLOCK_BYTES, SAMPLE_BYTES, rows_within

PCA_DIMENSIONS = 50
"""Codes are reduced to this many principal components before t-SNE, as its authors advise."""
PCA_SAMPLE = 20_000
"""Above this many codes, the principal components are fitted on a sample of this many (fewer
where they would pass :data:`aevis.memory.SAMPLE_BYTES`: 115 codes of 1,166,400 numbers)."""
_BLOCK = 4096  # codes projected or compared at once

TSNE_ITERATIONS = 300
"""Gradient-descent iterations, none of them exaggerated (see :func:`tsne_map`). On 10,000 real
codes trustworthiness rose until about 300 and no further (0.9695 at 300, 350 and 400); it
matches scikit-learn's default 1,000 (bench/run.py measures both; see BENCHMARKS.md)."""
TSNE_LIBRARY = f"openTSNE {openTSNE.__version__}"
"""Part of a cached map's key: another openTSNE version may place the points differently."""
_FFT_FROM = 3000
"""From this many points the repulsive forces are interpolated on a grid with FFTs (Linderman
et al. 2019), whose cost per iteration barely depends on the number of points; fewer points
use Barnes-Hut, which is faster there (measured: equal at 3,000 codes, BH 2.5 s against FFT
3.1 s at 2,000, FFT 4.6 s against BH 7.5 s at 5,000)."""
_APPROXIMATE_NEIGHBOURS_FROM = 10_001
"""From this many points the affinities' 3 x perplexity neighbours come from Annoy's random
projection trees (openTSNE's ``method="annoy"``) instead of an exact search, which grows with
N². On 30,000 real codes of 1,024 numbers the whole map took 24 s (trustworthiness 0.897 on
2,000 points); at 10,000, 8.7 s with Annoy and 6.5 s exact (0.901 against 0.903). Smaller sets
keep the exact neighbours, and so the maps already cached."""


SMALL_CODE = 3
"""Codes of at most this many numbers are drawn as they are (:func:`small_code_map`), not by t-SNE."""
TSNE, CODE, PCA_VIEW = "tsne", "code", "pca"
"""How a map was drawn: by t-SNE, the code itself as (x, y), or a 3-number code's first two
principal components."""


def map_kind(code_size: int) -> str:
    """How the map of codes of ``code_size`` numbers is drawn: :data:`TSNE`, :data:`CODE` or :data:`PCA_VIEW`."""
    if code_size > SMALL_CODE:
        return TSNE
    return PCA_VIEW if code_size == SMALL_CODE else CODE


def code_map(codes: np.ndarray, seed: int = 0) -> np.ndarray:
    """The map of the codes, float32 (N, 2) in [0, 1]: :func:`tsne_map`, or for a code of at
    most :data:`SMALL_CODE` numbers :func:`small_code_map`."""
    codes = code_rows(codes)
    return tsne_map(codes, seed) if map_kind(codes.shape[1]) == TSNE else small_code_map(codes)


def small_code_map(codes: np.ndarray) -> np.ndarray:
    """A small code drawn as it is, float32 (N, 2) in [0, 1]: two numbers are x and y, one is x
    (y at the middle), three are seen along their first two principal components. Both axes
    share one scale, centred, so distances on the map are distances between the codes (up to
    the third component for three numbers)."""
    codes = np.asarray(code_rows(codes), np.float64)
    if codes.shape[1] == SMALL_CODE and len(codes) >= 2:
        points = PCA(n_components=2).fit_transform(codes)
    else:
        points = np.zeros((len(codes), 2))
        points[:, : codes.shape[1]] = codes[:, :2]
    points[:, 1] *= -1  # y grows upwards in the code, downwards on the page
    low, high = points.min(axis=0), points.max(axis=0)
    span = float((high - low).max()) if len(points) else 0.0
    if not span > 0:
        return np.full((len(points), 2), 0.5, np.float32)
    return (0.5 + (points - (low + high) / 2) / span).astype(np.float32)


def tsne_map(codes: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D t-SNE positions of the codes, float32 (N, 2), scaled into [0, 1] on both axes.

    The codes are reduced to :data:`PCA_DIMENSIONS` principal components; affinities come
    from each point's 3 x perplexity nearest neighbours (exact, or from Annoy above
    :data:`_APPROXIMATE_NEIGHBOURS_FROM` points), with perplexity 30, or (N - 1) / 3 for
    small sets, where 30 would exceed what the data can support. openTSNE
    (Poličar et al. 2024) then runs :data:`TSNE_ITERATIONS` iterations from a PCA
    initialisation, with learning rate N / 12 (Belkina et al. 2019; at least 200), Barnes-Hut
    gradients below :data:`_FFT_FROM` points and FFT-interpolated ones from there.

    There is no early-exaggeration phase. Its job is to untangle a random start; from a PCA
    start, on 10,000 of our codes, it shrank the map towards a point (scikit-learn abandons it
    after 50 iterations there, its gradient having vanished) and lowered trustworthiness.

    Everything runs on one thread, so the same codes and seed give the same map however many
    cores there are. A second thread did not pay: with the other core busy, threads waiting
    for each other at every iteration's barrier took 6-16 s for 10,000 codes, one took 7.4 s.
    """
    codes = code_rows(codes)
    count = len(codes)
    if count < 3:  # t-SNE needs more points than its perplexity; place one or two by hand
        return np.array([[0.5, 0.5]] if count == 1 else [[0.25, 0.5], [0.75, 0.5]], np.float32)
    if all(np.all(codes[start : start + _BLOCK] == codes[0]) for start in range(0, count, _BLOCK)):
        return np.full((count, 2), 0.5, np.float32)  # nothing to tell apart; a zero-spread start divides by 0
    perplexity = float(min(30.0, max(1.0, (count - 1) / 3)))
    with threadpool_limits(1):  # BLAS and OpenMP alike
        reduced = _principal_components(codes, min(PCA_DIMENSIONS, count, codes.shape[1]), seed)
        affinities = openTSNE.affinity.PerplexityBasedNN(
            reduced,
            perplexity=perplexity,
            method="annoy" if count >= _APPROXIMATE_NEIGHBOURS_FROM else "exact",
            n_jobs=1,
            random_state=seed,
        )
        start = openTSNE.initialization.pca(reduced, random_state=seed)
        embedding = openTSNE.TSNEEmbedding(
            start,
            affinities,
            negative_gradient_method="fft" if count >= _FFT_FROM else "bh",
            n_jobs=1,
            random_state=seed,
        )
        embedding.optimize(n_iter=TSNE_ITERATIONS, learning_rate=max(count / 12, 200.0), momentum=0.8, inplace=True)
    embedding = np.asarray(embedding)
    low, high = embedding.min(axis=0), embedding.max(axis=0)
    return ((embedding - low) / np.where(high > low, high - low, 1.0)).astype(np.float32)


def _principal_components(codes: np.ndarray, dimensions: int, seed: int) -> np.ndarray:
    """The codes on their first ``dimensions`` principal components. Above :data:`PCA_SAMPLE`
    codes the components are fitted on that many, drawn with ``seed``, and every code is
    projected a block at a time: fitting on all 100,000 codes of 4,096 numbers would first
    copy them all (1.6 GB) to centre them."""
    pca = PCA(n_components=dimensions, random_state=seed)
    row_bytes = codes.shape[1] * 4
    fitted = rows_within(row_bytes, SAMPLE_BYTES, most=PCA_SAMPLE)
    if len(codes) <= fitted:
        return pca.fit_transform(codes)
    pca.fit(codes[np.sort(np.random.default_rng(seed).choice(len(codes), fitted, replace=False))])
    block = rows_within(row_bytes, BLOCK_BYTES, most=_BLOCK)
    return np.concatenate([pca.transform(codes[start : start + block]) for start in range(0, len(codes), block)])


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
