"""``aevis.build``: a gallery from Python, on the model and the images a notebook already holds.

::

    autoencoder.fit(x_train, x_train, epochs=10)
    gallery = aevis.build(model=autoencoder, images=x_test, labels=y_test, out="site")
    gallery                                   # in Jupyter: the finding, the counts, a link

The model and the images may be in memory (a ``keras.Model``, an array, a ``tf.data``
dataset) or in files; every option of the ``aevis`` command is a keyword, checked by
:class:`~aevis.config.BuildConfig` as the command's are. The build is the command's
(:func:`aevis.pipeline.build`); so are its results, its cache and its site.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from aevis.config import BuildConfig
from aevis.errors import AevisError
from aevis.gallery import Gallery
from aevis.progress import Stages
from aevis.quiet import native_chatter_filtered

_GIVEN_SEPARATELY = ("model", "encoder", "decoder", "images", "out")
_SEED_SIDE_FOR_GIVEN_IMAGES = 64
"""The seed autoencoder's input side for images handed over (:attr:`BuildConfig.seed_image_size`'s
rule for any images but the built-in digits)."""


def build(
    model=None,
    images=None,
    out: str | os.PathLike = "site",
    *,
    encoder=None,
    decoder=None,
    labels: Sequence | None = None,
    names: Sequence | None = None,
    **options,
) -> Gallery:
    """Build a gallery of what ``model`` sees in ``images`` into the folder ``out``; return it.

    Args:
        model: the autoencoder (image in, image out): a ``keras.Model`` or a ``.keras``/``.h5``
            file; None, with no encoder, trains the seed autoencoder on the images.
        images: an array (N, H, W, C) or (N, H, W) of any size, uint8 or float (its range is
            found as for files, :mod:`aevis.data.given`); a list of image files; a folder; or a
            ``tf.data.Dataset`` of images, or of (image, label) or (image, target) pairs.
            None uses the built-in ``dataset``.
        out: the site's folder.
        encoder, decoder: instead of ``model``: its two halves, models or files.
        labels: a label per image (not with a folder): the map can be coloured by them, and the
            gallery says whether the codes group images of the same label.
        names: a name per image (not with a folder).
        **options: any option of the ``aevis`` command, by its :class:`BuildConfig` name:
            ``epochs=5``, ``pages=None`` (every image), ``methods=("saliency",)``,
            ``input_scale="-1-1"``, ``cache_dir=...``, ``quiet=True``...

    Returns:
        The :class:`~aevis.gallery.Gallery`: codes, neighbours, map positions and errors of
        every image; in Jupyter it shows what the site's index leads with and links to it.

    Raises:
        AevisError: an input or an option aevis cannot use, in one sentence.
    """
    console = Console(stderr=True)
    config, given = _config_and_inputs(model, images, out, encoder, decoder, labels, names, options)
    stages = _stages(config.quiet, console)
    filtered = config.verbose or console.is_jupyter  # a notebook's native logs go to its server's terminal
    with contextlib.nullcontext() if filtered else native_chatter_filtered():
        from aevis.pipeline import build as build_site  # imports TensorFlow

        return build_site(config, stages, given)


def _config_and_inputs(model, images, out, encoder, decoder, labels, names, options: dict):
    """The build's config and what it is handed in memory (:class:`aevis.pipeline.Given`)."""
    from aevis.data import given as given_images
    from aevis.pipeline import Given

    _check_option_names(options)
    files = {"out": Path(out)}
    models = {}
    for role, value in (("model", model), ("encoder", encoder), ("decoder", decoder)):
        if _is_path(value):
            files[role] = Path(value)
        elif value is not None:
            models[role] = _keras_model(value, role)

    source = None
    if images is not None and _is_path(images):
        if not Path(images).is_dir():
            raise AevisError(f"Expected images to be a folder, but {images} is not one; pass one file in a list.")
        if labels is not None or names is not None:
            raise AevisError(
                "labels and names go with images given as an array, a list of files or a dataset, not with a folder."
            )
        files["images"] = Path(images)
    elif images is not None and hasattr(images, "as_numpy_iterator"):
        source = given_images.dataset_images(images, names, labels)
    elif isinstance(images, (list, tuple)) and images and all(_is_path(item) for item in images):
        source = given_images.FileImages([Path(item) for item in images], names, labels)
    elif images is not None:
        source = given_images.ArrayImages(images, names, labels)
    elif labels is not None or names is not None:
        raise AevisError("labels and names go with images; without images the built-in set brings its own.")

    if source is not None and options.get("image_size") is None:
        options = {**options, "image_size": _SEED_SIDE_FOR_GIVEN_IMAGES}
    try:
        config = BuildConfig(**files, **{name: _typed(name, value) for name, value in options.items()})
    except ValueError as error:
        raise AevisError(str(error)) from error
    return config, Given(**models, images=source)


def _check_option_names(options: dict) -> None:
    known = [field.name for field in dataclasses.fields(BuildConfig) if field.name not in _GIVEN_SEPARATELY]
    for name in options:
        if name in _GIVEN_SEPARATELY or name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the options are {', '.join(known)}."
            raise AevisError(f"aevis.build() has no option {name!r}{hint}")


def _typed(name: str, value):
    """An option as BuildConfig types it: paths as Paths, lists as tuples."""
    if name in ("cache_dir", "compare", "custom_objects") and value is not None:
        if not _is_path(value):
            raise AevisError(f"Expected {name} to be a path, but got a {type(value).__name__}.")
        return Path(value)
    return tuple(value) if name in ("filters", "methods") and value is not None else value


def _is_path(value) -> bool:
    return isinstance(value, (str, os.PathLike))


def _keras_model(value, role: str):
    import keras

    if not isinstance(value, keras.Model):
        raise AevisError(f"Expected {role} to be a keras.Model or a model file, but got a {type(value).__name__}.")
    return value


def _stages(quiet: bool, console: Console) -> Stages:
    """Progress bars: in the terminal, or in a notebook, where rich draws them in a widget."""
    if console.is_jupyter and not quiet and importlib.util.find_spec("ipywidgets") is None:
        stages = Stages(quiet=True, console=console)
        stages.log("Progress bars in a notebook need ipywidgets: pip install 'aevis[notebook]'.")
        return stages
    return Stages(quiet=quiet, console=console)
