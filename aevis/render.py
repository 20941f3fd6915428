"""Arrays in, pictures out: PNGs of images and heat-maps, colour legends and charts.

Methods compute raw maps; only this module decides how a value becomes a colour. Charts use
explicit matplotlib ``Figure`` objects with the Agg canvas, never pyplot's global state.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

ERROR_COLOURMAP = "inferno"


def to_pil(image: np.ndarray) -> Image.Image:
    """A float (H, W, C) image in [0, 1] with 1, 3 or 4 channels as a Pillow image."""
    pixels = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    return Image.fromarray(pixels)


def save_png(image: np.ndarray, path: Path) -> None:
    """Write a [0, 1] image as an optimised PNG."""
    to_pil(image).save(path, optimize=True)


def colourise(values: np.ndarray, vmin: float, vmax: float, colourmap: str = ERROR_COLOURMAP) -> np.ndarray:
    """Map (H, W) values to RGB (H, W, 3) in [0, 1]; ``vmin`` and ``vmax`` are the colour-map ends."""
    span = (vmax - vmin) or 1.0
    scaled = np.clip((np.asarray(values, np.float32) - vmin) / span, 0, 1)
    return matplotlib.colormaps[colourmap](scaled)[..., :3].astype(np.float32)


def robust_upper(values: np.ndarray, percentile: float = 99.0) -> float:
    """A colour-map top that one extreme pixel cannot wash out: the given percentile."""
    upper = float(np.percentile(values, percentile))
    return upper if upper > 0 else float(np.max(values)) or 1.0


def legend_strip(path: Path, colourmap: str = ERROR_COLOURMAP, width: int = 256, height: int = 12) -> None:
    """A horizontal colour-map strip, low values on the left, for a page's legend."""
    ramp = np.tile(np.linspace(0, 1, width, dtype=np.float32), (height, 1))
    save_png(colourise(ramp, 0.0, 1.0, colourmap), path)


def loss_curve(losses: list[float], path: Path) -> None:
    """The training loss per epoch as a small line chart (PNG)."""
    figure = Figure(figsize=(5.0, 2.8), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    epochs = np.arange(1, len(losses) + 1)
    axes.plot(epochs, losses, marker="o", markersize=3, color="#3b6ea8", linewidth=1.8)
    axes.set_xlabel("epoch (one pass over all images)")
    axes.set_ylabel("loss (binary cross-entropy)")
    axes.set_title("How the autoencoder learned", fontsize=11)
    axes.grid(alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    figure.savefig(path)
