"""Images handed over in Python rather than as a folder (:func:`aevis.build`): an array, a list
of image files, or a ``tf.data`` dataset.

An array's values are read the way a file's are, as 8-bit pixels in [0, 1], with the range
found from the whole array, since an array has no format to say it: bytes (``uint8``) and other
whole numbers up to 255 are 0 to 255, ``uint16`` 0 to 65,535; floating-point values within
[0, 1] are taken as they are, within [-1, 1] (the range a ``tanh`` autoencoder is trained on)
or [0, 255] as that range, and any other spread is stretched from its lowest to its highest
value, as a floating-point image file is. NaN and infinite values become 0. Images are then
brought to the model's input as files are (:func:`aevis.data.folders.to_shape`), a block at a
time, so a large array is never copied whole as floats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from aevis._utils.pixels import Pixels
from aevis.data.folders import read_image_files, to_shape
from aevis.data.imageset import ImageSet
from aevis.errors import AevisError

_BLOCK = 1024  # images converted at once: a few tens of MB of floats at most


class ImageSource(Protocol):
    """Images handed over in Python (:class:`ArrayImages`, :class:`FileImages`), read at the
    model's input size when the build knows it."""

    def __len__(self) -> int: ...

    def read(self, shape: tuple[int, int, int], on_progress: Callable[[int], None] | None = None) -> ImageSet: ...

    def note(self) -> str | None:
        """A line on how the images were read, or None."""


@dataclass(frozen=True)
class ValueRange:
    """The values that become 0 and 1, and the range in words."""

    low: float
    high: float
    words: str

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        """``values`` as float32 in [0, 1]; NaN and infinite values become 0."""
        unit = (np.asarray(values, np.float32) - np.float32(self.low)) / np.float32(self.high - self.low)
        return np.clip(np.nan_to_num(unit, nan=0.0, posinf=0.0, neginf=0.0), 0, 1)


def value_range(array: np.ndarray) -> ValueRange:
    """The pixel range of an array of images (see the module's rules).

    Raises:
        AevisError: the values are not numbers, are whole numbers beyond 0 to 255, or none is finite.
    """
    if array.dtype == np.uint8:
        return ValueRange(0, 255, "0 to 255 (bytes)")
    if array.dtype == np.uint16:
        return ValueRange(0, 65535, "0 to 65,535 (16-bit)")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise AevisError(f"Expected images as numbers, but the array holds {array.dtype} values.")
    low, high = _finite_extremes(array)
    if np.issubdtype(array.dtype, np.integer):
        if low < 0 or high > 255:
            raise AevisError(
                f"Expected whole-number pixel values from 0 to 255, but the images hold values from {low:g} to "
                f"{high:g}; give bytes (uint8), 16-bit values (uint16) or floating-point values."
            )
        return ValueRange(0, 255, "0 to 255")
    for bottom, top in ((0, 1), (-1, 1), (0, 255)):
        if bottom <= low and high <= top:
            return ValueRange(bottom, top, f"[{bottom}, {top}]")
    return ValueRange(
        low,
        high if high > low else low + 1,
        f"from {low:g} to {high:g}, stretched to the full range as a floating-point image file is",
    )


def _finite_extremes(array: np.ndarray) -> tuple[float, float]:
    low, high = np.inf, -np.inf
    for start in range(0, len(array), _BLOCK):
        block = np.asarray(array[start : start + _BLOCK])
        finite = block[np.isfinite(block)] if np.issubdtype(block.dtype, np.floating) else block
        if finite.size:
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    if low > high:
        raise AevisError("Expected images with pixel values, but every value is NaN or infinite.")
    return low, high


@dataclass(frozen=True, eq=False)
class ArrayImages:
    """Images in an array, (N, H, W, C) with 1, 3 or 4 channels or (N, H, W) for grey, of any size.

    Attributes:
        array: the images, as given (any array NumPy can read: NumPy, TensorFlow, JAX, PyTorch on the CPU).
        names: a name per image; None names them ``image-0000``, ``image-0001``...
        labels: a label per image (text), or None.
    """

    array: np.ndarray
    names: list[str] | None = None
    labels: list[str] | None = None
    values: ValueRange = field(init=False)
    """The range the array's values are read in (found when it is given, so a bad one fails at once)."""

    def __post_init__(self) -> None:
        array = self.array if isinstance(self.array, np.ndarray) else np.asarray(self.array)
        if array.ndim == 3:
            array = array[..., None]
        if array.ndim != 4 or array.shape[-1] not in (1, 3, 4) or not len(array) or 0 in array.shape[1:3]:
            raise AevisError(
                f"Expected images as an array (N, height, width, channels) with 1, 3 or 4 channels, or "
                f"(N, height, width) for grey images, but got shape {tuple(np.shape(self.array))}."
            )
        object.__setattr__(self, "array", array)
        object.__setattr__(self, "values", value_range(array))
        object.__setattr__(self, "names", _per_image(self.names, len(array), "names"))
        object.__setattr__(self, "labels", _per_image(self.labels, len(array), "labels"))

    def __len__(self) -> int:
        return len(self.array)

    def read(self, shape: tuple[int, int, int], on_progress: Callable[[int], None] | None = None) -> ImageSet:
        """The images at the model's input ``shape`` = (height, width, channels)."""
        pixels = Pixels.allocate((len(self), *shape))
        for start in range(0, len(self), _BLOCK):
            block = self.values.to_unit(self.array[start : start + _BLOCK])
            pixels[start : start + len(block)] = to_shape(block, shape)
            if on_progress:
                on_progress(len(block))
        names = self.names or default_names(len(self))
        return ImageSet(pixels, names, sources=list(names), labels=self.labels)

    def note(self) -> str:
        """How the values were read, for the person watching the build."""
        return f"The images' values are read as {self.values.words}."


@dataclass(frozen=True, eq=False)
class FileImages:
    """Image files named one by one (read as a folder's are: a file that is not an image is skipped).

    Attributes:
        paths: the files.
        names: a name per file; None uses the file names.
        labels: a label per file (text), or None.
    """

    paths: list[Path]
    names: list[str] | None = None
    labels: list[str] | None = None

    def __post_init__(self) -> None:
        if not self.paths:
            raise AevisError("Expected images, but the list of files is empty.")
        object.__setattr__(self, "names", _per_image(self.names, len(self.paths), "names"))
        object.__setattr__(self, "labels", _per_image(self.labels, len(self.paths), "labels"))

    def __len__(self) -> int:
        return len(self.paths)

    def note(self) -> None:
        return None

    def read(self, shape: tuple[int, int, int], on_progress: Callable[[int], None] | None = None) -> ImageSet:
        """The readable files' images at the model's input ``shape``."""
        sources = [Path(path).as_posix() for path in self.paths]
        imageset, kept = read_image_files(
            [Path(path) for path in self.paths], shape, sources, "among the files given", on_progress
        )
        return replace(
            imageset,
            names=[self.names[index] for index in kept] if self.names else imageset.names,
            labels=[self.labels[index] for index in kept] if self.labels else None,
        )


def dataset_images(dataset, names: Sequence | None = None, labels: Sequence | None = None) -> ArrayImages:
    """The images of a ``tf.data`` dataset, read once into memory.

    Its elements are images (H, W, C) or (H, W), or batches of them, alone or paired with a
    second value: the target of an autoencoder's ``fit`` (the same shape: ignored) or a label
    per image (a number, or a one-hot row, read as its largest entry's index). ``labels``,
    when given, replace the dataset's own.

    Raises:
        AevisError: the dataset holds something else, or nothing.
    """
    batched = _is_batched(_image_spec(dataset.element_spec))
    blocks, found = [], []
    for element in dataset.as_numpy_iterator():
        images, second = element if isinstance(element, tuple) else (element, None)
        images = np.asarray(images)
        if not batched:
            images, second = images[None], None if second is None else np.asarray(second)[None]
        blocks.append(images)
        if second is not None and np.shape(second) != images.shape:
            found.extend(_labels_of(np.asarray(second)))
    if not blocks:
        raise AevisError("Expected images, but the dataset is empty.")
    array = np.concatenate(blocks)
    if labels is None and found:
        labels = found
    return ArrayImages(array, names, labels)


def _image_spec(spec):
    if isinstance(spec, tuple) and len(spec) == 2:
        spec = spec[0]
    shape = getattr(spec, "shape", None)
    if shape is None or not 2 <= shape.rank <= 4:
        raise AevisError(
            "Expected a dataset of images (H, W, C), or of (image, label) or (image, target) pairs, "
            f"but its elements are {spec}."
        )
    return spec


def _is_batched(spec) -> bool:
    """Whether a dataset's elements are batches: (B, H, W, C) or (B, H, W) (grey images), told
    apart from one (H, W, C) image by an unknown first size or a last size that is not 1, 3 or 4."""
    shape = spec.shape
    if shape.rank == 3:
        return shape[0] is None or shape[-1] not in (1, 3, 4)
    return shape.rank == 4


def _labels_of(values: np.ndarray) -> list[str]:
    if values.ndim == 1:
        return [_label(value) for value in values]
    if values.ndim == 2:  # one-hot rows
        return [str(int(index)) for index in values.argmax(axis=1)]
    raise AevisError(
        f"Expected a dataset's second values to be labels (one per image) or the images again, but they are "
        f"shaped {values.shape[1:]} per image."
    )


def _label(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _per_image(values: Sequence | None, count: int, what: str) -> list[str] | None:
    """``names`` or ``labels`` as text, one per image; a wrong count is an error."""
    if values is None:
        return None
    values = [_label(value) for value in values]
    if len(values) != count:
        raise AevisError(f"Expected one of the {what} per image, {count:,} in all, but got {len(values):,}.")
    return values


def default_names(count: int) -> list[str]:
    """``image-0000``, ``image-0001``... wide enough for ``count``."""
    width = max(4, len(str(count - 1)))
    return [f"image-{index:0{width}d}" for index in range(count)]
