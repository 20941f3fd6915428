"""Reading image folders: every supported format and mode arrives at the model's input."""

import io

import numpy as np
import pytest
from PIL import Image

from aevis.data.folders import find_image_files, load_image, read_image_folder, to_shape
from aevis.data.imageset import unique_slugs
from aevis.errors import AevisError

SHAPE = (8, 8, 3)
RED = (200, 30, 40)


def _solid(mode, size=(12, 12), colour=None):
    if colour is None:
        colour = {"L": 128, "1": 1, "I": 32768, "I;16": 32768, "F": 0.5, "CMYK": (0, 255, 255, 0)}.get(mode, RED)
    return Image.new(mode, size, colour)


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("RGB", np.array(RED) / 255),
        ("L", [128 / 255] * 3),
        ("1", [1.0] * 3),
        ("I;16", [32768 / 65535] * 3),
        ("I", [32768 / 65535] * 3),
        ("F", [0.5] * 3),
        ("CMYK", [1.0, 0.0, 0.0]),
    ],
)
def test_each_mode_becomes_rgb_in_unit_range(tmp_path, mode, expected):
    path = tmp_path / ("image.tif" if mode in ("F", "I", "CMYK") else "image.png")
    _solid(mode).save(path)
    pixels = load_image(path, SHAPE)
    assert pixels.shape == SHAPE and pixels.dtype == np.float32
    np.testing.assert_allclose(pixels, np.broadcast_to(expected, SHAPE), atol=1 / 255)


def test_transparency_is_composited_on_white(tmp_path):
    rgba = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    rgba.paste((255, 0, 0, 255), (0, 0, 10, 5))  # top half opaque red, bottom transparent
    rgba.save(tmp_path / "rgba.png")
    pixels = load_image(tmp_path / "rgba.png", (10, 10, 3))
    np.testing.assert_allclose(pixels[1, 5], [1, 0, 0], atol=0.01)
    np.testing.assert_allclose(pixels[8, 5], [1, 1, 1], atol=0.01)

    la = Image.new("LA", (10, 10), (0, 0))
    la.save(tmp_path / "la.png")
    np.testing.assert_allclose(load_image(tmp_path / "la.png", SHAPE), 1.0, atol=0.01)

    palette = Image.new("P", (10, 10), 0)
    palette.putpalette([0, 0, 255, 0, 255, 0] + [0] * 762)
    palette.paste(1, (0, 0, 10, 5))
    palette.info["transparency"] = 0  # palette entry 0 (blue, the bottom half) is transparent
    palette.save(tmp_path / "p.png", transparency=0)
    pixels = load_image(tmp_path / "p.png", (10, 10, 3))
    np.testing.assert_allclose(pixels[1, 5], [0, 1, 0], atol=0.01)
    np.testing.assert_allclose(pixels[8, 5], [1, 1, 1], atol=0.01)


@pytest.mark.parametrize("extension", ["jpg", "webp", "bmp", "tiff", "gif", "png"])
def test_every_supported_format_reads(tmp_path, extension):
    path = tmp_path / f"image.{extension}"
    _solid("RGB", colour=(20, 200, 90)).save(path, **({"quality": 100} if extension in ("jpg", "webp") else {}))
    pixels = load_image(path, SHAPE)
    np.testing.assert_allclose(pixels, np.broadcast_to(np.array([20, 200, 90]) / 255, SHAPE), atol=0.03)


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    np.testing.assert_allclose(load_image(tmp_path / "anim.gif", SHAPE)[4, 4], [1, 0, 0], atol=0.02)


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (16, 8), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 8, 8))  # stored: red left half, blue right half
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view": upright, red is on top
    image.save(tmp_path / "rotated.jpg", exif=exif, quality=100)
    pixels = load_image(tmp_path / "rotated.jpg", (16, 8, 3))
    assert pixels[1, 4, 0] > 0.8 and pixels[1, 4, 2] < 0.2
    assert pixels[14, 4, 2] > 0.8 and pixels[14, 4, 0] < 0.2


def test_wide_image_is_centre_cropped_to_the_model_aspect(tmp_path):
    image = Image.new("RGB", (30, 10), (255, 0, 0))
    image.paste((0, 255, 0), (10, 0, 20, 10))  # green centre square, red sides
    image.save(tmp_path / "wide.png")
    np.testing.assert_allclose(
        load_image(tmp_path / "wide.png", (5, 5, 3)), np.broadcast_to([0, 1, 0], (5, 5, 3)), atol=0.01
    )


def test_colour_to_one_channel_uses_luma_and_grey_to_four_adds_opaque_alpha(tmp_path):
    _solid("RGB").save(tmp_path / "red.png")
    grey = load_image(tmp_path / "red.png", (4, 4, 1))
    assert grey.shape == (4, 4, 1)
    np.testing.assert_allclose(grey, (0.299 * 200 + 0.587 * 30 + 0.114 * 40) / 255, atol=1e-3)
    _solid("L").save(tmp_path / "grey.png")
    rgba = load_image(tmp_path / "grey.png", (4, 4, 4))
    np.testing.assert_allclose(rgba[..., 3], 1.0)
    np.testing.assert_allclose(rgba[..., :3], 128 / 255, atol=1e-3)


def test_images_already_read_come_to_another_input_as_a_file_would():
    wide = np.zeros((1, 10, 30, 3), np.float32)
    wide[..., 0] = 1.0
    wide[:, :, 10:20] = [0.0, 1.0, 0.0]  # green centre square, red sides: centre-cropped, then resized
    np.testing.assert_allclose(to_shape(wide, (5, 5, 3)), np.broadcast_to([0, 1, 0], (1, 5, 5, 3)), atol=1e-6)
    rgba = np.concatenate([np.full((2, 4, 4, 3), [0.8, 0.1, 0.2], np.float32), np.zeros((2, 4, 4, 1), np.float32)], -1)
    grey = to_shape(rgba, (8, 6, 1))  # the alpha is dropped, the colour becomes luma
    assert grey.shape == (2, 8, 6, 1) and grey.dtype == np.float32
    np.testing.assert_allclose(grey, 0.299 * 0.8 + 0.587 * 0.1 + 0.114 * 0.2, atol=1e-5)
    same = np.random.default_rng(0).random((2, 4, 4, 3), dtype=np.float32)
    assert to_shape(same, (4, 4, 3)) is same


def test_folder_is_read_recursively_skipping_hidden_and_rejecting_broken(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    for path in (
        tmp_path / "a" / "cat.png",
        tmp_path / "b" / "cat.png",
        tmp_path / "top.jpg",
        tmp_path / ".hidden" / "secret.png",
        tmp_path / ".dot.png",
    ):
        _solid("RGB").save(path, format="PNG" if path.suffix == ".png" else "JPEG")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.jpg").write_bytes(b"this is not an image")
    buffer = io.BytesIO()
    _solid("RGB", size=(64, 64)).save(buffer, format="PNG")
    (tmp_path / "truncated.png").write_bytes(buffer.getvalue()[:60])
    (tmp_path / "notes.txt").write_text("ignored: not an image extension")

    assert len(find_image_files(tmp_path)) == 7  # every visible file is a candidate
    imageset = read_image_folder(tmp_path, SHAPE)
    assert imageset.sources == ["top.jpg", "a/cat.png", "b/cat.png"]  # walk order: a folder's files, then sub-folders
    assert imageset.images.shape == (3, *SHAPE)
    assert imageset.names.count("cat.png") == 2
    assert len(set(unique_slugs(imageset.sources))) == 3
    assert sorted(reject.path for reject in imageset.rejected) == [
        "empty.png",
        "notes.txt",
        "text.jpg",
        "truncated.png",
    ]
    assert all(reject.reason for reject in imageset.rejected)


def test_missing_or_empty_folder_is_one_clear_error(tmp_path):
    with pytest.raises(AevisError, match="no such folder"):
        read_image_folder(tmp_path / "nope", SHAPE)
    with pytest.raises(AevisError, match="found no files"):
        read_image_folder(tmp_path, SHAPE)
    (tmp_path / "bad.png").write_bytes(b"x")
    with pytest.raises(AevisError, match="all 1 files were rejected"):
        read_image_folder(tmp_path, SHAPE)


def test_slugs_are_safe_unique_and_readable():
    slugs = unique_slugs(["Cats/Tom & Jerry.JPG", "cats/tom-jerry.jpg", "<script>.png", "Été/ñ.png", "../../x.png", ""])
    assert slugs[0] == "cats-tom-jerry-jpg" and slugs[1] == "cats-tom-jerry-jpg-2"
    assert slugs[2] == "script-png" and slugs[3] == "ete-n-png" and slugs[4] == "x-png" and slugs[5] == "image"
    assert all(set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-") for slug in slugs)
