"""TracIn over checkpoints: projected gradients equal the projection of brute-force gradients, and
the scores equal the full (unprojected) TracIn sum to within the projection's stated error."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from aevis.data import builtin
from aevis.latent.taught_by import (
    GaussianProjection,
    encoder_variables,
    error_bound,
    projected_gradients,
    strongest,
    taught_by,
)
from aevis.model.train import read_checkpoints, train_seed


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A toy seed trained on 12 shapes for 3 epochs (a checkpoint at each), its images, checkpoints
    and full gradients."""
    shapes = builtin.make_shapes(12, 16, seed=3)
    images = shapes.images[:]
    made = train_seed(images, shapes.content_hash(), (4, 4, 8, 8), 3, 4, 0, tmp_path_factory.mktemp("cache"))
    model, checkpoints = keras.models.load_model(made.path), read_checkpoints(made.checkpoints)
    return model, images, checkpoints, _full_gradients(keras.models.clone_model(model), images, checkpoints)


def _full_gradients(model, images, checkpoints):
    """(T, N, P): each image's binary cross-entropy gradient by the encoder's weights at each
    checkpoint, one image at a time with a plain GradientTape (not aevis.backend)."""
    variables = encoder_variables(model, "encoded")
    found = []
    for weights in checkpoints.weights:
        model.set_weights(weights)
        rows = []
        for image in images:
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(keras.losses.binary_crossentropy(image[None], model(image[None])))
            rows.append(np.concatenate([g.numpy().ravel() for g in tape.gradient(loss, [v.value for v in variables])]))
        found.append(np.stack(rows).astype(np.float64))
    return np.stack(found)


def test_training_keeps_three_checkpoints_the_last_being_the_trained_weights(trained):
    model, _, checkpoints, _ = trained
    assert checkpoints.epochs == (1, 2, 3) and checkpoints.learning_rates == pytest.approx((1e-3,) * 3)
    for kept, final in zip(checkpoints.weights[-1], model.get_weights()):
        np.testing.assert_array_equal(kept, final)
    assert not all(np.array_equal(a, b) for a, b in zip(checkpoints.weights[0], checkpoints.weights[-1]))


def test_projected_gradients_are_the_projection_of_each_images_own_gradient(trained):
    model, images, checkpoints, full = trained
    projected = projected_gradients(keras.models.clone_model(model), "encoded", checkpoints, images, 5, dimensions=16)
    projection = GaussianProjection(full.shape[2], 16)
    expected = np.concatenate(
        [
            math.sqrt(rate) * (grads @ projection.matrix.T.astype(np.float64))
            for rate, grads in zip(checkpoints.learning_rates, full)
        ],
        axis=1,
    )
    np.testing.assert_allclose(projected, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())


def test_scores_equal_the_full_tracin_sum_within_the_stated_error(trained):
    model, images, checkpoints, full = trained
    rates = np.array(checkpoints.learning_rates)
    exact = np.einsum("t,tap,tbp->ab", rates, full, full)
    projected = projected_gradients(keras.models.clone_model(model), "encoded", checkpoints, images, 4, dimensions=1024)
    # Each score within ε Σ_t η_t ‖a_t‖ ‖b_t‖, ε for all 3 × 12 × 12 products at once.
    epsilon = error_bound(1024, 3 * 12 * 12)
    norms = np.linalg.norm(full, axis=2)
    allowed = epsilon * np.einsum("t,ta,tb->ab", rates, norms, norms)
    off = np.abs(projected.astype(np.float64) @ projected.T - exact)
    assert 0.2 < epsilon < 0.3 and (off <= allowed).all()
    assert off.max() > 1e-3 * np.abs(exact).max()  # projected, not exact
    found = taught_by(keras.models.clone_model(model), "encoded", checkpoints, images, np.arange(12), 4)
    assert 0.75 < found.error < 0.8  # the build's own k = 128, one score (of 3 checkpoints) at a time
    # Proponents are the highest scores, the image itself left out; opponents the lowest.
    for row, index in enumerate(found.rows):
        scores = np.delete(found.sample_scores[index], index)
        others = np.delete(np.arange(12), index)
        np.testing.assert_array_equal(found.proponents[row], others[np.argsort(-scores, kind="stable")][:10])
        np.testing.assert_array_equal(found.opponents[row], others[np.argsort(scores, kind="stable")][:10])


def test_the_error_bound_is_the_union_bound_of_johnson_lindenstrauss():
    epsilon = error_bound(512, 1000, failure=1e-3)
    assert 4 * 1000 * math.exp(-512 * (epsilon**2 / 4 - epsilon**3 / 6)) == pytest.approx(1e-3, rel=1e-6)
    assert error_bound(8, 10**6) == math.inf
    # Measured: of 20,000 pairs of random vectors, none is off by more than the bound for 20,000 scores.
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(2, 20000, 300)).astype(np.float32)
    b[:10000] += a[:10000]  # correlated pairs too
    projection = GaussianProjection(300, 256, seed=9)
    off = np.abs((projection(a) * projection(b)).sum(1) - (a * b).sum(1))
    epsilon = error_bound(256, 20000)
    assert 0.75 < epsilon < 0.76
    assert (off <= epsilon * np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)).all()


def test_strongest_breaks_ties_by_index_and_keeps_at_most_the_others():
    projected = np.array([[1.0], [1.0], [1.0], [-1.0]], np.float32)
    found = strongest(projected, np.array([0]), np.array([0]), kept=10)
    np.testing.assert_array_equal(found["proponents"][0], [1, 2, 3])
    np.testing.assert_array_equal(found["opponents"][0], [3, 1, 2])
    np.testing.assert_allclose(found["sample_scores"][0], [1, 1, 1, -1])
