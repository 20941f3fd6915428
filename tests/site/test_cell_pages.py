"""Cells on the site (:mod:`aevis.latent.cells` as the manifest records them and the pages
show them): a tiny build whose code is one cell, one whose code is a 4 × 4 × 4 grid, and one
with a dense bottleneck; the faithfulness rows with missing figures; the grid's pages on a phone."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from aevis.latent.cells import (
    code_grid,
)
from aevis.site import pages, urls
from aevis.site.html import _environment
from aevis.site.words import CELL_WORDS
from tests import user_models
from tests.browser import PageWatch, needs_chromium
from tests.conftest import TINY_BUILD


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
    assert len(manifest["images"]) == len(gallery.neighbour_indices)
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
            (n["similarity"] for n in record["neighbours"]), reverse=True
        )  # the order uses the shown figure
    assert min(shown) < max(shown)


def test_a_page_shows_the_cell_maps_failure_in_words(grid_site):
    _, gallery = grid_site
    failed = {
        "deletion_auc": 0.6,
        "random_deletion_auc": 0.5,
        "randomization_spearman": None,
        "object_share": None,
        "mask_share": None,
    }
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
    gallery = build(
        BuildConfig(
            out=out,
            model=model_path,
            count=8,
            neighbours=2,
            faithfulness_sample=2,
            methods=("saliency",),
            cache=False,
            cache_dir=tmp_path / "cache",
            quiet=True,
        )
    )
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


@needs_chromium
def test_grid_pages_fit_a_360_pixel_phone(grid_site, browser):
    """The cards with cell maps and folded pair maps, and the reading page's extra row, on a phone."""
    site = Path(grid_site[0].out)
    wanted = [urls.image_page(grid_site[1].slugs[0]), urls.READING]
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
