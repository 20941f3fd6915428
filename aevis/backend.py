"""Everything that depends on the Keras backend (TensorFlow today) lives here.

The methods use ``keras.ops`` for tensor math and call :func:`compile_function` and
:func:`gradient` for the two things ``keras.ops`` cannot express: tracing a Python function
into a graph, and differentiating through it. Adding JAX or PyTorch means adding a branch
here, not touching the methods.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

_BACKEND = keras.backend.backend()
if _BACKEND != "tensorflow":
    raise ImportError(
        f"aevis supports the TensorFlow backend of Keras; KERAS_BACKEND is {_BACKEND!r}."
    )

import tensorflow as tf  # noqa: E402  (after the backend check, on purpose)

# A compiled function traces once for full batches and once for the last, shorter one; TF
# warns about that "retracing", which is expected here and only alarms users.
tf.get_logger().setLevel("ERROR")


def compile_function(fn: Callable) -> Callable:
    """Trace ``fn`` into a graph once per input shape, so repeated calls skip Python."""
    return tf.function(fn, reduce_retracing=True)


def gradient(scalar_fn: Callable, inputs) -> tuple:
    """Return ``(values, d sum(values) / d inputs)`` for a batch.

    ``scalar_fn`` maps a batch ``(N, ...)`` to one value per item ``(N,)``; as items do not
    interact, the gradient of the sum is each item's own gradient.
    """
    inputs = tf.convert_to_tensor(inputs)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        values = scalar_fn(inputs)
    return values, tape.gradient(values, inputs)


def to_numpy(tensor) -> np.ndarray:
    """A backend tensor as a NumPy array."""
    return keras.ops.convert_to_numpy(tensor)
