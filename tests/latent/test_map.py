"""Neighbours, the t-SNE map and spread page selection, checked against brute force."""

import numpy as np
import pytest
from sklearn.manifold import trustworthiness

from aevis.latent import map as latent
from aevis.latent.map import spread_sample, tsne_map
from aevis.latent.neighbours import nearest_neighbours


def _clusters(per_cluster=25, dimensions=20, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (4, dimensions))
    points = np.concatenate([centre + rng.normal(0, 0.5, (per_cluster, dimensions)) for centre in centres])
    return points.astype(np.float32), np.repeat(np.arange(4), per_cluster)


def test_neighbours_match_brute_force_cosine():
    codes = np.random.default_rng(1).normal(size=(40, 7)).astype(np.float32)
    indices, similarities = nearest_neighbours(codes, k=5)
    unit = codes / np.linalg.norm(codes, axis=1, keepdims=True)
    full = unit @ unit.T
    np.fill_diagonal(full, -np.inf)
    expected = np.argsort(-full, axis=1)[:, :5]
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(similarities, np.take_along_axis(full, expected, axis=1), rtol=1e-5)
    assert not np.any(indices == np.arange(40)[:, None])  # never one's own neighbour


def test_neighbours_blocks_agree_with_one_block(monkeypatch):
    codes = np.random.default_rng(2).normal(size=(50, 4)).astype(np.float32)
    whole = nearest_neighbours(codes, k=3)
    import aevis.latent.neighbours

    monkeypatch.setattr(aevis.latent.neighbours, "_BLOCK", 7)
    blocked = nearest_neighbours(codes, k=3)
    np.testing.assert_array_equal(whole[0], blocked[0])
    np.testing.assert_allclose(whole[1], blocked[1])


def test_neighbours_clamp_k_and_handle_zero_codes():
    codes = np.array([[1, 0], [0, 0], [2, 0]], np.float32)
    indices, similarities = nearest_neighbours(codes, k=6)
    assert indices.shape == (3, 2)
    assert indices[0, 0] == 2 and similarities[0, 0] == pytest.approx(1.0)
    np.testing.assert_allclose(similarities[1], [0.0, 0.0])  # a zero code resembles nothing


@pytest.mark.parametrize("fft_from", [latent._FFT_FROM, 0], ids=["barnes-hut", "fft"])
def test_tsne_is_seeded_scaled_and_keeps_clusters(fft_from, monkeypatch):
    monkeypatch.setattr(latent, "_FFT_FROM", fft_from)  # large maps' gradients, on a small one
    points, labels = _clusters()
    first, second = tsne_map(points, seed=3), tsne_map(points, seed=3)
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.float32 and first.shape == (100, 2)
    assert first.min() == pytest.approx(0.0) and first.max() == pytest.approx(1.0)
    assert trustworthiness(points, first, n_neighbors=10) > 0.9
    # each point's nearest map neighbour belongs to its own cluster
    distances = np.linalg.norm(first[:, None] - first[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    assert np.mean(labels[np.argmin(distances, axis=1)] == labels) > 0.95


def test_tsne_with_approximate_affinities_is_seeded_and_keeps_clusters(monkeypatch):
    monkeypatch.setattr(latent, "_FFT_FROM", 0)  # the gradients and neighbours of large maps
    monkeypatch.setattr(latent, "_APPROXIMATE_NEIGHBOURS_FROM", 0)
    points, labels = _clusters()
    first = tsne_map(points, seed=3)
    np.testing.assert_array_equal(first, tsne_map(points, seed=3))
    assert trustworthiness(points, first, n_neighbors=10) > 0.9
    distances = np.linalg.norm(first[:, None] - first[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    assert np.mean(labels[np.argmin(distances, axis=1)] == labels) > 0.95


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_tsne_handles_tiny_sets(count):
    positions = tsne_map(np.random.default_rng(0).normal(size=(count, 6)).astype(np.float32))
    assert positions.shape == (count, 2)
    assert np.all((positions >= 0) & (positions <= 1))


def test_tsne_of_identical_codes_is_the_centre():
    np.testing.assert_array_equal(tsne_map(np.ones((20, 8), np.float32)), np.full((20, 2), 0.5))


def test_spread_sample_covers_every_cluster():
    rng = np.random.default_rng(4)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    points = np.concatenate([corner + rng.normal(0, 0.02, (30, 2)) for corner in corners])
    chosen = spread_sample(points, 4)
    assert sorted(set(chosen // 30)) == [0, 1, 2, 3]
    assert list(chosen) == sorted(chosen)
    assert len(spread_sample(points, 500)) == 120


def test_a_two_number_code_is_its_own_map_on_one_scale():
    codes = np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 2.0], [2.0, 1.0]], np.float32)
    positions = latent.code_map(codes)
    # x runs 0..4 and y 0..2: one scale (1/4), centred; y turned to run down the page.
    np.testing.assert_allclose(positions, [[0, 0.75], [1, 0.75], [1, 0.25], [0.5, 0.5]], atol=1e-6)
    assert latent.map_kind(2) == latent.CODE and latent.map_kind(1) == latent.CODE


def test_a_three_number_code_is_seen_along_its_two_widest_directions():
    rng = np.random.default_rng(0)
    flat = np.c_[rng.normal(0, 5, 50), rng.normal(0, 1, 50), np.zeros(50)]  # a plane, tilted below
    rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    positions = latent.code_map((flat @ rotation.T).astype(np.float32))
    assert latent.map_kind(3) == latent.PCA_VIEW
    # The plane comes back up to a turn or a mirror: every distance kept, on one scale.
    mapped = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
    distances = np.linalg.norm(flat[:, None] - flat[None], axis=-1)
    off_diagonal = ~np.eye(50, dtype=bool)
    ratios = mapped[off_diagonal] / distances[off_diagonal]
    np.testing.assert_allclose(ratios, ratios.mean(), rtol=1e-4)
    assert positions.min() >= 0 and positions.max() <= 1 and np.isclose(np.ptp(positions, axis=0).max(), 1)


def test_small_codes_never_reach_tsne(monkeypatch):
    def refuse(*_):
        raise AssertionError("t-SNE ran on a small code")

    monkeypatch.setattr(latent, "tsne_map", refuse)
    assert latent.code_map(np.arange(12, dtype=np.float32).reshape(4, 3)).shape == (4, 2)
    assert latent.map_kind(4) == latent.TSNE


def test_a_build_with_a_two_number_code_maps_the_code_and_says_so(tmp_path, monkeypatch):
    import json

    import keras
    from keras import layers

    from aevis.config import BuildConfig
    from aevis.pipeline import build
    from aevis.site import urls

    monkeypatch.setattr(latent, "tsne_map", lambda *_: pytest.fail("t-SNE ran on a 2-number code"))
    keras.utils.set_random_seed(4)
    image = keras.Input((16, 16, 1))
    x = layers.Flatten()(layers.Conv2D(4, 3, strides=4, padding="same", activation="relu")(image))
    x = layers.Dense(2, name="encoded")(x)
    x = layers.Reshape((4, 4, 1))(layers.Dense(16, activation="relu")(x))
    model = keras.Model(image, layers.Conv2DTranspose(1, 3, strides=4, padding="same", activation="sigmoid")(x))
    model.save(tmp_path / "two.keras")
    build(
        BuildConfig(
            out=tmp_path / "site",
            cache_dir=tmp_path / "cache",
            model=tmp_path / "two.keras",
            dataset="shapes",
            count=8,
            methods=(),
            pair_method=None,
            neighbours=2,
            input_scale="0-1",
            quiet=True,
        )
    )
    manifest = json.loads((tmp_path / "site" / urls.MANIFEST).read_text())
    positions = np.array([[record["x"], record["y"]] for record in manifest["images"]])
    np.testing.assert_allclose(positions, latent.small_code_map(np.load(tmp_path / "site" / urls.CODES)), atol=2e-6)
    page = (tmp_path / "site" / urls.MAP).read_text()
    assert "each placed by its code itself" in page and "its first number is the position from left" in page
    assert "t-SNE" not in page and "Squeezing" not in page
