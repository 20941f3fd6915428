"""Pictures of the network at work: every channel's tile where the grid puts it, in the colours
the scale gives it; the layer strip from the input to the reconstruction."""

from __future__ import annotations

import numpy as np
import pytest

from aevis.draw import colour, network
from aevis.draw.pixels import BACKGROUND, GAP, square
from aevis.network import activations
from aevis.network import layers as network_layers
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
        np.testing.assert_array_equal(
            grid[top : top + cell, left : left + cell],
            tiles[channel].repeat(6, axis=0).repeat(6, axis=1),
            err_msg=str(channel),
        )
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
    strip = np.asarray(
        network.layer_strip(images[0], images[1], layers, {name: value[0] for name, value in maps.items()})
    )
    tile, arrow, columns = network.STRIP_TILE, network.STRIP_ARROW, len(layers) + 2
    assert strip.shape[1] == columns * tile + (columns - 1) * arrow + 2 * GAP
    # The input and the last picture (here another image, to tell them apart) are centred beside
    # the columns of the three strongest channels.
    top = GAP + (network_layers.STRONGEST - 1) * (tile + 3) // 2
    last = GAP + (columns - 1) * (tile + arrow)
    np.testing.assert_array_equal(strip[top : top + tile, GAP : GAP + tile], np.asarray(square(images[0], tile)))
    np.testing.assert_array_equal(strip[top : top + tile, last : last + tile], np.asarray(square(images[1], tile)))


def test_long_layer_names_wrap_and_never_run_into_the_next_caption():
    rng = np.random.default_rng(0)
    names = ["conv2d_transpose_11", "conv2d_transpose_12", "max_pooling2d_1", "averyveryverylongnamewithoutbreaks"]
    layers = [
        network_layers.LayerInfo(name, "Conv2DTranspose", "bottleneck" if number == 1 else "decoder", 4, (8, 8), 2.0)
        for number, name in enumerate(names)
    ]
    maps = {name: rng.random((8, 8, 4)).astype(np.float32) for name in names}
    strip = np.asarray(network.layer_strip(rng.random((16, 16, 3)), rng.random((16, 16, 3)), layers, maps))
    labels = strip[GAP + network_layers.STRONGEST * (network.STRIP_TILE + 3) :]
    assert (labels != BACKGROUND).any(axis=-1).any()  # the captions are there
    pitch = network.STRIP_TILE + network.STRIP_ARROW
    for boundary in range(1, len(names) + 2):  # the middle of each gap between two columns
        x = GAP + boundary * pitch - network.STRIP_ARROW // 2
        assert (labels[:, x - 1 : x + 2] == BACKGROUND).all(), f"a caption crosses gap {boundary}"
    typeface = network.font(10)
    for name in names:
        lines = network.wrap_caption(name, pitch - 6, typeface)
        assert "".join(lines) == name and len(lines) > 1
        assert all(typeface.getlength(line) <= pitch - 6 for line in lines)
    assert network.wrap_caption("conv2d_transpose_12", pitch - 6, typeface)[0].endswith("_")  # broken at a word
