"""The gathered results of a build: everything the site is rendered from, computed first.

Except the pages' heat-maps: those are computed, written and dropped a chunk of pages at a
time (:class:`ExplainedChunk`), so a build's memory does not grow with its pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from aevis.data.imageset import ImageSet
from aevis.latent.compare import Comparison
from aevis.latent.duplicates import Duplicates, find_duplicates
from aevis.latent.label_share import LabelShare, label_shares
from aevis.latent.made_of import MadeOf, made_of
from aevis.latent.strangeness import error_ranking
from aevis.latent.taught_by import TaughtBy
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
    checkpoints: Path | None = None
    """The weights kept during its training (:func:`aevis.model.train.read_checkpoints`), when
    aevis trained the model: what "Taught by" needs."""


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
    taught: TaughtBy | None = None
    """Each paged image's proponents and opponents among the training images (TracIn), where
    the model was trained here; None for a model given by the user."""
    site: Path | None = None
    """The folder the site was written to, once it is."""
    notebook_view: Callable[[Gallery], str] | None = field(default=None, repr=False)
    """How Jupyter shows the built gallery (:func:`aevis.site.notebook.gallery_html`), handed
    in by the build with :attr:`site`: the data model needs nothing from the site's room."""

    def updated(self, **changes) -> Gallery:
        """This gallery with ``changes`` to its fields. The values computed so far (such as
        :attr:`duplicates`) come along unless a field they are computed from changed
        (``dataclasses.replace`` would drop them, and they would be computed again)."""
        new = replace(self, **changes)
        new.__dict__.update(
            {
                name: value
                for name, value in self.__dict__.items()
                if name in _COMPUTED_FROM and not _COMPUTED_FROM[name] & changes.keys()
            }
        )
        return new

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

    @cached_property
    def taught_label_shares(self) -> list[LabelShare] | None:
        """How far "Taught by" follows the labels (:mod:`aevis.latent.label_share`), where the
        images have labels and the model was trained here."""
        labels = self.imageset.labels
        if self.taught is None or not labels or not len(self.taught.sample) or len(self) < 2:
            return None
        return label_shares(self.taught.sample_scores, self.taught.sample, labels)

    @property
    def paged(self) -> np.ndarray:
        """Indices of the images with pages, in manifest order."""
        return np.flatnonzero(self.with_page)

    def __len__(self) -> int:
        return len(self.slugs)

    def _repr_html_(self) -> str | None:
        """In Jupyter: what the site's index leads with, and a link to open it."""
        if self.site is None or self.notebook_view is None:
            return None
        return self.notebook_view(self)


_COMPUTED_FROM = {
    "error_ranking": {"errors"},
    "duplicates": {"codes", "neighbour_indices", "neighbour_similarities", "code_centre"},
    "made_of": {"codes", "with_page", "code_centre"},
    "taught_label_shares": {"taught", "imageset", "slugs"},
}
"""Each cached property of :class:`Gallery`: the fields it is computed from."""
assert _COMPUTED_FROM.keys() == {name for name, value in vars(Gallery).items() if isinstance(value, cached_property)}
