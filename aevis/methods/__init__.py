"""The visualization methods, one module each, all reached through :func:`explain` (``aevis.explain``).

Each method is a function ``(ae, images, *, target, **options) -> float32 (N, H, W)``.
The attribution methods (:data:`TARGET_METHODS`) explain a target of the latent code
(:mod:`aevis.methods.targets`) and also take ``reference_codes`` for ``target='neighbour'``;
``reconstruction_error`` describes the whole autoencoder and takes no target.
"""

from __future__ import annotations

import numpy as np

from aevis.methods.gradcam import gradcam
from aevis.methods.integrated_gradients import integrated_gradients
from aevis.methods.occlusion import occlusion
from aevis.methods.reconstruction_error import reconstruction_error
from aevis.methods.saliency import saliency
from aevis.methods.smoothgrad import smoothgrad

METHODS = {
    "reconstruction_error": reconstruction_error,
    "saliency": saliency,
    "smoothgrad": smoothgrad,
    "integrated_gradients": integrated_gradients,
    "gradcam": gradcam,
    "occlusion": occlusion,
}

# The methods that explain a target, in the order of the issue.
TARGET_METHODS = ("saliency", "smoothgrad", "integrated_gradients", "gradcam", "occlusion")

def explain(
    ae,
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


__all__ = ["METHODS", "TARGET_METHODS", "explain"]
