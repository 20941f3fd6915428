"""Gathering: every whole-set result of the build into one :class:`~aevis.gallery.Gallery`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits  # installed with scikit-learn

from aevis.config import BuildConfig
from aevis.data.imageset import ImageSet, unique_slugs
from aevis.gallery import Gallery, ModelInfo
from aevis.latent.map import TSNE, map_kind, spread_sample
from aevis.latent.neighbours import RECALL_SAMPLE, finite_codes, finite_rows, mean_code
from aevis.latent.quality import QUALITY_K
from aevis.model import (
    Autoencoder,
)
from aevis.progress import Stages
from aevis.site import (
    pictures,
)
from aevis.store.encoding import Encoded
from aevis.store.results import Results


def gather(
    config: BuildConfig,
    ae: Autoencoder,
    imageset: ImageSet,
    model_info: ModelInfo,
    results: Results,
    stages: Stages,
) -> tuple[Gallery, Encoded, tuple[np.ndarray, np.ndarray]]:
    """The whole-set results, and each code's :data:`~aevis.latent.quality.QUALITY_K` (or more)
    nearest codes: one search serves the pages, the map's trust and density and its quality."""
    count = len(imageset)
    with stages.stage("Encoding and rebuilding", total=count) as advance:
        encoded = results.encode(on_progress=advance)
    usable = finite_codes(encoded.codes)
    centre = mean_code(usable)  # similarities are of codes less their mean (aevis.latent.neighbours)
    drawn_by = " (t-SNE)" if map_kind(ae.code_size) == TSNE else ""
    with stages.stage(f"Finding neighbours and drawing the map{drawn_by}"):
        # Each runs on one core (t-SNE so that its map does not depend on the cores; the search
        # because its small products lose more to a waiting thread than they gain), so the two
        # run side by side: 98 s for both at 100,000 codes, against 71 s and 93 s one after the
        # other. One thread limit for both, set and restored here, not by each in turn.
        with threadpool_limits(1), ThreadPoolExecutor(1) as pool:
            mapping = pool.submit(results.tsne, usable, config.seed)
            indices, similarities = results.neighbours(usable, max(config.neighbours, QUALITY_K), centre)
            positions = mapping.result()
        recall = results.neighbour_recall(usable, indices[:, : config.neighbours], centre)
    if recall is not None:
        stages.log(
            f"With {count:,} images the neighbours are each image's best candidates, not proven the "
            f"nearest: on {RECALL_SAMPLE} images compared with every other, they hold {recall:.1%} of "
            "the true nearest (their similarities are exact)."
        )
    with_page = np.zeros(count, bool)
    with_page[spread_sample(positions, config.pages or count)] = True
    gallery = Gallery(
        imageset=imageset,
        ae=ae,
        model_info=model_info,
        slugs=unique_slugs(imageset.sources),
        image_keys=results.image_keys,
        model_key=results.model_key,
        codes=encoded.codes,
        code_centre=centre,
        errors=encoded.errors,
        error_top=pictures.error_scale(encoded.error_sample),
        neighbour_indices=indices[:, : config.neighbours],
        neighbour_similarities=similarities[:, : config.neighbours],
        neighbour_recall=recall,
        positions=positions,
        with_page=with_page,
        parameters=config.as_record(),
        flags=_encoding_flags(encoded),
        warnings=[ae.rebuild_warning] if ae.rebuild_warning else [],
    )
    return gallery, encoded, (indices, similarities)


def _encoding_flags(encoded: Encoded) -> dict[int, tuple[str, ...]]:
    """Which images have NaN or infinite values in their code or reconstruction."""
    problems: dict[int, list[str]] = {}
    bad_codes = ~finite_rows(encoded.codes)
    for name, flags in (("code", bad_codes), ("reconstruction", ~encoded.reconstruction_finite)):
        for index in np.flatnonzero(flags):
            problems.setdefault(int(index), []).append(f"non-finite values in its {name}")
    return {index: tuple(reasons) for index, reasons in sorted(problems.items())}
