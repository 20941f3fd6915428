"""Occlusion: how much the target drops when a square of the image is covered."""

from __future__ import annotations

import numpy as np
from keras import ops

from aevis import backend
from aevis._utils.patches import patch_bands, patch_starts
from aevis._utils.validation import check_batch_size
from aevis.memory import CALL_BYTES, rows_within
from aevis.methods import registry
from aevis.methods.batching import cached_on, compiled_for, item_chunks
from aevis.methods.incremental import plan_patched_codes
from aevis.methods.registry import REGISTRY
from aevis.methods.targets import make_target

_FILL = REGISTRY["occlusion"].defaults["fill"]
_COPY_CODES = 4  # code-sized arrays an occluded copy holds (see occlusion())


def occlusion(
    ae,
    images: np.ndarray,
    *,
    target: str | None = None,
    reference_codes: np.ndarray | None = None,
    patch: int | None = None,
    stride: int | None = None,
    fill: float = _FILL,
    batch_size: int = 32,
    incremental: bool = True,
) -> np.ndarray:
    """Mean drop of the target when a sliding patch covers each pixel (Zeiler & Fergus 2014).

    A ``patch`` × ``patch`` square of value ``fill`` is placed at every ``stride`` steps
    across the image (plus a last row and column flush with the bottom and right edges, so
    every pixel is covered). map[i, j] is the mean of t(x) − t(x with the patch) over the
    positions whose patch covers (i, j).

    Args:
        ae: the autoencoder.
        images: float32 (N, H, W, C) in [0, 1].
        target: see :mod:`aevis.methods.targets`; None means ``'self'``.
        reference_codes: (N, D) neighbour codes, for ``target='neighbour'`` only.
        patch: side of the square in pixels; None means ⌈H / 8⌉ (see :func:`occlusion_geometry`).
        stride: step between positions; None means ⌈patch / 2⌉.
        fill: the patch's value in [0, 1] (default 0.5, mid grey).
        batch_size: forward passes' worth of occluded copies per evaluation; copies of
            several images share a batch and the map does not depend on it. A copy run with
            incremental inference costs a fraction of a pass (a quarter for the seed
            autoencoder with 8×8 patches), so proportionally more copies share a batch.
        incremental: re-run only the part of each encoder layer a patch can change
            (:mod:`aevis.methods.incremental`), where the encoder allows and it saves
            work; the maps are the same up to float rounding. False runs every occluded copy
            whole.

    Returns:
        float32 (N, H, W), signed: positive where covering the pixel lowers t.
    """
    images = np.asarray(images, dtype=np.float32)
    height, width = images.shape[1:3]
    patch, stride, fill = occlusion_geometry(height, patch, stride, fill, width)
    batch_size = check_batch_size(batch_size)
    if not isinstance(incremental, (bool, np.bool_)):
        raise ValueError(f"Option 'incremental' must be True or False, got {incremental!r}.")
    score = make_target(ae, images, target, reference_codes, batch_size=batch_size)
    fn, work = _occluded_scores(ae, score, patch, incremental)
    reference = score.reference
    # A copy run in windows costs a share of a forward pass in work, but it still ends in a whole
    # code, gathered through index arrays of its size: about four codes' worth (a 256×256 model's
    # 262,144-number code took 3.5 GB in 13 / work copies at once).
    copy_bytes = _COPY_CODES * 4 * ae.code_size
    copies_per_batch = max(batch_size, min(int(batch_size / work), rows_within(copy_bytes, CALL_BYTES)))

    tops, lefts = patch_starts(height, patch, stride), patch_starts(width, patch, stride)
    top, left = (grid.ravel() for grid in np.meshgrid(tops, lefts, indexing="ij"))  # rows first
    occluded = np.empty((len(images), len(top)), dtype=np.float32)
    for owner, position in item_chunks(len(images), len(top), copies_per_batch):
        # Only the chunk's few images cross to the graph, which paints the patches itself.
        first = owner[0]
        occluded[owner, position] = backend.to_numpy(
            fn(
                images[first : owner[-1] + 1],
                (owner - first).astype(np.int32),
                top[position],
                left[position],
                np.float32(fill),
                reference[owner],
            )
        )
    drops = (score.own_values()[:, None] - occluded).astype(np.float64)
    # Each mask is a row band times a column band, so the per-pixel sums separate too.
    rows = patch_bands(height, patch, stride).astype(np.float64)  # (R, H)
    cols = patch_bands(width, patch, stride).astype(np.float64)  # (C, W)
    grid = drops.reshape(len(images), len(tops), len(lefts))
    sums = np.einsum("nrc,rh,cw->nhw", grid, rows, cols, optimize=True)
    counts = np.outer(rows.sum(axis=0), cols.sum(axis=0))
    return (sums / counts).astype(np.float32)


def occlusion_geometry(
    height: int,
    patch: int | None = None,
    stride: int | None = None,
    fill: float | None = None,
    width: int | None = None,
) -> tuple[int, int, float]:
    """``(patch, stride, fill)`` that :func:`occlusion` uses on ``height`` x ``width`` images
    (square where ``width`` is None).

    None takes the default: patch ⌈height / 8⌉, stride ⌈patch / 2⌉, fill 0.5 (mid grey). Given
    values are checked against the limits the registry declares: a patch that fits the image,
    a stride no longer than the patch (so every pixel is covered), a fill in [0, 1].
    """
    patch, stride = registry.occlusion_geometry(height, height if width is None else width, patch, stride)
    fill = _FILL if fill is None else REGISTRY["occlusion"].option("fill").check(fill)
    return patch, stride, fill


_INCREMENTAL_UP_TO = 0.6
"""Incremental inference is used when an occluded copy costs at most this fraction of a whole
forward pass. Measured on the seed at 64x64 against whole copies: 3x faster at 0.26 (8x8
patches), 1.1-1.3x at 0.55, about even at 0.66, where gathering the windows costs what the
multiply-adds save."""


def _occluded_scores(ae, score, patch: int, incremental: bool):
    """The compiled ``fn(images, owner, top, left, fill, reference) -> t`` of occluded copies,
    and what one copy costs as a share of a whole forward pass."""
    plan = None
    if incremental and score.kind != "reconstruction":  # the decoder runs whole
        plan = cached_on(ae, ("occlusion plan", patch), lambda: plan_patched_codes(ae, patch))
    if plan is not None and plan.work <= _INCREMENTAL_UP_TO:
        fn = compiled_for(
            ae, ("occlusion", score.kind, patch, "incremental"), lambda: _incremental_function(plan.function(), score)
        )
        return fn, plan.work
    return compiled_for(ae, ("occlusion", score.kind, patch), lambda: _whole_function(score.traceable(), patch)), 1.0


def _incremental_function(patched_codes, score):
    def fn(images, owner, top, left, fill, reference):
        return score.score(None, patched_codes(images, owner, top, left, fill), None, reference)

    return fn


def _whole_function(image_fn, patch: int):
    def fn(images, owner, top, left, fill, reference):
        height, width = images.shape[1:3]
        rows = ops.arange(height)[None, :]
        cols = ops.arange(width)[None, :]
        in_rows = (rows >= top[:, None]) & (rows < top[:, None] + patch)  # (B, H)
        in_cols = (cols >= left[:, None]) & (cols < left[:, None] + patch)  # (B, W)
        covered = (in_rows[:, :, None] & in_cols[:, None, :])[..., None]
        copies = ops.where(covered, ops.cast(fill, images.dtype), ops.take(images, owner, axis=0))
        return image_fn(copies, reference)

    return fn
