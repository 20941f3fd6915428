"""What the methods share: compiled functions kept per autoencoder, walking perturbed copies in
chunks and summing them back per image (options are checked by :mod:`aevis._utils.validation`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aevis import backend


def compiled_for(ae, key, build: Callable) -> Callable:
    """A compiled function cached on the autoencoder, so repeated calls do not retrace."""
    return cached_on(ae, key, lambda: backend.compile_function(build()))


def cached_on(ae, key, build: Callable):
    """``build()``, made once per autoencoder and ``key`` and kept on the autoencoder."""
    cache = ae.__dict__.get("_aevis_compiled")
    if cache is None:
        cache = {}
        object.__setattr__(ae, "_aevis_compiled", cache)  # Autoencoder is a frozen dataclass
    if key not in cache:
        cache[key] = build()
    return cache[key]


def item_chunks(count: int, per_image: int, batch_size: int):
    """Walk the ``count`` × ``per_image`` (image, k) items of a perturbation method in chunks.

    Yields ``(owner, k)`` int arrays of at most ``batch_size`` items each, image-major, so a
    chunk's owners ascend and its copies of several images share one evaluation.
    """
    total = count * per_image
    for start in range(0, total, batch_size):
        yield np.divmod(np.arange(start, min(start + batch_size, total)), per_image)


def sum_by_owner(sums: np.ndarray, owner: np.ndarray, values: np.ndarray) -> None:
    """``sums[owner[i]] += values[i]`` for a chunk of items whose owners ascend.

    Each owner's items are contiguous, so one reduce per owner replaces NumPy's slow
    unbuffered ``add.at``. The reduce runs in float64, so how items are split into chunks
    (which depends on the other images in a call) cannot show in a float32 result.
    """
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    sums[owner[starts]] += np.add.reduceat(values.astype(np.float64), starts, axis=0)
