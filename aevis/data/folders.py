"""Where the user's images are read and brought to the model's input.

Every file that is not hidden is tried, whatever its extension, and recognised by its content
(a PNG named ``.jpg`` is read as the PNG it is). Each is opened read-only, turned upright (EXIF
orientation), reduced to its first frame, composited on white where it has transparency,
centre-cropped to the model's aspect, resized, converted to the model's channel count and
kept as 8-bit values (:class:`~aevis._utils.pixels.Pixels`; a 16-bit or floating-point file is
rounded to 8 bits, as its thumbnails are), in memory or, for a large set, on disk. A file that is not a readable image becomes a
:class:`~aevis.data.imageset.Reject` with a reason; it never stops the build. Symbolic links to
folders are not followed (so link loops cannot trap the walk); links to files are read.
Pillow's decompression-bomb guard stays on: an image of more than twice
``Image.MAX_IMAGE_PIXELS`` pixels (about 179 million) is rejected, not decoded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from aevis._utils.pixels import Pixels
from aevis.data.imageset import ImageSet, Reject
from aevis.errors import AevisError

IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")
"""Pillow formats read (JPEG includes MPO, the variant some cameras write)."""
Image.init()  # register every format plugin, so ``Image.open(formats=...)`` knows them all
TRANSPARENCY_BACKGROUND = (255, 255, 255)
"""Transparent pixels are composited on white, as a browser shows them on a white page."""

# Full-scale value of each integer mode Pillow may hand back; 'F' is handled on its own.
_FULL_SCALE = {"L": 255.0, "RGB": 255.0, "I": 65535.0}


def find_image_files(folder: Path) -> list[Path]:
    """Candidate files under ``folder``, recursively, sorted; hidden files and folders skipped."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / name for name in sorted(files) if not name.startswith("."))
    return found


def _printable(relative: str) -> str:
    """A path as text that JSON and HTML can carry: undecodable bytes become U+FFFD."""
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_image_folder(
    folder: str | Path,
    shape: tuple[int, int, int],
    on_progress: Callable[[int], None] | None = None,
) -> ImageSet:
    """Read every image under ``folder`` at ``shape`` = (height, width, channels).

    Raises:
        AevisError: the folder does not exist or holds no readable image.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise AevisError(f"Expected a folder of images at {folder}, but there is no such folder.")
    files = find_image_files(folder)
    if not files:
        raise AevisError(f"Expected image files under {folder}, but found no files at all.")
    sources = [_printable(path.relative_to(folder).as_posix()) for path in files]
    imageset, _ = read_image_files(files, shape, sources, f"under {folder}", on_progress)
    return imageset


def read_image_files(
    files: list[Path],
    shape: tuple[int, int, int],
    sources: list[str],
    where: str,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[ImageSet, list[int]]:
    """Read ``files`` at ``shape``, each known by its source (its path as the user gives it).

    Returns:
        The images read, with their sources and names, and the files rejected; and the
        indices (in ``files``) of the files read.

    Raises:
        AevisError: no file is a readable image (``where`` says where they were, in words).
    """
    pixels = Pixels.allocate((len(files), *shape))
    kept, rejected = [], []
    for index, (path, source) in enumerate(zip(files, sources, strict=True)):
        try:
            pixels[len(kept)] = load_image(path, shape)
            kept.append(index)
        except Exception as error:  # noqa: BLE001 - a broken file of any kind must not stop the build
            rejected.append(Reject(source, _reason(error)))
        if on_progress:
            on_progress(1)
    if not kept:
        raise AevisError(
            f"Expected at least one readable image {where}, but all {len(files)} files were rejected "
            f"(first: {rejected[0].path}: {rejected[0].reason})."
        )
    return ImageSet(
        images=pixels.head(len(kept)),
        names=[Path(sources[index]).name for index in kept],
        sources=[sources[index] for index in kept],
        rejected=rejected,
    ), kept


def _reason(error: Exception) -> str:
    """Why a file was rejected, in a few words."""
    if isinstance(error, UnidentifiedImageError):
        return f"not an image in a supported format ({', '.join(IMAGE_FORMATS)})"
    if isinstance(error, Image.DecompressionBombError):
        return "too many pixels to decode safely (Pillow's decompression-bomb guard)"
    if isinstance(error, MemoryError):
        return "too large to decode in memory"
    if isinstance(error, OSError) and "truncated" in str(error):
        return "the file is cut short (truncated)"
    if isinstance(error, (FileNotFoundError, PermissionError, IsADirectoryError)):
        return f"could not be opened ({error.strerror or type(error).__name__})"
    text = str(error).strip()
    return f"unreadable image: {text.splitlines()[0] if text else type(error).__name__}"


def load_image(path: str | Path, shape: tuple[int, int, int]) -> np.ndarray:
    """One image file as float32 (height, width, channels) in [0, 1]."""
    height, width, channels = shape
    with Image.open(path, formats=IMAGE_FORMATS) as opened:
        opened.seek(0)
        if opened.format in ("JPEG", "MPO"):
            opened.draft("RGB", (width * 2, height * 2))  # decode at reduced size: fast, small
        opened.load()
        image = _plain_mode(_upright(opened))
    image = _centre_crop(image, width / height)
    image = image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return to_channels(_to_unit_float(image), channels)


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; an unreadable EXIF block leaves the image as stored."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - broken metadata is no reason to lose the picture
        return image


def _plain_mode(image: Image.Image) -> Image.Image:
    """The image in 'L', 'RGB', 'I' (16-bit) or 'F' mode, transparency composited."""
    if image.mode in ("L", "RGB", "F"):
        return image
    if image.mode.startswith("I"):
        return image.convert("I")
    if image.mode == "1":
        return image.convert("L")
    if image.mode == "P" and "transparency" in image.info or image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, TRANSPARENCY_BACKGROUND + (255,))
        composited = Image.alpha_composite(background, rgba)
        return composited.convert("L" if image.mode in ("LA", "La") else "RGB")
    return image.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV


def _centre_crop(image: Image.Image, aspect: float) -> Image.Image:
    width, height = image.size
    if width / height > aspect:
        new_width = max(1, round(height * aspect))
        left = (width - new_width) // 2
        return image.crop((left, 0, left + new_width, height))
    new_height = max(1, round(width / aspect))
    top = (height - new_height) // 2
    return image.crop((0, top, width, top + new_height))


def _to_unit_float(image: Image.Image) -> np.ndarray:
    array = np.asarray(image, np.float32)
    if image.mode == "F":
        # Float images have no fixed scale: take [0, 1] as is, else stretch min..max.
        finite = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
        low, high = float(finite.min()), float(finite.max())
        if low < 0 or high > 1:
            finite = (finite - low) / ((high - low) or 1.0)
        return np.clip(finite, 0, 1)
    return np.clip(array / _FULL_SCALE[image.mode], 0, 1)


def to_shape(images: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Images already read, float32 (N, H, W, C) in [0, 1], brought to another input ``shape``
    (height, width, channels) as a file is: centre-cropped to its aspect, resized (Lanczos,
    clipped to [0, 1]) and given its channels (:func:`to_channels`; an alpha channel is dropped
    first). Images of that shape already are returned as they are."""
    height, width, channels = shape
    images = np.asarray(images, np.float32)
    if images.shape[1:] == (height, width, channels):
        return images
    fitted = np.empty((len(images), height, width, channels), np.float32)
    for index, image in enumerate(images[..., :3]):
        planes = [
            np.asarray(
                _centre_crop(Image.fromarray(np.ascontiguousarray(image[..., channel])), width / height).resize(
                    (width, height), Image.Resampling.LANCZOS
                )
            )
            for channel in range(image.shape[-1])
        ]
        fitted[index] = to_channels(np.clip(np.stack(planes, axis=-1), 0, 1), channels)
    return fitted


def to_channels(array: np.ndarray, channels: int) -> np.ndarray:
    """(H, W) or (H, W, 3) to (H, W, channels); colour to grey uses ITU-R 601 luma."""
    if array.ndim == 2:
        array = array[..., None]
    if array.shape[-1] == 3 and channels == 1:
        return (array @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    if array.shape[-1] == 1 and channels in (3, 4):
        array = np.repeat(array, 3, axis=-1)
    if channels == 4:
        array = np.concatenate([array, np.ones_like(array[..., :1])], axis=-1)
    return np.ascontiguousarray(array, np.float32)
