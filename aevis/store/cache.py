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
    pictures/<ab>/<key>.<png|gif|js> one drawn picture, copied into the site

each with its checksum beside it (``<key>.npz.sha256``; :mod:`aevis.store.checked`). Files are
written under a temporary name and renamed, so a killed build never leaves a half entry, and two
builds may share a cache. An entry whose content no longer matches its checksum is named in one
line, removed and computed again: a damaged cache never reaches a site. A site holds copies, never
links, so damage to the cache after a build cannot reach it.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from aevis._utils import checked, codes, pixels
from aevis._utils.codes import CodeFile
from aevis._utils.pixels import PixelFile, Pixels


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
    can say, and a test can check, what was reused and what was computed; ``damaged`` lists
    the entries found damaged (and made again), each also told to ``on_damaged``.
    """

    def __init__(self, root: Path | None, on_damaged: Callable[[str], None] | None = None) -> None:
        self.root = None if root is None else Path(root)
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()
        self.damaged: list[Path] = []
        self._on_damaged = on_damaged
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

        return self._lookup(kind, self._path("arrays", kind, key, ".npz") if self.root else None, read, counted)

    def put_arrays(self, kind: str, key: str, arrays: dict[str, np.ndarray]) -> None:
        """Store one result's arrays (uncompressed: they are read far more often than written)."""
        if self.root is not None:
            checked.write_stream(self._path("arrays", kind, key, ".npz"), lambda handle: np.savez(handle, **arrays))

    def codes(self, kind: str, key: str, counted: bool = True) -> np.ndarray | CodeFile | None:
        """Codes that :meth:`put_codes` stored, or None (a miss): read whole where they fit
        in memory (:data:`aevis._utils.codes.IN_MEMORY_LIMIT`), else read in place as they are
        used. ``counted``: as for :meth:`arrays`."""

        def read(path: Path):
            stored = CodeFile.open_npy(path)
            return stored if stored.nbytes > codes.IN_MEMORY_LIMIT else np.asarray(stored)

        return self._lookup(kind, self._npy_path(kind, key), read, counted)

    def put_codes(self, kind: str, key: str, values) -> None:
        """Store float32 (N, D) codes, in memory or in a file, as one ``.npy`` written a block at a time."""
        if self.root is not None:
            checked.write_stream(self._npy_path(kind, key), lambda handle: codes.write_npy_to(values, handle))

    def pixels(self, kind: str, key: str, counted: bool = True) -> Pixels | None:
        """Images that :meth:`put_pixels` stored, or None (a miss): read whole where they fit in
        memory (:data:`aevis._utils.pixels.IN_MEMORY_LIMIT`), else read in place as they are used.
        ``counted``: as for :meth:`arrays`."""

        def read(path: Path) -> Pixels:
            stored = PixelFile.open_npy(path)
            return stored if int(np.prod(stored.shape)) > pixels.IN_MEMORY_LIMIT else Pixels(stored.bytes(slice(None)))

        return self._lookup(kind, self._npy_path(kind, key), read, counted)

    def put_pixels(self, kind: str, key: str, images: Pixels) -> None:
        """Store images, in memory or in a file, as one uint8 ``.npy`` written a block at a time."""
        if self.root is not None:
            checked.write_stream(self._npy_path(kind, key), images.write_npy)

    # ------------------------------------------------------------------ figures

    def figures(self, kind: str, key: str):
        """A stored JSON result, or None (a miss)."""
        return self._lookup(
            kind,
            self._path("json", kind, key, ".json") if self.root else None,
            lambda path: json.loads(path.read_text(encoding="utf-8")),
        )

    def put_figures(self, kind: str, key: str, value) -> None:
        if self.root is not None:
            text = json.dumps(value).encode("utf-8")  # in its own order: figures are shown in it
            checked.write_stream(self._path("json", kind, key, ".json"), lambda handle: handle.write(text))

    # ------------------------------------------------------------------ memo

    def remember(self, kind: str, key: str, compute: Callable[[], dict], figures: bool = False) -> dict:
        """The stored result of ``key``, else ``compute()``, stored and returned: arrays (a dict
        of named arrays), or with ``figures`` a JSON-ready value. The one shape of every
        cached computation."""
        stored = self.figures(kind, key) if figures else self.arrays(kind, key)
        if stored is not None:
            return stored
        value = compute()
        (self.put_figures if figures else self.put_arrays)(kind, key, value)
        return value

    def _lookup(self, kind: str, path: Path | None, read, counted: bool = True):
        """``read(path)`` of an intact entry, counted as a hit; None, counted as a miss, when
        absent or damaged (a damaged entry is named, removed and simply computed again)."""
        found = None
        if path is not None:
            try:
                if checked.intact(path):
                    found = read(path)
            except checked.Damaged:
                self._drop(path)
            except Exception:  # intact but unreadable (a file an older aevis wrote, say): as damaged
                self._drop(path)
                found = None
        if counted:
            self._count(kind, hit=found is not None)
        return found

    # ------------------------------------------------------------------ pictures

    def picture(self, key: str, target: Path, draw: Callable[[Path], None]) -> None:
        """Put the picture ``key`` at ``target``: copied from the cache, or drawn by
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
        try:
            data = checked.read_bytes(stored)
        except checked.Damaged:
            self._drop(stored)
            data = None
        self._count("picture", hit=data is not None)
        if data is None:
            checked.write(stored, draw)
            data = stored.read_bytes()  # just written and summed: no second check
        checked.copy(data, target)

    def has_picture(self, key: str, suffix: str) -> bool:
        """Whether :meth:`picture` would find ``key`` (a ``suffix`` file) intact, without drawing;
        always False without a cache folder, where every picture is drawn. A damaged picture
        is removed here, so that what it is drawn from is computed."""
        if self.root is None:
            return False
        stored = self._path("pictures", None, key, suffix)
        try:
            return checked.intact(stored)
        except checked.Damaged:
            self._drop(stored)
            return False

    def _count(self, kind: str, hit: bool) -> None:
        with self._counting:
            (self.hits if hit else self.misses)[kind] += 1

    def _drop(self, path: Path) -> None:
        """Remove a damaged entry, and say so."""
        checked.remove(path)
        with self._counting:
            self.damaged.append(path)
        if self._on_damaged is not None:
            where = path.relative_to(self.root).parts[:-2]  # (area, kind) or (pictures,)
            self._on_damaged(
                f"The cached {'/'.join(where)} entry {path.name[:16]} was damaged; it was removed and is made again."
            )

    # ------------------------------------------------------------------ storage

    def _npy_path(self, kind: str, key: str) -> Path | None:
        return self._path("arrays", kind, key, ".npy") if self.root else None

    def _path(self, area: str, kind: str | None, key: str, suffix: str) -> Path:
        folder = self.root / area if kind is None else self.root / area / kind
        return folder / key[:2] / f"{key}{suffix}"
