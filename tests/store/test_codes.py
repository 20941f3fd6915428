"""Codes kept in a file read, hash and compute exactly as the same codes in memory."""

import hashlib

import numpy as np
import pytest

from aevis._utils import codes
from aevis._utils.codes import CodeFile, map_blocks, write_npy
from aevis._utils.keys import array_hash
from aevis.latent import neighbours
from aevis.latent.clusters import kmeans_clusters
from aevis.latent.made_of import made_of
from aevis.latent.map import tsne_map
from aevis.latent.neighbours import (
    finite_codes,
    finite_rows,
    mean_code,
    nearest_neighbours,
    nearest_of,
    neighbour_recall,
)
from aevis.latent.trust import neighbourhoods
from aevis.store.cache import ResultCache
from tests.latent.test_neighbours import _clustered_codes

RNG = np.random.default_rng(3)
VALUES = RNG.normal(size=(37, 5)).astype(np.float32)


def _in_file(values: np.ndarray) -> CodeFile:
    stored = CodeFile.temporary(values.shape)
    for row, code in enumerate(values):  # one at a time, as the encoder writes them
        stored[row] = code
    return stored


def test_a_code_file_indexes_as_the_array_does():
    stored = _in_file(VALUES)
    assert stored.shape == (37, 5) and len(stored) == 37 and stored.nbytes == VALUES.nbytes
    keys = (
        0,
        -1,
        36,
        slice(None),
        slice(3, 9),
        slice(30, None, 2),
        slice(5, 5),
        [4, 5, 6, 20],
        [9, 2, 2, 30],
        np.array([], np.int64),
        np.arange(37) % 2 == 0,
        (slice(2, 6), 3),
        (7, slice(1, 3)),
    )
    for key in keys:
        np.testing.assert_array_equal(stored[key], VALUES[key], err_msg=repr(key))
        assert stored[key].dtype == np.float32
    stored[[3, 4, 10]] = 0.5
    expected = VALUES.copy()
    expected[[3, 4, 10]] = 0.5
    np.testing.assert_array_equal(np.asarray(stored), expected)
    np.testing.assert_array_equal(np.stack(list(stored)), expected)


def test_a_code_file_hashes_and_saves_as_the_array(tmp_path, monkeypatch):
    monkeypatch.setattr(codes, "_BLOCK", 4)  # blocks that do not divide the rows
    stored = _in_file(VALUES)
    assert array_hash(stored) == array_hash(VALUES)
    digest = hashlib.sha256()
    stored.update_hash(digest)
    assert digest.digest() == hashlib.sha256(VALUES.tobytes()).digest()
    write_npy(stored, tmp_path / "codes.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "codes.npy"), VALUES)
    reopened = CodeFile.open_npy(tmp_path / "codes.npy")
    np.testing.assert_array_equal(reopened[[1, 2, 30]], VALUES[[1, 2, 30]])
    np.testing.assert_array_equal(map_blocks(lambda block: block.sum(axis=1), reopened), VALUES.sum(axis=1))
    np.save(tmp_path / "wide.npy", np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="float32"):
        CodeFile.open_npy(tmp_path / "wide.npy")


def test_the_cache_keeps_large_codes_in_a_file_read_in_place(tmp_path, monkeypatch):
    cache = ResultCache(tmp_path)
    cache.put_codes("encoded set", "ab" * 32, _in_file(VALUES))
    small = cache.codes("encoded set", "ab" * 32)
    assert isinstance(small, np.ndarray)
    monkeypatch.setattr(codes, "IN_MEMORY_LIMIT", 0)
    large = cache.codes("encoded set", "ab" * 32)
    assert isinstance(large, CodeFile)
    np.testing.assert_array_equal(small, VALUES)
    np.testing.assert_array_equal(np.asarray(large), VALUES)
    assert cache.codes("encoded set", "cd" * 32) is None
    assert isinstance(codes.allocate((3, 2)), CodeFile)


def test_non_finite_codes_in_a_file_are_cleaned_into_another():
    broken = VALUES.copy()
    broken[[2, 20], [1, 4]] = [np.nan, np.inf]
    stored = _in_file(broken)
    np.testing.assert_array_equal(finite_rows(stored), ~np.isin(np.arange(37), [2, 20]))
    cleaned = finite_codes(stored)
    np.testing.assert_array_equal(np.asarray(cleaned), np.nan_to_num(broken, nan=0.0, posinf=0.0, neginf=0.0))
    clean = _in_file(VALUES)
    assert finite_codes(clean) is clean  # nothing to clean: no copy


def test_whole_set_computations_give_the_same_from_a_file(monkeypatch):
    """The reduced-space neighbour search (made to run on a small set), its recall, the map,
    the clusters and the neighbourhoods read the codes only by indexing."""
    monkeypatch.setattr(neighbours, "EXACT_SEARCH_UP_TO", 0)
    monkeypatch.setattr(neighbours, "REDUCED_DIMENSIONS", 6)
    monkeypatch.setattr(neighbours, "_BLOCK", 100)
    values = _clustered_codes(count=500, dimensions=24)
    stored = _in_file(values)
    found, expected = nearest_neighbours(stored, 6), nearest_neighbours(values, 6)
    np.testing.assert_array_equal(found[0], expected[0])
    np.testing.assert_array_equal(found[1], expected[1])
    assert neighbour_recall(stored, found[0]) == neighbour_recall(values, expected[0])
    # Centred on the mean code (the gallery's similarity), on both paths, and the Made of mixes.
    centre = mean_code(stored)
    np.testing.assert_array_equal(centre, mean_code(values))
    found, expected = nearest_neighbours(stored, 6, centre=centre), nearest_neighbours(values, 6, centre=centre)
    np.testing.assert_array_equal(found[0], expected[0])
    np.testing.assert_array_equal(found[1], expected[1])
    assert neighbour_recall(stored, found[0], centre=centre) == neighbour_recall(values, expected[0], centre=centre)
    np.testing.assert_array_equal(
        nearest_of(stored, np.arange(0, 500, 7), 20, centre), nearest_of(values, np.arange(0, 500, 7), 20, centre)
    )
    for mine, theirs in zip(made_of(stored, np.array([3, 99]), centre), made_of(values, np.array([3, 99]), centre)):
        np.testing.assert_array_equal(mine.indices, theirs.indices)
        np.testing.assert_array_equal(mine.weights, theirs.weights)
    np.testing.assert_array_equal(tsne_map(stored, 0), tsne_map(values, 0))
    np.testing.assert_array_equal(kmeans_clusters(stored, 4, 0)[0], kmeans_clusters(values, 4, 0)[0])
    positions = RNG.random((500, 2)).astype(np.float32)
    for name, figures in neighbourhoods(stored, positions).items():
        np.testing.assert_array_equal(figures, neighbourhoods(values, positions)[name], err_msg=name)
