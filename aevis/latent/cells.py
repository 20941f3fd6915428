"""Why two codes are similar, exactly: the cosine similarity of two spatial codes, cell by cell.

A convolutional code is a grid: h × w cells of c numbers each, the bottleneck's output before it
is flattened. The cosine similarity of two such codes a and b is a sum over the cells,

    cos(a, b) = Σ_{y,x} a[y,x]·b[y,x] / (‖a‖ ‖b‖),

so the share of cell (y, x), a[y,x]·b[y,x] / (‖a‖ ‖b‖), is exact: the shares add up to the
similarity, with no gradients and no approximation. A share is negative where the two codes
point different ways in that cell. The grids of two images are aligned in space (cell (y, x)
of either code is computed from the same part of its image), so one grid of shares can be laid
over both images (:func:`cells_to_pixels`).

A Dense (flat) code has no grid and no cells: :func:`code_grid` is None for it. A 1 × 1 grid has
one cell, whose share is the whole similarity: exact, but it cannot say where.

Pure NumPy; the codes are the gallery's flattened float32 (N, D) rows (row-major, as Keras
flattens them, so D = h·w·c with the channels last).
"""

from __future__ import annotations

import math

import numpy as np

from aevis.latent.neighbours import finite_codes
from aevis.memory import rows_within

_BLOCK_BYTES = 32 * 2**20  # the codes of the pairs computed at once

RECORD_DECIMALS = 6
"""Decimals the manifest rounds the similarities, and so the cells, to."""
SUM_TOLERANCE = 1e-5
"""How far the rounded cells of a pair may sum from its recorded similarity."""
_MOST_DECIMALS = 12


def code_grid(ae) -> tuple[int, int, int] | None:
    """The (h, w, c) grid of ``ae``'s code (its bottleneck's output shape), or None when the
    code is flat (a Dense bottleneck, or anything that is not one map of channels)."""
    return grid_of(tuple(ae.encoder.output.shape[1:]))


def grid_of(shape: tuple) -> tuple[int, int, int] | None:
    """(h, w, c) for a code layer's output shape (without the batch axis), None unless it is
    a fixed-size map of channels."""
    if len(shape) != 3 or any(size is None for size in shape):
        return None
    return tuple(int(size) for size in shape)


def shows_places(grid: tuple[int, int, int] | None) -> bool:
    """Whether a cell map can say *where* two codes agree: a grid of more than one cell."""
    return grid is not None and grid[0] * grid[1] > 1


def pair_cells(first: np.ndarray, second: np.ndarray, grid: tuple[int, int, int]) -> np.ndarray:
    """Each cell's exact share of the cosine similarity of ``first[i]`` and ``second[i]``.

    Args:
        first, second: flattened codes, (M, D) each, D = h·w·c.
        grid: (h, w, c), see :func:`code_grid`.

    Returns:
        float64 (M, h, w); row i sums to cos(first[i], second[i]) up to float64 rounding. A
        pair with an all-zero code has similarity 0 (as :func:`~aevis.latent.neighbours.nearest_neighbours`
        counts it) and all-zero cells. A code with NaN or infinite values gives NaN cells:
        clean codes first (:func:`~aevis.latent.neighbours.finite_codes`) to match the
        recorded neighbours.
    """
    height, width, channels = _check_grid(grid)
    first, second = np.asarray(first), np.asarray(second)
    size = height * width * channels
    for name, codes in (("first", first), ("second", second)):
        if codes.ndim != 2 or codes.shape[1] != size:
            raise ValueError(
                f"Expected {name} codes of shape (M, {size}) for a {height}×{width}×{channels} grid, got {codes.shape}."
            )
    if len(first) != len(second):
        raise ValueError(f"Expected as many second codes as first ({len(first)}), got {len(second)}.")
    cells = np.empty((len(first), height, width), np.float64)
    block = rows_within(size * first.itemsize, _BLOCK_BYTES)
    for start in range(0, len(first), block):
        a = first[start : start + block].reshape(-1, height * width, channels)
        b = second[start : start + block].reshape(-1, height * width, channels)
        # einsum sums in float64 through a small buffer: no float64 copy of the codes is made.
        with np.errstate(invalid="ignore", over="ignore"):
            products = np.einsum("pcd,pcd->pc", a, b, dtype=np.float64)
            norms = np.sqrt(
                np.einsum("pcd,pcd->p", a, a, dtype=np.float64) * np.einsum("pcd,pcd->p", b, b, dtype=np.float64)
            )
            shares = np.divide(products, norms[:, None], out=np.zeros_like(products), where=norms[:, None] > 0)
        shares[~np.isfinite(norms)] = np.nan
        cells[start : start + len(a)] = shares.reshape(len(a), height, width)
    return cells


def cell_contributions(
    codes: np.ndarray, neighbours: np.ndarray, grid: tuple[int, int, int], rows: np.ndarray | None = None
) -> np.ndarray:
    """The cell shares of every image against each of its neighbours, all pairs at once.

    Args:
        codes: flattened codes of the whole set, (N, D).
        neighbours: int (n, k), row p the indices (into ``codes``) of image p's neighbours.
        grid: (h, w, c) of the code.
        rows: int (n,), the indices of the images whose neighbours these are; None: 0 … n-1
            (``neighbours`` is then the whole set's (N, k) table).

    Returns:
        float64 (n, k, h, w): [p, j] is the grid of shares of cos(code of p, code of its j-th
        neighbour), which sums to that similarity.
    """
    neighbours = np.asarray(neighbours, np.int64)
    if neighbours.ndim != 2:
        raise ValueError(f"Expected neighbours of shape (n, k), got {neighbours.shape}.")
    count, k = neighbours.shape
    rows = np.arange(count) if rows is None else np.asarray(rows, np.int64)
    if rows.shape != (count,):
        raise ValueError(f"Expected one row index per row of neighbours ({count}), got {rows.shape}.")
    height, width, _ = _check_grid(grid)
    codes = np.asarray(codes)
    firsts, seconds = np.repeat(rows, k), neighbours.reshape(-1)
    cells = np.empty((count * k, height, width), np.float64)
    block = rows_within(codes.shape[-1] * codes.itemsize, _BLOCK_BYTES)  # pairs' codes gathered at once
    for start in range(0, len(firsts), block):
        stop = start + block
        cells[start:stop] = pair_cells(codes[firsts[start:stop]], codes[seconds[start:stop]], grid)
    return cells.reshape(count, k, height, width)


def neighbour_cells(
    codes: np.ndarray,
    neighbours: np.ndarray,
    rows: np.ndarray,
    grid: tuple[int, int, int],
    centre: np.ndarray | None = None,
) -> np.ndarray:
    """The cells of images ``rows`` against each of their neighbours, as the gallery records them:
    of the codes less ``centre`` (the gallery's mean code), so that they add up to the
    similarity the gallery shows (:mod:`aevis.latent.neighbours`).

    Args:
        codes: the whole set's flattened codes (N, D), as encoded (NaN and infinite values
            are set to 0 here, as :func:`~aevis.latent.neighbours.finite_codes` does for the
            neighbour search); only the codes of ``rows`` and their neighbours are read.
        neighbours: int (N, k), the whole set's neighbour table.
        rows: int (n,), the images wanted.
        grid: (h, w, c) of the code.
        centre: float (D,) subtracted from every code, or None for the raw cosine.

    Returns:
        float64 (n, k, h, w), as :func:`cell_contributions`.
    """
    rows = np.asarray(rows, np.int64)
    wanted = np.asarray(neighbours, np.int64)[rows]
    needed = np.unique(np.concatenate([rows, wanted.reshape(-1)]))
    codes = finite_codes(codes[needed])
    if centre is not None:
        codes = codes - np.asarray(centre, codes.dtype).reshape(-1)
    return cell_contributions(codes, np.searchsorted(needed, wanted), grid, np.searchsorted(needed, rows))


def cells_to_pixels(cells: np.ndarray, height: int, width: int) -> np.ndarray:
    """Cell grids (..., h, w) laid over an image of ``height`` × ``width`` pixels.

    Pixel (y, x) lies in cell (⌊y·h/H⌋, ⌊x·w/W⌋), the block of the image the cell was computed
    from; it carries that cell's share divided by the cell's pixel count, so each pixel map
    still sums to the similarity. float32 (..., H, W).
    """
    cells = np.asarray(cells, np.float64)
    cell_rows, cell_columns = pixel_cells(cells.shape[-2:], height, width)
    per_row = np.bincount(cell_rows, minlength=cells.shape[-2])
    per_column = np.bincount(cell_columns, minlength=cells.shape[-1])
    area = np.outer(per_row, per_column)
    if (area == 0).any():
        raise ValueError(
            f"Expected an image at least as large as the {cells.shape[-2]}×{cells.shape[-1]} grid, "
            f"got {height}×{width}."
        )
    spread = cells / area
    return spread[..., cell_rows[:, None], cell_columns[None, :]].astype(np.float32)


def pixel_cells(grid_size: tuple[int, int], height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Which cell row each pixel row, and which cell column each pixel column, lies in: int
    (H,) and (W,), ⌊y·h/H⌋ and ⌊x·w/W⌋ for a grid of ``grid_size`` = (h, w) cells."""
    cells_high, cells_wide = grid_size
    return np.arange(height) * cells_high // height, np.arange(width) * cells_wide // width


def recorded_cells(cells: np.ndarray, similarity: float, decimals: int = RECORD_DECIMALS) -> list[list[float]]:
    """One pair's cells as the manifest records them: nested lists h × w, rounded to
    ``decimals`` like the similarities, with more decimals where that rounding would make
    them sum further than :data:`SUM_TOLERANCE` from ``round(similarity, decimals)``.

    An undefined (NaN or infinite) share is recorded as None (JSON null).
    """
    cells = np.asarray(cells, np.float64)
    target = round(float(similarity), decimals)
    if not np.isfinite(cells).all():
        return [[_plain(value) if math.isfinite(value) else None for value in row] for row in cells.tolist()]
    places = decimals
    while True:
        rounded = np.round(cells, places)
        if abs(float(rounded.sum()) - target) <= SUM_TOLERANCE or places >= _MOST_DECIMALS:
            break
        places += 1
    if places >= _MOST_DECIMALS and abs(float(rounded.sum()) - target) > SUM_TOLERANCE:
        rounded = cells  # the unrounded shares themselves: as close as the numbers go
    return [[_plain(value) for value in row] for row in rounded.tolist()]


def _plain(value: float) -> float:
    return 0.0 if value == 0 else float(value)  # no "-0.0" in the manifest


def _check_grid(grid) -> tuple[int, int, int]:
    if grid is None or len(grid) != 3 or math.prod(grid) <= 0:
        raise ValueError(f"Expected a code grid (h, w, c) of positive sizes, got {grid!r}.")
    return tuple(int(size) for size in grid)
