"""End-to-end builds into a temporary folder, checked against the data contract."""

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aevis.cli import config_from_arguments, main
from aevis.config import BuildConfig
from aevis.errors import AevisError
from aevis.methods import explain
from aevis.model import load_autoencoder
from aevis.pipeline import build
from aevis.site.staging import MARKER
from tests.conftest import TINY_BUILD
from tests.models import strided_dense

TINY = TINY_BUILD


@pytest.fixture(scope="module")
def built(tiny_site):
    return tiny_site


def _manifest(site: Path) -> dict:
    return json.loads((site / "data" / "manifest.json").read_text())


def test_manifest_codes_and_maps_agree_in_count_and_order(built):
    config, gallery = built
    site = config.out
    manifest = _manifest(site)
    records = manifest["images"]
    codes = np.load(site / "data" / "codes.npy")
    assert len(records) == 12 == codes.shape[0] == manifest["counts"]["images"]
    assert codes.dtype == np.float32 and codes.shape[1] == 1 * 1 * 8  # 16 px pooled four times
    assert sorted(p.stem for p in (site / "data" / "maps").glob("*.npz")) == sorted(r["slug"] for r in records)
    assert [r["name"] for r in records] == [
        f"{kind}-{i:04d}" for i, kind in zip(range(12), ["circle", "square", "triangle", "cross"] * 3)
    ]

    # The numbers are the model's: recompute codes and errors from the cached model.
    [model_file] = list(Path(config.cache_dir).glob("*.keras"))
    ae = load_autoencoder(model_file)
    images = gallery.imageset.images[:]
    np.testing.assert_allclose(codes, ae.encode(images), rtol=1e-5, atol=1e-6)
    errors = np.mean((images - ae.reconstruct(images)) ** 2, axis=-1)
    for index, record in enumerate(records):
        with np.load(site / "data" / "maps" / f"{record['slug']}.npz") as maps:
            assert maps["reconstruction_error"].shape == (16, 16)
            assert maps["reconstruction_error"].dtype == np.float32
            np.testing.assert_allclose(maps["reconstruction_error"], errors[index], rtol=1e-4, atol=1e-7)
    assert manifest["model"]["sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert manifest["model"]["bottleneck"] == "encoded"
    assert manifest["seed"] == 0 and manifest["parameters"]["epochs"] == 1
    quality = manifest["map_quality"]
    assert quality["k"] == 10 and 0 <= quality["trustworthiness"] <= 1
    assert 0 <= quality["label_agreement_codes"] <= 1 and 0 <= quality["label_agreement_map"] <= 1


def test_heat_maps_are_exported_as_explain_computes_them(built):
    config, gallery = built
    site = config.out
    manifest = _manifest(site)
    methods = ["saliency", "smoothgrad", "integrated_gradients", "gradcam", "occlusion"]
    assert manifest["maps"] == ["reconstruction_error", *methods, "gradcam__neighbour"]
    assert manifest["target"] == "self" and manifest["pair_method"] == "gradcam"
    assert manifest["method_options"]["smoothgrad"] == {"seed": 0}
    records = manifest["images"]
    [model_file] = list(Path(config.cache_dir).glob("*.keras"))
    ae = load_autoencoder(model_file)
    images = gallery.imageset.images[:]
    codes = np.load(site / "data" / "codes.npy")
    first, nearest = records[0], [r["slug"] for r in records].index(records[0]["neighbours"][0]["slug"])
    with np.load(site / "data" / "maps" / f"{first['slug']}.npz") as maps:
        assert sorted(maps.files) == sorted(manifest["maps"])
        for method in methods:
            expected = explain(ae, images[:1], method, "self", **manifest["method_options"][method])[0]
            np.testing.assert_allclose(maps[method], expected, rtol=1e-4, atol=1e-6)
        pair = explain(ae, images[:1], "gradcam", "neighbour", reference_codes=codes[nearest : nearest + 1])[0]
        np.testing.assert_allclose(maps["gradcam__neighbour"], pair, rtol=1e-4, atol=1e-6)
    html = (site / first["page"]).read_text()
    for method in methods:
        assert f"media/{first['slug']}/{method}.png" in html
    assert f"media/{first['slug']}/collage.png" in html and "pair-0-here.png" in html


def test_faithfulness_figures_are_recorded_and_shown(built):
    config, _ = built
    figures = _manifest(config.out)["faithfulness"]
    assert sorted(figures) == sorted(["saliency", "smoothgrad", "integrated_gradients", "gradcam", "occlusion"])
    for row in figures.values():
        assert set(row) == {
            "deletion_auc",
            "random_deletion_auc",
            "randomization_spearman",
            "object_share",
            "mask_share",
        }
        assert 0 < row["mask_share"] < 1  # the shapes' masks cover part of each image
    reading = (config.out / "reading.html").read_text()
    assert "Can these pictures be trusted?" in reading
    assert f"{figures['saliency']['randomization_spearman']:.2f}" in reading
    assert (config.out / "media" / "faithfulness.png").is_file()


def test_neighbours_in_manifest_are_the_nearest_by_centred_cosine(built):
    config, gallery = built
    records = _manifest(config.out)["images"]
    codes = np.load(config.out / "data" / "codes.npy")
    raw = codes / np.linalg.norm(codes, axis=1, keepdims=True)
    centred = codes - codes.astype(np.float64).mean(axis=0)  # the gallery's similarity: codes less their mean
    unit = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    slugs = [r["slug"] for r in records]
    for index, record in enumerate(records):
        assert len(record["neighbours"]) == 3
        for neighbour in record["neighbours"]:
            other = slugs.index(neighbour["slug"])
            assert neighbour["similarity"] == pytest.approx(float(unit[index] @ unit[other]), abs=1e-5)
            assert neighbour["similarity_raw"] == pytest.approx(float(raw[index] @ raw[other]), abs=1e-5)
        assert 0 <= record["x"] <= 1 and 0 <= record["y"] <= 1


def test_every_link_and_picture_resolves_and_nothing_is_external(built):
    config, _ = built
    site = config.out
    pages = list(site.rglob("*.html"))
    # index, map, model, reading guide, report, strangest, near-duplicates; one page per image;
    # a channel gallery for each of the four encoder convolutions and the code
    assert len(pages) == 7 + 12 + 5
    for page in pages:
        html = page.read_text()
        # Resources (pictures, styles, scripts) are all local; the only outside addresses
        # are the papers the reading guide cites, as plain links a reader may follow.
        for resource in re.findall(r'(?:src|<link[^>]*href)="([^"]+)"', html):
            assert "//" not in resource, f"{page}: external resource {resource}"
        for outside in re.findall(r'<a href="(\w+:[^"]*)"', html):
            assert outside.startswith("https://arxiv.org/abs/"), f"{page}: unexpected outside link {outside}"
        for target in re.findall(r'(?:href|src)="([^"#:]+)"', html):
            assert not target.startswith("/"), f"{page}: absolute link {target}"
            assert (page.parent / target).resolve().is_file(), f"{page}: broken link {target}"
    assert "url(" not in (site / "assets" / "style.css").read_text()


def test_image_pages_link_neighbours_both_ways(built):
    config, _ = built
    records = _manifest(config.out)["images"]
    first = records[0]
    html = (config.out / first["page"]).read_text()
    for neighbour in first["neighbours"]:
        assert f'href="../images/{neighbour["slug"]}.html"' in html
        other = (config.out / "images" / f"{neighbour['slug']}.html").read_text()
        assert f'href="../images/{first["slug"]}.html"' in other  # listed back on the neighbour's page


def test_second_build_reuses_the_trained_model(built, tmp_path):
    config, _ = built
    [model_file] = list(Path(config.cache_dir).glob("*.keras"))
    stamp = model_file.stat().st_mtime_ns
    build(BuildConfig(out=tmp_path / "again", cache_dir=config.cache_dir, **TINY))
    assert list(Path(config.cache_dir).glob("*.keras")) == [model_file]
    assert model_file.stat().st_mtime_ns == stamp


def test_pages_option_gives_pages_to_that_many_and_zip_packs_the_site(built, tmp_path):
    config, _ = built
    out = tmp_path / "some"
    build(BuildConfig(out=out, cache_dir=config.cache_dir, pages=4, zip=True, **TINY))
    import zipfile

    with zipfile.ZipFile(tmp_path / "some.zip") as archive:
        names = set(archive.namelist())
    files = {f"some/{p.relative_to(out).as_posix()}" for p in out.rglob("*") if p.is_file()}
    assert files <= names and "some/index.html" in names
    records = _manifest(out)["images"]
    assert sum(r["page"] is not None for r in records) == 4
    assert len(list((out / "images").glob("*.html"))) == 4
    # Only the images some page shows get a thumbnail, and every thumbnail a page shows is there.
    shown = {
        match
        for page in [*out.rglob("*.html"), *out.rglob("*.js")]
        for match in re.findall(r"media/([a-z0-9-]+)/input\.png", page.read_text(encoding="utf-8"))
    }
    assert shown and {path.parent.name for path in (out / "media").glob("*/input.png")} == shown
    for record in records:  # a paged image has its maps file, one without a page has none
        maps_file = out / "data" / "maps" / f"{record['slug']}.npz"
        assert maps_file.is_file() == (record["page"] is not None)
        if record["page"] is not None:
            with np.load(maps_file) as maps:
                assert "saliency" in maps.files and "reconstruction_error" in maps.files
    assert len(records) == 12 and len(np.load(out / "data" / "codes.npy")) == 12


def test_own_model_and_own_images(tmp_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for index in range(5):
        pixels = (rng.random((20 + index, 30, 3)) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / ("sub" if index % 2 else "") / f"photo {index}.png")
    (folder / "broken.jpg").write_bytes(b"nope")
    model_path = tmp_path / "mine.keras"
    strided_dense().save(model_path)
    out = tmp_path / "site"
    build(BuildConfig(out=out, images=folder, model=model_path, neighbours=2, quiet=True))
    manifest = _manifest(out)
    assert manifest["model"]["bottleneck"] == "code_dense"
    assert manifest["model"]["sha256"] == hashlib.sha256(model_path.read_bytes()).hexdigest()
    assert sorted(r["source"] for r in manifest["images"]) == sorted(
        ["photo 0.png", "sub/photo 1.png", "photo 2.png", "sub/photo 3.png", "photo 4.png"]
    )
    assert manifest["rejected"] == [
        {"path": "broken.jpg", "reason": "not an image in a supported format (JPEG, PNG, WEBP, BMP, TIFF, GIF)"}
    ]
    assert np.load(out / "data" / "codes.npy").shape == (5, 6)
    # A model not trained here has no checkpoints: no "Taught by" anywhere, nor its check.
    assert manifest["taught_by"] is None and manifest["files"]["taught_by"] is None
    assert not (out / "data" / "taught_by.npz").exists()
    assert all("taught_by" not in record and "taught_against" not in record for record in manifest["images"])
    page = (out / manifest["images"][0]["page"]).read_text()
    assert "Taught by" not in page and "taught-by" not in (out / "reading.html").read_text()
    strangest = " ".join((out / "strangest.html").read_text().split())
    assert (
        "squeeze each image into 6 numbers and rebuild it from them, by practising on the images it was trained on."
        in strangest
    )
    assert sorted(p.name for p in folder.rglob("*")) == sorted(
        ["sub", "broken.jpg", "photo 0.png", "photo 1.png", "photo 2.png", "photo 3.png", "photo 4.png"]
    )  # the image folder is only read


def test_refuses_a_folder_it_did_not_make_and_keeps_the_old_site(built, tmp_path):
    config, _ = built
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(AevisError, match="holds other files"):
        build(BuildConfig(out=foreign, cache_dir=config.cache_dir, **TINY))
    assert (foreign / "thesis.tex").read_text() == "precious"

    site = tmp_path / "site"
    build(BuildConfig(out=site, cache_dir=config.cache_dir, **TINY))
    before = (site / "data" / "manifest.json").read_text()
    with pytest.raises(AevisError):
        build(BuildConfig(out=site, cache_dir=config.cache_dir, model=tmp_path / "missing.keras", **TINY))
    assert (site / MARKER).is_file() and (site / "data" / "manifest.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left behind


def test_a_failure_while_drawing_stops_the_build_and_keeps_the_old_site(built, tmp_path, monkeypatch):
    # Pictures are drawn on a second thread; its error must reach the build, not vanish.
    config, _ = built
    out = tmp_path / "site"
    build(BuildConfig(out=out, cache_dir=config.cache_dir, **TINY))
    before = (out / "index.html").read_text()
    drawn = []

    def broken(*args, **kwargs):
        drawn.append(1)
        raise OSError("disk full")

    monkeypatch.setattr("aevis.site.pictures.draw", broken)
    with pytest.raises(OSError, match="disk full"):
        build(BuildConfig(out=out, cache_dir=config.cache_dir, cache=False, **TINY))
    assert drawn == [1]  # the first chunk's failure ended the build
    assert (out / "index.html").read_text() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["site"]


def test_command_line_errors_are_one_sentence_and_exit_2(tmp_path, capsys):
    assert main(["--model", str(tmp_path / "missing.keras"), "--out", str(tmp_path / "s"), "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("aevis: Expected a Keras model file") and "\n" not in error
    with pytest.raises(SystemExit) as exit_info:
        config_from_arguments(["--image-size", "20"])
    assert exit_info.value.code == 2
    assert "multiple of 16" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        config_from_arguments(["--target", "everything"])
    assert "Unknown target 'everything'" in capsys.readouterr().err


def test_command_line_fills_the_config():
    config = config_from_arguments(["--dataset", "digits", "--pages", "7", "--filters", "8", "8", "16", "16"])
    assert config.dataset == "digits" and config.pages == 7 and config.filters == (8, 8, 16, 16)


@pytest.mark.parametrize("colours", ["grey", "colour"])
def test_grey_images_train_a_one_channel_seed_and_stay_grey(tmp_path, colours):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(5)
    for number in range(6):
        level = rng.integers(0, 256, (16, 16), dtype=np.uint8)
        pixels = np.stack([level, level, level], axis=-1)  # grey, saved as RGB as phones do
        if colours == "colour":
            pixels[..., 0] = 255 - level
        Image.fromarray(pixels).save(folder / f"photo-{number}.png")
    out = tmp_path / "site"
    build(BuildConfig(out=out, images=folder, cache_dir=tmp_path / "cache", **{**TINY, "count": 6}))
    manifest = json.loads((out / "data" / "manifest.json").read_text())
    grey = colours == "grey"
    assert manifest["model"]["input"]["channels"] == (1 if grey else 3)
    slug = manifest["images"][0]["slug"]
    with Image.open(out / "media" / slug / "reconstruction.png") as rebuilt:
        assert rebuilt.mode == ("L" if grey else "RGB")  # a grey rebuild has no colour to cast


def test_the_manifest_written_a_record_at_a_time_holds_the_whole_one_a_record_a_line(built, tmp_path, monkeypatch):
    from aevis.site import export
    from aevis.site.export import manifest, write_manifest

    _, gallery = built
    monkeypatch.setattr(export, "built_at", lambda gallery: "2026-11-29T00:00:00+00:00")  # no second ticks by
    write_manifest(gallery, tmp_path / "manifest.json")
    written = (tmp_path / "manifest.json").read_text(encoding="utf-8")
    assert json.loads(written) == json.loads(json.dumps(manifest(gallery)))
    lines = written.splitlines()
    for record in manifest(gallery)["images"]:  # each record on a line of its own
        line = "  " + json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        assert line + "," in lines or line in lines


def test_codes_too_large_for_the_site_are_written_beside_it(built, tmp_path, monkeypatch):
    from aevis.site import export

    config, _ = built
    monkeypatch.setattr(export, "CODES_IN_SITE_LIMIT", 0)
    out = tmp_path / "large"
    build(BuildConfig(out=out, cache_dir=config.cache_dir, **TINY))
    assert not (out / "data" / "codes.npy").exists() and _manifest(out)["files"]["codes"] is None
    beside = tmp_path / "large-codes.npy"
    assert beside.is_file() and not list(tmp_path.glob(".*partial"))
    np.testing.assert_array_equal(np.load(beside), np.load(config.out / "data" / "codes.npy"))
