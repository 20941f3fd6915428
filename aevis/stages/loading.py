"""Loading: the images and the model (given, read from files, or the seed trained here), the
model's pixel range, and how many images a model call takes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import keras
import numpy as np

from aevis._utils.keys import make_key
from aevis.config import BuildConfig
from aevis.data import builtin, folders
from aevis.data.given import ImageSource
from aevis.data.imageset import ImageSet
from aevis.errors import AevisError
from aevis.gallery import ModelInfo
from aevis.memory import check_fits, image_bytes, images_per_call
from aevis.model import (
    Autoencoder,
    PixelScales,
    choose_scales,
    file_sha256,
    load_autoencoder,
)
from aevis.model.files import format_note
from aevis.model.scale import AUTO
from aevis.model.train import train_seed, training_steps
from aevis.progress import Stages
from aevis.store.cache import ResultCache
from aevis.store.imagesets import remembered_imageset


@dataclass(frozen=True, eq=False)
class Given:
    """What a build is handed in memory (:func:`aevis.build`) instead of the files its config names."""

    model: keras.Model | None = None
    encoder: keras.Model | None = None
    decoder: keras.Model | None = None
    images: ImageSource | None = None


def model_and_images(
    config: BuildConfig, given: Given, stages: Stages, cache: ResultCache
) -> tuple[Autoencoder, ImageSet, ModelInfo]:
    model = given.model if given.model is not None else config.model
    encoder = given.encoder if given.encoder is not None else config.encoder
    decoder = given.decoder if given.decoder is not None else config.decoder
    if model is not None or encoder is not None:
        detect = config.input_scale == AUTO
        with stages.stage("Loading the model"):
            ae = load_autoencoder(
                model,
                encoder=encoder,
                decoder=decoder,
                bottleneck=config.bottleneck,
                custom_objects=config.custom_objects,
                input_scale="0-1" if detect else config.input_scale,
                safe_mode=not config.trust_model,
            )
        try:
            config.check_geometry(*ae.input_spec.shape[:2])
        except ValueError as error:
            raise AevisError(str(error)) from None
        parts = [model] if model is not None else [encoder, decoder]
        for note in filter(None, (format_note(part) for part in parts if not isinstance(part, keras.Model))):
            stages.log(note)
        imageset = read_images(config, given, ae.input_spec.shape, stages, cache)
        if detect:
            with stages.stage("Finding the pixel range"):
                ae = choose_scales(ae, AUTO, imageset.images)
        files = tuple(parts) if not any(isinstance(part, keras.Model) for part in parts) else ()
        return (
            ae,
            imageset,
            ModelInfo(" + ".join(_model_source(part) for part in parts), ae.sha256, losses=None, files=files),
        )

    shape = (config.seed_image_size, config.seed_image_size, 3)
    imageset = read_images(config, given, shape, stages, cache)
    if imageset.grayscale:  # a grey set trains a grey network: no colour casts in its rebuilds
        imageset = imageset.in_one_channel()
        stages.log("The images are grayscale, so the seed autoencoder takes one channel.")
    steps = training_steps(len(imageset), config.epochs, config.batch_size)
    with stages.stage("Training the autoencoder", total=steps) as advance:
        trained = train_seed(
            imageset.images,
            imageset.content_hash(),
            config.filters,
            config.epochs,
            config.batch_size,
            config.seed,
            Path(config.cache_dir),
            on_batch=advance,
            on_damaged=stages.log,
        )
    if trained.cached:
        stages.log(f"Reused the trained model from the cache ({trained.path}).")
    ae = load_autoencoder(trained.path, bottleneck=config.bottleneck, input_scale="0-1")
    ae = ae.with_scales(PixelScales(), "the seed autoencoder is trained here on them")
    epochs = f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}"
    source = f"the seed autoencoder, trained here for {epochs} on these images"
    return (
        ae,
        imageset,
        ModelInfo(
            source, file_sha256(trained.path), trained.losses, checkpoints=trained.checkpoints, files=(trained.path,)
        ),
    )


def _model_source(model: keras.Model | str | Path) -> str:
    """A model in words: its file's name, or its own name for a model handed over in memory."""
    if isinstance(model, keras.Model):
        return f"{model.name} (given in memory)"
    return Path(model).name


def log_model(ae: Autoencoder, stages: Stages, which: str = "") -> None:
    """The code layer, the pixel range and any warning, a line each; ``which`` names the model."""
    stages.log(f"Code layer{which}: '{ae.bottleneck}' ({ae.bottleneck_reason}), {ae.code_size} numbers per image.")
    stages.log(f"Pixel values{which}: {ae.input_spec.scales.describe()} ({ae.scales_reason}).")
    if ae.rebuild_warning:
        stages.log(f"Warning: {ae.rebuild_warning}")


def fitting_batches(config: BuildConfig, ae: Autoencoder, stages: Stages) -> BuildConfig:
    """``config`` with as many images a model call as fit (:func:`aevis.memory.images_per_call`);
    AevisError, naming what helps, where one image cannot fit (:func:`aevis.memory.check_fits`)."""
    gradients = any(method != "occlusion" for method in (*config.methods, config.pair_method) if method)
    check_fits(ae, gradients)
    batch = images_per_call(ae, config.batch_size)
    if batch == config.batch_size:
        return config
    stages.log(
        f"The model's layers hold {image_bytes(ae) / 2**20:,.0f} MB for each image, so it reads "
        f"{batch} image{'s' if batch != 1 else ''} at a time, not {config.batch_size}."
    )
    return dataclasses.replace(config, batch_size=batch)


def read_images(
    config: BuildConfig, given: Given, shape: tuple[int, int, int], stages: Stages, cache: ResultCache
) -> ImageSet:
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


def other_model(config: BuildConfig, stages: Stages) -> Autoencoder:
    """The ``--compare`` model, loaded as ``--model`` is (its pixel range is found on the images
    later, by :func:`aevis.stages.comparing.compare_models`). Its code layer is the one ``--bottleneck`` names where it has a
    layer of that name (two checkpoints of one network), else its own waist."""

    def load(bottleneck: str | None) -> Autoencoder:
        return load_autoencoder(
            config.compare,
            bottleneck=bottleneck,
            custom_objects=config.custom_objects,
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
