"""The visualization methods, one module each, all reached through :func:`explain` (``aevis.explain``).

Each method is a function ``(ae, images, *, target, **options) -> float32 (N, H, W)``.
The attribution methods (:data:`TARGET_METHODS`) explain a target of the latent code
(:mod:`aevis.methods.targets`) and also take ``reference_codes`` for ``target='neighbour'``;
``reconstruction_error`` describes the whole autoencoder and takes no target.

Which methods exist, and what each one takes, is declared once in :mod:`aevis.methods.registry`.
A method's module is imported when it is first used, so importing this package (as the
command line does for ``--help``) loads no TensorFlow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aevis.memory import images_per_call
from aevis.methods.registry import REGISTRY, TARGET_METHODS, method_named

if TYPE_CHECKING:
    import numpy as np


def __getattr__(name: str):
    if name == "METHODS":  # name -> function; reading it imports every method
        return {method.name: method.function for method in REGISTRY.values()}
    raise AttributeError(f"module 'aevis.methods' has no attribute {name!r}")


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
        **options: method options (each method's docstring lists them); a ``batch_size``
            is lowered where that many images would not fit (:func:`aevis.memory.images_per_call`).

    Returns:
        float32 (N, H, W), raw values: normalising for display is the renderer's job.

    Raises:
        ValueError: an unknown method or option, or images of the wrong shape.
    """
    function = method_named(method, among=sorted(REGISTRY)).function
    import numpy as np  # here, not above: the package stays light to import

    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1:] != ae.input_spec.shape:
        raise ValueError(
            f"Expected images of shape (N, {', '.join(map(str, ae.input_spec.shape))}), got {images.shape}."
        )
    batch_size = options.get("batch_size")
    if (
        isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size > 1
    ):  # else the method refuses it
        options["batch_size"] = images_per_call(ae, batch_size)
    maps = function(ae, images, target=target, **options)
    return np.asarray(maps, dtype=np.float32)


__all__ = ["METHODS", "REGISTRY", "TARGET_METHODS", "explain"]
