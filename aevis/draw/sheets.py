"""Many pictures on one sheet: the shareable collage of a page, the mosaic of every image, and
the map's thumbnail sprite sheets.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from aevis.draw.pixels import BACKGROUND, INK, font, square

SPRITE_CELL = 32
"""Side of one thumbnail in a sprite sheet, in pixels."""
SHEET_MAX = 64
"""Most thumbnails per row and per column of one sheet (64 × 32 = 2,048 pixels)."""


def collage(tiles: list[tuple[str, np.ndarray]], tile_size: int = 160) -> Image.Image:
    """Labelled pictures side by side on a white strip, for a shareable PNG."""
    label_font = font(max(10, tile_size // 11))
    gap, label_height = tile_size // 16, tile_size // 6
    width = len(tiles) * tile_size + (len(tiles) + 1) * gap
    sheet = Image.new("RGB", (width, tile_size + label_height + 2 * gap), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for column, (label, picture) in enumerate(tiles):
        left = gap + column * (tile_size + gap)
        sheet.paste(square(picture, tile_size), (left, gap))
        draw.text((left + tile_size / 2, gap + tile_size + label_height / 2), label,
                  fill=INK, font=label_font, anchor="mm")
    return sheet


def mosaic_picture(thumbnails: np.ndarray, cells: np.ndarray, columns: int, rows: int,
                   cell: int | None = None) -> Image.Image:
    """Thumbnails (N, H, W, C) in [0, 1] placed at their grid ``cells`` (row-major), no gaps.

    ``cell`` (pixels) defaults to 2048 / columns, kept between 16 and 64, so the picture stays
    about 2,000 pixels wide or less whatever the set's size. Empty cells are white.
    """
    cell = cell or int(min(64, max(16, 2048 // max(columns, 1))))
    sheet = Image.new("RGB", (columns * cell, rows * cell), BACKGROUND)
    resample = Image.Resampling.NEAREST if cell >= thumbnails.shape[1] else Image.Resampling.BOX
    for thumbnail, index in zip(thumbnails, cells):
        row, column = divmod(int(index), columns)
        sheet.paste(square(thumbnail, cell, resample), (column * cell, row * cell))
    return sheet


def sprite_layout(count: int) -> tuple[int, int]:
    """(columns per sheet, number of sheets) for ``count`` thumbnails."""
    columns = int(min(SHEET_MAX, max(1, math.ceil(math.sqrt(count)))))
    return columns, max(1, math.ceil(count / (columns * SHEET_MAX)))


def sprite_sheet(thumbnails: np.ndarray, columns: int, cell: int = SPRITE_CELL) -> Image.Image:
    """One sprite sheet: thumbnails (n, H, W, C) in [0, 1] shrunk to ``cell``-pixel squares (box
    filter), ``columns`` a row, row-major; transparent where the last row ends early."""
    rows = math.ceil(len(thumbnails) / columns)
    sheet = Image.new("RGBA", (columns * cell, rows * cell), (0, 0, 0, 0))
    for position, thumbnail in enumerate(thumbnails):
        row, column = divmod(position, columns)
        sheet.paste(square(thumbnail, cell, Image.Resampling.BOX), (column * cell, row * cell))
    return sheet
