"""The neighbour search through a reduced space against all-pairs search, on sets small enough
to check but made to take that path."""

import numpy as np
import pytest

from aevis.latent import neighbours
from aevis.latent.neighbours import nearest_neighbours


def _clustered_codes(count=1200, dimensions=96, seed=0):
    """Clusters with a decaying spectrum (as real codes have), plus identical codes, exact
    ties, and all-zero codes."""
    rng = np.random.default_rng(seed)
    scales = 1.0 / np.arange(1, dimensions + 1) ** 0.7
    centres = rng.normal(size=(12, dimensions)) * scales * 4
    codes = centres[rng.integers(0, 12, count)] + rng.normal(size=(count, dimensions)) * scales
    codes[100:104] = codes[7]  # four copies of one code: ties that only the index can order
    codes[200] = codes[300] * 3.0  # same direction, other length: cosine 1 exactly
    codes[[50, 400, count - 1]] = 0.0  # codes of broken images
    return codes.astype(np.float32)


def _float64_reference(codes, k):
    """All pairs, summed in float64 and rounded to float32, most similar first, ties to the
    lower index: what the reduced-space search promises exactly."""
    unit = neighbours.unit_codes(codes).astype(np.float64)
    full = (unit @ unit.T).astype(np.float32)
    np.fill_diagonal(full, -np.inf)
    order = np.argsort(-full, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(full, order, axis=1)


@pytest.fixture
def reduced_path(monkeypatch):
    """Every set takes the reduced-space path, with few dimensions and candidates, so that
    many rows need the second search."""
    monkeypatch.setattr(neighbours, "EXACT_SEARCH_UP_TO", 0)
    monkeypatch.setattr(neighbours, "REDUCED_DIMENSIONS", 6)
    monkeypatch.setattr(neighbours, "CANDIDATES", 8)
    monkeypatch.setattr(neighbours, "UNPROVEN_CANDIDATES", 8)


@pytest.mark.parametrize("k", [1, 6, 10])
def test_reduced_path_finds_the_exact_neighbours_and_similarities(reduced_path, k):
    codes = _clustered_codes()
    indices, similarities = nearest_neighbours(codes, k)
    expected_indices, expected_similarities = _float64_reference(codes, k)
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_array_equal(similarities, expected_similarities)
    assert indices.dtype == np.int64 and similarities.dtype == np.float32


def test_reduced_path_orders_ties_by_index_and_keeps_zero_codes_at_zero(reduced_path):
    indices, similarities = nearest_neighbours(_clustered_codes(), 6)
    assert list(indices[7, :4]) == [100, 101, 102, 103] and np.allclose(similarities[7, :4], 1.0, atol=1e-6)
    assert list(indices[101, :4]) == [7, 100, 102, 103]
    assert indices[200, 0] == 300 and similarities[200, 0] == pytest.approx(1.0, abs=1e-6)
    assert list(indices[50]) == [0, 1, 2, 3, 4, 5] and np.all(similarities[50] == 0.0)
    assert list(indices[0]) == list(nearest_neighbours(_clustered_codes(), 6)[0][0])


def test_reduced_path_agrees_with_all_pairs_search_up_to_float32_rounding(reduced_path, monkeypatch):
    codes = _clustered_codes(seed=1)
    reduced = nearest_neighbours(codes, 6)
    monkeypatch.setattr(neighbours, "EXACT_SEARCH_UP_TO", len(codes))
    exact = nearest_neighbours(codes, 6)
    np.testing.assert_allclose(reduced[1], exact[1], atol=1e-6)
    # Where the two lists differ, the float32 sums rated the codes within rounding of each other.
    unit = neighbours.unit_codes(codes)
    rated = np.einsum("ij,ikj->ik", unit, unit[reduced[0]])
    np.testing.assert_allclose(rated, exact[1], atol=1e-6)
    assert np.mean(reduced[0] == exact[0]) > 0.99


def test_reduced_path_is_exact_with_generous_settings_too(monkeypatch):
    monkeypatch.setattr(neighbours, "EXACT_SEARCH_UP_TO", 0)
    monkeypatch.setattr(neighbours, "CANDIDATES", 40)
    codes = _clustered_codes(seed=2)
    np.testing.assert_array_equal(nearest_neighbours(codes, 6)[0], _float64_reference(codes, 6)[0])


def test_reduced_path_does_not_depend_on_group_sizes(reduced_path, monkeypatch):
    codes = _clustered_codes(count=700, seed=3)
    whole = nearest_neighbours(codes, 6)
    monkeypatch.setattr(neighbours, "_BLOCK", 37)
    monkeypatch.setattr(neighbours, "_POOL_FLOATS", 96 * 50)
    monkeypatch.setattr(neighbours, "_PCA_SAMPLE", 300)
    grouped = nearest_neighbours(codes, 6)
    np.testing.assert_array_equal(whole[0], grouped[0])
    np.testing.assert_array_equal(whole[1], grouped[1])


def test_all_pairs_path_is_unchanged():
    """The search below the switch-over is the one that made existing caches: float32 products
    of whole blocks, bit for bit."""
    codes = _clustered_codes(count=600, seed=4)
    unit = neighbours.unit_codes(codes)
    # Of a copy: NumPy computes ``a @ a.T`` of one buffer as a symmetric product (BLAS syrk),
    # rounded differently from the general product the search runs (and the copies' ties with it).
    full = unit.copy() @ unit.T
    np.fill_diagonal(full, -np.inf)
    order = np.argsort(-full, axis=1, kind="stable")[:, :6]
    indices, similarities = nearest_neighbours(codes, 6)
    np.testing.assert_array_equal(indices, order)
    np.testing.assert_array_equal(similarities, np.take_along_axis(full, order, axis=1))


def test_above_the_proven_size_neighbours_are_the_candidates_best_with_exact_similarities(reduced_path, monkeypatch):
    monkeypatch.setattr(neighbours, "PROVEN_UP_TO", 0)
    codes = _clustered_codes()
    indices, similarities = nearest_neighbours(codes, 6)
    expected_indices, _ = _float64_reference(codes, 6)
    unit = neighbours.unit_codes(codes).astype(np.float64)
    listed = np.einsum("ij,ikj->ik", unit, unit[indices]).astype(np.float32)
    np.testing.assert_allclose(similarities, listed, atol=1e-6)  # each listed similarity is exact
    assert (np.diff(similarities, axis=1) <= 1e-6).all() and not (indices == np.arange(len(codes))[:, None]).any()
    # With 6 dimensions and 8 candidates some true neighbours are missed, and the recall says how many.
    missed = np.mean([len(set(found) & set(true)) / 6 for found, true in zip(indices, expected_indices)])
    recall = neighbours.neighbour_recall(codes, indices, sample=len(codes))
    assert 0.5 < recall < 1.0 and recall == pytest.approx(missed, abs=0.01)  # ties count as found
    assert neighbours.neighbour_recall(codes, expected_indices, sample=len(codes)) == 1.0
    # Proven, the same search is exact again.
    monkeypatch.setattr(neighbours, "PROVEN_UP_TO", len(codes))
    np.testing.assert_array_equal(nearest_neighbours(codes, 6)[0], expected_indices)


def test_recall_of_listed_neighbours_counts_the_true_ones_on_a_sample():
    codes = _clustered_codes(count=600, dimensions=16, seed=3)
    true, _ = _float64_reference(codes, 4)
    assert neighbours.neighbour_recall(codes, true[:, ::-1], sample=600) == 1.0  # the same four, any order
    wrong = np.roll(true, 300, axis=0)  # another image's neighbours
    expected = np.mean([len(set(a) & set(b)) / 4 for a, b in zip(wrong, true)])
    # Zero codes tie with every code at 0, so anything listed for them counts: within 3 rows of 600.
    assert neighbours.neighbour_recall(codes, wrong, sample=600) == pytest.approx(expected, abs=3 / 600)
    assert neighbours.neighbour_recall(codes, true, sample=50, seed=1) == 1.0


def test_reduced_candidates_are_each_rows_nearest_in_the_reduced_space(monkeypatch):
    """Checked against every distance sorted, with blocks and floor samples small enough that
    each block's floor lets through more than the candidates."""
    monkeypatch.setattr(neighbours, "_FLOOR_SAMPLE", 60)
    monkeypatch.setattr(neighbours, "_PRODUCT_FLOATS", 500 * 23)
    points = np.random.default_rng(5).normal(size=(500, 7)).astype(np.float32)
    points[10:13] = points[3]  # ties at distance 0
    candidates, farthest = neighbours._reduced_candidates(points, 9)
    squared = ((points[:, None].astype(np.float64) - points[None]) ** 2).sum(-1)
    nearest = np.sort(squared, axis=1)[:, :9]
    found = np.sort(np.take_along_axis(squared, candidates, axis=1), axis=1)
    np.testing.assert_allclose(found, nearest, atol=1e-5)
    np.testing.assert_allclose(farthest, nearest[:, -1], atol=1e-5)
    assert all(len(set(row)) == 9 for row in candidates)
    assert set(candidates[3]) >= {3, 10, 11, 12}


def _centred_reference(codes, k):
    """Brute force of the gallery's similarity: every pair's cosine of the codes less their
    mean, in float64, most similar first, ties to the lower index."""
    centred = codes.astype(np.float64) - codes.astype(np.float64).mean(axis=0)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    unit = np.divide(centred, norms, out=np.zeros_like(centred), where=norms > 0)
    full = unit @ unit.T
    np.fill_diagonal(full, -np.inf)
    order = np.argsort(-full, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(full, order, axis=1)


def _all_positive_codes(count=600, dimensions=64, seed=5):
    """Codes as a ReLU layer makes them: all non-negative, sharing one strong common part, so
    their raw cosines crowd near 1."""
    rng = np.random.default_rng(seed)
    common = rng.uniform(2.0, 3.0, dimensions)
    return np.maximum(common + rng.normal(size=(count, dimensions)) * 0.3, 0).astype(np.float32)


@pytest.mark.parametrize("path", ["all pairs", "reduced"])
def test_centred_similarities_are_the_cosines_of_codes_less_their_mean(path, monkeypatch):
    if path == "reduced":
        monkeypatch.setattr(neighbours, "EXACT_SEARCH_UP_TO", 0)
        monkeypatch.setattr(neighbours, "REDUCED_DIMENSIONS", 6)
        monkeypatch.setattr(neighbours, "CANDIDATES", 8)
    codes = _all_positive_codes()
    centre = neighbours.mean_code(codes)
    np.testing.assert_allclose(centre, codes.astype(np.float64).mean(axis=0), rtol=1e-6)
    indices, similarities = nearest_neighbours(codes, 6, centre=centre)
    expected_indices, expected_similarities = _centred_reference(codes, 6)
    np.testing.assert_allclose(similarities, expected_similarities, atol=2e-6)
    assert np.mean(indices == expected_indices) > 0.99  # the rest: within rounding of each other
    rated = neighbours.pair_similarities(codes, np.repeat(np.arange(len(codes)), 6), indices.reshape(-1), centre)
    np.testing.assert_allclose(rated.reshape(-1, 6), expected_similarities, atol=2e-6)


def test_centring_spreads_the_similarities_that_raw_cosine_crowds_near_one():
    codes = _all_positive_codes()
    raw = nearest_neighbours(codes, 1)[1][:, 0]
    centred = nearest_neighbours(codes, 1, centre=neighbours.mean_code(codes))[1][:, 0]
    assert np.median(raw) > 0.99 and np.median(centred) < 0.6
    copy = np.concatenate([codes, codes[:1]])  # an exact copy still reads 1
    assert nearest_neighbours(copy, 1, centre=neighbours.mean_code(copy))[1][0, 0] == pytest.approx(1.0, abs=1e-6)


def test_pair_similarities_read_codes_in_a_file_as_in_memory(tmp_path):
    from aevis._utils.codes import CodeFile, write_npy

    codes = _all_positive_codes(count=50)
    write_npy(codes, tmp_path / "codes.npy")
    stored = CodeFile.open_npy(tmp_path / "codes.npy")
    first, second = np.arange(50), np.arange(50)[::-1]
    centre = neighbours.mean_code(stored)
    np.testing.assert_array_equal(centre, neighbours.mean_code(codes))
    np.testing.assert_array_equal(
        neighbours.pair_similarities(stored, first, second, centre),
        neighbours.pair_similarities(codes, first, second, centre),
    )
    raw = neighbours.pair_similarities(codes, first, second)
    unit = codes.astype(np.float64) / np.linalg.norm(codes.astype(np.float64), axis=1, keepdims=True)
    np.testing.assert_allclose(raw, np.einsum("ij,ij->i", unit, unit[::-1]), atol=1e-6)
