"""How a value becomes a colour: colour-map ends, robust tops, overlays and legends, checked
against matplotlib's own colour maps and numbers worked out by hand."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from PIL import Image

from aevis.draw import colour


def _ends(colourmap: str) -> tuple[np.ndarray, np.ndarray]:
    """The RGB of a colour map's low and high ends, straight from matplotlib."""
    table = matplotlib.colormaps[colourmap]
    return np.array(table(0.0)[:3]), np.array(table(1.0)[:3])


def _bytes(rgb) -> np.ndarray:
    """[0, 1] RGB as the uint8 a PNG stores."""
    return np.round(np.asarray(rgb, np.float64) * 255).astype(np.uint8)


def _read(path) -> np.ndarray:
    with Image.open(path) as picture:
        return np.asarray(picture.convert("RGB"))


@pytest.mark.parametrize("colourmap", [colour.ERROR_COLOURMAP, colour.SIGNED_COLOURMAP])
def test_colourise_maps_vmin_and_vmax_to_the_colour_map_ends(colourmap):
    low, high = _ends(colourmap)
    values = np.array([[2.0, 6.0, 4.0], [-50.0, 50.0, np.nan], [np.inf, -np.inf, 2.0]], np.float32)
    rgb = colour.colourise(values, 2.0, 6.0, colourmap)
    assert rgb.shape == (3, 3, 3) and rgb.dtype == np.float32
    expected = np.array(
        [
            [low, high, matplotlib.colormaps[colourmap](0.5)[:3]],
            [low, high, low],  # beyond the ends: clipped; NaN: the low end
            [high, low, low],  # +inf: the high end, -inf: the low end
        ]
    )
    np.testing.assert_allclose(rgb, expected, atol=1e-6)


def test_colourise_with_equal_ends_does_not_divide_by_zero():
    rgb = colour.colourise(np.full((2, 2), 3.0), 3.0, 3.0)
    np.testing.assert_allclose(rgb, np.broadcast_to(_ends(colour.ERROR_COLOURMAP)[0], (2, 2, 3)), atol=1e-6)


def test_robust_upper_is_the_99th_percentile_of_the_finite_values():
    values = np.arange(1.0, 101.0)  # the 99th percentile of 1..100: 99 + 0.01 · (100 − 99)
    assert colour.robust_upper(values) == pytest.approx(99.01)
    assert colour.robust_upper(np.append(values, [np.nan, np.inf, -np.inf])) == pytest.approx(99.01)
    assert colour.robust_upper(values, percentile=50) == pytest.approx(50.5)
    # One extreme pixel among 200 cannot wash the scale out.
    assert colour.robust_upper(np.append(np.ones(199), 1000.0)) == 1.0


def test_robust_upper_falls_back_to_the_maximum_then_to_one():
    assert colour.robust_upper(np.append(np.zeros(100), 5.0)) == 5.0  # the percentile is 0: the max
    assert colour.robust_upper(np.zeros((4, 4))) == 1.0
    assert colour.robust_upper(np.array([np.nan, np.inf])) == 1.0


def test_display_scale_is_zero_to_the_top_or_symmetric_when_signed():
    values = np.arange(-100.0, 101.0)
    # Unsigned: negatives count as 0, so 101 zeros then 1..100; the 99th percentile (index 198) is 98.
    assert colour.display_scale(values, signed=False) == (0.0, 98.0)
    # Signed: magnitudes 0, 1, 1, 2, 2, ..., 100, 100; index 198 is 99.
    assert colour.display_scale(values, signed=True) == (-99.0, 99.0)


def _rows_image() -> tuple[np.ndarray, np.ndarray]:
    """A 10x10 image and a map: rows 0-4 at +1, rows 5-6 at −1, rows 7-9 at 0 (NaN in one pixel)."""
    image = np.random.default_rng(0).random((10, 10, 3)).astype(np.float32)
    values = np.zeros((10, 10), np.float32)
    values[:5], values[5:7], values[8, 3] = 1.0, -1.0, np.nan
    return image, values


def test_signed_overlay_is_red_for_positive_blue_for_negative_and_the_image_at_zero():
    image, values = _rows_image()
    result = colour.overlay(image, values, signed=True)
    grey = 0.35 + 0.55 * image  # the greyed image, as the legend's left end shows it
    blue, red = _ends(colour.SIGNED_COLOURMAP)
    assert red[0] > red[2] and blue[2] > blue[0]
    np.testing.assert_allclose(result[:5], 0.25 * grey[:5] + 0.75 * red, atol=1e-6)  # full strength, opacity 0.75
    np.testing.assert_allclose(result[5:7], 0.25 * grey[5:7] + 0.75 * blue, atol=1e-6)
    np.testing.assert_allclose(result[7:], grey[7:], atol=1e-6)  # zero and NaN leave the image
    assert result.dtype == np.float32 and result.shape == (10, 10, 3)


def test_unsigned_overlay_blends_in_by_strength():
    image, values = _rows_image()
    values[:5, :5] = 0.5  # half of the top (1.0, the 99th percentile): half strength
    values[5:7] = 0.0
    result = colour.overlay(image, values)
    grey = 0.35 + 0.55 * image
    table = matplotlib.colormaps[colour.ATTRIBUTION_COLOURMAP]
    np.testing.assert_allclose(result[:5, 5:], 0.25 * grey[:5, 5:] + 0.75 * np.array(table(1.0)[:3]), atol=1e-6)
    half = 0.375  # strength 0.5 × opacity 0.75
    np.testing.assert_allclose(result[:5, :5], (1 - half) * grey[:5, :5] + half * np.array(table(0.5)[:3]), atol=1e-6)
    np.testing.assert_allclose(result[5:], grey[5:], atol=1e-6)


def test_overlay_of_a_grey_image_is_grey_where_nothing_matters():
    image = np.full((3, 3, 1), 0.4, np.float32)  # one channel: repeated into RGB
    np.testing.assert_allclose(
        colour.overlay(image, np.zeros((3, 3))), np.full((3, 3, 3), 0.35 + 0.55 * 0.4), atol=1e-6
    )


@pytest.mark.parametrize("colourmap", [colour.ERROR_COLOURMAP, colour.ACTIVATION_COLOURMAP])
def test_legend_strip_runs_from_the_low_colour_on_the_left_to_the_high_one(tmp_path, colourmap):
    colour.legend_strip(tmp_path / "legend.png", colourmap)
    strip = _read(tmp_path / "legend.png")
    assert strip.shape == (colour.LEGEND_HEIGHT, colour.LEGEND_WIDTH, 3) == (12, 256, 3)
    ramp = _bytes(matplotlib.colormaps[colourmap](np.linspace(0, 1, 256))[:, :3])
    np.testing.assert_array_equal(strip, np.broadcast_to(ramp, strip.shape))


@pytest.mark.parametrize("signed", [False, True])
def test_overlay_legend_runs_from_the_bare_image_or_blue_to_full_heat(tmp_path, signed):
    colour.overlay_legend_strip(tmp_path / "legend.png", signed)
    strip = _read(tmp_path / "legend.png")
    assert strip.shape == (12, 256, 3)
    assert (strip == strip[:1]).all()  # every row alike
    grey = 0.35 + 0.55 * 0.6  # the mid-grey that stands for the image, greyed as overlays grey it
    low, high = _ends(colour.SIGNED_COLOURMAP if signed else colour.ATTRIBUTION_COLOURMAP)
    left = 0.25 * grey + 0.75 * low if signed else np.full(3, grey)
    np.testing.assert_allclose(strip[0, 0], _bytes(left), atol=1)
    np.testing.assert_allclose(strip[0, -1], _bytes(0.25 * grey + 0.75 * high), atol=1)
    if signed:  # zero is in the middle, where the image shows through
        np.testing.assert_allclose(strip[0, 127:129], _bytes([[grey] * 3] * 2), atol=3)


def test_activation_colours_per_layer_and_per_channel():
    maps = np.zeros((2, 2, 2), np.float32)
    maps[..., 0] = [[0, 1], [2, 3]]
    maps[..., 1] = 5.0  # a flat channel
    viridis = matplotlib.colormaps[colour.ACTIVATION_COLOURMAP]
    per_channel = colour.colour_activations(maps, "channel")
    assert per_channel.shape == (2, 2, 2, 3)
    np.testing.assert_allclose(per_channel[0], viridis(np.array([[0, 1], [2, 3]]) / 3)[..., :3], atol=1e-6)
    np.testing.assert_allclose(per_channel[1], viridis(np.zeros((2, 2)))[..., :3], atol=1e-6)  # flat: the low end
    # One scale for the layer: its lowest value to its 99.5th percentile.
    top = np.percentile([0, 1, 2, 3, 5, 5, 5, 5], colour.LAYER_PERCENTILE)
    per_layer = colour.colour_activations(maps, "layer")
    np.testing.assert_allclose(per_layer[0], viridis(np.array([[0, 1], [2, 3]]) / top)[..., :3], atol=1e-6)
    np.testing.assert_allclose(per_layer[1], viridis(np.ones((2, 2)))[..., :3], atol=1e-6)
    with pytest.raises(ValueError, match="'layer' or 'channel'"):
        colour.colour_activations(maps, "global")


def test_palettes_and_ramps_are_the_colour_maps_in_hex():
    assert colour.hex_colour((1.0, 0.5, 0.0, 0.3)) == "#ff8000"
    tab10 = matplotlib.colormaps["tab10"].colors
    assert colour.palette(3) == colour.palette(10) == [colour.hex_colour(c) for c in tab10]
    assert colour.palette(11) == [colour.hex_colour(c) for c in matplotlib.colormaps["tab20"].colors]
    inferno = matplotlib.colormaps[colour.ERROR_COLOURMAP]
    ramp = colour.error_ramp(5)
    assert len(ramp) == 5 and ramp[0] == colour.hex_colour(inferno(0.0)) and ramp[-1] == colour.hex_colour(inferno(1.0))
    assert ramp[2] == colour.hex_colour(inferno(0.5))
