"""The mosaic's grid assignment: a permutation of cells that keeps near points near."""

import numpy as np
import pytest

from aevis.draw import sheets
from aevis.latent.mosaic import grid_cells, grid_shape


def _grid_points(columns, rows):
    cell_rows, cell_columns = np.divmod(np.arange(columns * rows), columns)
    return np.stack([cell_columns / (columns - 1), cell_rows / (rows - 1)], axis=1)


@pytest.mark.parametrize("exact_limit", [10_000, 0], ids=["optimal", "row-sort fallback"])
def test_points_on_a_grid_keep_their_own_cells(exact_limit):
    points = _grid_points(7, 7)
    order = np.random.default_rng(0).permutation(49)
    cells, columns, rows = grid_cells(points[order], exact_limit=exact_limit)
    assert (columns, rows) == (7, 7)
    np.testing.assert_array_equal(cells, np.arange(49)[order])


@pytest.mark.parametrize("count, exact_limit", [(50, 10_000), (400, 10_000), (400, 0), (37, 0)])
def test_assignment_is_a_permutation_and_keeps_near_points_near(count, exact_limit):
    columns, rows = grid_shape(count)
    rng = np.random.default_rng(1)
    base = _grid_points(columns, rows)[rng.permutation(columns * rows)[:count]]
    jittered = base + rng.normal(0, 0.15 / columns, base.shape)
    cells, columns, rows = grid_cells(jittered, exact_limit=exact_limit)
    assert sorted(set(cells.tolist())) == sorted(cells.tolist()) and cells.min() >= 0 and cells.max() < columns * rows
    row, column = np.divmod(cells, columns)
    scaled = (jittered - jittered.min(0)) / np.ptp(jittered, axis=0) * [columns - 1, rows - 1]
    displacement = np.hypot(column - scaled[:, 0], row - scaled[:, 1])
    limit = 0.6 if exact_limit else 1.5  # in cells; the row-sort rule may shift a point by a row
    assert displacement.mean() < limit, displacement.mean()


def test_optimal_assignment_is_never_worse_than_the_fallback():
    points = np.random.default_rng(2).random((120, 2))
    columns, rows = grid_shape(120)

    def cost(cells):
        row, column = np.divmod(cells, columns)
        scaled = (points - points.min(0)) / np.ptp(points, axis=0) * [columns - 1, rows - 1]
        return np.sum((column - scaled[:, 0]) ** 2 + (row - scaled[:, 1]) ** 2)

    assert cost(grid_cells(points)[0]) <= cost(grid_cells(points, exact_limit=0)[0])


def test_mosaic_picture_puts_each_thumbnail_in_its_cell():
    thumbnails = np.zeros((3, 4, 4, 3), np.float32)
    thumbnails[1, ..., 0] = 1.0  # the red one
    picture = np.asarray(sheets.mosaic_picture(thumbnails, np.array([0, 3, 1]), columns=2, rows=2, cell=16))
    assert picture.shape == (32, 32, 3)
    np.testing.assert_array_equal(picture[20, 20], [255, 0, 0])  # cell 3: row 1, column 1
    np.testing.assert_array_equal(picture[4, 20], [0, 0, 0])  # cell 1 holds thumbnail 2
    np.testing.assert_array_equal(picture[20, 4], [255, 255, 255])  # cell 2 is empty
