"""The interactive map's data: every image's place, colours and neighbours, written next to the
page as a script so it works from ``file://`` (no fetch, no network).

:func:`gather_map_data` collects what the build computed (the k-means clusters included);
:func:`write_map_script` writes the data script (:data:`aevis.site.urls.MAP_DATA`,
``window.AEVIS_MAP = {...};``). ``templates/map.html`` and ``templates/map.js`` draw it on one
canvas from the thumbnail sprite sheets (:func:`aevis.site.pictures.write_sprite_sheets`).

Each "colour by" choice carries its legend's words (:func:`colourings`): reconstruction error,
local density in code space and map trust (:mod:`aevis.latent.trust`), the k-means cluster and
the label. Each image carries its ``source`` too, for the CSV of a selection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aevis.draw import colour
from aevis.draw.sheets import SHEET_MAX, SPRITE_CELL, sprite_layout
from aevis.latent.quality import QUALITY_K
from aevis.site import aims, urls


@dataclass(frozen=True)
class MapQuality:
    """The map-quality figures shown on the map page (see :func:`aevis.latent.quality.map_quality`)."""

    k: int
    trustworthiness: float | None
    trust_sample: int
    label_agreement_codes: float | None
    label_agreement_map: float | None
    label_agreement_chance: float | None
    label_agreement_pixels: float | None
    label_agreement_codes_sampled: float | None

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
    """float32 (N, 2) t-SNE (x, y) in [0, 1], y downwards."""
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
    sheet_columns: int
    sprite_sheets: tuple[str, ...]
    """Sprite-sheet paths relative to the site root; thumbnail i is number i % per_sheet of sheet i // per_sheet."""
    mosaic: str | None = None
    """The mosaic PNG relative to the site root, linked from the page; None links none."""
    preview: str = urls.THUMBNAIL_PATTERN
    """Full-size picture of an image, ``{slug}`` left to fill in, shown when zoomed in and on hover."""
    script: str = urls.MAP_DATA
    sprite_cell: int = SPRITE_CELL

    @property
    def count(self) -> int:
        return len(self.names)

    @property
    def per_sheet(self) -> int:
        return self.sheet_columns * SHEET_MAX


def gather_map_data(names, slugs, hrefs, positions, clusters, errors, neighbours, labels=None,
                    quality: dict | None = None, mosaic: str | None = urls.MOSAIC,
                    preview: str = urls.THUMBNAIL_PATTERN, sources=None, map_trust=None,
                    density=None) -> MapData:
    """Collect the map's data.

    Args:
        names, slugs: N image names and slugs, manifest order.
        hrefs: N page paths relative to the site root (:func:`aevis.site.urls.image_page`) or None.
        positions: float32 (N, 2) map positions in [0, 1].
        clusters: int (N,) each image's cluster, numbered from 0
            (:func:`aevis.latent.clusters.kmeans_clusters`).
        errors: float (N,) per-image reconstruction error (e.g. the mean of its error map).
        neighbours: int (N, k) nearest-neighbour indices.
        labels: N labels or None.
        quality: the dict of :func:`aevis.latent.quality.map_quality`, or None to show none.
        mosaic: the mosaic PNG the page links to (the build writes it), or None.
        preview: pattern of each image's full-size picture, ``{slug}`` replaced.
        sources: N source paths (default: the names).
        map_trust: float (N,) :func:`aevis.latent.trust.map_trust`, or None: no such colouring.
        density: float (N,) :func:`aevis.latent.trust.local_density`, or None: no such colouring.
    """
    count = len(names)
    sources = names if sources is None else sources
    optional = [values for values in (labels, map_trust, density) if values is not None]
    lengths = {len(slugs), len(hrefs), len(positions), len(clusters), len(errors), len(neighbours), len(sources),
               *(len(values) for values in optional)}
    if lengths != {count}:
        raise ValueError(f"Expected {count} entries in every map input, got lengths {sorted(lengths)}.")
    cluster_ids = np.asarray(clusters, np.int64).reshape(count)
    cluster_count = int(cluster_ids.max()) + 1 if count else 0
    k = quality["k"] if quality else QUALITY_K
    columns, sheets = sprite_layout(count)
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
        quality=MapQuality(**{field: quality[field] for field in MapQuality.__dataclass_fields__}) if quality else None,
        colourings=colourings(labels is not None, cluster_count, density is not None, map_trust is not None, k),
        sheet_columns=columns,
        sprite_sheets=tuple(urls.sprite_sheet(number) for number in range(sheets)),
        mosaic=mosaic,
        preview=preview,
    )


def colourings(labelled: bool, cluster_count: int, with_density: bool, with_trust: bool,
               k: int = QUALITY_K) -> tuple[Colouring, ...]:
    """The "colour by" menu, each choice with the words of its legend."""
    chosen = [Colouring("none", "nothing (plain thumbnails)", "Every image is drawn as it is, without a coloured frame.")]
    if labelled:
        chosen.append(Colouring(
            "label", "label",
            "The frame's colour is the image's label. The network never saw the labels: where one colour "
            "gathers in one place, its codes sort the images the way the labels do."))
    chosen.append(Colouring(
        "cluster", f"k-means cluster of the codes (k = {cluster_count})",
        f"The frame's colour is the group the images fall into when their codes are split into {cluster_count} "
        "groups of alike codes (k-means). The groups are the network's own, not named by anyone; their "
        "numbers only tell them apart."))
    chosen.append(Colouring(
        "error", "reconstruction error",
        "How well the network rebuilds each image from its code: dark frames were rebuilt almost exactly, "
        "bright ones badly — often pictures unlike most of the others.",
        colour.error_ramp(), "rebuilt well", "rebuilt badly"))
    if with_density:
        chosen.append(Colouring(
            "density", "local density (in code space)",
            f"How crowded each image's corner of code space is: bright frames have {k} images with very alike codes "
            "around them (a common kind of picture); dark ones are loners, unlike even their closest images. "
            "Colours go by rank, so the brightest tenth are the most crowded tenth.",
            _ramp(DENSITY_COLOURMAP), "loners", "crowded"))
    if with_trust:
        chosen.append(Colouring(
            "trust", "map trust",
            f"How far to trust each image's place: the share of its {k} most similar images (by code) that also "
            f"sit among its {k} nearest on the map. Bright: the images around it on the map are its real "
            "neighbours; dark: the map put it among strangers, so read little into what is next to it.",
            _ramp(TRUST_COLOURMAP), f"none of {k} kept", f"all {k} kept"))
    return tuple(chosen)


def _ramp(colourmap: str, steps: int = 9) -> tuple[str, ...]:
    values = colour.colourise(np.linspace(0, 1, steps, dtype=np.float32)[None, :], 0.0, 1.0, colourmap)[0]
    return tuple(colour.hex_colour(value) for value in values)


def map_payload(data: MapData) -> dict:
    """The JSON object assigned to ``window.AEVIS_MAP``: settings, colours and one row per image."""
    label_names = sorted(set(data.labels)) if data.labels is not None else []
    palette = colour.palette(len(label_names))
    low, high = float(data.errors.min()), float(np.percentile(data.errors, 99))
    points = []
    for index in range(data.count):
        points.append({
            "name": data.names[index],
            "slug": data.slugs[index],
            "href": data.hrefs[index],
            "x": round(float(data.positions[index, 0]), 5),
            "y": round(float(data.positions[index, 1]), 5),
            "source": data.sources[index],
            "label": data.labels[index] if data.labels is not None else None,
            "cluster": int(data.clusters[index]),
            "error": float(f"{float(data.errors[index]):.4g}"),
            "trust": _rounded(data.map_trust, index, 3),
            "density": _rounded(data.density, index, 4),
            "neighbours": [int(other) for other in data.neighbours[index]],
            "sprite": index,
        })
    return {
        "version": 1,
        "count": data.count,
        "cell": data.sprite_cell,
        "sheetColumns": data.sheet_columns,
        "perSheet": data.per_sheet,
        "sheets": list(data.sprite_sheets),
        "preview": data.preview,
        "labels": label_names,
        "labelColours": [palette[number % len(palette)] for number in range(len(label_names))],
        "clusterColours": colour.palette(data.cluster_count),
        "errorRange": [low, high if high > low else low + 1e-9],
        "errorRamp": colour.error_ramp(),
        "colourings": [
            {"key": item.key, "title": item.title, "words": item.words, "ramp": list(item.ramp),
             "low": item.low, "high": item.high}
            for item in data.colourings
        ],
        "points": points,
    }


def _rounded(values: np.ndarray | None, index: int, digits: int) -> float | None:
    """``values[index]`` to ``digits`` significant digits for JSON; None when absent or NaN."""
    if values is None or not np.isfinite(values[index]):
        return None
    return float(f"{float(values[index]):.{digits}g}")


def write_map_script(site: Path, data: MapData) -> Path:
    """Write the map's data script under ``site``; return its path. (The sprite sheets it
    points to are pictures: :func:`aevis.site.pictures.write_sprite_sheets`.)"""
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
