"""Where every file of the site lives: the one owner of every path in it.

Each path is relative to the site root, with forward slashes. A writer saves a file at
``site / path``; a page links to it as ``root + path``, where ``root`` leads from the page back
to the site root (:func:`root_of`). Nothing else in aevis spells out a path in the site, and
templates receive every path from Python (this module is ``urls`` in every template).
"""

from __future__ import annotations

from pathlib import PurePosixPath

# ---------------------------------------------------------------------------------- pages
INDEX = "index.html"
MAP = "map.html"
MAP_BY_LABEL = f"{MAP}#c=label"
"""The map coloured by label (the map keeps its view in the address: ``templates/map-tools.js``)."""
MODEL = "model.html"
READING = "reading.html"
REPORT = "report.html"
STRANGEST = "strangest.html"
"""Every image ranked by reconstruction error: the strangest and the most typical."""
DUPLICATES = "duplicates.html"
"""Groups of near-duplicate images."""
COMPARE = "compare.html"
"""Two models compared (only with ``--compare``)."""


def image_page(slug: str) -> str:
    """An image's own page."""
    return f"images/{slug}.html"


def layer_page(name: str) -> str:
    """A layer's channel gallery."""
    return f"layers/{name}.html"


def root_of(page: str) -> str:
    """The prefix of links on ``page`` back to the site root: ``"../"`` per folder it is in."""
    return "../" * page.count("/")


# ---------------------------------------------------------------------------------- assets
ASSETS = "assets"
STYLE_SHEET = f"{ASSETS}/style.css"
FAVICON = f"{ASSETS}/favicon.svg"
GALLERY_SCRIPT = f"{ASSETS}/gallery.js"
MAP_SCRIPT = f"{ASSETS}/map.js"
MAP_HELPER_SCRIPTS = tuple(
    f"{ASSETS}/map-{name}.js"
    for name in (
        "tools",
        "points",
        "grid",
        "colours",
        "sheets",
        "detail",
        "shaders",
        "gl",
        "canvas",
        "card",
        "selection",
        "view",
        "marks",
        "find",
        "input",
        "address",
    )
)
"""Loaded before :data:`MAP_SCRIPT`, which wires them together: the address's format, shapes and
CSV; the data decoded; the grid that finds the image under the pointer; colourings; loading the
sprite scripts; which level of detail to draw; the WebGL shaders and renderer and the 2D-canvas
renderer; the hover card; the selection panel; the view; the overlay's marks; Find; what the
pointer and keys do; the view kept in the address. Classic scripts, each setting one
``window.AevisMap…`` name (modules would not load from ``file://``)."""
MAP_STYLE_SHEET = f"{ASSETS}/map.css"
DUPLICATES_SCRIPT = f"{ASSETS}/duplicates.js"
"""Regroups the near-duplicates page when its threshold slider moves."""
STATIC_FILES = (
    STYLE_SHEET,
    GALLERY_SCRIPT,
    FAVICON,
    MAP_SCRIPT,
    *MAP_HELPER_SCRIPTS,
    MAP_STYLE_SHEET,
    DUPLICATES_SCRIPT,
)
"""Copied unchanged from ``templates/``, where each has the same file name."""
MAP_DATA = f"{ASSETS}/map-data.js"
"""The map's data: a script (``window.AEVIS_MAP = {...};``), not JSON, so ``file://`` works."""
MAP_RENDERERS = ("webgl2", "webgl1", "canvas")
"""What may draw the map, best first; the address may ask for one (``#renderer=canvas``)."""

# ---------------------------------------------------------------------------------- pictures
MEDIA = "media"
MOSAIC = "mosaic.png"
"""Every image in one picture, laid out like the map (the index page's hero)."""
ERROR_LEGEND = f"{MEDIA}/error-legend.png"
LOSS_CURVE = f"{MEDIA}/loss.png"
FAITHFULNESS_CHART = f"{MEDIA}/faithfulness.png"
OVERLAP_CHART = f"{MEDIA}/compare-overlap.png"
ALIGNED_MAPS = f"{MEDIA}/compare-maps.png"


def image_folder(slug: str) -> str:
    """The folder of one image's pictures."""
    return f"{MEDIA}/{slug}"


def media(slug: str, name: str) -> str:
    """One of an image's pictures, ``name`` being what it shows (``input``, a method, ``strip``...)."""
    return f"{image_folder(slug)}/{name}.png"


def animation(slug: str, name: str) -> str:
    """One of an image's animations (``morph``, ``sweep``), beside its pictures."""
    return f"{image_folder(slug)}/{name}.gif"


def thumbnail(slug: str) -> str:
    """An image as the network receives it, which is also its thumbnail everywhere."""
    return media(slug, "input")


THUMBNAIL_PATTERN = thumbnail("{slug}")
""":func:`thumbnail` with ``{slug}`` left for the map's script to fill in."""


def pair_maps(slug: str, rank: int) -> tuple[str, str]:
    """The pair maps of an image and its ``rank``-th neighbour: (what in this image resembles
    the neighbour, what in the neighbour resembles this image)."""
    return media(slug, f"pair-{rank}-here"), media(slug, f"pair-{rank}-there")


def cell_maps(slug: str, rank: int) -> tuple[str, str]:
    """Where the codes of an image and its ``rank``-th neighbour agree, cell by cell: (laid over
    this image, laid over the neighbour)."""
    return media(slug, f"cells-{rank}-here"), media(slug, f"cells-{rank}-there")


def overlay_legend(signed: bool) -> str:
    """The colour legend of the heat-map overlays, signed or not."""
    return f"{MEDIA}/legend-{'signed' if signed else 'unsigned'}.png"


def cascade(depth: int) -> str:
    """The randomization example's map with the network scrambled down to layer ``depth``."""
    return f"{MEDIA}/cascade-{depth}.png"


def feature(channel: int) -> str:
    """What code channel ``channel`` wants to see (its feature visualization)."""
    return f"{MEDIA}/features/channel-{int(channel)}.png"


MAP_SPRITES = f"{MEDIA}/map-sprites"
"""The map's sprite scripts (:mod:`aevis.site.map_sprites`): pictures as data, so WebGL may use them from ``file://``."""
MAP_COLOURS = f"{MAP_SPRITES}/colours.js"
"""Every image's mean colour, what the map draws far out."""


def sprite_sheet(number: int | str) -> str:
    """The map's sharp thumbnail sheet of group ``number`` (a script)."""
    return f"{MAP_SPRITES}/sharp-{number}.js"


def sprite_atlas(number: int | str) -> str:
    """The map's small thumbnail atlas ``number`` (a script)."""
    return f"{MAP_SPRITES}/small-{number}.js"


# ---------------------------------------------------------------------------------- data
DATA = "data"
MANIFEST = f"{DATA}/manifest.json"
CODES = f"{DATA}/codes.npy"
TAUGHT_BY = f"{DATA}/taught_by.npz"
"""Every "Taught by" score of the images the label-share check ran on (a model trained here)."""
MAPS_PATTERN = f"{DATA}/maps/{{slug}}.npz"
"""One image's maps file, ``{slug}`` left to fill in (as the manifest tells scripts)."""


def maps_file(slug: str) -> str:
    """One image's maps, a ``.npz`` of float32 (H, W) arrays."""
    return MAPS_PATTERN.format(slug=slug)


def in_data(path: str) -> str:
    """A data file's path relative to the data folder, as the manifest names it."""
    return PurePosixPath(path).relative_to(DATA).as_posix()
