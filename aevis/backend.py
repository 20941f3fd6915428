"""Everything that depends on the Keras backend lives here: TensorFlow, JAX or PyTorch.

The methods use ``keras.ops`` for tensor math and call :func:`compile_function` and
:func:`gradient` for the two things ``keras.ops`` cannot express: tracing a Python function
into a graph, and differentiating through it (:func:`item_gradients` differentiates by a
model's weights instead, one image at a time, for training-data attribution). aevis runs on whichever backend Keras was
started with (``KERAS_BACKEND``: TensorFlow by default, JAX or PyTorch).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

BACKEND = keras.backend.backend()
BACKENDS = ("tensorflow", "jax", "torch")
if BACKEND not in BACKENDS:
    raise ImportError(f"aevis runs on the TensorFlow, JAX and PyTorch backends of Keras; KERAS_BACKEND is {BACKEND!r}.")

# Each backend's module is imported after the check, on purpose, and only its own.
if BACKEND == "tensorflow":
    import tensorflow as tf

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

    def item_gradients(loss_fn: Callable, variables) -> Callable:
        """A function of a batch ``(N, ...)`` that returns float32 (N, P): the gradient of each
        item's loss by ``variables``, flattened and concatenated in their order (P: their total size).

        ``loss_fn`` maps a batch to one loss per item ``(N,)``, reading the values ``variables``
        (Keras variables of the model it calls) hold when the returned function is called: a
        model's weights may be set between calls. Traced once per batch shape; each item's
        gradient is its own backward pass (``tf.map_fn``), so items never mix.
        """
        watched = [variable.value for variable in variables]

        def one(item):
            with tf.GradientTape() as tape:
                loss = loss_fn(item[None])[0]
            return tf.concat([tf.reshape(part, (-1,)) for part in tape.gradient(loss, watched)], axis=0)

        traced = tf.function(lambda inputs: tf.map_fn(one, inputs), reduce_retracing=True)
        return lambda inputs: to_numpy(traced(tf.convert_to_tensor(inputs)))


elif BACKEND == "jax":
    import jax
    import jax.numpy as jnp

    def compile_function(fn: Callable) -> Callable:
        """Compile ``fn`` with XLA once per input shape. (The model's weights are read when it is
        traced: aevis changes weights only on copies of a model, which compile their own.)"""
        return jax.jit(fn)

    def gradient(scalar_fn: Callable, inputs) -> tuple:
        """Return ``(values, d sum(values) / d inputs)`` for a batch (see the TensorFlow branch)."""
        values, pullback = jax.vjp(scalar_fn, jnp.asarray(inputs))
        (grads,) = pullback(jnp.ones_like(values))
        return values, grads

    def item_gradients(loss_fn: Callable, variables) -> Callable:
        """Each item's loss gradient by ``variables``, float32 (N, P) (see the TensorFlow branch):
        ``jax.vmap`` of ``jax.grad`` over the items, compiled, the variables' values passed in
        at each call through a :class:`keras.StatelessScope`."""

        def one(values, item):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                loss = loss_fn(item[None])[0]
            return loss

        def flat(values, inputs):
            parts = jax.vmap(jax.grad(one), in_axes=(None, 0))(values, inputs)
            return jnp.concatenate([part.reshape(len(inputs), -1) for part in parts], axis=1)

        traced = jax.jit(flat)
        return lambda inputs: to_numpy(traced([variable.value for variable in variables], jnp.asarray(inputs)))


elif BACKEND == "torch":
    import torch

    def compile_function(fn: Callable) -> Callable:
        """PyTorch runs eagerly: ``fn`` as it is (``torch.compile`` costs more than it saves on
        a build's few calls per shape), keeping no autograd graph unless :func:`gradient` asks."""

        def run(*args):
            # NumPy arguments become tensors first, as tf.function and jax.jit make them:
            # a tensor times a NumPy array would otherwise turn the tensor into NumPy.
            args = [keras.ops.convert_to_tensor(arg) if isinstance(arg, np.ndarray) else arg for arg in args]
            with torch.no_grad():
                return fn(*args)

        return run

    def gradient(scalar_fn: Callable, inputs) -> tuple:
        """Return ``(values, d sum(values) / d inputs)`` for a batch (see the TensorFlow branch)."""
        with torch.enable_grad():
            inputs = keras.ops.convert_to_tensor(inputs).detach().requires_grad_(True)
            values = scalar_fn(inputs)
            (grads,) = torch.autograd.grad(values.sum(), inputs)
        return values.detach(), grads

    def item_gradients(loss_fn: Callable, variables) -> Callable:
        """Each item's loss gradient by ``variables``, float32 (N, P) (see the TensorFlow branch):
        one backward pass per item, eagerly."""

        def run(inputs) -> np.ndarray:
            tensors = [variable.value for variable in variables]
            rows = []
            with torch.enable_grad():
                for item in keras.ops.convert_to_tensor(inputs):
                    grads = torch.autograd.grad(loss_fn(item[None])[0], tensors)
                    rows.append(torch.cat([grad.reshape(-1) for grad in grads]))
            return to_numpy(torch.stack(rows)).astype(np.float32, copy=False)

        return run


def to_numpy(tensor) -> np.ndarray:
    """A backend tensor as a NumPy array."""
    if BACKEND == "torch" and hasattr(tensor, "detach"):
        tensor = tensor.detach()
    return keras.ops.convert_to_numpy(tensor)
