"""Per-pixel reconstruction error: where the autoencoder fails to rebuild the image."""

from __future__ import annotations

import numpy as np


def reconstruction_error(ae, images: np.ndarray, *, target=None, batch_size: int = 64) -> np.ndarray:
    """Squared error between image and reconstruction, averaged over colour channels.

    Both are taken in [0, 1], whatever range the model was trained on, so maps of different
    models compare. This map describes the whole autoencoder, not a latent target, so
    ``target`` must be None.

    Returns:
        float32 (N, H, W), each value in [0, 1].
    """
    if target is not None:
        raise ValueError(f"reconstruction_error takes no target, got {target!r}.")
    return squared_error(images, ae.reconstruct(images, batch_size=batch_size))


def squared_error(images: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """Channel-mean squared difference, float32 (N, H, W), for reconstructions already at hand."""
    return np.mean((images - reconstructions) ** 2, axis=-1, dtype=np.float32)
