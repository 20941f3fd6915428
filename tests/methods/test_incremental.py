"""Incremental inference for occlusion: the codes of occluded copies, computed in windows,
equal the whole forward pass's, and the windows are the sizes worked out on paper."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from aevis.methods import explain
from aevis.methods.incremental import plan_patched_codes
from aevis.methods.occlusion import _INCREMENTAL_UP_TO
from aevis.model import wrap_autoencoder
from aevis.model.seed import build_seed_autoencoder
from tests import models
from tests.models import random_images


def occluded_copies(images, owner, top, left, patch, fill):
    copies = images[owner].copy()
    for copy, row, col in zip(copies, top, left):
        copy[row : row + patch, col : col + patch] = fill
    return copies


def every_position(ae, count: int, patch: int):
    """(owner, top, left) of every patch position on every one of ``count`` images."""
    height, width = ae.input_spec.height, ae.input_spec.width
    top, left = np.meshgrid(np.arange(height - patch + 1), np.arange(width - patch + 1), indexing="ij")
    positions = top.size
    owner = np.repeat(np.arange(count), positions).astype(np.int32)
    return owner, np.tile(top.ravel(), count).astype(np.int32), np.tile(left.ravel(), count).astype(np.int32)


@pytest.mark.parametrize(
    ("factory", "patch"),
    [
        (models.tiny_seed, 1),
        (models.tiny_seed, 3),
        (models.tiny_seed, 6),
        (models.mixed_windows, 2),
        (models.mixed_windows, 5),
    ],
)
def test_codes_equal_whole_copies_at_every_position(factory, patch):
    ae = wrap_autoencoder(factory())
    images = random_images(2, ae.input_spec.height, seed=11)
    owner, top, left = every_position(ae, len(images), patch)
    plan = plan_patched_codes(ae, patch)
    assert plan is not None
    codes = np.asarray(plan.function()(images, owner, top, left, np.float32(0.3)))
    whole = np.asarray(ae.encoder(occluded_copies(images, owner, top, left, patch, 0.3), training=False))
    assert codes.shape == whole.shape
    np.testing.assert_allclose(codes, whole, rtol=1e-5, atol=1e-5 * np.abs(whole).max())
    # The far edge's windows slide back inside the layer; a wrong slide would show there.
    assert np.abs(codes - whole)[top == top.max()].max() <= 1e-5 * np.abs(whole).max()


def test_seed_windows_at_64_pixels_as_on_paper():
    # Patch 8: conv 3x3 'same' widens [a, a+8) to 10 outputs, reading 12 (padded) inputs;
    # 2x2 pooling of 10 rows starting at an odd row touches 6 cells; and so on down to the
    # 4x4 code, which every patch reaches whole.
    ae = wrap_autoencoder(build_seed_autoencoder())
    plan = plan_patched_codes(ae, 8)
    windows = [(step.layer.name, step.rows.size, step.rows.reads) for step in plan.steps]
    assert windows == [
        ("conv_0_e", 10, 12),
        ("pool_0_e", 6, 12),
        ("conv_1_e", 8, 10),
        ("pool_1_e", 5, 10),
        ("conv_2_e", 7, 9),
        ("pool_2_e", 4, 8),
        ("conv_3_e", 6, 8),
        ("encoded", 4, 8),
    ]
    # Multiply-adds: (100·864 + 64·18432 + 49·73728 + 36·294912) / (4096·864 + 1024·18432
    # + 256·73728 + 64·294912) = 15,495,552 / 60,162,048.
    assert plan.work == pytest.approx(15_495_552 / 60_162_048)


def test_layers_after_flatten_run_whole():
    ae = wrap_autoencoder(models.mixed_windows())
    hows = [step.how for step in plan_patched_codes(ae, 3).steps]
    assert hows == ["window", "pointwise", "pointwise", "window", "window", "window", "whole", "whole"]


def test_layers_that_mix_pixels_run_whole():
    image = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(image)
    x = keras.layers.Softmax(axis=-1)(x)  # across channels: per pixel
    x = keras.layers.Softmax(axis=1)(x)  # down each column: every row depends on every other
    x = keras.layers.MaxPooling2D(2, name="encoded")(x)
    x = keras.layers.UpSampling2D(2)(x)
    ae = wrap_autoencoder(keras.Model(image, keras.layers.Conv2D(3, 3, padding="same")(x)))
    assert [step.how for step in plan_patched_codes(ae, 2).steps] == ["window", "pointwise", "whole", "whole"]


@pytest.mark.parametrize("factory", [models.skip_around, models.top_left_reader])
def test_encoders_it_cannot_window_are_not_planned(factory):
    # A skip connection is not a chain; a Cropping2D first layer is not a window layer.
    assert plan_patched_codes(wrap_autoencoder(factory()), 2) is None


@pytest.mark.parametrize("target", ["self", "neighbour", "channel:1"])
def test_occlusion_maps_match_whole_runs(seed_ae, target):
    images = random_images(3, 16, seed=5)
    reference = random_images(3, 16, seed=6)
    options = {"reference_codes": seed_ae.encode(reference)} if target == "neighbour" else {}
    for patch, stride in ((2, 1), (3, 2), (4, 4)):
        assert plan_patched_codes(seed_ae, patch).work <= _INCREMENTAL_UP_TO  # so windows are used
        fast = explain(seed_ae, images, "occlusion", target=target, patch=patch, stride=stride, **options)
        whole = explain(
            seed_ae, images, "occlusion", target=target, patch=patch, stride=stride, incremental=False, **options
        )
        np.testing.assert_allclose(fast, whole, rtol=1e-4, atol=1e-5 * np.abs(whole).max())
        assert np.abs(whole).max() > 0


def test_occlusion_refuses_a_non_boolean_switch(seed_ae):
    with pytest.raises(ValueError, match="incremental"):
        explain(seed_ae, random_images(1, 16), "occlusion", incremental="yes")
