"""One entry point for every visualization method: :func:`explain`."""

from __future__ import annotations

import numpy as np

from aevis.methods import METHODS
from aevis.model import Autoencoder


def explain(
    ae: Autoencoder,
    images: np.ndarray,
    method: str = "reconstruction_error",
    target: str | None = None,
    **options,
) -> np.ndarray:
    """Compute one map per image: what ``method`` says about ``target``.

    Args:
        ae: the autoencoder, from :func:`aevis.load_autoencoder`.
        images: float32 (N, H, W, C) in [0, 1], at the model's input size.
        method: a name from ``aevis.methods.METHODS``.
        target: the scalar of the latent code being explained, for methods that take one.
        **options: method options (each method's docstring lists them).

    Returns:
        float32 (N, H, W), raw values: normalising for display is the renderer's job.

    Raises:
        ValueError: an unknown method or option, or images of the wrong shape.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; expected one of {', '.join(sorted(METHODS))}.")
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1:] != ae.input_spec.shape:
        raise ValueError(
            f"Expected images of shape (N, {', '.join(map(str, ae.input_spec.shape))}), got {images.shape}."
        )
    maps = METHODS[method](ae, images, target=target, **options)
    return np.asarray(maps, dtype=np.float32)
