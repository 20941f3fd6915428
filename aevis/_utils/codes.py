"""Codes kept in memory, or in a file and read a block of rows at a time.

A set of 100,000 codes of 4,096 numbers takes 1.6 GB. Above :data:`IN_MEMORY_LIMIT` bytes the
encoder writes them to a file (:class:`CodeFile`), the whole-set cache entry keeps them as a
plain ``.npy`` that is read the same way, and every whole-set computation reads them through
indexing (``codes[rows]``, ``codes[start:stop]``), so the build's memory does not grow with
them; the operating system keeps in its page cache what fits.

Indexing a :class:`CodeFile` gives the float32 arrays the same index of the in-memory codes
gives, so every result, and every hash of the codes (:func:`aevis._utils.keys.array_hash`),
is the same whichever way they are kept.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from aevis._utils.pixels import consecutive_runs, npy_header, write_npy_blocks
from aevis.memory import BLOCK_BYTES, rows_within

IN_MEMORY_LIMIT = 256 * 2**20
"""Codes of more bytes than this are kept in a file (:class:`CodeFile`)."""
_BLOCK = 4096  # codes a whole-set pass reads at once: 64 MB at 4,096 numbers each


class CodeFile:
    """float32 codes (N, D) in a file, from byte ``offset`` on, row after row; read and written
    with positioned reads and writes, not a memory map, whose pages would count as the
    process's own memory once touched.

    Indexing by rows (an integer, a slice, an index or boolean array), then optionally columns,
    works as on a numpy array, except that two index arrays do not pair up: the columns are
    picked within the rows. ``np.asarray(codes)`` reads them all: only where they are small.
    """

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, handle, shape: tuple[int, int], offset: int = 0) -> None:
        self._handle = handle
        self.shape = (int(shape[0]), int(shape[1]))
        self._offset = offset
        self._row_bytes = self.shape[1] * 4

    @classmethod
    def temporary(cls, shape: tuple[int, int]) -> CodeFile:
        """Zero codes of ``shape`` to fill in, in an unnamed temporary file gone with this object."""
        handle = tempfile.TemporaryFile(prefix="aevis-codes-")
        handle.truncate(int(shape[0]) * int(shape[1]) * 4)
        return cls(handle, shape)

    @classmethod
    def open_npy(cls, path: Path) -> CodeFile:
        """The float32 (N, D) codes of a C-ordered ``.npy`` file, read in place."""
        handle = open(path, "rb")
        shape, fortran, dtype = npy_header(handle)
        if dtype != np.float32 or fortran or len(shape) != 2:
            handle.close()
            raise ValueError(f"{path} does not hold C-ordered float32 (N, D) codes.")
        return cls(handle, shape, handle.tell())

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def nbytes(self) -> int:
        return self.size * 4

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        rows, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        picked = np.arange(len(self))[rows]
        one = picked.ndim == 0
        picked = picked.reshape(-1)
        values = np.empty((len(picked), self.shape[1]), np.float32)
        for first, last in consecutive_runs(picked):  # each run of consecutive rows is one read
            data = os.pread(self._handle.fileno(), (last - first) * self._row_bytes, self._where(picked[first]))
            values[first:last] = np.frombuffer(data, np.float32).reshape(last - first, -1)
        values = values[0] if one else values
        if not rest:
            return values
        return values[rest] if one else values[(slice(None), *rest)]

    def __setitem__(self, rows, values: np.ndarray) -> None:
        picked = np.arange(len(self))[rows].reshape(-1)
        values = np.broadcast_to(np.asarray(values, np.float32), (len(picked), self.shape[1]))
        for first, last in consecutive_runs(picked):
            data = np.ascontiguousarray(values[first:last]).tobytes()
            os.pwrite(self._handle.fileno(), data, self._where(picked[first]))

    def __iter__(self) -> Iterator[np.ndarray]:
        for block in blocks(self):
            yield from block

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self[:] if dtype is None else self[:].astype(dtype)

    def update_hash(self, digest: hashlib._Hash) -> None:
        """Feed every stored byte, in order, to ``digest``."""
        for block in blocks(self):
            digest.update(block.data)

    def _where(self, row) -> int:
        return self._offset + int(row) * self._row_bytes


def allocate(shape: tuple[int, int]) -> np.ndarray | CodeFile:
    """Zero float32 codes of ``shape`` to fill in: in memory, or in a :class:`CodeFile` above
    :data:`IN_MEMORY_LIMIT` bytes."""
    if int(shape[0]) * int(shape[1]) * 4 > IN_MEMORY_LIMIT:
        return CodeFile.temporary(shape)
    return np.zeros(shape, np.float32)


def code_rows(codes) -> np.ndarray | CodeFile:
    """Codes as float32 (N, D) rows: a :class:`CodeFile` as it is, anything else as an array."""
    if isinstance(codes, CodeFile):
        return codes
    codes = np.asarray(codes, np.float32)
    return codes.reshape(len(codes), -1)


def blocks(codes, size: int = _BLOCK) -> Iterator[np.ndarray]:
    """The codes, ``size`` rows at a time (fewer where those would pass 64 MB), in order."""
    size = rows_within(codes.shape[1] * 4, BLOCK_BYTES, most=size)
    for start in range(0, len(codes), size):
        yield np.asarray(codes[start : start + size], np.float32).reshape(-1, codes.shape[1])


def map_blocks(function, codes, size: int = _BLOCK) -> np.ndarray:
    """``function`` of each block of codes (see :func:`blocks`), the results stacked:
    whole-set figures per code without holding them all."""
    return np.concatenate([function(block) for block in blocks(codes, size)]) if len(codes) else function(codes[:0])


def write_npy(codes, path: Path) -> None:
    """Save the codes as a C-ordered float32 ``.npy`` at ``path``, a block at a time."""
    with open(path, "wb") as handle:
        write_npy_to(codes, handle)


def write_npy_to(codes, handle) -> None:
    """:func:`write_npy` into an open binary file."""
    write_npy_blocks(handle, np.float32, codes.shape, blocks(codes))
