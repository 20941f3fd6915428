"""Many pictures on one sheet: the shareable collage of a page, the mosaic of every image, and
the map's thumbnail sprite sheets (which thumbnails go on which sheet is
:mod:`aevis.site.map_sprites`').
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from aevis.draw.pixels import BACKGROUND, INK, font, square


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
        draw.text(
            (left + tile_size / 2, gap + tile_size + label_height / 2), label, fill=INK, font=label_font, anchor="mm"
        )
    return sheet


def mosaic_picture(
    thumbnails: np.ndarray, cells: np.ndarray, columns: int, rows: int, cell: int | None = None
) -> Image.Image:
    """Thumbnails (N, H, W, C) in [0, 1] placed at their grid ``cells`` (row-major), no gaps.

    ``cell`` (pixels) defaults to 2048 / columns, kept between 4 and 64, so the picture stays
    about 2,000 pixels wide up to a quarter of a million images (at 100,000, cells of 6
    pixels: the map is where each one is seen). Empty cells are white.
    """
    cell = cell or int(min(64, max(4, 2048 // max(columns, 1))))
    sheet = Image.new("RGB", (columns * cell, rows * cell), BACKGROUND)
    resample = Image.Resampling.NEAREST if cell >= thumbnails.shape[1] else Image.Resampling.BOX
    for thumbnail, index in zip(thumbnails, cells):
        row, column = divmod(int(index), columns)
        sheet.paste(square(thumbnail, cell, resample), (column * cell, row * cell))
    return sheet


def sprite_cells(thumbnails: np.ndarray, cell: int) -> np.ndarray:
    """Thumbnails (n, H, W, C) in [0, 1] (C = 1, 3 or 4; NaN as black) as uint8 RGB squares
    (n, cell, cell, 3), shrunk by averaging (a box filter) or enlarged keeping pixels sharp.

    A thumbnail whose sides are whole multiples of ``cell`` is averaged block by block in one
    numpy step (the common case: 64-pixel images into 64-, 32- or 16-pixel cells); any other
    goes through Pillow one at a time (:func:`aevis.draw.pixels.square`).
    """
    thumbnails = np.asarray(thumbnails, np.float32)
    count, height, width = thumbnails.shape[:3]
    if height % cell == 0 and width % cell == 0:
        rgb = np.nan_to_num(thumbnails[..., :3] if thumbnails.shape[-1] >= 3 else np.repeat(thumbnails, 3, -1), nan=0.0)
        blocks = rgb.reshape(count, cell, height // cell, cell, width // cell, 3).mean(axis=(2, 4))
        return np.round(np.clip(blocks, 0, 1) * 255).astype(np.uint8)
    resample = Image.Resampling.BOX if min(height, width) >= cell else Image.Resampling.NEAREST
    return (
        np.stack([np.asarray(square(thumbnail, cell, resample)) for thumbnail in thumbnails])
        if count
        else (np.zeros((0, cell, cell, 3), np.uint8))
    )


def sprite_sheet(cells: np.ndarray, columns: int, rows: int | None = None) -> Image.Image:
    """One sprite sheet: uint8 cells (n, cell, cell, 3) ``columns`` a row, row-major, on
    ``rows`` rows (default: as many as the cells fill); black where no cell is."""
    count, cell = len(cells), cells.shape[1]
    rows = math.ceil(count / columns) if rows is None else rows
    if count > columns * rows:
        raise ValueError(f"Expected at most {columns * rows} cells on a {columns}x{rows} sheet, got {count}.")
    grid = np.zeros((rows * columns, cell, cell, 3), np.uint8)
    grid[:count] = cells
    return Image.fromarray(
        grid.reshape(rows, columns, cell, cell, 3).transpose(0, 2, 1, 3, 4).reshape(rows * cell, columns * cell, 3)
    )
