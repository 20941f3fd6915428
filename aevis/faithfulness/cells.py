"""The deletion check of the code-cell map, the exact "why similar" of spatial codes.

The cell map (:mod:`aevis.latent.cells`) splits the cosine similarity of an image's code and
its neighbour's into each code cell's exact share. Laid over the image it is an order of the
pixels, cells that add most to the similarity first; deleting pixels in that order should make
the neighbour target (t(x') = <z(x'), ẑ_neighbour>, :mod:`aevis.methods.targets`) fall faster
than deleting them in a random order, as for every heat-map (:mod:`aevis.faithfulness.deletion`).

The other two checks do not apply in the same way: the cells are the codes' own numbers, not a
picture drawn from gradients that could stay the same on a randomised network, and they explain
a pair of images rather than one image's object. Their figures are left undefined (n/a), never
made up.
"""

from __future__ import annotations

import numpy as np

from aevis._utils.validation import check_int, nanmean
from aevis.data.imageset import sample_positions
from aevis.faithfulness.deletion import (
    deletion_auc,
    deletion_curve,
    deletion_order,
    random_order,
)
from aevis.latent.cells import cells_to_pixels, code_grid, pair_cells, pixel_cells

CELLS = "code_cells"
"""The cell map's name among the faithfulness figures (and in the manifest)."""
NOT_APPLICABLE = ("randomization_spearman", "object_share", "mask_share")
"""The faithfulness figures the cell map has none of."""


def cell_pixel_maps(ae, images: np.ndarray, reference_codes: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """The cell map of each image against its reference code, laid over the image.

    Returns:
        float32 (N, H, W); each map sums to the cosine similarity of the image's code and
        its reference code (see :func:`aevis.latent.cells.cells_to_pixels`).

    Raises:
        ValueError: ``ae``'s code has no grid (a Dense bottleneck), or the reference codes
            do not match the images.
    """
    grid = _grid(ae)
    images = np.asarray(images, np.float32)
    reference_codes = np.asarray(reference_codes, np.float32).reshape(len(reference_codes), -1)
    if len(reference_codes) != len(images):
        raise ValueError(f"Expected one reference code per image ({len(images)}), got {len(reference_codes)}.")
    codes = ae.encode(images, batch_size=batch_size)
    return cells_to_pixels(pair_cells(codes, reference_codes, grid), images.shape[1], images.shape[2])


def cell_deletion(
    ae,
    images: np.ndarray,
    reference_codes: np.ndarray,
    *,
    sample: int = 16,
    steps: int = 20,
    fill: float = 0.5,
    seed: int = 0,
    batch_size: int = 32,
) -> dict[str, float]:
    """Deletion area of the cell map against a random order of its cells, on the neighbour target.

    The baseline deletes whole cells in a random order, the map's own granularity, where the
    heat-maps' baseline deletes scattered pixels: against scattered pixels any order of whole
    blocks loses, since scattered grey disturbs every cell of a convolutional code at once, and
    the check would judge the map's coarseness, not its choice of cells. (On the digits demo's
    2 × 2 grid: the cell order 0.502, scattered pixels 0.450; both are recorded.) Pixels within
    a cell go in a random order in both.

    Args:
        ae: the autoencoder; its code must have a grid.
        images: float32 (N, H, W, C) in [0, 1].
        reference_codes: float32 (N, D): the code each image is compared with (its nearest
            neighbour's).
        sample, steps, fill, seed, batch_size: as in :func:`aevis.faithfulness.faithfulness`
            (the same sample, the same random order for the same seed).

    Returns:
        ``{"deletion_auc", "random_deletion_auc", "random_pixels_deletion_auc"}`` (Python
        floats, NaN where undefined; the second is the random cells', the one the map is judged
        against, the third scattered pixels', as the heat-maps are), then
        ``randomization_spearman``, ``object_share`` and ``mask_share`` as None: those checks
        do not apply to the cell map.
    """
    sample = check_int("sample", sample, minimum=1)
    images = np.asarray(images, np.float32)
    chosen = sample_positions(len(images), sample)
    images = images[chosen]
    reference_codes = np.asarray(reference_codes, np.float32).reshape(len(reference_codes), -1)[chosen]
    maps = cell_pixel_maps(ae, images, reference_codes, batch_size)
    options = dict(target="neighbour", reference_codes=reference_codes, steps=steps, fill=fill, batch_size=batch_size)

    def area(order: np.ndarray) -> float:
        return nanmean(deletion_auc(deletion_curve(ae, images, order, **options)))

    scattered = random_order(len(images), images.shape[1] * images.shape[2], seed=seed)
    return {
        "deletion_auc": area(deletion_order(maps, seed=seed)),
        "random_deletion_auc": area(deletion_order(_random_cells(maps.shape, _grid(ae)[:2], seed), seed=seed)),
        "random_pixels_deletion_auc": area(scattered),
        **dict.fromkeys(NOT_APPLICABLE),
    }


def _random_cells(shape: tuple[int, int, int], grid_size: tuple[int, int], seed: int) -> np.ndarray:
    """float64 (N, H, W): a random value per cell, laid over its pixels: an order of whole cells."""
    count, height, width = shape
    values = np.random.default_rng(seed).random((count, *grid_size))
    rows, columns = pixel_cells(grid_size, height, width)
    return values[:, rows[:, None], columns[None, :]]


def with_cells(
    figures: dict[str, dict[str, float]], cells: dict[str, float | None] | None
) -> dict[str, dict[str, float]]:
    """The methods' faithfulness ``figures`` with the cell map's row (:func:`cell_deletion`) last,
    for a chart that draws them side by side: its figures that do not apply are NaN (no bar),
    and it has the object figures only when every method has them."""
    if cells is None:
        return figures
    keys = ["deletion_auc", "random_deletion_auc", "randomization_spearman"]
    if figures and all("object_share" in row for row in figures.values()):
        keys += ["object_share", "mask_share"]
    row = {key: float("nan") if cells.get(key) is None else float(cells[key]) for key in keys}
    return {**figures, CELLS: row}


def _grid(ae) -> tuple[int, int, int]:
    grid = code_grid(ae)
    if grid is None:
        raise ValueError(
            f"The code layer {ae.bottleneck!r} is flat (shape {tuple(ae.encoder.output.shape[1:])}): it has no "
            "grid of cells to split the similarity over."
        )
    return grid
