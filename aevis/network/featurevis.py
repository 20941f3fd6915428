"""Feature visualization: "what this channel wants to see", by gradient ascent on the input.

Starting from a seeded grey-with-noise image, each step nudges the pixels up the gradient of
one bottleneck channel's mean activation. Two regularisers keep the result an image rather
than high-frequency noise (Olah, Mordvintsev & Schubert, "Feature Visualization", Distill
2017): *jitter*, a random shift of the image before every step, so no single pixel grid can be
exploited; and *blur*, a light Gaussian blur every few steps, which damps the finest patterns.
All channels asked for are optimised together, one image each, in as few batches as fit
(:func:`aevis.memory.images_per_call`).
"""

from __future__ import annotations

import numpy as np
from keras import ops
from scipy.ndimage import gaussian_filter

from aevis import backend
from aevis.memory import images_per_call

VIS_CHANNELS = 16
"""Bottleneck channels visualized by default: those that vary most across the set."""
VIS_STEPS = 96
"""Gradient-ascent steps: 16 channels of the 64×64 seed model take about 5 s on 2 CPU cores,
half the 10 s allowed, as other work may share the cores."""


def varied_channels(values: np.ndarray, count: int = VIS_CHANNELS) -> np.ndarray:
    """Indices of the ``count`` channels whose (N, channels) values vary most across the set
    (highest variance first, lower index on a tie) — the ones that tell images apart."""
    variance = np.asarray(values, np.float64).var(axis=0)
    return np.argsort(-variance, kind="stable")[:count]


def visualize(
    ae,
    channels,
    steps: int = VIS_STEPS,
    seed: int = 0,
    step_size: float = 0.03,
    jitter: int | None = None,
    blur_sigma: float = 0.6,
    blur_every: int = 4,
) -> np.ndarray:
    """One image per bottleneck channel that makes that channel's mean activation high.

    Args:
        ae: the autoencoder.
        channels: bottleneck channel (or, for a flat bottleneck, unit) indices, one image each.
        steps: gradient-ascent steps.
        seed: seeds the start image (mid grey plus noise of ±0.05) and the jitter.
        step_size: pixel change per step, as a multiple of the gradient's own spread
            (the gradient is divided by its standard deviation per image).
        jitter: largest random shift in pixels before each step; None means H / 16.
        blur_sigma: Gaussian blur, in pixels, applied every ``blur_every`` steps.
        blur_every: steps between blurs.

    Returns:
        float32 (K, H, W, C) in [0, 1], row k for ``channels[k]``.
    """
    channels = np.asarray(channels, np.int64).reshape(-1)
    spec = ae.input_spec
    width_of_code = _code_channels(ae)
    if channels.size and (channels.min() < 0 or channels.max() >= width_of_code):
        raise ValueError(f"Expected bottleneck channels 0..{width_of_code - 1}, got {channels.tolist()}.")
    jitter = max(1, spec.height // 16) if jitter is None else int(jitter)
    rng = np.random.default_rng(seed)
    images = (0.5 + rng.uniform(-0.05, 0.05, (len(channels), *spec.shape))).astype(np.float32)
    selector = np.eye(width_of_code, dtype=np.float32)[channels]  # (K, channels) one-hot
    if not len(channels):
        return images
    step = _step_function(ae)
    per_call = images_per_call(ae, len(channels))  # each image's gradient is its own: any split gives the same
    for number in range(steps):
        dy, dx = (int(v) for v in rng.integers(-jitter, jitter + 1, 2))
        shifted = np.roll(images, (dy, dx), axis=(1, 2))
        grads = np.concatenate(
            [
                backend.to_numpy(step(shifted[start : start + per_call], selector[start : start + per_call]))
                for start in range(0, len(shifted), per_call)
            ]
        )
        grads = np.roll(grads, (-dy, -dx), axis=(1, 2))
        spread = grads.reshape(len(grads), -1).std(axis=1).reshape(-1, 1, 1, 1) + 1e-8
        images = images + step_size * grads / spread
        if blur_every and (number + 1) % blur_every == 0:
            images = gaussian_filter(images, sigma=(0, blur_sigma, blur_sigma, 0))
        images = np.clip(images, 0.0, 1.0).astype(np.float32)
    return images


def _code_channels(ae) -> int:
    return int(ae.encoder.output.shape[-1])


def _step_function(ae):
    """Compiled ``(images, one-hot selector) -> d(selected channel's mean) / d images``, cached."""
    cache = ae.__dict__.get("_aevis_featurevis")
    if cache is None:
        spec, encoder = ae.input_spec, ae.encoder

        def objective(images, selector):
            code = encoder(spec.to_model(images), training=False)
            if len(code.shape) > 2:  # spatial code: mean over its positions, per channel
                code = ops.mean(ops.reshape(code, (ops.shape(code)[0], -1, code.shape[-1])), axis=1)
            return ops.sum(code * selector, axis=1)

        def step(images, selector):
            return backend.gradient(lambda x: objective(x, selector), images)[1]

        cache = backend.compile_function(step)
        object.__setattr__(ae, "_aevis_featurevis", cache)  # Autoencoder is a frozen dataclass
    return cache
