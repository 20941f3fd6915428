"""The similarity map's pictures, in levels of detail, each file a script.

A browser refuses to put a picture read from ``file://`` into a WebGL texture, but not one
that arrives as data inside a script. So every picture of the map is a ``.js`` file calling
``window.AevisMapSheet(level, number, data)`` with a ``data:image/jpeg;base64,...`` address
(``templates/map-sheets.js`` receives it), and the page still opens with a double click:

- ``colours``: every image's mean colour, RGB bytes in manifest order, base64; what the map
  draws far out, where a thumbnail is a few pixels (:data:`aevis.site.urls.MAP_COLOURS`);
- ``small``: every image as a :data:`SMALL_CELL`-pixel cell on atlases :data:`SMALL_COLUMNS`
  cells wide, loaded when the page opens (:func:`aevis.site.urls.sprite_atlas`);
- ``sharp``: each group of :data:`GROUP` images that sit near each other on the map as
  cells of up to :data:`SHARP_CELL_MAX` pixels, :data:`SHARP_COLUMNS` a row, loaded only
  while the group is on screen and zoomed in (:func:`aevis.site.urls.sprite_sheet`).

Groups come from a k-d split of the map positions (:func:`spatial_order`), so zooming into one
region loads a few sheets; each group's bounding box is in the map's data
(:mod:`aevis.site.mapdata`). The small atlases hold whole groups in the same order, so group
``g`` is on atlas ``g * GROUP // PER_ATLAS``.

Sheets are JPEG with full-resolution colour (4:4:4): cells are multiples of 8 pixels, so no
8x8 block straddles two thumbnails and none bleeds into its neighbour. The writer reads the
images one group at a time (never the whole set: 100,000 images of 64x64x3 are 4.9 GB as
float32) and puts every file through the picture cache, so a warm rebuild only copies them.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from aevis._utils.keys import make_key
from aevis.draw.sheets import sprite_cells, sprite_sheet
from aevis.site import urls
from aevis.store.cache import ResultCache

GROUP = 256
"""Images per sharp sheet: neighbours on the map."""
SHARP_COLUMNS = 16
"""Cells per row (and per column) of a sharp sheet: 16 x 16 = :data:`GROUP`."""
SHARP_CELL_MAX = 32
"""Side of a sharp cell: the images' own size, rounded up to a multiple of 8, at most this. (A
sheet is then 512 x 512 pixels, which software WebGL uploads in about 10 ms: 64-pixel cells took
45 ms a sheet, a visible stutter each. The hover card shows the image's own file, full size.)"""
SMALL_CELL = 16
"""Side of a cell of the small atlases, in pixels."""
SMALL_COLUMNS = 64
"""Cells per row of a small atlas (1,024 pixels)."""
PER_ATLAS = SMALL_COLUMNS * SMALL_COLUMNS
"""Cells of one full small atlas (1,024 x 1,024 pixels, 16 groups): small enough to upload
within a frame or two."""
SHARP_QUALITY = 85
SMALL_QUALITY = 80
POSITION_STEPS = 65535
"""Map positions are kept as 16-bit steps of the unit square (a 65,536th: far below a pixel)."""


@dataclass(frozen=True, eq=False)
class SpritePlan:
    """Which image sits in which cell of which sheet, and where on the map each sheet's images are.

    Slot ``s`` (sheet order) holds image ``order[s]``: group ``g`` is slots ``g * GROUP`` to
    ``(g + 1) * GROUP``, in cells row-major on sharp sheet ``g``; slot ``s`` is cell
    ``s % PER_ATLAS`` of small atlas ``s // PER_ATLAS``.
    """

    order: np.ndarray
    """int64 (N,): the image in each slot."""
    boxes: np.ndarray
    """uint16 (groups, 4): each group's (x0, y0, x1, y1) in position steps, its images' extent."""

    @property
    def count(self) -> int:
        return len(self.order)

    @property
    def groups(self) -> int:
        return len(self.boxes)

    @property
    def atlases(self) -> int:
        return max(1, math.ceil(self.count / PER_ATLAS))

    def group(self, number: int) -> np.ndarray:
        """The images of group ``number``, in cell order."""
        return self.order[number * GROUP : (number + 1) * GROUP]

    def atlas_rows(self, number: int) -> int:
        """Cell rows of small atlas ``number``: enough for its images, a power of two (WebGL 1
        makes mipmaps of power-of-two textures only)."""
        cells = min(PER_ATLAS, self.count - number * PER_ATLAS)
        return 1 << max(0, math.ceil(math.log2(max(1, math.ceil(cells / SMALL_COLUMNS)))))


def quantised_positions(positions: np.ndarray) -> np.ndarray:
    """Map positions (N, 2) in [0, 1] as uint16 (N, 2) steps of :data:`POSITION_STEPS`
    (outside the square: clipped; not a number: the middle)."""
    values = np.nan_to_num(np.asarray(positions, np.float64).reshape(-1, 2), nan=0.5)
    return np.round(np.clip(values, 0.0, 1.0) * POSITION_STEPS).astype(np.uint16)


def spatial_order(quantised: np.ndarray, group: int = GROUP) -> np.ndarray:
    """Images in an order whose consecutive runs of ``group`` sit together on the map.

    A k-d split: a set larger than ``group`` is cut across its longer side so that the first
    part holds a whole number of groups (half of them, rounded up), and each part is split
    again. Every group but the last is full; within a group images keep their manifest order.
    Ties break by index, so the order depends only on the positions.
    """
    count = len(quantised)
    points = np.asarray(quantised, np.int64)
    order, pending = [], [np.arange(count)]
    while pending:
        indices = pending.pop()
        if len(indices) <= group:
            order.append(np.sort(indices))
            continue
        extent = points[indices].max(axis=0) - points[indices].min(axis=0)
        axis = 0 if extent[0] >= extent[1] else 1
        ranked = indices[np.lexsort((indices, points[indices, axis]))]
        first = math.ceil(math.ceil(len(indices) / group) / 2) * group
        pending += [ranked[first:], ranked[:first]]  # the first part is split (and emitted) first
    return np.concatenate(order) if order else np.zeros(0, np.int64)


def sprite_plan(positions: np.ndarray) -> SpritePlan:
    """The sheets of a map with these positions (float (N, 2) in [0, 1])."""
    quantised = quantised_positions(positions)
    order = spatial_order(quantised)
    groups = math.ceil(len(order) / GROUP)
    boxes = np.zeros((groups, 4), np.uint16)
    for number in range(groups):
        members = quantised[order[number * GROUP : (number + 1) * GROUP]]
        boxes[number] = [*members.min(axis=0), *members.max(axis=0)]
    return SpritePlan(order=order, boxes=boxes)


def sharp_cell(image_shape: tuple[int, ...]) -> int:
    """Side of a sharp cell for images of ``image_shape`` (N, H, W, C): their longer side
    rounded up to a multiple of 8, between :data:`SMALL_CELL` and :data:`SHARP_CELL_MAX`."""
    side = max(int(image_shape[1]), int(image_shape[2]))
    return int(min(SHARP_CELL_MAX, max(SMALL_CELL, math.ceil(side / 8) * 8)))


def sheet_script(level: str, number: int, data: str) -> str:
    """The text of one sprite script: hands ``data`` to the page's ``window.AevisMapSheet``."""
    return f'window.AevisMapSheet("{level}", {int(number)}, "{data}");\n'


def jpeg_address(picture: Image.Image, quality: int) -> str:
    """A picture as a ``data:image/jpeg;base64,...`` address, colour at full resolution."""
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality, subsampling=0, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def write_map_sprites(
    images, image_keys: list[str], positions: np.ndarray, site: Path, cache: ResultCache
) -> SpritePlan:
    """Write every sprite script of the map under ``site``: the mean colours, the small atlases
    and a sharp sheet per group (see the module's words). Returns the plan they follow.

    Args:
        images: (N, H, W, C) in [0, 1], indexable by an integer array (a :class:`numpy.ndarray`
            or :class:`aevis._utils.pixels.Pixels`); read :data:`GROUP` images at a time, and
            not at all when the cache holds every file.
        image_keys: N cache keys of the images (manifest order).
        positions: float (N, 2) map positions in [0, 1].
    """
    site = Path(site)
    plan = sprite_plan(positions)
    cell = sharp_cell(images.shape)
    (site / urls.MAP_SPRITES).mkdir(parents=True, exist_ok=True)
    colours_key = make_key("map mean colours", list(image_keys))
    colours = None if cache.has_picture(colours_key, ".js") else np.zeros((plan.count, 3), np.uint8)
    for atlas in range(plan.atlases):
        first = atlas * PER_ATLAS // GROUP
        numbers = range(first, min(plan.groups, first + PER_ATLAS // GROUP))
        atlas_key = make_key(
            "map small atlas",
            [image_keys[i] for i in plan.order[atlas * PER_ATLAS :][:PER_ATLAS]],
            SMALL_CELL,
            SMALL_QUALITY,
        )
        small = (
            None
            if cache.has_picture(atlas_key, ".js")
            else np.zeros((plan.atlas_rows(atlas) * SMALL_COLUMNS, SMALL_CELL, SMALL_CELL, 3), np.uint8)
        )
        for number in numbers:
            members = plan.group(number)
            sheet_key = make_key("map sharp sheet", [image_keys[i] for i in members], cell, SHARP_QUALITY)
            wanted = small is not None or colours is not None or not cache.has_picture(sheet_key, ".js")
            batch = np.asarray(images[members], np.float32) if wanted else None
            if small is not None:
                start = number * GROUP - atlas * PER_ATLAS
                small[start : start + len(members)] = sprite_cells(batch, SMALL_CELL)
            if colours is not None:
                colours[members] = _mean_colours(batch)
            cache.picture(
                sheet_key,
                site / urls.sprite_sheet(number),
                lambda path, batch=batch, number=number: _write_script(
                    path,
                    "sharp",
                    number,
                    jpeg_address(sprite_sheet(sprite_cells(batch, cell), SHARP_COLUMNS, SHARP_COLUMNS), SHARP_QUALITY),
                ),
            )
        cache.picture(
            atlas_key,
            site / urls.sprite_atlas(atlas),
            lambda path, small=small, atlas=atlas: _write_script(
                path, "small", atlas, jpeg_address(sprite_sheet(small, SMALL_COLUMNS), SMALL_QUALITY)
            ),
        )
    cache.picture(
        colours_key,
        site / urls.MAP_COLOURS,
        lambda path: _write_script(path, "colours", 0, base64.b64encode(colours.tobytes()).decode("ascii")),
    )
    return plan


def _mean_colours(batch: np.ndarray) -> np.ndarray:
    """uint8 (n, 3): each image's mean colour (grey images: their mean grey)."""
    rgb = batch[..., :3] if batch.shape[-1] >= 3 else np.repeat(batch, 3, -1)
    return np.round(np.clip(np.nan_to_num(rgb.mean(axis=(1, 2)), nan=0.0), 0, 1) * 255).astype(np.uint8)


def _write_script(path: Path, level: str, number: int, data: str) -> None:
    Path(path).write_text(sheet_script(level, number, data), encoding="ascii")
