"""Rebuilds reuse what did not change: results and pictures are cached by content."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import aevis.pipeline as build_module
from aevis._utils.keys import make_key
from aevis.config import BuildConfig
from aevis.draw import colour
from aevis.model import Autoencoder
from aevis.pipeline import build
from aevis.site import html, pictures
from aevis.store.cache import ResultCache
from tests.conftest import TINY_BUILD
from tests.models import tiny_seed

METHODS = ("saliency", "smoothgrad", "integrated_gradients", "gradcam", "occlusion")


def _build(config: BuildConfig) -> ResultCache:
    """Run one build; return its result cache, whose hits and misses tell what was computed."""
    made = []

    class Recording(ResultCache):
        def __init__(self, root, **options):
            super().__init__(root, **options)
            made.append(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build_module, "ResultCache", Recording)
        build(config)
    return made[0]


def _data(site: Path) -> tuple[dict, bytes, dict[str, dict[str, np.ndarray]]]:
    manifest = json.loads((site / "data" / "manifest.json").read_text())
    manifest.pop("built_at")
    maps = {}
    for path in sorted((site / "data" / "maps").glob("*.npz")):
        with np.load(path) as stored:
            maps[path.stem] = {name: stored[name] for name in stored.files}
    return manifest, (site / "data" / "codes.npy").read_bytes(), maps


def _assert_same_data(first: Path, second: Path) -> None:
    """Manifest, codes and maps equal bit for bit."""
    manifest, codes, maps = _data(first)
    other_manifest, other_codes, other_maps = _data(second)
    assert other_manifest == manifest
    assert other_codes == codes
    assert other_maps.keys() == maps.keys()
    for slug, arrays in maps.items():
        assert list(other_maps[slug]) == list(arrays)
        for name, values in arrays.items():
            np.testing.assert_array_equal(other_maps[slug][name], values, err_msg=f"{slug}: {name}")


def _files(site: Path) -> dict[str, bytes]:
    """Pictures, pages and assets (the data files are compared by :func:`_assert_same_data`)."""
    return {
        path.relative_to(site).as_posix(): path.read_bytes()
        for path in sorted(site.rglob("*"))
        if path.is_file() and path.relative_to(site).parts[0] != "data"
    }


def _must_not_run(*_, **__):
    raise AssertionError("computed something an unchanged rebuild should have found in the cache")


def test_unchanged_rebuild_computes_nothing_and_gives_the_same_site(tiny_site, tmp_path, monkeypatch):
    config, _ = tiny_site
    for computation in (
        "aevis.store.results.explain",
        "aevis.network.activations.feature_maps",
        "aevis.store.results.code_map",
        "aevis.store.results.nearest_neighbours",
        "aevis.network.featurevis.visualize",
        "aevis.network.morphs.morphs",
        "aevis.faithfulness.faithfulness",
        "aevis.store.results.randomization_cascade",
        "aevis.latent.mosaic.grid_cells",
        "aevis.latent.quality.map_quality",
        "aevis.draw.colour.overlay",
    ):
        monkeypatch.setattr(computation, _must_not_run)
    monkeypatch.setattr(Autoencoder, "encode", _must_not_run)
    monkeypatch.setattr(Autoencoder, "reconstruct", _must_not_run)
    warm = tmp_path / "warm"
    cache = _build(BuildConfig(out=warm, cache_dir=config.cache_dir, **TINY_BUILD))
    assert sum(cache.misses.values()) == 0 and cache.hits["picture"] > 12 * 20
    assert (cache.hits["encoded set"], cache.hits["encoded"]) == (1, 0)  # the whole set's encodings, in one entry
    _assert_same_data(config.out, warm)
    # Every picture and page is the cold build's, byte for byte, and a copy of its own: no site
    # shares storage with the cache.
    assert _files(warm) == _files(config.out)
    [picture] = list((warm / "media").glob("shapes-circle-0000/saliency.png"))
    assert picture.stat().st_nlink == 1
    umask = os.umask(0)
    os.umask(umask)
    assert picture.stat().st_mode & 0o777 == 0o666 & ~umask  # readable like any file the build writes


def test_cached_results_equal_fresh_ones(tiny_site, tmp_path):
    config, _ = tiny_site
    fresh = tmp_path / "fresh"
    cache = _build(BuildConfig(out=fresh, cache_dir=config.cache_dir, cache=False, **TINY_BUILD))
    assert sum(cache.hits.values()) == 0 and cache.misses["encoded"] == 12
    _assert_same_data(config.out, fresh)


def test_changing_one_option_recomputes_only_that_methods_maps(tiny_site, tmp_path):
    config, _ = tiny_site
    out = tmp_path / "fewer-samples"
    cache = _build(BuildConfig(out=out, cache_dir=config.cache_dir, samples=3, **TINY_BUILD))
    assert cache.misses["smoothgrad"] == 12
    for kind in (
        "encoded",
        "saliency",
        "integrated_gradients",
        "gradcam",
        "occlusion",
        "gradcam__pair",
        "tsne",
        "neighbours",
        "cascade",
        "featurevis",
    ):
        assert cache.misses[kind] == 0, kind
    assert cache.misses["faithfulness"] == 1  # a whole-set figure over every method's maps
    _, _, before = _data(config.out)
    _, _, after = _data(out)
    for slug, arrays in before.items():
        assert not np.array_equal(after[slug]["smoothgrad"], arrays["smoothgrad"])
        for name in (
            "reconstruction_error",
            "saliency",
            "integrated_gradients",
            "gradcam",
            "occlusion",
            "gradcam__neighbour",
        ):
            np.testing.assert_array_equal(after[slug][name], arrays[name])


def test_template_change_renders_pages_again_and_computes_nothing(tiny_site, tmp_path, monkeypatch):
    config, _ = tiny_site
    templates = tmp_path / "templates"
    shutil.copytree(html.TEMPLATES, templates)
    page = templates / "image.html"
    page.write_text(page.read_text().replace("{% block main %}", "{% block main %}\n<p>A new line.</p>", 1))
    monkeypatch.setattr(html, "TEMPLATES", templates)
    out = tmp_path / "restyled"
    cache = _build(BuildConfig(out=out, cache_dir=config.cache_dir, **TINY_BUILD))
    assert sum(cache.misses.values()) == 0
    assert "<p>A new line.</p>" in (out / "images" / "shapes-circle-0000.html").read_text()
    _assert_same_data(config.out, out)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    """A saved (untrained) 16x16 seed model: the user's own model, which images do not retrain."""
    path = tmp_path_factory.mktemp("model") / "mine.keras"
    tiny_seed().save(path)
    return path


def _photo(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pixels = np.zeros((16, 16, 3), np.uint8) + rng.integers(0, 255, 3, dtype=np.uint8)
    top, left = rng.integers(0, 10, 2)
    pixels[top : top + 6, left : left + 6] = rng.integers(0, 255, 3, dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def _pairs(manifest: dict) -> set[tuple[str, str]]:
    """(image explained, image whose code it is explained against) of every pair map."""
    pairs = set()
    for record in manifest["images"]:
        for neighbour in record["neighbours"]:
            pairs |= {(record["slug"], neighbour["slug"]), (neighbour["slug"], record["slug"])}
    return pairs


def test_changing_one_image_recomputes_that_image_only(model_file, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for number in range(8):
        _photo(folder / f"photo-{number}.png", number)
    settings = dict(
        images=folder, model=model_file, cache_dir=tmp_path / "cache", neighbours=3, batch_size=8, quiet=True
    )
    cold = _build(BuildConfig(out=tmp_path / "before", **settings))
    before = json.loads((tmp_path / "before" / "data" / "manifest.json").read_text())
    assert cold.misses["encoded"] == 8 and all(cold.misses[method] == 8 for method in METHODS)
    assert cold.misses["gradcam__pair"] == len(_pairs(before))  # each distinct pair computed once

    _photo(folder / "photo-3.png", 99)
    cache = _build(BuildConfig(out=tmp_path / "after", **settings))
    after = json.loads((tmp_path / "after" / "data" / "manifest.json").read_text())
    changed = "photo-3-png"
    assert cache.misses["encoded"] == 1
    for method in METHODS:
        assert cache.misses[method] == 1, method
    new_pairs = {pair for pair in _pairs(after) if changed in pair or pair not in _pairs(before)}
    assert cache.misses["gradcam__pair"] == len(new_pairs)
    assert cache.misses["cascade"] == 0  # its example, the first page, did not change

    _, _, maps_before = _data(tmp_path / "before")
    _, _, maps_after = _data(tmp_path / "after")
    slugs = [record["slug"] for record in after["images"]]
    assert slugs == [record["slug"] for record in before["images"]]
    old_codes = np.load(tmp_path / "before" / "data" / "codes.npy")
    new_codes = np.load(tmp_path / "after" / "data" / "codes.npy")
    for row, slug in enumerate(slugs):
        same = slug != changed
        assert np.array_equal(new_codes[row], old_codes[row]) == same
        for name in ("reconstruction_error", *METHODS):
            assert np.array_equal(maps_after[slug][name], maps_before[slug][name]) == same, (slug, name)

    # What came from the cache equals what a build from scratch computes. The changed image's
    # maps were computed in a batch of their own, where TensorFlow 2.21's kernels round otherwise
    # than in a batch of eight (saliency differed by 1.9e-9): equal to float rounding, not bit for bit.
    _build(BuildConfig(out=tmp_path / "fresh", cache=False, **settings))
    manifest, codes, maps = _data(tmp_path / "after")
    fresh_manifest, fresh_codes, fresh_maps = _data(tmp_path / "fresh")
    assert _rounded(fresh_manifest) == _rounded(manifest)
    np.testing.assert_allclose(np.load(io.BytesIO(fresh_codes)), np.load(io.BytesIO(codes)), rtol=1e-6)
    assert fresh_maps.keys() == maps.keys()
    for slug, arrays in maps.items():
        for name, values in arrays.items():
            np.testing.assert_allclose(fresh_maps[slug][name], values, rtol=1e-5, atol=1e-8, err_msg=f"{slug}: {name}")


def _rounded(value, figures: int = 4):
    """A manifest with every float to ``figures`` significant figures."""
    if isinstance(value, dict):
        return {key: _rounded(item, figures) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item, figures) for item in value]
    if isinstance(value, float):
        return float(f"{value:.{figures}g}")
    return value


def test_error_scale_survives_a_small_change_in_one_image():
    errors = np.linspace(0.0, 0.01234, 100 * 64).reshape(100, 8, 8)  # 99th percentile 0.012217…
    assert pictures.error_scale(errors) == 0.013  # rounded up, so nothing is clipped
    changed = errors.copy()
    changed[-1] *= 1.02  # the worst image a little worse: the percentile moves, the scale does not
    assert colour.robust_upper(changed) != colour.robust_upper(errors)
    assert pictures.error_scale(changed) == 0.013
    assert pictures.error_scale(np.full((2, 4, 4), 250.0)) == 250.0


def test_cache_keys_follow_content_and_pictures_are_never_rewritten(tmp_path):
    assert make_key("map", {"b": 1, "a": 2}) == make_key("map", {"a": 2, "b": 1})
    assert make_key("map", np.float32(0.5), (1, 2)) == make_key("map", 0.5, [1, 2])
    assert make_key("map", 1) != make_key("map", 2)
    cache = ResultCache(tmp_path / "results")
    drawn = []

    def draw(path: Path) -> None:
        drawn.append(path)
        path.write_bytes(b"picture")

    (tmp_path / "site").mkdir()
    cache.picture("k" * 64, tmp_path / "site" / "a.png", draw)
    cache.picture("k" * 64, tmp_path / "site" / "b.png", draw)
    assert len(drawn) == 1 and (cache.hits["picture"], cache.misses["picture"]) == (1, 1)
    assert (tmp_path / "site" / "b.png").read_bytes() == b"picture"
    assert cache.arrays("map", "x" * 64) is None
    cache.put_arrays("map", "x" * 64, {"map": np.arange(4, dtype=np.float32)})
    np.testing.assert_array_equal(cache.arrays("map", "x" * 64)["map"], np.arange(4, dtype=np.float32))
    assert (cache.hits["map"], cache.misses["map"]) == (1, 1)
    assert not list((tmp_path / "results").rglob(".writing-*")) and not list((tmp_path / "results").rglob(".drawing-*"))
