"""Nothing private is published: a site, its manifest, its report and its zip name the user's
files (images, model, the model to compare, custom objects) by their names alone, never by the
path that says where on the build machine they are."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aevis.config import BuildConfig
from tests import models


@pytest.fixture(scope="module")
def private_site(tmp_path_factory) -> tuple[Path, BuildConfig]:
    """A tiny gallery (with its zip) built from files given by absolute path: (the folder they
    are all in, the config). About 15 seconds."""
    from aevis.pipeline import build

    root = tmp_path_factory.mktemp("private-paths").resolve()
    images = root / "my photos"
    (images / "holiday").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for number in range(8):
        folder = images / "holiday" if number % 2 else images
        Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(folder / f"picture {number}.png")
    model, other = root / "my-model.keras", root / "other-model.keras"
    models.tiny_seed().save(model)
    models.strided_dense().save(other)
    custom = root / "my_layers.py"
    custom.write_text("import keras\n\n\nclass Unused(keras.layers.Layer):\n    pass\n")
    config = BuildConfig(
        out=root / "site",
        cache_dir=root / "cache",
        images=images,
        model=model,
        compare=other,
        custom_objects=custom,
        input_scale="0-1",
        zip=True,
        batch_size=8,
        neighbours=3,
        pages=3,
        methods=("saliency",),
        pair_method=None,
        faithfulness_sample=2,
        quiet=True,
    )
    build(config)
    return root, config


def _private_paths(root: Path) -> list[str]:
    """The build machine's paths a site must not hold: the folder of the user's files, the home
    folder and the working directory (each as written, and as the OS resolves it)."""
    found = set()
    for path in (root, Path.home(), Path.cwd()):
        found |= {str(path), str(path.resolve())}
    return sorted(path for path in found if len(path) > 1)  # "/" is in every URL


def test_no_absolute_path_in_any_file_of_the_site_or_its_zip(private_site):
    root, config = private_site
    secrets = _private_paths(root)
    files = [path for path in config.out.rglob("*") if path.is_file()]
    assert len(files) > 20 and (config.out / "report.html").is_file() and (config.out / "compare.html").is_file()
    leaks = [
        (path.relative_to(root).as_posix(), secret)
        for path in files
        for secret in secrets
        if secret.encode() in path.read_bytes()
    ]
    assert leaks == []
    with zipfile.ZipFile(root / "site.zip") as packed:
        entries = packed.infolist()
        assert len([entry for entry in entries if not entry.is_dir()]) == len(files)
        leaks = [
            (entry.filename, secret)
            for entry in entries
            for secret in secrets
            if secret in entry.filename or secret.encode() in packed.read(entry)
        ]
    assert leaks == []


def test_files_are_named_by_their_names_and_the_model_by_its_sha256(private_site):
    root, config = private_site
    manifest = json.loads((config.out / "data" / "manifest.json").read_text())
    parameters = manifest["parameters"]
    assert (parameters["images"], parameters["model"], parameters["compare"], parameters["custom_objects"]) == (
        "my photos",
        "my-model.keras",
        "other-model.keras",
        "my_layers.py",
    )
    assert manifest["model"]["source"] == "my-model.keras" and len(manifest["model"]["sha256"]) == 64
    assert manifest["compare"]["source"] == "other-model.keras"
    assert sorted(record["source"] for record in manifest["images"]) == sorted(
        path.relative_to(config.images).as_posix() for path in config.images.rglob("*.png")
    )
    report = (config.out / "report.html").read_text()
    assert "my-model.keras" in report and "my photos" in report
    assert manifest["model"]["sha256"] in (config.out / "model.html").read_text()


def test_every_path_option_is_recorded_by_its_name_alone():
    """Every path a build takes, given as a Path or (from a notebook) as text, relative or absolute."""
    config = BuildConfig(
        out=Path("/home/someone/site"),
        cache_dir="/home/someone/.cache",
        images="/home/someone/cats",
        encoder=Path("/srv/models/encoder.keras"),
        decoder="../models/decoder.h5",
        compare="/srv/models/other.keras",
        custom_objects=Path("/srv/code/layers.py"),
    )
    record = config.as_record()
    assert (record["images"], record["encoder"], record["decoder"], record["compare"], record["custom_objects"]) == (
        "cats",
        "encoder.keras",
        "decoder.h5",
        "other.keras",
        "layers.py",
    )
    assert "/" not in json.dumps(record)
    assert BuildConfig(images=".").as_record()["images"] == Path.cwd().name
