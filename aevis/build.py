"""One build, stage by stage: images -> model -> codes and maps -> neighbours and map -> site.

Everything is computed and gathered into a :class:`~aevis.gallery.Gallery` first; only then is
the site written, into a staging folder that replaces the old site when it is complete.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from aevis import datasets, evaluate, images, inside, latent, site
from aevis.config import BuildConfig
from aevis.errors import AevisError
from aevis.explanations import explain
from aevis.export import write_data
from aevis.gallery import Explanations, Gallery, ModelInfo
from aevis.imageset import ImageSet, unique_slugs
from aevis.methods.reconstruction_error import squared_error
from aevis.model import Autoencoder, file_sha256, load_autoencoder
from aevis.output import check_target, staged_site, zip_site
from aevis.progress import Stages
from aevis.train import train_seed, training_steps

SITE_TITLE = "What the autoencoder sees"


def build(config: BuildConfig, stages: Stages | None = None) -> Gallery:
    """Build the gallery described by ``config`` into ``config.out``; return what was gathered.

    Raises:
        AevisError: a problem with the inputs, in one sentence; nothing is written then.
    """
    stages = stages or Stages(quiet=config.quiet)
    check_target(Path(config.out))  # fail before the slow part, not after
    ae, imageset, model_info = _model_and_images(config, stages)
    stages.log(f"Code layer: '{ae.bottleneck}' ({ae.bottleneck_reason}), {ae.code_size} numbers per image.")
    gallery = _gather(config, ae, imageset, model_info, stages)
    gallery = dataclasses.replace(gallery, explanations=_explain(config, gallery, stages))
    with stages.stage("Looking inside the network", total=len(gallery)) as advance:
        insides = inside.gather_insides(
            gallery.ae, gallery.imageset.images, np.nan_to_num(gallery.codes), gallery.positions,
            gallery.imageset.labels, config.seed, config.batch_size, on_progress=advance,
        )
    gallery = dataclasses.replace(gallery, insides=insides, flags=_non_finite(gallery))
    for index, problems in gallery.flags.items():
        stages.log(f"Flagged {gallery.imageset.sources[index]}: {', '.join(problems)}.")
    with staged_site(Path(config.out)) as staging:
        with stages.stage("Writing pictures", total=len(gallery)) as advance:
            site.write_pictures(gallery, staging, on_progress=advance)
        paged = gallery.paged
        with stages.stage("Drawing the network at work", total=len(paged)) as advance:
            inside.write_set_pictures(gallery.insides, gallery.imageset.images, staging)
            for start in range(0, len(paged), _CHUNK):
                chunk = paged[start : start + _CHUNK]
                inside.write_image_pictures(gallery, staging, chunk, site.media)
                advance(len(chunk))
        with stages.stage("Writing pages", total=int(gallery.with_page.sum())) as advance:
            write_data(gallery, staging)
            site.write_pages(gallery, staging, SITE_TITLE, on_progress=advance)
    if config.zip:
        with stages.stage("Zipping the site"):
            stages.log(f"Wrote {zip_site(Path(config.out))}")
    return gallery


def _model_and_images(config: BuildConfig, stages: Stages) -> tuple[Autoencoder, ImageSet, ModelInfo]:
    if config.model is not None:
        with stages.stage("Loading the model"):
            ae = load_autoencoder(
                config.model, config.bottleneck, config.input_scale, safe_mode=not config.trust_model
            )
        imageset = _images(config, ae.input_spec.shape, stages)
        return ae, imageset, ModelInfo(Path(config.model).name, ae.sha256, losses=None)

    shape = (config.image_size, config.image_size, 3)
    imageset = _images(config, shape, stages)
    steps = training_steps(len(imageset), config.epochs, config.batch_size)
    with stages.stage("Training the autoencoder", total=steps) as advance:
        trained = train_seed(
            imageset.images, imageset.content_hash(), config.filters, config.epochs,
            config.batch_size, config.seed, Path(config.cache_dir), on_batch=advance,
        )
    if trained.cached:
        stages.log(f"Reused the trained model from the cache ({trained.path}).")
    ae = load_autoencoder(trained.path, config.bottleneck, config.input_scale)
    source = f"the seed autoencoder, trained here for {config.epochs} epochs on these images"
    return ae, imageset, ModelInfo(source, file_sha256(trained.path), trained.losses)


def _images(config: BuildConfig, shape: tuple[int, int, int], stages: Stages) -> ImageSet:
    height, width, channels = shape
    if config.images is not None:
        total = len(images.find_image_files(Path(config.images))) if Path(config.images).is_dir() else None
        with stages.stage("Reading images", total=total) as advance:
            imageset = images.read_image_folder(config.images, shape, on_progress=advance)
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
            imageset = datasets.make_shapes(config.count, height, config.seed)
        else:
            imageset = datasets.make_digits(config.count, height)
    if channels != imageset.images.shape[-1]:
        converted = np.stack([images.to_channels(image, channels) for image in imageset.images])
        imageset = ImageSet(converted, imageset.names, imageset.sources, imageset.labels, imageset.masks)
    return imageset


def _gather(
    config: BuildConfig, ae: Autoencoder, imageset: ImageSet, model_info: ModelInfo, stages: Stages
) -> Gallery:
    count = len(imageset)
    with stages.stage("Encoding and rebuilding", total=count) as advance:
        codes, reconstructions = [], []
        for start in range(0, count, config.batch_size):
            batch = imageset.images[start : start + config.batch_size]
            codes.append(ae.encode(batch, config.batch_size))
            reconstructions.append(ae.reconstruct(batch, config.batch_size))
            advance(len(batch))
        codes, reconstructions = np.concatenate(codes), np.concatenate(reconstructions)
    maps = {"reconstruction_error": squared_error(imageset.images, reconstructions)}
    with stages.stage("Neighbours and map"):
        # A NaN or infinite code (flagged on its page) must not poison everyone's neighbours.
        usable = np.nan_to_num(codes, nan=0.0, posinf=0.0, neginf=0.0)
        indices, similarities = latent.nearest_neighbours(usable, config.neighbours)
        positions = latent.tsne_map(usable, config.seed)
    with_page = np.zeros(count, bool)
    with_page[latent.spread_sample(positions, config.pages or count)] = True
    return Gallery(
        imageset=imageset,
        ae=ae,
        model_info=model_info,
        slugs=unique_slugs(imageset.sources),
        codes=codes,
        reconstructions=reconstructions,
        maps=maps,
        neighbour_indices=indices,
        neighbour_similarities=similarities,
        positions=positions,
        with_page=with_page,
        parameters=config.as_record(),
    )


_CHUNK = 32  # images per explain() call: the progress bar moves, the work stays batched
_CASCADE_METHOD = "saliency"


def _explain(config: BuildConfig, gallery: Gallery, stages: Stages) -> Explanations | None:
    """Heat-maps of the paged images with every method, pair maps, and the faithfulness figures."""
    if not config.methods:
        return None
    paged = gallery.paged
    pictures = gallery.imageset.images[paged]
    neighbours = gallery.neighbour_indices[paged]
    references = gallery.codes[neighbours[:, 0]] if config.target == "neighbour" and neighbours.size else None
    options = {method: config.method_options(method) for method in config.methods}
    maps = {}
    with stages.stage("Explaining", total=len(paged) * len(config.methods)) as advance:
        for method in config.methods:
            try:
                maps[method] = _chunked(
                    lambda rows: explain(
                        gallery.ae, pictures[rows], method, config.target,
                        **_with_references(references, rows), **options[method],
                    ),
                    len(paged), advance,
                )
            except (ValueError, TypeError) as error:  # a bad option or target for this model
                raise AevisError(f"Could not draw {method} maps: {error}") from error

    pair_maps = None
    if config.pair_method and neighbours.size:
        pair_maps = _pair_maps(config, gallery, paged, neighbours, stages)

    faithfulness, cascade, cascade_image = {}, [], None
    if config.faithfulness_sample:
        with stages.stage("Checking faithfulness"):
            masks = gallery.imageset.masks[paged] if gallery.imageset.masks is not None else None
            faithfulness = evaluate.faithfulness(
                gallery.ae, pictures, maps, masks, target=config.target, reference_codes=references,
                method_options={method: _without_batch(o) for method, o in options.items()},
                sample=config.faithfulness_sample, seed=config.seed, batch_size=config.batch_size,
            )
            if _CASCADE_METHOD in maps:
                example = 0
                cascade = evaluate.randomization_cascade(
                    gallery.ae, pictures[example : example + 1], _CASCADE_METHOD,
                    maps[_CASCADE_METHOD][example : example + 1], target=config.target,
                    **_with_references(references, slice(example, example + 1)),
                    seed=config.seed, **_without_batch(options[_CASCADE_METHOD]),
                )
                cascade_image = int(paged[example])
    return Explanations(
        target=config.target,
        options={method: _without_batch(o) for method, o in options.items()},
        maps=maps,
        pair_method=config.pair_method if pair_maps is not None else None,
        pair_maps=pair_maps,
        faithfulness=faithfulness,
        cascade_method=_CASCADE_METHOD if cascade else None,
        cascade=cascade,
        cascade_image=cascade_image,
    )


def _pair_maps(config, gallery, paged, neighbours, stages) -> np.ndarray:
    """Each paged image against each neighbour's code, and each neighbour against the image's."""
    count, k = neighbours.shape
    here = np.repeat(paged, k)
    there = neighbours.reshape(-1)
    subjects = np.concatenate([here, there])
    references = np.concatenate([gallery.codes[there], gallery.codes[here]])
    pictures = gallery.imageset.images
    with stages.stage("Explaining neighbour pairs", total=len(subjects)) as advance:
        flat = _chunked(
            lambda rows: explain(
                gallery.ae, pictures[subjects[rows]], config.pair_method, "neighbour",
                reference_codes=references[rows], **config.method_options(config.pair_method),
            ),
            len(subjects), advance,
        )
    height, width = flat.shape[1:]
    return flat.reshape(2, count, k, height, width).transpose(1, 2, 0, 3, 4)


def _non_finite(gallery: Gallery) -> dict[int, tuple[str, ...]]:
    """Which images have NaN or infinite values in their code, reconstruction or maps."""
    def bad(values: np.ndarray) -> np.ndarray:
        return ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)

    problems: dict[int, list[str]] = {}
    for name, flags in (("code", bad(gallery.codes)), ("reconstruction", bad(gallery.reconstructions))):
        for index in np.flatnonzero(flags):
            problems.setdefault(int(index), []).append(f"non-finite values in its {name}")
    if gallery.explanations:
        paged = gallery.paged
        for method, maps in gallery.explanations.maps.items():
            for position in np.flatnonzero(bad(maps)):
                problems.setdefault(int(paged[position]), []).append(f"non-finite values in its {method} map")
    return {index: tuple(reasons) for index, reasons in sorted(problems.items())}


def _chunked(compute, count: int, advance) -> np.ndarray:
    parts = []
    for start in range(0, count, _CHUNK):
        rows = slice(start, min(start + _CHUNK, count))
        parts.append(compute(rows))
        advance(rows.stop - rows.start)
    return np.concatenate(parts)


def _with_references(references, rows) -> dict:
    return {} if references is None else {"reference_codes": references[rows]}


def _without_batch(options: dict) -> dict:
    return {name: value for name, value in options.items() if name != "batch_size"}
