"""Where a page gets its faithfulness figures: do the maps say something true about the model?

Three checks, gathered by :func:`faithfulness`:

* **Deletion** (Petsiuk et al. 2018): delete pixels (set them to a fill value) in order of
  decreasing map value and track the target; a map that finds what matters makes the target
  fall fast, so its area under the curve is lower than that of a random order.
* **Randomization** (Adebayo et al. 2018): re-initialise the encoder's weights, top layer
  first, and recompute the maps; maps that still look the same describe the image, not the
  model. A low Spearman rank correlation with the trained maps is what we want.
* **Object share**: on images with object masks, the share of a map's positive mass that
  falls on the object, next to the share of the image the object covers.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from scipy import stats

from aevis.methods import METHODS, TARGET_METHODS
from aevis.model import Autoencoder, wrap_autoencoder
from aevis.methods.targets import check_batch_size, check_float, check_int, make_target

MIN_DELETION_STEPS = 20


# --------------------------------------------------------------------------- deletion


def deletion_order(maps: np.ndarray, seed: int = 0) -> np.ndarray:
    """Pixel indices (row-major) by decreasing map value, int (N, H·W).

    Ties are broken at random with ``seed``: a flat stretch of a map has no order of its
    own, and breaking ties row by row would delete the top of the image first.
    """
    flat = np.asarray(maps, dtype=np.float64).reshape(len(maps), -1)
    tie_break = np.random.default_rng(seed).random(flat.shape)
    return np.lexsort((tie_break, -flat), axis=-1)  # last key sorts first


def random_order(count: int, pixels: int, seed: int = 0) -> np.ndarray:
    """A random deletion order per image, int (count, pixels): the baseline of the test."""
    rng = np.random.default_rng(seed)
    return np.argsort(rng.random((count, pixels)), axis=1)


def deletion_curve(
    ae: Autoencoder,
    images: np.ndarray,
    order: np.ndarray,
    *,
    target: str | None = None,
    reference_codes: np.ndarray | None = None,
    steps: int = 20,
    fill: float = 0.5,
    batch_size: int = 32,
) -> np.ndarray:
    """The target as pixels are deleted, float32 (N, steps + 1).

    Column k is t after setting the first round(k / steps · H·W) pixels of ``order`` (from
    :func:`deletion_order`) to ``fill`` in every channel: column 0 is t(x), the last column
    t of an image that is ``fill`` everywhere. All N × (steps + 1) images run in chunks of
    ``batch_size``. ``steps`` must be at least 20.
    """
    steps = check_int("steps", steps, minimum=MIN_DELETION_STEPS)
    fill = check_float("fill", fill)
    batch_size = check_batch_size(batch_size)
    images = np.asarray(images, dtype=np.float32)
    count, height, width, channels = images.shape
    pixels = height * width
    order = np.asarray(order)
    if order.shape != (count, pixels):
        raise ValueError(f"Expected a deletion order of shape ({count}, {pixels}), got {order.shape}.")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(pixels)[None, :], axis=1)
    deleted = np.round(np.linspace(0, pixels, steps + 1)).astype(int)

    score = make_target(ae, images, target, reference_codes, batch_size=batch_size)
    flat = images.reshape(count, pixels, channels)
    total = count * (steps + 1)
    values = np.empty(total, dtype=np.float32)
    for start in range(0, total, batch_size):
        items = np.arange(start, min(start + batch_size, total))
        owner, step = np.divmod(items, steps + 1)
        gone = rank[owner] < deleted[step][:, None]
        batch = np.where(gone[..., None], np.float32(fill), flat[owner]).reshape(len(items), height, width, channels)
        values[items] = score.values(batch, score.reference[owner], batch_size=len(items))
    return values.reshape(count, steps + 1)


def deletion_auc(curves: np.ndarray) -> np.ndarray:
    """Normalised area under deletion curves, float32 (N,); lower = the order found what matters.

    Each curve is rescaled to run from 1 (t of the whole image) to 0 (t of the fully deleted
    image), then integrated over the deleted fraction (trapezoids). The rescaling depends on
    the two end points only, which every order of the same image shares, so areas of
    different maps compare image by image. NaN where deleting everything does not change t.
    """
    curves = np.asarray(curves, dtype=np.float64)
    first, last = curves[:, :1], curves[:, -1:]
    gap = first - last
    scale = np.maximum(np.abs(first), np.abs(last))
    usable = np.abs(gap) > 1e-6 * np.maximum(scale, 1e-12)
    normalised = np.divide(curves - last, gap, out=np.full_like(curves, np.nan), where=usable)
    steps = curves.shape[1] - 1
    area = (normalised[:, 1:] + normalised[:, :-1]).sum(axis=1) / (2 * steps)
    return area.astype(np.float32)


# --------------------------------------------------------------------------- randomization


@dataclass(frozen=True)
class CascadeStep:
    """Maps after re-initialising the encoder from the top down to ``layer``, inclusive."""

    layer: str
    maps: np.ndarray
    """float32 (N, H, W), computed on the partly randomised encoder."""
    spearman: float
    """Mean over images of the Spearman correlation of |maps| with the trained |maps|."""


def encoder_layers_top_down(ae: Autoencoder) -> list[str]:
    """Names of the encoder's layers that have weights, bottleneck side first."""
    return [layer.name for layer in reversed(ae.encoder.layers) if layer.weights]


def randomization_cascade(
    ae: Autoencoder,
    images: np.ndarray,
    method: str,
    maps: np.ndarray | None = None,
    *,
    target: str | None = None,
    reference_codes: np.ndarray | None = None,
    seed: int = 0,
    **options,
) -> list[CascadeStep]:
    """Adebayo et al.'s cascading randomization: one step per weighted encoder layer.

    A copy of the model is made; its encoder layers are re-initialised one by one from the
    top (the bottleneck side) down, each with its own initializer, and after each the maps
    are recomputed with ``method`` and compared with ``maps`` (the trained model's maps,
    computed here when None). The last step has the whole encoder randomised. The trained
    model is left untouched.

    Args:
        ae: the trained autoencoder.
        images: float32 (N, H, W, C) in [0, 1]; keep N small, every step maps them all.
        method: a name from ``aevis.methods.METHODS``.
        maps: float32 (N, H, W), the trained maps, or None.
        target, reference_codes: as in :func:`aevis.explain` (ignored for methods without
            a target).
        seed: seeds the new weights.
        **options: the method's options.

    Returns:
        One :class:`CascadeStep` per weighted encoder layer, top first.
    """
    images = np.asarray(images, dtype=np.float32)
    explain = _explainer(method, target, reference_codes, options)
    trained = explain(ae, images) if maps is None else np.asarray(maps, dtype=np.float32)
    copy = _copy_autoencoder(ae)
    cascade = []
    for depth, name in enumerate(encoder_layers_top_down(copy)):
        _reinitialise(copy.model.get_layer(name), seed=_layer_seed(seed, depth))
        randomised = explain(copy, images)
        cascade.append(CascadeStep(name, randomised, float(np.mean(spearman(trained, randomised)))))
    return cascade


def randomization_spearman(
    ae: Autoencoder,
    images: np.ndarray,
    method: str,
    maps: np.ndarray | None = None,
    *,
    target: str | None = None,
    reference_codes: np.ndarray | None = None,
    seed: int = 0,
    **options,
) -> float:
    """Mean Spearman correlation of |maps| between the trained and a fully re-initialised encoder.

    The single figure of :func:`randomization_cascade` (its last step), at the cost of one
    set of maps instead of one per layer. Near 1: the maps do not depend on what the
    encoder learnt; near 0: they do.
    """
    images = np.asarray(images, dtype=np.float32)
    explain = _explainer(method, target, reference_codes, options)
    trained = explain(ae, images) if maps is None else np.asarray(maps, dtype=np.float32)
    return float(np.mean(spearman(trained, explain(randomised_autoencoder(ae, seed=seed), images))))


def spearman(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Spearman rank correlation of |first| and |second|, image by image, float64 (N,).

    Absolute values, as in Adebayo et al.: a map whose sign flips but whose emphasis stays
    put has not changed what it points at. A constant map has no ranking to share: 0.
    """
    first = np.abs(np.asarray(first, dtype=np.float64)).reshape(len(first), -1)
    second = np.abs(np.asarray(second, dtype=np.float64)).reshape(len(second), -1)
    result = np.zeros(len(first))
    for index, (a, b) in enumerate(zip(first, second)):
        ra, rb = stats.rankdata(a) - (len(a) + 1) / 2, stats.rankdata(b) - (len(b) + 1) / 2
        denominator = np.sqrt(np.dot(ra, ra) * np.dot(rb, rb))
        result[index] = np.dot(ra, rb) / denominator if denominator > 0 else 0.0
    return result


def _explainer(method: str, target, reference_codes, options):
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; expected one of {', '.join(sorted(METHODS))}.")
    if method in TARGET_METHODS:
        options = {"target": target, "reference_codes": reference_codes, **options}

    def explain(ae, images):
        return np.asarray(METHODS[method](ae, images, **options), dtype=np.float32)

    return explain


def randomised_autoencoder(ae: Autoencoder, layers: int | None = None, seed: int = 0) -> Autoencoder:
    """A copy of ``ae`` with its top ``layers`` weighted encoder layers re-initialised (None: all).

    The same weights as step ``layers`` of :func:`randomization_cascade` with this seed.
    """
    copy = _copy_autoencoder(ae)
    names = encoder_layers_top_down(copy)
    for depth, name in enumerate(names if layers is None else names[:layers]):
        _reinitialise(copy.model.get_layer(name), seed=_layer_seed(seed, depth))
    return copy


def _layer_seed(seed: int, depth: int) -> int:
    return seed * 1009 + depth * 101


def _copy_autoencoder(ae: Autoencoder) -> Autoencoder:
    model = keras.models.clone_model(ae.model)
    model.set_weights(ae.model.get_weights())
    return wrap_autoencoder(model, ae.bottleneck).with_scales(ae.input_spec.scales, ae.scales_reason)


def _reinitialise(layer, seed: int) -> None:
    """Draw new weights for ``layer`` (and any layers inside it) from its own initializers."""
    inner = getattr(layer, "layers", None)
    if inner:
        for offset, sub in enumerate(inner):
            _reinitialise(sub, seed + offset + 1)
        return
    for offset, variable in enumerate(layer.weights):
        short = variable.name.split("/")[-1]
        initializer = getattr(layer, f"{short}_initializer", None)
        if initializer is None:  # a variable we cannot name: Glorot for matrices, zeros else
            initializer = "glorot_uniform" if len(variable.shape) >= 2 else "zeros"
        initializer = keras.initializers.get(initializer)
        config = initializer.get_config()
        if "seed" in config:
            initializer = type(initializer).from_config({**config, "seed": seed + offset})
        variable.assign(initializer(tuple(variable.shape), dtype=variable.dtype))


# --------------------------------------------------------------------------- object share


def object_share(maps: np.ndarray, masks: np.ndarray) -> tuple[float, float]:
    """``(object share, mask share)``: where a map's positive mass lies, and the baseline.

    Object share: Σ max(map, 0) over the object / Σ max(map, 0), averaged over images (an
    image whose map has no positive mass is left out). Mask share: the object's share of
    the image, averaged over the same images. A map that points at the object has an object
    share well above the mask share. NaN if no map has positive mass.

    Args:
        maps: float (N, H, W).
        masks: bool (N, H, W), True on the object.
    """
    maps = np.asarray(maps, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool)
    if masks.shape != maps.shape:
        raise ValueError(f"Expected masks of the maps' shape {maps.shape}, got {masks.shape}.")
    positive = np.maximum(maps, 0.0).reshape(len(maps), -1)
    inside = masks.reshape(len(masks), -1)
    mass = positive.sum(axis=1)
    keep = mass > 0
    if not keep.any():
        return float("nan"), float("nan")
    shares = (positive * inside).sum(axis=1)[keep] / mass[keep]
    return float(shares.mean()), float(inside[keep].mean())


# --------------------------------------------------------------------------- all together


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
        is given. ``random_deletion_auc`` is one random order per image, the same for every
        method (it is their common baseline). NaN where a figure is undefined (see
        :func:`deletion_auc`, :func:`object_share`).
    """
    sample = check_int("sample", sample, minimum=1)
    images = np.asarray(images, dtype=np.float32)
    chosen = _spread(len(images), sample)
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

    order = random_order(len(images), images.shape[1] * images.shape[2], seed=seed)
    random_auc = _nanmean(deletion_auc(deletion_curve(ae, images, order, **curve_options)))
    randomised = randomised_autoencoder(ae, seed=seed)

    figures = {}
    for method, all_maps in maps_by_method.items():
        maps = np.asarray(all_maps, dtype=np.float32)[chosen]
        curves = deletion_curve(ae, images, deletion_order(maps, seed=seed), **curve_options)
        aucs = deletion_auc(curves)
        options = {"batch_size": batch_size, **method_options.get(method, {})}
        explain = _explainer(method, target, reference_codes, options)
        row = {
            "deletion_auc": _nanmean(aucs),
            "random_deletion_auc": random_auc,
            "randomization_spearman": float(np.mean(spearman(maps, explain(randomised, images)))),
        }
        if masks is not None:
            row["object_share"], row["mask_share"] = object_share(maps, masks)
        figures[method] = row
    return figures


def _spread(count: int, sample: int) -> np.ndarray:
    """Up to ``sample`` indices evenly spread over ``range(count)``."""
    if count <= sample:
        return np.arange(count)
    return np.unique(np.round(np.linspace(0, count - 1, sample)).astype(int))


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else float("nan")

