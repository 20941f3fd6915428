"""The gathered results of a build: everything the site is rendered from, computed first."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aevis.imageset import ImageSet
from aevis.model import Autoencoder


@dataclass(frozen=True)
class ModelInfo:
    """What the model page and the manifest say about the model."""

    source: str
    """Where the model came from, in words (a file name, or the seed trained here)."""
    sha256: str
    losses: list[float] | None
    """Training loss per epoch, when aevis trained the model."""


@dataclass(frozen=True, eq=False)
class Gallery:
    """Arrays and facts for every image, in manifest order."""

    imageset: ImageSet
    ae: Autoencoder
    model_info: ModelInfo
    slugs: list[str]
    codes: np.ndarray
    """float32 (N, D): flattened bottleneck activations."""
    reconstructions: np.ndarray
    """float32 (N, H, W, C) in [0, 1]."""
    maps: dict[str, np.ndarray]
    """method name -> float32 (N, H, W)."""
    neighbour_indices: np.ndarray
    neighbour_similarities: np.ndarray
    positions: np.ndarray
    """float32 (N, 2): t-SNE position in [0, 1]."""
    with_page: np.ndarray
    """bool (N,): whether the image gets a page of its own."""
    parameters: dict
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.slugs)
