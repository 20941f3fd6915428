"""aevis on Keras's JAX and PyTorch backends gives TensorFlow's numbers: a model saved under TensorFlow,
run in a process of each backend (tests/backend_run.py), gives the same codes, rebuilds, maps
of the five methods, deletion, object-share and randomization figures and each image's loss
gradient by the encoder's weights (:func:`aevis.backend.item_gradients`) within 1e-5 of the
largest value. The randomization check's new weights are drawn with NumPy
(aevis/faithfulness/fresh_weights.py): Keras's seeded initializers draw other numbers on each
backend.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aevis.data import builtin
from tests import models, user_models

ROOT = Path(__file__).resolve().parent.parent


def _installed(backend: str):
    """Skipped where the backend's package is missing, unless a run requires it: JAX in CI
    (CI=true), where the test extra installs it, and any backend named in AEVIS_REQUIRED_BACKENDS
    (.ci/run's PyTorch step, which installs PyTorch's CPU build)."""
    required = os.environ.get("AEVIS_REQUIRED_BACKENDS", "").split(",") + (["jax"] if os.environ.get("CI") else [])
    missing = importlib.util.find_spec(backend) is None and backend not in required
    return pytest.param(backend, marks=pytest.mark.skipif(missing, reason=f"{backend} is not installed"))


def _run(backend: str, folder: Path) -> dict:
    out = folder / f"{backend}.npz"
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.backend_run",
            *(str(folder / name) for name in ("model.keras", "images.npy", "masks.npy")),
            str(out),
        ],
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": backend},
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, f"on {backend}: {ran.stderr[-3000:]}"
    with np.load(out) as found:
        assert str(found["backend"]) == backend
        return {name: found[name] for name in found.files if name != "backend"}


@pytest.fixture(scope="module", params=["seed", "nested"])
def saved(request, tmp_path_factory) -> tuple[Path, dict]:
    """A model saved under TensorFlow with six images, and what TensorFlow computes of them."""
    folder = tmp_path_factory.mktemp(request.param)
    made = {"seed": models.tiny_seed, "nested": user_models.nested_encoder_decoder}[request.param]()
    made.save(folder / "model.keras")
    shapes = builtin.make_shapes(6, 16, seed=2)
    np.save(folder / "images.npy", shapes.images[:])
    np.save(folder / "masks.npy", shapes.masks[:])
    return folder, _run("tensorflow", folder)


@pytest.mark.parametrize("backend", [_installed("jax"), _installed("torch")])
def test_each_backend_gives_tensorflows_codes_maps_and_figures(saved, backend):
    folder, tensorflow = saved
    other = _run(backend, folder)
    compared = list(tensorflow)
    assert {
        "codes",
        "rebuilt",
        "map saliency",
        "map smoothgrad",
        "map integrated_gradients",
        "map gradcam",
        "map occlusion",
        "figure saliency deletion_auc",
        "figure gradcam object_share",
        "figure smoothgrad randomization_spearman",
        "item gradients",
    } <= set(compared)
    assert other.keys() == tensorflow.keys()
    for name in compared:
        expected = tensorflow[name].astype(np.float64)
        assert np.isfinite(expected).all() and np.abs(expected).max() > 0, name
        close = np.abs(other[name] - expected) <= 1e-5 * np.abs(expected).max()
        if backend == "torch" and name in TIES_BROKEN_OTHERWISE_ON_TORCH:
            assert close.mean() >= TIES_BROKEN_OTHERWISE_ON_TORCH[name], name
            if name.startswith("figure"):  # a figure moved by ties moves a little, not anywhere
                assert np.abs(other[name] - expected).max() <= 0.02, name
        else:
            assert close.all(), f"{name}: {np.abs(other[name] - expected).max()} apart"


TIES_BROKEN_OTHERWISE_ON_TORCH = {
    # PyTorch sends a max-pool's gradient to another of equal inputs than TensorFlow and JAX do.
    # Integrated Gradients' path points near the grey baseline round neighbouring pixels to equal
    # values, so on the seed (max-pooling) 12 of 1,536 pixels differ, by at most 0.7 % of the largest.
    "map integrated_gradients": 0.98,
    "figure integrated_gradients object_share": 0.0,
    # Deletion greys out pixels in the map's order, and Grad-CAM's maps, upsampled from a coarse
    # grid, hold many equal values: maps 3e-7 apart order some ties otherwise (the AUC moves ~1 %).
    "figure gradcam deletion_auc": 0.0,
    "figure occlusion deletion_auc": 0.0,
    # Their baselines are the same maps at another place (faithfulness/deletion.py): the same ties.
    "figure gradcam random_deletion_auc": 0.0,
    "figure occlusion random_deletion_auc": 0.0,
    # Grad-CAM's maps hold many equal values (zeros, where its ReLU cuts): their ranks in the
    # randomization check's Spearman correlation follow the same ties (measured 2e-5 apart).
    "figure gradcam randomization_spearman": 0.0,
}
