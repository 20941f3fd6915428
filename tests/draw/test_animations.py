"""Latent morphs, occlusion sweeps and feature visualization: frames, sizes and known values."""

import types

import numpy as np
import pytest
from PIL import Image

from aevis.draw import animations
from aevis.network import activations, featurevis, morphs
from tests import models


def test_interpolation_is_linear_and_includes_both_ends():
    start, end = np.array([[0.0, 2.0]]), np.array([[1.0, -2.0]])
    line = morphs.interpolate(start, end, steps=5)
    np.testing.assert_allclose(line[0], [[0, 2], [0.25, 1], [0.5, 0], [0.75, -1], [1, -2]])
    assert animations.there_and_back(4) == [0, 1, 2, 3, 2, 1]


def test_morph_ends_are_the_two_reconstructions(seed_ae):
    images = models.random_images(2, 16, seed=6)
    codes = seed_ae.encode(images)
    frames = morphs.morphs(seed_ae, codes[:1], codes[1:], steps=14)
    assert frames.shape == (1, 14, 16, 16, 3)
    rebuilt = seed_ae.reconstruct(images)
    np.testing.assert_allclose(frames[0, 0], rebuilt[0], atol=1e-5)
    np.testing.assert_allclose(frames[0, -1], rebuilt[1], atol=1e-5)
    assert morphs.morphs(types.SimpleNamespace(decoder=None), codes[:1], codes[1:]) is None


def test_morph_gif_has_the_stated_frames_and_size(tmp_path, seed_ae):
    images = models.random_images(2, 16, seed=7)
    frames = morphs.morphs(seed_ae, seed_ae.encode(images[:1]), seed_ae.encode(images[1:]))[0]
    count, size = animations.morph_gif(images[0], frames, images[1], tmp_path / "morph.gif")
    assert (count, size) == (2 * morphs.MORPH_STEPS - 2, (312, 118))
    assert animations.morph_size() == size  # the size the page states
    with Image.open(tmp_path / "morph.gif") as gif:
        assert (gif.n_frames, gif.size) == (26, (312, 118))
        assert gif.info["loop"] == 0


def test_sweep_gif_has_the_stated_frames_and_size(tmp_path):
    image = models.random_images(1, 16, seed=8)[0]
    heat = np.random.default_rng(9).normal(size=(16, 16)).astype(np.float32)
    count, size = animations.sweep_gif(image, heat, patch=2, stride=1, path=tmp_path / "sweep.gif")
    assert (count, size) == (animations.SWEEP_FRAMES, (274, 140))
    assert animations.sweep_size() == size  # the size the page states
    with Image.open(tmp_path / "sweep.gif") as gif:
        assert (gif.n_frames, gif.size) == (24, (274, 140))
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB"))
    # The last frame shows the whole map: its right panel differs from the bare greyed image.
    assert last[:, 140:].std() > 10


def _code_channel_means(ae, images, channels):
    """Mean activation of code channel ``channels[k]`` for ``images[k]``."""
    means = activations.channel_means(activations.feature_maps(ae, images, [ae.bottleneck])[ae.bottleneck])
    return means[np.arange(len(channels)), channels]


def test_feature_visualization_raises_its_channel(colour_ae):
    ae = colour_ae
    channels = [0, 2]
    start = np.full((2, 8, 8, 3), 0.5, np.float32)
    pictures_ = featurevis.visualize(ae, channels, steps=12, seed=0)
    assert pictures_.shape == (2, 8, 8, 3) and pictures_.min() >= 0 and pictures_.max() <= 1
    before, after = _code_channel_means(ae, start, channels), _code_channel_means(ae, pictures_, channels)
    assert np.all(after > before + 0.3), (before, after)
    # Channel k wants colour k: the optimised image is more of its own colour than of the others.
    assert pictures_[0, ..., 0].mean() > pictures_[0, ..., 1:].mean() + 0.2
    np.testing.assert_array_equal(featurevis.varied_channels(np.array([[0, 1, 5.0], [0, 3, -5.0]]), 2), [2, 1])
    with pytest.raises(ValueError, match="channels 0..2"):
        featurevis.visualize(ae, [3], steps=1)
