"""The interactive map's data: every image's place, colours and neighbours, plus thumbnail
sprite sheets, written next to the page so it works from ``file://`` (no fetch, no network).

:func:`gather_map_data` computes (k-means clusters included); :func:`write_map_assets` writes
``assets/map-data.js`` (``window.AEVIS_MAP = {...};``) and ``media/sprites-<k>.png``;
``templates/map.html`` and ``templates/map.js`` draw them on one canvas.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image

from aevis.draw import render
from aevis.latent.clusters import kmeans_clusters

MAP_SCRIPT = "assets/map-data.js"
"""The data file, relative to the site root."""
SPRITE_CELL = 32
"""Side of one thumbnail in a sprite sheet, in pixels."""
SHEET_MAX = 64
"""Most thumbnails per row and per column of one sheet (64 × 32 = 2,048 pixels)."""
CLUSTERS = 8
"""k of the k-means colouring (fewer for sets with fewer images)."""
PREVIEW_PATTERN = "media/{slug}/input.png"
"""Full-size picture of an image, relative to the site root, shown when zoomed in and on hover."""
_LABEL_COLOURS = "tab10"
_MANY_LABEL_COLOURS = "tab20"


@dataclass(frozen=True)
class MapQuality:
    """The map-quality figures shown on the map page (see :func:`aevis.latent.quality.map_quality`)."""

    k: int
    trustworthiness: float | None
    trust_sample: int
    label_agreement_codes: float | None
    label_agreement_map: float | None
    label_agreement_chance: float | None


@dataclass(frozen=True)
class Colouring:
    """One choice of the map's "colour by" menu."""

    key: str
    title: str


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
    quality: MapQuality | None
    colourings: tuple[Colouring, ...]
    sheet_columns: int
    sprite_sheets: tuple[str, ...]
    """Sprite-sheet paths relative to the site root; thumbnail i is number i % per_sheet of sheet i // per_sheet."""
    mosaic: str | None = None
    """The mosaic PNG relative to the site root, linked from the page; None links none."""
    preview: str = PREVIEW_PATTERN
    script: str = MAP_SCRIPT
    sprite_cell: int = SPRITE_CELL

    @property
    def count(self) -> int:
        return len(self.names)

    @property
    def per_sheet(self) -> int:
        return self.sheet_columns * SHEET_MAX


def sprite_layout(count: int) -> tuple[int, int]:
    """(columns per sheet, number of sheets) for ``count`` thumbnails."""
    columns = int(min(SHEET_MAX, max(1, math.ceil(math.sqrt(count)))))
    return columns, max(1, math.ceil(count / (columns * SHEET_MAX)))


def gather_map_data(names, slugs, hrefs, positions, codes, errors, neighbours, labels=None,
                    quality: dict | None = None, seed: int = 0, clusters: int = CLUSTERS,
                    mosaic: str | None = "mosaic.png", preview: str = PREVIEW_PATTERN) -> MapData:
    """Collect the map's data and cluster the codes.

    Args:
        names, slugs: N image names and slugs, manifest order.
        hrefs: N page paths relative to the site root (``images/<slug>.html``) or None.
        positions: float32 (N, 2) map positions in [0, 1].
        codes: float32 (N, D) codes, clustered here with k-means (seeded, cosine geometry).
        errors: float (N,) per-image reconstruction error (e.g. the mean of its error map).
        neighbours: int (N, k) nearest-neighbour indices.
        labels: N labels or None.
        quality: the dict of :func:`aevis.latent.quality.map_quality`, or None to show none.
        seed: k-means seed.
        clusters: k of k-means (at most N).
        mosaic: the mosaic PNG the page links to (the build writes it), or None.
        preview: pattern of each image's full-size picture, ``{slug}`` replaced.
    """
    count = len(names)
    lengths = {len(slugs), len(hrefs), len(positions), len(codes), len(errors), len(neighbours)}
    if lengths != {count} or (labels is not None and len(labels) != count):
        raise ValueError(f"Expected {count} entries in every map input, got lengths {sorted(lengths)}.")
    cluster_ids, cluster_count = kmeans_clusters(codes, clusters, seed)
    colourings = [Colouring("none", "nothing (plain thumbnails)")]
    if labels is not None:
        colourings.append(Colouring("label", "label"))
    colourings += [Colouring("cluster", f"k-means cluster of the codes (k = {cluster_count})"),
                   Colouring("error", "reconstruction error")]
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
        quality=MapQuality(**{field: quality[field] for field in MapQuality.__dataclass_fields__}) if quality else None,
        colourings=tuple(colourings),
        sheet_columns=columns,
        sprite_sheets=tuple(f"media/sprites-{number}.png" for number in range(sheets)),
        mosaic=mosaic,
        preview=preview,
    )


def map_payload(data: MapData) -> dict:
    """The JSON object assigned to ``window.AEVIS_MAP``: settings, colours and one row per image."""
    label_names = sorted(set(data.labels)) if data.labels is not None else []
    palette = _palette(len(label_names))
    low, high = float(data.errors.min()), float(np.percentile(data.errors, 99))
    points = []
    for index in range(data.count):
        points.append({
            "name": data.names[index],
            "slug": data.slugs[index],
            "href": data.hrefs[index],
            "x": round(float(data.positions[index, 0]), 5),
            "y": round(float(data.positions[index, 1]), 5),
            "label": data.labels[index] if data.labels is not None else None,
            "cluster": int(data.clusters[index]),
            "error": float(f"{float(data.errors[index]):.4g}"),
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
        "clusterColours": _palette(data.cluster_count),
        "errorRange": [low, high if high > low else low + 1e-9],
        "errorRamp": [_hex(colour) for colour in render.colourise(np.linspace(0, 1, 9)[None, :], 0, 1)[0]],
        "points": points,
    }


def _palette(count: int) -> list[str]:
    name = _LABEL_COLOURS if count <= 10 else _MANY_LABEL_COLOURS
    colours = matplotlib.colormaps[name].colors
    return [_hex(colour) for colour in colours]


def _hex(colour) -> str:
    return "#" + "".join(f"{round(float(channel) * 255):02x}" for channel in colour[:3])


def write_map_assets(site: Path, data: MapData, thumbnails: np.ndarray) -> list[Path]:
    """Write ``assets/map-data.js`` and ``media/sprites-<k>.png`` under ``site``; return the paths.

    ``thumbnails`` are the N images (N, H, W, C) in [0, 1], manifest order; each is shrunk to a
    :data:`SPRITE_CELL`-pixel square (box filter) in the sheets.
    """
    site = Path(site)
    if len(thumbnails) != data.count:
        raise ValueError(f"Expected {data.count} thumbnails, one per image on the map, got {len(thumbnails)}.")
    written = []
    (site / "media").mkdir(parents=True, exist_ok=True)
    cell, columns, per_sheet = data.sprite_cell, data.sheet_columns, data.per_sheet
    for number, relative in enumerate(data.sprite_sheets):
        chunk = thumbnails[number * per_sheet : (number + 1) * per_sheet]
        rows = math.ceil(len(chunk) / columns)
        sheet = Image.new("RGBA", (columns * cell, rows * cell), (0, 0, 0, 0))
        for position, thumbnail in enumerate(chunk):
            row, column = divmod(position, columns)
            tile = render.to_pil(thumbnail).convert("RGB").resize((cell, cell), Image.Resampling.BOX)
            sheet.paste(tile, (column * cell, row * cell))
        sheet.save(site / relative)
        written.append(site / relative)
    (site / "assets").mkdir(parents=True, exist_ok=True)
    script = site / data.script
    text = json.dumps(map_payload(data), separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    script.write_text(f"window.AEVIS_MAP = {text};\n", encoding="utf-8")
    written.append(script)
    return written


def read_map_script(path: Path) -> dict:
    """The object a ``map-data.js`` file assigns (for tests and scripts)."""
    text = Path(path).read_text(encoding="utf-8").strip()
    prefix = "window.AEVIS_MAP = "
    if not text.startswith(prefix) or not text.endswith(";"):
        raise ValueError(f"Expected {path} to hold one 'window.AEVIS_MAP = {{...}};' assignment.")
    return json.loads(text[len(prefix) : -1])
