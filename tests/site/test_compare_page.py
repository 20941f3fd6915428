"""``--compare``: a second model's neighbours and map beside the gallery's, on compare.html and in
the manifest. The builds reuse the seed model ``tiny_site`` trained (and its cache)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest

import aevis.pipeline as build_module
from aevis.cli import config_from_arguments, main
from aevis.config import BuildConfig
from aevis.data.folders import to_shape
from aevis.latent.compare import chance_overlap, neighbour_overlap
from aevis.latent.neighbours import finite_codes, mean_code, nearest_neighbours
from aevis.model import Autoencoder, load_autoencoder
from aevis.pipeline import build
from aevis.site import urls
from aevis.site.set_pages import similarity_percent
from aevis.store.cache import ResultCache
from tests.browser import PageWatch, needs_chromium
from tests.conftest import TINY_BUILD
from tests.models import strided_dense


def _manifest(site: Path) -> dict:
    return json.loads((site / urls.MANIFEST).read_text())


@pytest.fixture(scope="module")
def seed_file(tiny_site) -> Path:
    """The seed model ``tiny_site`` trained, where the build keeps it: in the cache folder."""
    [model_file] = list(Path(tiny_site[0].cache_dir).glob("*.keras"))
    return model_file


@pytest.fixture(scope="module")
def self_compared(tiny_site, seed_file, tmp_path_factory):
    """(config, gallery) of the tiny site compared with its own model file."""
    config = BuildConfig(
        out=tmp_path_factory.mktemp("self") / "site", cache_dir=tiny_site[0].cache_dir, compare=seed_file, **TINY_BUILD
    )
    return config, build(config)


@pytest.fixture(scope="module")
def other_size(tiny_site, tmp_path_factory):
    """(config, gallery, model file) of the tiny site (16 x 16 colour) compared with a 32 x 32 grey
    model of another architecture; ``--bottleneck`` names a layer only the first model has."""
    root = tmp_path_factory.mktemp("other-size")
    model_file = root / "strided-32-grey.keras"
    strided_dense(size=32, channels=1).save(model_file)
    config = BuildConfig(
        out=root / "site", cache_dir=tiny_site[0].cache_dir, compare=model_file, bottleneck="encoded", **TINY_BUILD
    )
    return config, build(config), model_file


def test_a_model_compared_with_itself_shares_every_neighbour(self_compared, seed_file):
    config, gallery = self_compared
    manifest = _manifest(config.out)
    assert [record["neighbour_overlap"] for record in manifest["images"]] == [1.0] * 12
    block = manifest["compare"]
    assert block["source"] == seed_file.name and block["bottleneck"] == "encoded" and block["code_size"] == 8
    assert block["sha256"] == hashlib.sha256(seed_file.read_bytes()).hexdigest() == manifest["model"]["sha256"]
    assert block["input"] == {"height": 16, "width": 16, "channels": 3} and block["k"] == 3
    assert block["mean_overlap"] == 1.0 and block["chance_overlap"] == pytest.approx(3 / 11, abs=1e-6)
    assert block["procrustes_disparity"] == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(gallery.comparison.positions, gallery.positions, atol=1e-6)
    page = (config.out / urls.COMPARE).read_text()
    assert seed_file.name in page and gallery.model_info.source in page
    assert "None: every image has the same three neighbours in both models." in page
    assert "100%" in page and "27%" in page  # the mean, and what random neighbours would share
    for picture in (urls.OVERLAP_CHART, urls.ALIGNED_MAPS):
        assert (config.out / picture).stat().st_size > 1000
    assert f'href="{urls.COMPARE}"' in (config.out / urls.INDEX).read_text()
    assert f'href="../{urls.COMPARE}"' in (config.out / urls.image_page(gallery.slugs[0])).read_text()


def test_without_compare_there_is_no_page_link_or_overlap(tiny_site):
    config, _ = tiny_site
    manifest = _manifest(config.out)
    assert manifest["compare"] is None
    assert all("neighbour_overlap" not in record for record in manifest["images"])
    assert not (config.out / urls.COMPARE).exists()
    assert urls.COMPARE not in (config.out / urls.INDEX).read_text()


def _must_not_run(*_, **__):
    raise AssertionError("computed something a warm rebuild should have found in the cache")


def test_a_warm_rebuild_reuses_the_other_models_results(self_compared, tmp_path, monkeypatch):
    config, gallery = self_compared
    for computation in (
        "aevis.store.results.code_map",
        "aevis.store.results.nearest_neighbours",
        "aevis.draw.charts.overlap_chart",
        "aevis.draw.charts.aligned_maps",
    ):
        monkeypatch.setattr(computation, _must_not_run)
    monkeypatch.setattr(Autoencoder, "encode", _must_not_run)
    made = []

    class Recording(ResultCache):
        def __init__(self, root, **options):
            super().__init__(root, **options)
            made.append(self)

    monkeypatch.setattr(build_module, "ResultCache", Recording)
    warm = build(dataclasses.replace(config, out=tmp_path / "warm"))
    assert sum(made[0].misses.values()) == 0 and made[0].hits["encoded set"] == 2  # both models
    np.testing.assert_array_equal(warm.comparison.overlap, gallery.comparison.overlap)
    assert (tmp_path / "warm" / urls.ALIGNED_MAPS).read_bytes() == (config.out / urls.ALIGNED_MAPS).read_bytes()


def test_a_model_of_another_size_compares_on_the_same_images(other_size):
    config, gallery, model_file = other_size
    manifest = _manifest(config.out)
    block = manifest["compare"]
    assert block["input"] == {"height": 32, "width": 32, "channels": 1}
    assert block["bottleneck"] == "code_dense" and block["code_size"] == 6  # its own waist: it has no 'encoded'
    assert manifest["model"]["bottleneck"] == "encoded"
    # Model B's neighbours, worked out here from its codes of the same images at its input.
    images = to_shape(gallery.imageset.images, (32, 32, 1))
    other = load_autoencoder(model_file, images=images)
    codes = finite_codes(other.encode(images))
    theirs, their_similarities = nearest_neighbours(codes, 3, centre=mean_code(codes))
    slugs = [record["slug"] for record in manifest["images"]]
    mine = np.array([[slugs.index(n["slug"]) for n in record["neighbours"]] for record in manifest["images"]])
    expected = neighbour_overlap(mine, theirs)
    np.testing.assert_allclose([record["neighbour_overlap"] for record in manifest["images"]], expected, atol=1e-6)
    assert block["mean_overlap"] == pytest.approx(expected.mean(), abs=1e-6)
    assert block["chance_overlap"] == pytest.approx(chance_overlap(12, 3), abs=1e-6)
    assert 0 < block["procrustes_disparity"] <= 1
    # The page shows the images whose neighbours changed most, each beside both models' neighbours.
    page = (config.out / urls.COMPARE).read_text()
    changed = gallery.comparison.most_changed(12)
    assert len(changed) == int((expected < 1).sum()) > 0
    assert page.count('<article class="changed">') == len(changed)
    first = int(changed[0])
    for other_index in (*mine[first], *theirs[first]):
        assert urls.thumbnail(gallery.slugs[other_index]) in page
    assert model_file.name in page
    # Each tile carries its similarity by the model that lists it, in that model's own codes.
    np.testing.assert_allclose(gallery.comparison.neighbour_similarities, their_similarities, atol=1e-6)
    for similarity in (*gallery.neighbour_similarities[first], *their_similarities[first]):
        assert f"{similarity_percent(similarity)} similar" in page


def test_a_bad_compare_file_is_one_sentence(tiny_site, tmp_path, capsys):
    not_a_model = tmp_path / "notes.keras"
    not_a_model.write_text("not a model")
    tiny = [
        *"--count 12 --image-size 16 --filters 4 4 8 8 --epochs 1 --batch-size 8 --neighbours 3 --quiet".split(),
        "--cache-dir",
        str(tiny_site[0].cache_dir),
    ]
    for bad in (tmp_path / "missing.keras", not_a_model):
        status = main([*tiny, "--out", str(tmp_path / "site"), "--compare", str(bad)])
        error = capsys.readouterr().err.strip().splitlines()
        assert status == 2
        assert len(error) == 1 and error[0].startswith("aevis: ") and "Traceback" not in error[0], error
        assert bad.name in error[0]
        assert not (tmp_path / "site").exists()
    assert config_from_arguments(["--compare", "b.keras"]).compare == Path("b.keras")


@needs_chromium
@pytest.mark.parametrize("which", ["self", "other size"])
def test_the_compare_page_loads_cleanly_and_fits_a_phone(which, request, browser):
    site = (request.getfixturevalue("self_compared") if which == "self" else request.getfixturevalue("other_size"))[
        0
    ].out
    for width in (1100, 360):
        watch = PageWatch(browser, width=width, height=800)
        try:
            watch.open((site / urls.COMPARE).resolve().as_uri())
            assert watch.unloaded_pictures() == []
            for href in watch.page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)"):
                assert Path(unquote(urlparse(href).path)).is_file(), href
            assert watch.wider_than_the_screen() == []
            assert watch.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0
            assert watch.page.locator("nav a[aria-current=page]").inner_text() == "Compare"
            assert watch.problems == []
        finally:
            watch.close()
