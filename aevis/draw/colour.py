"""How a value becomes a colour: colour scales, heat-map overlays, their legends, activation
colours and the map's palettes.

Methods compute raw maps; only this module decides how a value is coloured.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

from aevis.draw.pixels import save_png

ERROR_COLOURMAP = "inferno"
ATTRIBUTION_COLOURMAP = "magma"
SIGNED_COLOURMAP = "RdBu_r"
ACTIVATION_COLOURMAP = "viridis"
OVERLAP_COLOURMAP = "viridis"
"""Two models' shared neighbours: dark where an image's neighbours changed, yellow where they stayed."""
LABEL_COLOURMAP = "tab10"
MANY_LABEL_COLOURMAP = "tab20"
"""For more than ten labels (or clusters)."""
LEGEND_WIDTH, LEGEND_HEIGHT = 256, 12


def colourise(values: np.ndarray, vmin: float, vmax: float, colourmap: str = ERROR_COLOURMAP) -> np.ndarray:
    """Map (H, W) values to RGB (H, W, 3) in [0, 1]; ``vmin`` and ``vmax`` are the colour-map ends."""
    span = (vmax - vmin) or 1.0
    values = np.nan_to_num(np.asarray(values, np.float32), nan=vmin, posinf=vmax, neginf=vmin)
    scaled = np.clip((values - vmin) / span, 0, 1)
    return matplotlib.colormaps[colourmap](scaled)[..., :3].astype(np.float32)


def robust_upper(values: np.ndarray, percentile: float = 99.0) -> float:
    """A colour-map top that one extreme pixel cannot wash out: the given percentile."""
    finite = np.asarray(values)[np.isfinite(values)]
    if finite.size == 0:
        return 1.0
    upper = float(np.percentile(finite, percentile))
    return upper if upper > 0 else float(np.max(finite)) or 1.0


def display_scale(values: np.ndarray, signed: bool) -> tuple[float, float]:
    """Colour-map ends for one map: 0 to its 99th-percentile magnitude, symmetric if signed."""
    top = robust_upper(np.abs(values) if signed else np.clip(values, 0, None))
    return (-top, top) if signed else (0.0, top)


def overlay(image: np.ndarray, values: np.ndarray, signed: bool = False, opacity: float = 0.75) -> np.ndarray:
    """A heat-map over a greyed copy of the image, RGB (H, W, 3) in [0, 1].

    Each pixel's heat colour is blended in by its own strength, so unimportant regions show
    the image and important ones show the colour. ``signed`` maps (integrated gradients)
    use a diverging map, red for positive and blue for negative, white at zero.
    """
    vmin, vmax = display_scale(values, signed)
    colourmap = SIGNED_COLOURMAP if signed else ATTRIBUTION_COLOURMAP
    heat = colourise(values, vmin, vmax, colourmap)
    strength = np.clip(np.nan_to_num(np.abs(values) / (vmax or 1.0)), 0, 1)[..., None] * opacity
    base = _grey_rgb(image)
    return (base * (1 - strength) + heat * strength).astype(np.float32)


def _grey_rgb(image: np.ndarray) -> np.ndarray:
    """The image in RGB, washed out so that heat colours read clearly on top of it."""
    rgb = image[..., :3] if image.shape[-1] >= 3 else np.repeat(image, 3, axis=-1)
    return 0.35 + 0.55 * rgb


def legend_strip(path: Path, colourmap: str = ERROR_COLOURMAP) -> None:
    """A horizontal colour-map strip, low values on the left, for a page's legend."""
    ramp = np.tile(np.linspace(0, 1, LEGEND_WIDTH, dtype=np.float32), (LEGEND_HEIGHT, 1))
    save_png(colourise(ramp, 0.0, 1.0, colourmap), path)


def overlay_legend_strip(path: Path, signed: bool) -> None:
    """The legend of :func:`overlay`: from the bare (greyed) image to full heat colour."""
    ramp = np.tile(np.linspace(-1 if signed else 0, 1, LEGEND_WIDTH, dtype=np.float32), (LEGEND_HEIGHT, 1))
    neutral = np.full((LEGEND_HEIGHT, LEGEND_WIDTH, 3), 0.6, np.float32)  # a mid-grey stands for the image
    save_png(overlay(neutral, ramp, signed=signed), path)


GRID_NORMALISATION = "layer"
"""How activation grids are coloured by default: one scale shared by a layer's channels."""
LAYER_PERCENTILE = 99.5
"""The top of a layer's shared colour scale, as a percentile of its values for one image."""
NORMALISATION_WORDS = {
    "layer": "One colour scale per layer: dark is the layer's lowest value for this image and bright "
    f"yellow its {LAYER_PERCENTILE:g}th percentile, so bright tiles are the channels that respond most.",
    "channel": "Each channel has its own colour scale, from its lowest value (dark) to its highest "
    "(yellow), so every channel's pattern shows, however weak; a flat tile never varies.",
}


def colour_activations(maps: np.ndarray, normalisation: str) -> np.ndarray:
    """(h, w, C) values -> (C, h, w, 3) RGB in [0, 1] under the chosen normalisation
    (see :data:`NORMALISATION_WORDS`)."""
    stack = np.moveaxis(np.asarray(maps, np.float32), -1, 0)  # (C, h, w)
    if normalisation == "layer":
        low = float(stack.min())
        high = float(np.percentile(stack, LAYER_PERCENTILE))
        high = high if high > low else low + 1.0
        return colourise(stack, low, high, ACTIVATION_COLOURMAP)
    if normalisation == "channel":
        low = stack.min(axis=(1, 2), keepdims=True)
        span = stack.max(axis=(1, 2), keepdims=True) - low
        scaled = np.divide(stack - low, span, out=np.zeros_like(stack), where=span > 0)
        return colourise(scaled, 0.0, 1.0, ACTIVATION_COLOURMAP)
    raise ValueError(f"Expected normalisation 'layer' or 'channel', got {normalisation!r}.")


def palette(count: int) -> list[str]:
    """Distinct colours (``#rrggbb``) for ``count`` labels or clusters; they repeat past 20."""
    name = LABEL_COLOURMAP if count <= 10 else MANY_LABEL_COLOURMAP
    return [hex_colour(colour) for colour in matplotlib.colormaps[name].colors]


def error_ramp(steps: int = 9) -> list[str]:
    """The error colour scale as ``steps`` evenly spaced ``#rrggbb`` colours, low to high."""
    return [hex_colour(colour) for colour in colourise(np.linspace(0, 1, steps)[None, :], 0, 1)[0]]


def hex_colour(colour) -> str:
    """An RGB(A) colour in [0, 1] as ``#rrggbb``."""
    return "#" + "".join(f"{round(float(channel) * 255):02x}" for channel in colour[:3])
