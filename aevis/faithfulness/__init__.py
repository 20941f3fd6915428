"""Where a page gets its faithfulness figures: do the maps say something true about the model?

Three checks, gathered by :func:`faithfulness`:

* **Deletion** (Petsiuk et al. 2018): delete pixels (set them to a fill value) in order of
  decreasing map value and track the target; a map that finds what matters makes the target
  fall fast, so its area under the curve is lower than that of the same map moved to a random
  place (see :mod:`aevis.faithfulness.deletion` for why not scattered random pixels).
* **Randomization** (Adebayo et al. 2018): re-initialise the encoder's weights, top layer
  first, and recompute the maps; maps that still look the same describe the image, not the
  model. A low Spearman rank correlation with the trained maps is what we want, once what
  every map of the network shares whatever the image (a dim frame along zero-padded borders)
  is divided out.
* **Object share**: on images with object masks, the share of a map's positive mass that
  falls on the object, next to the share of the image the object covers.

The code-cell map of a spatial code (the exact "why similar" of neighbour cards) has the
deletion check alone, in :mod:`aevis.faithfulness.cells`.
"""

from __future__ import annotations

import numpy as np

from aevis._utils.validation import check_int, nanmean
from aevis.data.imageset import sample_positions
from aevis.faithfulness.deletion import (
    deletion_auc,
    deletion_curve,
    deletion_order,
    shifted_maps,
)
from aevis.faithfulness.object_share import object_share
from aevis.faithfulness.randomization import agreement, explainer, randomised_autoencoder
from aevis.model import Autoencoder


def faithfulness(
    ae: Autoencoder,
    images: np.ndarray,
    maps_by_method: dict[str, np.ndarray],
    masks: np.ndarray | None = None,
    *,
    target: str | None = None,
    reference_codes: np.ndarray | None = None,
    method_options: dict[str, dict] | None = None,
    sample: int = 16,
    steps: int = 20,
    fill: float = 0.5,
    seed: int = 0,
    batch_size: int = 32,
) -> dict[str, dict[str, float]]:
    """The faithfulness figures of a build, on a sample of its images.

    Args:
        ae: the trained autoencoder.
        images: float32 (N, H, W, C) in [0, 1].
        maps_by_method: method name to its float32 (N, H, W) maps of ``images`` for
            ``target``.
        masks: bool (N, H, W) object masks, or None where the images have none.
        target, reference_codes: the target the maps explain (see :mod:`aevis.methods.targets`).
        method_options: method name to the options its maps were made with, so that the
            randomised model's maps are made the same way.
        sample: at most this many images, evenly spread over ``images``, are used; the cost
            is about one more set of maps per method on them, plus
            (steps + 1) × (methods + 1) forward passes per image.
        steps: deletion steps (at least 20).
        fill: value deleted pixels take, in [0, 1].
        seed: seeds tie-breaking, the random order and the re-initialised weights.
        batch_size: images per model evaluation.

    Returns:
        ``{method: {"deletion_auc", "random_deletion_auc", "randomization_spearman",
        "object_share", "mask_share"}}`` of Python floats; the last two only when ``masks``
        is given. ``random_deletion_auc`` is each method's own baseline: the order of its
        maps, each moved to a random place (:func:`shifted_maps`, one place per image, the same
        places for every method). NaN where a figure is undefined (see
        :func:`deletion_auc`, :func:`object_share`).
    """
    sample = check_int("sample", sample, minimum=1)
    images = np.asarray(images, dtype=np.float32)
    chosen = sample_positions(len(images), sample)
    images = images[chosen]
    if reference_codes is not None:
        reference_codes = np.asarray(reference_codes, dtype=np.float32)[chosen]
    if masks is not None:
        masks = np.asarray(masks, dtype=bool)[chosen]
    method_options = method_options or {}
    unknown = sorted(set(method_options) - set(maps_by_method))
    if unknown:
        raise ValueError(f"method_options names methods without maps: {', '.join(unknown)}.")
    curve_options = dict(target=target, reference_codes=reference_codes, steps=steps, fill=fill, batch_size=batch_size)

    randomised = randomised_autoencoder(ae, seed=seed)

    figures = {}
    for method, all_maps in maps_by_method.items():
        maps = np.asarray(all_maps, dtype=np.float32)[chosen]
        curves = deletion_curve(ae, images, deletion_order(maps, seed=seed), **curve_options)
        aucs = deletion_auc(curves)
        baseline = deletion_curve(ae, images, deletion_order(shifted_maps(maps, seed), seed=seed), **curve_options)
        options = {"batch_size": batch_size, **method_options.get(method, {})}
        explain = explainer(method, target, reference_codes, options)
        row = {
            "deletion_auc": nanmean(aucs),
            "random_deletion_auc": nanmean(deletion_auc(baseline)),
            "randomization_spearman": agreement(maps, explain(randomised, images)),
        }
        if masks is not None:
            row["object_share"], row["mask_share"] = object_share(maps, masks)
        figures[method] = row
    return figures
