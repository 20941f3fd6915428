"""Two models compared: shared neighbours counted by hand, and maps aligned by Procrustes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import procrustes

from aevis.latent.compare import (
    Comparison,
    chance_overlap,
    neighbour_overlap,
    procrustes_align,
)
from aevis.latent.neighbours import nearest_neighbours


def _on_circle(degrees) -> np.ndarray:
    angles = np.radians(degrees)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)


def test_overlap_of_hand_made_codes_is_the_hand_count():
    # Two groups of three, 10 and 15 degrees apart inside a group; model B swaps images 2 and 5
    # between the groups (and scales its codes, which cosine similarity ignores).
    codes_a = _on_circle([0, 10, 25, 180, 190, 205])
    codes_b = _on_circle([0, 10, 205, 180, 190, 25]) * np.array([[1], [3], [0.5], [2], [7], [0.1]], np.float32)
    mine, _ = nearest_neighbours(codes_a, 2)
    theirs, _ = nearest_neighbours(codes_b, 2)
    # By hand: A lists 0:{1,2} 1:{0,2} 2:{1,0} 3:{4,5} 4:{3,5} 5:{4,3};
    #          B lists 0:{1,5} 1:{0,5} 2:{4,3} 3:{4,2} 4:{3,2} 5:{1,0}.
    assert [set(row) for row in theirs] == [{1, 5}, {0, 5}, {4, 3}, {4, 2}, {3, 2}, {1, 0}]
    np.testing.assert_array_equal(neighbour_overlap(mine, theirs), [0.5, 0.5, 0, 0.5, 0.5, 0])
    np.testing.assert_array_equal(neighbour_overlap(mine, mine), np.ones(6))


def test_overlap_ignores_the_order_of_the_neighbours():
    mine = np.array([[1, 2, 3], [0, 2, 3], [4, 0, 1], [0, 1, 2], [0, 1, 2]])
    theirs = np.array([[3, 2, 1], [4, 0, 1], [3, 1, 0], [4, 2, 1], [0, 1, 2]])
    np.testing.assert_allclose(neighbour_overlap(mine, theirs), [1, 1 / 3, 2 / 3, 2 / 3, 1])
    with pytest.raises(ValueError, match="one shape"):
        neighbour_overlap(mine, theirs[:, :2])
    assert neighbour_overlap(np.zeros((1, 0), int), np.zeros((1, 0), int)).tolist() == [1.0]


def test_chance_is_what_random_neighbours_share_on_average():
    assert chance_overlap(11, 3) == pytest.approx(0.3)
    assert chance_overlap(1, 0) == 1.0
    rng = np.random.default_rng(0)
    count, k = 30, 4
    draws = [
        neighbour_overlap(
            *(
                np.array([rng.choice(np.delete(np.arange(count), i), k, replace=False) for i in range(count)])
                for _ in range(2)
            )
        ).mean()
        for _ in range(300)
    ]
    assert np.mean(draws) == pytest.approx(chance_overlap(count, k), abs=0.01)


def test_a_turned_mirrored_scaled_and_shifted_copy_aligns_back():
    rng = np.random.default_rng(1)
    points = rng.random((40, 2))
    angle = np.radians(37.0)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    mirror = np.array([[1.0, 0.0], [0.0, -1.0]])
    moved = 2.5 * points @ turn @ mirror + np.array([3.0, -7.0])
    alignment = procrustes_align(points, moved)
    np.testing.assert_allclose(alignment.positions, points, atol=1e-6)
    assert alignment.disparity == pytest.approx(0.0, abs=1e-12)
    assert alignment.scale == pytest.approx(1 / 2.5)
    assert np.linalg.det(alignment.rotation) == pytest.approx(-1.0)  # the mirror is undone
    np.testing.assert_allclose(
        alignment.scale * moved @ alignment.rotation + alignment.translation, alignment.positions, atol=1e-12
    )


def test_disparity_is_scipys_and_unrelated_maps_have_a_large_one():
    rng = np.random.default_rng(2)
    reference, other = rng.random((50, 2)), rng.random((50, 2))
    noisy = reference + rng.normal(0, 0.05, reference.shape)
    for moving in (other, noisy):
        assert procrustes_align(reference, moving).disparity == pytest.approx(procrustes(reference, moving)[2])
    assert procrustes_align(reference, noisy).disparity < 0.1 < procrustes_align(reference, other).disparity <= 1


def test_a_map_of_one_place_aligns_to_the_centre():
    reference = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    alignment = procrustes_align(reference, np.full((3, 2), 0.5))
    np.testing.assert_allclose(alignment.positions, np.broadcast_to(reference.mean(axis=0), (3, 2)))
    assert alignment.disparity == pytest.approx(1.0)
    assert procrustes_align(np.full((3, 2), 0.5), reference).disparity == 0.0


def test_most_changed_are_the_lowest_overlaps_without_the_unchanged():
    overlap = np.array([1.0, 0.5, 0.0, 1.0, 0.5, 0.25])
    comparison = Comparison(
        "b.keras", None, "code", 4, (8, 8, 1), np.zeros((6, 4), int), overlap, np.zeros((6, 2)), 0.0
    )
    assert comparison.most_changed(10).tolist() == [2, 5, 1, 4]
    assert comparison.most_changed(2).tolist() == [2, 5]
    assert comparison.k == 4 and comparison.mean_overlap == pytest.approx(3.25 / 6)
    assert comparison.chance == pytest.approx(4 / 5)
