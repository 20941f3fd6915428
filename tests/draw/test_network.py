"""Pictures of the network at work: every channel's tile where the grid puts it, in the colours
the scale gives it; the layer strip from the input to the reconstruction."""

from __future__ import annotations

import numpy as np
import pytest

from aevis.draw import colour, network
from aevis.draw.pixels import BACKGROUND, GAP, square
from aevis.network import activations
from tests import models


def test_activation_grid_draws_and_numbers_every_channel_at_its_place():
    maps = np.random.default_rng(0).random((8, 8, 10)).astype(np.float32)
    grid = np.asarray(network.activation_grid(maps, "conv · 10 channels", normalisation="channel"))
    columns, rows, cell, gap, label, title = 4, 3, 48, 3, 13, 24  # ⌈√10⌉ columns, 8-px maps enlarged 6x
    assert grid.shape == (title + rows * (cell + label + gap), columns * (cell + gap) + gap, 3)
    tiles = np.round(colour.colour_activations(maps, "channel") * 255).astype(np.uint8)
    for channel in range(10):
        row, column = divmod(channel, columns)
        left, top = gap + column * (cell + gap), title + row * (cell + label + gap)
        np.testing.assert_array_equal(grid[top : top + cell, left : left + cell],
                                      tiles[channel].repeat(6, axis=0).repeat(6, axis=1), err_msg=str(channel))
        number = grid[top + cell : top + cell + label, left : left + cell]
        assert (number != BACKGROUND).any(), f"channel {channel} has no number"
    # Two cells of the last row are empty: nothing but the background there.
    assert (grid[title + 2 * (cell + label + gap) :, gap + 2 * (cell + gap) :] == BACKGROUND).all()
    with pytest.raises(ValueError, match="normalisation"):
        network.activation_grid(maps, "x", normalisation="global")


def test_layer_strip_runs_from_input_to_reconstruction(seed_ae):
    images = models.random_images(2, 16, seed=5)
    maps = activations.feature_maps(seed_ae, images[:1])
    layers = activations.strip_layers(seed_ae)
    assert [layer.name for layer in layers][3:6] == ["conv_3_e", "encoded", "conv_0_d"]
    strip = np.asarray(network.layer_strip(images[0], images[1], layers, {name: value[0] for name, value in maps.items()}))
    tile, arrow, columns = network.STRIP_TILE, network.STRIP_ARROW, len(layers) + 2
    assert strip.shape[1] == columns * tile + (columns - 1) * arrow + 2 * GAP
    # The input and the last picture (here another image, to tell them apart) are centred beside
    # the columns of the three strongest channels.
    top = GAP + (activations.STRONGEST - 1) * (tile + 3) // 2
    last = GAP + (columns - 1) * (tile + arrow)
    np.testing.assert_array_equal(strip[top : top + tile, GAP : GAP + tile], np.asarray(square(images[0], tile)))
    np.testing.assert_array_equal(strip[top : top + tile, last : last + tile], np.asarray(square(images[1], tile)))
