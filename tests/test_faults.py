"""Faults a careful user meets: two builds into one folder, full and read-only disks, SIGTERM.
Each ends in one sentence, with the previous site whole and nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from aevis.config import BuildConfig
from aevis.errors import AevisError
from aevis.pipeline import build
from aevis.site.staging import MARKER
from tests.conftest import TINY_ARGUMENTS as TINY_CLI
from tests.conftest import TINY_BUILD

REPOSITORY = Path(__file__).resolve().parent.parent
TINY_ARGUMENTS = [*TINY_CLI, "--quiet"]


@contextmanager
def _tmpfs(mount_point: Path, size: str, read_only: bool = False):
    """A small RAM disk at ``mount_point`` for the test's length (root only), always unmounted."""
    mount_point.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def _wait_for(condition, what: str, process: subprocess.Popen | None = None, timeout: float = 120) -> None:
    """Poll until ``condition()`` holds: the moment is an event, not a guess of seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the build ended before {what}: {process.stderr.read().decode()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


def _generate(out: Path, cache: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            str(REPOSITORY / "generate.py"),
            "--out",
            str(out),
            "--cache-dir",
            str(cache),
            *TINY_ARGUMENTS,
            *extra,
        ],
        cwd=REPOSITORY,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))


# ------------------------------------------------------------------ one build per output folder


def test_a_second_build_into_the_same_folder_is_refused_while_the_first_runs(tmp_path):
    out = tmp_path / "site"
    first = _generate(out, tmp_path / "cache", "--epochs", "3")
    _wait_for(lambda: (tmp_path / ".site.lock").is_file(), "the first build took its lock", first)
    with pytest.raises(
        AevisError,
        match=rf"^Another aevis build \(process {first.pid}\) is writing {out} now; "
        "wait for it to finish, or choose another --out.$",
    ):
        build(BuildConfig(out=out, cache_dir=tmp_path / "cache", **TINY_BUILD))
    # A build into another folder sharing the cache goes ahead meanwhile.
    build(BuildConfig(out=tmp_path / "other", cache_dir=tmp_path / "cache", **TINY_BUILD))
    assert first.wait() == 0, first.stderr.read().decode()
    assert (out / MARKER).is_file() and (tmp_path / "other" / MARKER).is_file()
    assert _leftovers(tmp_path) == []  # the lock went with its build


def test_a_killed_build_leaves_no_lock_behind(tmp_path):
    out = tmp_path / "site"
    killed = _generate(out, tmp_path / "cache")
    _wait_for(lambda: any(tmp_path.glob(".site.building-*")), "the build staged its site", killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    build(BuildConfig(out=out, cache_dir=tmp_path / "cache", **TINY_BUILD))  # the system let go of its lock
    assert (out / MARKER).is_file() and _leftovers(tmp_path) == []


# ------------------------------------------------------------------ SIGTERM


def test_sigterm_stops_a_build_as_ctrl_c_does(tmp_path):
    out = tmp_path / "site"
    build(BuildConfig(out=out, cache_dir=tmp_path / "cache", **TINY_BUILD))
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    process = _generate(out, tmp_path / "cache", "--seed", "1")
    _wait_for(lambda: any(tmp_path.glob(".site.building-*")), "the build staged its site", process)
    process.send_signal(signal.SIGTERM)
    assert process.wait() == 128 + signal.SIGTERM
    said = process.stderr.read().decode().strip().splitlines()
    assert said[-1] == "aevis: stopped (SIGTERM); the previous site, if any, is untouched."
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before
    assert _leftovers(tmp_path) == []


# ------------------------------------------------------------------ full and read-only disks


def test_a_full_output_disk_is_one_sentence_and_leaves_nothing(tmp_path):
    with _tmpfs(tmp_path / "small", "256k") as disk:
        out = disk / "site"
        with pytest.raises(AevisError) as refused:
            build(BuildConfig(out=out, cache_dir=tmp_path / "cache", **TINY_BUILD))
        assert str(refused.value) == (
            f"Could not write the output folder {out}: its disk is full; "
            "free some space on it, or choose another --out."
        )
        assert list(disk.iterdir()) == []


def test_a_full_cache_disk_is_one_sentence_and_leaves_the_site(tmp_path):
    out = tmp_path / "site"
    build(BuildConfig(out=out, cache_dir=tmp_path / "cache", **TINY_BUILD))
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    with _tmpfs(tmp_path / "small", "256k") as disk:
        with pytest.raises(AevisError) as refused:
            build(BuildConfig(out=out, cache_dir=disk / "cache", **TINY_BUILD))
        assert str(refused.value) == (
            f"Could not write the cache {disk / 'cache'}: its disk is full; "
            "free some space on it, or choose another --cache-dir."
        )
        leftovers = [path for path in disk.rglob("*") if path.is_file() and path.name.startswith(".")]
        assert leftovers == []  # no half-written entry
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before
    assert _leftovers(tmp_path) == []


def test_a_zip_that_does_not_fit_is_one_sentence_and_leaves_no_part(tmp_path):
    build(BuildConfig(out=tmp_path / "measure", cache_dir=tmp_path / "cache", **TINY_BUILD))
    files = [path.stat().st_size for path in (tmp_path / "measure").rglob("*") if path.is_file()]
    blocks = sum(-(-size // 4096) * 4096 for size in files)  # what the site takes on a disk of 4 KiB blocks
    # The site fits; the site and its zip (about its files' sum: pictures barely compress) do not.
    with _tmpfs(tmp_path / "small", f"{(blocks + sum(files) // 2) // 1024}k") as disk:
        out = disk / "site"
        with pytest.raises(AevisError) as refused:
            build(BuildConfig(out=out, cache_dir=tmp_path / "cache", zip=True, **TINY_BUILD))
        assert str(refused.value) == (
            f"Could not write the zip of the site (which is built) beside {out}: its disk "
            "is full; free some space on it, or build without --zip."
        )
        assert sorted(path.name for path in disk.iterdir()) == ["site"]


@pytest.mark.parametrize("where", ["out", "cache_dir"])
def test_a_read_only_place_is_refused_before_training(tmp_path, monkeypatch, where):
    def never(*_, **__):
        raise AssertionError("trained before finding the read-only disk")

    monkeypatch.setattr("aevis.stages.loading.train_seed", never)
    with _tmpfs(tmp_path / "locked", "1m", read_only=True) as disk:
        places = {"out": tmp_path / "site", "cache_dir": tmp_path / "cache", where: disk / where}
        with pytest.raises(AevisError) as refused:
            build(BuildConfig(**places, **TINY_BUILD))
        name, option = {"out": ("the output folder", "--out"), "cache_dir": ("the cache", "--cache-dir")}[where]
        assert str(refused.value) == (
            f"Could not write {name} {disk / where}: it is on a read-only file system; choose another {option}."
        )
    assert not (tmp_path / "site").exists()


def test_permission_denied_names_the_place(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere; the full-disk and read-only tests cover the sentence")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    with pytest.raises(AevisError, match="^Could not write the cache .*: permission to write there is denied"):
        build(BuildConfig(out=tmp_path / "site", cache_dir=locked / "cache", **TINY_BUILD))
