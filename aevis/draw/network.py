"""Pictures of the inside of the network: activation grids, the layer strip and feature
visualizations.

Arrays in, Pillow images out; nothing here runs the model. Tile sizes are the constants below.
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np
from PIL import Image, ImageDraw

from aevis.draw.colour import (
    ACTIVATION_COLOURMAP,
    GRID_NORMALISATION,
    colour_activations,
    colourise,
)
from aevis.draw.pixels import BACKGROUND, GAP, INK, font, square
from aevis.network.layers import STRONGEST, LayerInfo, strongest_channels

GRID_CELL = 48
"""Smallest side, in pixels, of one channel's tile in an activation grid (maps are enlarged by
a whole factor to reach it, pixels kept sharp)."""
STRIP_TILE = 56
"""Side, in pixels, of each picture in the layer strip."""
STRIP_ARROW = 18
"""Width, in pixels, of the space between two columns of the layer strip, where its arrow is."""


def activation_grid(maps: np.ndarray, title: str, normalisation: str = GRID_NORMALISATION) -> Image.Image:
    """Every channel of one image's (h, w, C) feature map, numbered, under a title.

    ⌈√C⌉ columns; each map enlarged by a whole factor to at least :data:`GRID_CELL` pixels
    (maps over twice that are shrunk to it). See :data:`aevis.draw.colour.NORMALISATION_WORDS`
    for the colours.
    """
    maps = np.asarray(maps, np.float32)
    if maps.ndim != 3:
        raise ValueError(f"Expected one image's (height, width, channels) map, got shape {maps.shape}.")
    height, width, count = maps.shape
    factor = max(1, math.ceil(GRID_CELL / max(height, width)))
    shrink = max(height, width) > 2 * GRID_CELL
    cell_w, cell_h = (GRID_CELL, GRID_CELL) if shrink else (width * factor, height * factor)
    columns = math.ceil(math.sqrt(count))
    tiles = np.round(colour_activations(maps, normalisation) * 255).astype(np.uint8)  # (C, h, w, 3)
    if shrink:
        tiles = np.stack(
            [np.asarray(Image.fromarray(tile).resize((cell_w, cell_h), Image.Resampling.BOX)) for tile in tiles]
        )
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
    frame = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(frame)
    draw.text((_GRID_GAP, _GRID_TITLE // 2), title, fill=INK, font=font(13), anchor="lm")
    small = font(10)
    for channel in range(count):
        left, top = _grid_origin(channel, columns, cell_w, cell_h)
        draw.text((left + cell_w / 2, top + cell_h + _GRID_LABEL / 2), str(channel), fill=INK, font=small, anchor="mm")
    return frame


def layer_strip(
    image: np.ndarray,
    reconstruction: np.ndarray,
    layers: list[LayerInfo],
    maps: dict[str, np.ndarray],
    strongest: int = STRONGEST,
) -> Image.Image:
    """The journey of one image: input → each layer's strongest channels → reconstruction.

    Args:
        image, reconstruction: (H, W, C) in [0, 1].
        layers: the layers in model order (encoder, bottleneck, decoder), e.g.
            ``conv_layers(ae)`` with the bottleneck put in its place.
        maps: layer name -> this image's (h, w, channels) map, or (units,) for a flat layer.
        strongest: channels per layer, highest mean activation first (each on its own scale).

    A flat (Dense) bottleneck is drawn as its units laid out in a square, one colour per unit.
    """
    columns: list[tuple[str, list[Image.Image]]] = [("input", [square(image, STRIP_TILE)])]
    for layer in layers:
        values = np.asarray(maps[layer.name], np.float32)
        if values.ndim == 3:
            picked = strongest_channels(values, strongest)
            coloured = colour_activations(values[..., picked], "channel")
            tiles = [square(tile, STRIP_TILE) for tile in coloured]
            caption = f"{layer.name}\n{values.shape[0]}x{values.shape[1]}x{values.shape[2]}"
        else:
            flat = values.reshape(-1)
            side = math.ceil(math.sqrt(flat.size))
            grid = np.full(side * side, np.nan, np.float32)
            grid[: flat.size] = flat
            low, high = float(np.nanmin(grid)), float(np.nanmax(grid))
            rgb = colourise(np.nan_to_num(grid, nan=low).reshape(side, side), low, high, ACTIVATION_COLOURMAP)
            tiles = [square(rgb, STRIP_TILE)]
            caption = f"{layer.name}\n{flat.size} units"
        if layer.part == "bottleneck":
            caption = "code:\n" + caption
        columns.append((caption, tiles))
    columns.append(("reconstruction", [square(reconstruction, STRIP_TILE)]))

    arrow = STRIP_ARROW
    caption_font = font(10)
    # Each caption wraps to its column's width (a long name such as conv2d_transpose_12 breaks
    # after an underscore), so neighbouring captions never run into each other.
    captions = [wrap_caption(caption, STRIP_TILE + arrow - 6, caption_font) for caption, _ in columns]
    line_h = caption_font.getbbox("Ag")[3] + 2
    label_h = max(len(lines) for lines in captions) * line_h + 8
    tallest = max(len(tiles) for _, tiles in columns)
    width = len(columns) * STRIP_TILE + (len(columns) - 1) * arrow + 2 * GAP
    height = tallest * (STRIP_TILE + 3) + label_h + 2 * GAP
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    middle = GAP + (tallest * (STRIP_TILE + 3)) / 2
    for number, ((_, tiles), lines) in enumerate(zip(columns, captions)):
        left = GAP + number * (STRIP_TILE + arrow)
        top = GAP + (tallest - len(tiles)) * (STRIP_TILE + 3) / 2
        for tile in tiles:
            sheet.paste(tile, (left, int(top)))
            top += STRIP_TILE + 3
        for row, line in enumerate(lines):
            draw.text(
                (left + STRIP_TILE / 2, GAP + tallest * (STRIP_TILE + 3) + 4 + row * line_h),
                line,
                fill=INK,
                font=caption_font,
                anchor="ma",
            )
        if number + 1 < len(columns):
            _arrow(draw, left + STRIP_TILE + 3, left + STRIP_TILE + arrow - 3, middle)
    return sheet


def wrap_caption(caption: str, width: float, typeface) -> list[str]:
    """``caption``'s lines broken to at most ``width`` pixels in ``typeface``: after an
    underscore, dash, dot, slash or colon where one falls, else between characters."""
    lines = []
    for text in caption.split("\n"):
        line = ""
        for piece in re.split(r"(?<=[_\-./:])", text):
            if typeface.getlength(line + piece) <= width:
                line += piece
                continue
            if line:
                lines.append(line)
            while typeface.getlength(piece) > width:
                fits = 1
                while typeface.getlength(piece[: fits + 1]) <= width:
                    fits += 1
                lines.append(piece[:fits])
                piece = piece[fits:]
            line = piece
        lines.append(line)
    return lines


def _arrow(draw: ImageDraw.ImageDraw, start: float, end: float, y: float) -> None:
    """A small right-pointing arrow (the default font has no arrow glyph)."""
    draw.line((start, y, end - 4, y), fill=INK, width=2)
    draw.polygon(((end - 5, y - 4), (end, y), (end - 5, y + 4)), fill=INK)


def feature_picture(image: np.ndarray, size: int = 128) -> Image.Image:
    """A feature-visualization image enlarged to ``size`` pixels (smoothly: it has no true pixels)."""
    return square(image, size, Image.Resampling.BICUBIC)
