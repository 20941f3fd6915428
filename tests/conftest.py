"""Shared fixtures: tiny autoencoders, built once per test session (they are never trained), a
tiny built site, and the browser. Nothing heavy is imported here: Keras and TensorFlow load only
in the tests that ask for a model or a build, so the pure-NumPy tests run without them."""

from __future__ import annotations

import pytest


def _wrapped(factory: str):
    """The autoencoder ``tests.models.<factory>()`` returns, wrapped (Keras is imported here)."""
    from aevis.model import wrap_autoencoder
    from tests import models

    return wrap_autoencoder(getattr(models, factory)())


@pytest.fixture(scope="session")
def linear_ae():
    """4x4x1, code = Σ LINEAR_WEIGHTS·x: every target value is known on paper."""
    return _wrapped("linear_code")


@pytest.fixture(scope="session")
def seed_ae():
    """The seed architecture at 16x16 (ELU, max-pooling), random weights."""
    return _wrapped("tiny_seed")


@pytest.fixture(scope="session")
def smooth_ae():
    """8x8x3, tanh everywhere: smooth enough for finite differences."""
    return _wrapped("smooth_conv")


@pytest.fixture(scope="session")
def quadrant_ae():
    """16x16x3 whose encoder reads only the top-left 8x8 quadrant."""
    return _wrapped("top_left_reader")


@pytest.fixture(scope="session")
def colour_ae():
    """8x8x3; channel k of 'colour' and of the code 'encoded' (2x2 max-pooled) is colour k's
    brightness, and the reconstruction is the code upsampled: every result is known on paper."""
    return _wrapped("colour_channels")


TINY_BUILD = dict(
    dataset="shapes", count=12, image_size=16, filters=(4, 4, 8, 8), epochs=1, batch_size=8, neighbours=3, quiet=True
)
"""A whole gallery build in a few seconds: 12 shapes of 16x16, a toy seed model, one epoch."""
TINY_ARGUMENTS = (
    "--dataset shapes --count 12 --image-size 16 --filters 4 4 8 8 --epochs 1 --batch-size 8 --neighbours 3".split()
)
""":data:`TINY_BUILD` on the command line."""


@pytest.fixture(scope="session")
def tiny_site(tmp_path_factory):
    """(config, gallery) of one tiny built site, shared by the build and browser tests."""
    from aevis.config import BuildConfig
    from aevis.pipeline import build

    root = tmp_path_factory.mktemp("tiny")
    config = BuildConfig(out=root / "site", cache_dir=root / "cache", **TINY_BUILD)
    return config, build(config)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright, launched once for the session (tests/browser.py)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    from tests.browser import CHROMIUM, CHROMIUM_FLAGS

    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()
