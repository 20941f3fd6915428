"""Reproducible to the byte: cold builds of the same inputs compared file by file, zip included.

Each build is cold (its own fresh cache folder, so the seed model is trained again) and goes
through the command line, where ``SOURCE_DATE_EPOCH`` is read.
"""

import json
import platform
import zipfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pytest

import aevis
from aevis.cli import config_from_arguments, main
from aevis.site.staging import zip_site
from tests.conftest import TINY_BUILD

EPOCH = 1_700_000_000
EPOCH_TIME = "2023-11-14T22:13:20+00:00"


def _arguments(settings: dict) -> list[str]:
    """``settings`` (BuildConfig fields) as command-line arguments."""
    argv = []
    for name, value in settings.items():
        flag = f"--{name.replace('_', '-')}"
        if value is True:
            argv.append(flag)
        else:
            argv += [flag, *map(str, value if isinstance(value, tuple) else [value])]
    return argv


def _cold_builds(root: Path, epoch: str | None, *extra: str) -> list[Path]:
    """Two cold builds of the tiny demo (plus ``extra`` arguments), each with ``--zip`` and its
    own cache; their sites."""
    sites = []
    with pytest.MonkeyPatch.context() as patch:
        if epoch is None:
            patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        else:
            patch.setenv("SOURCE_DATE_EPOCH", epoch)
        for index in range(2):
            site = root / f"build-{index}" / "site"
            argv = [
                *_arguments(TINY_BUILD),
                *extra,
                "--zip",
                "--out",
                str(site),
                "--cache-dir",
                str(site.parent / "cache"),
            ]
            assert main(argv) == 0
            sites.append(site)
    return sites


@pytest.fixture(scope="module")
def pinned(tmp_path_factory):
    """Two cold builds with SOURCE_DATE_EPOCH set."""
    return _cold_builds(tmp_path_factory.mktemp("pinned"), str(EPOCH))


@pytest.fixture(scope="module")
def unpinned(tmp_path_factory):
    """Two cold builds without SOURCE_DATE_EPOCH (and without the faithfulness checks, which
    the pinned builds cover: only the clock is in question here)."""
    return _cold_builds(tmp_path_factory.mktemp("unpinned"), None, "--faithfulness-sample", "0")


def _files(site: Path) -> dict[str, bytes]:
    return {path.relative_to(site).as_posix(): path.read_bytes() for path in sorted(site.rglob("*")) if path.is_file()}


def _entries(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as packed:
        return {name: packed.read(name) for name in packed.namelist()}


def _differing(first: dict[str, bytes], second: dict[str, bytes]) -> list[str]:
    assert first.keys() == second.keys()
    return [name for name in first if first[name] != second[name]]


def _manifest(site: Path) -> dict:
    return json.loads((site / "data" / "manifest.json").read_text())


def test_two_cold_builds_with_source_date_epoch_are_identical_to_the_byte(pinned):
    first, second = pinned
    assert _differing(_files(first), _files(second)) == []
    zips = [site.with_name("site.zip") for site in pinned]
    assert zips[0].read_bytes() == zips[1].read_bytes()

    # The time is the one given, in the manifest and on every zip entry.
    manifest = _manifest(first)
    assert manifest["built_at"] == EPOCH_TIME == manifest["parameters"]["build_time"]
    with zipfile.ZipFile(zips[0]) as packed:
        entries = packed.infolist()
    assert {entry.date_time for entry in entries} == {(2023, 11, 14, 22, 13, 20)}
    names = [entry.filename for entry in entries]
    assert names == sorted(names, key=lambda name: Path(name).parts) and names[0] == "site/"
    assert {name.removeprefix("site/") for name in names if not name.endswith("/")} == _files(first).keys()
    assert {entry.external_attr >> 16 for entry in entries if not entry.is_dir()} == {0o100644}
    assert {entry.external_attr >> 16 for entry in entries if entry.is_dir()} == {0o040755}


def test_without_source_date_epoch_only_the_manifests_build_time_differs(unpinned):
    first, second = unpinned
    assert set(_differing(_files(first), _files(second))) <= {"data/manifest.json"}
    manifests = [_manifest(site) for site in unpinned]
    assert manifests[0]["parameters"]["build_time"] is None
    for manifest in manifests:  # the clock's time, to the second
        assert datetime.fromisoformat(manifest["built_at"]).tzinfo == UTC
    assert [{**manifest, "built_at": None} for manifest in manifests] == [{**manifests[0], "built_at": None}] * 2

    # The zips hold the same files (the manifests aside) and are dated with their build time.
    zips = [_entries(site.with_name("site.zip")) for site in unpinned]
    assert set(_differing(*zips)) <= {"site/data/manifest.json"}
    for site, manifest in zip(unpinned, manifests):
        with zipfile.ZipFile(site.with_name("site.zip")) as packed:
            dates = {entry.date_time for entry in packed.infolist()}
        built_at = datetime.fromisoformat(manifest["built_at"])
        assert dates == {built_at.replace(second=built_at.second // 2 * 2).timetuple()[:6]}  # zips keep even seconds


def test_manifest_and_report_page_record_the_installed_versions(pinned):
    site = pinned[0]
    expected = {
        "python": platform.python_version(),
        "tensorflow": metadata.version("tensorflow"),
        "keras": metadata.version("keras"),
        "numpy": metadata.version("numpy"),
        "scikit-learn": metadata.version("scikit-learn"),
        "opentsne": metadata.version("openTSNE"),
        "aevis": aevis.__version__,
    }
    assert _manifest(site)["versions"] == expected
    report = (site / "report.html").read_text()
    shown = dict(zip(expected, ["Python", "TensorFlow", "Keras", "NumPy", "scikit-learn", "openTSNE", "aevis"]))
    for name, version in expected.items():
        assert f"<dt>{shown[name]}</dt><dd><code>{version}</code></dd>" in report


@pytest.mark.parametrize(
    "value, expected",
    [
        (str(EPOCH), datetime.fromisoformat(EPOCH_TIME)),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
        ("", None),
    ],
)
def test_source_date_epoch_becomes_the_build_time(monkeypatch, value, expected):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    assert config_from_arguments([]).build_time == expected


@pytest.mark.parametrize("value", ["yesterday", "-5", "1.5", "١٢", "9" * 30])
def test_a_malformed_source_date_epoch_stops_the_build(monkeypatch, capsys, value):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(SystemExit) as stopped:
        config_from_arguments([])
    assert stopped.value.code == 2
    assert f"SOURCE_DATE_EPOCH must be whole seconds since 1970, got {value!r}" in capsys.readouterr().err


def test_zip_of_a_site_dated_before_1980_is_dated_1980(tmp_path):
    site = tmp_path / "site"
    (site / "data").mkdir(parents=True)
    (site / "data" / "manifest.json").write_text(json.dumps({"built_at": "1970-01-01T00:00:00+00:00"}))
    (site / "index.html").write_text("hello")
    (site / "index.html").chmod(0o600)  # a private file is packed readable all the same
    with zipfile.ZipFile(zip_site(site)) as packed:
        entries = packed.infolist()
    assert [entry.filename for entry in entries] == [
        "site/",
        "site/data/",
        "site/data/manifest.json",
        "site/index.html",
    ]
    assert {entry.date_time for entry in entries} == {(1980, 1, 1, 0, 0, 0)}
    assert entries[-1].external_attr >> 16 == 0o100644
