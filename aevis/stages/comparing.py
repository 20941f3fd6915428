"""Comparing (``--compare``): a second model's codes, neighbours and map of the same images."""

from __future__ import annotations

from pathlib import Path

from aevis.config import BuildConfig
from aevis.data import folders
from aevis.gallery import Gallery
from aevis.latent.compare import Comparison, neighbour_overlap, procrustes_align
from aevis.latent.neighbours import finite_codes
from aevis.memory import images_per_call
from aevis.model import (
    Autoencoder,
    choose_scales,
)
from aevis.model.scale import AUTO
from aevis.progress import Stages
from aevis.stages.loading import log_model
from aevis.store.cache import ResultCache
from aevis.store.results import Results


def compare_models(
    config: BuildConfig, gallery: Gallery, other: Autoencoder, cache: ResultCache, stages: Stages
) -> Comparison:
    """The other model's codes, neighbours and map of the gallery's images, through the cache as
    the first model's are, compared with the gallery's (:mod:`aevis.latent.compare`).

    The images are the ones the first model reads, brought to the other's size and channels in
    memory (:func:`aevis.data.folders.to_shape`), not read again: both models see the same
    pictures, cropped alike.
    """
    images = folders.to_shape(gallery.imageset.images, other.input_spec.shape)
    if config.input_scale == AUTO:
        with stages.stage("Finding its pixel range"):
            other = choose_scales(other, AUTO, images)
    log_model(other, stages, f" of {Path(config.compare).name}")
    results = Results(other, images, cache, images_per_call(other, config.batch_size))
    with stages.stage("Encoding with the other model", total=len(images)) as advance:
        encoded = results.encode(on_progress=advance)
    with stages.stage("Comparing the two models"):
        usable = finite_codes(encoded.codes)
        indices, similarities = results.neighbours(usable, config.neighbours)
        alignment = procrustes_align(gallery.positions, results.tsne(usable, config.seed))
    comparison = Comparison(
        source=Path(config.compare).name,
        sha256=other.sha256,
        bottleneck=other.bottleneck,
        code_size=other.code_size,
        input_shape=other.input_spec.shape,
        neighbour_indices=indices,
        overlap=neighbour_overlap(gallery.neighbour_indices, indices),
        positions=alignment.positions,
        disparity=alignment.disparity,
        neighbour_similarities=similarities,
    )
    stages.log(
        f"The two models share {comparison.mean_overlap:.0%} of each image's neighbours on average "
        f"(random neighbours: {comparison.chance:.0%})."
    )
    return comparison
