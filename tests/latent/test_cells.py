"""The exact "why similar" of spatial codes: cell shares of the cosine similarity, in the
manifest, on the neighbour cards and in the faithfulness checks."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from aevis.faithfulness.cells import CELLS, _random_cells, cell_deletion, cell_pixel_maps, with_cells
from aevis.faithfulness.deletion import deletion_order
from aevis.latent.cells import (
    SUM_TOLERANCE,
    cell_contributions,
    cells_to_pixels,
    code_grid,
    grid_of,
    neighbour_cells,
    pair_cells,
    recorded_cells,
    shows_places,
)
from aevis.latent.neighbours import nearest_neighbours
from aevis.model import wrap_autoencoder
from aevis.site import pages, urls
from aevis.site.html import _environment
from aevis.site.words import CELL_WORDS
from tests import models, user_models
from tests.conftest import TINY_BUILD


def _cosine(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    first, second = first.astype(np.float64), second.astype(np.float64)
    return (first * second).sum(axis=1) / (np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1))


# --------------------------------------------------------------------------- the arithmetic


def test_cells_sum_to_the_cosine_similarity_of_random_codes():
    rng = np.random.default_rng(0)
    grid = (3, 5, 4)
    codes = rng.normal(size=(40, math.prod(grid))).astype(np.float32)
    neighbours, similarities = nearest_neighbours(codes, 4)
    cells = cell_contributions(codes, neighbours, grid)
    assert cells.shape == (40, 4, 3, 5)
    expected = _cosine(np.repeat(codes, 4, axis=0), codes[neighbours.reshape(-1)]).reshape(40, 4)
    np.testing.assert_allclose(cells.sum(axis=(2, 3)), expected, atol=1e-12)
    np.testing.assert_allclose(cells.sum(axis=(2, 3)), similarities, atol=1e-5)  # the recorded similarities
    assert (cells < 0).any() and (cells > 0).any()  # shares can take from the similarity too
    # Any pairs at once, and a subset of rows of a larger table, give the same shares.
    first, second = rng.normal(size=(2, 7, math.prod(grid)))
    np.testing.assert_allclose(pair_cells(first, second, grid).sum(axis=(1, 2)), _cosine(first, second), atol=1e-12)
    rows = np.array([5, 11, 30])
    np.testing.assert_array_equal(cell_contributions(codes, neighbours[rows], grid, rows), cells[rows])


def test_cells_of_a_tiny_code_written_out_by_hand():
    # Two 2×2×1 codes, flattened row-major: a = [[1, 2], [3, 4]], b = [[2, 0], [-1, 1]].
    a = np.array([[1.0, 2.0, 3.0, 4.0]], np.float32)
    b = np.array([[2.0, 0.0, -1.0, 1.0]], np.float32)
    # a·b = 2 + 0 − 3 + 4 = 3; ‖a‖ = √30, ‖b‖ = √6, so cos = 3 / √180.
    norms = math.sqrt(30) * math.sqrt(6)
    [cells] = pair_cells(a, b, (2, 2, 1))
    np.testing.assert_allclose(cells, [[2 / norms, 0.0], [-3 / norms, 4 / norms]], rtol=1e-12)
    assert cells.sum() == pytest.approx(3 / math.sqrt(180), abs=1e-12)
    # With two channels a cell's share is the dot product of its two channel vectors.
    a2 = np.array([[1.0, 0.0, 0.0, 2.0]], np.float32)  # cell (0, 0) = (1, 0), cell (0, 1) = (0, 2)
    b2 = np.array([[3.0, 4.0, 0.0, -1.0]], np.float32)  # cell (0, 0) = (3, 4), cell (0, 1) = (0, -1)
    [cells2] = pair_cells(a2, b2, (1, 2, 2))
    np.testing.assert_allclose(cells2, [[3 / (math.sqrt(5) * math.sqrt(26)), -2 / (math.sqrt(5) * math.sqrt(26))]])


def test_a_zero_code_has_zero_cells_and_a_broken_code_undefined_ones():
    codes = np.array([[0, 0, 0, 0], [1, 2, 3, 4], [np.nan, 1, 1, 1]], np.float32)
    cells = cell_contributions(codes, np.array([[1], [0], [1]]), (2, 2, 1))
    assert (cells[0] == 0).all() and (cells[1] == 0).all()  # similarity 0, as the neighbour search counts it
    assert np.isnan(cells[2]).all()
    # As the gallery records them: broken values set to 0 first, as the neighbour search does.
    recorded = neighbour_cells(codes, np.array([[1], [0], [1]]), np.array([2, 1]), (2, 2, 1))
    np.testing.assert_allclose(recorded[0, 0], pair_cells(np.array([[0, 1, 1, 1]]), codes[1:2], (2, 2, 1))[0])
    assert (recorded[1] == 0).all()
    with pytest.raises(ValueError, match=r"shape \(M, 8\)"):
        pair_cells(codes, codes, (2, 2, 2))


def test_cells_laid_over_the_image_keep_their_sum_and_their_place():
    cells = np.array([[1.0, -2.0], [0.5, 0.0]])
    pixels = cells_to_pixels(cells, 4, 4)
    np.testing.assert_allclose(pixels[:2, :2], 0.25)  # each cell's share spread over its 2×2 block
    np.testing.assert_allclose(pixels[:2, 2:], -0.5)
    np.testing.assert_allclose(pixels[2:, :2], 0.125)
    assert pixels.sum() == pytest.approx(cells.sum())
    uneven = cells_to_pixels(cells, 5, 3)  # cells of unequal size: still the same sum
    assert uneven.shape == (5, 3) and uneven.sum() == pytest.approx(cells.sum())
    assert cells_to_pixels(np.ones((2, 3, 2, 2)), 6, 6).shape == (2, 3, 6, 6)


def test_recorded_cells_sum_to_the_recorded_similarity_with_more_decimals_where_needed():
    rng = np.random.default_rng(1)
    shares = rng.normal(0, 0.01, (4, 4))
    recorded = recorded_cells(shares, shares.sum())
    assert all(value == round(value, 6) for row in recorded for value in row)  # rounded like the similarities
    assert abs(sum(map(sum, recorded)) - round(shares.sum(), 6)) <= SUM_TOLERANCE
    # A hundred shares of 1.4e-6 round to 1e-6 each at six decimals, 4e-5 short of their sum.
    tiny = np.full((10, 10), 1.4e-6)
    recorded = recorded_cells(tiny, tiny.sum())
    assert abs(sum(map(sum, recorded)) - round(tiny.sum(), 6)) <= SUM_TOLERANCE
    assert recorded[0][0] == pytest.approx(1.4e-6, abs=5e-8)
    assert recorded_cells(np.array([[np.nan]]), 0.0) == [[None]]


def test_the_grid_of_a_conv_code_and_none_for_a_dense_one(seed_ae, quadrant_ae):
    assert code_grid(seed_ae) == (1, 1, 8)  # 16×16 pooled four times: one cell, exact but nowhere
    assert not shows_places(code_grid(seed_ae))
    assert code_grid(quadrant_ae) is None  # its code is the Dense layer 'encoded'
    assert code_grid(wrap_autoencoder(user_models.dense_bottleneck())) is None
    assert code_grid(wrap_autoencoder(user_models.sequential_with_input())) == (4, 4, 4)
    assert shows_places((4, 4, 4)) and grid_of((None, 4, 4)) is None and grid_of((6,)) is None


# --------------------------------------------------------------------------- the deletion check


@pytest.fixture(scope="module")
def quadrant_grid_ae():
    """The quadrant reader with its code taken at 'last_conv': a 16×16×4 grid that is exactly
    zero outside the top-left 8×8 quadrant, the only part of the image the code depends on."""
    return wrap_autoencoder(models.top_left_reader(), "last_conv")


def test_cell_deletion_on_a_code_that_reads_one_quadrant(quadrant_grid_ae):
    ae = quadrant_grid_ae
    assert code_grid(ae) == (16, 16, 4)
    images = models.random_images(12, 16, seed=3)
    codes = ae.encode(images)
    neighbours, similarities = nearest_neighbours(codes, 1)
    maps = cell_pixel_maps(ae, images, codes[neighbours[:, 0]])
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), similarities[:, 0], atol=1e-5)
    # All of the map's mass, agreeing or not, is on the quadrant the code reads.
    assert np.abs(maps[:, :8, :8]).sum() == pytest.approx(np.abs(maps).sum())
    assert np.abs(maps[:, 8:]).max() == 0 and np.abs(maps[:, :, 8:]).max() == 0
    figures = cell_deletion(ae, images, codes[neighbours[:, 0]], sample=12)
    assert math.isfinite(figures["deletion_auc"]) and math.isfinite(figures["random_deletion_auc"])
    # Deleting the quadrant first ends the code's change after a quarter of the pixels; a random
    # order is still changing it at the end.
    assert figures["deletion_auc"] < 0.5 * figures["random_deletion_auc"]
    assert figures["deletion_auc"] < 0.5 * figures["random_pixels_deletion_auc"]
    assert figures["randomization_spearman"] is figures["object_share"] is figures["mask_share"] is None


def test_the_cell_maps_random_baseline_greys_out_whole_cells_one_after_another():
    values = _random_cells((3, 6, 9), (2, 3), seed=4)  # cells of 3 x 3 pixels
    blocks = values.reshape(3, 2, 3, 3, 3).transpose(0, 1, 3, 2, 4).reshape(3, 6, 9)
    assert (blocks == blocks[..., :1]).all()  # one value per cell
    assert len(np.unique(values[0])) == 6  # six cells, six ranks
    order = deletion_order(values, seed=4)
    cell_of_pixel = (np.arange(6)[:, None] // 3 * 3 + np.arange(9)[None, :] // 3).reshape(-1)
    for image in order:  # each cell's nine pixels are deleted together
        deleted_cells = cell_of_pixel[image].reshape(6, 9)
        assert (deleted_cells == deleted_cells[:, :1]).all() and len(np.unique(deleted_cells[:, 0])) == 6


def test_cell_deletion_needs_a_grid(quadrant_ae):
    images = models.random_images(2, 16)
    with pytest.raises(ValueError, match="no grid"):
        cell_deletion(quadrant_ae, images, quadrant_ae.encode(images))


def test_the_chart_gets_the_cell_row_last_with_nan_where_a_check_does_not_apply():
    figures = {"saliency": {"deletion_auc": 0.2, "random_deletion_auc": 0.4, "randomization_spearman": 0.3,
                            "object_share": 0.5, "mask_share": 0.2}}
    cells = {"deletion_auc": 0.1, "random_deletion_auc": 0.4, "randomization_spearman": None,
             "object_share": None, "mask_share": None}
    charted = with_cells(figures, cells)
    assert list(charted) == ["saliency", CELLS] and set(charted[CELLS]) == set(figures["saliency"])
    assert charted[CELLS]["deletion_auc"] == 0.1 and math.isnan(charted[CELLS]["randomization_spearman"])
    assert with_cells(figures, None) is figures


# --------------------------------------------------------------------------- page rows with missing figures


def test_faithfulness_rows_with_missing_figures_fail_nothing_and_still_rank():
    nan = float("nan")
    cells = pages.FaithfulnessRow(CELL_WORDS, 0.1, 0.4, None, None, None)
    assert cells.failures == () and cells.deletion_ok and cells.object_ok is None
    assert not cells.randomization_measured and cells.standing == (0, 0.25)
    failing = pages.FaithfulnessRow(CELL_WORDS, 0.5, 0.4, None, None, None)
    assert len(failing.failures) == 1 and failing.failures[0].startswith("Not shown to be faithful")
    undefined = pages.FaithfulnessRow(CELL_WORDS, nan, 0.4, nan, nan, nan)
    assert undefined.failures == () and undefined.standing == (0, float("inf"))
    nothing = pages.FaithfulnessRow(CELL_WORDS, None, None, None, None, None)
    assert nothing.failures == () and nothing.standing == (0, float("inf")) and not nothing.deletion_ok


# --------------------------------------------------------------------------- whole builds


def test_manifest_cells_of_the_tiny_site_sum_to_each_similarity(tiny_site):
    config, gallery = tiny_site
    manifest = json.loads((config.out / urls.MANIFEST).read_text())
    assert manifest["model"]["code_grid"] == list(code_grid(gallery.ae)) == [1, 1, 8]
    assert len(manifest["images"]) == len(gallery.neighbour_indices)
    for record in manifest["images"]:
        for neighbour in record["neighbours"]:
            cells = np.array(neighbour["cells"], np.float64)
            assert cells.shape == (1, 1)
            assert abs(cells.sum() - neighbour["similarity"]) <= 1e-5
    # One cell cannot say where: the cards keep their gradient pair maps and the check does not run.
    assert manifest["cell_faithfulness"] is None and gallery.explanations.cell_faithfulness is None
    page = pages.gather_pages(gallery)[0]
    assert page.cells is None and all(link.pair_here and not link.cells_here for link in page.neighbours)


GRID_BUILD = {**TINY_BUILD, "bottleneck": "pool_1_e"}
"""The tiny build with its code taken after two poolings: a 4 × 4 × 4 grid, so the cards can say where."""


@pytest.fixture(scope="module")
def grid_site(tmp_path_factory):
    """(config, gallery) of a tiny build whose code is a 4 × 4 × 4 grid."""
    from aevis.config import BuildConfig
    from aevis.pipeline import build

    root = tmp_path_factory.mktemp("grid")
    config = BuildConfig(out=root / "site", cache_dir=root / "cache", **GRID_BUILD)
    return config, build(config)


def test_a_grid_code_records_shows_and_checks_its_cells(grid_site):
    config, gallery = grid_site
    site = Path(config.out)
    manifest = json.loads((site / urls.MANIFEST).read_text())
    assert manifest["model"]["code_grid"] == [4, 4, 4]
    for record in manifest["images"]:
        for neighbour in record["neighbours"]:
            cells = np.array(neighbour["cells"], np.float64)
            assert cells.shape == (4, 4)
            assert abs(cells.sum() - neighbour["similarity"]) <= 1e-5
    # The cards show where the two codes agree, over both images, and keep the pair maps folded away.
    image_pages = pages.gather_pages(gallery)
    for page in image_pages:
        assert page.cells is not None and page.cells.grid == "4 × 4"
        for rank, link in enumerate(page.neighbours):
            assert (link.cells_here, link.cells_there) == urls.cell_maps(page.slug, rank)
            assert (site / link.cells_here).is_file() and (site / link.cells_there).is_file()
            assert link.pair_here and (site / link.pair_here).is_file()
    html = (site / image_pages[0].href).read_text()
    assert "where the two codes agree" in html and 'class="pair-more"' in html
    assert urls.cell_maps(image_pages[0].slug, 0)[0] in html
    # Its deletion check ran on the faithfulness sample and stands as its own row, n/a where it does not apply.
    figures = gallery.explanations.cell_faithfulness
    assert math.isfinite(figures["deletion_auc"]) and math.isfinite(figures["random_deletion_auc"])
    assert manifest["cell_faithfulness"] == pytest.approx(figures)
    assert manifest["cell_faithfulness"]["randomization_spearman"] is None
    assert set(manifest["faithfulness"]) == set(gallery.explanations.methods)  # the methods' figures as before
    guide = pages.gather_reading(gallery, image_pages, sample=12)
    assert guide.rows[-1].words == CELL_WORDS and guide.cells == CELL_WORDS
    assert (guide.rows[-1].deletion_auc, guide.rows[-1].randomization_spearman) == (figures["deletion_auc"], None)
    reading = (site / urls.READING).read_text()
    assert "Code cells (why similar)" in reading and "n/a" in reading


def test_the_manifests_similarities_are_centred_cosines_and_the_raw_ones_beside_them(grid_site):
    """Recomputed by brute force from the codes: ``similarity`` is the cosine of the two codes
    less the set's mean code (what the cards show and the cells add up to), ``similarity_raw``
    the cosine of the codes as they are."""
    config, gallery = grid_site
    manifest = json.loads((Path(config.out) / urls.MANIFEST).read_text())
    codes = np.asarray(gallery.codes, np.float64)
    centred = codes - codes.mean(axis=0)
    slugs = {record["slug"]: index for index, record in enumerate(manifest["images"])}

    def cosine(a, b):
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    shown = []
    for index, record in enumerate(manifest["images"]):
        for neighbour in record["neighbours"]:
            other = slugs[neighbour["slug"]]
            assert neighbour["similarity"] == pytest.approx(cosine(centred[index], centred[other]), abs=2e-6)
            assert neighbour["similarity_raw"] == pytest.approx(cosine(codes[index], codes[other]), abs=2e-6)
            shown.append(neighbour["similarity"])
        assert [n["similarity"] for n in record["neighbours"]] == sorted(
            (n["similarity"] for n in record["neighbours"]), reverse=True)  # the order uses the shown figure
    assert min(shown) < max(shown)


def test_a_page_shows_the_cell_maps_failure_in_words(grid_site):
    _, gallery = grid_site
    failed = {"deletion_auc": 0.6, "random_deletion_auc": 0.5, "randomization_spearman": None,
              "object_share": None, "mask_share": None}
    explanations = dataclasses.replace(gallery.explanations, cell_faithfulness=failed)
    page = pages.gather_pages(dataclasses.replace(gallery, explanations=explanations))[0]
    assert page.cells.failures and "deletion area 0.600 against 0.500" in page.cells.failures[0]
    summary = pages.summarise(gallery, "t")
    html = _environment().get_template("image.html").render(root="../", site=summary, current=page.href, page=page)
    assert html.count('class="unfaithful"') >= 1 and "deletion area 0.600" in html


def test_a_dense_bottleneck_gets_no_cells_and_keeps_its_pair_maps(tmp_path):
    from aevis.config import BuildConfig
    from aevis.pipeline import build

    model_path = tmp_path / "dense.keras"
    user_models.dense_bottleneck().save(model_path)
    out = tmp_path / "site"
    gallery = build(BuildConfig(out=out, model=model_path, count=8, neighbours=2, faithfulness_sample=2,
                                methods=("saliency",), cache=False, cache_dir=tmp_path / "cache", quiet=True))
    manifest = json.loads((out / urls.MANIFEST).read_text())
    assert manifest["model"]["code_grid"] is None and manifest["cell_faithfulness"] is None
    assert all("cells" not in neighbour for record in manifest["images"] for neighbour in record["neighbours"])
    assert manifest["pair_method"] == "gradcam"
    page = pages.gather_pages(gallery)[0]
    assert page.cells is None and page.pair_title == "Grad-CAM"
    assert all(link.pair_here and link.pair_there and not link.cells_here for link in page.neighbours)
    assert all((out / link.pair_here).is_file() for link in page.neighbours)
    assert not list(out.rglob("cells-*.png"))
    html = (out / page.href).read_text()
    assert "what each sees in the other" in html and "where the two codes agree" not in html


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists() and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed (apt-get install chromium)")
def test_grid_pages_fit_a_360_pixel_phone(grid_site):
    """The cards with cell maps and folded pair maps, and the reading page's extra row, on a phone."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    from tests.site.test_browser import CHROMIUM, CHROMIUM_FLAGS, PageWatch

    site = Path(grid_site[0].out)
    wanted = [urls.image_page(grid_site[1].slugs[0]), urls.READING]
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        watch = PageWatch(browser, width=360, height=740)
        try:
            for relative in wanted:
                watch.open((site / relative).resolve().as_uri())
                assert watch.unloaded_pictures() == [], relative
                assert watch.wider_than_the_screen() == [], relative
                overflow = watch.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{relative} is {overflow}px wider than a 360px screen"
            assert watch.problems == []
        finally:
            watch.close()
            browser.close()


def test_pair_cells_of_large_codes_never_copy_a_code_into_float64():
    # A 540×540 document denoiser's code is 270×270×16 numbers; its cells were once worked out
    # on float64 copies of a thousand pairs' codes at once (9 GB, issue 21).
    grid = (270, 270, 16)
    rng = np.random.default_rng(0)
    first = rng.standard_normal((3, math.prod(grid)), dtype=np.float32)
    second = rng.standard_normal((3, math.prod(grid)), dtype=np.float32)
    tracemalloc.start()
    try:
        cells = pair_cells(first, second, grid)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The cells themselves (3 × 270 × 270 float64, 1.7 MB) and per-cell sums of one block of
    # pairs; a float64 copy of one code alone would be 9.3 MB.
    assert peak < math.prod(grid) * 8
    np.testing.assert_allclose(cells.sum(axis=(1, 2)), _cosine(first, second), rtol=0, atol=1e-9)
