"""Each Keras backend's speed on the five methods, beside TensorFlow's, in one run.

    python bench/backends.py [--images 32] [--repeats 3] [--backends tensorflow jax torch]

A model of the seed architecture at 64×64×3 (filters 32/64/128/256; its weights do not change
the time) is saved once under TensorFlow, then each backend runs in a process of its own on the
same 32 built-in shapes: encoding, and each method's maps at the build's default options, each
timed after one untimed call (JAX compiles there) as the median of ``--repeats``. The ratio is
the backend's median over TensorFlow's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = 64


def measure(model: str, images: str, repeats: int) -> dict[str, float]:
    """Median seconds of encoding and of each method, on the backend this process runs."""
    import numpy as np

    import aevis
    from aevis.methods import explain
    from aevis.methods.registry import TARGET_METHODS

    ae = aevis.load_autoencoder(model, input_scale="0-1")
    pixels = np.load(images)
    jobs = {"encode": lambda: ae.encode(pixels, batch_size=32)}
    for method in TARGET_METHODS:
        jobs[method] = lambda method=method: explain(ae, pixels, method=method, batch_size=32)
    times = {}
    for name, job in jobs.items():
        job()  # compiles (JAX), builds graphs (TensorFlow), warms caches
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            job()
            runs.append(time.perf_counter() - start)
        times[name] = statistics.median(runs)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backends", nargs="*", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--measure", nargs=3, metavar=("MODEL", "IMAGES", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        model, images, out = args.measure
        Path(out).write_text(json.dumps(measure(model, images, args.repeats)))
        return 0

    import numpy as np

    from aevis.data.builtin import make_shapes
    from aevis.model.seed import build_seed_autoencoder

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        build_seed_autoencoder((SIZE, SIZE, 3), (32, 64, 128, 256)).save(folder / "model.keras")
        np.save(folder / "images.npy", make_shapes(args.images, SIZE, seed=1).images[:])
        found = {}
        for backend in args.backends:
            out = folder / f"{backend}.json"
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--repeats",
                    str(args.repeats),
                    "--measure",
                    str(folder / "model.keras"),
                    str(folder / "images.npy"),
                    str(out),
                ],
                cwd=ROOT,
                env={**os.environ, "KERAS_BACKEND": backend},
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            found[backend] = json.loads(out.read_text())
    base = found.get("tensorflow")
    print(f"{args.images} images of {SIZE}x{SIZE}x3, median of {args.repeats}; seconds (ratio to TensorFlow)")
    print(f"{'':24s}" + "".join(f"{backend:>22s}" for backend in found))
    for name in next(iter(found.values())):
        cells = [
            f"{times[name]:9.3f} s" + (f" ({times[name] / base[name]:5.2f}x)" if base else "")
            for times in found.values()
        ]
        print(f"{name:24s}" + "".join(f"{cell:>22s}" for cell in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
