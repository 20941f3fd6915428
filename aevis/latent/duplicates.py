"""Which images are copies of one another: groups of images whose codes are nearly identical.

Two images are *near-duplicates* when the cosine similarity of their codes is at or above a
threshold (:func:`duplicate_rule`) chosen from the set itself; a *group* is a connected
component of the graph whose edges are those pairs, so a chain of near-duplicates is one group.

Candidate pairs come only from the neighbours every build already has
(:func:`aevis.latent.neighbours.nearest_neighbours`, k per image): O(N·k) pairs, never an N×N
matrix. A group found this way is exactly the group of the full matrix unless one image has more
than k near-duplicates that none of the others list; each image's own nearest neighbour, the one
that decides the threshold, is always among the candidates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from aevis.latent.neighbours import finite_codes, unit_codes

OUTLIER_Z = 3.5
"""Modified z-score beyond which a nearest-neighbour distance is an outlier (Iglewicz & Hoaglin,
*How to Detect and Handle Outliers*, 1993: |0.6745 (x − median) / MAD| > 3.5)."""
MAD_TO_SIGMA = 0.6745
"""The median absolute deviation of a normal distribution, in standard deviations."""
CLOSER = 10.0
"""A near-duplicate's code is at least this many times closer than the typical nearest
neighbour's, however narrow the spread of the set's distances."""
LOCAL_FROM = 3
"""Neighbours listed per image from which the local part of the rule applies: an image's last
listed neighbour is then (save in a set of many copies) not one of its copies."""
RESOLUTION = 1e-6
"""Cosine distances (1 − similarity) below this are copies: float32 codes of identical images
can differ by rounding, and their similarity by about 1e-7, on either side of 1."""


@dataclass(frozen=True)
class DuplicateRule:
    """The threshold a set's near-duplicates are found at, and why.

    Distances are cosine distances, 1 − similarity, and are compared on a log scale, where
    "ten times closer" is the same step anywhere.
    """

    similarity: float
    """Pairs with a cosine similarity at or above this are near-duplicates."""
    floor: float
    """Candidate pairs at or above this are kept, so the threshold can be lowered to it
    (in the page's slider); halfway, on the log scale, from the threshold to :attr:`typical`."""
    typical: float
    """The median over images of the similarity to their nearest neighbour."""
    spread: float
    """Robust standard deviation of the log nearest-neighbour distances: their upper
    semi-MAD (the median distance above the median, from it) / 0.6745."""
    decided_by: str
    """Which part of the rule set the threshold: ``"outlier"`` (the modified z-score),
    ``"closer"`` (the :data:`CLOSER` factor), ``"local"`` (an image whose nearest neighbour is
    :data:`CLOSER` times closer than its last listed one) or ``"copies"`` (:data:`RESOLUTION`:
    only copies)."""

    @property
    def closer(self) -> float:
        """How many times closer than the typical nearest neighbour a pair at the threshold is."""
        return _distance(self.typical) / _distance(self.similarity)

    def as_record(self) -> dict:
        """The rule as the manifest records it (its top-level ``duplicates``)."""
        return {
            "threshold": self.similarity,
            "floor": self.floor,
            "typical_nearest": self.typical,
            "decided_by": self.decided_by,
        }


def _distance(similarity: float) -> float:
    return max(1.0 - similarity, RESOLUTION)


def duplicate_rule(nearest: np.ndarray, farthest: np.ndarray | None = None) -> DuplicateRule:
    """The near-duplicate threshold of a set whose images' nearest-neighbour similarities are
    ``nearest`` (N,): an outlier rule on their distribution, lowered where the images' own
    neighbourhoods (``farthest`` (N,): each image's similarity to its last listed neighbour,
    or None) show near-copies the set-wide rule misses.

    Most images' nearest neighbour is merely similar; a duplicate's is far closer than the rest.
    On d = log(1 − similarity), clipped below at :data:`RESOLUTION`, a pair is a near-duplicate
    when d is a low outlier by the modified z-score (Iglewicz & Hoaglin 1993),
    d < median − :data:`OUTLIER_Z` · MAD / 0.6745, and at least :data:`CLOSER` times closer
    than the median nearest neighbour, d < median − log 10.

    Robust to the duplicates themselves: the median moves by at most their count of places, and
    the MAD is taken on the upper side of the median only (the semi-MAD: for a symmetric
    distribution the same number), which duplicates, being only ever closer, cannot reach. So a
    set of many copies does not widen the spread and hide its own less exact copies (with a
    quarter of a small set planted as copies, the two-sided MAD did). It breaks down when half
    the images or more are near-duplicates: then the median is a duplicate's distance.

    The second condition keeps a set whose distances all lie close together (as in high
    dimensions) from calling its merely nearer pairs copies. The threshold never asks for more
    than :data:`RESOLUTION`, so exact copies are always found.

    Exact copies (within :data:`RESOLUTION` of 1) are left out of the distribution: they are
    found whatever the threshold, and with them in, a set's copies dragged the cut beyond its
    JPEG and resized copies.

    The set-wide rule asks a lot where the images' distances spread widely (one crowded part of
    the set, one sparse): on photos through a small seed model, JPEG and resized copies sat 8 to
    80 times closer than the typical nearest neighbour, and the outlier cut at 90 times found
    some of them. So an image whose nearest neighbour is :data:`CLOSER` times closer than its own
    last listed neighbour (a ratio test, after Lowe 2004), where the list holds at least
    :data:`LOCAL_FROM`, marks a near-copy too, and the threshold comes down to the least
    similar such pair (``decided_by == "local"``); the same threshold then holds for every pair,
    as the page's slider expects. On those photos the unrelated images' nearest neighbours sat at
    least 0.28 of the way to their sixth, the copies' at most 0.09.

    With fewer than two finite similarities there is no distribution: only copies count.
    """
    local = _local_pairs(nearest, farthest)
    values = np.asarray(nearest, np.float64).reshape(-1)
    values = values[np.isfinite(values)]
    copies = 1.0 - RESOLUTION
    # Exact copies are always found (the threshold never asks for more), so they say nothing
    # about where merely similar images end: left in, a set's copies pulled its median and the
    # cut with it beyond its JPEG and resized copies (issue 25).
    values = values[values < copies] if (values < copies).sum() >= 2 else values
    if len(values) < 2:
        return DuplicateRule(copies, copies, float(values[0]) if len(values) else copies, 0.0, "copies")
    logs = np.log(np.clip(1.0 - values, RESOLUTION, None))
    median = float(np.median(logs))
    spread = float(np.median(logs[logs >= median] - median)) / MAD_TO_SIGMA
    outlier = median - OUTLIER_Z * spread
    closer = median - math.log(CLOSER)
    cut, decided_by = (outlier, "outlier") if outlier <= closer else (closer, "closer")
    if cut <= math.log(RESOLUTION):
        cut, decided_by = math.log(RESOLUTION), "copies"
    if len(local) and math.log(_distance(float(local.min()))) > cut:
        cut, decided_by = math.log(_distance(float(local.min()))), "local"
    floor = (cut + max(median, cut)) / 2
    return DuplicateRule(
        similarity=1.0 - math.exp(cut),
        floor=1.0 - math.exp(floor),
        typical=1.0 - math.exp(median),
        spread=spread,
        decided_by=decided_by,
    )


def _local_pairs(nearest, farthest) -> np.ndarray:
    """The nearest-neighbour similarities of the images whose nearest neighbour is at least
    :data:`CLOSER` times closer than their last listed one (exact copies left out)."""
    if farthest is None:
        return np.empty(0)
    nearest = np.asarray(nearest, np.float64).reshape(-1)
    farthest = np.asarray(farthest, np.float64).reshape(-1)
    with np.errstate(invalid="ignore"):
        near = np.clip(1.0 - nearest, RESOLUTION, None)
        far = np.clip(1.0 - farthest, RESOLUTION, None)
        local = np.isfinite(near) & np.isfinite(far) & (near > RESOLUTION) & (near * CLOSER <= far)
    return nearest[local]


@dataclass(frozen=True)
class Candidates:
    """Pairs of images that may be near-duplicates: each image with each of its k nearest
    neighbours at or above a floor, every pair once."""

    pairs: np.ndarray
    """int64 (P, 2): image indices, the lower first; most similar pair first (then by index)."""
    similarities: np.ndarray
    """float32 (P,): the cosine similarity of each pair's codes."""


def candidate_pairs(indices: np.ndarray, similarities: np.ndarray, floor: float) -> Candidates:
    """The pairs of ``(indices, similarities)`` (each (N, k), from
    :func:`~aevis.latent.neighbours.nearest_neighbours`) at or above ``floor``."""
    indices = np.asarray(indices, np.int64)
    similarities = np.asarray(similarities, np.float32)
    count, k = indices.shape if indices.ndim == 2 else (len(indices), 0)
    rows = np.repeat(np.arange(count, dtype=np.int64), k)
    others, values = indices.reshape(-1), similarities.reshape(-1)
    keep = values.astype(np.float64) >= floor
    low, high = np.minimum(rows, others)[keep], np.maximum(rows, others)[keep]
    values = values[keep]
    # A pair listed from both ends is one pair (its similarity is the same, up to rounding: keep the higher).
    order = np.lexsort((-values, high, low))
    low, high, values = low[order], high[order], values[order]
    first = np.ones(len(low), bool)
    first[1:] = (low[1:] != low[:-1]) | (high[1:] != high[:-1])
    low, high, values = low[first], high[first], values[first]
    order = np.lexsort((high, low, -values))
    return Candidates(np.stack([low[order], high[order]], axis=1).reshape(-1, 2), values[order])


@dataclass(frozen=True)
class Group:
    """Images whose codes are near-duplicates, directly or through a chain of them."""

    members: tuple[int, ...]
    """Image indices, in manifest order."""
    closest: tuple[float, ...]
    """Each member's highest similarity to another member among the candidate pairs."""
    lowest: float
    """The lowest similarity of a pair that joins the group (at or above the threshold)."""
    highest: float


def group_duplicates(count: int, candidates: Candidates, threshold: float) -> list[Group]:
    """The groups of ``count`` images that the candidate pairs at or above ``threshold`` join:
    the connected components of two or more images. The group with the most similar pair comes
    first, then larger groups, then by first member (``templates/duplicates.js`` shows these
    groups, worked out for every position of the slider by :mod:`aevis.site.set_pages`)."""
    keep = candidates.similarities.astype(np.float64) >= threshold
    pairs, values = candidates.pairs[keep], candidates.similarities[keep].astype(np.float64)
    if not len(pairs):
        return []
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(count, count))
    _, component = connected_components(graph, directed=False)
    closest = np.full(count, -np.inf)
    np.maximum.at(closest, pairs[:, 0], values)
    np.maximum.at(closest, pairs[:, 1], values)
    edges: dict[int, list[float]] = {}
    for (first, _), value in zip(pairs, values):
        edges.setdefault(int(component[first]), []).append(float(value))
    groups = []
    for label, joined in edges.items():
        members = np.flatnonzero(component == label)
        groups.append(
            Group(
                tuple(int(member) for member in members),
                tuple(float(closest[member]) for member in members),
                min(joined),
                max(joined),
            )
        )
    groups.sort(key=lambda group: (-group.highest, -len(group.members), group.members[0]))
    return groups


@dataclass(frozen=True)
class Duplicates:
    """A set's near-duplicates at its :class:`DuplicateRule`."""

    rule: DuplicateRule
    candidates: Candidates
    """Every candidate pair down to the rule's floor (the page's slider goes that far)."""
    groups: list[Group]
    """The groups at the rule's threshold."""
    of_image: list[list[tuple[int, float]]]
    """Per image: the other members of its group, each with the cosine similarity of their
    codes, most similar first (then by index); empty for an image in no group."""


def find_duplicates(
    codes: np.ndarray, indices: np.ndarray, similarities: np.ndarray, centre: np.ndarray | None = None
) -> Duplicates:
    """The near-duplicates among ``codes`` (N, D), from their nearest ``indices`` and
    ``similarities`` (each (N, k), most similar first, as the build's neighbours are, of the
    codes less ``centre``: the similarities within groups are worked out the same way).

    Cheap: O(N·k) for the rule, the pairs and the groups, and the square of each group's size
    for the similarities within groups, computed from the codes (members joined by a chain need
    not list each other as neighbours).
    """
    count = len(codes)
    similarities = np.asarray(similarities, np.float32)
    listed = similarities.shape[1] if similarities.ndim == 2 else 0
    nearest = similarities[:, 0] if listed else np.empty(0)
    rule = duplicate_rule(nearest, similarities[:, -1] if listed >= LOCAL_FROM else None)
    candidates = candidate_pairs(indices, similarities, rule.floor)
    groups = group_duplicates(count, candidates, rule.similarity)
    of_image: list[list[tuple[int, float]]] = [[] for _ in range(count)]
    for group in groups:
        members = np.asarray(group.members)
        unit = unit_codes(finite_codes(codes[members]), centre)
        within = unit @ unit.T
        for row, member in enumerate(members):
            others = [
                (int(other), float(within[row, column])) for column, other in enumerate(members) if other != member
            ]
            of_image[member] = sorted(others, key=lambda pair: (-pair[1], pair[0]))
    return Duplicates(rule, candidates, groups, of_image)
