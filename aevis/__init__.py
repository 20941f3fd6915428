"""aevis: see what a convolutional autoencoder sees.

The public API::

    gallery = aevis.build(model=autoencoder, images=x_test, out="site")  # the whole gallery
    ae = aevis.load_autoencoder("model.keras")                        # split at the bottleneck
    maps = aevis.explain(ae, images, method="reconstruction_error")   # float32 (N, H, W)

Names are imported on first use, so ``import aevis`` (and ``aevis --help``) stays instant and
TensorFlow loads only when a model is touched.
"""

import importlib
import os

__version__ = "0.1.0"

# OpenMP threads spin while they wait. Right after TensorFlow has worked, on 2 cores, that
# spinning starved scikit-learn's t-SNE (the map's engine before openTSNE) of 12 points for
# 40 s (0.3 s with sleeping waits); scikit-learn's k-means still runs on OpenMP threads.
# libgomp reads this once, when it is first loaded.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_PUBLIC = {
    "Autoencoder": "aevis.model",
    "InputSpec": "aevis.model",
    "load_autoencoder": "aevis.model",
    "wrap_autoencoder": "aevis.model",
    "choose_scales": "aevis.model",
    "PixelScales": "aevis.model",
    "AevisError": "aevis.errors",
    "explain": "aevis.methods",
    "build_seed_autoencoder": "aevis.model.seed",
    "BuildConfig": "aevis.config",
    "build": "aevis.api",
}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'aevis' has no attribute {name!r}")
