"""Charts: the training loss curve and the faithfulness bar charts, and the size each is drawn at.

Explicit matplotlib ``Figure`` objects with the Agg canvas, never pyplot's global state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from aevis.draw.pixels import Size

BAR_COLOUR = "#3b6ea8"
REFERENCE_COLOUR = "#c0392b"
"""What random order, chance or the aim would give."""
LOSS_CURVE_INCHES, LOSS_CURVE_DPI = (5.0, 2.8), 110
PANEL_INCHES, CHART_DPI = (4.2, 3.6), 100
"""One faithfulness panel; the chart is as many panels wide as it has figures."""


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
    panels = [("Deletion: area under the curve\n(lower than random = faithful)", "deletion_auc", "random_deletion_auc", "random order")]
    panels.append(("Randomised network: rank correlation\n(lower = the map depends on training)", "randomization_spearman", None, None))
    if all("object_share" in row for row in figures.values()):
        panels.append(("Share of the heat on the object\n(higher than the object's area = on target)", "object_share", "mask_share", "object's share of the image"))
    return panels


def _faithfulness_inches(panels: int) -> tuple[float, float]:
    return PANEL_INCHES[0] * panels, PANEL_INCHES[1]


def faithfulness_panels(figures: dict[str, dict[str, float]]) -> int:
    """How many panels :func:`faithfulness_chart` draws for ``figures``: one per check."""
    return len(_panel_specs(figures))


def faithfulness_chart_size(figures: dict[str, dict[str, float]]) -> Size:
    """The size :func:`faithfulness_chart` draws for ``figures``."""
    return _pixels(_faithfulness_inches(faithfulness_panels(figures)), CHART_DPI)


def faithfulness_chart(figures: dict[str, dict[str, float]], titles: dict[str, str], path: Path,
                       randomization_aim: float) -> None:
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
        if reference is not None:
            axes.scatter([figures[method][reference] for method in methods], positions, marker="|", s=400,
                         color=REFERENCE_COLOUR, label=reference_label, zorder=3)
            axes.legend(loc="lower right", fontsize=8, frameon=False)
        else:  # the randomization panel: its aim, where the other panels have a reference
            axes.axvline(randomization_aim, color=REFERENCE_COLOUR, linestyle="--", linewidth=1)
        axes.set_yticks(positions, labels if column == 0 else [""] * len(labels))
        axes.invert_yaxis()
        axes.set_title(title, fontsize=9)
        axes.spines[["top", "right"]].set_visible(False)
    figure.savefig(path)
