"""Shared fixtures: tiny autoencoders, built once per test session (they are never trained)."""

from __future__ import annotations

import pytest

from aevis.model import wrap_autoencoder
from tests import models


@pytest.fixture(scope="session")
def linear_ae():
    """4x4x1, code = Σ LINEAR_WEIGHTS·x: every target value is known on paper."""
    return wrap_autoencoder(models.linear_code())


@pytest.fixture(scope="session")
def seed_ae():
    """The seed architecture at 16x16 (ELU, max-pooling), random weights."""
    return wrap_autoencoder(models.tiny_seed())


@pytest.fixture(scope="session")
def smooth_ae():
    """8x8x3, tanh everywhere: smooth enough for finite differences."""
    return wrap_autoencoder(models.smooth_conv())


@pytest.fixture(scope="session")
def quadrant_ae():
    """16x16x3 whose encoder reads only the top-left 8x8 quadrant."""
    return wrap_autoencoder(models.top_left_reader())

