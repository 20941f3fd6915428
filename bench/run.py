#!/usr/bin/env python3
"""Benchmark aevis against its peers on one model and one set of images, in one process.

    pip install -e '.[bench]'
    python bench/run.py                    # methods and t-SNE (a few minutes)
    python bench/run.py --build --scaling  # and the demo build (cold, warm, what it finds), at 3 sizes
    python bench/run.py --memory           # and a 10,000-image build's peak memory

Every figure is the median of ``--repeats`` runs; ours and the peer's runs alternate, so a
busy machine slows both alike, and every ratio is taken between figures of this one run.
Results are printed and written to BENCHMARKS.md at the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.manifold import TSNE, trustworthiness  # noqa: E402

from aevis.data.builtin import make_shapes  # noqa: E402
from aevis.latent import map as latent_map  # noqa: E402
from aevis.methods import explain  # noqa: E402
from aevis.model import load_autoencoder  # noqa: E402
from aevis.model.train import train_seed  # noqa: E402

# The methods' model: the seed architecture at its full 64x64x3, trained on 160 built-in shapes
# (the demo before it became the digits; colour images of the size people bring).
SIZE, FILTERS, EPOCHS, TRAIN_BATCH, SEED, SHAPES_COUNT = 64, (32, 64, 128, 256), 30, 32, 0, 160
# What the demo's page promises (issue 15): its codes group the digits, and its maps pass checks.
LABEL_AGREEMENT_AIM, RANDOMIZATION_AIM, QUALITY_K = 0.6, 0.5, 10
RANDOMIZATION_CHECKED = ("saliency", "integrated_gradients", "occlusion")
PATCH = 8  # tf-explain's occlusion has stride = patch; ours is set to match
SAMPLES, NOISE = 20, 0.15


@dataclass
class Row:
    """One line of a results table."""

    what: str
    ours: float  # seconds per unit
    peer: float | None
    peer_name: str
    unit: str
    target: str
    met: bool | None
    note: str = ""


def median_time(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def paired_times(ours, peer, repeats: int) -> tuple[float, float]:
    """Medians of ``ours()`` and ``peer()``, run alternately after one warm-up each."""
    ours(), peer()
    a, b = [], []
    for _ in range(repeats):
        for fn, bucket in ((ours, a), (peer, b)):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return float(np.median(a)), float(np.median(b))


def seed_model_file(cache_dir: Path) -> Path:
    """The methods' model file, trained as a build trains it (reused from the cache when there)."""
    images = make_shapes(SHAPES_COUNT, SIZE, seed=SEED)
    return train_seed(images.images, images.content_hash(), FILTERS, EPOCHS, TRAIN_BATCH, SEED, cache_dir).path


def trained_seed(cache_dir: Path):
    """The methods' model (:func:`seed_model_file`), loaded."""
    return load_autoencoder(seed_model_file(cache_dir), input_scale="0-1")  # aevis trained it on [0, 1]


def unit_codes(ae, images):
    codes = ae.encode(images)
    return codes / np.linalg.norm(codes, axis=1, keepdims=True)


# ---------------------------------------------------------------------------- the methods


def best_batch(ae, images, repeats: int) -> int:
    """The batch size at which the encoder's forward pass takes least time per image."""
    timings = {}
    for batch in (32, 64, 128, 256):
        x = tf.constant(np.resize(images, (batch, *images.shape[1:])))
        timings[batch] = median_time(lambda x=x: ae._encode_batch(x).numpy(), repeats) / batch
    return min(timings, key=timings.get)


def bench_occlusion(ae, images, repeats: int) -> list[Row]:
    from tf_explain.core.occlusion_sensitivity import OcclusionSensitivity

    count = len(images)
    positions = (SIZE // PATCH) ** 2
    floor_batch = best_batch(ae, images, repeats)
    # The floor runs as many forward passes as occlusion has copies, at the encoder's best
    # batch, on tensors already in place; timed alternately with ours, like the peers.
    floor_input = tf.constant(np.resize(images, (floor_batch, *images.shape[1:])))

    def run_floor():
        for _ in range(-(-count * positions // floor_batch)):
            ae._encode_batch(floor_input).numpy()

    # tf-explain scores model outputs at class_index and paints its patch with 127.5, so it
    # gets a model of 0-255 images whose one output is t = <z(x'), ẑ>; ẑ is set per image.
    pixels = keras.Input((SIZE, SIZE, 3))
    flat = keras.layers.Flatten()(ae.encoder(keras.layers.Rescaling(1 / 255)(pixels)))
    project = keras.layers.Dense(1, use_bias=False)
    scorer = keras.Model(pixels, project(flat))
    peer = OcclusionSensitivity()
    peer_maps = []

    def run_peer():
        peer_maps.clear()
        for image, unit in zip(images, unit_codes(ae, images)):  # ẑ counts in its time, as in ours
            project.set_weights([unit[:, None]])
            peer_maps.append(peer.get_sensitivity_map(scorer, image * 255, 0, PATCH))

    def run_ours(incremental=True):
        return explain(ae, images, "occlusion", patch=PATCH, stride=PATCH, fill=0.5, incremental=incremental)

    ours, theirs = paired_times(run_ours, run_peer, repeats)
    whole, floor = paired_times(lambda: run_ours(incremental=False), run_floor, repeats)
    ours_again, floor_again = paired_times(run_ours, run_floor, repeats)
    # Same scorer: tf-explain's map is 1 − t(occluded), ours t(x) − t(occluded), so the two
    # agree up to a constant per image (tf-explain then resizes its 8x8 grid bilinearly).
    agreement = _correlation(run_ours(), np.array(peer_maps), per_image_constant=True)
    exact = run_ours(incremental=False)
    difference = np.abs(run_ours() - exact).max() / np.abs(exact).max()
    per_floor, per_floor_again = floor / count, floor_again / count
    return [
        Row(
            "occlusion (patch 8, stride 8), batch_size 32",
            ours / count,
            theirs / count,
            "tf-explain OcclusionSensitivity",
            "s/image",
            "≥ 5× faster",
            theirs / ours >= 5,
            f"maps correlate {agreement:.3f}",
        ),
        Row(
            "occlusion, incremental inference (the default)",
            ours_again / count,
            per_floor_again,
            "forward floor",
            "s/image",
            "≤ 1.25× floor (stretch: below it)",
            ours_again <= 1.25 * floor_again,
            f"largest difference from whole copies: {difference:.1e} of the largest value",
        ),
        Row(
            "occlusion, whole occluded copies (incremental=False)",
            whole / count,
            per_floor,
            "forward floor",
            "s/image",
            "",
            None,
            f"the fallback for encoders that are not chains; floor = {positions} positions × "
            f"{per_floor / positions * 1e3:.3f} ms (encoder at batch {floor_batch})",
        ),
    ]


def bench_gradients(ae, images, repeats: int) -> list[Row]:
    from tf_keras_vis.saliency import Saliency

    count = len(images)
    peer = Saliency(ae.encoder, clone=False)  # a [0, 1] model: the encoder is the whole input side

    def peer_map(**options):
        unit = tf.constant(unit_codes(ae, images))  # ẑ counts in its time, as in ours

        def score(code):
            return tf.reduce_sum(tf.reshape(code, (len(images), -1)) * unit, axis=-1)

        return peer(score, images, normalize_map=False, **options)

    rows = []
    ours, theirs = paired_times(lambda: explain(ae, images, "saliency"), peer_map, repeats)
    agreement = _correlation(explain(ae, images, "saliency"), peer_map())
    rows.append(
        Row(
            "saliency",
            ours / count,
            theirs / count,
            "tf-keras-vis Saliency",
            "s/image",
            "at least as fast",
            theirs >= ours,
            f"maps correlate {agreement:.4f}",
        )
    )
    ours, theirs = paired_times(
        lambda: explain(ae, images, "smoothgrad", samples=SAMPLES, noise=NOISE),
        lambda: peer_map(smooth_samples=SAMPLES, smooth_noise=NOISE),
        repeats,
    )
    rows.append(
        Row(
            f"smoothgrad ({SAMPLES} samples, noise {NOISE})",
            ours / count,
            theirs / count,
            "tf-keras-vis Saliency(smooth_samples=20)",
            "s/image",
            "≥ 1.5× faster",
            theirs / ours >= 1.5,
            "noise differs: tf-keras-vis scales σ by each image's range",
        )
    )
    for method, options in (("integrated_gradients", {}), ("gradcam", {})):
        seconds = median_time(lambda method=method, options=options: explain(ae, images, method, **options), repeats)
        rows.append(Row(f"{method} (defaults)", seconds / count, None, "", "s/image", "", None))
    seconds = median_time(lambda: explain(ae, images, "occlusion"), repeats)
    rows.append(Row("occlusion (defaults: patch 8, stride 4)", seconds / count, None, "", "s/image", "", None))
    return rows


def _correlation(a, b, per_image_constant: bool = False) -> float:
    """Pearson correlation of two stacks of maps; optionally each map's mean removed first."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if per_image_constant:
        a = a - a.mean(axis=(1, 2), keepdims=True)
        b = b - b.mean(axis=(1, 2), keepdims=True)
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


# ---------------------------------------------------------------------------- t-SNE


def bench_tsne(ae, sizes: list[int], repeats: int) -> tuple[list[Row], list[str]]:
    """Our tsne_map (openTSNE, PCA included in its time) against scikit-learn's default TSNE
    (1,000 iterations, Barnes-Hut) on the same 50 principal components."""
    codes = ae.encode(make_shapes(max(sizes), SIZE, seed=SEED + 2).images)
    rows, quality = [], []
    for size in sizes:
        subset = codes[:size]
        reduced = PCA(n_components=latent_map.PCA_DIMENSIONS, random_state=0).fit_transform(subset)
        embeddings = {}

        def ours(subset=subset, embeddings=embeddings):
            embeddings["ours"] = latent_map.tsne_map(subset, seed=0)  # PCA included in our time

        def peer(reduced=reduced, embeddings=embeddings):
            embeddings["peer"] = TSNE(random_state=0).fit_transform(reduced)

        mine, theirs = paired_times(ours, peer, repeats)
        trust = {name: trustworthiness(subset, value, n_neighbors=10) for name, value in embeddings.items()}
        limit = 10.0 if size == 10_000 else None
        rows.append(
            Row(
                f"t-SNE of {size:,} codes",
                mine,
                theirs,
                "scikit-learn TSNE()",
                "s",
                "≤ 10 s" if limit else "",
                mine <= limit if limit else None,
                f"ours openTSNE, {latent_map.TSNE_ITERATIONS} iterations; "
                f"trustworthiness@10 {trust['ours']:.3f} (scikit-learn {trust['peer']:.3f})",
            )
        )
        quality.append(f"{size}: ours {trust['ours']:.4f}, scikit-learn default {trust['peer']:.4f}")
    return rows, quality


# ---------------------------------------------------------------------------- builds


@dataclass
class Build:
    """One ``generate.py`` run: wall seconds, peak resident memory, its own stage timings."""

    seconds: float
    peak_rss_gb: float
    stages: dict[str, float]


# The build runs under this small launcher, which reports its child's peak RSS: measured from
# the bench itself, the figure would start at the bench's own size, since Linux carries a
# process's peak across the exec that follows a fork.
_LAUNCHER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
print(f"peak_rss_kib={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""


def timed_build(out: Path, cache: Path, *extra: str) -> Build:
    command = [sys.executable, "generate.py", "--out", str(out), "--cache-dir", str(cache), "--quiet", *extra]
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", _LAUNCHER, *command], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if run.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{run.stderr[-2000:]}")
    printed, _, peak = run.stderr.rpartition("peak_rss_kib=")
    return Build(seconds, int(peak) / 2**20, stage_timings(printed))


def stage_timings(printed: str) -> dict[str, float]:
    """Stage name -> seconds, from the "Stage timings:" table a build prints last."""
    stages = {}
    for line in printed.split("Stage timings:")[-1].splitlines():
        name, _, unit = line.strip().rpartition(" ")
        if unit == "s":
            name, _, value = name.strip().rpartition(" ")
            stages[name.strip()] = float(value)
    return stages


def _stage_note(stages: dict[str, float], names: tuple[str, ...]) -> str:
    return "; ".join(f"{name.lower()} {stages[name]:.1f} s" for name in names if name in stages)


_SLOW_STAGES = (
    "Training the autoencoder",
    "Finding neighbours and drawing the map (t-SNE)",
    "Explaining and drawing",
    "Checking faithfulness",
)


def bench_build(scratch: Path, repeats: int) -> tuple[list[Row], Path]:
    """The demo build ``repeats`` times from a fresh cache (median), then once warm; the rows and
    the median cold build's site."""
    colds = sorted(
        ((timed_build(scratch / f"site-cold-{n}", scratch / f"cache-demo-{n}"), n) for n in range(repeats)),
        key=lambda run: run[0].seconds,
    )
    cold, number = colds[len(colds) // 2]
    warm = timed_build(scratch / "site-warm", scratch / f"cache-demo-{number}")
    runs = ", ".join(f"{run.seconds:.1f}" for run, _ in colds)
    return [
        Row(
            "demo build, cold (trains the model)",
            cold.seconds,
            None,
            "",
            "s",
            "≤ 120 s",
            cold.seconds <= 120,
            f"median of {repeats} ({runs} s); peak RSS {cold.peak_rss_gb:.2f} GB; "
            + _stage_note(cold.stages, _SLOW_STAGES),
        ),
        Row(
            "demo build, warm (model and results cached)",
            warm.seconds,
            None,
            "",
            "s",
            "≤ 10 % of cold",
            warm.seconds <= 0.1 * cold.seconds,
            f"{warm.seconds / cold.seconds:.1%} of cold",
        ),
    ], scratch / f"site-cold-{number}"


def label_agreement(vectors: np.ndarray, labels: np.ndarray, k: int = QUALITY_K) -> float:
    """Share of each row's k nearest rows (cosine, brute force) that have its label."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    return float(np.mean(labels[nearest] == labels[:, None]))


def demo_findings(site: Path) -> list[Row]:
    """What the demo site shows, recomputed from its exported codes: the label agreement against
    chance and raw pixels, and each method's faithfulness figures against their aims."""
    from aevis.data.builtin import make_digits

    manifest = json.loads((site / "data" / "manifest.json").read_text())
    labels = np.array([record["label"] for record in manifest["images"]])
    codes = np.load(site / "data" / "codes.npy").astype(np.float64)
    agreement = label_agreement(codes, labels)
    counts = np.unique(labels, return_counts=True)[1]
    chance = float(np.sum(counts * (counts - 1)) / (len(labels) * (len(labels) - 1)))
    size = manifest["model"]["input"]["height"]
    pixels = make_digits(len(labels), size, channels=1).images[:].reshape(len(labels), -1).astype(np.float64)
    quality = manifest["map_quality"]
    rows = [
        Row(
            f"label agreement of the codes ({QUALITY_K} nearest, cosine), from data/codes.npy",
            agreement,
            None,
            "",
            "share",
            f"≥ {LABEL_AGREEMENT_AIM}",
            agreement >= LABEL_AGREEMENT_AIM,
            f"chance {chance:.3f}; raw pixels {label_agreement(pixels, labels):.3f}; on the map "
            f"{quality['label_agreement_map']:.3f}; map trustworthiness {quality['trustworthiness']:.3f}",
        )
    ]
    for method, figures in manifest["faithfulness"].items():
        deletion, random, rho = (
            figures["deletion_auc"],
            figures["random_deletion_auc"],
            figures["randomization_spearman"],
        )
        checked = method in RANDOMIZATION_CHECKED
        rows.append(
            Row(
                f"{method}: deletion AUC",
                deletion,
                None,
                "",
                "share",
                f"below random{f', ρ < {RANDOMIZATION_AIM}' if checked else ''}",
                deletion < random and (rho < RANDOMIZATION_AIM or not checked),
                f"random order {random:.3f}; randomization ρ {rho:.3f}" + ("" if checked else " (reported, no aim)"),
            )
        )
    return rows


def bench_scaling(scratch: Path, counts: list[int], page_share: float, epochs: int) -> list[Row]:
    """Cold builds at each size, a page for ``page_share`` of the images, and a warm rebuild."""
    rows = []
    for count in counts:
        cache = scratch / f"cache-{count}"
        pages = max(1, round(count * page_share))
        options = ("--dataset", "shapes", "--count", str(count), "--pages", str(pages), "--epochs", str(epochs))
        cold = timed_build(scratch / f"site-{count}-cold", cache, *options)
        warm = timed_build(scratch / f"site-{count}-warm", cache, *options)
        what = f"{count:,} images, {pages} pages, --epochs {epochs}"
        rows.append(
            Row(
                f"build, {what}, cold",
                cold.seconds,
                None,
                "",
                "s",
                "",
                None,
                f"{cold.seconds / count * 1e3:.0f} ms/image; peak RSS {cold.peak_rss_gb:.2f} GB; "
                + _stage_note(cold.stages, _SLOW_STAGES),
            )
        )
        rows.append(
            Row(
                f"build, {what}, warm",
                warm.seconds,
                None,
                "",
                "s",
                "",
                None,
                f"{warm.seconds / cold.seconds:.1%} of cold",
            )
        )
    return rows


def site_bytes(site: Path) -> int:
    """What publishing ``site`` uploads: the sizes of its files (a picture linked from the
    cache counts in full)."""
    return sum(path.stat().st_size for path in site.rglob("*") if path.is_file())


def bench_large(scratch: Path, model: Path, counts: list[int], page_share: float) -> tuple[list[Row], list[str]]:
    """The issue-12 curve: a given 64×64×3 model (no training) on ``counts`` built-in shapes,
    a page for ``page_share`` of them; cold, then warm. Rows, and a note naming the stage whose
    time per image grew most between the two largest sizes."""
    rows, stage_times = [], {}
    for count in counts:
        cache = scratch / f"cache-large-{count}"
        pages = max(1, round(count * page_share))
        options = ("--model", str(model), "--dataset", "shapes", "--count", str(count), "--pages", str(pages))
        cold = timed_build(scratch / f"site-large-{count}", cache, *options)
        size = site_bytes(scratch / f"site-large-{count}")
        warm = timed_build(scratch / f"site-large-{count}-warm", cache, *options)
        stage_times[count] = cold.stages
        what = f"{count:,} images, {pages:,} pages, given model"
        rows.append(
            Row(
                f"build, {what}, cold",
                cold.seconds,
                None,
                "",
                "s",
                "≤ 15 min, ≤ 3 GB, site ≤ 1 GB" if count == 100_000 else "",
                (cold.seconds <= 900 and cold.peak_rss_gb <= 3 and size <= 1e9) if count == 100_000 else None,
                f"{cold.seconds / count * 1e3:.1f} ms/image; peak RSS {cold.peak_rss_gb:.2f} GB; "
                f"site {size / 1e6:.0f} MB ({size / count / 1e3:.1f} kB/image); "
                + _stage_note(
                    cold.stages, _SLOW_STAGES + ("Encoding and rebuilding", "Writing thumbnails", "Writing pages")
                ),
            )
        )
        slowest = sorted(
            ((name, seconds) for name, seconds in warm.stages.items() if name != "total"), key=lambda item: -item[1]
        )[:3]
        rows.append(
            Row(
                f"build, {what}, warm",
                warm.seconds,
                None,
                "",
                "s",
                "≤ 10 % of cold",
                warm.seconds <= 0.1 * cold.seconds,
                f"{warm.seconds / cold.seconds:.1%} of cold; peak RSS "
                f"{warm.peak_rss_gb:.2f} GB; "
                + "; ".join(f"{name.lower()} {seconds:.1f} s" for name, seconds in slowest),
            )
        )
        _print(rows[-2:])
    notes = []
    if len(counts) >= 2:
        small, large = sorted(counts)[-2:]
        growth = {
            name: (stage_times[large][name] / large) / max(stage_times[small][name] / small, 1e-9)
            for name in stage_times[large]
            if name in stage_times[small] and stage_times[small][name] > 0.05
        }
        fastest = max(growth, key=growth.get)
        notes.append(
            f"From {small:,} to {large:,} images the stage whose time per image grew most is "
            f"'{fastest}' (×{growth[fastest]:.2f} per image; "
            f"{stage_times[small][fastest]:.1f} s → {stage_times[large][fastest]:.1f} s)."
        )
    return rows, notes


def bench_memory(scratch: Path, count: int, pages: int) -> list[Row]:
    """Peak RSS of a large cold build (one training epoch), against the 3 GB bound."""
    cold = timed_build(
        scratch / "site-large",
        scratch / "cache-large",
        "--dataset",
        "shapes",
        "--count",
        str(count),
        "--pages",
        str(pages),
        "--epochs",
        "1",
    )
    return [
        Row(
            f"build, {count:,} images, {pages} pages, --epochs 1, cold: peak RSS {cold.peak_rss_gb:.2f} GB",
            cold.seconds,
            None,
            "",
            "s",
            "peak RSS < 3 GB",
            cold.peak_rss_gb < 3,
            _stage_note(cold.stages, _SLOW_STAGES),
        )
    ]


# ---------------------------------------------------------------------------- report


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for package in ("tensorflow", "keras", "numpy", "scikit-learn", "openTSNE", "tf-explain", "tf-keras-vis"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores visible",
        f"Python {platform.python_version()} on {platform.platform()}",
        "Versions: " + ", ".join(versions),
    ]


def _seconds(value: float, unit: str) -> str:
    if unit == "share":
        return f"{value:.3f}"
    if unit == "s/image":
        return f"{value * 1e3:.2f} ms/image"
    return f"{value:.1f} s"


def render(sections: dict[str, list[Row]], info: list[str], notes: list[str]) -> str:
    lines = ["# Benchmarks", "", "Written by `python bench/run.py` (see bench/README.md); one run, medians.", ""]
    lines += [f"- {item}" for item in info] + [""]
    for title, rows in sections.items():
        if not rows:
            continue
        lines += [
            f"## {title}",
            "",
            "| what | aevis | peer | ratio | target | met | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in rows:
            peer = f"{_seconds(row.peer, row.unit)} ({row.peer_name})" if row.peer is not None else ""
            ratio = ""
            if row.peer is not None:
                ratio = (
                    f"{row.ours / row.peer:.2f}× the floor"
                    if row.peer_name == "forward floor"
                    else f"{row.peer / row.ours:.2f}× faster"
                )
            met = "" if row.met is None else ("yes" if row.met else "**no**")
            lines.append(
                f"| {row.what} | {_seconds(row.ours, row.unit)} | {peer} | {ratio} | {row.target} | {met} | {row.note} |"
            )
        lines.append("")
    if notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in notes] + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32, help="images explained per timed call (default 32)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure (default 5)")
    parser.add_argument("--tsne-sizes", type=int, nargs="*", default=[2000, 10000])
    parser.add_argument("--tsne-repeats", type=int, default=3)
    parser.add_argument("--build", action="store_true", help="time the demo build, cold and warm")
    parser.add_argument("--build-repeats", type=int, default=3, help="cold demo builds timed (default 3)")
    parser.add_argument("--scaling", action="store_true", help="time builds at --scaling-counts images")
    parser.add_argument("--scaling-counts", type=int, nargs="*", default=[250, 1000, 4000])
    parser.add_argument(
        "--scaling-page-share",
        type=float,
        default=0.1,
        help="share of the images that get a page in the scaling builds (default 0.1)",
    )
    parser.add_argument("--scaling-epochs", type=int, default=2, help="training epochs of the scaling builds")
    parser.add_argument("--memory", action="store_true", help="time a 10,000-image build and its peak RSS")
    parser.add_argument(
        "--large",
        type=int,
        nargs="*",
        default=None,
        metavar="COUNT",
        help="build these many shapes with the methods' model, no training (e.g. 1000 10000 30000 100000)",
    )
    parser.add_argument(
        "--large-page-share", type=float, default=0.01, help="share of pages in those builds (default 0.01)"
    )
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".aevis-cache", help="where the model is trained once")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)

    keras.utils.disable_interactive_logging()  # tf-explain calls predict() with Keras's progress bars
    info = machine()
    load_before = os.getloadavg()
    ae = trained_seed(args.cache_dir)
    images = make_shapes(args.images, SIZE, seed=SEED + 1).images[:]  # not the training images
    sections: dict[str, list[Row]] = {}
    notes: list[str] = []
    sections["Occlusion"] = bench_occlusion(ae, images, args.repeats)
    _print(sections["Occlusion"])
    sections["Gradients"] = bench_gradients(ae, images, args.repeats)
    _print(sections["Gradients"])
    if args.tsne_sizes:
        sections["t-SNE"], _ = bench_tsne(ae, args.tsne_sizes, args.tsne_repeats)
        _print(sections["t-SNE"])
    with tempfile.TemporaryDirectory() as scratch:
        if args.build:
            sections["Demo build (python generate.py, fresh cache)"], site = bench_build(
                Path(scratch), args.build_repeats
            )
            _print(sections["Demo build (python generate.py, fresh cache)"])
            sections["What the demo shows (its median cold build)"] = demo_findings(site)
            _print(sections["What the demo shows (its median cold build)"])
        if args.scaling:
            sections["Scaling"] = bench_scaling(
                Path(scratch), args.scaling_counts, args.scaling_page_share, args.scaling_epochs
            )
            _print(sections["Scaling"])
        if args.memory:
            sections["Memory"] = bench_memory(Path(scratch), 10_000, 300)
            _print(sections["Memory"])
        if args.large:
            model = seed_model_file(args.cache_dir)
            sections["Large sets (a given model, no training)"], large_notes = bench_large(
                Path(scratch), model, args.large, args.large_page_share
            )
            notes += large_notes
    load_after = os.getloadavg()
    info.append(
        f"Load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after; "
        f"{args.images} images per method call, {args.repeats} repeats"
    )
    info.append(
        "Methods' model: the seed architecture (64×64×3, filters 32/64/128/256) trained as a build trains "
        "it, on 160 built-in shapes; the demo build trains its own, on 500 digits at 32×32×1"
    )
    args.out.write_text(render(sections, info, notes))
    print(f"wrote {args.out}")
    return 0


def _print(rows: list[Row]) -> None:
    for row in rows:
        peer = "" if row.peer is None else f"  peer {_seconds(row.peer, row.unit)}"
        met = "" if row.met is None else f"  [{'met' if row.met else 'NOT met'}: {row.target}]"
        print(f"{row.what:55s} {_seconds(row.ours, row.unit)}{peer}{met}  {row.note}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
