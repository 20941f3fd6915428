"""The gathered results of a build: everything the site is rendered from, computed first.

Except the pages' heat-maps: those are computed, written and dropped a chunk of pages at a
time (:class:`ExplainedChunk`), so a build's memory does not grow with its pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from aevis.data.imageset import ImageSet
from aevis.latent.compare import Comparison
from aevis.latent.duplicates import Duplicates, find_duplicates
from aevis.latent.made_of import MadeOf, made_of
from aevis.latent.strangeness import error_ranking
from aevis.model import Autoencoder
from aevis.network.insides import Insides


@dataclass(frozen=True)
class ModelInfo:
    """What the model page and the manifest say about the model."""

    source: str
    """Where the model came from, in words (a file name, or the seed trained here)."""
    sha256: str
    losses: list[float] | None
    """Training loss per epoch, when aevis trained the model."""
    files: tuple[Path, ...] = ()
    """The model's file, or its encoder's and decoder's, as read (a cluster's workers load them);
    empty for a model handed over in memory."""


@dataclass(frozen=True, eq=False)
class Explanations:
    """Which attribution maps the paged images have, and the evidence that they are faithful.

    The maps themselves are in the site's ``data/maps/<slug>.npz`` (and the result cache),
    not here: see :class:`ExplainedChunk`.
    """

    target: str
    options: dict[str, dict]
    """method -> the options its maps were made with."""
    methods: tuple[str, ...]
    """The methods every paged image has a map of, in page order."""
    pair_method: str | None
    """Method of the pair maps on neighbour cards; None when there are none."""
    faithfulness: dict[str, dict[str, float]]
    cascade_method: str | None
    cascade: list
    """:class:`aevis.faithfulness.randomization.CascadeStep` list for one example image (may be empty)."""
    cascade_image: int | None
    """Index (in the whole set) of the cascade's example image."""
    cell_faithfulness: dict[str, float | None] | None = None
    """The deletion check of the code-cell map ("why similar", :mod:`aevis.faithfulness.cells`):
    its figures, None for those that do not apply; None when it did not run (a flat code, a
    one-cell grid, no neighbours, or no checks)."""


@dataclass(frozen=True, eq=False)
class ExplainedChunk:
    """The heat-maps of a few paged images: made, written and drawn together, then dropped."""

    rows: np.ndarray
    """int (n,): the images' indices in the whole set."""
    maps: dict[str, np.ndarray]
    """method -> float32 (n, H, W)."""
    map_keys: dict[str, list[str]]
    """method -> the result-cache key of each map (what a picture of it is keyed by)."""
    pair_maps: np.ndarray | None
    """float32 (n, K, 2, H, W): [p, k, 0] is image p explained against its k-th neighbour's
    code, [p, k, 1] that neighbour explained against image p's code; None without pair maps."""
    pair_keys: list | None
    """The keys of the pair maps, nested (n, K, 2) like them."""
    error_maps: np.ndarray
    """float32 (n, H, W): each image's reconstruction error map."""


@dataclass(frozen=True, eq=False)
class Gallery:
    """Arrays and facts for every image, in manifest order."""

    imageset: ImageSet
    ae: Autoencoder
    model_info: ModelInfo
    slugs: list[str]
    image_keys: list[str]
    """Content hash of each image's pixels: what its cached results and pictures are keyed by."""
    model_key: str
    """The identity of the model in cache keys (file hash, code layer, input range, batch size)."""
    codes: np.ndarray
    """float32 (N, D): flattened bottleneck activations."""
    code_centre: np.ndarray
    """float32 (D,): the mean of the (cleaned) codes; every similarity the gallery shows is the
    cosine of two codes less this (:mod:`aevis.latent.neighbours`)."""
    errors: np.ndarray
    """float32 (N,): each image's reconstruction error, the mean of its error map (NaN for a
    flagged image): what the pages print, the map colours by and the ranking sorts. (The maps
    themselves are not kept: pages get theirs a chunk at a time, :class:`ExplainedChunk`.)"""
    error_top: float
    """The top of every error picture's colour scale (:func:`aevis.site.pictures.error_scale`)."""
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
    neighbour_recall: float | None = None
    """The share of the true nearest neighbours the lists hold, on a sample, where the search
    did not prove them exact (:func:`aevis.latent.neighbours.neighbour_recall`); None: exact."""
    comparison: Comparison | None = None
    """A second model's neighbours and map beside this one's (``--compare``)."""
    site: Path | None = None
    """The folder the site was written to, once it is."""

    @cached_property
    def error_ranking(self) -> tuple[np.ndarray, np.ndarray]:
        """``(order, ranks)`` by :attr:`errors`, highest first (:func:`aevis.latent.strangeness.error_ranking`)."""
        return error_ranking(self.errors)

    @cached_property
    def duplicates(self) -> Duplicates:
        """The near-duplicate groups, from the codes and the neighbours the build found."""
        return find_duplicates(self.codes, self.neighbour_indices, self.neighbour_similarities, self.code_centre)

    @cached_property
    def made_of(self) -> dict[int, MadeOf]:
        """Each paged image's code as a mix of its nearest codes (:mod:`aevis.latent.made_of`)."""
        paged = self.paged
        return dict(zip(paged.tolist(), made_of(self.codes, paged, self.code_centre)))

    @property
    def paged(self) -> np.ndarray:
        """Indices of the images with pages, in manifest order."""
        return np.flatnonzero(self.with_page)

    def __len__(self) -> int:
        return len(self.slugs)

    def _repr_html_(self) -> str | None:
        """In Jupyter: what the site's index leads with, and a link to open it."""
        if self.site is None:
            return None
        from aevis.site.notebook import gallery_html  # the templates: only when shown

        return gallery_html(self)
