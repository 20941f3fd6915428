"""Built-in image sets, made on the spot: nothing is downloaded.

* ``shapes``: seeded, procedurally drawn RGB images of a few kinds of shape in varied colours,
  sizes and positions on smooth two-colour backgrounds, each with its label and its
  ground-truth object mask (for checking where the maps point).
* ``digits``: scikit-learn's bundled 8x8 handwritten digits, upsampled, with labels.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from aevis._utils.pixels import Masks, Pixels
from aevis.data.imageset import ImageSet

SHAPE_KINDS = ("circle", "square", "triangle", "cross")
_SUPERSAMPLE = 4  # drawn at 4x and reduced, for anti-aliased edges


def make_shapes(count: int = 320, size: int = 64, seed: int = 0) -> ImageSet:
    """``count`` shape images (count, size, size, 3), with labels and masks.

    Kinds cycle through :data:`SHAPE_KINDS` so every kind is equally represented; colour,
    size, position, rotation and background are drawn from a generator seeded with ``seed``.
    """
    rng = np.random.default_rng(seed)
    images = Pixels.allocate((count, size, size, 3))
    masks = Masks((count, size, size))
    labels = []
    for index in range(count):
        kind = SHAPE_KINDS[index % len(SHAPE_KINDS)]
        background = _smooth_background(rng, size)
        coverage = _draw_shape(rng, kind, size)
        colour = _contrasting_colour(rng, background.mean(axis=(0, 1)))
        images[index] = background * (1 - coverage[..., None]) + colour * coverage[..., None]
        masks[index] = coverage >= 0.5
        labels.append(kind)
    names = [f"{label}-{index:04d}" for index, label in enumerate(labels)]
    return ImageSet(
        images=images,
        names=names,
        sources=[f"shapes/{name}" for name in names],
        labels=labels,
        masks=masks,
        label_kind="kind of shape",
    )


def _smooth_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A linear blend between two muted colours at a random angle, plus a soft blob."""
    start, end = rng.uniform(0.15, 0.85, size=(2, 3))
    angle = rng.uniform(0, 2 * math.pi)
    ys, xs = np.mgrid[0:size, 0:size] / (size - 1)
    ramp = (xs - 0.5) * math.cos(angle) + (ys - 0.5) * math.sin(angle)
    ramp = (ramp - ramp.min()) / (np.ptp(ramp) or 1.0)
    blob_y, blob_x = rng.uniform(0, 1, size=2)
    blob = np.exp(-((xs - blob_x) ** 2 + (ys - blob_y) ** 2) / 0.08) * rng.uniform(-0.12, 0.12)
    background = start + (end - start) * ramp[..., None] + blob[..., None]
    return np.clip(background, 0, 1).astype(np.float32)


def _contrasting_colour(rng: np.random.Generator, background_mean: np.ndarray) -> np.ndarray:
    """A saturated colour at least a fixed distance from the background's mean."""
    for _ in range(100):
        colour = rng.uniform(0, 1, size=3)
        colour[rng.integers(3)] = rng.choice([0.05, 0.95])  # keep it vivid
        if np.linalg.norm(colour - background_mean) > 0.5:
            break
    return colour.astype(np.float32)


def _draw_shape(rng: np.random.Generator, kind: str, size: int) -> np.ndarray:
    """Anti-aliased coverage (size, size) in [0, 1] of one shape inside the image."""
    big = size * _SUPERSAMPLE
    radius = rng.uniform(0.14, 0.3) * big
    margin = radius * 1.05
    cx, cy = rng.uniform(margin, big - margin, size=2)
    rotation = rng.uniform(0, 2 * math.pi)
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    if kind == "circle":
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=255)
    elif kind == "square":
        draw.polygon(_regular_polygon(cx, cy, radius, 4, rotation), fill=255)
    elif kind == "triangle":
        draw.polygon(_regular_polygon(cx, cy, radius, 3, rotation), fill=255)
    elif kind == "cross":
        arm = radius * 0.38
        for angle in (rotation, rotation + math.pi / 2):
            dx, dy = math.cos(angle), math.sin(angle)
            corners = [
                (cx + sx * radius * dx - sy * arm * dy, cy + sx * radius * dy + sy * arm * dx)
                for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
            ]
            draw.polygon(corners, fill=255)
    else:
        raise ValueError(f"Unknown shape kind {kind!r}; expected one of {', '.join(SHAPE_KINDS)}.")
    small = canvas.resize((size, size), Image.Resampling.BOX)
    return np.asarray(small, np.float32) / 255.0


def _regular_polygon(cx: float, cy: float, radius: float, sides: int, rotation: float) -> list:
    return [
        (
            cx + radius * math.cos(rotation + 2 * math.pi * k / sides),
            cy + radius * math.sin(rotation + 2 * math.pi * k / sides),
        )
        for k in range(sides)
    ]


def make_digits(count: int | None = None, size: int = 64, channels: int = 3) -> ImageSet:
    """scikit-learn's handwritten digits, upsampled to ``size`` and repeated to ``channels``.

    Args:
        count: how many (the first ``count`` of 1,797); None takes all.
        size: side of the square output.
        channels: 1 or 3 (the grey value repeated).
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels, targets = digits.images, digits.target
    if count is not None:
        pixels, targets = pixels[:count], targets[:count]
    upsampled = np.stack(
        [
            np.asarray(
                Image.fromarray((grid / 16.0 * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BICUBIC),
                np.float32,
            )
            / 255.0
            for grid in pixels
        ]
    )
    images = np.repeat(upsampled[..., None], channels, axis=-1)
    labels = [str(int(digit)) for digit in targets]
    names = [f"digit-{label}-{index:04d}" for index, label in enumerate(labels)]
    return ImageSet(
        images=images.astype(np.float32),
        names=names,
        sources=[f"digits/{name}" for name in names],
        labels=labels,
        label_kind="digit",
    )
