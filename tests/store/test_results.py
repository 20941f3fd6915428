"""Results: the numbers of a build, equal to the plain computations (and, for a hand-weighted
model, to values worked out on paper), found in the cache on the next build, and recomputed
exactly where an input changed."""

from __future__ import annotations

import dataclasses
import shutil
from collections import Counter

import numpy as np
import pytest

from aevis import faithfulness
from aevis._utils import codes as stored_codes
from aevis._utils.codes import CodeFile
from aevis._utils.keys import array_hash
from aevis.faithfulness.randomization import randomization_cascade
from aevis.latent import mosaic, quality
from aevis.latent.clusters import CLUSTERS, kmeans_clusters
from aevis.latent.map import tsne_map
from aevis.latent.neighbours import mean_code, nearest_neighbours
from aevis.model import Autoencoder
from aevis.network import featurevis
from aevis.network.morphs import MORPH_STEPS
from aevis.store.cache import ResultCache
from aevis.store.results import Results
from tests.models import random_images

COUNT, BATCH, K, SEED = 8, 3, 2, 0
"""Eight 8x8 images, encoded three at a time (the last batch short), two neighbours each."""
LABELS = ["a", "b"] * (COUNT // 2)
ROWS = np.arange(COUNT)
FAITHFUL_ROWS = np.array([0, 3, 5])


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return random_images(COUNT, 8, seed=11)


@pytest.fixture(scope="module")
def saved_ae(colour_ae) -> Autoencoder:
    """The colour model as if loaded from a file (only a model with a file hash is cached)."""
    return dataclasses.replace(colour_ae, sha256="c0" * 32)


# ---------------------------------------------------------------------------------- on paper


def _pooled(images: np.ndarray) -> np.ndarray:
    """The colour model's code: each colour 2x2 max-pooled, (N, 4, 4, 3)."""
    count, height, width, channels = images.shape
    return images.reshape(count, height // 2, 2, width // 2, 2, channels).max(axis=(2, 4))


def _upsampled(codes: np.ndarray) -> np.ndarray:
    """The colour model's decoder: every code cell repeated over its 2x2 window."""
    return codes.repeat(2, axis=-3).repeat(2, axis=-2)


def _argmax_cells(maps: np.ndarray) -> np.ndarray:
    """(N, channels, 2): (row, column) of each channel's largest value."""
    count, height, width, channels = maps.shape
    flat = maps.reshape(count, height * width, channels).argmax(axis=1)
    return np.stack([flat // width, flat % width], axis=-1)


def _saliency_by_hand(image: np.ndarray, reference_code: np.ndarray) -> np.ndarray:
    """Saliency of t(x) = ⟨pool(x), ẑ⟩ with ẑ the unit reference code: max-pooling passes each
    colour's gradient to its window's brightest pixel only, where it is that colour's ẑ entry."""
    unit = (reference_code / np.linalg.norm(reference_code)).reshape(4, 4, 3)
    gradient = np.zeros((8, 8, 3))
    for row in range(4):
        for column in range(4):
            for colour in range(3):
                window = image[2 * row : 2 * row + 2, 2 * column : 2 * column + 2, colour]
                dy, dx = divmod(int(window.argmax()), 2)
                gradient[2 * row + dy, 2 * column + dx, colour] = unit[row, column, colour]
    return np.abs(gradient).max(axis=-1)


# ---------------------------------------------------------------------------------- a build's calls


def _everything(results: Results) -> dict:
    """Every result a build asks for, in the build's order, as plain values."""
    encoded = results.encode()
    codes = encoded.codes
    indices, similarities = results.neighbours(codes, K)
    positions = results.tsne(codes, SEED)
    cells, columns, rows = results.mosaic_cells(positions)
    clusters, cluster_count = results.clusters(codes, SEED)
    maps, keys = results.maps(ROWS, "saliency", "self", {})
    pair_maps, _ = results.pair_maps(ROWS, indices, "saliency", {})
    pictures, _ = results.feature_pictures(np.array([0, 2]), SEED)
    steps = results.cascade(0, "saliency", maps[0], keys[0], "self", None, {}, SEED)
    return {
        "codes": codes,
        "code_keys": encoded.code_keys,
        "errors": encoded.errors,
        "error_sample": encoded.error_sample,
        "error_maps": results.error_maps(ROWS[::-1]),
        "finite": encoded.reconstruction_finite,
        "rankings": {name: ranking.arrays() for name, ranking in encoded.rankings.items()},
        "indices": indices,
        "similarities": similarities,
        "positions": positions,
        "mosaic": (cells, columns, rows),
        "clusters": (clusters, cluster_count),
        "map_quality": results.map_quality(codes, positions, LABELS, SEED),
        "maps": maps,
        "keys": keys,
        "pair_maps": pair_maps,
        "feature_pictures": pictures,
        "faithfulness": results.faithfulness(
            FAITHFUL_ROWS,
            {"saliency": maps[FAITHFUL_ROWS]},
            {"saliency": [keys[row] for row in FAITHFUL_ROWS]},
            None,
            "self",
            None,
            {"saliency": {}},
            SEED,
        ),
        "cascade": [(step.layer, step.maps, step.spearman) for step in steps],
    }


@pytest.fixture(scope="module")
def first_build(saved_ae, images, tmp_path_factory):
    """(cache folder, what a first build computed, its misses): the cache later builds start from."""
    root = tmp_path_factory.mktemp("results")
    cache = ResultCache(root)
    return root, _everything(Results(saved_ae, images, cache, BATCH)), cache.misses.copy()


@pytest.fixture
def warm_cache(first_build, tmp_path) -> ResultCache:
    """A copy of the first build's cache, for one test to add to."""
    shutil.copytree(first_build[0], tmp_path / "results")
    return ResultCache(tmp_path / "results")


def _assert_identical(first, second, where: str = "") -> None:
    """Equal bit for bit, dtype included, through dicts, lists and tuples."""
    if isinstance(first, dict):
        assert list(first) == list(second), where
        for name in first:
            _assert_identical(first[name], second[name], f"{where}.{name}")
    elif isinstance(first, (list, tuple)):
        assert len(first) == len(second), where
        for number, (one, other) in enumerate(zip(first, second)):
            _assert_identical(one, other, f"{where}[{number}]")
    elif isinstance(first, np.ndarray):
        assert second.dtype == first.dtype and second.shape == first.shape, where
        assert second.tobytes() == first.tobytes(), where
    elif isinstance(first, float) and np.isnan(first):
        assert np.isnan(second), where
    else:
        assert second == first and type(second) is type(first), where


# ---------------------------------------------------------------------------------- the values


def test_encode_gives_the_codes_errors_and_channel_numbers_worked_out_on_paper(first_build, images):
    _, found, _ = first_build
    pooled = _pooled(images)
    np.testing.assert_allclose(found["codes"], pooled.reshape(COUNT, -1), rtol=1e-6)
    error_maps = ((images - _upsampled(pooled)) ** 2).mean(axis=-1)
    np.testing.assert_allclose(found["error_sample"], error_maps, rtol=1e-5, atol=1e-7)  # a small set: all
    np.testing.assert_allclose(found["error_maps"], error_maps[::-1], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(found["errors"], error_maps.mean(axis=(1, 2)), rtol=1e-5, atol=1e-7)
    assert found["finite"].dtype == bool and found["finite"].all()
    assert found["code_keys"] == [array_hash(code) for code in found["codes"]]
    assert list(found["rankings"]) == ["colour", "encoded"]  # the gallery layers, encoder first
    for name, maps in (("colour", images), ("encoded", pooled)):
        means, ranking = maps.mean(axis=(1, 2)), found["rankings"][name]
        top = np.argsort(-means, axis=0, kind="stable")[: ranking["indices"].shape[1]].T  # (channels, k)
        np.testing.assert_array_equal(ranking["indices"], top)
        np.testing.assert_allclose(ranking["values"], np.take_along_axis(means.T, top, axis=1), rtol=1e-5)
        np.testing.assert_array_equal(ranking["cells"], _argmax_cells(maps)[top, np.arange(means.shape[1])[:, None]])


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # its error map is NaN
def test_an_image_that_rebuilds_to_infinity_is_marked(colour_ae, images):
    broken = images.copy()
    broken[2, 1, 1, 0] = np.inf  # infinite red: its code and its reconstruction are not finite
    encoded = Results(colour_ae, broken, ResultCache(None), BATCH).encode()
    np.testing.assert_array_equal(encoded.reconstruction_finite, np.arange(COUNT) != 2)


def test_whole_set_results_equal_the_plain_computations(first_build, saved_ae, images):
    _, found, _ = first_build
    codes = found["codes"]
    _assert_identical(nearest_neighbours(codes, K, centre=mean_code(codes)), (found["indices"], found["similarities"]))
    _assert_identical(tsne_map(codes, SEED), found["positions"])
    _assert_identical(mosaic.grid_cells(found["positions"]), found["mosaic"])
    _assert_identical(kmeans_clusters(codes, CLUSTERS, SEED), found["clusters"])
    _assert_identical(
        quality.map_quality(codes, found["positions"], LABELS, seed=SEED, images=images), found["map_quality"]
    )
    _assert_identical(featurevis.visualize(saved_ae, [0, 2], seed=SEED), found["feature_pictures"])
    figures = faithfulness.faithfulness(
        saved_ae,
        images[FAITHFUL_ROWS],
        {"saliency": found["maps"][FAITHFUL_ROWS]},
        None,
        target="self",
        method_options={"saliency": {}},
        sample=len(FAITHFUL_ROWS),
        seed=SEED,
        batch_size=BATCH,
    )
    _assert_identical(figures, found["faithfulness"])
    steps = randomization_cascade(saved_ae, images[:1], "saliency", found["maps"][:1], target="self", seed=SEED)
    _assert_identical([(step.layer, step.maps, step.spearman) for step in steps], found["cascade"])
    assert [layer for layer, _, _ in found["cascade"]] == ["colour"]  # the one weighted encoder layer


def test_codes_kept_in_a_file_give_every_result_bit_for_bit(first_build, saved_ae, images, tmp_path, monkeypatch):
    """Above the in-memory limit the codes are encoded into a file, stored in the cache as one,
    and read back in place; everything computed from them is the same."""
    monkeypatch.setattr(stored_codes, "IN_MEMORY_LIMIT", 0)
    for _ in range(2):  # encoded into a file, then read from the cache's
        results = Results(saved_ae, images, ResultCache(tmp_path / "results"), BATCH)
        found = _everything(results)
        assert isinstance(found["codes"], CodeFile)
        found["codes"] = np.asarray(found["codes"])
        _assert_identical(first_build[1], found)
    assert results.cache.hits["encoded set"] == 1


def test_heat_maps_and_pair_maps_are_the_saliency_worked_out_on_paper(first_build, images):
    _, found, _ = first_build
    codes, indices = found["codes"], found["indices"]
    for row in ROWS:
        np.testing.assert_allclose(found["maps"][row], _saliency_by_hand(images[row], codes[row]), rtol=1e-5)
        for rank, other in enumerate(indices[row]):
            # [row, rank, 0]: this image against its neighbour's code; [.., 1]: the neighbour against this one's.
            np.testing.assert_allclose(
                found["pair_maps"][row, rank, 0], _saliency_by_hand(images[row], codes[other]), rtol=1e-5
            )
            np.testing.assert_allclose(
                found["pair_maps"][row, rank, 1], _saliency_by_hand(images[other], codes[row]), rtol=1e-5
            )
    assert found["pair_maps"].shape == (COUNT, K, 2, 8, 8)


def test_the_same_map_asked_for_twice_is_computed_once(saved_ae, images, tmp_path):
    results = Results(saved_ae, images, ResultCache(tmp_path), BATCH)
    results.encode()
    maps, keys = results.maps(np.array([4, 1, 4]), "saliency", "self", {})
    assert results.cache.misses["saliency"] == 2 and keys[0] == keys[2] != keys[1]
    _assert_identical(maps[0], maps[2])
    np.testing.assert_allclose(maps[1], _saliency_by_hand(images[1], results.encode().codes[1]), rtol=1e-5)


def test_pictures_inputs_are_computed_from_the_model_and_never_stored(saved_ae, images, tmp_path):
    cache = ResultCache(tmp_path / "results")
    results = Results(saved_ae, images, cache, BATCH)
    rows, partners = np.array([1, 6]), np.array([6, 0])
    with pytest.raises(RuntimeError, match="encode"):
        results.morph_frames(rows, partners)
    with pytest.raises(RuntimeError, match="encode"):
        results.maps(rows, "saliency", "self", {})
    pooled = _pooled(images)
    np.testing.assert_allclose(results.reconstructions(rows), _upsampled(pooled[rows]), rtol=1e-6)
    layers = results.feature_maps(rows)
    np.testing.assert_allclose(layers["colour"], images[rows], rtol=1e-6)  # identity 1x1 convolution
    np.testing.assert_allclose(layers["encoded"], pooled[rows], rtol=1e-6)
    assert not (tmp_path / "results").exists() and not cache.hits and not cache.misses
    results.encode()
    before = (cache.hits.copy(), cache.misses.copy(), sorted((tmp_path / "results").rglob("*")))
    frames = results.morph_frames(rows, partners)
    # The decoder is linear: frame t decodes (1 - t) · code + t · partner's code, for t from 0 to 1.
    weights = np.linspace(0, 1, MORPH_STEPS)[None, :, None, None, None]
    line = (1 - weights) * pooled[rows][:, None] + weights * pooled[partners][:, None]
    np.testing.assert_allclose(frames, _upsampled(line), rtol=1e-5, atol=1e-7)
    assert (cache.hits, cache.misses, sorted((tmp_path / "results").rglob("*"))) == before


# ---------------------------------------------------------------------------------- the cache


_COMPUTATIONS = (
    "aevis.store.results.explain",
    "aevis.store.results.nearest_neighbours",
    "aevis.store.results.code_map",
    "aevis.store.results.kmeans_clusters",
    "aevis.store.results.randomization_cascade",
    "aevis.store.encoding.squared_error",
    "aevis.latent.mosaic.grid_cells",
    "aevis.latent.quality.map_quality",
    "aevis.faithfulness.faithfulness",
    "aevis.network.activations.feature_maps",
    "aevis.network.featurevis.visualize",
)


def _must_not_run(*_, **__):
    raise AssertionError("computed a result the cache holds")


def test_a_second_build_finds_every_result_and_computes_nothing(first_build, saved_ae, images, monkeypatch):
    root, first, computed = first_build
    for computation in _COMPUTATIONS:
        monkeypatch.setattr(computation, _must_not_run)
    monkeypatch.setattr(Autoencoder, "encode", _must_not_run)
    monkeypatch.setattr(Autoencoder, "reconstruct", _must_not_run)
    cache = ResultCache(root)
    second = _everything(Results(saved_ae, images, cache, BATCH))
    _assert_identical(first, second)
    assert sum(cache.misses.values()) == 0
    # Each result the first build computed is found, once; the encodings as one whole-set entry.
    assert computed["encoded"] == COUNT and computed["encoded set"] == 1
    assert cache.hits == computed - Counter({"encoded": COUNT})
    assert computed["saliency"] == COUNT and computed["cascade"] == 1


def _pairs(indices: np.ndarray) -> set[tuple[int, int]]:
    """(image explained, image whose code it is explained against) of every pair map."""
    return {pair for row, others in enumerate(indices) for other in others for pair in ((row, other), (other, row))}


def test_a_changed_image_recomputes_its_own_results_and_the_whole_set_ones(first_build, saved_ae, images, warm_cache):
    _, first, _ = first_build
    changed = images.copy()
    changed[5] = random_images(1, 8, seed=99)[0]
    results = Results(saved_ae, changed, warm_cache, BATCH)
    encoded = results.encode()
    # The whole-set entry misses (an image changed); image by image, only that one is computed.
    assert warm_cache.misses["encoded set"] == 1
    assert (warm_cache.misses["encoded"], warm_cache.hits["encoded"]) == (1, COUNT - 1)
    same = ROWS != 5
    _assert_identical(first["codes"][same], encoded.codes[same])
    _assert_identical(first["errors"][same], encoded.errors[same])
    np.testing.assert_allclose(encoded.codes[5], _pooled(changed[5:6]).reshape(-1), rtol=1e-6)
    maps, _ = results.maps(ROWS, "saliency", "self", {})
    assert (warm_cache.misses["saliency"], warm_cache.hits["saliency"]) == (1, COUNT - 1)
    _assert_identical(first["maps"][same], maps[same])
    np.testing.assert_allclose(maps[5], _saliency_by_hand(changed[5], encoded.codes[5]), rtol=1e-5)
    indices, similarities = results.neighbours(encoded.codes, K)  # whole-set: follows the change
    _assert_identical(nearest_neighbours(encoded.codes, K, centre=mean_code(encoded.codes)), (indices, similarities))
    assert warm_cache.misses["neighbours"] == 1
    results.tsne(encoded.codes, SEED)
    assert warm_cache.misses["tsne"] == 1
    results.pair_maps(ROWS, indices, "saliency", {})
    pairs = _pairs(indices)
    new = {pair for pair in pairs if 5 in pair or pair not in _pairs(first["indices"])}
    assert warm_cache.misses["saliency__pair"] == len(new)
    assert warm_cache.hits["saliency__pair"] == len(pairs) - len(new)


def test_another_seed_target_option_or_model_misses_only_what_it_decides(first_build, saved_ae, images, warm_cache):
    _, first, _ = first_build
    codes, positions, keys = first["codes"], first["positions"], first["keys"]
    results = Results(saved_ae, images, warm_cache, BATCH)
    results.encode()

    def misses(kind: str, ask) -> tuple[int, int]:
        before = (warm_cache.misses[kind], warm_cache.hits[kind])
        ask()
        return warm_cache.misses[kind] - before[0], warm_cache.hits[kind] - before[1]

    assert misses("neighbours", lambda: results.neighbours(codes, K)) == (0, 1)
    assert misses("neighbours", lambda: results.neighbours(codes, K + 1)) == (1, 0)
    assert misses("tsne", lambda: results.tsne(codes, SEED + 1)) == (1, 0)
    assert misses("clusters", lambda: results.clusters(codes, SEED + 1)) == (1, 0)
    assert misses("mosaic", lambda: results.mosaic_cells(positions[::-1].copy())) == (1, 0)
    assert misses("map_quality", lambda: results.map_quality(codes, positions, None, SEED)) == (1, 0)
    assert misses("map_quality", lambda: results.map_quality(codes, positions, LABELS, SEED + 1)) == (1, 0)
    assert misses("featurevis", lambda: results.feature_pictures(np.array([0, 1]), SEED)) == (1, 0)
    assert misses("featurevis", lambda: results.feature_pictures(np.array([], np.int64), SEED)) == (0, 0)
    assert misses("saliency", lambda: results.maps(ROWS, "saliency", "self", {})) == (0, COUNT)
    assert misses("saliency", lambda: results.maps(ROWS, "saliency", "channel:1", {})) == (COUNT, 0)
    assert misses("smoothgrad", lambda: results.maps(ROWS[:2], "smoothgrad", "self", {"samples": 2})) == (2, 0)
    assert misses("smoothgrad", lambda: results.maps(ROWS[:2], "smoothgrad", "self", {"samples": 3})) == (2, 0)
    assert misses("smoothgrad", lambda: results.maps(ROWS[:2], "smoothgrad", "self", {"samples": 2})) == (0, 2)
    assert misses(
        "cascade", lambda: results.cascade(0, "saliency", first["maps"][0], keys[0], "self", None, {}, SEED + 1)
    ) == (1, 0)
    assert misses(
        "faithfulness",
        lambda: results.faithfulness(
            FAITHFUL_ROWS,
            {"saliency": first["maps"][FAITHFUL_ROWS]},
            {"saliency": [keys[row] for row in FAITHFUL_ROWS]},
            None,
            "self",
            None,
            {"saliency": {}},
            SEED + 1,
        ),
    ) == (1, 0)
    other_model = Results(dataclasses.replace(saved_ae, sha256="d1" * 32), images, warm_cache, BATCH)
    assert misses("encoded", other_model.encode) == (COUNT, 0)
    assert misses("saliency", lambda: other_model.maps(ROWS, "saliency", "self", {})) == (COUNT, 0)


def test_without_a_cache_folder_or_a_model_file_nothing_is_kept(colour_ae, saved_ae, images, tmp_path):
    for results in (
        Results(saved_ae, images, ResultCache(None), BATCH),
        Results(colour_ae, images, ResultCache(tmp_path / "results"), BATCH),
    ):  # a model never saved
        assert not results.cache.enabled
        for _ in range(2):  # asked twice, computed twice
            results.neighbours(results.encode().codes, K)
            results.maps(ROWS[:2], "saliency", "self", {})
        assert not results.cache.hits
        assert dict(results.cache.misses) == {"encoded set": 2, "encoded": 2 * COUNT, "neighbours": 2, "saliency": 4}
    assert not (tmp_path / "results").exists()


def test_memory_mapped_images_give_the_same_codes_errors_and_maps_as_in_memory_ones(saved_ae, images):
    from aevis._utils.pixels import Pixels

    in_memory = Pixels.from_unit(images)
    on_disk = Pixels.allocate(images.shape, on_disk=True)
    on_disk[:] = images
    found = []
    for kept in (in_memory, on_disk):
        results = Results(saved_ae, kept, ResultCache(None), BATCH)
        encoded = results.encode()
        maps, _ = results.maps(ROWS, "saliency", "self", {})
        found.append((encoded.codes, encoded.errors, results.error_maps(ROWS), maps, results.image_keys))
    assert on_disk.on_file and not in_memory.on_file
    for first, second in zip(*found):
        np.testing.assert_array_equal(first, second)


def test_maps_asked_for_one_image_at_a_time_are_the_maps_of_one_call(
    first_build, saved_ae, images, tmp_path, monkeypatch
):
    # Large images and codes go to explain() a few at a time (a 540×540 model's pair maps, 4.7 MB
    # a code); the maps do not depend on it.
    from aevis.store import results as results_module

    monkeypatch.setattr(results_module, "_EXPLAINED_BYTES", 1)  # one image a call
    results = Results(saved_ae, images, ResultCache(None), BATCH)
    results.encode()
    maps, _ = results.maps(ROWS, "saliency", "self", {})
    pair_maps, _ = results.pair_maps(ROWS, first_build[1]["indices"], "saliency", {})
    np.testing.assert_array_equal(maps, first_build[1]["maps"])
    np.testing.assert_array_equal(pair_maps, first_build[1]["pair_maps"])
