"""The two animations of an image page: the latent morph and the occlusion sweep (GIFs).

Arrays in, files out; nothing here runs the model. Each animation's size in pixels comes from
the constants below, through :func:`morph_size` and :func:`sweep_size`, which pages state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from aevis._utils.patches import patch_masks
from aevis.draw import colour
from aevis.draw.pixels import BACKGROUND, GAP, OUTLINE, Size, square

MORPH_PANEL = 96
"""Side, in pixels, of each of the morph's three panels."""
MORPH_BAR = 4
"""Height, in pixels, of the bar under the morph's middle panel."""
SWEEP_PANEL = 128
"""Side, in pixels, of each of the sweep's two panels."""
SWEEP_FRAMES = 24
"""Frames of the occlusion sweep: patch positions picked evenly, rows first, the last one last."""
FRAME_MS = 90
HOLD_MS = 700


def save_gif(frames: list[Image.Image], path: Path, durations: list[int]) -> tuple[int, Size]:
    """A looping GIF; returns (frame count, size).

    All frames share one 255-colour palette taken from the first, middle and last frames (ten
    times faster than a palette per frame, and the GIF stays small). Frames must differ from
    their predecessor: GIF writers merge identical neighbours.
    """
    width, height = frames[0].size
    sample = Image.new("RGB", (width, 3 * height))
    for number, frame in enumerate((frames[0], frames[len(frames) // 2], frames[-1])):
        sample.paste(frame, (0, number * height))
    palette = sample.quantize(255, method=Image.Quantize.MEDIANCUT)
    indexed = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
    indexed[0].save(path, save_all=True, append_images=indexed[1:], duration=durations, loop=0, disposal=1)
    return len(frames), Size(width, height)


def there_and_back(steps: int) -> list[int]:
    """Frame order of a looping morph: 0 .. steps-1, then back down to 1 (2·steps − 2 frames)."""
    return list(range(steps)) + list(range(steps - 2, 0, -1))


def morph_size() -> Size:
    """The morph's size: three panels in a row, the bar under them."""
    return Size(3 * MORPH_PANEL + 4 * GAP, MORPH_PANEL + 3 * GAP + MORPH_BAR)


def morph_gif(start: np.ndarray, frames: np.ndarray, end: np.ndarray, path: Path) -> tuple[int, Size]:
    """The latent morph: [this image | the decoded walk | its neighbour], there and back.

    ``frames`` is one morph's (steps, H, W, C) from :func:`aevis.network.morphs.morphs`. The GIF has
    2·steps − 2 frames (26 for 14 steps) of :func:`morph_size`; the ends are held longer. A bar
    under the middle panel shows how far along the line between the two codes each frame is.
    """
    steps = len(frames)
    panel, bar = MORPH_PANEL, MORPH_BAR
    base = Image.new("RGB", morph_size(), BACKGROUND)
    base.paste(square(start, panel), (GAP, GAP))
    base.paste(square(end, panel), (3 * GAP + 2 * panel, GAP))
    order = there_and_back(steps)
    pictures, durations = [], []
    for step in order:
        frame = base.copy()
        frame.paste(square(frames[step], panel), (2 * GAP + panel, GAP))
        draw = ImageDraw.Draw(frame)
        left, top = 2 * GAP + panel, 2 * GAP + panel
        draw.rectangle((left, top, left + panel - 1, top + bar - 1), fill=(225, 225, 225))
        filled = round((panel - 1) * step / max(steps - 1, 1))
        draw.rectangle((left, top, left + filled, top + bar - 1), fill=(47, 109, 181))
        pictures.append(frame)
        durations.append(HOLD_MS if step in (0, steps - 1) else FRAME_MS)
    return save_gif(pictures, path, durations)


def sweep_size() -> Size:
    """The sweep's size: two panels side by side."""
    return Size(2 * SWEEP_PANEL + 3 * GAP, SWEEP_PANEL + 2 * GAP)


def sweep_gif(
    image: np.ndarray, heat: np.ndarray, patch: int, stride: int, path: Path, fill: float = 0.5, signed: bool = True
) -> tuple[int, Size]:
    """The occlusion sweep: a grey patch travels over the image while the map fills in beside it.

    ``heat`` is the image's occlusion map (H, W) made with this ``patch`` and ``stride``.
    The GIF has :data:`SWEEP_FRAMES` frames (fewer only when there are fewer patch positions)
    of :func:`sweep_size`: left, the image with the patch (yellow edge); right, the map revealed
    over every pixel the patch has covered so far. The last frame, the whole map, is held.
    """
    height, width = heat.shape
    masks = patch_masks(height, width, patch, stride)  # (P, H, W), rows first
    picks = np.unique(np.linspace(0, len(masks) - 1, min(SWEEP_FRAMES, len(masks))).round().astype(int))
    covered = np.logical_or.accumulate(masks, axis=0)
    full = colour.overlay(image, heat, signed=signed)
    blank = colour.overlay(image, np.zeros_like(heat), signed=signed)
    panel = SWEEP_PANEL
    scale = panel / height
    pictures, durations = [], []
    for pick in picks:
        frame = Image.new("RGB", sweep_size(), BACKGROUND)
        occluded = np.where(masks[pick][..., None], np.float32(fill), image)
        frame.paste(square(occluded, panel), (GAP, GAP))
        rows, cols = np.flatnonzero(masks[pick].any(axis=1)), np.flatnonzero(masks[pick].any(axis=0))
        ImageDraw.Draw(frame).rectangle(
            (
                GAP + cols[0] * scale,
                GAP + rows[0] * scale,
                GAP + (cols[-1] + 1) * scale - 1,
                GAP + (rows[-1] + 1) * scale - 1,
            ),
            outline=OUTLINE,
            width=2,
        )
        revealed = np.where(covered[pick][..., None], full, blank)
        frame.paste(square(revealed, panel), (2 * GAP + panel, GAP))
        pictures.append(frame)
        durations.append(HOLD_MS * 3 if pick == picks[-1] else FRAME_MS)
    return save_gif(pictures, path, durations)
