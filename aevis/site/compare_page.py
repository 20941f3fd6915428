"""Where the compare page gets its numbers: the gallery's model (A) beside the ``--compare`` model
(B), from the :class:`~aevis.latent.compare.Comparison` the build made."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from aevis.draw import charts
from aevis.draw.pixels import Size
from aevis.gallery import Gallery
from aevis.site import urls
from aevis.site.pages import Link, image_link, shape_in_words

CHANGED_SHOWN = 12
"""Images whose neighbours changed most shown side by side, at most."""


@dataclass(frozen=True)
class Neighbour:
    """One neighbour of a changed image by one model, and whether the other model lists it too."""

    link: Link
    shared: bool


@dataclass(frozen=True)
class ChangedImage:
    """An image whose neighbours changed between the models, with each model's neighbours."""

    link: Link
    shared: int
    """How many of its k neighbours both models list."""
    by_a: tuple[Neighbour, ...]
    by_b: tuple[Neighbour, ...]


@dataclass(frozen=True)
class ModelSide:
    """One of the two models as the page names it."""

    source: str
    """Its file name (or, for the seed trained here, that in words)."""
    bottleneck: str
    code_size: int
    input_shape: str


@dataclass(frozen=True)
class ComparePage:
    """Everything the compare page shows."""

    a: ModelSide
    b: ModelSide
    k: int
    images: int
    mean_overlap: float
    """Mean share of each image's k neighbours both models list."""
    chance: float
    """The same share for random neighbours."""
    kept_all: int
    """Images whose k neighbours are the same for both models."""
    kept_none: int
    """Images with no neighbour in common."""
    disparity: float
    """What is left between the maps after turning, mirroring, scaling and shifting B's onto A's
    (0: the same layout, 1: nothing alike)."""
    overlap_png: str
    overlap_size: Size
    maps_png: str
    maps_size: Size
    changed: tuple[ChangedImage, ...]
    """The images whose neighbours changed most, lowest overlap first."""


def _similar(link: Link, similarity) -> Link:
    """``link`` with the similarity one model gives it (each model's own, as its pages show it)."""
    return dataclasses.replace(link, similarity=None if similarity is None else float(similarity))


def gather_compare(gallery: Gallery) -> ComparePage | None:
    """The compare page, or None when the build compared no second model."""
    comparison = gallery.comparison
    if comparison is None:
        return None
    spec = gallery.ae.input_spec
    k = comparison.k
    shared = [round(float(value) * k) for value in comparison.overlap]
    changed = []
    for index in comparison.most_changed(CHANGED_SHOWN):
        mine, theirs = gallery.neighbour_indices[index], comparison.neighbour_indices[index]
        their_similarities = (
            comparison.neighbour_similarities[index]
            if comparison.neighbour_similarities is not None
            else [None] * len(theirs)
        )
        changed.append(
            ChangedImage(
                link=image_link(gallery, index),
                shared=shared[index],
                by_a=tuple(
                    Neighbour(_similar(image_link(gallery, other), similarity), other in theirs)
                    for other, similarity in zip(mine, gallery.neighbour_similarities[index])
                ),
                by_b=tuple(
                    Neighbour(_similar(image_link(gallery, other), similarity), other in mine)
                    for other, similarity in zip(theirs, their_similarities)
                ),
            )
        )
    return ComparePage(
        a=ModelSide(
            gallery.model_info.source,
            gallery.ae.bottleneck,
            gallery.ae.code_size,
            shape_in_words((spec.height, spec.width, spec.channels)),
        ),
        b=ModelSide(
            comparison.source, comparison.bottleneck, comparison.code_size, shape_in_words(comparison.input_shape)
        ),
        k=k,
        images=len(gallery),
        mean_overlap=comparison.mean_overlap,
        chance=comparison.chance,
        kept_all=sum(count == k for count in shared),
        kept_none=sum(count == 0 for count in shared),
        disparity=comparison.disparity,
        overlap_png=urls.OVERLAP_CHART,
        overlap_size=charts.overlap_chart_size(),
        maps_png=urls.ALIGNED_MAPS,
        maps_size=charts.aligned_maps_size(),
        changed=tuple(changed),
    )
