"""Each image's map trust and local density (aevis.latent.trust), checked against hand-written
brute force and against sets built so the answer is known."""

import numpy as np
import pytest

from aevis.latent import trust
from aevis.latent.quality import QUALITY_K


def _brute_force_trust(codes: np.ndarray, positions: np.ndarray, k: int) -> np.ndarray:
    """The definition, one pair at a time: cosine similarity of the codes, straight-line
    distance on the map, and the share of the k most similar codes among the k nearest places."""
    count = len(codes)
    shares = []
    for i in range(count):
        similarity, distance = [], []
        for j in range(count):
            if j == i:
                continue
            a, b = codes[i], codes[j]
            similarity.append((float(a @ b) / (np.linalg.norm(a) * np.linalg.norm(b)), j))
            distance.append((float(np.hypot(*(positions[i] - positions[j]))), j))
        by_code = {j for _, j in sorted(similarity, reverse=True)[:k]}
        by_map = {j for _, j in sorted(distance)[:k]}
        shares.append(len(by_code & by_map) / k)
    return np.array(shares)


def test_map_trust_is_the_brute_force_share():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(70, 6)).astype(np.float32)
    positions = rng.random((70, 2)).astype(np.float32)
    found = trust.map_trust(codes, positions)
    expected = _brute_force_trust(codes, positions, QUALITY_K)
    assert found.dtype == np.float32 and found.shape == (70,)
    np.testing.assert_allclose(found, expected, atol=1e-6)
    assert 0 < found.mean() < 0.5  # a random map keeps little: the check is not all ones or zeros
    np.testing.assert_allclose(
        trust.map_trust(codes, positions, k=4), _brute_force_trust(codes, positions, 4), atol=1e-6
    )


def test_map_trust_is_one_where_the_map_keeps_every_neighbourhood():
    """Codes are 2-D directions at random angles within a quarter turn (and random lengths,
    which cosine ignores): their cosine similarity falls as the angle between them grows. The
    map lays each image out at its angle along a line, so distance on the map is that angle:
    both neighbour orders agree by construction."""
    rng = np.random.default_rng(1)
    angles = rng.uniform(0, np.pi / 2, 50)
    lengths = rng.uniform(0.5, 3, 50)
    codes = (lengths[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)
    positions = np.stack([angles / np.pi * 2, np.full(50, 0.5)], axis=1).astype(np.float32)
    np.testing.assert_array_equal(trust.map_trust(codes, positions), np.ones(50, np.float32))
    # Shuffling the places breaks it.
    assert trust.map_trust(codes, rng.permutation(positions)).mean() < 0.6


def test_density_is_higher_in_a_planted_cluster():
    rng = np.random.default_rng(2)
    direction = rng.normal(size=16)
    crowd = direction + rng.normal(0, 0.05, (40, 16))  # 40 codes pointing almost the same way
    loners = rng.normal(size=(40, 16))  # 40 scattered directions
    density = trust.local_density(np.concatenate([crowd, loners]).astype(np.float32))
    assert density.shape == (80,) and np.all(density > 0)
    assert density[:40].min() > density[40:].max()
    # The definition: 1 / the mean cosine distance to the k most similar codes.
    unit = np.concatenate([crowd, loners]) / np.linalg.norm(np.concatenate([crowd, loners]), axis=1, keepdims=True)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.sort(similarity, axis=1)[:, ::-1][:, :QUALITY_K]
    np.testing.assert_allclose(density, 1 / (1 - nearest.mean(axis=1)), rtol=1e-4)


def test_both_figures_from_one_search_agree_with_each_alone():
    rng = np.random.default_rng(3)
    codes, positions = rng.normal(size=(30, 5)).astype(np.float32), rng.random((30, 2)).astype(np.float32)
    both = trust.neighbourhoods(codes, positions)
    np.testing.assert_array_equal(both["map_trust"], trust.map_trust(codes, positions))
    np.testing.assert_array_equal(both["density"], trust.local_density(codes))


def test_the_builds_wider_ordered_search_gives_the_same_figures_as_a_search_of_their_own():
    from aevis.latent.neighbours import nearest_neighbours
    from aevis.latent.quality import map_quality

    rng = np.random.default_rng(5)
    codes, positions = rng.normal(size=(40, 6)).astype(np.float32), rng.random((40, 2)).astype(np.float32)
    labels = [str(number % 3) for number in range(40)]
    wide = nearest_neighbours(codes, QUALITY_K + 5)  # the pages may want more than the figures' 10
    given, own = trust.neighbourhoods(codes, positions, code_neighbours=wide), trust.neighbourhoods(codes, positions)
    np.testing.assert_array_equal(given["map_trust"], own["map_trust"])
    np.testing.assert_allclose(given["density"], own["density"], rtol=1e-6)
    assert map_quality(codes, positions, labels, code_neighbours=wide[0]) == map_quality(codes, positions, labels)


def test_small_sets_duplicates_and_mismatched_inputs():
    single = trust.neighbourhoods(np.ones((1, 4), np.float32), np.zeros((1, 2), np.float32))
    assert np.isnan(single["map_trust"]).all() and np.isnan(single["density"]).all()
    # Three images: k falls to 2, every other image is a neighbour both ways.
    three = trust.map_trust(np.eye(3, dtype=np.float32), np.random.default_rng(4).random((3, 2)))
    np.testing.assert_array_equal(three, np.ones(3, np.float32))
    # Identical codes and places: finite density, and no image is its own map neighbour.
    same = trust.neighbourhoods(np.ones((12, 3), np.float32), np.zeros((12, 2), np.float32))
    assert np.isfinite(same["density"]).all() and same["density"].max() <= 1 / trust.DENSITY_FLOOR * 1.001
    neighbours = trust.map_neighbours(np.zeros((12, 2), np.float32), 10)
    assert not (neighbours == np.arange(12)[:, None]).any()
    with pytest.raises(ValueError, match="one map position per code"):
        trust.neighbourhoods(np.ones((5, 3), np.float32), np.zeros((4, 2), np.float32))
