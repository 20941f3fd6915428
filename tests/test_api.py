"""aevis.build: the notebook's way in. On an in-memory model, images handed over as an array
(bytes, or floats in [-1, 1]), a list of files or a tf.data dataset give the codes the command
gives on the same images saved as PNG files and the model saved as a file."""

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import aevis
from aevis._utils.pixels import to_bytes
from aevis.api import _config_and_inputs, _stages
from aevis.cli import main
from aevis.data import builtin
from aevis.data.given import ArrayImages, FileImages, dataset_images, value_range
from aevis.errors import AevisError
from tests import models

# No heat-maps: the codes are what is compared, and the rest of a build is the command's own.
FAST = dict(
    pages=1, methods=(), pair_method=None, faithfulness_sample=0, neighbours=3, batch_size=8, cache=False, quiet=True
)
FAST_FLAGS = [
    "--pages",
    "1",
    "--methods",
    "--no-pair-maps",
    "--faithfulness-sample",
    "0",
    "--neighbours",
    "3",
    "--batch-size",
    "8",
    "--no-cache",
    "--quiet",
]


@pytest.fixture(scope="module")
def shapes():
    """12 built-in shapes of 16x16 as bytes, and their labels."""
    imageset = builtin.make_shapes(12, 16, seed=3)
    return to_bytes(imageset.images[:]), imageset.labels


@pytest.fixture(scope="module")
def model():
    return models.tiny_seed()


@pytest.fixture(scope="module")
def by_command(tmp_path_factory, shapes, model):
    """The command's build on the images as PNG files and the model as a .keras file: its folder."""
    root = tmp_path_factory.mktemp("command")
    pixels, _ = shapes
    for index, image in enumerate(pixels):
        Image.fromarray(image).save(root / f"{index:02d}.png")
    model.save(root / "model.keras")
    out = root / "site"
    assert (
        main(
            [
                "--model",
                str(root / "model.keras"),
                "--images",
                str(root),
                "--out",
                str(out),
                "--cache-dir",
                str(root / "cache"),
                *FAST_FLAGS,
            ]
        )
        == 0
    )
    return root


def _codes(site: Path) -> np.ndarray:
    return np.load(site / "data" / "codes.npy")


def _manifest(site: Path) -> dict:
    return json.loads((site / "data" / "manifest.json").read_text())


@pytest.mark.parametrize("form", ["uint8 array", "float array in [-1, 1]", "list of files", "tf.data dataset"])
def test_images_in_memory_give_the_codes_the_command_gives_on_files(form, shapes, model, by_command, tmp_path):
    pixels, labels = shapes
    images = {
        "uint8 array": lambda: pixels,
        "float array in [-1, 1]": lambda: pixels.astype(np.float32) / 127.5 - 1,
        "list of files": lambda: [str(by_command / f"{index:02d}.png") for index in range(len(pixels))],
        "tf.data dataset": lambda: tf.data.Dataset.from_tensor_slices((pixels, labels)).batch(5),
    }[form]()
    gallery = aevis.build(
        model=model,
        images=images,
        out=tmp_path / "site",
        cache_dir=tmp_path / "cache",
        labels=None if form == "tf.data dataset" else labels,
        **FAST,
    )

    expected = _codes(by_command / "site")
    assert expected.shape == (12, 8)
    np.testing.assert_allclose(_codes(tmp_path / "site"), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gallery.codes, expected, rtol=1e-6, atol=1e-7)
    manifest = _manifest(tmp_path / "site")
    assert [record["label"] for record in manifest["images"]] == labels
    assert manifest["model"]["source"] == f"{model.name} (given in memory)"
    assert gallery.site == tmp_path / "site"


def test_the_notebook_shows_the_finding_the_counts_and_a_link(shapes, model, tmp_path, monkeypatch):
    pixels, labels = shapes
    monkeypatch.chdir(tmp_path)
    gallery = aevis.build(model=model, images=pixels, labels=labels, out="gallery", **FAST)
    shown = gallery._repr_html_()

    quality = _manifest(tmp_path / "gallery")["map_quality"]
    agreement = f"{quality['label_agreement_codes'] * 100:.0f}%"
    chance = f"{quality['label_agreement_chance'] * 100:.0f}%"
    assert f"Of each image's {quality['k']} most similar codes, {agreement} belong to images of the same label" in shown
    assert chance in shown
    assert "<strong>12</strong> images" in shown and "<strong>4</strong> kinds" in shown
    assert 'href="gallery/index.html"' in shown and 'href="gallery/map.html#c=label"' in shown
    assert (tmp_path / "gallery" / "index.html").is_file()


def test_an_in_memory_model_is_known_by_its_weights_across_builds(shapes, tmp_path):
    pixels, _ = shapes
    first, same = models.tiny_seed(), models.tiny_seed()
    options = dict(FAST, cache=True, cache_dir=tmp_path / "cache")
    built = aevis.build(model=first, images=pixels, out=tmp_path / "a", **options)
    again = aevis.build(model=same, images=pixels, out=tmp_path / "b", **options)
    assert built.model_key == again.model_key and built.model_info.sha256 == again.model_info.sha256
    same.layers[1].kernel.assign(same.layers[1].kernel * 2)
    moved = aevis.build(model=same, images=pixels, out=tmp_path / "c", **options)
    assert moved.model_info.sha256 != built.model_info.sha256
    assert not np.allclose(moved.codes, built.codes)


@pytest.mark.parametrize(
    ("values", "low", "high"),
    [
        (np.array([[0, 7, 255]], np.uint8), 0, 255),
        (np.array([[0, 60000]], np.uint16), 0, 65535),
        (np.array([[0, 255]], np.int64), 0, 255),
        (np.array([[0.0, 0.5, 1.0]], np.float32), 0, 1),
        (np.array([[-1.0, 0.25]], np.float32), -1, 1),
        (np.array([[0.0, 3.5, 200.0]], np.float64), 0, 255),
        (np.array([[-3.0, np.nan, 5.0, np.inf]], np.float32), -3, 5),
    ],
)
def test_an_arrays_range_is_found_from_its_values(values, low, high):
    found = value_range(values)
    assert (found.low, found.high) == (low, high)
    unit = found.to_unit(values)
    assert unit.dtype == np.float32 and unit.min() >= 0 and unit.max() <= 1
    if np.isnan(values.astype(float)).any():
        np.testing.assert_array_equal(unit, [[0.0, 0.0, 1.0, 0.0]])


def test_grey_arrays_datasets_of_pairs_and_one_hot_labels(tmp_path):
    grey = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4) * 7
    read = ArrayImages(grey).read((4, 4, 3))
    np.testing.assert_array_equal(read.images.bytes(slice(None)), np.repeat(grey[..., None], 3, axis=-1))
    assert read.names == ["image-0000", "image-0001"]

    pairs = tf.data.Dataset.from_tensor_slices((grey, grey)).batch(1)  # (x, x), as fit takes them
    assert dataset_images(pairs).labels is None
    one_hot = tf.data.Dataset.from_tensor_slices((grey[..., None], np.eye(3)[[2, 0]]))  # unbatched
    assert dataset_images(one_hot).labels == ["2", "0"]
    assert dataset_images(one_hot, labels=["cat", "dog"]).labels == ["cat", "dog"]

    Image.fromarray(grey[0]).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"not a picture")
    files = FileImages([tmp_path / "b.png", tmp_path / "a.png"], labels=["x", "y"]).read((4, 4, 1))
    assert (
        files.labels == ["y"]
        and files.names == ["a.png"]
        and [r.path for r in files.rejected] == [(tmp_path / "b.png").as_posix()]
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (dict(images=np.zeros((2, 8, 8, 2))), "1, 3 or 4 channels"),
        (dict(images=np.zeros((2, 8, 8, 3)), labels=[1]), "one of the labels per image, 2 in all, but got 1"),
        (dict(images=np.zeros((2, 8, 8, 3)), epoch=3), "no option 'epoch'; did you mean 'epochs'?"),
        (dict(images=np.zeros((2, 8, 8, 3)), pages=0), "pages must be at least 1"),
        (dict(images=np.array([[[[-5, 300, 0]]]])), "whole-number pixel values from 0 to 255"),
        (dict(model="a string is a file", images=".", labels=[1]), "not with a folder"),
        (dict(model=3), "Expected model to be a keras.Model or a model file, but got a int."),
        (dict(compare=models.tiny_seed()), "Expected compare to be a path, but got a Functional."),
        (
            dict(images=tf.data.Dataset.from_tensor_slices({"x": np.zeros((2, 8, 8, 3))})),
            "Expected a dataset of images",
        ),
    ],
)
def test_inputs_it_cannot_use_are_one_sentence(arguments, message):
    model = arguments.pop("model", None)
    images = arguments.pop("images", None)
    labels = arguments.pop("labels", None)
    with pytest.raises(AevisError, match=message.replace("(", r"\(").replace("?", r"\?")):
        _config_and_inputs(model, images, "site", None, None, labels, None, arguments)


def test_a_notebook_without_ipywidgets_gets_no_bars_and_a_line_saying_why(monkeypatch, capsys):
    from rich.console import Console

    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    console = Console(force_jupyter=True, stderr=True)
    stages = _stages(quiet=False, console=console)
    assert stages.quiet
    assert not _stages(quiet=False, console=Console(force_jupyter=False, stderr=True)).quiet
