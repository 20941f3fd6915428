#!/usr/bin/env python3
"""Peak memory of builds with large inputs and large codes (issue 21), with default options.

    python bench/large_inputs.py                 # both cases, prints the table
    python bench/large_inputs.py --cap-gb 8      # stop a build that passes 8 GB (default 9)

Two models, made here and briefly trained (one epoch on their own images), as a stranger's
might be:

- a 540×540×1 document denoiser, Conv2D(32) at full size → a strided Conv2D(16) code of
  270×270×16 = 1,166,400 numbers → Conv2DTranspose(32) → Conv2D(1), on 30 grey documents;
- a 256×256×3 one of the same shape (a 128×128×16 = 262,144-number code), on 60 colour photos
  of shapes.

Each build is ``python generate.py --model M --images DIR`` (nothing else but the output and
cache folders), in a child process, with a fresh cache. Peak RSS is the child's own high-water
mark (``VmHWM`` of /proc), read while it runs; a build that passes ``--cap-gb`` is stopped (the
machine is shared) and reported as such, with the last stage it printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@dataclass(frozen=True)
class Case:
    name: str
    size: int
    channels: int
    count: int


CASES = (
    Case("540×540×1 document denoiser, 1,166,400-number code", 540, 1, 30),
    Case("256×256×3 autoencoder, 262,144-number code", 256, 3, 60),
)


def make_images(case: Case, folder: Path) -> None:
    """``case.count`` PNGs: grey pages with lines of dark 'words' and speckle, or coloured shapes."""
    import numpy as np
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for number in range(case.count):
        if case.channels == 1:
            page = Image.new("L", (case.size, case.size), int(rng.integers(200, 250)))
            draw = ImageDraw.Draw(page)
            for top in range(20, case.size - 20, 24):
                left = 20
                while left < case.size - 60:
                    width = int(rng.integers(10, 50))
                    draw.rectangle([left, top, left + width, top + 12], fill=int(rng.integers(10, 80)))
                    left += width + int(rng.integers(6, 14))
            pixels = np.asarray(page, np.float32) + rng.normal(0, 12, (case.size, case.size))
            picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        else:
            picture = Image.new("RGB", (case.size, case.size), tuple(int(v) for v in rng.integers(0, 255, 3)))
            draw = ImageDraw.Draw(picture)
            for _ in range(6):
                x, y = rng.integers(0, case.size - 40, 2)
                side = int(rng.integers(20, case.size // 2))
                shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
                shape(
                    [int(x), int(y), int(x) + side, int(y) + side], fill=tuple(int(v) for v in rng.integers(0, 255, 3))
                )
        picture.save(folder / f"image-{number:03d}.png")


def make_model(case: Case, images: Path, path: Path) -> None:
    """The case's autoencoder, trained one epoch on its images, saved to ``path``."""
    import keras
    import numpy as np
    from keras import layers
    from PIL import Image

    keras.utils.set_random_seed(0)
    image = keras.Input((case.size, case.size, case.channels))
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(image)
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2D(case.channels, 3, padding="same", activation="sigmoid")(x)
    model = keras.Model(image, x)
    model.compile("adam", "mse")
    pixels = np.stack([np.asarray(Image.open(file), np.float32) / 255 for file in sorted(images.glob("*.png"))])
    pixels = pixels.reshape(len(pixels), case.size, case.size, case.channels)
    model.fit(pixels, pixels, epochs=1, batch_size=4, verbose=0)
    model.save(path)


def watched_build(model: Path, images: Path, scratch: Path, cap_gb: float) -> tuple[float, float, bool, str]:
    """Seconds, peak RSS (GB), whether it finished, and the last lines it printed."""
    log = scratch / "build.log"
    command = [
        sys.executable,
        "generate.py",
        "--model",
        str(model),
        "--images",
        str(images),
        "--out",
        str(scratch / "site"),
        "--cache-dir",
        str(scratch / "cache"),
        "--quiet",
    ]
    start = time.perf_counter()
    with open(log, "w") as out:
        child = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        peak, stopped = 0.0, False
        while child.poll() is None:
            peak = max(peak, _high_water_gb(child.pid))
            if _resident_gb(child.pid) > cap_gb:
                child.kill()
                stopped = True
            time.sleep(0.05)
    seconds = time.perf_counter() - start
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-12:])
    return seconds, peak, child.returncode == 0 and not stopped, tail


def _status_gb(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError):
        pass
    return 0.0


def _high_water_gb(pid: int) -> float:
    return _status_gb(pid, "VmHWM")


def _resident_gb(pid: int) -> float:
    return _status_gb(pid, "VmRSS")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap-gb", type=float, default=9.0, help="stop a build whose RSS passes this (default 9)")
    parser.add_argument("--only", choices=("540", "256"), help="run one case")
    parser.add_argument("--keep", type=Path, help="keep the models, images and sites in this folder")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        base = args.keep or Path(temporary)
        for case in CASES:
            if args.only and not case.name.startswith(args.only):
                continue
            scratch = base / f"case-{case.size}"
            images, model = scratch / "images", scratch / "model.keras"
            if not model.exists():
                make_images(case, images)
                _make_model_in_child(case, images, model)
            seconds, peak, finished, tail = watched_build(model, images, scratch, args.cap_gb)
            outcome = (
                "built" if finished else f"stopped at the {args.cap_gb:g} GB cap" if peak >= args.cap_gb else "failed"
            )
            rows.append(
                f"| {case.name}, {case.count} images, default options | {peak:.2f} GB | {seconds:.0f} s | {outcome} |"
            )
            print(rows[-1], flush=True)
            if not finished:
                print(tail, flush=True)
    print("\n| build | peak RSS | time | outcome |\n|---|---|---|---|")
    print("\n".join(rows))
    return 0


def _make_model_in_child(case: Case, images: Path, model: Path) -> None:
    """Train in a child process, so this one never imports TensorFlow."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); import large_inputs as b; "
        f"b.make_model(b.Case(*{(case.name, case.size, case.channels, case.count)!r}), "
        f"b.Path({str(images)!r}), b.Path({str(model)!r}))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


if __name__ == "__main__":
    sys.exit(main())
