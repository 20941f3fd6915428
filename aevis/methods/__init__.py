"""The visualization methods, one module each, all reached through :func:`aevis.explain`.

Each method is a function ``(ae, images, *, target, **options) -> float32 (N, H, W)``.
"""

from aevis.methods.reconstruction_error import reconstruction_error

METHODS = {
    "reconstruction_error": reconstruction_error,
}

__all__ = ["METHODS"]
