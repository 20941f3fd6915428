"""Files that carry their own checksum: written whole or not at all, and used only while intact.

Every file the cache keeps (a result, a picture, the trained seed model and its losses) is
written under a temporary name and renamed into place, and then its SHA-256 is written beside
it, ``<name>.sha256``, the same way. A file counts as present only when its checksum is there
and matches: a bit flipped on disk, a truncated copy or a write that a full disk or a kill cut
short reads as damaged, is removed, and is made again. A file without its checksum (a build
killed between the two renames) is simply absent.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

SUM_SUFFIX = ".sha256"


class Damaged(Exception):
    """A checked file whose content no longer matches its checksum."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} is damaged: its content does not match the checksum written with it")
        self.path = path


def sum_path(path: Path) -> Path:
    """Where the checksum of ``path`` is kept."""
    return path.with_name(path.name + SUM_SUFFIX)


def write(path: Path, make: Callable[[Path], None]) -> None:
    """Have ``make(scratch)`` write a file, then put it at ``path`` with its checksum.

    ``scratch`` sits beside ``path`` and has its suffix (drawing and saving functions choose
    the format by it). On any failure nothing is left: neither the scratch file nor a new
    ``path``, and an old ``path`` loses its checksum, so it is never taken for the new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=".writing-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    try:
        make(Path(scratch))
        digest = file_digest(Path(scratch))
        os.chmod(scratch, file_mode())  # mkstemp makes it private; a site is for reading
        sum_path(path).unlink(missing_ok=True)
        os.replace(scratch, path)
        _write_small(sum_path(path), f"{digest}\n".encode("ascii"))
    except OSError as error:
        Path(scratch).unlink(missing_ok=True)
        raise named(error, path) from error
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def write_stream(path: Path, write_to: Callable) -> None:
    """:func:`write` for a writer of an open binary stream."""

    def make(scratch: Path) -> None:
        with scratch.open("wb") as stream:
            write_to(stream)

    write(path, make)


def intact(path: Path) -> bool:
    """Whether ``path`` is present with its checksum; raises :class:`Damaged` where the
    two disagree (a file present without its checksum is absent: False)."""
    path = Path(path)
    try:
        recorded = sum_path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    try:
        actual = file_digest(path)
    except FileNotFoundError:
        return False
    except OSError:
        raise Damaged(path) from None
    if actual != recorded:
        raise Damaged(path)
    return True


def read_bytes(path: Path) -> bytes | None:
    """The bytes of an intact ``path``, read once; None where absent; :class:`Damaged` where not intact."""
    path = Path(path)
    try:
        recorded = sum_path(path).read_text(encoding="ascii").strip()
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        raise Damaged(path) from None
    if hashlib.sha256(data).hexdigest() != recorded:
        raise Damaged(path)
    return data


def remove(path: Path) -> None:
    """Remove ``path`` and its checksum (checksum first, so a half removal reads as absent)."""
    sum_path(Path(path)).unlink(missing_ok=True)
    Path(path).unlink(missing_ok=True)


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read a block at a time (cached codes can be gigabytes)."""
    with Path(path).open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def copy(data: bytes, target: Path) -> None:
    """Write ``data`` as a new file at ``target``, sharing no storage with where it came from:
    a site must not change when the cache does, nor the cache when a site is edited."""
    target = Path(target)
    target.unlink(missing_ok=True)
    try:
        with target.open("wb") as stream:
            stream.write(data)
    except OSError as error:
        target.unlink(missing_ok=True)
        raise named(error, target) from error


def named(error: OSError, path: Path) -> OSError:
    """``error`` with the file it happened to, where it names none (a full disk is found by
    ``write()``, which does not know the file's name)."""
    if error.filename is not None or error.errno is None:
        return error
    return type(error)(error.errno, error.strerror, str(path))


def check_writable(folder: Path) -> None:
    """Make ``folder`` if missing and write a file there, or raise the OSError that says why not:
    a build finds a read-only or forbidden place before it trains or encodes anything."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".writable-"):
        pass


def _write_small(path: Path, data: bytes) -> None:
    handle, scratch = tempfile.mkstemp(prefix=".writing-", suffix=SUM_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(scratch, file_mode())
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


@cache
def file_mode() -> int:
    """The mode a newly made file gets here (0o644 under the usual umask)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
