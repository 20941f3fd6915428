"""The command line: parse arguments into a :class:`~aevis.config.BuildConfig`, run one build."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from aevis.config import BUILTIN_DATASETS, INPUT_SCALES, BuildConfig
from aevis.methods.registry import REGISTRY, TARGET_METHODS, TARGET_NAMES
from aevis.quiet import native_chatter_filtered
from aevis.site import urls


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``aevis`` and ``python generate.py``."""
    defaults = BuildConfig()
    p = argparse.ArgumentParser(
        prog="aevis",
        description="Build a static web gallery of what a convolutional autoencoder sees.",
    )
    data = p.add_argument_group("images and model")
    data.add_argument(
        "--images", type=Path, metavar="DIR", help="folder of your images, read recursively (default: a built-in set)"
    )
    data.add_argument(
        "--dataset",
        choices=BUILTIN_DATASETS,
        default=defaults.dataset,
        help="built-in image set when --images is not given (default: %(default)s)",
    )
    data.add_argument(
        "--count", type=int, default=defaults.count, help="how many built-in images to make (default: %(default)s)"
    )
    data.add_argument(
        "--model",
        type=Path,
        metavar="FILE",
        help="your trained Keras autoencoder, .keras or .h5 (default: train the seed autoencoder)",
    )
    data.add_argument(
        "--encoder",
        type=Path,
        metavar="FILE",
        help="instead of --model: your encoder, saved on its own (VAEs: its first output is the code)",
    )
    data.add_argument("--decoder", type=Path, metavar="FILE", help="with --encoder: your decoder, saved on its own")
    data.add_argument(
        "--compare",
        type=Path,
        metavar="FILE",
        help="a second autoencoder, .keras or .h5, such as another checkpoint: its neighbours and map "
        "are compared with the first model's on compare.html",
    )
    data.add_argument(
        "--custom-objects",
        type=Path,
        metavar="FILE.py",
        help="a Python file defining your model's custom layers (such as a VAE's Sampling); "
        "aevis RUNS this file's code before loading, so only pass a file you trust",
    )
    data.add_argument(
        "--trust-model",
        action="store_true",
        help="load a model that contains Python code (Lambda layers); only for files you trust",
    )
    data.add_argument(
        "--bottleneck",
        metavar="LAYER",
        help="the code layer, by name or path such as encoder/latent (default: the encoder's "
        "output, or the network's waist)",
    )
    data.add_argument(
        "--input-scale",
        choices=INPUT_SCALES,
        default=defaults.input_scale,
        help="pixel range the model was trained on; auto tries each and keeps the one that "
        "rebuilds your images best (default: %(default)s)",
    )
    training = p.add_argument_group("training the seed autoencoder (without --model)")
    training.add_argument(
        "--image-size",
        type=int,
        default=defaults.image_size,
        help="input side in pixels, a multiple of 16 (default: 32 for the built-in digits, 64 otherwise)",
    )
    training.add_argument(
        "--filters",
        type=int,
        nargs=4,
        default=list(defaults.filters),
        metavar="N",
        help="encoder filter counts (default: %(default)s)",
    )
    training.add_argument("--epochs", type=int, default=defaults.epochs, help="(default: %(default)s)")
    training.add_argument("--batch-size", type=int, default=defaults.batch_size, help="(default: %(default)s)")
    training.add_argument(
        "--cache-dir",
        type=Path,
        default=defaults.cache_dir,
        help="where trained models, results and pictures are kept between runs (default: %(default)s)",
    )
    training.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        help="compute and draw everything afresh, keep no results (the trained model is still kept)",
    )
    maps = p.add_argument_group("heat-maps (what the network looks at)")
    *targets, last = TARGET_NAMES
    maps.add_argument(
        "--target",
        default=defaults.target,
        help=f"what the maps explain: {', '.join(targets)} or {last} (default: %(default)s)",
    )
    maps.add_argument(
        "--methods",
        nargs="*",
        choices=TARGET_METHODS,
        default=list(defaults.methods),
        metavar="METHOD",
        help=f"methods to draw, any of {', '.join(TARGET_METHODS)} (default: all)",
    )
    maps.add_argument(
        "--pair-method",
        choices=TARGET_METHODS,
        default=defaults.pair_method,
        help="method of the pair maps on neighbour cards (default: %(default)s)",
    )
    maps.add_argument("--no-pair-maps", dest="pair_method", action="store_const", const=None, help="draw no pair maps")
    for method in REGISTRY.values():  # each option's flag; None leaves the method's default
        for option in method.options:
            maps.add_argument(
                f"--{option.name}",
                type=option.type,
                choices=option.choices,
                help=f"{method.title}: {option.help} {option.default_help}",
            )
    maps.add_argument(
        "--faithfulness-sample",
        type=int,
        default=defaults.faithfulness_sample,
        help="images the faithfulness checks use; 0 skips them (default: %(default)s)",
    )
    site = p.add_argument_group("the gallery")
    site.add_argument("--out", type=Path, default=defaults.out, help="output folder (default: %(default)s)")
    site.add_argument(
        "--neighbours",
        type=int,
        default=defaults.neighbours,
        help="similar images listed per image (default: %(default)s)",
    )
    site.add_argument(
        "--pages",
        type=_pages,
        default=defaults.pages,
        metavar="N|all",
        help="give pages to N images spread over the map, or to all; every image is on "
        "the map either way (default: %(default)s)",
    )
    site.add_argument("--seed", type=int, default=defaults.seed, help="random seed (default: %(default)s)")
    site.add_argument("--zip", action="store_true", help="also write the site as <out>.zip, ready to send")
    cluster = p.add_argument_group("a Dask cluster for the per-image stages (pip install 'aevis[dask]')")
    cluster.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="a running Dask scheduler, such as tcp://10.0.0.5:8786 (default: "
        "DASK_SCHEDULER_ADDRESS, if set); --cache-dir must be a folder every worker reaches",
    )
    cluster.add_argument("--workers", type=int, metavar="N", help="start a local Dask cluster of N worker processes")
    site.add_argument("--quiet", action="store_true", help="no progress bars")
    site.add_argument(
        "--verbose",
        action="store_true",
        help="also show TensorFlow's own log lines, which aevis otherwise keeps off the terminal",
    )
    return p


def config_from_arguments(argv: list[str] | None = None) -> BuildConfig:
    """Parse command-line arguments into a config; exits with status 2 on bad ones."""
    p = parser()
    arguments = p.parse_args(argv)
    values = vars(arguments)
    values["filters"] = tuple(values["filters"])
    values["methods"] = tuple(values["methods"])
    try:
        values["build_time"] = _source_date_epoch(os.environ.get("SOURCE_DATE_EPOCH"))
        if values["dask"] is None and values["workers"] is None:
            values["dask"] = os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        return BuildConfig(**values)
    except ValueError as error:
        p.error(str(error))


def _source_date_epoch(value: str | None) -> datetime | None:
    """``SOURCE_DATE_EPOCH`` (https://reproducible-builds.org/specs/source-date-epoch/), whole
    seconds since 1970 UTC, as a time; None where it is unset or empty."""
    if not value:
        return None
    try:
        if not (value.isascii() and value.isdigit()):
            raise ValueError
        return datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, got {value!r}.") from None


def main(argv: list[str] | None = None) -> int:
    """Run a build from the command line; return the exit status."""
    config = config_from_arguments(argv)
    signal.signal(signal.SIGTERM, _terminate)  # stopped as by Ctrl-C: staging removed, a line said
    with contextlib.nullcontext() if config.verbose else native_chatter_filtered():
        return _run(config)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the build is, so it unwinds as it does for Ctrl-C."""


def _terminate(signum, frame) -> None:
    raise _Terminated()


def _run(config: BuildConfig) -> int:
    # Imports TensorFlow: after argument errors, which are instant, and inside the log filter.
    from aevis.errors import AevisError
    from aevis.pipeline import build
    from aevis.progress import Stages

    stages = Stages(quiet=config.quiet)

    def terminate(signum, frame) -> None:
        stages.stop(_Terminated())  # in case the exception below is lost
        raise _Terminated()

    signal.signal(signal.SIGTERM, terminate)
    try:
        gallery = build(config, stages)
    except AevisError as error:
        print(f"aevis: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        how = "stopped (SIGTERM)" if isinstance(stop, _Terminated) else "interrupted"
        print(f"aevis: {how}; the previous site, if any, is untouched.", file=sys.stderr)
        return 128 + (signal.SIGTERM if isinstance(stop, _Terminated) else signal.SIGINT)
    stages.log(report_summary(gallery, config.out))
    stages.log("Stage timings:\n" + stages.summary())
    return 0


def report_summary(gallery, out: Path, shown: int = 10) -> str:
    """The end-of-build summary: counts, skipped files and flagged images, a line each."""
    imageset = gallery.imageset
    lines = [
        f"\nBuilt {len(gallery)} images ({int(gallery.with_page.sum())} with pages) into {out}/ "
        f"— open {out / urls.INDEX}",
    ]
    if imageset.rejected:
        lines.append(f"Skipped {len(imageset.rejected)} file(s):")
        lines += [f"  {reject.path}: {reject.reason}" for reject in imageset.rejected[:shown]]
        if len(imageset.rejected) > shown:
            lines.append(f"  … and {len(imageset.rejected) - shown} more (see {out / urls.REPORT})")
    if gallery.flags:
        lines.append(f"Flagged {len(gallery.flags)} image(s) with NaN or infinite values (see {out / urls.REPORT}).")
    lines += [f"Warning: {warning}" for warning in gallery.warnings]
    return "\n".join(lines)


def _pages(value: str) -> int | None:
    """``--pages``: a count, or 'all' (None: every image)."""
    if value == "all":
        return None
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'all', got {value!r}") from None
