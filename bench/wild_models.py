#!/usr/bin/env python3
"""Try aevis, as a new user would, on a folder of autoencoder files taken from public repositories.

    python bench/wild_models.py FOLDER [--count 30] [--memory-cap-gb 6] [--out /tmp/aevis-wild]

Each model file in FOLDER (any name: aevis knows files by content) is built with default
options by ``generate.py`` in its own process, on ``--count`` built-in images of the model's
size (digits where the input is square, drawn shapes in a folder otherwise). A file whose name
has "encoder" where another's has "decoder" is built with it as ``--encoder``/``--decoder``. A
file named ``<model file>.py`` beside a model is its owner's module, passed with
``--custom-objects``. A refusal that names ``--trust-model`` is followed: the build runs again
with it, as the user would.
A ``sources.json`` in FOLDER, ``{"file name": "owner/repo path@commit"}``, names where each
came from. The table printed at the end gives, for each file, what saved it, its input, and
either the code layer and pixel range found, or the one sentence aevis refused it with; with
the time and peak memory of the build. A build whose memory passes ``--memory-cap-gb`` is
stopped, so a model too large for the machine cannot take it down.

The files are strangers' and are not kept in this repository; BENCHMARKS.md lists the ones
used and what came out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import h5py  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from aevis.data.builtin import make_shapes  # noqa: E402
from aevis.errors import AevisError  # noqa: E402
from aevis.model.files import import_custom_objects, load_model_file  # noqa: E402
from aevis.model.legacy import file_kind  # noqa: E402

NOT_MODELS = {".py", ".json", ".md", ".txt", ".npz", ".npy"}


@dataclass
class Outcome:
    """What one model file came to."""

    name: str
    saved_by: str
    shape: str
    result: str
    seconds: float
    peak_gb: float


def saved_by(path: Path) -> str:
    """'Keras 2.4.0, HDF5' from the file's own record of what wrote it."""
    kind = file_kind(path)
    version = "?"
    if kind == "hdf5":
        with h5py.File(path, "r") as saved:
            version = saved.attrs.get("keras_version", b"?")
            version = version.decode() if hasattr(version, "decode") else str(version)
    elif kind == "zip":
        with zipfile.ZipFile(path) as archive:
            if "metadata.json" in archive.namelist():
                version = json.loads(archive.read("metadata.json")).get("keras_version", "?")
    return f"Keras {version}, {kind or 'neither HDF5 nor zip'}"


def input_shape(path: Path, custom: Path | None) -> tuple[int, ...] | None:
    """The model's input shape, (height, width, channels), or None when it does not load here."""
    try:
        objects = import_custom_objects(custom) if custom else None
        model = load_model_file(path, objects, safe_mode=True)
        return tuple(model.inputs[0].shape[1:])
    except (AevisError, AttributeError, IndexError):
        return None


def shapes_folder(folder: Path, shape: tuple[int, int, int], count: int) -> Path:
    """``count`` drawn shapes as PNGs at the model's (height, width), grey or colour."""
    height, width, channels = shape
    folder.mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(make_shapes(count, max(height, width), seed=0).images):
        picture = Image.fromarray(np.round(image * 255).astype(np.uint8)).resize((width, height))
        (picture.convert("L") if channels == 1 else picture).save(folder / f"shape-{index:03d}.png")
    return folder


def run_capped(command: list[str], cap_gb: float, timeout: float) -> tuple[int | None, str, float, float, bool]:
    """Run ``command``; (status, None when it ran out of time; stderr, seconds, peak RSS in GB,
    stopped for memory)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    peak, stopped = 0, threading.Event()

    def watch() -> None:
        nonlocal peak
        while child.poll() is None:
            try:
                status = Path(f"/proc/{child.pid}/status").read_text()
            except OSError:
                return
            rss = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS")), 0)
            peak = max(peak, rss)
            if rss > cap_gb * 1e9:
                stopped.set()
                child.kill()
                return
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    timed_out = False
    try:
        _, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        child.kill()
        _, err = child.communicate()
    watcher.join()
    return None if timed_out else child.returncode, err, time.perf_counter() - start, peak / 1e9, stopped.is_set()


def try_model(
    path: Path, decoder: Path | None, custom: Path | None, count: int, work: Path, cap_gb: float, timeout: float
) -> Outcome:
    """Build ``path`` (with ``decoder``, as a pair) as a user would; follow a --trust-model refusal."""
    shape = input_shape(path, custom)
    model = ["--encoder", str(path), "--decoder", str(decoder)] if decoder else ["--model", str(path)]
    command = [
        sys.executable,
        str(ROOT / "generate.py"),
        *model,
        "--out",
        str(work / "site"),
        "--cache-dir",
        str(work / "cache"),
        "--quiet",
    ]
    if custom:
        command += ["--custom-objects", str(custom)]
    if shape and len(shape) == 3 and shape[0] != shape[1] and None not in shape:
        command += ["--images", str(shapes_folder(work / "images", shape, count))]
    else:
        command += ["--count", str(count)]
    result, seconds, peak = _build(command, cap_gb, timeout)
    if "--trust-model" in result and result.startswith("refused"):
        again, seconds, peak = _build([*command, "--trust-model"], cap_gb, timeout)
        result += f" Then with --trust-model: {again}"
    name = f"{path.name} + {decoder.name}" if decoder else path.name
    return Outcome(name, saved_by(path), "×".join(map(str, shape)) if shape else "?", result, seconds, peak)


def _build(command: list[str], cap_gb: float, timeout: float) -> tuple[str, float, float]:
    """(what came of it, seconds, peak RSS in GB) for one ``generate.py`` run."""
    status, err, seconds, peak, stopped = run_capped(command, cap_gb, timeout)
    lines = [line for line in err.splitlines() if line.strip()]
    if stopped:
        return f"stopped at {cap_gb:g} GB (memory cap)", seconds, peak
    if status is None:
        return f"stopped after {timeout:g} s (time limit)", seconds, peak
    if status == 0:
        found = [line.split(" (")[0] for line in lines if line.startswith(("Code layer", "Pixel values"))]
        notes = [line for line in lines if "holds HDF5" in line or "left out" in line or line.startswith("Warning")]
        return "built: " + "; ".join(dict.fromkeys(found + notes)), seconds, peak  # the summary repeats warnings
    refusal = next((line for line in lines if line.startswith("aevis: ")), lines[-1] if lines else "")
    return f"refused (exit {status}): {refusal.removeprefix('aevis: ')}", seconds, peak


def _decoder_of(path: Path) -> Path:
    """The file named as ``path`` with its last "encoder" made "decoder" ("autoencoder_encoder.h5")."""
    head, found, tail = path.name.rpartition("encoder")
    return path.with_name(head + "decoder" + tail) if found else path


def table(outcomes: list[Outcome], sources: dict[str, str]) -> str:
    rows = [
        "| file | source | saved by | input | result | time (s) | peak RSS (GB) |",
        "|---|---|---|---|---|---:|---:|",
    ]
    for outcome in outcomes:
        cells = [
            outcome.name,
            sources.get(outcome.name, ""),
            outcome.saved_by,
            outcome.shape,
            outcome.result.replace("|", "\\|"),
            f"{outcome.seconds:.0f}",
            f"{outcome.peak_gb:.2f}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="model files, with <model file>.py modules and sources.json")
    parser.add_argument("--count", type=int, default=30, help="images per build (default: %(default)s)")
    parser.add_argument("--memory-cap-gb", type=float, default=6.0, help="stop a build past this RSS")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per build (default: %(default)s)")
    parser.add_argument("--only", nargs="*", help="only these file names")
    arguments = parser.parse_args()
    folder = arguments.folder.resolve()
    sources_file = folder / "sources.json"
    sources = json.loads(sources_file.read_text()) if sources_file.is_file() else {}
    models = sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.suffix not in NOT_MODELS and not path.name.startswith(".")
    )
    decoders = {path: _decoder_of(path) for path in models if path != _decoder_of(path) in models}
    if arguments.only:
        models = [path for path in models if path.name in arguments.only]
    outcomes = []
    for path in models:
        if path in decoders.values():
            continue  # built with its encoder
        custom = folder / f"{path.name}.py"
        with tempfile.TemporaryDirectory(prefix="aevis-wild-") as work:
            outcome = try_model(
                path,
                decoders.get(path),
                custom if custom.is_file() else None,
                arguments.count,
                Path(work),
                arguments.memory_cap_gb,
                arguments.timeout,
            )
        print(f"{outcome.name}: {outcome.result} ({outcome.seconds:.0f} s, {outcome.peak_gb:.2f} GB)", flush=True)
        outcomes.append(outcome)
    print()
    print(table(outcomes, sources))


if __name__ == "__main__":
    main()
