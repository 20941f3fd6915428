"""The identity of a model in memory, as a file's SHA-256 is of a saved one.

Results are cached under the model's identity (:mod:`aevis.store.results`). A model saved to a
``.keras`` file is known by the file's bytes; a model handed over in memory (``aevis.build(model=
autoencoder)`` right after ``fit``) by what decides its outputs: its architecture, as Keras
writes it, and every weight. Saving it to hash the file would not do: a ``.keras`` file records
the time it was saved, so the same model would never be found again.
"""

from __future__ import annotations

import hashlib

import keras
import numpy as np


def memory_sha256(model: keras.Model) -> str:
    """SHA-256 of a model's architecture and weights: the same after further training only if
    no weight moved."""
    digest = hashlib.sha256(_architecture(model).encode())
    for weight in model.weights:
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(weight.value))
        digest.update(f"\0{value.dtype.str}{value.shape}\0".encode())
        digest.update(value.reshape(-1).view(np.uint8).data if value.size else b"")
    return digest.hexdigest()


def _architecture(model: keras.Model) -> str:
    """Keras's JSON of the layers; a subclassed model without a config is known by its class."""
    try:
        return model.to_json(sort_keys=True)
    except (NotImplementedError, TypeError, ValueError):
        return f"{type(model).__module__}.{type(model).__qualname__}"
