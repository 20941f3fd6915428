"""Targets: each value checked against the autoencoder's own outputs, computed in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from aevis.methods.registry import TARGET_NAMES, parse_target
from aevis.methods.targets import make_target
from tests.models import LINEAR_WEIGHTS, random_images


@pytest.fixture(scope="module")
def images():
    return random_images(3, 16)


def test_self_is_the_code_norm_at_the_image(seed_ae, images):
    codes = seed_ae.encode(images).astype(np.float64)
    target = make_target(seed_ae, images, "self")
    np.testing.assert_allclose(target.values(images), np.linalg.norm(codes, axis=1), rtol=1e-5)
    # Elsewhere ẑ stays the image's own direction.
    other = random_images(3, 16, seed=1)
    expected = np.sum(seed_ae.encode(other) * codes / np.linalg.norm(codes, axis=1, keepdims=True), axis=1)
    np.testing.assert_allclose(target.values(other), expected, rtol=1e-5)
    assert make_target(seed_ae, images, None).kind == "self"


def test_neighbour_projects_on_the_reference_direction(seed_ae, images):
    codes = seed_ae.encode(images).astype(np.float64)
    neighbours = codes[[1, 2, 0]]
    target = make_target(seed_ae, images, "neighbour", reference_codes=neighbours)
    unit = neighbours / np.linalg.norm(neighbours, axis=1, keepdims=True)
    np.testing.assert_allclose(target.values(images), np.sum(codes * unit, axis=1), rtol=1e-5)


def test_channel_is_the_mean_activation_of_that_channel(seed_ae, images):
    activation = seed_ae.encoder(images).numpy()  # 0-1 model: no rescaling
    for channel in (0, 5):
        target = make_target(seed_ae, images, f"channel:{channel}")
        np.testing.assert_allclose(target.values(images), activation[..., channel].mean(axis=(1, 2)), rtol=1e-5)


def test_reconstruction_is_minus_the_mean_squared_error(seed_ae, images):
    expected = -np.mean((images - seed_ae.reconstruct(images)) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(make_target(seed_ae, images, "reconstruction").values(images), expected, rtol=1e-5)


def test_gradient_of_a_linear_code_is_its_weights(linear_ae):
    images = random_images(2, 4, channels=1)
    values, grads = make_target(linear_ae, images, "self").gradients(images, batch_size=1)
    weights = np.asarray(LINEAR_WEIGHTS, dtype=np.float32)
    np.testing.assert_allclose(values, np.sum(images[..., 0] * weights, axis=(1, 2)), rtol=1e-6)
    np.testing.assert_allclose(grads[..., 0], np.broadcast_to(weights, (2, 4, 4)), rtol=1e-6)


def test_model_value_range_is_handled(seed_ae, images):
    from aevis.model import wrap_autoencoder

    scaled = wrap_autoencoder(seed_ae.model, input_scale="0-255")
    expected = -np.mean((images - scaled.reconstruct(images)) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(make_target(scaled, images, "reconstruction").values(images), expected, rtol=1e-5)


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("selfish", ["selfish", *TARGET_NAMES]),
        ("channel:x", ["channel:K", "whole number"]),
        ("channel:8", ["0 to 7", "8 channels"]),
        ("channel:-1", ["0 to 7"]),
        ("neighbour", ["reference_codes", "(N, D)"]),
    ],
)
def test_bad_targets_say_what_was_expected(seed_ae, images, target, words):
    with pytest.raises(ValueError) as error:
        make_target(seed_ae, images, target)
    for word in words:
        assert word in str(error.value)


def test_reference_codes_are_checked(seed_ae, images):
    with pytest.raises(ValueError, match=r"\(3, 8\)"):
        make_target(seed_ae, images, "neighbour", reference_codes=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="neighbour"):
        make_target(seed_ae, images, "self", reference_codes=np.zeros((3, 8)))


def test_parse_target():
    assert parse_target(None) == ("self", None)
    assert parse_target("channel:12") == ("channel", 12)
    assert parse_target("reconstruction") == ("reconstruction", None)
    assert parse_target("neighbour", channels=8) == ("neighbour", None)
    assert parse_target("channel:7", channels=8) == ("channel", 7)


@pytest.mark.parametrize(
    ("target", "channels", "message"),
    [
        ("selfish", None, "Unknown target 'selfish'; expected one of self, neighbour, channel:K, reconstruction."),
        ("channel:x", None, "Expected 'channel:K' with K a whole number, got 'channel:x'."),
        ("channel:-1", None, "Target 'channel:-1' is out of range: K must be 0 or more."),
        ("channel:8", 8, "Target 'channel:8' is out of range: the bottleneck has 8 channels, so K must be 0 to 7."),
        ("channel:-1", 8, "Target 'channel:-1' is out of range: the bottleneck has 8 channels, so K must be 0 to 7."),
        (3, None, "Expected a target string (self, neighbour, channel:K, reconstruction), got 3."),
    ],
)
def test_parse_target_says_what_was_expected(target, channels, message):
    with pytest.raises(ValueError) as error:
        parse_target(target, channels)
    assert str(error.value) == message
