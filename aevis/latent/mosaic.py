"""The mosaic: map positions snapped to a grid, one thumbnail per cell, neighbours kept near.

The grid has ⌈√N⌉ columns and ⌈N / columns⌉ rows. The positions are scaled so that the map's
extent spans the centres of the outer cells; then every point gets its own cell.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import linear_sum_assignment

EXACT_LIMIT = 2500
"""Up to this many points the assignment is optimal; above it, the row-sort rule is used."""


def grid_shape(count: int) -> tuple[int, int]:
    """(columns, rows) of the mosaic grid for ``count`` thumbnails."""
    columns = max(1, math.ceil(math.sqrt(count)))
    return columns, max(1, math.ceil(count / columns))


def grid_cells(positions: np.ndarray, exact_limit: int = EXACT_LIMIT) -> tuple[np.ndarray, int, int]:
    """A grid cell for every point, no two sharing one.

    Up to ``exact_limit`` points: the assignment that minimises the total squared distance
    between points and their cells' centres (the Hungarian method, scipy's
    ``linear_sum_assignment``; about a second at 2,500 points, but its cost grows with N³).
    Above it, a cheaper rule: sort the points by y and cut them into rows of ``columns``
    points, then sort each row by x. It keeps top-to-bottom and left-to-right order but can
    pull a point up to a row away from its place.

    Args:
        positions: float (N, 2), (x, y) map positions, y downwards.
        exact_limit: largest N solved exactly.

    Returns:
        ``(cells, columns, rows)``: int64 (N,) cell index of each point, row-major
        (cell = row × columns + column), all distinct.
    """
    positions = np.asarray(positions, np.float64)
    count = len(positions)
    if count == 0:
        return np.empty(0, np.int64), 0, 0
    columns, rows = grid_shape(count)
    if count > exact_limit:
        return _row_sorted(positions, columns), columns, rows
    scaled = _to_grid(positions, columns, rows)
    cell_rows, cell_columns = np.divmod(np.arange(columns * rows), columns)
    centres = np.stack([cell_columns + 0.5, cell_rows + 0.5], axis=1)
    cost = ((scaled[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    points, cells = linear_sum_assignment(cost)
    result = np.empty(count, np.int64)
    result[points] = cells
    return result, columns, rows


def _to_grid(positions: np.ndarray, columns: int, rows: int) -> np.ndarray:
    """Positions in cell units, the extent spanning the outer cells' centres (0.5 .. n - 0.5)."""
    low, high = positions.min(axis=0), positions.max(axis=0)
    unit = (positions - low) / np.where(high > low, high - low, 1.0)
    return 0.5 + unit * (np.array([columns, rows]) - 1)


def _row_sorted(positions: np.ndarray, columns: int) -> np.ndarray:
    by_y = np.lexsort((positions[:, 0], positions[:, 1]))  # y first, x breaks ties
    cells = np.empty(len(positions), np.int64)
    for start in range(0, len(positions), columns):
        row = by_y[start : start + columns]
        cells[row[np.argsort(positions[row, 0], kind="stable")]] = np.arange(start, start + len(row))
    return cells
