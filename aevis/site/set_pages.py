"""Pages about the whole set: the strangest and most typical images (ranked by reconstruction
error, :mod:`aevis.latent.strangeness`) and the near-duplicates (:mod:`aevis.latent.duplicates`).

Like :mod:`aevis.site.pages`, each page is a frozen model the template only loops over; the
histogram is inline SVG whose every coordinate is worked out here, and the near-duplicates page
carries its groups at every position of the threshold slider, grouped here, for
``templates/duplicates.js`` to show as the slider moves (no request: it works from ``file://``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from aevis._utils.keys import error_picture_key
from aevis.draw import colour
from aevis.draw.pixels import save_png
from aevis.gallery import Gallery
from aevis.latent.duplicates import (
    CLOSER,
    OUTLIER_Z,
    RESOLUTION,
    Candidates,
    DuplicateRule,
    Group,
    group_duplicates,
)
from aevis.site import urls
from aevis.site.pages import Link, image_link
from aevis.site.words import isolated
from aevis.store.cache import ResultCache

SHOWN = 12
"""Images shown at each end of the ranking (each half of the set when it has fewer than twice as many)."""
RANKING_LISTED = 1000
"""Images the strangest page lists in its fold-out ranking: every image's rank is in the
manifest, and 100,000 lines made a 6 MB page."""
SLIDER_STEPS = 200
"""Positions of the near-duplicate slider, from the floor to :data:`~aevis.latent.duplicates.RESOLUTION`."""
HISTOGRAM_BINS = 30


def similarity_text(similarity: float) -> str:
    """A similarity with as many decimals as show its distance from 1 to two figures (2 to 6):
    ``0.84``, ``0.99946``, ``1.000000``."""
    distance = max(1.0 - float(similarity), 1e-9)
    decimals = min(6, max(2, math.floor(-math.log10(distance)) + 2))
    return f"{float(similarity):.{decimals}f}"


def similarity_percent(similarity: float) -> str:
    """A similarity as the cards, the map's card and the duplicates page print it: a percentage
    cut toward zero, never rounded up, so only codes within 1 % of the same read 99 % or more;
    from 99 % on, with as many decimals as show the distance from 100 % to one figure (at most
    four), so a near-copy's "99.97 %" is told from a copy's "100 %". ``templates/map-card.js``
    writes them the same way."""
    percent = float(similarity) * 100
    if not math.isfinite(percent):
        return "n/a"
    if percent < 99:
        return f"{math.trunc(percent) + 0:d}%"
    distance = 100 - percent
    if distance < 5e-5:
        return "100%"
    decimals = min(4, max(1, math.floor(-math.log10(distance)) + 1))
    return f"{math.floor(percent * 10**decimals) / 10**decimals:.{decimals}f}%"


# ------------------------------------------------------------------------------ strangest


@dataclass(frozen=True)
class RankedImage:
    """One image in the ranking by reconstruction error."""

    link: Link
    rank: int
    """Its error rank, counted from 1 here (the manifest's ``error_rank`` counts from 0)."""
    error: float | None
    """Mean squared reconstruction error; None where it is not a finite number."""
    error_png: str
    times_median: float | None
    """The error as a multiple of the median image's."""


@dataclass(frozen=True)
class HistogramBar:
    x: float
    y: float
    width: float
    height: float
    count: int
    low: float
    high: float


@dataclass(frozen=True)
class HistogramMarker:
    """A shown image's place on the histogram's error axis."""

    x: float
    strange: bool
    """Among the strangest (else among the most typical)."""
    title: str


@dataclass(frozen=True)
class Histogram:
    """How many images have each reconstruction error, as SVG coordinates in a
    :attr:`width` × :attr:`height` view box."""

    width: int
    height: int
    left: float
    right: float
    baseline: float
    """The y of the error axis; bars stand on it, markers hang below it."""
    top: float
    bars: tuple[HistogramBar, ...]
    ticks: tuple[tuple[float, str], ...]
    """(x, label) along the error axis."""
    markers: tuple[HistogramMarker, ...]
    most: int
    """The tallest bar's count."""
    marker_y: float
    """Where the markers' points touch, just under the axis."""
    label_y: float
    """The baseline of the tick labels."""


@dataclass(frozen=True)
class StrangestPage:
    """The images the network rebuilds worst and best, and how every image's error falls."""

    strangest: tuple[RankedImage, ...]
    typical: tuple[RankedImage, ...]
    """Lowest error first."""
    ranking: tuple[RankedImage, ...]
    """The :data:`RANKING_LISTED` strangest images (every image in a smaller set), highest error first."""
    ranked: int
    """Images in the whole ranking."""
    histogram: Histogram | None
    median: float | None
    unrated: int
    """Images without a finite error (ranked last, not drawn)."""
    trained_here: bool
    """Whether the network learned from these very images (the seed, trained by the build)."""


def _shown_count(count: int) -> int:
    return min(SHOWN, count // 2) if count < 2 * SHOWN else SHOWN


def shown_images(count: int, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(strangest, most typical) image indices shown: :data:`SHOWN` from each end of ``order``
    (highest error first), fewer when the set has under twice as many, so none is shown twice.
    An odd image out of a small set is left to the full ranking."""
    shown = _shown_count(count)
    return order[:shown], order[::-1][:shown] if shown else order[:0]


def _histogram(errors: np.ndarray, strangest: np.ndarray, typical: np.ndarray, names: list[str]) -> Histogram | None:
    finite = errors[np.isfinite(errors)].astype(np.float64)
    if not len(finite):
        return None
    width, height, left, right, top, baseline = 640, 214, 40.0, 624.0, 10.0, 156.0
    low, high = float(finite.min()), float(finite.max())
    if high <= low:
        low, high = low - 0.5 * (abs(low) or 1e-3), high + 0.5 * (abs(high) or 1e-3)
    counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS, range=(low, high))
    span = right - left

    def at(value: float) -> float:
        return round(left + span * (value - low) / (high - low), 2)

    most = int(counts.max())
    bars = []
    for number, count in enumerate(counts):
        tall = round((baseline - top) * count / most, 2)
        start, end = float(edges[number]), float(edges[number + 1])
        bars.append(
            HistogramBar(
                at(start), round(baseline - tall, 2), round(at(end) - at(start), 2), tall, int(count), start, end
            )
        )
    ticks = tuple(
        (at(value), f"{value:.3g}") for value in MaxNLocator(5).tick_values(low, high) if low <= value <= high
    )
    markers = tuple(
        HistogramMarker(
            at(float(errors[index])), strange, f"{isolated(names[index])}: error {float(errors[index]):.4g}"
        )
        for indices, strange in ((strangest, True), (typical, False))
        for index in indices
        if np.isfinite(errors[index])
    )
    return Histogram(
        width,
        height,
        left,
        right,
        baseline,
        top,
        tuple(bars),
        ticks,
        markers,
        most,
        marker_y=baseline + 4,
        label_y=baseline + 36,
    )


def gather_strangest(gallery: Gallery) -> StrangestPage:
    """The strangest-and-most-typical page: the ranking by reconstruction error."""
    errors = gallery.errors
    order, ranks = gallery.error_ranking
    finite = np.isfinite(errors)
    median = float(np.median(errors[finite])) if finite.any() else None

    def ranked(index: int) -> RankedImage:
        value = float(errors[index]) if finite[index] else None
        times = value / median if value is not None and median else None
        return RankedImage(
            image_link(gallery, index), int(ranks[index]) + 1, value, urls.media(gallery.slugs[index], "error"), times
        )

    strangest, typical = shown_images(len(errors), order)
    return StrangestPage(
        strangest=tuple(ranked(index) for index in strangest),
        typical=tuple(ranked(index) for index in typical),
        ranking=tuple(ranked(index) for index in order[:RANKING_LISTED]),
        ranked=len(order),
        histogram=_histogram(errors, strangest, typical, gallery.imageset.names),
        median=median,
        unrated=int((~finite).sum()),
        trained_here=gallery.model_info.losses is not None,
    )


def write_pictures(
    gallery: Gallery, site: Path, cache: ResultCache, error_maps: Callable[[np.ndarray], np.ndarray]
) -> None:
    """The error pictures of the images the strangest page shows that have no page (a paged
    image's is drawn with its page, under the same key and path). ``error_maps(rows)`` gives
    images' reconstruction error maps (:meth:`aevis.store.results.Results.error_maps`)."""
    order, _ = gallery.error_ranking
    top = gallery.error_top
    shown = [index for index in np.concatenate(shown_images(len(order), order)) if not gallery.with_page[index]]
    keys = [error_picture_key(gallery.model_key, gallery.image_keys[index], top) for index in shown]
    missing = [index for index, key in zip(shown, keys) if not cache.has_picture(key, ".png")]
    maps = dict(zip(missing, error_maps(np.array(missing, np.int64)))) if missing else {}
    for index, key in zip(shown, keys):
        target = site / urls.media(gallery.slugs[index], "error")
        target.parent.mkdir(parents=True, exist_ok=True)
        cache.picture(key, target, lambda path, index=index: save_png(colour.colourise(maps[index], 0.0, top), path))


# ------------------------------------------------------------------------------ near-duplicates


@dataclass(frozen=True)
class GroupMember:
    link: Link
    closest: str
    """Its highest similarity to another member, as text."""


@dataclass(frozen=True)
class DuplicateGroup:
    members: tuple[GroupMember, ...]
    lowest: str
    highest: str


@dataclass(frozen=True)
class DuplicatesPage:
    """Groups of near-duplicates at the set's own threshold, and the slider that moves it."""

    rule: DuplicateRule
    threshold: str
    typical: str
    floor: str
    closer: float
    """A pair at the threshold is this many times closer than the typical nearest neighbour."""
    groups: tuple[DuplicateGroup, ...]
    grouped: int
    """Images in some group."""
    k: int
    """Neighbours per image the candidates come from."""
    adjustable: bool
    """Whether the slider has a range (the floor is below the threshold)."""
    position: int
    """The slider's position at the threshold, out of :attr:`steps`."""
    steps: int
    outlier_z: float
    closer_rule: float
    """The rule's two numbers (:data:`~aevis.latent.duplicates.OUTLIER_Z`, :data:`~aevis.latent.duplicates.CLOSER`)."""
    data: dict
    """What ``duplicates.js`` shows as the slider moves: ``images`` ([name, thumbnail, page or
    null] of each image in a candidate pair), ``thresholds`` (the similarity at each slider
    position, as text) and :func:`slider_groupings`'s ``groups``, ``closest`` and ``changes``
    (members are indices into ``images``)."""


def _page_group(gallery: Gallery, group: Group) -> DuplicateGroup:
    return DuplicateGroup(
        tuple(
            GroupMember(image_link(gallery, member), similarity_text(closest))
            for member, closest in zip(group.members, group.closest)
        ),
        similarity_text(group.lowest),
        similarity_text(group.highest),
    )


def _slider_ends(rule: DuplicateRule) -> tuple[float, float]:
    """log(1 − similarity) at slider positions 0 (the floor) and the last (:data:`RESOLUTION`)."""
    return math.log(max(1 - rule.floor, RESOLUTION)), math.log(RESOLUTION)


def slider_threshold(rule: DuplicateRule, position: int, steps: int = SLIDER_STEPS) -> float:
    """The similarity the slider asks for at ``position``: position 0 is the floor, ``steps``
    asks for :data:`~aevis.latent.duplicates.RESOLUTION`, evenly on the log of 1 − similarity."""
    loose, strict = _slider_ends(rule)
    return 1 - math.exp(loose + (strict - loose) * position / steps)


def slider_position(rule: DuplicateRule, steps: int = SLIDER_STEPS) -> int:
    """Where the threshold sits on the slider (the nearest position of :func:`slider_threshold`)."""
    loose, strict = _slider_ends(rule)
    if loose <= strict:
        return steps
    return round(steps * (loose - math.log(max(1 - rule.similarity, RESOLUTION))) / (loose - strict))


def slider_groupings(candidates: Candidates, thresholds: list[float]) -> dict:
    """What ``duplicates.js`` shows at each slider position, grouped here so the grouping is
    written once (:func:`~aevis.latent.duplicates.group_duplicates` at each of ``thresholds``).
    ``candidates`` number their images 0 to n − 1. Returns

    * ``groups``: every group met at some position, ``[members, lowest, highest]`` (similarities
      as text), in the order the page lists them: a group's place depends on the group alone
      (most similar pair, then size, then first member), so each position's groups, in this
      order, are listed as :func:`group_duplicates` lists them;
    * ``closest``: each image's highest similarity in a pair, as text (at any position where
      the image is in a group, that pair is in it);
    * ``changes``: at each position, ``[groups added, groups removed]`` since the previous one
      (the first from none), so the page carries each group once however many positions show it.
    """
    count = int(candidates.pairs.max()) + 1 if len(candidates.pairs) else 0
    similarities = candidates.similarities.astype(np.float64)
    closest = np.full(count, -np.inf)
    np.maximum.at(closest, candidates.pairs[:, 0], similarities)
    np.maximum.at(closest, candidates.pairs[:, 1], similarities)
    found: dict[int, list[tuple]] = {}  # passing pairs -> its groups
    shown = []
    for threshold in thresholds:
        passing = int(np.count_nonzero(similarities >= threshold))
        if passing not in found:
            found[passing] = [
                (group.members, group.lowest, group.highest) for group in group_duplicates(count, candidates, threshold)
            ]
        shown.append(found[passing])
    unique = sorted(
        {group for groups in found.values() for group in groups},
        key=lambda group: (-group[2], -len(group[0]), group[0], group[1]),
    )
    number = {group: index for index, group in enumerate(unique)}
    changes, before = [], set()
    for groups in shown:
        now = {number[group] for group in groups}
        changes.append([sorted(now - before), sorted(before - now)])
        before = now
    return {
        "groups": [
            [list(members), similarity_text(lowest), similarity_text(highest)] for members, lowest, highest in unique
        ],
        "closest": [similarity_text(value) if np.isfinite(value) else None for value in closest],
        "changes": changes,
    }


def gather_duplicates(gallery: Gallery) -> DuplicatesPage:
    """The near-duplicates page, from :attr:`aevis.gallery.Gallery.duplicates`."""
    duplicates = gallery.duplicates
    rule, candidates = duplicates.rule, duplicates.candidates
    involved = np.unique(candidates.pairs)
    place = {int(index): number for number, index in enumerate(involved)}
    images = []
    for index in involved:
        link = image_link(gallery, int(index))
        images.append([link.name, link.thumbnail, link.href])
    placed = Candidates(
        np.vectorize(place.__getitem__, otypes=[np.int64])(candidates.pairs).reshape(-1, 2), candidates.similarities
    )
    thresholds = [slider_threshold(rule, position) for position in range(SLIDER_STEPS + 1)]
    data = {
        "images": images,
        "thresholds": [similarity_text(threshold) for threshold in thresholds],
        **slider_groupings(placed, thresholds),
    }
    groups = tuple(_page_group(gallery, group) for group in duplicates.groups)
    return DuplicatesPage(
        rule=rule,
        threshold=similarity_text(rule.similarity),
        typical=similarity_text(rule.typical),
        floor=similarity_text(rule.floor),
        closer=rule.closer,
        groups=groups,
        grouped=sum(len(group.members) for group in groups),
        k=int(gallery.neighbour_indices.shape[1]) if gallery.neighbour_indices.ndim == 2 else 0,
        adjustable=rule.floor < rule.similarity,
        position=slider_position(rule),
        steps=SLIDER_STEPS,
        outlier_z=OUTLIER_Z,
        closer_rule=CLOSER,
        data=data,
    )
