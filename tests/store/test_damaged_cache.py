"""A damaged cache is found, named, removed and made again; it never reaches a site."""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from aevis._utils import checked
from aevis.config import BuildConfig
from aevis.pipeline import build
from aevis.progress import Stages
from tests.conftest import TINY_BUILD

BUILT_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _files(site: Path) -> dict[str, bytes]:
    return {path.relative_to(site).as_posix(): path.read_bytes() for path in sorted(site.rglob("*")) if path.is_file()}


class _Lines(Stages):
    """Stages that keep every logged line."""

    def __init__(self) -> None:
        super().__init__(quiet=True)
        self.lines: list[str] = []

    def log(self, message: str) -> None:
        self.lines.append(message)
        super().log(message)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[BuildConfig, dict[str, bytes]]:
    """A tiny build's config and site files; its cache is copied before each test damages it."""
    root = tmp_path_factory.mktemp("damage")
    config = BuildConfig(out=root / "site", cache_dir=root / "cache", build_time=BUILT_AT, **TINY_BUILD)
    build(config)
    return config, _files(config.out)


def _assert_same_site(rebuilt: dict[str, bytes], site: dict[str, bytes]) -> None:
    """The same files; the data within float rounding (an image computed again alone runs in a
    smaller batch, where TensorFlow's kernels round otherwise: saliency differed by 9e-10)."""
    assert rebuilt.keys() == site.keys()
    numeric = [name for name in site if name.startswith("data/") and name.endswith((".npz", ".npy", ".json"))]
    for name in numeric:
        if name.endswith(".npy"):
            np.testing.assert_allclose(
                np.load(io.BytesIO(rebuilt[name])), np.load(io.BytesIO(site[name])), rtol=1e-5, atol=1e-7
            )
        elif name.endswith(".npz"):
            with np.load(io.BytesIO(rebuilt[name])) as new, np.load(io.BytesIO(site[name])) as old:
                assert new.files == old.files
                for key in old.files:  # to float rounding of the map's largest value
                    np.testing.assert_allclose(new[key], old[key], rtol=0, atol=1e-5 * np.abs(old[key]).max())
        else:
            _assert_close(json.loads(rebuilt[name]), json.loads(site[name]))


def _assert_close(new, old) -> None:
    if isinstance(old, dict):
        assert new.keys() == old.keys()
        for key in old:
            _assert_close(new[key], old[key])
    elif isinstance(old, list):
        assert len(new) == len(old)
        for pair in zip(new, old):
            _assert_close(*pair)
    elif isinstance(old, float):  # figures that order tied values (deletion areas) move by up to 1e-4
        assert new == pytest.approx(old, rel=1e-3, abs=1e-9)
    else:
        assert new == old


def _entries(cache: Path) -> list[Path]:
    """One entry of every kind the cache keeps (each kind's folder and suffix): results, pictures
    of each format, the seed model and its losses."""
    by_kind: dict[tuple[Path, str], Path] = {}
    for path in sorted(cache.rglob("*")):
        if path.is_file() and not path.name.endswith(checked.SUM_SUFFIX):
            folder = path.parent if path.parent == cache else path.parent.parent  # past results/<area>/<kind>/<ab>/
            by_kind.setdefault((folder, "".join(path.suffixes[-2:])), path)
    return sorted(by_kind.values())


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x5A
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


@pytest.mark.parametrize("damage", [_flip, _truncate], ids=["flipped", "truncated"])
def test_damaged_entries_of_every_kind_are_made_again_as_missing_ones_are(built, tmp_path, damage):
    """A damaged entry is named, removed and made again: the site is the one a build gives whose
    cache lacks those entries, to the byte, and the one the undamaged cache gave, but for the last
    float bits of what an image computed again alone (in a smaller batch) holds."""
    config, site = built
    damaged, missing = tmp_path / "damaged", tmp_path / "missing"
    shutil.copytree(config.cache_dir, damaged)
    shutil.copytree(config.cache_dir, missing)
    entries = _entries(damaged)
    kinds = {path.suffix for path in entries}
    assert {".npz", ".npy", ".json", ".png", ".keras", ".js"} <= kinds  # every kind of entry is tried
    assert any(path.name.endswith(".checkpoints.npz") for path in entries)  # the training checkpoints too
    for path in entries:
        damage(path)
        checked.remove(missing / path.relative_to(damaged))

    stages = _Lines()
    build(BuildConfig(out=tmp_path / "site", cache_dir=damaged, build_time=BUILT_AT, **TINY_BUILD), stages)
    build(BuildConfig(out=tmp_path / "without", cache_dir=missing, build_time=BUILT_AT, **TINY_BUILD))

    assert _files(tmp_path / "site") == _files(tmp_path / "without")
    _assert_same_site(_files(tmp_path / "site"), site)
    said = "\n".join(stages.lines)
    for path in entries:
        assert path.name[:16] in said, f"{path.name} was not named as damaged"
        assert checked.intact(path)  # made again, with its checksum
    assert "trained again" in said


def test_a_site_keeps_its_files_when_the_cache_is_damaged_after_the_build(built):
    config, site = built
    for path in config.cache_dir.rglob("*"):
        if path.is_file() and not path.name.endswith(checked.SUM_SUFFIX):
            _flip(path)
    assert _files(config.out) == site
    shutil.rmtree(config.cache_dir)
    assert _files(config.out) == site


def test_a_checked_write_cut_short_leaves_nothing(tmp_path):
    target = tmp_path / "entry.json"

    def half_then_fail(scratch: Path) -> None:
        scratch.write_text('{"half": ')
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        checked.write(target, half_then_fail)
    assert list(tmp_path.iterdir()) == []
    checked.write(target, lambda scratch: scratch.write_text("{}"))
    assert checked.read_bytes(target) == b"{}"
    target.unlink()  # a file without its checksum is absent, not damaged
    checked.write(target, lambda scratch: scratch.write_text("{}"))
    checked.sum_path(target).unlink()
    assert not checked.intact(target)
