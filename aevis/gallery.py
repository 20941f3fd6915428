"""The gathered results of a build: everything the site is rendered from, computed first."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aevis.imageset import ImageSet
from aevis.inside import Insides
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
class Explanations:
    """Attribution maps of the paged images, and the evidence that they are faithful."""

    target: str
    options: dict[str, dict]
    """method -> the options its maps were made with."""
    maps: dict[str, np.ndarray]
    """method -> float32 (P, H, W), row p for the p-th paged image."""
    pair_method: str | None
    pair_maps: np.ndarray | None
    """float32 (P, K, 2, H, W): [p, k, 0] is paged image p explained against its k-th
    neighbour's code, [p, k, 1] that neighbour explained against image p's code."""
    faithfulness: dict[str, dict[str, float]]
    cascade_method: str | None
    cascade: list
    """:class:`aevis.evaluate.CascadeStep` list for one example image (may be empty)."""
    cascade_image: int | None
    """Index (in the whole set) of the cascade's example image."""


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
    explanations: Explanations | None = None
    """Heat-maps and their faithfulness, for the images with pages."""
    insides: Insides | None = None
    """Channel galleries, feature visualizations, mosaic layout and map quality."""
    flags: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """Image index -> what went wrong numerically (NaN or infinite values) for that image."""
    warnings: list[str] = field(default_factory=list)

    @property
    def paged(self) -> np.ndarray:
        """Indices of the images with pages, in manifest order."""
        return np.flatnonzero(self.with_page)

    def __len__(self) -> int:
        return len(self.slugs)
