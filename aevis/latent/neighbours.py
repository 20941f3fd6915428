"""Which codes are near each other: cosine similarity, the one neighbour search, and the
cleaning every whole-set computation applies to codes first.

The gallery's *similarity* is the cosine similarity of codes **centred on the set's mean code**
(:func:`mean_code`): ``cos(a − m, b − m)``. Codes of ReLU layers are all positive, so their raw
cosines crowd near 1 (on 90 photos through a random ReLU encoder the typical nearest neighbour
sat at 0.998, and near-copies could not be told from merely similar photos); centred, 1 still
means the same code, 0 is about what two images picked at random score, and negative means
less alike than that. Every function here takes ``centre``: None for the raw cosine, or the
mean code the build passes (:func:`mean_code`)."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits  # installed with scikit-learn

from aevis._utils.codes import allocate, blocks, code_rows, map_blocks

_BLOCK = 1024  # rows of the similarity matrix held at once: N x 1024 floats, not N x N
EXACT_SEARCH_UP_TO = 8000
"""Up to this many codes every pair is compared (N² work); above it the search goes through a
reduced space (see :func:`nearest_neighbours`). On real codes of 4,096 numbers, medians of
bench/neighbours.py on two busy cores: 13 s against 6.7 s at 10,000 codes, 65 s against 12 s
at 20,000; at 5,000 both took about 10 s."""
REDUCED_DIMENSIONS = 64
"""Principal components of the reduced space. On 10,000 real codes of 4,096 numbers, 16 left a
fifth of the codes to the second search, 32 about 1 in 100, 64 none. Unproven, at 100,000 codes
of the seed model, the candidates' best held 99.1 % of the true ten nearest with 32 and 99.7 %
with 64."""
CANDIDATES = 64
"""Nearest points in the reduced space first compared in full, per code (at least k), where the
answer is then proven. Fewer leave more rows to the radius search: on 30,000 seed-model codes
the whole search took 98 s with 24, 36 s with 64, 44 s with 96."""
UNPROVEN_CANDIDATES = 24
"""The same above :data:`PROVEN_UP_TO` codes, where they are all there is: at 100,000 seed-model
codes, 24 held 99.7 % of the true ten nearest, and the search took 71 s."""
_FLOOR_SAMPLE = 8192
"""Columns of each block of reduced-space products whose farthest candidate sets a floor
that every candidate passes: only the few products above it are sorted (see
:func:`_reduced_candidates`)."""
_PRODUCT_FLOATS = 1 << 25  # reduced-space products held at once: 128 MB
PROVEN_UP_TO = 50_000
"""Up to this many codes the reduced-space search proves its answer exact (step 3 of
:func:`nearest_neighbours`); above it the candidates' best are kept unproven. The proof's cost
is the codes inside each radius: on the seed model's codes of built-in shapes, whose nearest
codes sit at cosine 0.7, it took 15 s at 10,000 codes, 73 s at 30,000 and more than 17
minutes at 100,000."""
RECALL_SAMPLE = 500
"""Codes :func:`neighbour_recall` compares with every other code."""
_PCA_SAMPLE = 10_000  # codes the principal components are fitted on
_POOL_FLOATS = 1 << 22  # numbers of candidate codes gathered at once: 32 MB in float64
_GROUP = 16  # rows compared with their pooled candidates in one product: each also sees the others'
_REDUCED_SLACK = 1e-4
"""Slack, in squared reduced distance, for float32 products of points of length about 1 (their
rounding is below 1e-5): a row counts as unsure when its farthest candidate is within it."""
_MARGIN = 1e-5
"""Slack, in cosine similarity, for unit codes whose float32 length is not exactly 1 and for
the similarities' rounding to float32 (both below 1e-6)."""


def nearest_neighbours(
    codes: np.ndarray, k: int = 6, ordered: bool = True, centre: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar other codes of each code, by cosine similarity (of the codes less
    ``centre``, where given: the gallery passes :func:`mean_code`).

    Up to :data:`EXACT_SEARCH_UP_TO` codes, every pair is compared, a block of rows at a time
    (N² work, N x 1024 memory). Above it, nothing is N²:

    1. The unit codes are projected on their first :data:`REDUCED_DIMENSIONS` principal
       components (fitted on a sample), plus one coordinate: the length of what the projection
       leaves out. Distances there never exceed the distances between the unit codes.
    2. Matrix products in that space, a block of rows at a time, give each code its
       :data:`CANDIDATES` nearest points there; they are compared in full, and the k-th
       similarity s found is a floor for the true k-th.
    3. Any code at least as similar as s lies within ``sqrt(2 - 2 s)`` of it in the full space,
       so within that radius in the reduced one. Where the candidates did not already reach
       that far, a k-d tree finds every code inside the radius, and those are compared in full
       too.

    So the answer is exact, not approximate: no code that can beat the k-th is left unchecked
    (zero codes, which have no direction, are compared with everything). Above
    :data:`PROVEN_UP_TO` codes step 3 is left out: each code's neighbours are then the best of
    its :data:`UNPROVEN_CANDIDATES` candidates, their similarities still exact, and
    :func:`neighbour_recall` measures on a sample how many of the true neighbours they hold.
    The similarities are summed in float64 and rounded to float32, where the all-pairs search
    sums in float32: the two agree to about 1e-7, and may order differently two codes that close
    (about 1 row in 1,000 of real codes, whose neighbours lie above 0.99). Time grows with how
    many codes crowd each radius, which stays small for clustered codes.

    Args:
        codes: float32 (N, D), finite (see :func:`finite_codes`).
        k: neighbours per code; fewer when there are fewer other codes.
        ordered: most similar first, ties to the lower index; False leaves the k in any
            order, by partial selection (ten times faster at 10,000 codes), for figures
            that only count them. Above :data:`EXACT_SEARCH_UP_TO` they are always ordered.
        centre: float (D,) subtracted from every code before the cosine, or None.

    Returns:
        ``(indices, similarities)``, both (N, min(k, N - 1)). A zero code (less the centre)
        has similarity 0 to everything.
    """
    codes = code_rows(codes)
    k = min(k, len(codes) - 1)
    if len(codes) <= EXACT_SEARCH_UP_TO or k < 1:
        return _compare_with_all(unit_codes(codes, centre), np.arange(len(codes)), k, ordered)
    with threadpool_limits(1):  # small products: a second thread waiting on a busy core cost 3x
        return _search_reduced_space(_UnitRows(codes, centre), k, prove=len(codes) <= PROVEN_UP_TO)


def neighbour_recall(
    codes: np.ndarray, indices: np.ndarray, sample: int = RECALL_SAMPLE, seed: int = 0, centre: np.ndarray | None = None
) -> float:
    """The share of the true k nearest codes (by cosine similarity, of the codes less ``centre``
    where given, every pair compared) that ``indices`` (N, k) lists, over a seeded sample of
    ``sample`` codes: 1.0 for an exact search."""
    codes = code_rows(codes)
    k = indices.shape[1]
    if k < 1:
        return 1.0
    rows = np.arange(len(codes))
    if len(codes) > sample:
        rows = np.sort(np.random.default_rng(seed).choice(len(codes), sample, replace=False))
    unit = _UnitRows(codes, centre)
    chosen = unit[rows]
    best = np.full((len(rows), k), -np.inf, np.float32)  # each row's k highest similarities so far
    for start in range(0, len(codes), _BLOCK):
        scores = chosen @ unit[start : start + _BLOCK].T
        own = (rows >= start) & (rows < start + len(scores[0]))
        scores[own, rows[own] - start] = -np.inf  # never one's own neighbour
        best = -np.partition(-np.concatenate([best, scores], axis=1), k - 1, axis=1)[:, :k]
    # Ties at the k-th similarity make more than k codes "true": a listed code that ties counts.
    kth = best.min(axis=1, keepdims=True)
    listed = np.einsum("ij,ikj->ik", chosen, unit[indices[rows].reshape(-1)].reshape(len(rows), k, -1))
    listed[indices[rows] == rows[:, None]] = -np.inf  # listing itself finds nothing
    return float(np.mean(listed >= kth - _MARGIN))


def nearest_of(codes, rows: np.ndarray, k: int, centre: np.ndarray | None = None) -> np.ndarray:
    """int64 (n, min(k, N - 1)): the ``k`` most similar other codes of each of ``rows`` (by
    cosine similarity, of the codes less ``centre`` where given), most similar first, ties to
    the lower index; every code compared in float32 products, a block at a time, so for a few
    rows of a large set (n·N work, no copy of the codes)."""
    codes = code_rows(codes)
    rows = np.asarray(rows, np.int64)
    k = max(min(k, len(codes) - 1), 0)
    unit = _UnitRows(codes, centre)
    found = np.empty((len(rows), k), np.int64)
    for first in range(0, len(rows), _BLOCK):
        chosen = rows[first : first + _BLOCK]
        these = unit[chosen]
        best_scores = np.empty((len(chosen), 0), np.float32)
        best = np.empty((len(chosen), 0), np.int64)
        for start in range(0, len(codes), _BLOCK):
            scores = these @ unit[start : start + _BLOCK].T
            own = (chosen >= start) & (chosen < start + scores.shape[1])
            scores[own, chosen[own] - start] = -np.inf  # never one's own neighbour
            columns = np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)
            scores = np.concatenate([best_scores, scores], axis=1)
            columns = np.concatenate([best, columns], axis=1)
            # Stable: the best so far, all of lower index, come first, so ties go to the lower index.
            order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            best_scores = np.take_along_axis(scores, order, axis=1)
            best = np.take_along_axis(columns, order, axis=1)
        found[first : first + len(chosen)] = best
    return found


def _compare_with_all(unit: np.ndarray, rows: np.ndarray, k: int, ordered: bool) -> tuple[np.ndarray, np.ndarray]:
    """Exact neighbours of ``unit[rows]`` among all of ``unit``, :data:`_BLOCK` rows at a time."""
    indices = np.empty((len(rows), k), np.int64)
    similarities = np.empty((len(rows), k), np.float32)
    for start in range(0, len(rows), _BLOCK):
        chosen = rows[start : start + _BLOCK]
        block = unit[chosen] @ unit.T
        block[np.arange(len(chosen)), chosen] = -np.inf  # never one's own neighbour
        if ordered:  # a stable sort on the negated values: highest first, lower index first on ties
            order = np.argsort(-block, axis=1, kind="stable")[:, :k]
        else:
            order = np.argpartition(-block, k - 1, axis=1)[:, :k]
        indices[start : start + len(chosen)] = order
        similarities[start : start + len(chosen)] = np.take_along_axis(block, order, axis=1)
    return indices, similarities


def _search_reduced_space(unit: _UnitRows, k: int, prove: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Neighbours among candidates from the reduced space, then (``prove``) among every code the
    reduced space cannot rule out, for the rows whose first candidates do not settle it."""
    reduced = _reduced_codes(unit)
    wanted = min(max(CANDIDATES if prove else UNPROVEN_CANDIDATES, k) + 1, len(unit))  # + 1: itself
    candidates, farthest = _reduced_candidates(reduced, wanted)
    rows = np.arange(len(unit))
    indices, similarities = np.zeros((len(unit), k), np.int64), np.zeros((len(unit), k), np.float32)
    _best_in_pools(unit, rows, candidates, indices, similarities)
    del candidates
    # A code as similar as the k-th found (less rounding slack) is at most this far from the
    # row in the full space, so no farther in the reduced one.
    radius = np.sqrt(np.maximum(2 - 2 * (similarities[:, -1].astype(np.float64) - _MARGIN), 0.0))
    zero = unit.norms == 0  # no direction: the bound above does not apply
    unsure = np.flatnonzero((farthest <= radius**2 + _REDUCED_SLACK) & ~zero) if prove else rows[:0]
    if len(unsure):
        tree = cKDTree(reduced)
        for start in range(0, len(unsure), _BLOCK):
            chosen = unsure[start : start + _BLOCK]
            balls = tree.query_ball_point(reduced[chosen], radius[chosen])
            _best_in_pools(unit, chosen, balls, indices, similarities)
    for row in np.flatnonzero(zero):  # similarity 0 to every code: the lowest other indices
        indices[row] = np.delete(np.arange(k + 1), row) if row <= k else np.arange(k)
        similarities[row] = 0
    return indices, similarities


def _reduced_candidates(reduced: np.ndarray, wanted: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``wanted`` nearest rows of ``reduced`` (itself among them, in any order), and
    the squared distance of the farthest of them, by float32 products.

    A k-d tree does this slowly in 65 dimensions (more than 3 minutes at 100,000 codes); all the
    products take seconds, and sorting them all would take minutes. So, for each block of rows,
    the ``wanted``-th nearest among the first :data:`_FLOOR_SAMPLE` columns, in a seeded random
    order of the rows, sets a floor: it is never nearer than the ``wanted``-th nearest of all, so
    every row's ``wanted`` nearest are among the few products that pass it (a few hundred of
    100,000), and only those are sorted."""
    count = len(reduced)
    order = np.random.default_rng(0).permutation(count)
    points = reduced.astype(np.float32)
    squares = np.einsum("ij,ij->i", points, points)
    # One product gives r . q - |r|² / 2, which is largest for the nearest r of each q.
    queries = np.concatenate([points, np.ones((count, 1), np.float32)], axis=1)
    shuffled = np.concatenate([points, -0.5 * squares[:, None]], axis=1)[order]
    sample = min(_FLOOR_SAMPLE, count)
    block = max(1, min(_BLOCK, _PRODUCT_FLOATS // count))
    candidates = np.empty((count, wanted), np.int64)
    farthest = np.empty(count, np.float32)
    for start in range(0, count, block):
        scores = queries[start : start + block] @ shuffled.T
        floor = np.partition(scores[:, :sample], sample - wanted, axis=1)[:, sample - wanted]
        passing = np.flatnonzero(scores >= floor[:, None])
        row, column = np.divmod(passing, count)
        score = scores.reshape(-1)[passing].astype(np.float64)
        ranked = np.lexsort((-score, row))  # by row, then highest score first
        starts = np.searchsorted(row[ranked], np.arange(len(scores)))
        kept = ranked[starts[:, None] + np.arange(wanted)]
        candidates[start : start + len(scores)] = order[column[kept]]
        farthest[start : start + len(scores)] = squares[start : start + len(scores)] - 2 * score[kept[:, -1]]
    return candidates, farthest


class _UnitRows:
    """The unit codes (:func:`unit_codes`, less ``centre``), each row made when read, bit for
    bit as there: at 100,000 codes of 4,096 numbers a unit copy of them all would take 1.6 GB more."""

    def __init__(self, codes: np.ndarray, centre: np.ndarray | None = None) -> None:
        self.codes = codes
        self.centre = None if centre is None else np.asarray(centre, np.float32).reshape(-1)
        self.norms = np.concatenate(
            [
                np.linalg.norm(self._centred(codes[start : start + _BLOCK]), axis=1)
                for start in range(0, len(codes), _BLOCK)
            ]
        )
        self.shape = codes.shape

    def __len__(self) -> int:
        return len(self.codes)

    def _centred(self, chosen: np.ndarray) -> np.ndarray:
        return chosen if self.centre is None else chosen - self.centre

    def __getitem__(self, rows) -> np.ndarray:
        chosen, norms = self._centred(self.codes[rows]), self.norms[rows][..., None]
        return np.divide(chosen, norms, out=np.zeros_like(chosen), where=norms > 0)


def _reduced_codes(unit: _UnitRows) -> np.ndarray:
    """Unit codes on their first principal components, plus the length of the rest (N, d + 1).

    Distances here are at most the unit codes' own: the rest's contribution is at least the
    difference of the two lengths left out (triangle inequality)."""
    chosen = slice(None)
    if len(unit) > _PCA_SAMPLE:
        chosen = np.sort(np.random.default_rng(0).choice(len(unit), _PCA_SAMPLE, replace=False))
    sample = unit[chosen]
    dimensions = min(REDUCED_DIMENSIONS, *sample.shape)
    pca = PCA(dimensions, svd_solver="randomized", random_state=0).fit(sample)
    components = pca.components_.astype(np.float64)
    reduced = np.empty((len(unit), dimensions + 1), np.float64)
    for start in range(0, len(unit), _BLOCK):
        centred = unit[start : start + _BLOCK].astype(np.float64) - pca.mean_
        projected = centred @ components.T
        rest = np.einsum("ij,ij->i", centred, centred) - np.einsum("ij,ij->i", projected, projected)
        reduced[start : start + _BLOCK, :-1] = projected
        reduced[start : start + _BLOCK, -1] = np.sqrt(np.maximum(rest, 0.0))
    return reduced


def _best_in_pools(unit, rows: np.ndarray, pools, indices: np.ndarray, similarities: np.ndarray) -> None:
    """Write into ``indices`` and ``similarities`` the k most similar codes of each of ``rows``
    among its pool of candidate indices (the row itself may be in it).

    Rows go in groups whose pools hold at most :data:`_POOL_FLOATS` numbers of codes; a group
    is compared with all its pools' codes in one matrix product, so a row may also find a
    better neighbour in another row's pool, never a worse one."""
    k = indices.shape[1]
    ends = np.cumsum([len(pool) for pool in pools])
    budget = max(1, _POOL_FLOATS // unit.shape[1])
    start = 0
    while start < len(rows):
        before = ends[start - 1] if start else 0
        stop = min(int(np.searchsorted(ends, before + budget, "right")), start + _GROUP, len(rows))
        stop = max(stop, start + 1)
        group = rows[start:stop]
        pool = np.unique(np.concatenate([group, *(np.asarray(pool, np.int64) for pool in pools[start:stop])]))
        scores = _cosines(unit[group], unit[pool])
        scores[np.arange(len(group)), np.searchsorted(pool, group)] = -np.inf  # never one's own neighbour
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]  # pool is sorted: ties to the lower index
        indices[group] = pool[order]
        similarities[group] = np.take_along_axis(scores, order, axis=1)
        start = stop


def _cosines(these: np.ndarray, those: np.ndarray) -> np.ndarray:
    """Dot products of unit codes summed in float64, then rounded to float32: the nearest
    float32 to the true value, so near-ties order the same however the sum was split."""
    return (these.astype(np.float64) @ those.astype(np.float64).T).astype(np.float32)


def unit_codes(codes: np.ndarray, centre: np.ndarray | None = None) -> np.ndarray:
    """Codes flattened to float32 (N, D), less ``centre`` where given, and scaled to length 1,
    the geometry of cosine similarity; an all-zero code has no direction and stays zero. One
    float32 copy of the codes is made, whether or not they are centred."""
    if centre is None:
        codes = np.asarray(codes, np.float32).reshape(len(codes), -1)
        norms = np.linalg.norm(codes, axis=1, keepdims=True)
        return np.divide(codes, norms, out=np.zeros_like(codes), where=norms > 0)
    unit = np.empty((len(codes), int(np.prod(codes.shape[1:], dtype=np.int64))), np.float32)
    centre = np.asarray(centre, np.float32).reshape(-1)
    for start in range(0, len(codes), _BLOCK):
        block = unit[start : start + _BLOCK]
        np.subtract(np.asarray(codes[start : start + _BLOCK], np.float32).reshape(len(block), -1), centre, out=block)
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        np.divide(block, norms, out=block, where=norms > 0)
        block[norms[:, 0] == 0] = 0
    return unit


CENTRED_FROM = 10
"""Codes (with a direction) a set needs before its similarities are centred on its mean: the
mean of a handful of images is no typical code (of two, the centred cosine is always −1)."""


def mean_code(codes) -> np.ndarray:
    """float32 (D,): the mean of ``codes`` (N, D) that have a direction (all-zero codes, of
    images flagged as broken, are left out), summed in float64 a block at a time (codes may be a
    :class:`~aevis._utils.codes.CodeFile`); zeros, so no centring, for fewer than
    :data:`CENTRED_FROM` such codes. Clean them first (:func:`finite_codes`)."""
    codes = code_rows(codes)
    total = np.zeros(codes.shape[1], np.float64)
    counted = 0
    for block in blocks(codes, _BLOCK):
        directed = block[np.any(block != 0, axis=1)]
        total += directed.sum(axis=0, dtype=np.float64)
        counted += len(directed)
    if counted < CENTRED_FROM:
        return np.zeros(codes.shape[1], np.float32)
    return (total / counted).astype(np.float32)


def pair_similarities(codes, first: np.ndarray, second: np.ndarray, centre: np.ndarray | None = None) -> np.ndarray:
    """float64 (P,): the cosine similarity of ``codes[first[p]]`` and ``codes[second[p]]``, of
    the codes less ``centre`` where given, as :func:`nearest_neighbours` finds it (0 where
    either has no direction; NaN and infinite values set to 0 first, as :func:`finite_codes`
    does), computed pair by pair in blocks: for a few pairs of a large set."""
    first, second = np.asarray(first, np.int64).reshape(-1), np.asarray(second, np.int64).reshape(-1)
    result = np.empty(len(first), np.float64)
    block = max(1, _POOL_FLOATS // max(codes.shape[1], 1))
    for start in range(0, len(first), block):
        stop = start + block
        a = unit_codes(finite_codes(codes[first[start:stop]]), centre).astype(np.float64)
        b = unit_codes(finite_codes(codes[second[start:stop]]), centre).astype(np.float64)
        result[start:stop] = np.einsum("ij,ij->i", a, b)
    return result


def finite_codes(codes):
    """Codes with NaN and infinite values set to 0, so one broken image (flagged on its page)
    cannot poison everyone's neighbours, clusters or map. Finite codes come back as they are
    (no copy: at 100,000 codes of 4,096 numbers a copy is 1.6 GB); codes kept in a file are
    cleaned into another."""
    codes = code_rows(codes)
    if finite_rows(codes).all():
        return codes
    cleaned = allocate(codes.shape)
    start = 0
    for block in blocks(codes):
        cleaned[start : start + len(block)] = np.nan_to_num(block, nan=0.0, posinf=0.0, neginf=0.0)
        start += len(block)
    return cleaned


def finite_rows(codes) -> np.ndarray:
    """bool (N,): whether each code is finite throughout."""
    return map_blocks(lambda block: np.isfinite(block).all(axis=1), code_rows(codes))
