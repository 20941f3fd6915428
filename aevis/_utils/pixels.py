"""Images kept as 8-bit values and read as float32 in [0, 1], in memory or on disk.

A set of 100,000 images of 64 × 64 × 3 takes 4.9 GB as float32 but 1.2 GB as bytes, and the
files they came from held bytes anyway. Larger sets than :data:`IN_MEMORY_LIMIT` go to an
unnamed temporary file (:class:`PixelFile`) and are read back a batch at a time, so the build's
memory does not grow with the set: the operating system keeps in its page cache what fits.

Whichever way they are kept, indexing gives the same float32 values, so everything downstream
(the model, the pictures, the cache keys) sees no difference.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator

import numpy as np

IN_MEMORY_LIMIT = 512 * 2**20
"""Sets of more bytes than this are kept on disk (:class:`PixelFile`)."""
_BLOCK = 4096  # images a whole-set pass reads at once: a few tens of MB at most


def to_bytes(images: np.ndarray) -> np.ndarray:
    """float (…, H, W, C) in [0, 1] to uint8, rounded to the nearest of the 256 levels."""
    return np.round(np.clip(np.asarray(images, np.float32), 0, 1) * 255).astype(np.uint8)


class Pixels:
    """Images (N, H, W, C), kept in memory as uint8, read as float32 in [0, 1].

    Indexing works as on a numpy array and gives float32: ``pixels[3]`` is one (H, W, C) image,
    ``pixels[rows]`` an (n, H, W, C) batch; ``np.asarray(pixels)`` converts the whole set (so
    only where the set is known to be small). Assigning float images rounds them to 8 bits.

    Args:
        stored: uint8 (N, H, W, C).
    """

    dtype = np.dtype(np.float32)
    ndim = 4

    def __init__(self, stored: np.ndarray) -> None:
        if stored.dtype != np.uint8 or stored.ndim != 4:
            raise ValueError(f"Expected uint8 (N, H, W, C) pixels, got {stored.dtype} {stored.shape}.")
        self._stored = stored

    @classmethod
    def from_unit(cls, images: np.ndarray) -> Pixels:
        """Pixels of float images in [0, 1] (N, H, W, C), rounded to 8 bits."""
        return cls(to_bytes(images))

    @staticmethod
    def allocate(shape: tuple[int, int, int, int], on_disk: bool | None = None) -> Pixels:
        """Black images of ``shape`` to fill in: in memory, or in a :class:`PixelFile` when
        ``on_disk`` (by default, when they would take more than :data:`IN_MEMORY_LIMIT` bytes)."""
        if on_disk is None:
            on_disk = int(np.prod(shape)) > IN_MEMORY_LIMIT
        return PixelFile(shape) if on_disk else Pixels(np.zeros(shape, np.uint8))

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return self._stored.shape

    @property
    def on_file(self) -> bool:
        """Whether the pixels live in a file rather than in memory."""
        return False

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        return self.bytes(key).astype(np.float32) / np.float32(255)

    def __setitem__(self, key, images: np.ndarray) -> None:
        self._put(key, to_bytes(images))

    def __iter__(self) -> Iterator[np.ndarray]:
        for index in range(len(self)):
            yield self[index]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self[:] if dtype is None else self[:].astype(dtype)

    def bytes(self, key) -> np.ndarray:
        """The stored uint8 values at ``key``, indexed as a numpy array is."""
        return self._stored[key]

    def _put(self, key, values: np.ndarray) -> None:
        self._stored[key] = values

    def blocks(self) -> Iterator[np.ndarray]:
        """The stored uint8 values, a few thousand images at a time, in order."""
        for start in range(0, len(self), _BLOCK):
            yield self.bytes(slice(start, start + _BLOCK))

    def head(self, count: int) -> Pixels:
        """The first ``count`` images, kept the same way."""
        return Pixels(self._stored[:count])

    def channels(self, count: int) -> Pixels:
        """The first ``count`` channels of every image, kept the same way."""
        if count == self.shape[-1]:
            return self
        fewer = Pixels.allocate((*self.shape[:3], count), on_disk=self.on_file)
        for start, block in zip(range(0, len(self), _BLOCK), self.blocks()):
            fewer._put(slice(start, start + len(block)), np.ascontiguousarray(block[..., :count]))
        return fewer

    def all_grey(self) -> bool:
        """Whether every pixel has the same value in every channel."""
        return all(bool(np.all(block == block[..., :1])) for block in self.blocks())

    def update_hash(self, digest: hashlib._Hash) -> None:
        """Feed every stored byte, in order, to ``digest``."""
        for block in self.blocks():
            digest.update(np.ascontiguousarray(block).data)

    def write_npy(self, handle) -> None:
        """Write the stored bytes as a uint8 (N, H, W, C) ``.npy`` into an open binary file, a
        block at a time (:meth:`PixelFile.open_npy` reads it in place)."""
        write_npy_blocks(handle, np.uint8, self.shape, self.blocks())


class PixelFile(Pixels):
    """Images kept as uint8 in an unnamed temporary file, gone when this object is.

    Read and written with positioned reads and writes, not a memory map: the pages of a map
    count as the process's own memory once touched, and a whole-set pass touches all of them.
    """

    def __init__(
        self, shape: tuple[int, int, int, int], backing=None, count: int | None = None, offset: int = 0
    ) -> None:
        self._shape = (int(shape[0]) if count is None else count, *map(int, shape[1:]))
        self._image_bytes = int(np.prod(self._shape[1:]))
        if backing is None:
            backing = tempfile.TemporaryFile(prefix="aevis-pixels-")
            backing.truncate(int(shape[0]) * self._image_bytes)
        self._backing = backing
        self._offset = offset  # where the first image starts in the file

    @classmethod
    def open_npy(cls, path) -> PixelFile:
        """The uint8 (N, H, W, C) images of a C-ordered ``.npy`` file (:meth:`Pixels.write_npy`),
        read in place; the file must not change while they are used."""
        handle = open(path, "rb")
        shape, fortran, dtype = npy_header(handle)
        if dtype != np.uint8 or fortran or len(shape) != 4:
            handle.close()
            raise ValueError(f"{path} does not hold C-ordered uint8 (N, H, W, C) images.")
        return cls(shape, handle, offset=handle.tell())

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return self._shape

    @property
    def on_file(self) -> bool:
        return True

    def bytes(self, key) -> np.ndarray:
        rows, rest = _split(key)
        picked = np.arange(len(self))[rows]
        one = picked.ndim == 0
        picked = picked.reshape(-1)
        values = np.empty((len(picked), *self.shape[1:]), np.uint8)
        flat = values.reshape(len(picked), -1)
        for first, last in consecutive_runs(picked):  # each run of consecutive images is one read
            start = self._offset + int(picked[first]) * self._image_bytes
            data = os.pread(self._backing.fileno(), (last - first) * self._image_bytes, start)
            flat[first:last] = np.frombuffer(data, np.uint8).reshape(last - first, -1)
        if one:
            return values[0][rest] if rest else values[0]
        return values[(slice(None), *rest)] if rest else values

    def _put(self, key, values: np.ndarray) -> None:
        rows, rest = _split(key)
        if rest:
            raise IndexError("Images on disk are written whole: index them by row only.")
        picked = np.arange(len(self))[rows].reshape(-1)
        values = np.broadcast_to(np.asarray(values, np.uint8), (len(picked), *self.shape[1:]))
        for first, last in consecutive_runs(picked):
            start = self._offset + int(picked[first]) * self._image_bytes
            os.pwrite(self._backing.fileno(), np.ascontiguousarray(values[first:last]).tobytes(), start)

    def head(self, count: int) -> PixelFile:
        return PixelFile(self.shape, self._backing, count=min(count, len(self)), offset=self._offset)


def _split(key) -> tuple[object, tuple]:
    """A numpy index split into what picks images and what picks within each."""
    if isinstance(key, tuple):
        if not key:
            return slice(None), ()
        if key[0] is Ellipsis:  # what follows indexes the last axes
            return slice(None), key if len(key) > 1 else ()
        return key[0], key[1:]
    if key is Ellipsis:
        return slice(None), ()
    return key, ()


def npy_header(handle) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` of the ``.npy`` file open in ``handle``, left at its
    first value."""
    version = np.lib.format.read_magic(handle)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    return read(handle)


def write_npy_blocks(handle, dtype, shape: tuple[int, ...], blocks: Iterable[np.ndarray]) -> None:
    """Write a C-ordered ``.npy`` of ``dtype`` and ``shape`` into an open binary file, its values
    given by ``blocks`` in order (:func:`npy_header` reads the header back)."""
    header = {
        "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
        "fortran_order": False,
        "shape": tuple(int(side) for side in shape),
    }
    np.lib.format.write_array_header_1_0(handle, header)
    for block in blocks:
        handle.write(np.ascontiguousarray(block, dtype).data)


def consecutive_runs(rows: np.ndarray) -> Iterator[tuple[int, int]]:
    """(first, last) position pairs of ``rows``'s runs of consecutive increasing values."""
    if not len(rows):
        return
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    edges = [0, *breaks.tolist(), len(rows)]
    yield from zip(edges[:-1], edges[1:])


class Masks:
    """Boolean masks (N, H, W), packed eight to a byte: 51 MB instead of 410 MB at 100,000 masks
    of 64 × 64. Indexing by image (an integer, a slice, indices) unpacks as numpy would."""

    dtype = np.dtype(bool)
    ndim = 3

    def __init__(self, shape: tuple[int, int, int]) -> None:
        self.shape = tuple(int(side) for side in shape)
        self._packed = np.zeros((self.shape[0], -(-self.shape[1] * self.shape[2] // 8)), np.uint8)

    @classmethod
    def from_packed(cls, shape: tuple[int, int, int], packed: np.ndarray) -> Masks:
        """The masks whose :attr:`packed` bytes these are."""
        masks = cls(shape)
        masks._packed[:] = packed
        return masks

    @property
    def packed(self) -> np.ndarray:
        """uint8 (N, ceil(H·W / 8)): the masks' bits, eight to a byte."""
        return self._packed

    @classmethod
    def from_bool(cls, masks: np.ndarray) -> Masks:
        masks = np.asarray(masks, bool)
        packed = cls(masks.shape)
        packed[:] = masks
        return packed

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        rows, rest = _split(key)
        picked = self._packed[rows]
        flat = np.unpackbits(picked, axis=-1, count=self.shape[1] * self.shape[2]).astype(bool)
        masks = flat.reshape(*picked.shape[:-1], *self.shape[1:])
        if not rest:
            return masks
        return masks[rest] if masks.ndim == 2 else masks[(slice(None), *rest)]

    def __setitem__(self, key, masks: np.ndarray) -> None:
        masks = np.asarray(masks, bool)
        self._packed[key] = np.packbits(masks.reshape(*masks.shape[:-2], -1), axis=-1)

    def __iter__(self) -> Iterator[np.ndarray]:
        for index in range(len(self)):
            yield self[index]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self[:] if dtype is None else self[:].astype(dtype)
