#!/usr/bin/env python3
""" "Taught by" (TracIn over training checkpoints, issue 25): what it finds on the digits demo, and
what it costs as the set grows.

    python bench/taught_by.py --demo SITE          # the label-share table of a built demo site
    python bench/taught_by.py --sizes 1000 3000 9000   # the stage's time at each size

``--demo`` reads a site built by ``python generate.py`` (500 digits, the seed trained here): its
manifest's ``taught_by.label_share``, recomputed from ``data/taught_by.npz`` and the labels.
``--sizes`` times the stage alone (:func:`aevis.latent.taught_by.taught_by`: one gradient per
image and checkpoint, projected, then each paged image's ranking) on that many built-in shapes at
32×32, grey as the digits, with the demo's seed architecture and three checkpoints, a page for
1 in 100 images; the time per image should stay flat if the stage is linear.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import keras
import numpy as np

from aevis.data.builtin import make_shapes
from aevis.latent.label_share import label_shares
from aevis.latent.taught_by import taught_by
from aevis.model.seed import build_seed_autoencoder
from aevis.model.train import Checkpoints


def demo(site: Path) -> None:
    manifest = json.loads((site / "data" / "manifest.json").read_text())
    taught = manifest["taught_by"]
    labels = [record["label"] for record in manifest["images"]]
    with np.load(site / "data" / manifest["files"]["taught_by"]) as stored:
        recomputed = label_shares(stored["scores"], stored["rows"], labels)
    print(
        f"{len(labels)} images, checked on {taught['label_share_images']}; checkpoints at epochs "
        f"{taught['checkpoint_epochs']}, k = {taught['projection_dimensions']}"
    )
    print("| M | top-M same label | bottom-M same label | chance | holds |")
    print("|---|---|---|---|---|")
    for recorded, again in zip(taught["label_share"], recomputed):
        assert abs(recorded["top"] - again.top) < 1e-6 and abs(recorded["bottom"] - again.bottom) < 1e-6
        print(
            f"| {recorded['fraction']:.0%} ({recorded['count']}) | {recorded['top']:.1%} | {recorded['bottom']:.1%} "
            f"| {recorded['chance']:.1%} | {'yes' if again.holds else 'no'} |"
        )


def sizes(counts: list[int]) -> None:
    keras.utils.set_random_seed(0)
    model = build_seed_autoencoder((32, 32, 1), (32, 64, 128, 256))
    weights = model.get_weights()
    # Three checkpoints: the cost does not depend on the weights' values, only on their count.
    checkpoints = Checkpoints((10, 20, 30), (1e-3,) * 3, (weights, weights, weights), "bench")
    print("| images | seconds | ms per image and checkpoint | peak RSS (GB) |")
    print("|---|---|---|---|")
    for count in counts:
        images = make_shapes(count, 32, seed=1).images[:].mean(axis=-1, keepdims=True).astype(np.float32)
        rows = np.arange(0, count, 100)
        start = time.perf_counter()
        taught_by(model, "encoded", checkpoints, images, rows, 32)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"| {count:,} | {seconds:.1f} | {1000 * seconds / count / 3:.2f} | {peak:.2f} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", type=Path, help="a site built by generate.py (the digits demo)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[], help="set sizes to time the stage at")
    arguments = parser.parse_args()
    if arguments.demo:
        demo(arguments.demo)
    if arguments.sizes:
        sizes(arguments.sizes)
