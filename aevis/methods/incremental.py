"""Incremental inference: the encoder re-run on only the part of each layer a patch changes.

Occlusion asks for the code of dozens of copies of one image, each differing from the image
in one small square. A 3×3 convolution spreads that square by one pixel, a 2×2 pooling halves
it, so each layer's change stays inside a window far smaller than the layer. Here every copy
keeps the image's own activations outside those windows, computed once per image, and runs
each layer only inside them (Nakandala, Kumar and Papakonstantinou, "Incremental and
Approximate Inference for Faster Occlusion-based Deep CNN Explanations", SIGMOD 2019). The
codes are the whole forward pass's codes up to float rounding; for the seed autoencoder at
64×64 with an 8×8 patch the windows hold about a quarter of its multiply-adds.

Convolutions, max pooling, unpadded average pooling and per-pixel layers (activations, batch
normalisation, dropout, ...) run in windows; from the first other layer on (``Flatten``,
``Dense``, a skip connection's ``Add``), the copies run whole. An encoder that is not a
plain chain of layers is not planned at all (:func:`plan_patched_codes` returns None).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers, ops

from aevis import backend

_POINTWISE = (
    layers.Activation,
    layers.ReLU,
    layers.ELU,
    layers.LeakyReLU,
    layers.Dropout,
    layers.SpatialDropout2D,
    layers.GaussianNoise,
    layers.GaussianDropout,
    layers.AlphaDropout,
    layers.ActivityRegularization,
    layers.Identity,
)
"""Layers whose output at a pixel depends on that pixel's input only (checked further below)."""


@dataclass(frozen=True)
class _Axis:
    """Where one layer's window lies along one image axis, for every patch start ``a``.

    ``starts[a]`` is the first output index the window computes, ``size`` how many it
    computes (the same for every ``a``, so copies batch); the input it reads begins at
    ``starts[a] * stride`` in the padded input and is ``reads`` long.
    """

    starts: np.ndarray  # int32 (positions,)
    size: int
    stride: int
    pad_before: int
    pad_after: int
    reads: int


@dataclass(frozen=True)
class _Step:
    """One encoder layer as the incremental pass runs it."""

    layer: keras.layers.Layer
    how: str  # 'window': reads k×k neighbourhoods; 'pointwise'; 'whole': runs on whole copies
    rows: _Axis | None = None
    cols: _Axis | None = None
    pad_value: float = 0.0


@dataclass(frozen=True)
class PatchedCodes:
    """The plan for one image size and patch size; call :meth:`function` for the graph.

    Attributes:
        work: the fraction of a whole forward pass's multiply-adds (in convolutions) that an
            occluded copy costs, given one pass per image for the unoccluded activations.
    """

    steps: tuple[_Step, ...]
    patch: int
    to_model: Callable
    work: float

    def function(self) -> Callable:
        """``fn(images, owner, top, left, fill) -> codes`` to compile.

        ``images`` (M, H, W, C) in [0, 1]; the copy ``b`` is ``images[owner[b]]`` with the
        square at rows ``top[b]``…, columns ``left[b]``… set to ``fill``; ``codes`` is the
        bottleneck activation of every copy, (B, ...) as the encoder gives it.
        """
        steps, patch, to_model = self.steps, self.patch, self.to_model

        def fn(images, owner, top, left, fill):
            base = to_model(images)
            shape = (ops.shape(owner)[0], patch, patch, images.shape[-1])
            region = ops.broadcast_to(to_model(ops.cast(fill, images.dtype)), shape)
            region_top, region_left = top, left  # where the region lies in ``base``
            for index, step in enumerate(steps):
                if step.how == "pointwise":
                    base, region = step.layer(base, training=False), step.layer(region, training=False)
                elif step.how == "window":
                    rows, cols = step.rows, step.cols
                    padding = ((0, 0), (rows.pad_before, rows.pad_after), (cols.pad_before, cols.pad_after), (0, 0))
                    out_top, out_left = ops.take(rows.starts, top), ops.take(cols.starts, left)
                    window = _overlay(
                        ops.pad(base, padding, constant_values=step.pad_value),
                        region,
                        owner,
                        (out_top * rows.stride, out_left * cols.stride),
                        (rows.reads, cols.reads),
                        (region_top + rows.pad_before, region_left + cols.pad_before),
                    )
                    base, region = step.layer(base, training=False), _run_valid(step.layer, window)
                    region_top, region_left = out_top, out_left
                else:  # from here on every copy runs whole
                    copies = _whole(base, region, owner, region_top, region_left)
                    for rest in steps[index:]:
                        copies = rest.layer(copies, training=False)
                    return copies
            return _whole(base, region, owner, region_top, region_left)

        return fn


def plan_patched_codes(ae, patch: int) -> PatchedCodes | None:
    """Plan incremental codes for ``patch`` × ``patch`` squares, or None where it cannot.

    None when the encoder is not a chain of single-input layers, or its first layer is not
    one that runs in windows; the caller then runs whole occluded copies.
    """
    chain = _encoder_chain(ae)
    if chain is None:
        return None
    height, width = ae.input_spec.height, ae.input_spec.width
    rows, cols = np.arange(height - patch + 1), np.arange(width - patch + 1)
    changed_rows, changed_cols = (rows, rows + patch), (cols, cols + patch)  # [first, stop) per start
    steps, whole = [], False
    full_work = window_work = 0.0
    for layer, in_shape, out_shape in chain:
        how = "whole" if whole else _how(layer, in_shape, out_shape)
        whole = how == "whole"
        if how == "window":
            row_axis, changed_rows = _axis(layer, 0, in_shape[1], out_shape[1], changed_rows)
            col_axis, changed_cols = _axis(layer, 1, in_shape[2], out_shape[2], changed_cols)
            steps.append(_Step(layer, how, row_axis, col_axis, _pad_value(layer)))
        else:
            steps.append(_Step(layer, how))
        if isinstance(layer, layers.Conv2D):
            per_pixel = math.prod(layer.kernel.shape)
            full_work += out_shape[1] * out_shape[2] * per_pixel
            computed = row_axis.size * col_axis.size if how == "window" else out_shape[1] * out_shape[2]
            window_work += computed * per_pixel
    if not steps or steps[0].how != "window":
        return None
    work = window_work / full_work if full_work else 1.0
    return PatchedCodes(tuple(steps), patch, ae.input_spec.to_model, work)


def _encoder_chain(ae) -> list[tuple] | None:
    """(layer, input shape, output shape) of each encoder layer, if the encoder is a chain."""
    encoder, spec = ae.encoder, ae.input_spec
    chain = [layer for layer in encoder.layers if not isinstance(layer, layers.InputLayer)]
    probe = spec.to_model(np.random.default_rng(0).random((2, *spec.shape), dtype=np.float32))
    x, shaped = probe, []
    try:
        for layer in chain:
            y = layer(x, training=False)
            shaped.append((layer, tuple(x.shape), tuple(y.shape)))
            x = y
        direct = backend.to_numpy(encoder(probe, training=False))
    except Exception:  # a layer with several inputs: the graph is not a chain
        return None
    x = backend.to_numpy(x)
    if direct.shape != x.shape or not np.allclose(direct, x, atol=1e-5):
        return None
    return shaped


def _how(layer, in_shape: tuple, out_shape: tuple) -> str:
    """'window', 'pointwise' or 'whole' for one layer of the chain."""
    if len(in_shape) != 4 or len(out_shape) != 4:
        return "whole"
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return "whole"
    if type(layer) is layers.Conv2D:
        return "window" if layer.groups == 1 else "whole"
    if type(layer) is layers.MaxPooling2D:
        return "window"
    if type(layer) is layers.AveragePooling2D:
        # 'same' average pooling divides by the in-image count at the borders: not a plain
        # window over a padded input, so only the unpadded kind runs in windows.
        return "window" if layer.padding == "valid" else "whole"
    if isinstance(layer, _POINTWISE):
        return "pointwise" if in_shape == out_shape else "whole"
    if isinstance(layer, (layers.BatchNormalization, layers.LayerNormalization, layers.Softmax)):
        # Per pixel only when they work across channels, not across rows or columns.
        axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
        return "pointwise" if all(axis in (-1, 3) for axis in axes) else "whole"
    return "whole"


def _axis(layer, dim: int, in_size: int, out_size: int, changed: tuple) -> tuple[_Axis, tuple]:
    """This layer's window along one axis, and the interval of its output that changes."""
    kernel, stride = _kernel_and_stride(layer, dim)
    pad_before = pad_after = 0
    if layer.padding == "same":
        total = max((out_size - 1) * stride + kernel - in_size, 0)
        pad_before, pad_after = total // 2, total - total // 2
    first, stop = changed
    # Output o reads inputs [o·s − p, o·s − p + k): it changes when that meets [first, stop).
    low = np.maximum((first + pad_before - kernel) // stride + 1, 0)
    high = np.minimum(-(-(stop + pad_before) // stride), out_size)
    size = int((high - low).max())
    # Every start computes ``size`` outputs, so copies batch; near the far edge the window
    # slides back to stay inside the layer and computes a few unchanged outputs too.
    starts = np.minimum(low, out_size - size).astype(np.int32)
    reads = (size - 1) * stride + kernel
    return _Axis(starts, size, stride, pad_before, pad_after, reads), (low, high)


def _kernel_and_stride(layer, dim: int) -> tuple[int, int]:
    if isinstance(layer, layers.Conv2D):
        return (layer.kernel_size[dim] - 1) * layer.dilation_rate[dim] + 1, layer.strides[dim]
    return layer.pool_size[dim], layer.strides[dim]


def _pad_value(layer) -> float:
    # Max pooling never picks its padding; zero is what convolutions pad with.
    return float("-inf") if isinstance(layer, layers.MaxPooling2D) else 0.0


def _run_valid(layer, window):
    """The layer's output over exactly the window it reads: its op with no padding."""
    if isinstance(layer, layers.Conv2D):
        out = ops.conv(window, layer.kernel, strides=layer.strides, padding="valid", dilation_rate=layer.dilation_rate)
        if layer.use_bias:
            out = out + layer.bias
        return layer.activation(out)
    if isinstance(layer, layers.MaxPooling2D):
        return ops.max_pool(window, layer.pool_size, layer.strides, padding="valid")
    return ops.average_pool(window, layer.pool_size, layer.strides, padding="valid")


def _whole(base, region, owner, region_top, region_left):
    """Whole copies: each image's activations with its copy's region pasted in."""
    zeros = ops.zeros_like(owner)
    return _overlay(base, region, owner, (zeros, zeros), tuple(base.shape[1:3]), (region_top, region_left))


def _overlay(base, region, owner, read_start, reads, region_start):
    """For each copy ``b``: the ``reads`` rows × columns of ``base[owner[b]]`` from
    ``read_start``, with ``region[b]`` pasted in where it lies (``region_start``).

    One gather from [base ‖ region] does both: each output pixel indexes the region where the
    region covers it and the base elsewhere.
    """
    count, height, width, channels = ops.shape(base)[0], base.shape[1], base.shape[2], base.shape[3]
    region_rows, region_cols = region.shape[1], region.shape[2]
    copy = ops.arange(ops.shape(owner)[0], dtype="int32")[:, None, None]
    rows = read_start[0][:, None] + ops.arange(reads[0], dtype="int32")[None, :]  # (B, R)
    cols = read_start[1][:, None] + ops.arange(reads[1], dtype="int32")[None, :]  # (B, C)
    from_base = (owner[:, None, None] * height + rows[:, :, None]) * width + cols[:, None, :]
    local_rows = rows - region_start[0][:, None]
    local_cols = cols - region_start[1][:, None]
    inside = ((local_rows >= 0) & (local_rows < region_rows))[:, :, None] & (
        (local_cols >= 0) & (local_cols < region_cols)
    )[:, None, :]
    local_rows = ops.clip(local_rows, 0, region_rows - 1)[:, :, None]
    local_cols = ops.clip(local_cols, 0, region_cols - 1)[:, None, :]
    from_region = count * height * width + (copy * region_rows + local_rows) * region_cols + local_cols
    source = ops.concatenate([ops.reshape(base, (-1, channels)), ops.reshape(region, (-1, channels))])
    return ops.take(source, ops.where(inside, from_region, from_base), axis=0)
