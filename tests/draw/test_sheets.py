"""Many pictures on one sheet: each thumbnail at its documented place, at the documented size."""

from __future__ import annotations

import numpy as np
import pytest

from aevis.draw import sheets
from aevis.draw.pixels import BACKGROUND


def _flat(levels) -> np.ndarray:
    """One 8x8 RGB thumbnail per (r, g, b) level, each a single colour."""
    return np.broadcast_to(np.asarray(levels, np.float32)[:, None, None, :], (len(levels), 8, 8, 3)).copy()


COLOURS = _flat([(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, 1)])
BYTES = np.round(COLOURS[:, 0, 0] * 255).astype(np.uint8)


def test_sprite_sheet_puts_cell_i_in_row_i_div_columns_column_i_mod_columns():
    cell = 16
    cells = sheets.sprite_cells(COLOURS, cell)
    assert cells.shape == (5, cell, cell, 3) and cells.dtype == np.uint8
    sheet = np.asarray(sheets.sprite_sheet(cells, columns=2))
    assert sheet.shape == (3 * cell, 2 * cell, 3)  # five cells, two a row: three rows
    for index, rgb in enumerate(BYTES):
        row, column = divmod(index, 2)
        tile = sheet[row * cell : (row + 1) * cell, column * cell : (column + 1) * cell]
        np.testing.assert_array_equal(tile, np.broadcast_to(rgb, tile.shape), err_msg=str(index))
    assert (sheet[2 * cell :, cell:] == 0).all()  # where the last row ends early: black
    assert np.asarray(sheets.sprite_sheet(cells, columns=4, rows=4)).shape == (64, 64, 3)  # rows asked for
    with pytest.raises(ValueError, match="at most 4 cells on a 2x2 sheet, got 5"):
        sheets.sprite_sheet(cells, columns=2, rows=2)


def test_sprite_cells_shrink_by_averaging_and_enlarge_sharp():
    thumbnail = np.zeros((1, 64, 64, 3), np.float32)
    thumbnail[0, :, 1::2] = 1.0  # alternate black and white columns: grey once shrunk to 32
    np.testing.assert_array_equal(sheets.sprite_cells(thumbnail, 32), np.full((1, 32, 32, 3), 128))
    odd = np.zeros((1, 20, 30, 1), np.float32)  # grey, not a multiple of the cell: through Pillow
    odd[0, :, 15:] = 1.0
    shrunk = sheets.sprite_cells(odd, 16)
    assert shrunk.shape == (1, 16, 16, 3) and shrunk[0, :, 0].max() == 0 and shrunk[0, :, -1].min() == 255
    small = sheets.sprite_cells(COLOURS[:1, :4, :4], 16)  # 4 pixels to 16: each repeated, not blurred
    np.testing.assert_array_equal(small[0], np.broadcast_to(BYTES[0], (16, 16, 3)))


def test_mosaic_picture_puts_each_thumbnail_at_its_cell_and_leaves_the_rest_white():
    cells = np.array([4, 0, 2])  # row-major on a 3x2 grid: (1, 1), (0, 0), (0, 2)
    mosaic = np.asarray(sheets.mosaic_picture(COLOURS[:3], cells, columns=3, rows=2))
    side = 64  # 2048 / 3 columns, at most 64
    assert mosaic.shape == (2 * side, 3 * side, 3)
    for index, cell in enumerate(cells):
        row, column = divmod(int(cell), 3)
        tile = mosaic[row * side : (row + 1) * side, column * side : (column + 1) * side]
        np.testing.assert_array_equal(tile, np.broadcast_to(BYTES[index], tile.shape))
    for empty in (1, 3, 5):
        row, column = divmod(empty, 3)
        assert (mosaic[row * side : (row + 1) * side, column * side : (column + 1) * side] == BACKGROUND).all()
    assert sheets.mosaic_picture(COLOURS[:3], cells, columns=100, rows=1).size == (100 * 20, 20)  # 2048 // 100
    assert sheets.mosaic_picture(COLOURS[:3], cells, columns=317, rows=1).size == (317 * 6, 6)  # 100,000 images
    assert sheets.mosaic_picture(COLOURS[:3], cells, columns=1000, rows=1).size == (1000 * 4, 4)  # at least 4


def test_collage_lays_the_labelled_tiles_side_by_side():
    tiles = [(f"picture {number}", COLOURS[number]) for number in range(4)]
    collage = np.asarray(sheets.collage(tiles, tile_size=160))
    gap, label = 10, 26  # a 16th and a 6th of the tile
    assert collage.shape == (gap + 160 + label + gap, 4 * 160 + 5 * gap, 3)
    for number in range(4):
        left = gap + number * (160 + gap)
        tile = collage[gap : gap + 160, left : left + 160]
        np.testing.assert_array_equal(tile, np.broadcast_to(BYTES[number], tile.shape))
        under = collage[gap + 160 : gap + 160 + label, left : left + 160]
        assert (under != BACKGROUND).any(), f"no label under tile {number}"
    assert (collage[:gap] == BACKGROUND).all() and (collage[:, :gap] == BACKGROUND).all()
