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
from PIL import Image, ImageDraw, ImageFont

ERROR_COLOURMAP = "inferno"
ATTRIBUTION_COLOURMAP = "magma"
SIGNED_COLOURMAP = "RdBu_r"


def to_pil(image: np.ndarray) -> Image.Image:
    """A float (H, W, C) image in [0, 1] with 1, 3 or 4 channels as a Pillow image (NaN as black)."""
    pixels = np.round(np.clip(np.nan_to_num(image, nan=0.0), 0, 1) * 255).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    return Image.fromarray(pixels)


def save_png(image: np.ndarray, path: Path) -> None:
    """Write a [0, 1] image as an optimised PNG."""
    to_pil(image).save(path)


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


def legend_strip(path: Path, colourmap: str = ERROR_COLOURMAP, width: int = 256, height: int = 12) -> None:
    """A horizontal colour-map strip, low values on the left, for a page's legend."""
    ramp = np.tile(np.linspace(0, 1, width, dtype=np.float32), (height, 1))
    save_png(colourise(ramp, 0.0, 1.0, colourmap), path)


def overlay_legend_strip(path: Path, signed: bool, width: int = 256, height: int = 12) -> None:
    """The legend of :func:`overlay`: from the bare (greyed) image to full heat colour."""
    ramp = np.tile(np.linspace(-1 if signed else 0, 1, width, dtype=np.float32), (height, 1))
    neutral = np.full((height, width, 3), 0.6, np.float32)  # a mid-grey stands for the image
    save_png(overlay(neutral, ramp, signed=signed), path)


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


def collage(tiles: list[tuple[str, np.ndarray]], tile_size: int = 160) -> Image.Image:
    """Labelled pictures side by side on a white strip, for a shareable PNG."""
    font = ImageFont.load_default(size=max(10, tile_size // 11))
    gap, label_height = tile_size // 16, tile_size // 6
    width = len(tiles) * tile_size + (len(tiles) + 1) * gap
    sheet = Image.new("RGB", (width, tile_size + label_height + 2 * gap), "white")
    draw = ImageDraw.Draw(sheet)
    for column, (label, picture) in enumerate(tiles):
        left = gap + column * (tile_size + gap)
        tile = to_pil(picture).convert("RGB").resize((tile_size, tile_size), Image.Resampling.NEAREST)
        sheet.paste(tile, (left, gap))
        draw.text((left + tile_size / 2, gap + tile_size + label_height / 2), label,
                  fill="#333333", font=font, anchor="mm")
    return sheet


def faithfulness_chart(figures: dict[str, dict[str, float]], titles: dict[str, str], path: Path) -> None:
    """Bar charts of the faithfulness figures: deletion, randomization and object share."""
    methods = list(figures)
    labels = [titles[method] for method in methods]
    panels = [("Deletion: area under the curve\n(lower than random = faithful)", "deletion_auc", "random_deletion_auc", "random order")]
    panels.append(("Randomised network: rank correlation\n(lower = the map depends on training)", "randomization_spearman", None, None))
    if all("object_share" in row for row in figures.values()):
        panels.append(("Share of the heat on the object\n(higher than the object's area = on target)", "object_share", "mask_share", "object's share of the image"))
    figure = Figure(figsize=(4.2 * len(panels), 3.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    positions = np.arange(len(methods))
    for column, (title, key, reference, reference_label) in enumerate(panels):
        axes = figure.add_subplot(1, len(panels), column + 1)
        values = [figures[method][key] for method in methods]
        axes.barh(positions, values, color="#3b6ea8", height=0.6)
        if reference is not None:
            axes.scatter([figures[method][reference] for method in methods], positions, marker="|", s=400,
                         color="#c0392b", label=reference_label, zorder=3)
            axes.legend(loc="lower right", fontsize=8, frameon=False)
        else:
            axes.axvline(0.5, color="#c0392b", linestyle="--", linewidth=1)
        axes.set_yticks(positions, labels if column == 0 else [""] * len(labels))
        axes.invert_yaxis()
        axes.set_title(title, fontsize=9)
        axes.spines[["top", "right"]].set_visible(False)
    figure.savefig(path)
