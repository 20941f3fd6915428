"""The cells' own deletion check (:mod:`aevis.faithfulness.cells`): grey out the cells that
carry most of a similarity, on a code that reads one quadrant of the image."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aevis.faithfulness.cells import CELLS, _random_cells, cell_deletion, cell_pixel_maps, with_cells
from aevis.faithfulness.deletion import deletion_order
from aevis.latent.cells import (
    code_grid,
)
from aevis.latent.neighbours import nearest_neighbours
from aevis.model import wrap_autoencoder
from tests import models


@pytest.fixture(scope="module")
def quadrant_grid_ae():
    """The quadrant reader with its code taken at 'last_conv': a 16×16×4 grid that is exactly
    zero outside the top-left 8×8 quadrant, the only part of the image the code depends on."""
    return wrap_autoencoder(models.top_left_reader(), "last_conv")


def test_cell_deletion_on_a_code_that_reads_one_quadrant(quadrant_grid_ae):
    ae = quadrant_grid_ae
    assert code_grid(ae) == (16, 16, 4)
    images = models.random_images(12, 16, seed=3)
    codes = ae.encode(images)
    neighbours, similarities = nearest_neighbours(codes, 1)
    maps = cell_pixel_maps(ae, images, codes[neighbours[:, 0]])
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), similarities[:, 0], atol=1e-5)
    # All of the map's mass, agreeing or not, is on the quadrant the code reads.
    assert np.abs(maps[:, :8, :8]).sum() == pytest.approx(np.abs(maps).sum())
    assert np.abs(maps[:, 8:]).max() == 0 and np.abs(maps[:, :, 8:]).max() == 0
    figures = cell_deletion(ae, images, codes[neighbours[:, 0]], sample=12)
    assert math.isfinite(figures["deletion_auc"]) and math.isfinite(figures["random_deletion_auc"])
    # Deleting the quadrant first ends the code's change after a quarter of the pixels; a random
    # order is still changing it at the end.
    assert figures["deletion_auc"] < 0.5 * figures["random_deletion_auc"]
    assert figures["deletion_auc"] < 0.5 * figures["random_pixels_deletion_auc"]
    assert figures["randomization_spearman"] is figures["object_share"] is figures["mask_share"] is None


def test_the_cell_maps_random_baseline_greys_out_whole_cells_one_after_another():
    values = _random_cells((3, 6, 9), (2, 3), seed=4)  # cells of 3 x 3 pixels
    blocks = values.reshape(3, 2, 3, 3, 3).transpose(0, 1, 3, 2, 4).reshape(3, 6, 9)
    assert (blocks == blocks[..., :1]).all()  # one value per cell
    assert len(np.unique(values[0])) == 6  # six cells, six ranks
    order = deletion_order(values, seed=4)
    cell_of_pixel = (np.arange(6)[:, None] // 3 * 3 + np.arange(9)[None, :] // 3).reshape(-1)
    for image in order:  # each cell's nine pixels are deleted together
        deleted_cells = cell_of_pixel[image].reshape(6, 9)
        assert (deleted_cells == deleted_cells[:, :1]).all() and len(np.unique(deleted_cells[:, 0])) == 6


def test_cell_deletion_needs_a_grid(quadrant_ae):
    images = models.random_images(2, 16)
    with pytest.raises(ValueError, match="no grid"):
        cell_deletion(quadrant_ae, images, quadrant_ae.encode(images))


def test_the_chart_gets_the_cell_row_last_with_nan_where_a_check_does_not_apply():
    figures = {
        "saliency": {
            "deletion_auc": 0.2,
            "random_deletion_auc": 0.4,
            "randomization_spearman": 0.3,
            "object_share": 0.5,
            "mask_share": 0.2,
        }
    }
    cells = {
        "deletion_auc": 0.1,
        "random_deletion_auc": 0.4,
        "randomization_spearman": None,
        "object_share": None,
        "mask_share": None,
    }
    charted = with_cells(figures, cells)
    assert list(charted) == ["saliency", CELLS] and set(charted[CELLS]) == set(figures["saliency"])
    assert charted[CELLS]["deletion_auc"] == 0.1 and math.isnan(charted[CELLS]["randomization_spearman"])
    assert with_cells(figures, None) is figures
