"""Where the site folder is written: staged beside the target, swapped in only when complete.

A marker file tells a folder aevis made from anything else, so a build never replaces a
folder of the user's (``--out ~`` is refused, not emptied). One build at a time writes a folder:
:func:`build_lock` holds it, and only its holder removes what killed builds left beside it. On Linux the finished site and the
old one trade places in one atomic ``renameat2(RENAME_EXCHANGE)``, so a build killed at any
moment (even ``kill -9``) leaves either the old site or the new one at ``out``, never neither.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from aevis.errors import AevisError
from aevis.site.export import recorded_build_time

MARKER = ".aevis-site"


def check_target(out: Path) -> None:
    """Refuse a target that exists and is not an empty folder or an earlier aevis site."""
    if not out.exists():
        return
    if not out.is_dir():
        raise AevisError(f"Expected a folder to write the site to, but {out} is a file.")
    if any(out.iterdir()) and not (out / MARKER).is_file():
        raise AevisError(
            f"Expected an empty folder or an earlier aevis site at {out}, but it holds other files; "
            "choose another --out."
        )


@contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold ``out`` for one build, or refuse in one sentence while another build holds it.

    The lock is ``.<out>.lock`` beside ``out``, an advisory ``flock`` that the system lets go
    when its process ends, however it ends (a ``kill -9`` leaves no stale lock). The file is
    removed at the end; a build that opened it just before must then try again, since its lock
    would be on a file no longer there.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    path = out.parent / f".{out.name}.lock"
    while True:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 32, 0).decode("ascii", "replace").strip()
            os.close(handle)
            raise AevisError(
                f"Another aevis build{f' (process {holder})' if holder.isdigit() else ''} is writing {out} now; "
                "wait for it to finish, or choose another --out."
            ) from None
        if _same_file(handle, path):
            break
        os.close(handle)
    try:
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(handle)


def _same_file(handle: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(handle), os.stat(path))
    except FileNotFoundError:
        return False


@contextmanager
def staged_site(out: Path) -> Iterator[Path]:
    """Yield a fresh staging folder; on success, swap it in for ``out``.

    The staging folder sits next to ``out`` (same file system, so the swap is a rename).
    If the body raises, the staging folder is removed and ``out`` is untouched.
    """
    out = Path(out)
    check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp makes it private (0700); a web server must be able to read the site
    try:
        (staging / MARKER).write_text("This folder was written by aevis; a rebuild replaces it.\n")
        yield staging
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def zip_site(out: Path) -> Path:
    """Pack the site folder into ``<out>.zip`` beside it, ready to send; return its path.

    The archive holds one top folder named like the site, so it unpacks tidily. The same site
    gives the same zip to the byte: entries in name order, each dated with the build time the
    manifest records, readable by all whatever the files' own modes. It is written under a
    temporary name and renamed, so a half-written zip never exists.
    """
    out = Path(out)
    target = out.with_name(f"{out.name}.zip")
    date_time = _zip_date(recorded_build_time(out))
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.zip-") as scratch:
        archive = Path(scratch) / target.name
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as packed:
            for path in [out, *sorted(out.rglob("*"))]:
                name = path.relative_to(out.parent).as_posix()
                if path.is_dir():
                    packed.writestr(_entry(f"{name}/", date_time), b"")
                    continue
                entry = _entry(name, date_time)
                entry.file_size = path.stat().st_size  # lets zipfile choose ZIP64 for a huge file
                with path.open("rb") as source, packed.open(entry, "w") as sink:
                    shutil.copyfileobj(source, sink)
        os.replace(archive, target)
    return target


_ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)  # a zip can date nothing earlier


def _zip_date(when: datetime) -> tuple[int, int, int, int, int, int]:
    """``when`` in UTC as a zip entry's date and time (no earlier than 1980)."""
    return max(when, _ZIP_EPOCH).astimezone(UTC).timetuple()[:6]


def _entry(name: str, date_time: tuple) -> zipfile.ZipInfo:
    """A zip entry (a folder where ``name`` ends in /), the same whatever system makes it."""
    folder = name.endswith("/")
    entry = zipfile.ZipInfo(name, date_time)
    entry.create_system = 3  # Unix, so the modes below mean the same wherever the zip is made
    # Folders rwxr-xr-x (plus MS-DOS's folder bit), files rw-r--r--.
    entry.external_attr = (0o040755 << 16 | 0x10) if folder else 0o100644 << 16
    entry.compress_type = zipfile.ZIP_STORED if folder else zipfile.ZIP_DEFLATED
    return entry


def _remove_leftovers(out: Path) -> None:
    """Staging folders of killed builds (they carry the marker) are removed; called under
    :func:`build_lock`, so no live build's folder is among them."""
    for leftover in out.parent.glob(f".{out.name}.building-*"):
        if (leftover / MARKER).is_file() or not any(leftover.iterdir()):
            shutil.rmtree(leftover, ignore_errors=True)
    for leftover in out.parent.glob(f".{out.name}.zip-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        os.replace(staging, out)
    elif _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # it now holds the old site
    else:  # no atomic exchange here: two renames, with a moment where only the old copy exists
        retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
        os.replace(out, retired / out.name)
        os.replace(staging, out)
        shutil.rmtree(retired, ignore_errors=True)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(first: Path, second: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False where that is not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    return result == 0
