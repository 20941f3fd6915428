"""Arrays to pictures: uint8 values survive a PNG exactly, NaN is black, enlarging keeps pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from aevis.draw import pixels


@pytest.mark.parametrize(("channels", "mode"), [(1, "L"), (3, "RGB"), (4, "RGBA")])
def test_save_png_round_trips_every_uint8_value(tmp_path, channels, mode):
    stored = np.random.default_rng(channels).integers(0, 256, (16, 20, channels), dtype=np.uint8)
    stored.reshape(-1)[:256] = np.arange(256)  # every level at least once
    pixels.save_png(stored.astype(np.float32) / 255, tmp_path / "picture.png")
    with Image.open(tmp_path / "picture.png") as picture:
        assert (picture.mode, picture.size) == (mode, (20, 16))
        np.testing.assert_array_equal(np.asarray(picture).reshape(16, 20, channels), stored)


def test_to_pil_clips_to_the_unit_range_and_draws_nan_black():
    image = np.array([[[-0.5, 1.5, np.nan], [0.5, 0.2, 1.0]]], np.float32)
    np.testing.assert_array_equal(np.asarray(pixels.to_pil(image)), [[[0, 255, 0], [128, 51, 255]]])


def test_square_enlarges_with_sharp_pixels_in_rgb():
    image = np.array([[[0.0], [1.0]], [[0.2], [0.6]]], np.float32)  # 2x2 grey
    enlarged = np.asarray(pixels.square(image, 6))
    assert enlarged.shape == (6, 6, 3)
    expected = np.array([[0, 255], [51, 153]], np.uint8).repeat(3, axis=0).repeat(3, axis=1)
    np.testing.assert_array_equal(enlarged, np.repeat(expected[..., None], 3, axis=-1))
