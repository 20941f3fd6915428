"""SimplEx mixes: weights on the simplex, exact mixes recovered, and the corpus as brute force finds it."""

import numpy as np
import pytest

from aevis.latent.made_of import convex_mix, made_of
from aevis.latent.neighbours import mean_code, nearest_neighbours, nearest_of


def _codes(count=60, dimensions=48, seed=0):
    rng = np.random.default_rng(seed)
    return np.maximum(rng.normal(1.0, 1.0, (count, dimensions)), 0).astype(np.float32)


def test_an_exact_mix_of_the_corpus_is_recovered_with_no_residual():
    rng = np.random.default_rng(1)
    corpus = rng.normal(size=(6, 40))
    truth = np.array([0.5, 0.0, 0.3, 0.0, 0.2, 0.0])
    weights = convex_mix(truth @ corpus, corpus)
    np.testing.assert_allclose(weights, truth, atol=1e-6)


def test_weights_are_non_negative_and_sum_to_one_for_a_code_outside_the_mix():
    rng = np.random.default_rng(2)
    corpus, code = rng.normal(size=(8, 30)), rng.normal(size=30) * 3
    weights = convex_mix(code, corpus)
    assert (weights >= 0).all() and weights.sum() == pytest.approx(1.0, abs=1e-12)
    # No other point of the simplex comes closer (checked against random ones).
    best = np.linalg.norm(code - weights @ corpus)
    others = rng.dirichlet(np.ones(8), 2000)
    assert (np.linalg.norm(code - others @ corpus, axis=1) >= best - 1e-9).all()


@pytest.mark.parametrize(("dimensions", "block"), [(3, 1 << 16), (500, 1 << 16), (500, 64), (500, 5)])
def test_the_reduced_fit_equals_the_fit_on_the_whole_system(dimensions, block, monkeypatch):
    """The QR reduction, in one block or many, keeps the minimiser and the residual: the same
    weights as NNLS over all D rows, and the same distance left."""
    from scipy.optimize import nnls

    from aevis.latent import made_of as module

    monkeypatch.setattr(module, "_BLOCK", block)
    rng = np.random.default_rng(3)
    corpus, code = rng.normal(size=(7, dimensions)), rng.normal(size=dimensions)
    scale = max(np.abs(corpus).max(), np.abs(code).max())
    whole = np.vstack([corpus.T / scale, np.full((1, 7), 1e3)])
    expected, _ = nnls(whole, np.concatenate([code / scale, [1e3]]), maxiter=350)
    expected /= expected.sum()
    weights, left = module._fit(code, corpus)
    np.testing.assert_allclose(weights, expected, atol=1e-9)
    assert left == pytest.approx(np.linalg.norm(code - expected @ corpus), rel=1e-9)


def test_a_code_planted_as_a_mix_of_its_neighbours_is_rebuilt_from_them():
    codes = _codes()
    codes[0] = 0.6 * codes[1] + 0.4 * codes[2]  # its nearest codes include both
    centre = mean_code(codes)
    [mix] = made_of(codes, np.array([0]), centre, corpus=20)
    assert dict(zip(mix.indices.tolist(), mix.weights)) == pytest.approx({1: 0.6, 2: 0.4}, abs=1e-5)
    assert mix.residual == pytest.approx(0.0, abs=1e-5)
    [other] = made_of(codes, np.array([5]), centre, corpus=20)
    assert (other.weights > 0).all() and other.weights.sum() == pytest.approx(1.0)
    assert list(other.weights) == sorted(other.weights, reverse=True)
    assert 0 < other.residual < 1.5


def test_the_corpus_is_each_rows_nearest_codes_as_the_neighbour_search_finds_them():
    codes = _codes(count=90)
    centre = mean_code(codes)
    rows = np.array([0, 7, 89])
    np.testing.assert_array_equal(
        nearest_of(codes, rows, 6, centre), nearest_neighbours(codes, 6, centre=centre)[0][rows]
    )
    assert nearest_of(codes[:1], np.array([0]), 20, centre).shape == (1, 0)


def test_the_manifest_and_each_page_show_the_mix_of_every_paged_image(tiny_site):
    import json
    from pathlib import Path

    from aevis.site import urls

    config, gallery = tiny_site
    site = Path(config.out)
    manifest = json.loads((site / urls.MANIFEST).read_text())
    codes = np.asarray(gallery.codes, np.float64)
    centre = codes.mean(axis=0)
    index_of = {record["slug"]: index for index, record in enumerate(manifest["images"])}
    paged = [record for record in manifest["images"] if record["page"]]
    assert paged
    for record in manifest["images"]:
        if not record["page"]:
            assert "made_of" not in record
    for record in paged:
        weights = np.array([part["weight"] for part in record["made_of"]])
        assert (weights > 0).all() and weights.sum() == pytest.approx(1.0, abs=1e-5)
        others = [index_of[part["slug"]] for part in record["made_of"]]
        own = index_of[record["slug"]]
        assert own not in others
        # The residual is recomputed from the codes and the recorded weights.
        mix = weights @ codes[others]
        expected = np.linalg.norm(codes[own] - mix) / np.linalg.norm(codes[own] - centre)
        assert record["made_of_residual"] == pytest.approx(expected, abs=1e-4)
        html = (site / record["page"]).read_text()
        assert "Made of" in html and "of the blend" in html
        heaviest = manifest["images"][others[0]]
        assert urls.thumbnail(heaviest["slug"]) in html


def test_shares_shown_in_whole_percent_add_up_to_a_hundred():
    from aevis.site.pages import whole_percents

    assert whole_percents([0.455, 0.448, 0.097]) == [45, 45, 10]  # remainders .5, .8, .7: the two largest go up
    assert whole_percents([1 / 3, 1 / 3, 1 / 3]) == [34, 33, 33]
    assert whole_percents([0.5, 0.5, 0.0]) == [50, 50, 0]
    rng = np.random.default_rng(0)
    for weights in rng.dirichlet(np.ones(6), 200):
        percents = whole_percents(weights)
        assert sum(percents) == 100 and all(abs(p - w * 100) < 1 for p, w in zip(percents, weights))


def test_the_residual_is_put_in_words_by_its_size():
    from aevis.site.pages import residual_words

    assert residual_words(0.0).startswith("Nearly all") and residual_words(0.099).startswith("Nearly all")
    assert residual_words(0.1).startswith("Much of it is a mixture") and residual_words(0.49).startswith(
        "Much of it is a mixture"
    )
    assert residual_words(0.5).startswith("Much of it is its own") and residual_words(1.3).startswith(
        "Much of it is its own"
    )
