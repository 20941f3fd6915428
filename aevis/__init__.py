"""aevis: see what a convolutional autoencoder sees.

The public API::

    ae = aevis.load_autoencoder("model.keras")          # split at the bottleneck
    maps = aevis.explain(ae, images, method="reconstruction_error")   # float32 (N, H, W)
"""

__version__ = "0.1.0"

from aevis.explain import explain  # noqa: E402
from aevis.model import Autoencoder, InputSpec, load_autoencoder, wrap_autoencoder  # noqa: E402
from aevis.seed import build_seed_autoencoder  # noqa: E402

__all__ = [
    "Autoencoder",
    "InputSpec",
    "build_seed_autoencoder",
    "explain",
    "load_autoencoder",
    "wrap_autoencoder",
    "__version__",
]
