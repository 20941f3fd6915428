"""Explaining the pages: which maps they get, and the chunk loop that makes each chunk's maps,
draws its pictures, writes its data and drops them, then checks faithfulness on a sample."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from aevis.config import BuildConfig
from aevis.data.imageset import sample_positions
from aevis.errors import AevisError
from aevis.faithfulness.blank import blank_flag, blank_maps
from aevis.gallery import ExplainedChunk, Explanations, Gallery
from aevis.latent.cells import code_grid, shows_places
from aevis.memory import pages_per_chunk
from aevis.methods import gradcam
from aevis.model import (
    Autoencoder,
)
from aevis.progress import Stages
from aevis.site import (
    network_pictures,
    pictures,
)
from aevis.site.export import (
    maps_of,
    write_maps,
)
from aevis.site.pictures import PictureInputs
from aevis.store.results import Results

_THUMBNAIL_CHUNK = 256  # thumbnails drawn and written together

_CASCADE_METHOD = "saliency"


def plan_explanations(config: BuildConfig, gallery: Gallery, stages: Stages) -> Explanations | None:
    """What the pages' heat-maps will be: methods, target, options (the maps come later)."""
    methods, pair_method = tuple(config.methods), config.pair_method
    defaults = BuildConfig.__dataclass_fields__
    if (
        methods == defaults["methods"].default
        and pair_method == defaults["pair_method"].default == "gradcam"
        and not _has_gradcam_layer(gallery.ae, config)
    ):  # the defaults, not the user's request
        methods, pair_method = tuple(method for method in methods if method != "gradcam"), None
        stages.log(
            "Grad-CAM and the pair maps are left out: Grad-CAM reads a convolution's grid, and this "
            "encoder has no convolution."
        )
    if not methods:
        return None
    has_pairs = bool(pair_method) and gallery.neighbour_indices.size > 0
    return Explanations(
        target=config.target,
        options={method: _without_batch(config.method_options(method)) for method in methods},
        methods=methods,
        pair_method=pair_method if has_pairs else None,
        faithfulness={},
        cascade_method=None,
        cascade=[],
        cascade_image=None,
    )


def _has_gradcam_layer(ae: Autoencoder, config: BuildConfig) -> bool:
    try:
        gradcam.resolve_layer(ae, config.method_options("gradcam").get("layer"))
    except ValueError:
        return False
    return True


def explain_and_draw(
    config: BuildConfig, gallery: Gallery, results: Results, staging: Path, stages: Stages, pictured: np.ndarray
) -> tuple[Explanations | None, dict[int, tuple[str, ...]]]:
    """The thumbnails of the ``pictured`` images (bool (N,)); for the paged images, their maps
    file and pictures, heat-maps with every method and pair maps, a chunk at a time: made (or
    found in the cache), written, drawn, dropped.

    Only the faithfulness sample's maps are kept, for the checks that end the stage.

    Returns:
        The explanations with their faithfulness figures, and every flagged image's problems
        (the encoding's and the maps').
    """
    flags = {index: list(problems) for index, problems in gallery.flags.items()}
    explanations, paged, cache = gallery.explanations, gallery.paged, results.cache
    thumbnailed = np.flatnonzero(pictured)
    with stages.stage("Writing thumbnails", total=len(thumbnailed)) as advance:
        for start in range(0, len(thumbnailed), _THUMBNAIL_CHUNK):
            rows = thumbnailed[start : start + _THUMBNAIL_CHUNK]
            pictures.write_thumbnails(gallery, staging, cache, rows)
            advance(len(rows))

    methods = explanations.methods if explanations else ()
    options = {method: config.method_options(method) for method in methods}
    neighbours = gallery.neighbour_indices
    by_neighbour = config.target == "neighbour" and neighbours.size > 0
    sample = sample_positions(len(paged), config.faithfulness_sample) if methods and config.faithfulness_sample else []
    kept_maps = {method: [] for method in methods}
    kept_keys = {method: [] for method in methods}
    cascade_map = None
    # A chunk's pictures are drawn on a second thread while the next chunk's maps are computed:
    # drawing is mostly Python and Pillow, the maps mostly TensorFlow, which leaves the
    # interpreter free. At most two chunks are alive at once, so memory stays two chunks' worth.
    # A chunk's picture inputs (activations, morph frames) are gathered, and the faithfulness
    # checks run, only once the chunk before has been drawn: for a 540×540 model either beside
    # a chunk being drawn set the build's peak.
    chunk_size = pages_per_chunk(gallery.ae)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aevis-drawing") as drawer:
        drawing = None
        with stages.stage("Explaining and drawing", total=len(paged)) as advance:
            for start in range(0, len(paged), chunk_size):
                rows = paged[start : start + chunk_size]
                chunk = _explain_chunk(
                    config, gallery, results, rows, options, neighbours[rows, 0] if by_neighbour else None
                )
                blank = {method: blank_maps(chunk.maps[method]) for method in methods}
                for row, index in enumerate(rows):
                    for method in methods:
                        if not np.isfinite(chunk.maps[method][row]).all():
                            flags.setdefault(int(index), []).append(f"non-finite values in its {method} map")
                        elif blank[method][row]:
                            flags.setdefault(int(index), []).append(blank_flag(method))
                    write_maps(staging, gallery.slugs[index], maps_of(gallery, chunk, row))
                jobs = pictures.page_pictures(gallery, chunk) + network_pictures.image_pictures(gallery, chunk)
                if drawing is not None:
                    drawing.result()
                inputs = _picture_inputs(gallery, results, rows, pictures.missing_needs(jobs, cache))
                drawing = drawer.submit(pictures.draw, jobs, inputs, staging, cache)
                for position in sample:
                    if start <= position < start + len(rows):
                        for method in methods:
                            kept_maps[method].append(chunk.maps[method][position - start])
                            kept_keys[method].append(chunk.map_keys[method][position - start])
                if start == 0 and _CASCADE_METHOD in methods:
                    cascade_map = (chunk.maps[_CASCADE_METHOD][0], chunk.map_keys[_CASCADE_METHOD][0])
                advance(len(rows))
        if drawing is not None:
            drawing.result()  # the last chunk's pictures; and its error, if drawing failed
        if len(sample):
            with stages.stage("Checking faithfulness"):
                explanations = _check_faithfulness(
                    config, gallery, results, paged[sample], kept_maps, kept_keys, cascade_map, by_neighbour
                )
    return explanations, {index: tuple(problems) for index, problems in sorted(flags.items())}


def _check_faithfulness(
    config: BuildConfig,
    gallery: Gallery,
    results: Results,
    rows: np.ndarray,
    maps: dict[str, list],
    keys: dict[str, list],
    cascade_map,
    by_neighbour: bool,
) -> Explanations:
    """The faithfulness figures of the sampled pages ``rows`` (their ``maps``, in order), and
    the randomization cascade of the first paged image (``cascade_map``: its map and key).
    ``by_neighbour``: the maps explain each image against its nearest neighbour's code."""
    explanations, neighbours = gallery.explanations, gallery.neighbour_indices
    masks = gallery.imageset.masks[rows] if gallery.imageset.masks is not None else None
    faithfulness = results.faithfulness(
        rows,
        {method: np.stack(values) for method, values in maps.items()},
        keys,
        masks,
        config.target,
        neighbours[rows, 0] if by_neighbour else None,
        explanations.options,
        config.seed,
    )
    cascade, cascade_image = [], None
    if cascade_map is not None:
        cascade_image = int(gallery.paged[0])
        cascade = results.cascade(
            cascade_image,
            _CASCADE_METHOD,
            cascade_map[0],
            cascade_map[1],
            config.target,
            int(neighbours[cascade_image, 0]) if by_neighbour else None,
            explanations.options[_CASCADE_METHOD],
            config.seed,
        )
    cells = None  # the exact "why similar" map, where the code's grid can say where
    if shows_places(code_grid(gallery.ae)) and neighbours.size > 0:
        cells = results.cell_faithfulness(rows, neighbours[rows, 0], config.seed)
    return dataclasses.replace(
        explanations,
        faithfulness=faithfulness,
        cascade_method=_CASCADE_METHOD if cascade else None,
        cascade=cascade,
        cascade_image=cascade_image,
        cell_faithfulness=cells,
    )


def _picture_inputs(gallery: Gallery, results: Results, rows: np.ndarray, needs: set[str]) -> PictureInputs:
    """The arrays the chunk's missing pictures need: the model runs here, never while drawing."""
    partners = network_pictures.morph_partners(gallery, rows)
    return PictureInputs(
        feature_maps=results.feature_maps(rows) if pictures.FEATURE_MAPS in needs else None,
        reconstructions=results.reconstructions(rows) if pictures.RECONSTRUCTIONS in needs else None,
        morph_frames=results.morph_frames(rows, partners) if pictures.MORPH_FRAMES in needs else None,
    )


def _explain_chunk(
    config: BuildConfig,
    gallery: Gallery,
    results: Results,
    rows: np.ndarray,
    options: dict[str, dict],
    references: np.ndarray | None,
) -> ExplainedChunk:
    """Heat-maps of paged images ``rows`` with every method, and their pair maps."""
    maps, keys = {}, {}
    explanations = gallery.explanations
    for method in explanations.methods if explanations else ():
        try:
            maps[method], keys[method] = results.maps(rows, method, config.target, options[method], references)
        except (ValueError, TypeError) as error:  # a bad option or target for this model
            raise AevisError(f"Could not draw {method} maps: {error}") from error
    pair_maps = pair_keys = None
    if explanations is not None and explanations.pair_method is not None:
        method = explanations.pair_method
        try:
            pair_maps, pair_keys = results.pair_maps(
                rows, gallery.neighbour_indices[rows], method, config.method_options(method)
            )
        except (ValueError, TypeError) as error:
            raise AevisError(f"Could not draw {method} pair maps: {error}") from error
    return ExplainedChunk(rows, maps, keys, pair_maps, pair_keys, results.error_maps(rows))


def _without_batch(options: dict) -> dict:
    return {name: value for name, value in options.items() if name != "batch_size"}
