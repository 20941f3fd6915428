"""Where computed results and drawn pictures are kept between builds, addressed by their content.

Every result is stored under a key that hashes everything that decides it: the code of aevis
itself, the model, the image's own pixels, the method, target and options, and (for neighbour
targets) the reference code. A rebuild asks for each result by its key and computes only what
is missing, so an unchanged rebuild computes nothing, and a changed image, option or model
recomputes exactly the results that depend on it. Nothing is ever looked up by name or date.

Layout under the root (``<cache_dir>/results``)::

    arrays/<kind>/<ab>/<key>.npz     one result: a few named arrays
    arrays/<kind>/<ab>/<key>.npy     one set's codes or images, read in place when large
    json/<kind>/<ab>/<key>.json      one result that is plain figures
    pictures/<ab>/<key>.<png|gif>    one drawn picture, hard-linked into the site

Files are written under a temporary name and renamed, so a killed build never leaves a half
entry, and two builds may share a cache. A cached file is never changed in place; a site's
pictures are hard links to it (copies where the site is on another file system).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np

from aevis import __version__
from aevis.data import pixels
from aevis.data.pixels import PixelFile, Pixels
from aevis.store import codes
from aevis.store.codes import CodeFile


@cache
def code_version() -> str:
    """A hash of aevis's own source: any change to how results are computed or drawn
    invalidates what an earlier version stored."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def array_hash(values) -> str:
    """SHA-256 of an array's dtype, shape and bytes: the identity of an image or a code. Codes
    kept in a file (:class:`aevis.store.codes.CodeFile`) hash as the same array in memory."""
    if hasattr(values, "update_hash"):
        digest = hashlib.sha256(f"{values.dtype.str}{tuple(values.shape)}".encode())
        values.update_hash(digest)
        return digest.hexdigest()
    values = np.ascontiguousarray(values)
    digest = hashlib.sha256(f"{values.dtype.str}{values.shape}".encode())
    digest.update(values.reshape(-1).view(np.uint8).data if values.size else b"")  # no copy: codes can be 1.6 GB
    return digest.hexdigest()


def make_key(*parts) -> str:
    """A key from JSON-ready parts (dicts are sorted), aevis's code version included."""
    text = json.dumps([code_version(), parts], sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, tuple)):
        return np.asarray(value).tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"Cannot put a {type(value).__name__} into a cache key.")


def lazy(compute: Callable):
    """``compute`` wrapped to run on its first call only, and not at all if never called:
    what a picture is drawn from is computed only when the cache lacks the picture."""
    done = []

    def value():
        if not done:
            done.append(compute())
        return done[0]

    return value


class ResultCache:
    """Content-addressed results and pictures under ``root``; ``root=None`` keeps nothing.

    ``hits`` and ``misses`` count look-ups by kind (``"picture"`` for pictures), so a build
    can say, and a test can check, what was reused and what was computed.
    """

    def __init__(self, root: Path | None) -> None:
        self.root = None if root is None else Path(root)
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()
        self._counting = threading.Lock()  # pictures are drawn on a second thread

    @property
    def enabled(self) -> bool:
        return self.root is not None

    # ------------------------------------------------------------------ arrays

    def arrays(self, kind: str, key: str, counted: bool = True) -> dict[str, np.ndarray] | None:
        """The stored arrays of one result, or None (a miss) when there are none. ``counted``
        False: a second look at a result already counted, left out of :attr:`hits` and :attr:`misses`."""
        def read(path: Path) -> dict[str, np.ndarray]:
            with np.load(path, allow_pickle=False) as stored:
                return {name: stored[name] for name in stored.files}

        return self._lookup(kind, self._path("arrays", kind, key, ".npz") if self.root else None, read,
                            (OSError, ValueError, EOFError), counted)

    def put_arrays(self, kind: str, key: str, arrays: dict[str, np.ndarray]) -> None:
        """Store one result's arrays (uncompressed: they are read far more often than written)."""
        if self.root is not None:
            self._write(self._path("arrays", kind, key, ".npz"), lambda handle: np.savez(handle, **arrays))

    def codes(self, kind: str, key: str, counted: bool = True) -> np.ndarray | CodeFile | None:
        """Codes that :meth:`put_codes` stored, or None (a miss): read whole where they fit
        in memory (:data:`aevis.store.codes.IN_MEMORY_LIMIT`), else read in place as they are
        used. ``counted``: as for :meth:`arrays`."""
        def read(path: Path):
            stored = CodeFile.open_npy(path)
            return stored if stored.nbytes > codes.IN_MEMORY_LIMIT else np.asarray(stored)

        return self._lookup(kind, self._npy_path(kind, key), read, (OSError, ValueError, EOFError), counted)

    def put_codes(self, kind: str, key: str, values) -> None:
        """Store float32 (N, D) codes, in memory or in a file, as one ``.npy`` written a block at a time."""
        if self.root is not None:
            self._write(self._npy_path(kind, key), lambda handle: codes.write_npy_to(values, handle))

    def pixels(self, kind: str, key: str, counted: bool = True) -> Pixels | None:
        """Images that :meth:`put_pixels` stored, or None (a miss): read whole where they fit in
        memory (:data:`aevis.data.pixels.IN_MEMORY_LIMIT`), else read in place as they are used.
        ``counted``: as for :meth:`arrays`."""
        def read(path: Path) -> Pixels:
            stored = PixelFile.open_npy(path)
            return stored if int(np.prod(stored.shape)) > pixels.IN_MEMORY_LIMIT else Pixels(stored.bytes(slice(None)))

        return self._lookup(kind, self._npy_path(kind, key), read, (OSError, ValueError, EOFError), counted)

    def put_pixels(self, kind: str, key: str, images: Pixels) -> None:
        """Store images, in memory or in a file, as one uint8 ``.npy`` written a block at a time."""
        if self.root is not None:
            self._write(self._npy_path(kind, key), images.write_npy)

    # ------------------------------------------------------------------ figures

    def figures(self, kind: str, key: str):
        """A stored JSON result, or None (a miss)."""
        return self._lookup(kind, self._path("json", kind, key, ".json") if self.root else None,
                            lambda path: json.loads(path.read_text(encoding="utf-8")), (OSError, ValueError))

    def _lookup(self, kind: str, path: Path | None, read, unreadable: tuple, counted: bool = True):
        """``read(path)``, counted as a hit; None, counted as a miss, when absent or unreadable
        (an unreadable entry is simply computed again)."""
        found = None
        if path is not None:
            try:
                found = read(path)
            except unreadable:
                found = None
        if counted:
            self._count(kind, hit=found is not None)
        return found

    def put_figures(self, kind: str, key: str, value) -> None:
        if self.root is not None:
            text = json.dumps(value).encode("utf-8")  # in its own order: figures are shown in it
            self._write(self._path("json", kind, key, ".json"), lambda handle: handle.write(text))

    # ------------------------------------------------------------------ pictures

    def picture(self, key: str, target: Path, draw: Callable[[Path], None]) -> None:
        """Put the picture ``key`` at ``target``: linked from the cache, or drawn by
        ``draw(path)`` (into the cache first, so the next build finds it).

        ``target``'s suffix (``.png``, ``.gif``) is the stored file's too, since the drawing
        functions choose the format by it.
        """
        target = Path(target)
        if self.root is None:
            self._count("picture", hit=False)
            draw(target)
            return
        stored = self._path("pictures", None, key, target.suffix)
        found = stored.is_file()
        self._count("picture", hit=found)
        if not found:
            stored.parent.mkdir(parents=True, exist_ok=True)
            handle, scratch = tempfile.mkstemp(prefix=".drawing-", suffix=target.suffix, dir=stored.parent)
            os.close(handle)
            try:
                draw(Path(scratch))
                os.chmod(scratch, _file_mode())  # mkstemp makes it private; a site is for reading
                os.replace(scratch, stored)
            except BaseException:
                Path(scratch).unlink(missing_ok=True)
                raise
        _link_or_copy(stored, target)

    def has_picture(self, key: str, suffix: str) -> bool:
        """Whether :meth:`picture` would find ``key`` (a ``suffix`` file) without drawing; always
        False without a cache folder, where every picture is drawn."""
        return self.root is not None and self._path("pictures", None, key, suffix).is_file()

    def _count(self, kind: str, hit: bool) -> None:
        with self._counting:
            (self.hits if hit else self.misses)[kind] += 1

    # ------------------------------------------------------------------ storage

    def _npy_path(self, kind: str, key: str) -> Path | None:
        return self._path("arrays", kind, key, ".npy") if self.root else None

    def _path(self, area: str, kind: str | None, key: str, suffix: str) -> Path:
        folder = self.root / area if kind is None else self.root / area / kind
        return folder / key[:2] / f"{key}{suffix}"

    @staticmethod
    def _write(path: Path, write: Callable) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, scratch = tempfile.mkstemp(prefix=".writing-", suffix=path.suffix, dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                write(stream)
            os.chmod(scratch, _file_mode())
            os.replace(scratch, path)
        except BaseException:
            Path(scratch).unlink(missing_ok=True)
            raise


@cache
def _file_mode() -> int:
    """The mode a newly made file gets here (0o644 under the usual umask)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link where the file system allows one (no bytes copied), else a copy."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or one without hard links
        shutil.copyfile(source, target)
