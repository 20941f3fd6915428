"""New weights for the randomization check, drawn with NumPy from a layer's own initializer.

Keras's seeded initializers draw from each backend's own random stream, so the same seed gave
TensorFlow, JAX and PyTorch different weights and different randomization figures. Drawn here
from a seeded NumPy generator, with the distribution the initializer names, the randomised
model is the same on every backend.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from scipy import stats

_TRUNCATED_STDDEV = 0.87962566103423978
"""The standard deviation of a unit normal truncated to ±2: Keras divides by it so that a
truncated draw keeps the variance asked for."""
_DETERMINISTIC = (
    keras.initializers.Zeros,
    keras.initializers.Ones,
    keras.initializers.Constant,
    keras.initializers.Identity,
)


def fresh_weights(initializer, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """float64 array of ``shape`` drawn from ``initializer``'s distribution with ``rng``.

    Variance scaling (Glorot, He, LeCun: uniform, normal or truncated normal by fan-in and
    fan-out, as Keras counts them), random normal, uniform and truncated normal, and orthogonal
    are drawn with ``rng``; initializers without randomness (zeros, ones, constants, identity)
    are Keras's own. Any other initializer is replaced by Glorot uniform for a matrix or a
    kernel, zeros for a vector.
    """
    initializer = keras.initializers.get(initializer)
    shape = tuple(int(size) for size in shape)
    if isinstance(initializer, _DETERMINISTIC):
        return keras.ops.convert_to_numpy(initializer(shape, dtype="float32")).astype(np.float64)
    if isinstance(initializer, keras.initializers.VarianceScaling):
        return _variance_scaling(initializer.scale, initializer.mode, initializer.distribution, shape, rng)
    if isinstance(initializer, keras.initializers.TruncatedNormal):
        return initializer.mean + _truncated(initializer.stddev, shape, rng)
    if isinstance(initializer, keras.initializers.RandomNormal):
        return rng.normal(initializer.mean, initializer.stddev, shape)
    if isinstance(initializer, keras.initializers.RandomUniform):
        return rng.uniform(initializer.minval, initializer.maxval, shape)
    if isinstance(initializer, keras.initializers.Orthogonal) and len(shape) >= 2:
        return initializer.gain * _orthogonal(shape, rng)
    if len(shape) >= 2:
        return _variance_scaling(1.0, "fan_avg", "uniform", shape, rng)
    return np.zeros(shape)


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` as Keras counts them: a kernel (..., in, out) counts its receptive
    field in both; a vector its length."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _variance_scaling(scale: float, mode: str, distribution: str, shape, rng) -> np.ndarray:
    fan_in, fan_out = fans(shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out}.get(mode, (fan_in + fan_out) / 2)
    variance = scale / max(1.0, fan)
    if distribution == "truncated_normal":
        return _truncated(math.sqrt(variance) / _TRUNCATED_STDDEV, shape, rng)
    if distribution == "untruncated_normal":
        return rng.normal(0.0, math.sqrt(variance), shape)
    limit = math.sqrt(3.0 * variance)
    return rng.uniform(-limit, limit, shape)


def _truncated(stddev: float, shape, rng) -> np.ndarray:
    """A normal of ``stddev`` cut at two standard deviations, as Keras's truncated normal."""
    return stats.truncnorm.rvs(-2.0, 2.0, scale=stddev, size=shape, random_state=rng)


def _orthogonal(shape, rng) -> np.ndarray:
    """A random orthogonal matrix reshaped to ``shape`` (Saxe et al. 2014), as Keras draws it."""
    rows, columns = math.prod(shape[:-1]), shape[-1]
    q, r = np.linalg.qr(rng.standard_normal((max(rows, columns), min(rows, columns))))
    q *= np.sign(np.diag(r))
    return (q.T if rows < columns else q).reshape(shape)
