"""The exact "why similar" of spatial codes: cell shares of the cosine similarity
(:mod:`aevis.latent.cells`). The cells' faithfulness check is tested in
tests/faithfulness/test_cells.py, the manifest and pages that show them in tests/site/test_cell_pages.py."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from aevis.latent.cells import (
    SUM_TOLERANCE,
    cell_contributions,
    cells_to_pixels,
    code_grid,
    grid_of,
    neighbour_cells,
    pair_cells,
    recorded_cells,
    shows_places,
)
from aevis.latent.neighbours import nearest_neighbours
from aevis.model import wrap_autoencoder
from tests import user_models


def _cosine(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    first, second = first.astype(np.float64), second.astype(np.float64)
    return (first * second).sum(axis=1) / (np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1))


# --------------------------------------------------------------------------- the arithmetic


def test_cells_sum_to_the_cosine_similarity_of_random_codes():
    rng = np.random.default_rng(0)
    grid = (3, 5, 4)
    codes = rng.normal(size=(40, math.prod(grid))).astype(np.float32)
    neighbours, similarities = nearest_neighbours(codes, 4)
    cells = cell_contributions(codes, neighbours, grid)
    assert cells.shape == (40, 4, 3, 5)
    expected = _cosine(np.repeat(codes, 4, axis=0), codes[neighbours.reshape(-1)]).reshape(40, 4)
    np.testing.assert_allclose(cells.sum(axis=(2, 3)), expected, atol=1e-12)
    np.testing.assert_allclose(cells.sum(axis=(2, 3)), similarities, atol=1e-5)  # the recorded similarities
    assert (cells < 0).any() and (cells > 0).any()  # shares can take from the similarity too
    # Any pairs at once, and a subset of rows of a larger table, give the same shares.
    first, second = rng.normal(size=(2, 7, math.prod(grid)))
    np.testing.assert_allclose(pair_cells(first, second, grid).sum(axis=(1, 2)), _cosine(first, second), atol=1e-12)
    rows = np.array([5, 11, 30])
    np.testing.assert_array_equal(cell_contributions(codes, neighbours[rows], grid, rows), cells[rows])


def test_cells_of_a_tiny_code_written_out_by_hand():
    # Two 2×2×1 codes, flattened row-major: a = [[1, 2], [3, 4]], b = [[2, 0], [-1, 1]].
    a = np.array([[1.0, 2.0, 3.0, 4.0]], np.float32)
    b = np.array([[2.0, 0.0, -1.0, 1.0]], np.float32)
    # a·b = 2 + 0 − 3 + 4 = 3; ‖a‖ = √30, ‖b‖ = √6, so cos = 3 / √180.
    norms = math.sqrt(30) * math.sqrt(6)
    [cells] = pair_cells(a, b, (2, 2, 1))
    np.testing.assert_allclose(cells, [[2 / norms, 0.0], [-3 / norms, 4 / norms]], rtol=1e-12)
    assert cells.sum() == pytest.approx(3 / math.sqrt(180), abs=1e-12)
    # With two channels a cell's share is the dot product of its two channel vectors.
    a2 = np.array([[1.0, 0.0, 0.0, 2.0]], np.float32)  # cell (0, 0) = (1, 0), cell (0, 1) = (0, 2)
    b2 = np.array([[3.0, 4.0, 0.0, -1.0]], np.float32)  # cell (0, 0) = (3, 4), cell (0, 1) = (0, -1)
    [cells2] = pair_cells(a2, b2, (1, 2, 2))
    np.testing.assert_allclose(cells2, [[3 / (math.sqrt(5) * math.sqrt(26)), -2 / (math.sqrt(5) * math.sqrt(26))]])


def test_a_zero_code_has_zero_cells_and_a_broken_code_undefined_ones():
    codes = np.array([[0, 0, 0, 0], [1, 2, 3, 4], [np.nan, 1, 1, 1]], np.float32)
    cells = cell_contributions(codes, np.array([[1], [0], [1]]), (2, 2, 1))
    assert (cells[0] == 0).all() and (cells[1] == 0).all()  # similarity 0, as the neighbour search counts it
    assert np.isnan(cells[2]).all()
    # As the gallery records them: broken values set to 0 first, as the neighbour search does.
    recorded = neighbour_cells(codes, np.array([[1], [0], [1]]), np.array([2, 1]), (2, 2, 1))
    np.testing.assert_allclose(recorded[0, 0], pair_cells(np.array([[0, 1, 1, 1]]), codes[1:2], (2, 2, 1))[0])
    assert (recorded[1] == 0).all()
    with pytest.raises(ValueError, match=r"shape \(M, 8\)"):
        pair_cells(codes, codes, (2, 2, 2))


def test_cells_laid_over_the_image_keep_their_sum_and_their_place():
    cells = np.array([[1.0, -2.0], [0.5, 0.0]])
    pixels = cells_to_pixels(cells, 4, 4)
    np.testing.assert_allclose(pixels[:2, :2], 0.25)  # each cell's share spread over its 2×2 block
    np.testing.assert_allclose(pixels[:2, 2:], -0.5)
    np.testing.assert_allclose(pixels[2:, :2], 0.125)
    assert pixels.sum() == pytest.approx(cells.sum())
    uneven = cells_to_pixels(cells, 5, 3)  # cells of unequal size: still the same sum
    assert uneven.shape == (5, 3) and uneven.sum() == pytest.approx(cells.sum())
    assert cells_to_pixels(np.ones((2, 3, 2, 2)), 6, 6).shape == (2, 3, 6, 6)


def test_recorded_cells_sum_to_the_recorded_similarity_with_more_decimals_where_needed():
    rng = np.random.default_rng(1)
    shares = rng.normal(0, 0.01, (4, 4))
    recorded = recorded_cells(shares, shares.sum())
    assert all(value == round(value, 6) for row in recorded for value in row)  # rounded like the similarities
    assert abs(sum(map(sum, recorded)) - round(shares.sum(), 6)) <= SUM_TOLERANCE
    # A hundred shares of 1.4e-6 round to 1e-6 each at six decimals, 4e-5 short of their sum.
    tiny = np.full((10, 10), 1.4e-6)
    recorded = recorded_cells(tiny, tiny.sum())
    assert abs(sum(map(sum, recorded)) - round(tiny.sum(), 6)) <= SUM_TOLERANCE
    assert recorded[0][0] == pytest.approx(1.4e-6, abs=5e-8)
    assert recorded_cells(np.array([[np.nan]]), 0.0) == [[None]]


def test_the_grid_of_a_conv_code_and_none_for_a_dense_one(seed_ae, quadrant_ae):
    assert code_grid(seed_ae) == (1, 1, 8)  # 16×16 pooled four times: one cell, exact but nowhere
    assert not shows_places(code_grid(seed_ae))
    assert code_grid(quadrant_ae) is None  # its code is the Dense layer 'encoded'
    assert code_grid(wrap_autoencoder(user_models.dense_bottleneck())) is None
    assert code_grid(wrap_autoencoder(user_models.sequential_with_input())) == (4, 4, 4)
    assert shows_places((4, 4, 4)) and grid_of((None, 4, 4)) is None and grid_of((6,)) is None


def test_pair_cells_of_large_codes_never_copy_a_code_into_float64():
    # A 540×540 document denoiser's code is 270×270×16 numbers; its cells were once worked out
    # on float64 copies of a thousand pairs' codes at once (9 GB, issue 21).
    grid = (270, 270, 16)
    rng = np.random.default_rng(0)
    first = rng.standard_normal((3, math.prod(grid)), dtype=np.float32)
    second = rng.standard_normal((3, math.prod(grid)), dtype=np.float32)
    tracemalloc.start()
    try:
        cells = pair_cells(first, second, grid)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The cells themselves (3 × 270 × 270 float64, 1.7 MB) and per-cell sums of one block of
    # pairs; a float64 copy of one code alone would be 9.3 MB.
    assert peak < math.prod(grid) * 8
    np.testing.assert_allclose(cells.sum(axis=(1, 2)), _cosine(first, second), rtol=0, atol=1e-9)
