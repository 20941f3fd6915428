"""Arrays to Pillow images and PNG files, and the look every drawn picture shares.

An image here is a float array in [0, 1], (H, W, C) with 1, 3 or 4 channels (or RGB (H, W, 3));
NaN draws as black.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageFont

BACKGROUND = (255, 255, 255)
INK = (51, 51, 51)
"""Text and arrows."""
OUTLINE = (255, 214, 10)
"""The yellow edge of a highlighted region."""
GAP = 6
"""Pixels between the panels of a picture, and around them."""


class Size(NamedTuple):
    """A picture's size in pixels, as its page states it."""

    width: int
    height: int


def font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def to_pil(image: np.ndarray) -> Image.Image:
    """A float (H, W, C) image in [0, 1] with 1, 3 or 4 channels as a Pillow image (NaN as black)."""
    pixels = np.round(np.clip(np.nan_to_num(image, nan=0.0), 0, 1) * 255).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    return Image.fromarray(pixels)


def square(image: np.ndarray, side: int, resample: Image.Resampling = Image.Resampling.NEAREST) -> Image.Image:
    """An image as an RGB Pillow image ``side`` pixels square (by default enlarged with its pixels
    kept sharp)."""
    return to_pil(image).convert("RGB").resize((side, side), resample)


def save_png(image: np.ndarray, path: Path) -> None:
    """Write a [0, 1] image as a PNG."""
    to_pil(image).save(path)


def write_png(picture: Image.Image, path: Path) -> None:
    """Save a drawn picture as a 256-colour PNG: grids and strips hold a colour map and grey
    text, which 256 colours render within a few levels (white may come out as 254), and it
    writes twice as fast at a third of the size."""
    picture.quantize(256, method=Image.Quantize.FASTOCTREE).save(path)
