"""The interactive map's data: every image's place, colours and neighbours, written next to the
page as a script so it works from ``file://`` (no fetch, no network).

:func:`gather_map_data` collects what the build computed (the k-means clusters included);
:func:`write_map_script` writes the data script (:data:`aevis.site.urls.MAP_DATA`,
``window.AEVIS_MAP = {...};``). ``templates/map.html`` and ``templates/map.js`` draw it with
WebGL (or a 2D canvas) from the sprite scripts of :mod:`aevis.site.map_sprites`.

The data is columnar, so 100,000 images stay a few bytes each: numbers travel as base64 of
little-endian typed arrays (positions as 16-bit steps of the unit square, neighbours as int32,
labels and clusters as uint16 indices, errors and figures as float32, NaN where unmeasured),
names and slugs as string arrays, sources as a few folders and each image's folder (or in
full where they are not its folder and its name), and which images have a page as a bitset. The
sprite plan (which image is in which sheet, each sheet's box on the map) rides along.
:func:`map_columns` decodes it all again in Python, for tests and scripts.

Each "colour by" choice carries its legend's words (:func:`colourings`): reconstruction error,
local density in code space and map trust (:mod:`aevis.latent.trust`), the k-means cluster and
the label. Each image carries its ``source`` too, for the CSV of a selection.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from aevis.draw import colour
from aevis.latent.quality import QUALITY_K, MapQuality
from aevis.site import aims, map_sprites, urls
from aevis.site.map_sprites import SpritePlan


@dataclass(frozen=True)
class JudgedMapQuality(MapQuality):
    """The map-quality figures (:class:`aevis.latent.quality.MapQuality`) as the map page
    shows them: with the page's verdicts, by the aims of :mod:`aevis.site.aims`."""

    @property
    def trustworthy(self) -> bool | None:
        """Whether the map meets its aim (:data:`aevis.site.aims.TRUSTWORTHINESS`); None unmeasured."""
        return None if self.trustworthiness is None else self.trustworthiness >= aims.TRUSTWORTHINESS

    @property
    def against_pixels(self) -> str | None:
        """How the codes' label agreement compares with the raw pixels' on the same images:
        'more', 'as' (within :data:`aevis.site.aims.BEYOND_PIXELS`) or 'less'; None unmeasured."""
        if self.label_agreement_pixels is None or self.label_agreement_codes_sampled is None:
            return None
        difference = self.label_agreement_codes_sampled - self.label_agreement_pixels
        return "as" if abs(difference) < aims.BEYOND_PIXELS else ("more" if difference > 0 else "less")


@dataclass(frozen=True)
class Colouring:
    """One choice of the map's "colour by" menu, with its legend's words.

    A colouring with a ``ramp`` colours by a number (the ramp's ends worded by ``low`` and
    ``high``); one without colours by group (a swatch per label or cluster) or not at all.
    """

    key: str
    title: str
    words: str
    """One or two plain sentences under the map: what the colours mean, bright and dark."""
    ramp: tuple[str, ...] = ()
    """``#rrggbb`` colours, low to high, evenly spaced."""
    low: str = ""
    high: str = ""


VERSION = 2
"""The layout of ``map-data.js``; the map page carries it too (``data-version``), and its script
refuses a data file of another layout (one left from an older build) instead of misreading it."""
MARKS = {"selected": "#d6336c", "neighbour": "#2f6db5", "found": "#ff9500", "current": "#ff3b30"}
"""The map's marks: the selection (its outline, and the ring every renderer draws around a
selected image), the hovered image and lines to its most similar ones, the images Find found,
and the one Find shows."""
DENSITY_COLOURMAP = "viridis"
TRUST_COLOURMAP = "cividis"


@dataclass(frozen=True, eq=False)
class MapData:
    """Everything the map page and its data file hold, in manifest order."""

    names: tuple[str, ...]
    slugs: tuple[str, ...]
    hrefs: tuple[str | None, ...]
    """Page of each image relative to the site root, or None for an image without one."""
    positions: np.ndarray
    """float32 (N, 2) map (x, y) in [0, 1], y downwards: t-SNE, or a small code itself (:attr:`kind`)."""
    labels: tuple[str, ...] | None
    clusters: np.ndarray
    """int (N,): k-means cluster of each code (cosine geometry: codes scaled to unit length)."""
    cluster_count: int
    errors: np.ndarray
    """float32 (N,): mean squared reconstruction error of each image."""
    neighbours: np.ndarray
    """int (N, k): indices of each image's nearest neighbours in code space."""
    sources: tuple[str, ...]
    """Where each image came from (its path in the image folder), for the selection's CSV."""
    map_trust: np.ndarray | None
    """float32 (N,): share of each image's nearest codes that are its map neighbours
    (:func:`aevis.latent.trust.map_trust`); None when not measured."""
    density: np.ndarray | None
    """float32 (N,): local density in code space (:func:`aevis.latent.trust.local_density`); None when not measured."""
    quality: MapQuality | None
    colourings: tuple[Colouring, ...]
    sprites: SpritePlan
    """Which image is in which sprite sheet, and each sheet's box on the map."""
    mosaic: str | None = None
    """The mosaic PNG relative to the site root, linked from the page; None links none."""
    preview: str = urls.THUMBNAIL_PATTERN
    """Full-size picture of an image, ``{slug}`` left to fill in, shown on hover."""
    pictured: np.ndarray | None = None
    """bool (N,): which images have that picture (:func:`aevis.site.thumbnails.pictured`); None: all.
    The others show their sprite tile instead."""
    script: str = urls.MAP_DATA
    kind: str = "tsne"
    """How the positions were drawn (:func:`aevis.latent.map.map_kind`): by t-SNE, or a small code itself."""
    code_size: int = 0
    """Numbers per code, which the page's words name."""
    similarities: np.ndarray | None = None
    """float32 (N, k): the similarity of each image to each of its :attr:`neighbours`
    (:mod:`aevis.latent.neighbours`), shown on the card; None shows none."""

    @property
    def count(self) -> int:
        return len(self.names)


def gather_map_data(
    names,
    slugs,
    hrefs,
    positions,
    clusters,
    errors,
    neighbours,
    labels=None,
    quality: dict | None = None,
    mosaic: str | None = urls.MOSAIC,
    preview: str = urls.THUMBNAIL_PATTERN,
    pictured=None,
    sources=None,
    map_trust=None,
    density=None,
) -> MapData:
    """Collect the map's data.

    Args:
        names, slugs: N image names and slugs, manifest order.
        hrefs: N page paths relative to the site root (:func:`aevis.site.urls.image_page` of the
            slug: any other is refused) or None.
        positions: float32 (N, 2) map positions in [0, 1].
        clusters: int (N,) each image's cluster, numbered from 0
            (:func:`aevis.latent.clusters.kmeans_clusters`).
        errors: float (N,) per-image reconstruction error (e.g. the mean of its error map).
        neighbours: int (N, k) nearest-neighbour indices.
        labels: N labels or None.
        quality: the figures of :func:`aevis.latent.quality.map_quality`, or None to show none.
        mosaic: the mosaic PNG the page links to (the build writes it), or None.
        preview: pattern of each image's full-size picture, ``{slug}`` replaced.
        pictured: bool (N,), which images have one (None: every image).
        sources: N source paths (default: the names).
        map_trust: float (N,) :func:`aevis.latent.trust.map_trust`, or None: no such colouring.
        density: float (N,) :func:`aevis.latent.trust.local_density`, or None: no such colouring.
    """
    count = len(names)
    sources = names if sources is None else sources
    optional = [values for values in (labels, map_trust, density) if values is not None]
    lengths = {
        len(slugs),
        len(hrefs),
        len(positions),
        len(clusters),
        len(errors),
        len(neighbours),
        len(sources),
        *(len(values) for values in optional),
    }
    if lengths != {count}:
        raise ValueError(f"Expected {count} entries in every map input, got lengths {sorted(lengths)}.")
    cluster_ids = np.asarray(clusters, np.int64).reshape(count)
    cluster_count = int(cluster_ids.max()) + 1 if count else 0
    k = quality.k if quality else QUALITY_K
    strays = [
        (slug, href) for slug, href in zip(slugs, hrefs) if href is not None and href != urls.image_page(str(slug))
    ]
    if strays:
        raise ValueError(
            f"Expected each page at {urls.image_page('<slug>')} (the map stores only which images have "
            f"one), got {strays[0][1]!r} for slug {strays[0][0]!r}."
        )
    return MapData(
        names=tuple(str(name) for name in names),
        slugs=tuple(str(slug) for slug in slugs),
        hrefs=tuple(hrefs),
        positions=np.asarray(positions, np.float32),
        labels=tuple(str(label) for label in labels) if labels is not None else None,
        clusters=cluster_ids,
        cluster_count=cluster_count,
        errors=np.asarray(errors, np.float32).reshape(count),
        neighbours=np.asarray(neighbours, np.int64).reshape(count, -1),
        sources=tuple(str(source) for source in sources),
        map_trust=None if map_trust is None else np.asarray(map_trust, np.float32).reshape(count),
        density=None if density is None else np.asarray(density, np.float32).reshape(count),
        quality=JudgedMapQuality(**asdict(quality)) if quality else None,
        colourings=colourings(labels is not None, cluster_count, density is not None, map_trust is not None, k),
        sprites=map_sprites.sprite_plan(positions),
        mosaic=mosaic,
        preview=preview,
        pictured=None if pictured is None else np.asarray(pictured, bool).reshape(count),
    )


def colourings(
    labelled: bool, cluster_count: int, with_density: bool, with_trust: bool, k: int = QUALITY_K
) -> tuple[Colouring, ...]:
    """The "colour by" menu, each choice with the words of its legend."""
    chosen = [
        Colouring("none", "nothing (plain thumbnails)", "Every image is drawn as it is, without a coloured frame.")
    ]
    if labelled:
        chosen.append(
            Colouring(
                "label",
                "label",
                "The frame's colour is the image's label. The network never saw the labels: where one colour "
                "gathers in one place, its codes sort the images the way the labels do.",
            )
        )
    chosen.append(
        Colouring(
            "cluster",
            f"k-means cluster of the codes (k = {cluster_count})",
            f"The frame's colour is the group the images fall into when their codes are split into {cluster_count} "
            "groups of alike codes (k-means). The groups are the network's own, not named by anyone; their "
            "numbers only tell them apart.",
        )
    )
    chosen.append(
        Colouring(
            "error",
            "reconstruction error",
            "How well the network rebuilds each image from its code: dark frames were rebuilt almost exactly, "
            "bright ones badly — often pictures unlike most of the others.",
            colour.error_ramp(),
            "rebuilt well",
            "rebuilt badly",
        )
    )
    if with_density:
        chosen.append(
            Colouring(
                "density",
                "local density (in code space)",
                f"How crowded each image's corner of code space is: bright frames have {k} images with very alike codes "
                "around them (a common kind of picture); dark ones are loners, unlike even their closest images. "
                "Colours go by rank, so the brightest tenth are the most crowded tenth.",
                _ramp(DENSITY_COLOURMAP),
                "loners",
                "crowded",
            )
        )
    if with_trust:
        chosen.append(
            Colouring(
                "trust",
                "map trust",
                f"How far to trust each image's place: the share of its {k} most similar images (by code) that also "
                f"sit among its {k} nearest on the map. Bright: the images around it on the map are its real "
                "neighbours; dark: the map put it among strangers, so read little into what is next to it.",
                _ramp(TRUST_COLOURMAP),
                f"none of {k} kept",
                f"all {k} kept",
            )
        )
    return tuple(chosen)


def _ramp(colourmap: str, steps: int = 9) -> tuple[str, ...]:
    values = colour.colourise(np.linspace(0, 1, steps, dtype=np.float32)[None, :], 0.0, 1.0, colourmap)[0]
    return tuple(colour.hex_colour(value) for value in values)


def map_payload(data: MapData) -> dict:
    """The JSON object assigned to ``window.AEVIS_MAP``: settings, colours, and a column per
    figure (see the module's words; :func:`map_columns` reads it back)."""
    label_names = sorted(set(data.labels)) if data.labels is not None else []
    palette = colour.palette(len(label_names))
    measured = data.errors[np.isfinite(data.errors)]
    low, high = (float(measured.min()), float(np.percentile(measured, 99))) if measured.size else (0.0, 1.0)
    plan = data.sprites
    label_number = {label: number for number, label in enumerate(label_names)}
    pages = np.packbits(np.array([href is not None for href in data.hrefs], bool), bitorder="little")
    return {
        "version": VERSION,
        "marks": MARKS,
        "count": data.count,
        "positionSteps": map_sprites.POSITION_STEPS,
        "positions": _base64(map_sprites.quantised_positions(data.positions), "<u2"),
        "names": list(data.names),
        "slugs": list(data.slugs),
        **_sources(data.sources, data.names),
        "pages": _base64(pages, "u1"),
        "pagePattern": urls.image_page("{slug}"),
        "preview": data.preview,
        "pictured": None if data.pictured is None else _base64(np.packbits(data.pictured, bitorder="little"), "u1"),
        "labels": label_names,
        "labelOf": None if data.labels is None else _base64([label_number[label] for label in data.labels], "<u2"),
        "clusterOf": _base64(data.clusters, "<u2"),
        "errors": _base64(data.errors, "<f4"),
        "trust": None if data.map_trust is None else _base64(data.map_trust, "<f4"),
        "density": None if data.density is None else _base64(data.density, "<f4"),
        "k": int(data.neighbours.shape[1]),
        "neighbours": _base64(data.neighbours, "<i4"),
        "similarities": None if data.similarities is None else _base64(data.similarities, "<f4"),
        "sprites": {
            "group": map_sprites.GROUP,
            "order": _base64(plan.order, "<i4"),
            "boxes": _base64(plan.boxes, "<u2"),
            "colours": urls.MAP_COLOURS,
            "small": {
                "cell": map_sprites.SMALL_CELL,
                "columns": map_sprites.SMALL_COLUMNS,
                "perAtlas": map_sprites.PER_ATLAS,
                "rows": [plan.atlas_rows(number) for number in range(plan.atlases)],
                "scripts": [urls.sprite_atlas(number) for number in range(plan.atlases)],
            },
            "sharp": {
                "columns": map_sprites.SHARP_COLUMNS,
                "count": plan.groups,
                "pattern": urls.sprite_sheet("{number}"),
            },
        },
        "labelColours": [palette[number % len(palette)] for number in range(len(label_names))],
        "clusterColours": colour.palette(data.cluster_count),
        "errorRange": [low, high if high > low else low + 1e-9],
        "errorRamp": colour.error_ramp(),
        "colourings": [
            {
                "key": item.key,
                "title": item.title,
                "words": item.words,
                "ramp": list(item.ramp),
                "low": item.low,
                "high": item.high,
            }
            for item in data.colourings
        ],
    }


def _sources(sources: tuple[str, ...], names: tuple[str, ...]) -> dict:
    """Where the images came from, short: ``sourceFolders`` and ``sourceFolderOf`` (uint16) when
    every source is one of a few folders followed by the image's name (the usual case, and a
    tenth of the bytes), else ``sources`` in full."""
    folders: dict[str, int] = {}
    numbers = []
    for source, name in zip(sources, names):
        if not source.endswith(name) or len(folders) > 4096:
            return {"sources": list(sources), "sourceFolders": None, "sourceFolderOf": None}
        numbers.append(folders.setdefault(source[: len(source) - len(name)], len(folders)))
    return {"sources": None, "sourceFolders": list(folders), "sourceFolderOf": _base64(numbers, "<u2")}


def _base64(values, dtype: str) -> str:
    """Values as base64 of one typed array (``dtype`` a little-endian numpy type, as JavaScript reads it)."""
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def _decoded(text: str | None, dtype: str) -> np.ndarray | None:
    return None if text is None else np.frombuffer(base64.b64decode(text), dtype=dtype)


def map_columns(payload: dict) -> dict:
    """A map data object (:func:`read_map_script`) decoded as the page decodes it: ``names``,
    ``slugs``, ``sources``, ``hrefs`` (None where no page), ``labels`` (None, or one per image),
    ``quantised`` uint16 (N, 2), ``positions`` float (N, 2), ``clusters``, ``errors``, ``trust``,
    ``density`` (None when absent), ``neighbours`` int32 (N, k), ``similarities`` float32
    (N, k) or None, ``order`` and ``boxes`` (the
    sprite plan: :class:`aevis.site.map_sprites.SpritePlan`)."""
    count = payload["count"]
    quantised = _decoded(payload["positions"], "<u2").reshape(count, 2)
    pages = np.unpackbits(_decoded(payload["pages"], "u1"), count=count, bitorder="little").astype(bool)
    label_of = _decoded(payload["labelOf"], "<u2")
    sprites = payload["sprites"]
    return {
        "names": payload["names"],
        "slugs": payload["slugs"],
        "sources": payload["sources"]
        if payload["sources"] is not None
        else [
            payload["sourceFolders"][folder] + name
            for folder, name in zip(_decoded(payload["sourceFolderOf"], "<u2"), payload["names"])
        ],
        "hrefs": [
            payload["pagePattern"].replace("{slug}", slug) if page else None
            for slug, page in zip(payload["slugs"], pages)
        ],
        "pictured": None
        if payload["pictured"] is None
        else np.unpackbits(_decoded(payload["pictured"], "u1"), count=count, bitorder="little").astype(bool),
        "labels": None if label_of is None else [payload["labels"][number] for number in label_of],
        "quantised": quantised,
        "positions": quantised / payload["positionSteps"],
        "clusters": _decoded(payload["clusterOf"], "<u2"),
        "errors": _decoded(payload["errors"], "<f4"),
        "trust": _decoded(payload["trust"], "<f4"),
        "density": _decoded(payload["density"], "<f4"),
        "neighbours": _decoded(payload["neighbours"], "<i4").reshape(count, payload["k"]),
        "similarities": None
        if payload.get("similarities") is None
        else _decoded(payload["similarities"], "<f4").reshape(count, payload["k"]),
        "order": _decoded(sprites["order"], "<i4"),
        "boxes": _decoded(sprites["boxes"], "<u2").reshape(-1, 4),
    }


def write_map_script(site: Path, data: MapData) -> Path:
    """Write the map's data script under ``site``; return its path. (The sprite scripts it
    points to are pictures: :func:`aevis.site.map_sprites.write_map_sprites`.)"""
    script = Path(site) / data.script
    script.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(map_payload(data), separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    script.write_text(f"window.AEVIS_MAP = {text};\n", encoding="utf-8")
    return script


def read_map_script(path: Path) -> dict:
    """The object a ``map-data.js`` file assigns (for tests and scripts)."""
    text = Path(path).read_text(encoding="utf-8").strip()
    prefix = "window.AEVIS_MAP = "
    if not text.startswith(prefix) or not text.endswith(";"):
        raise ValueError(f"Expected {path} to hold one 'window.AEVIS_MAP = {{...}};' assignment.")
    return json.loads(text[len(prefix) : -1])
