"""A ``.keras`` archive is checked from its zip directory before anything in it is read: a zip
bomb is refused in one sentence without being inflated; honest models, zipped again, still load."""

from __future__ import annotations

import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from aevis.errors import AevisError
from aevis.model import archive
from aevis.model.files import load_model_file
from tests import models

BOMB_SIZE = 2**30
"""What the bomb would inflate to: the gigabyte of the report that found it (2.8 GB of memory
taken before Keras refused it)."""


def _rezipped(source: Path, target: Path, **options) -> Path:
    """``source``'s members written again into ``target`` with zipfile ``options``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", **options) as new:
        for member in old.infolist():
            new.writestr(member.filename, old.read(member))
    return target


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    """A real model's config and metadata beside weights that are a gigabyte of zeros, streamed
    through DEFLATE: 4.7 MB on disk. About 4 seconds to make."""
    folder = tmp_path_factory.mktemp("bomb")
    honest = folder / "honest.keras"
    models.tiny_seed().save(honest)
    bomb = folder / "bomb.keras"
    with zipfile.ZipFile(honest) as model, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as packed:
        for name in ("metadata.json", "config.json"):
            packed.writestr(name, model.read(name))
        with packed.open("model.weights.h5", "w", force_zip64=True) as weights:
            zeros = bytes(2**24)
            for _ in range(BOMB_SIZE // len(zeros)):
                weights.write(zeros)
    return bomb


def test_a_zip_bomb_is_refused_from_its_directory_without_inflating_it(zip_bomb):
    assert zip_bomb.stat().st_size < 8e6
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(AevisError) as refused:
            load_model_file(zip_bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 2e6  # bytes: the directory is read, not the gigabyte (Keras alone read all of it)
    message = str(refused.value)
    assert message.startswith("bomb.keras is not read: model.weights.h5 would inflate from 4.")
    assert "to 1.1 GB" in message and "as a zip bomb does" in message and message.count(".") <= 6


def test_an_honest_model_zipped_again_still_loads(tmp_path):
    model = models.tiny_seed()
    model.save(tmp_path / "saved.keras")
    again = _rezipped(
        tmp_path / "saved.keras", tmp_path / "zipped-again.keras", compression=zipfile.ZIP_DEFLATED, compresslevel=9
    )
    with zipfile.ZipFile(again) as packed:
        assert any(member.file_size > member.compress_size for member in packed.infolist())
    loaded = load_model_file(again)
    images = models.random_images(2, 16)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)


def test_an_archive_over_the_size_limit_is_refused_by_its_stated_size(tmp_path, monkeypatch):
    models.tiny_seed().save(tmp_path / "model.keras")
    with zipfile.ZipFile(tmp_path / "model.keras") as packed:
        inflated = sum(member.file_size for member in packed.infolist())
    monkeypatch.setattr(archive, "MOST_CONTENT", inflated - 1)
    with pytest.raises(AevisError, match=r"^model\.keras would inflate to .* KB, more than any model aevis can "):
        load_model_file(tmp_path / "model.keras")
    monkeypatch.setattr(archive, "MOST_CONTENT", inflated)
    load_model_file(tmp_path / "model.keras")


def test_an_archive_of_many_small_bombs_is_refused_as_a_whole(tmp_path):
    """Each member under the size where a ratio matters, the archive over it."""
    target = tmp_path / "many.keras"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as packed:
        zeros = bytes(archive.SMALL_ENOUGH)
        for number in range(3):
            packed.writestr(f"assets/part-{number}", zeros)
    with pytest.raises(AevisError, match=r"the archive as a whole would inflate from .* to 50\.3 MB"):
        load_model_file(target)
