"""Charts: the training loss curve, the faithfulness bar charts and the two models' comparison,
and the size each is drawn at.

Explicit matplotlib ``Figure`` objects with the Agg canvas, never pyplot's global state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from aevis.draw.colour import OVERLAP_COLOURMAP
from aevis.draw.pixels import Size

BAR_COLOUR = "#3b6ea8"
REFERENCE_COLOUR = "#c0392b"
"""What random order, chance or the aim would give."""
LOSS_CURVE_INCHES, LOSS_CURVE_DPI = (5.0, 2.8), 110
PANEL_INCHES, CHART_DPI = (4.2, 3.6), 100
"""One faithfulness panel; the chart is as many panels wide as it has figures."""
OVERLAP_CHART_INCHES = (5.0, 2.8)
ALIGNED_MAPS_INCHES = (5.6, 5.0)


def _pixels(inches: tuple[float, float], dpi: int) -> Size:
    """The size in pixels of a figure ``inches`` wide and high (Agg rounds down)."""
    return Size(int(inches[0] * dpi), int(inches[1] * dpi))


def loss_curve_size() -> Size:
    """The size :func:`loss_curve` draws."""
    return _pixels(LOSS_CURVE_INCHES, LOSS_CURVE_DPI)


def loss_curve(losses: list[float], path: Path) -> None:
    """The training loss per epoch as a small line chart (PNG, :func:`loss_curve_size`)."""
    figure = Figure(figsize=LOSS_CURVE_INCHES, dpi=LOSS_CURVE_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    epochs = np.arange(1, len(losses) + 1)
    axes.plot(epochs, losses, marker="o", markersize=3, color=BAR_COLOUR, linewidth=1.8)
    axes.set_xlabel("epoch (one pass over all images)")
    axes.set_ylabel("loss (binary cross-entropy)")
    axes.set_title("How the autoencoder learned", fontsize=11)
    axes.grid(alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    figure.savefig(path)


def _panel_specs(figures: dict[str, dict[str, float]]) -> list[tuple[str, str, str | None, str | None]]:
    """(title, figure, reference figure, reference label) of each panel: deletion and
    randomization always, object share when every method has it."""
    panels = [
        (
            "Deletion: area under the curve\n(lower than random = faithful)",
            "deletion_auc",
            "random_deletion_auc",
            "random order",
        )
    ]
    panels.append(
        (
            "Randomised network: rank correlation\n(lower = the map depends on training)",
            "randomization_spearman",
            None,
            None,
        )
    )
    if all("object_share" in row for row in figures.values()):
        panels.append(
            (
                "Share of the heat on the object\n(higher than the object's area = on target)",
                "object_share",
                "mask_share",
                "object's share of the image",
            )
        )
    return panels


def _faithfulness_inches(panels: int) -> tuple[float, float]:
    return PANEL_INCHES[0] * panels, PANEL_INCHES[1]


def faithfulness_panels(figures: dict[str, dict[str, float]]) -> int:
    """How many panels :func:`faithfulness_chart` draws for ``figures``: one per check."""
    return len(_panel_specs(figures))


def faithfulness_chart_size(figures: dict[str, dict[str, float]]) -> Size:
    """The size :func:`faithfulness_chart` draws for ``figures``."""
    return _pixels(_faithfulness_inches(faithfulness_panels(figures)), CHART_DPI)


def faithfulness_chart(
    figures: dict[str, dict[str, float]], titles: dict[str, str], path: Path, randomization_aim: float
) -> None:
    """Bar charts of the faithfulness figures: deletion, randomization and object share (PNG,
    :func:`faithfulness_chart_size`); a dashed line marks ``randomization_aim``."""
    methods = list(figures)
    labels = [titles[method] for method in methods]
    panels = _panel_specs(figures)
    figure = Figure(figsize=_faithfulness_inches(len(panels)), dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    positions = np.arange(len(methods))
    for column, (title, key, reference, reference_label) in enumerate(panels):
        axes = figure.add_subplot(1, len(panels), column + 1)
        values = [figures[method][key] for method in methods]
        axes.barh(positions, values, color=BAR_COLOUR, height=0.6)
        for position, value in zip(positions, values):
            if value != value:  # NaN: a check that does not apply to this row, or an undefined figure
                axes.text(0, position, " n/a", va="center", fontsize=8, color="#777777")
        if reference is not None:
            axes.scatter(
                [figures[method][reference] for method in methods],
                positions,
                marker="|",
                s=400,
                color=REFERENCE_COLOUR,
                label=reference_label,
                zorder=3,
            )
            axes.legend(loc="lower right", fontsize=8, frameon=False)
        else:  # the randomization panel: its aim, where the other panels have a reference
            axes.axvline(randomization_aim, color=REFERENCE_COLOUR, linestyle="--", linewidth=1)
        axes.set_yticks(positions, labels if column == 0 else [""] * len(labels))
        axes.invert_yaxis()
        axes.set_title(title, fontsize=9)
        axes.spines[["top", "right"]].set_visible(False)
    figure.savefig(path)


def overlap_chart_size() -> Size:
    """The size :func:`overlap_chart` draws."""
    return _pixels(OVERLAP_CHART_INCHES, CHART_DPI)


def overlap_chart(overlap: np.ndarray, k: int, chance: float, path: Path) -> None:
    """How many images share 0, 1, ... k of their k neighbours between two models, as bars, with
    the mean and what random neighbours would give (``chance``, a share) marked (PNG,
    :func:`overlap_chart_size`)."""
    figure = Figure(figsize=OVERLAP_CHART_INCHES, dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    shared = np.rint(np.asarray(overlap) * k).astype(int)
    axes.bar(np.arange(k + 1), np.bincount(shared, minlength=k + 1), color=BAR_COLOUR, width=0.7)
    axes.axvline(float(np.mean(overlap)) * k, color="#222222", linewidth=1.5, label="mean")
    axes.axvline(chance * k, color=REFERENCE_COLOUR, linestyle="--", linewidth=1.2, label="random neighbours")
    axes.set_xticks(np.arange(k + 1))
    axes.set_xlabel(f"neighbours both models share (of {k})")
    axes.set_ylabel("images")
    axes.legend(fontsize=8, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.savefig(path)


def aligned_maps_size() -> Size:
    """The size :func:`aligned_maps` draws."""
    return _pixels(ALIGNED_MAPS_INCHES, CHART_DPI)


def aligned_maps(first: np.ndarray, second: np.ndarray, overlap: np.ndarray, path: Path) -> None:
    """Two maps of the same images on one picture (PNG, :func:`aligned_maps_size`): model A's
    ``first`` as dots, model B's ``second`` (already aligned to it) as crosses, a thin line from
    each image's dot to its cross, both coloured by ``overlap`` (the share of neighbours the
    models share). Positions are (x, y) with y downwards, as on the map page."""
    figure = Figure(figsize=ALIGNED_MAPS_INCHES, dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(
        np.stack([first[:, 0], second[:, 0]]),
        np.stack([first[:, 1], second[:, 1]]),
        color="#999999",
        linewidth=0.5,
        alpha=0.6,
        zorder=1,
    )
    style = {"c": overlap, "cmap": OVERLAP_COLOURMAP, "vmin": 0.0, "vmax": 1.0, "zorder": 2}
    dots = axes.scatter(first[:, 0], first[:, 1], s=22, edgecolors="white", linewidths=0.4, **style)
    axes.scatter(second[:, 0], second[:, 1], s=26, marker="x", linewidths=1.2, **style)
    colours = figure.colorbar(dots, ax=axes, shrink=0.8)
    colours.set_label("share of neighbours both models agree on")
    grey = {"color": "#555555", "linestyle": "none"}  # the legend names the marks; the colour bar the colours
    axes.legend(
        [Line2D([], [], marker="o", **grey), Line2D([], [], marker="x", **grey)],
        ["model A", "model B, turned to fit"],
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.02),
        ncols=2,
        frameon=False,
    )
    axes.set_aspect("equal", adjustable="datalim")
    axes.invert_yaxis()
    axes.set_xticks([])
    axes.set_yticks([])
    figure.savefig(path)
