"""The one typed configuration of a gallery build.

The command line (``aevis.cli``) fills a :class:`BuildConfig`; nothing else reads
``sys.argv`` or the environment.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# Method names, their options and the target grammar are the registry's; it loads no TensorFlow.
from aevis.methods.registry import (
    DEFAULT_TARGET,
    REGISTRY,
    TARGET_METHODS,
    method_named,
    occlusion_geometry,
    parse_target,
)

BUILTIN_DATASETS = ("digits", "shapes")
DIGITS_AVAILABLE = 1797
"""scikit-learn's bundled handwritten digits."""
DEFAULT_PAGES = 100
"""Images given a page of their own by default: pages are the slow part of a build (five
heat-maps each), and a hundred spread over the map show every region of it."""
INPUT_SCALES = ("auto", "0-1", "0-255", "-1-1")


@dataclass(frozen=True)
class BuildConfig:
    """Everything that decides what a build produces."""

    out: Path = Path("site")
    """Folder the gallery is written to."""
    images: Path | None = None
    """Folder of the user's images (read recursively); None uses ``dataset``."""
    dataset: str = "digits"
    """Built-in image set used when ``images`` is None: 'digits' or 'shapes'."""
    count: int = 500
    """How many images a built-in set makes (the digits are 1,797 at most)."""
    model: Path | None = None
    """A trained Keras autoencoder (.keras or .h5); None (and no encoder) trains the seed autoencoder."""
    encoder: Path | None = None
    """The encoder of an autoencoder saved in two files, with ``decoder`` (instead of ``model``)."""
    decoder: Path | None = None
    """The decoder that goes with ``encoder``; it reads the encoder's first output."""
    compare: Path | None = None
    """A second model (.keras or .h5) run on the same images; compare.html compares its neighbours and map."""
    custom_objects: Path | None = None
    """A Python file defining the model's custom layers; it is run before loading."""
    bottleneck: str | None = None
    """Name of the bottleneck layer; None detects it."""
    trust_model: bool = False
    """Load a model even if it holds Python code (Lambda layers) that runs on loading."""
    input_scale: str = "auto"
    """Pixel range the model was trained on: '0-1', '0-255' or '-1-1', or 'auto' to detect it."""
    image_size: int | None = None
    """Side of the square input of a freshly trained seed autoencoder; None: 32 for the built-in
    digits (drawn on 8x8 pixels, so more only costs time), 64 otherwise."""
    filters: tuple[int, ...] = (32, 64, 128, 256)
    """Encoder filter counts of a freshly trained seed autoencoder."""
    epochs: int = 30
    """Training epochs for a freshly trained seed autoencoder."""
    batch_size: int = 32
    """Images per batch for training and inference."""
    neighbours: int = 6
    """Nearest neighbours listed per image (cosine similarity of codes)."""
    pages: int | None = DEFAULT_PAGES
    """Give full pages to this many images, spread over the map; None gives every image one.
    Every image is on the map, the mosaic and the manifest either way."""
    seed: int = 0
    """Seed for data generation, training, SmoothGrad noise, and t-SNE."""
    build_time: datetime | None = None
    """The time the build records (the manifest's ``built_at``, the zip's dates), from
    ``SOURCE_DATE_EPOCH``, so builds of the same inputs are identical to the byte; None: the clock."""
    target: str = DEFAULT_TARGET
    """What the heat-maps explain: 'self', 'neighbour', 'channel:K' or 'reconstruction'."""
    methods: tuple[str, ...] = TARGET_METHODS
    """Attribution methods drawn on every page."""
    pair_method: str | None = "gradcam"
    """Method for the pair maps on neighbour cards; None draws none."""
    # The methods' options, one field each as the registry declares them; None (all of them
    # by default) leaves the method's own default, stated in the registry.
    samples: int | None = None
    """SmoothGrad: noisy copies per image."""
    noise: float | None = None
    """SmoothGrad: noise level as a fraction of the [0, 1] range."""
    steps: int | None = None
    """Integrated Gradients: steps along the path."""
    baseline: str | None = None
    """Integrated Gradients: 'grey', 'black', 'blurred' or 'mean'."""
    layer: str | None = None
    """Grad-CAM: the layer to explain."""
    patch: int | None = None
    """Occlusion: side of the square patch in pixels."""
    stride: int | None = None
    """Occlusion: step between patch positions."""
    fill: float | None = None
    """Occlusion: the patch's value in [0, 1]."""
    faithfulness_sample: int = 16
    """Images (spread over the set) the faithfulness checks run on; 0 skips them."""
    cache_dir: Path = Path(".aevis-cache")
    """Where trained models, computed results and drawn pictures are cached between runs."""
    cache: bool = True
    """Reuse the results and pictures of earlier builds (``cache_dir/results``) and keep this
    build's; False computes and draws everything afresh and keeps nothing (but the model)."""
    zip: bool = False
    """Also write ``<out>.zip`` (the whole site, ready to send)."""
    dask: str | None = None
    """Address of a running Dask scheduler (such as ``tcp://10.0.0.5:8786``) whose workers run the
    per-image stages (:mod:`aevis.cluster`); None: this machine alone, or ``workers``."""
    workers: int | None = None
    """Start a local Dask cluster of this many worker processes for the per-image stages; None: none."""
    quiet: bool = False
    """Hide progress bars (stage timings are still printed)."""
    verbose: bool = False
    """Show TensorFlow's native log lines too (aevis keeps its harmless chatter off the terminal)."""

    def __post_init__(self) -> None:
        if self.dataset not in BUILTIN_DATASETS:
            raise ValueError(
                f"Unknown built-in dataset {self.dataset!r}; expected one of {', '.join(BUILTIN_DATASETS)}."
            )
        if self.input_scale not in INPUT_SCALES:
            raise ValueError(f"Unknown input scale {self.input_scale!r}; expected one of {', '.join(INPUT_SCALES)}.")
        if (self.encoder is None) != (self.decoder is None):
            raise ValueError("--encoder and --decoder go together: give both, or neither.")
        if self.encoder is not None and self.model is not None:
            raise ValueError("Give --model, or --encoder with --decoder, not both.")
        for name in ("count", "seed_image_size", "epochs", "batch_size", "neighbours"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}.")
        if self.pages is not None and self.pages < 1:
            raise ValueError(f"pages must be at least 1, got {self.pages}.")
        for method in (*self.methods, self.pair_method):
            if method is not None:
                method_named(method, among=TARGET_METHODS)
        for method in REGISTRY.values():  # each option's limits, as the registry declares them
            for option in method.options:
                if getattr(self, option.name) is not None:
                    option.check(getattr(self, option.name))
        if self.model is None and self.encoder is None:  # the seed's input size is known now
            self.check_geometry(self.seed_image_size, self.seed_image_size)
        parse_target(self.target)
        if self.faithfulness_sample < 0:
            raise ValueError(f"faithfulness_sample must be 0 or more, got {self.faithfulness_sample}.")
        if self.seed_image_size % 16:
            raise ValueError(f"image_size must be a multiple of 16 (four 2x2 poolings), got {self.seed_image_size}.")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}.")
        if self.workers is not None and self.dask is not None:
            raise ValueError("Give --dask (a running scheduler) or --workers (a local cluster), not both.")
        if (self.workers is not None or self.dask is not None) and not self.cache:
            raise ValueError("The cluster's workers hand their results over through the cache: leave out --no-cache.")
        if self.dask is not None and not self.dask.strip():
            raise ValueError("--dask needs a scheduler's address, such as tcp://10.0.0.5:8786.")
        if self.images is None and self.dataset == "digits" and self.count > DIGITS_AVAILABLE:
            raise ValueError(
                f"The built-in digits are {DIGITS_AVAILABLE:,} images; --count {self.count} asks for more."
            )

    def check_geometry(self, height: int, width: int) -> None:
        """Refuse options that cannot work on ``height`` x ``width`` model inputs (an occlusion
        patch larger than the image, a stride that leaves pixels uncovered): checked here for
        the seed, and by the build as soon as a given model's input size is known."""
        if "occlusion" in (*self.methods, self.pair_method):
            occlusion_geometry(height, width, self.patch, self.stride)

    @property
    def seed_image_size(self) -> int:
        """The side of the seed autoencoder's input: ``image_size``, or the default for the images."""
        if self.image_size is not None:
            return self.image_size
        return 32 if self.images is None and self.dataset == "digits" else 64

    def method_options(self, method: str) -> dict:
        """The options given for ``method``, plus the batch size and, for a seeded method, the seed."""
        declared = method_named(method)
        options = {name: getattr(self, name) for name in declared.defaults}
        options = {name: value for name, value in options.items() if value is not None}
        if declared.seeded:
            options["seed"] = self.seed
        return {**options, "batch_size": self.batch_size}

    def as_record(self) -> dict:
        """The build parameters as JSON-ready values, for the manifest and the report: files and
        folders by their name alone, as the site is published and a path would tell strangers
        where the user keeps them (the model is known by its SHA-256 too, in the manifest)."""
        record = dataclasses.asdict(self)
        paths = {field.name for field in dataclasses.fields(self) if "Path" in str(field.type)}
        for key, value in record.items():
            if key in paths and isinstance(value, (str, os.PathLike)):  # a Path, or text from the Python API
                record[key] = Path(os.path.abspath(value)).name  # "." is named too; links are not followed
            elif isinstance(value, tuple):
                record[key] = list(value)
            elif isinstance(value, datetime):
                record[key] = value.isoformat(timespec="seconds")
        for private in ("out", "cache_dir", "cache", "quiet", "verbose", "zip", "dask", "workers"):
            record.pop(private)
        return record
