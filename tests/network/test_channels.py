"""Channel-gallery ranking: exact top images for a model whose channels are known colours,
ranked the way the build ranks them (per-image channel means merged by ``Results.encode`` as it
goes)."""

import numpy as np
import pytest

from aevis.network import activations
from aevis.network.channels import ChannelRanking
from aevis.store import encoding
from aevis.store.cache import ResultCache
from aevis.store.results import Results


def _flat_colours(colours):
    """Images of one flat colour each: (N, 8, 8, 3)."""
    return np.broadcast_to(np.asarray(colours, np.float32)[:, None, None, :], (len(colours), 8, 8, 3)).copy()


def _ranked(ae, images, batch_size=32):
    """The build's path: every image encoded once (no cache), each layer's channels ranked."""
    return Results(ae, images, ResultCache(None), batch_size).encode().rankings


def test_ranking_orders_by_value_and_breaks_ties_to_the_lower_index():
    values = np.array([[1.0, 5.0], [3.0, 5.0], [3.0, 0.0], [2.0, 7.0]], np.float32)
    ranking = ChannelRanking(2, k=3)
    ranking.add(values, 0)
    np.testing.assert_array_equal(ranking.indices, [[1, 2, 3], [3, 0, 1]])
    np.testing.assert_array_equal(ranking.values, [[3.0, 3.0, 2.0], [7.0, 5.0, 5.0]])
    assert ranking.cells is None


@pytest.mark.parametrize("chunk", [1, 3, 7, 40])
def test_streaming_ranking_matches_the_whole_set_in_any_chunk_order(chunk):
    rng = np.random.default_rng(0)
    values = rng.integers(0, 5, (40, 6)).astype(np.float32)  # many ties on purpose
    cells = rng.integers(0, 9, (40, 6, 2))
    whole = ChannelRanking(6, 8)
    whole.add(values, 0, cells)
    starts = list(range(0, 40, chunk))[::-1]  # last chunk first
    streamed = ChannelRanking(6, 8)
    for start in starts:
        streamed.add(values[start : start + chunk], start, cells[start : start + chunk])
    np.testing.assert_array_equal(streamed.indices, whole.indices)
    np.testing.assert_array_equal(streamed.values, whole.values)
    np.testing.assert_array_equal(streamed.cells, whole.cells)
    # Chunks of scattered images, named by their indices, as the encoder meets them.
    shuffled = ChannelRanking(6, 8)
    order = rng.permutation(40)
    for start in range(0, 40, chunk):
        rows = order[start : start + chunk]
        shuffled.add(values[rows], rows, cells[rows])
    np.testing.assert_array_equal(shuffled.indices, whole.indices)
    np.testing.assert_array_equal(shuffled.cells, whole.cells)
    # Against brute force: highest value, then lower index.
    for channel in range(6):
        expected = sorted(range(40), key=lambda i: (-values[i, channel], i))[:8]
        np.testing.assert_array_equal(whole.indices[channel], expected)
        np.testing.assert_array_equal(whole.cells[channel], cells[expected, channel])


def test_channel_galleries_of_a_hand_weighted_model_are_the_brightest_images(colour_ae, monkeypatch):
    rng = np.random.default_rng(1)
    colours = rng.permutation(np.linspace(0.05, 0.95, 12))[:, None] * np.ones(3)
    colours[:, 1] = rng.permutation(colours[:, 0])
    colours[:, 2] = rng.permutation(colours[:, 0])
    images = _flat_colours(colours)
    layers = activations.gallery_layers(colour_ae)
    assert [(layer.name, layer.part) for layer in layers] == [("colour", "encoder"), ("encoded", "bottleneck")]
    # Encoded 5 at a time, merged 3 at a time: the chunks must not change the winners.
    monkeypatch.setattr(encoding, "RANK_CHUNK", 3)
    rankings = _ranked(colour_ae, images, batch_size=5)
    assert set(rankings) == {"colour", "encoded"}
    for name in ("colour", "encoded"):
        for channel in range(3):
            expected = np.argsort(-colours[:, channel], kind="stable")[:8]
            np.testing.assert_array_equal(rankings[name].indices[channel], expected)
            np.testing.assert_allclose(rankings[name].values[channel], colours[expected, channel], rtol=1e-6)


def test_outline_box_surrounds_the_one_bright_spot(colour_ae):
    image = np.zeros((1, 8, 8, 3), np.float32)
    image[0, 5, 2, 1] = 1.0  # one green pixel at row 5, column 2
    rankings = _ranked(colour_ae, image)
    for layer in activations.gallery_layers(colour_ae):
        cell = rankings[layer.name].cells[1, 0]
        top, left, bottom, right = activations.outline_box(cell, layer, (8, 8))
        assert top <= 5 < bottom and left <= 2 < right, (layer.name, (top, left, bottom, right))
        side = round(2 * layer.scale)
        assert (bottom - top, right - left) == (side, side)
    colour = activations.gallery_layers(colour_ae)[0]
    assert tuple(rankings["colour"].cells[1, 0]) == (5, 2)
    assert activations.outline_box((5, 2), colour, (8, 8)) == (4, 2, 6, 4)
    # Near an edge the box is shifted inside, not cut.
    assert activations.outline_box((0, 7), colour, (8, 8)) == (0, 6, 2, 8)
