"""Pictures of the inside of the network: activation grids, the layer strip, channel-gallery
tiles, the mosaic, and the two animations (latent morph, occlusion sweep).

Arrays in, Pillow images or files out; nothing here runs the model. Sizes and frame counts
are fixed by the constants below, so pages can state them.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from aevis.draw import render
from aevis.network.activations import STRONGEST, LayerInfo, strongest_channels
from aevis.methods.occlusion import patch_masks
from aevis.network.morphs import there_and_back

ACTIVATION_COLOURMAP = "viridis"
GRID_NORMALISATION = "layer"
"""How activation grids are coloured by default: one scale shared by a layer's channels."""
NORMALISATION_WORDS = {
    "layer": "One colour scale per layer: dark is the layer's lowest value for this image and bright "
             "yellow its 99.5th percentile, so bright tiles are the channels that respond most.",
    "channel": "Each channel has its own colour scale, from its lowest value (dark) to its highest "
               "(yellow), so every channel's pattern shows, however weak; a flat tile never varies.",
}
GRID_CELL = 48
"""Smallest side, in pixels, of one channel's tile in an activation grid (maps are enlarged by
a whole factor to reach it, pixels kept sharp)."""
STRIP_TILE = 56
MORPH_PANEL = 96
SWEEP_PANEL = 128
SWEEP_FRAMES = 24
"""Frames of the occlusion sweep: patch positions picked evenly, rows first, the last one last."""
FRAME_MS = 90
HOLD_MS = 700
_GAP = 6
_BACKGROUND = (255, 255, 255)
_INK = (51, 51, 51)
_OUTLINE = (255, 214, 10)


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _enlarge(picture: np.ndarray, side: int) -> Image.Image:
    """A [0, 1] image (or RGB array) as an RGB Pillow image ``side`` pixels across, pixels kept sharp."""
    return render.to_pil(picture).convert("RGB").resize((side, side), Image.Resampling.NEAREST)


def _colour_maps(maps: np.ndarray, normalisation: str) -> np.ndarray:
    """(h, w, C) values -> (C, h, w, 3) RGB in [0, 1] under the chosen normalisation."""
    stack = np.moveaxis(np.asarray(maps, np.float32), -1, 0)  # (C, h, w)
    if normalisation == "layer":
        low = float(stack.min())
        high = float(np.percentile(stack, 99.5))
        high = high if high > low else low + 1.0
        return render.colourise(stack, low, high, ACTIVATION_COLOURMAP)
    if normalisation == "channel":
        low = stack.min(axis=(1, 2), keepdims=True)
        span = stack.max(axis=(1, 2), keepdims=True) - low
        scaled = np.divide(stack - low, span, out=np.zeros_like(stack), where=span > 0)
        return render.colourise(scaled, 0.0, 1.0, ACTIVATION_COLOURMAP)
    raise ValueError(f"Expected normalisation 'layer' or 'channel', got {normalisation!r}.")


def write_png(picture: Image.Image, path: Path) -> None:
    """Save a drawn picture as a 256-colour PNG: grids and strips hold a colour map and grey
    text, so nothing visible is lost, and it writes twice as fast at a third of the size."""
    picture.quantize(256, method=Image.Quantize.FASTOCTREE).save(path)


def activation_grid(maps: np.ndarray, title: str, normalisation: str = GRID_NORMALISATION) -> Image.Image:
    """Every channel of one image's (h, w, C) feature map, numbered, under a title.

    ⌈√C⌉ columns; each map enlarged by a whole factor to at least :data:`GRID_CELL` pixels
    (maps over twice that are shrunk to it). See :data:`NORMALISATION_WORDS` for the colours.
    """
    maps = np.asarray(maps, np.float32)
    if maps.ndim != 3:
        raise ValueError(f"Expected one image's (height, width, channels) map, got shape {maps.shape}.")
    height, width, count = maps.shape
    factor = max(1, math.ceil(GRID_CELL / max(height, width)))
    shrink = max(height, width) > 2 * GRID_CELL
    cell_w, cell_h = (GRID_CELL, GRID_CELL) if shrink else (width * factor, height * factor)
    columns = math.ceil(math.sqrt(count))
    tiles = np.round(_colour_maps(maps, normalisation) * 255).astype(np.uint8)  # (C, h, w, 3)
    if shrink:
        tiles = np.stack([np.asarray(Image.fromarray(tile).resize((cell_w, cell_h), Image.Resampling.BOX))
                          for tile in tiles])
    else:
        tiles = tiles.repeat(factor, axis=1).repeat(factor, axis=2)
    sheet = np.array(_grid_frame(count, columns, cell_w, cell_h, title))
    for channel in range(count):
        left, top = _grid_origin(channel, columns, cell_w, cell_h)
        sheet[top : top + cell_h, left : left + cell_w] = tiles[channel]
    return Image.fromarray(sheet)


_GRID_GAP, _GRID_LABEL, _GRID_TITLE = 3, 13, 24


def _grid_origin(channel: int, columns: int, cell_w: int, cell_h: int) -> tuple[int, int]:
    row, column = divmod(channel, columns)
    return _GRID_GAP + column * (cell_w + _GRID_GAP), _GRID_TITLE + row * (cell_h + _GRID_LABEL + _GRID_GAP)


@functools.lru_cache(maxsize=64)
def _grid_frame(count: int, columns: int, cell_w: int, cell_h: int, title: str) -> Image.Image:
    """The white sheet with the title and channel numbers: the same for every image of a layer."""
    rows = math.ceil(count / columns)
    size = (columns * (cell_w + _GRID_GAP) + _GRID_GAP, _GRID_TITLE + rows * (cell_h + _GRID_LABEL + _GRID_GAP))
    frame = Image.new("RGB", size, _BACKGROUND)
    draw = ImageDraw.Draw(frame)
    draw.text((_GRID_GAP, _GRID_TITLE // 2), title, fill=_INK, font=_font(13), anchor="lm")
    small = _font(10)
    for channel in range(count):
        left, top = _grid_origin(channel, columns, cell_w, cell_h)
        draw.text((left + cell_w / 2, top + cell_h + _GRID_LABEL / 2), str(channel), fill=_INK, font=small, anchor="mm")
    return frame


def layer_strip(image: np.ndarray, reconstruction: np.ndarray, layers: list[LayerInfo],
                maps: dict[str, np.ndarray], strongest: int = STRONGEST) -> Image.Image:
    """The journey of one image: input → each layer's strongest channels → reconstruction.

    Args:
        image, reconstruction: (H, W, C) in [0, 1].
        layers: the layers in model order (encoder, bottleneck, decoder), e.g.
            ``conv_layers(ae)`` with the bottleneck put in its place.
        maps: layer name -> this image's (h, w, channels) map, or (units,) for a flat layer.
        strongest: channels per layer, highest mean activation first (each on its own scale).

    A flat (Dense) bottleneck is drawn as its units laid out in a square, one colour per unit.
    """
    columns: list[tuple[str, list[Image.Image]]] = [("input", [_enlarge(image, STRIP_TILE)])]
    for layer in layers:
        values = np.asarray(maps[layer.name], np.float32)
        if values.ndim == 3:
            picked = strongest_channels(values, strongest)
            coloured = _colour_maps(values[..., picked], "channel")
            tiles = [_enlarge(tile, STRIP_TILE) for tile in coloured]
            caption = f"{layer.name}\n{values.shape[0]}x{values.shape[1]}x{values.shape[2]}"
        else:
            flat = values.reshape(-1)
            side = math.ceil(math.sqrt(flat.size))
            square = np.full(side * side, np.nan, np.float32)
            square[: flat.size] = flat
            low, high = float(np.nanmin(square)), float(np.nanmax(square))
            rgb = render.colourise(np.nan_to_num(square, nan=low).reshape(side, side), low, high, ACTIVATION_COLOURMAP)
            tiles = [_enlarge(rgb, STRIP_TILE)]
            caption = f"{layer.name}\n{flat.size} units"
        if layer.part == "bottleneck":
            caption = "code: " + caption
        columns.append((caption, tiles))
    columns.append(("reconstruction", [_enlarge(reconstruction, STRIP_TILE)]))

    arrow = 18
    label_h = 30
    tallest = max(len(tiles) for _, tiles in columns)
    width = len(columns) * STRIP_TILE + (len(columns) - 1) * arrow + 2 * _GAP
    height = tallest * (STRIP_TILE + 3) + label_h + 2 * _GAP
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = _font(10)
    middle = _GAP + (tallest * (STRIP_TILE + 3)) / 2
    for number, (caption, tiles) in enumerate(columns):
        left = _GAP + number * (STRIP_TILE + arrow)
        top = _GAP + (tallest - len(tiles)) * (STRIP_TILE + 3) / 2
        for tile in tiles:
            sheet.paste(tile, (left, int(top)))
            top += STRIP_TILE + 3
        draw.multiline_text((left + STRIP_TILE / 2, _GAP + tallest * (STRIP_TILE + 3) + label_h / 2), caption,
                            fill=_INK, font=font, anchor="mm", align="center")
        if number + 1 < len(columns):
            _arrow(draw, left + STRIP_TILE + 3, left + STRIP_TILE + arrow - 3, middle)
    return sheet


def _arrow(draw: ImageDraw.ImageDraw, start: float, end: float, y: float) -> None:
    """A small right-pointing arrow (the default font has no arrow glyph)."""
    draw.line((start, y, end - 4, y), fill=_INK, width=2)
    draw.polygon(((end - 5, y - 4), (end, y), (end - 5, y + 4)), fill=_INK)


def channel_tile(image: np.ndarray, box: tuple[int, int, int, int] | None, size: int = 96) -> Image.Image:
    """An image enlarged to ``size`` pixels with its most-activating region outlined (yellow on black).

    ``box`` is (top, left, bottom, right) in input pixels, bottom/right exclusive, as
    :func:`aevis.network.activations.outline_box` gives it; None draws no box.
    """
    picture = _enlarge(image, size)
    if box is not None:
        height, width = image.shape[:2]
        top, left, bottom, right = box
        sy, sx = size / height, size / width
        draw = ImageDraw.Draw(picture)
        x0, y0, x1, y1 = left * sx, top * sy, right * sx - 1, bottom * sy - 1
        # Black, yellow (2 px), black: readable on light and dark images alike.
        draw.rectangle((x0, y0, x1, y1), outline=(0, 0, 0), width=4)
        draw.rectangle((x0 + 1, y0 + 1, x1 - 1, y1 - 1), outline=_OUTLINE, width=2)
    return picture


def mosaic_picture(thumbnails: np.ndarray, cells: np.ndarray, columns: int, rows: int,
                   cell: int | None = None) -> Image.Image:
    """Thumbnails (N, H, W, C) in [0, 1] placed at their grid ``cells`` (row-major), no gaps.

    ``cell`` (pixels) defaults to 2048 / columns, kept between 16 and 64, so the picture stays
    about 2,000 pixels wide or less whatever the set's size. Empty cells are white.
    """
    cell = cell or int(min(64, max(16, 2048 // max(columns, 1))))
    sheet = Image.new("RGB", (columns * cell, rows * cell), _BACKGROUND)
    resample = Image.Resampling.NEAREST if cell >= thumbnails.shape[1] else Image.Resampling.BOX
    for thumbnail, index in zip(thumbnails, cells):
        row, column = divmod(int(index), columns)
        sheet.paste(render.to_pil(thumbnail).convert("RGB").resize((cell, cell), resample), (column * cell, row * cell))
    return sheet


def save_gif(frames: list[Image.Image], path: Path, durations: list[int]) -> tuple[int, tuple[int, int]]:
    """A looping GIF; returns (frame count, (width, height)).

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
    return len(frames), frames[0].size


def morph_gif(start: np.ndarray, frames: np.ndarray, end: np.ndarray, path: Path) -> tuple[int, tuple[int, int]]:
    """The latent morph: [this image | the decoded walk | its neighbour], there and back.

    ``frames`` is one morph's (steps, H, W, C) from :func:`aevis.network.morphs.morphs`. The GIF has
    2·steps − 2 frames (28 − 2 = 26 for 14 steps), (3·96 + 4·6) × (96 + 3·6 + 4) =
    312 × 118 pixels; the ends are held longer. A bar under the middle panel shows how far along the
    line between the two codes each frame is.
    """
    steps = len(frames)
    panel, bar = MORPH_PANEL, 4
    size = (3 * panel + 4 * _GAP, panel + 3 * _GAP + bar)
    base = Image.new("RGB", size, _BACKGROUND)
    base.paste(_enlarge(start, panel), (_GAP, _GAP))
    base.paste(_enlarge(end, panel), (3 * _GAP + 2 * panel, _GAP))
    order = there_and_back(steps)
    pictures, durations = [], []
    for step in order:
        frame = base.copy()
        frame.paste(_enlarge(frames[step], panel), (2 * _GAP + panel, _GAP))
        draw = ImageDraw.Draw(frame)
        left, top = 2 * _GAP + panel, 2 * _GAP + panel
        draw.rectangle((left, top, left + panel - 1, top + bar - 1), fill=(225, 225, 225))
        filled = round((panel - 1) * step / max(steps - 1, 1))
        draw.rectangle((left, top, left + filled, top + bar - 1), fill=(47, 109, 181))
        pictures.append(frame)
        durations.append(HOLD_MS if step in (0, steps - 1) else FRAME_MS)
    return save_gif(pictures, path, durations)


def sweep_gif(image: np.ndarray, heat: np.ndarray, patch: int, stride: int, path: Path,
              fill: float = 0.5, signed: bool = True) -> tuple[int, tuple[int, int]]:
    """The occlusion sweep: a grey patch travels over the image while the map fills in beside it.

    ``heat`` is the image's occlusion map (H, W) made with this ``patch`` and ``stride``.
    The GIF has :data:`SWEEP_FRAMES` frames (fewer only when there are fewer patch positions),
    (2·128 + 3·6) × (128 + 2·6) = 274 × 140 pixels: left, the image with the patch (yellow
    edge); right, the map revealed over every pixel the patch has covered so far. The last
    frame, the whole map, is held.
    """
    height, width = heat.shape
    masks = patch_masks(height, width, patch, stride)  # (P, H, W), rows first
    picks = np.unique(np.linspace(0, len(masks) - 1, min(SWEEP_FRAMES, len(masks))).round().astype(int))
    covered = np.logical_or.accumulate(masks, axis=0)
    full = render.overlay(image, heat, signed=signed)
    blank = render.overlay(image, np.zeros_like(heat), signed=signed)
    panel = SWEEP_PANEL
    size = (2 * panel + 3 * _GAP, panel + 2 * _GAP)
    scale = panel / height
    pictures, durations = [], []
    for pick in picks:
        frame = Image.new("RGB", size, _BACKGROUND)
        occluded = np.where(masks[pick][..., None], np.float32(fill), image)
        frame.paste(_enlarge(occluded, panel), (_GAP, _GAP))
        rows, cols = np.flatnonzero(masks[pick].any(axis=1)), np.flatnonzero(masks[pick].any(axis=0))
        ImageDraw.Draw(frame).rectangle(
            (_GAP + cols[0] * scale, _GAP + rows[0] * scale, _GAP + (cols[-1] + 1) * scale - 1,
             _GAP + (rows[-1] + 1) * scale - 1), outline=_OUTLINE, width=2)
        revealed = np.where(covered[pick][..., None], full, blank)
        frame.paste(_enlarge(revealed, panel), (2 * _GAP + panel, _GAP))
        pictures.append(frame)
        durations.append(HOLD_MS * 3 if pick == picks[-1] else FRAME_MS)
    return save_gif(pictures, path, durations)


def feature_picture(image: np.ndarray, size: int = 128) -> Image.Image:
    """A feature-visualization image enlarged to ``size`` pixels (smoothly: it has no true pixels)."""
    return render.to_pil(image).convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
