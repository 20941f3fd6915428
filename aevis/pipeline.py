"""One build, stage by stage: images -> model -> codes -> neighbours and map -> maps -> site.

Everything whole-set is computed and gathered into a :class:`~aevis.gallery.Gallery` first; the
pages' heat-maps and pictures are then made, written and dropped a chunk at a time, into a
staging folder that replaces the old site when it is complete. Every result comes from the
content-addressed cache when an earlier build made it (:mod:`aevis.store.results`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import keras
import numpy as np
from threadpoolctl import threadpool_limits  # installed with scikit-learn

from aevis.cluster import open_cluster, start_cluster
from aevis.config import BuildConfig
from aevis.data import builtin, folders
from aevis.data.given import ImageSource
from aevis.data.imageset import ImageSet, sample_positions, unique_slugs
from aevis._utils import checked
from aevis.errors import AevisError, Place, disk_fault
from aevis.faithfulness.blank import blank_flag, blank_maps, blank_method
from aevis.gallery import ExplainedChunk, Explanations, Gallery, ModelInfo
from aevis.latent.cells import code_grid, shows_places
from aevis.latent.compare import Comparison, neighbour_overlap, procrustes_align
from aevis.latent.map import TSNE, map_kind, spread_sample
from aevis.latent.neighbours import RECALL_SAMPLE, finite_codes, finite_rows, mean_code
from aevis.latent.quality import QUALITY_K
from aevis.memory import check_fits, image_bytes, images_per_call, pages_per_chunk
from aevis.model import (
    Autoencoder,
    PixelScales,
    choose_scales,
    file_sha256,
    load_autoencoder,
)
from aevis.methods import gradcam
from aevis.model.files import format_note
from aevis.model.scale import AUTO
from aevis.model.train import train_seed, training_steps
from aevis.network.insides import gather_insides
from aevis.progress import Stages
from aevis.site import html, map_sprites, network_pictures, pictures, set_pages, thumbnails
from aevis.site.export import codes_beside, codes_in_site, maps_of, write_codes, write_data, write_maps
from aevis.site.pictures import PictureInputs
from aevis.site.staging import build_lock, check_target, staged_site, zip_site
from aevis.store.cache import ResultCache, make_key
from aevis.store.imagesets import remembered_imageset
from aevis.store.results import Encoded, Results

@dataclass(frozen=True, eq=False)
class Given:
    """What a build is handed in memory (:func:`aevis.build`) instead of the files its config names."""

    model: keras.Model | None = None
    encoder: keras.Model | None = None
    decoder: keras.Model | None = None
    images: ImageSource | None = None


def build(config: BuildConfig, stages: Stages | None = None, given: Given | None = None) -> Gallery:
    """Build the gallery described by ``config`` (and the models and images ``given`` in memory)
    into ``config.out``; return what was gathered.

    Results and pictures are reused from ``config.cache_dir / "results"`` where an earlier
    build made them from the same inputs (:mod:`aevis.store.cache`), unless ``config.cache`` is off.

    Raises:
        AevisError: a problem with the inputs, another build writing ``config.out``, or a full,
            read-only or forbidden disk, in one sentence; the previous site is left as it was.
    """
    stages = stages or Stages(quiet=config.quiet)
    given = given or Given()
    out, cache_dir = Path(config.out), Path(config.cache_dir)
    places = [Place(f"the output folder {out}", out.parent, "choose another --out"),
              Place(f"the cache {cache_dir}", cache_dir, "choose another --cache-dir")]
    try:
        check_target(out)  # fail before the slow part, not after
        with build_lock(out), open_cluster(config) as client:
            checked.check_writable(cache_dir)  # the lock has proved the output's folder writable
            return dataclasses.replace(_build(config, stages, given, client), site=out)
    except OSError as error:
        fault = disk_fault(error, places)
        if fault is None:
            raise
        raise fault from None


def _build(config: BuildConfig, stages: Stages, given: Given, client=None) -> Gallery:
    other = _other_model(config, stages) if config.compare is not None else None  # so is a bad --compare
    cache = ResultCache(Path(config.cache_dir) / "results" if config.cache else None, on_damaged=stages.log)
    ae, imageset, model_info = _model_and_images(config, given, stages, cache)
    _log_model(ae, stages)
    config = _fitting_batches(config, ae, stages)
    results = Results(ae, imageset.images, cache, config.batch_size)
    cluster = start_cluster(client, config, model_info.files, ae) if client is not None else None
    if cluster is not None:  # the per-image results into the cache, for the stages below to find
        cluster.encode(results, stages)
    gallery, encoded, code_neighbours = _gather(config, ae, imageset, model_info, results, stages)
    if other is not None:
        gallery = dataclasses.replace(gallery, comparison=_compare(config, gallery, other, cache, stages))
    with stages.stage("Looking inside the network"):
        insides = gather_insides(
            ae, encoded, gallery.positions, imageset.labels, config.seed, results, code_neighbours,
        )
    gallery = dataclasses.replace(gallery, insides=insides, explanations=_explanations(config, gallery, stages))
    # Whose thumbnails are drawn, and what the map says: decided once. (Images that the
    # heat-maps flag later are paged, so pictured already.)
    pictured = thumbnails.pictured(gallery)
    if cluster is not None:
        cluster.explain(config, gallery, results, stages)
    with staged_site(Path(config.out)) as staging:
        explanations, flags = _explain_and_draw(config, gallery, results, staging, stages, pictured)
        gallery = dataclasses.replace(gallery, explanations=explanations, flags=flags)
        _log_flags(gallery, stages)
        with stages.stage("Writing pages", total=int(gallery.with_page.sum())) as advance:
            pictures.write_set_pictures(gallery, staging, cache)
            map_sprites.write_map_sprites(imageset.images, gallery.image_keys, gallery.positions, staging, cache)
            network_pictures.write_set_pictures(gallery.insides, imageset.images, gallery.image_keys, staging, cache)
            pictures.write_reading_pictures(gallery, staging, cache)
            set_pages.write_pictures(gallery, staging, cache, results.error_maps)
            pictures.write_compare_pictures(gallery, staging, cache)
            write_data(gallery, staging)
            html.write_pages(gallery, staging, html.SITE_TITLE, pictured, on_progress=advance)
    if not codes_in_site(gallery.codes):
        write_codes(gallery.codes, codes_beside(Path(config.out)))
        stages.log(f"The codes take {gallery.codes.nbytes / 1e9:.1f} GB, too much to publish with the site; "
                   f"they are beside it, in {codes_beside(Path(config.out))}.")
    if cache.enabled:
        stages.log(_reuse_summary(cache))
    if config.zip:
        with stages.stage("Zipping the site"):
            stages.log(f"Wrote {_zip(Path(config.out))}")
    return gallery


def _zip(out: Path) -> Path:
    """``zip_site``, with a disk fault told as the zip's, since the site is in place by then."""
    try:
        return zip_site(out)
    except OSError as error:
        fault = disk_fault(error, [Place(f"the zip of the site (which is built) beside {out}", out.parent,
                                         "build without --zip")])
        if fault is None:
            raise
        raise fault from None


def _model_and_images(config: BuildConfig, given: Given, stages: Stages,
                      cache: ResultCache) -> tuple[Autoencoder, ImageSet, ModelInfo]:
    model = given.model if given.model is not None else config.model
    encoder = given.encoder if given.encoder is not None else config.encoder
    decoder = given.decoder if given.decoder is not None else config.decoder
    if model is not None or encoder is not None:
        detect = config.input_scale == AUTO
        with stages.stage("Loading the model"):
            ae = load_autoencoder(
                model, encoder=encoder, decoder=decoder, bottleneck=config.bottleneck,
                custom_objects=config.custom_objects, input_scale="0-1" if detect else config.input_scale,
                safe_mode=not config.trust_model,
            )
        try:
            config.check_geometry(*ae.input_spec.shape[:2])
        except ValueError as error:
            raise AevisError(str(error)) from None
        parts = [model] if model is not None else [encoder, decoder]
        for note in filter(None, (format_note(part) for part in parts if not isinstance(part, keras.Model))):
            stages.log(note)
        imageset = _images(config, given, ae.input_spec.shape, stages, cache)
        if detect:
            with stages.stage("Finding the pixel range"):
                ae = choose_scales(ae, AUTO, imageset.images)
        files = tuple(parts) if not any(isinstance(part, keras.Model) for part in parts) else ()
        return ae, imageset, ModelInfo(" + ".join(_model_source(part) for part in parts), ae.sha256, losses=None,
                                       files=files)

    shape = (config.seed_image_size, config.seed_image_size, 3)
    imageset = _images(config, given, shape, stages, cache)
    if imageset.grayscale:  # a grey set trains a grey network: no colour casts in its rebuilds
        imageset = imageset.in_one_channel()
        stages.log("The images are grayscale, so the seed autoencoder takes one channel.")
    steps = training_steps(len(imageset), config.epochs, config.batch_size)
    with stages.stage("Training the autoencoder", total=steps) as advance:
        trained = train_seed(
            imageset.images, imageset.content_hash(), config.filters, config.epochs,
            config.batch_size, config.seed, Path(config.cache_dir), on_batch=advance,
            on_damaged=stages.log,
        )
    if trained.cached:
        stages.log(f"Reused the trained model from the cache ({trained.path}).")
    ae = load_autoencoder(trained.path, bottleneck=config.bottleneck, input_scale="0-1")
    ae = ae.with_scales(PixelScales(), "the seed autoencoder is trained here on them")
    epochs = f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}"
    source = f"the seed autoencoder, trained here for {epochs} on these images"
    return ae, imageset, ModelInfo(source, file_sha256(trained.path), trained.losses, files=(trained.path,))


def _model_source(model: keras.Model | str | Path) -> str:
    """A model in words: its file's name, or its own name for a model handed over in memory."""
    if isinstance(model, keras.Model):
        return f"{model.name} (given in memory)"
    return Path(model).name


def _log_model(ae: Autoencoder, stages: Stages, which: str = "") -> None:
    """The code layer, the pixel range and any warning, a line each; ``which`` names the model."""
    stages.log(f"Code layer{which}: '{ae.bottleneck}' ({ae.bottleneck_reason}), {ae.code_size} numbers per image.")
    stages.log(f"Pixel values{which}: {ae.input_spec.scales.describe()} ({ae.scales_reason}).")
    if ae.rebuild_warning:
        stages.log(f"Warning: {ae.rebuild_warning}")


def _fitting_batches(config: BuildConfig, ae: Autoencoder, stages: Stages) -> BuildConfig:
    """``config`` with as many images a model call as fit (:func:`aevis.memory.images_per_call`);
    AevisError, naming what helps, where one image cannot fit (:func:`aevis.memory.check_fits`)."""
    gradients = any(method != "occlusion" for method in (*config.methods, config.pair_method) if method)
    check_fits(ae, gradients)
    batch = images_per_call(ae, config.batch_size)
    if batch == config.batch_size:
        return config
    stages.log(f"The model's layers hold {image_bytes(ae) / 2**20:,.0f} MB for each image, so it reads "
               f"{batch} image{'s' if batch != 1 else ''} at a time, not {config.batch_size}.")
    return dataclasses.replace(config, batch_size=batch)


def _other_model(config: BuildConfig, stages: Stages) -> Autoencoder:
    """The ``--compare`` model, loaded as ``--model`` is (its pixel range is found on the images
    later, by :func:`_compare`). Its code layer is the one ``--bottleneck`` names where it has a
    layer of that name (two checkpoints of one network), else its own waist."""

    def load(bottleneck: str | None) -> Autoencoder:
        return load_autoencoder(
            config.compare, bottleneck=bottleneck, custom_objects=config.custom_objects,
            input_scale="0-1" if config.input_scale == AUTO else config.input_scale,
            safe_mode=not config.trust_model,
        )

    with stages.stage("Loading the model to compare"):
        try:
            return load(config.bottleneck)
        except AevisError:
            if config.bottleneck is None:
                raise
            return load(None)  # another network, without that layer; a broken file fails again


def _compare(config: BuildConfig, gallery: Gallery, other: Autoencoder, cache: ResultCache,
             stages: Stages) -> Comparison:
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
    _log_model(other, stages, f" of {Path(config.compare).name}")
    results = Results(other, images, cache, images_per_call(other, config.batch_size))
    with stages.stage("Encoding with the other model", total=len(images)) as advance:
        encoded = results.encode(on_progress=advance)
    with stages.stage("Comparing the two models"):
        usable = finite_codes(encoded.codes)
        indices, similarities = results.neighbours(usable, config.neighbours)
        alignment = procrustes_align(gallery.positions, results.tsne(usable, config.seed))
    comparison = Comparison(
        source=Path(config.compare).name, sha256=other.sha256, bottleneck=other.bottleneck,
        code_size=other.code_size, input_shape=other.input_spec.shape, neighbour_indices=indices,
        overlap=neighbour_overlap(gallery.neighbour_indices, indices), positions=alignment.positions,
        disparity=alignment.disparity, neighbour_similarities=similarities,
    )
    stages.log(f"The two models share {comparison.mean_overlap:.0%} of each image's neighbours on average "
               f"(random neighbours: {comparison.chance:.0%}).")
    return comparison


def _images(config: BuildConfig, given: Given, shape: tuple[int, int, int], stages: Stages,
            cache: ResultCache) -> ImageSet:
    """The images: those handed over in memory, or a folder's, read again each build (its files
    may change); or a built-in set, drawn once and kept in ``cache``."""
    height, width, channels = shape
    if given.images is not None:
        with stages.stage("Reading images", total=len(given.images)) as advance:
            imageset = given.images.read(shape, on_progress=advance)
        note = given.images.note()
        if note:
            stages.log(note)
        if imageset.rejected:
            stages.log(f"Skipped {len(imageset.rejected)} file(s); the report lists why.")
        return imageset
    if config.images is not None:
        total = len(folders.find_image_files(Path(config.images))) if Path(config.images).is_dir() else None
        with stages.stage("Reading images", total=total) as advance:
            imageset = folders.read_image_folder(config.images, shape, on_progress=advance)
        if imageset.rejected:
            stages.log(f"Skipped {len(imageset.rejected)} file(s); the report lists why.")
        return imageset
    if height != width:
        raise AevisError(
            f"Expected a square model input for the built-in '{config.dataset}' images, "
            f"but the model takes {height}x{width}; use --images."
        )
    with stages.stage(f"Making the '{config.dataset}' images"):
        if config.dataset == "shapes":
            make = partial(builtin.make_shapes, config.count, height, config.seed)
        else:
            make = partial(builtin.make_digits, config.count, height)
        seed = config.seed if config.dataset == "shapes" else None  # the digits are not drawn at random
        key = make_key("image set", config.dataset, config.count, height, seed)
        imageset = remembered_imageset(cache, key, make)
    if channels != imageset.images.shape[-1]:
        converted = np.stack([folders.to_channels(image, channels) for image in imageset.images])
        imageset = dataclasses.replace(imageset, images=converted)
    return imageset


def _gather(
    config: BuildConfig, ae: Autoencoder, imageset: ImageSet, model_info: ModelInfo, results: Results,
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
        stages.log(f"With {count:,} images the neighbours are each image's best candidates, not proven the "
                   f"nearest: on {RECALL_SAMPLE} images compared with every other, they hold {recall:.1%} of "
                   "the true nearest (their similarities are exact).")
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


_THUMBNAIL_CHUNK = 256  # thumbnails drawn and written together
_CASCADE_METHOD = "saliency"


def _explanations(config: BuildConfig, gallery: Gallery, stages: Stages) -> Explanations | None:
    """What the pages' heat-maps will be: methods, target, options (the maps come later)."""
    methods, pair_method = tuple(config.methods), config.pair_method
    defaults = BuildConfig.__dataclass_fields__
    if (methods == defaults["methods"].default and pair_method == defaults["pair_method"].default == "gradcam"
            and not _has_gradcam_layer(gallery.ae, config)):  # the defaults, not the user's request
        methods, pair_method = tuple(method for method in methods if method != "gradcam"), None
        stages.log("Grad-CAM and the pair maps are left out: Grad-CAM reads a convolution's grid, and this "
                   "encoder has no convolution.")
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


def _explain_and_draw(config: BuildConfig, gallery: Gallery, results: Results, staging: Path,
                      stages: Stages, pictured: np.ndarray) -> tuple[Explanations | None, dict[int, tuple[str, ...]]]:
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
    # A chunk's pictures are drawn on a second thread while the next chunk's maps are computed,
    # and the last chunk's while the faithfulness checks run: drawing is mostly Python and
    # Pillow, the maps mostly TensorFlow, which leaves the interpreter free. At most two chunks
    # are alive at once, so memory stays two chunks' worth.
    chunk_size = pages_per_chunk(gallery.ae)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aevis-drawing") as drawer:
        drawing = None
        with stages.stage("Explaining and drawing", total=len(paged)) as advance:
            for start in range(0, len(paged), chunk_size):
                rows = paged[start : start + chunk_size]
                chunk = _explain_chunk(config, gallery, results, rows, options,
                                       neighbours[rows, 0] if by_neighbour else None)
                blank = {method: blank_maps(chunk.maps[method]) for method in methods}
                for row, index in enumerate(rows):
                    for method in methods:
                        if not np.isfinite(chunk.maps[method][row]).all():
                            flags.setdefault(int(index), []).append(f"non-finite values in its {method} map")
                        elif blank[method][row]:
                            flags.setdefault(int(index), []).append(blank_flag(method))
                    write_maps(staging, gallery.slugs[index], maps_of(gallery, chunk, row))
                jobs = pictures.page_pictures(gallery, chunk) + network_pictures.image_pictures(gallery, chunk)
                inputs = _picture_inputs(gallery, results, rows, pictures.missing_needs(jobs, cache))
                if drawing is not None:
                    drawing.result()
                drawing = drawer.submit(pictures.draw, jobs, inputs, staging, cache)
                for position in sample:
                    if start <= position < start + len(rows):
                        for method in methods:
                            kept_maps[method].append(chunk.maps[method][position - start])
                            kept_keys[method].append(chunk.map_keys[method][position - start])
                if start == 0 and _CASCADE_METHOD in methods:
                    cascade_map = (chunk.maps[_CASCADE_METHOD][0], chunk.map_keys[_CASCADE_METHOD][0])
                advance(len(rows))
        if len(sample):
            with stages.stage("Checking faithfulness"):
                explanations = _check_faithfulness(config, gallery, results, paged[sample],
                                                   kept_maps, kept_keys, cascade_map, by_neighbour)
        if drawing is not None:
            drawing.result()  # the last chunk's pictures; and its error, if drawing failed
    return explanations, {index: tuple(problems) for index, problems in sorted(flags.items())}


def _check_faithfulness(config: BuildConfig, gallery: Gallery, results: Results, rows: np.ndarray,
                        maps: dict[str, list], keys: dict[str, list], cascade_map,
                        by_neighbour: bool) -> Explanations:
    """The faithfulness figures of the sampled pages ``rows`` (their ``maps``, in order), and
    the randomization cascade of the first paged image (``cascade_map``: its map and key).
    ``by_neighbour``: the maps explain each image against its nearest neighbour's code."""
    explanations, neighbours = gallery.explanations, gallery.neighbour_indices
    masks = gallery.imageset.masks[rows] if gallery.imageset.masks is not None else None
    faithfulness = results.faithfulness(
        rows, {method: np.stack(values) for method, values in maps.items()}, keys, masks,
        config.target, neighbours[rows, 0] if by_neighbour else None,
        explanations.options, config.seed,
    )
    cascade, cascade_image = [], None
    if cascade_map is not None:
        cascade_image = int(gallery.paged[0])
        cascade = results.cascade(
            cascade_image, _CASCADE_METHOD, cascade_map[0], cascade_map[1], config.target,
            int(neighbours[cascade_image, 0]) if by_neighbour else None,
            explanations.options[_CASCADE_METHOD], config.seed,
        )
    cells = None  # the exact "why similar" map, where the code's grid can say where
    if shows_places(code_grid(gallery.ae)) and neighbours.size > 0:
        cells = results.cell_faithfulness(rows, neighbours[rows, 0], config.seed)
    return dataclasses.replace(
        explanations, faithfulness=faithfulness, cascade_method=_CASCADE_METHOD if cascade else None,
        cascade=cascade, cascade_image=cascade_image, cell_faithfulness=cells,
    )


def _picture_inputs(gallery: Gallery, results: Results, rows: np.ndarray, needs: set[str]) -> PictureInputs:
    """The arrays the chunk's missing pictures need: the model runs here, never while drawing."""
    partners = network_pictures.morph_partners(gallery, rows)
    return PictureInputs(
        feature_maps=results.feature_maps(rows) if pictures.FEATURE_MAPS in needs else None,
        reconstructions=results.reconstructions(rows) if pictures.RECONSTRUCTIONS in needs else None,
        morph_frames=results.morph_frames(rows, partners) if pictures.MORPH_FRAMES in needs else None,
    )


def _explain_chunk(config: BuildConfig, gallery: Gallery, results: Results, rows: np.ndarray,
                   options: dict[str, dict], references: np.ndarray | None) -> ExplainedChunk:
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


def _encoding_flags(encoded: Encoded) -> dict[int, tuple[str, ...]]:
    """Which images have NaN or infinite values in their code or reconstruction."""
    problems: dict[int, list[str]] = {}
    bad_codes = ~finite_rows(encoded.codes)
    for name, flags in (("code", bad_codes), ("reconstruction", ~encoded.reconstruction_finite)):
        for index in np.flatnonzero(flags):
            problems.setdefault(int(index), []).append(f"non-finite values in its {name}")
    return {index: tuple(reasons) for index, reasons in sorted(problems.items())}


def _log_flags(gallery: Gallery, stages: Stages) -> None:
    """A line for each image with numerical problems, and one for each method's blank maps."""
    blanks = Counter(method for flags in gallery.flags.values() for method in map(blank_method, flags) if method)
    for index, flags in gallery.flags.items():
        problems = [flag for flag in flags if blank_method(flag) is None]
        if problems:
            stages.log(f"Flagged {gallery.imageset.sources[index]}: {', '.join(problems)}.")
    pages = int(gallery.with_page.sum())
    for method, count in blanks.items():
        stages.log(f"The {method} map is blank (one flat colour) on {count} of {pages} pages; their cards say so.")


def _reuse_summary(cache: ResultCache) -> str:
    """One line: how much of the build came from the cache."""
    reused = sum(cache.hits.values())
    total = reused + sum(cache.misses.values())
    return f"Reused {reused:,} of {total:,} results and pictures from the cache."


def _without_batch(options: dict) -> dict:
    return {name: value for name, value in options.items() if name != "batch_size"}
