"""The map page's data file, sprite scripts and quality figures (the map at scale: test_map_scale.py)."""

import json
import types
from dataclasses import asdict

import numpy as np
import pytest

from aevis import __version__
from aevis.latent.clusters import kmeans_clusters
from aevis.latent.neighbours import finite_codes, mean_code, nearest_neighbours
from aevis.latent.quality import QUALITY_K, map_quality
from aevis.latent.trust import neighbourhoods
from aevis.site import map_sprites, mapdata, urls
from aevis.site.html import _environment
from aevis.store.cache import ResultCache


def _clusters(per_cluster=30, seed=0):
    """Four well-separated labelled clusters in 12-D, and a map that keeps them apart."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (4, 12))
    codes = np.concatenate([centre + rng.normal(0, 0.3, (per_cluster, 12)) for centre in centres]).astype(np.float32)
    corners = np.array([[0.1, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9]])
    positions = np.concatenate([corner + rng.normal(0, 0.03, (per_cluster, 2)) for corner in corners])
    labels = [f"kind-{number}" for number in np.repeat(np.arange(4), per_cluster)]
    return codes, positions.astype(np.float32), labels


def _gathered(count=None, with_labels=True):
    codes, positions, labels = _clusters()
    count = count or len(codes)
    codes, positions, labels = codes[:count], positions[:count], labels[:count]
    names = [f"image {number}.png" for number in range(count)]
    slugs = [f"image-{number}" for number in range(count)]
    hrefs = [f"images/image-{number}.html" if number % 2 == 0 else None for number in range(count)]
    neighbours, _ = nearest_neighbours(codes, 6)
    quality = map_quality(codes, positions, labels if with_labels else None)
    clusters, _ = kmeans_clusters(codes, 4, seed=0)
    figures = neighbourhoods(codes, positions)
    data = mapdata.gather_map_data(
        names,
        slugs,
        hrefs,
        positions,
        clusters,
        np.linspace(0, 1, count),
        neighbours,
        labels=labels if with_labels else None,
        quality=quality,
        sources=[f"kind/{name}" for name in names],
        map_trust=figures["map_trust"],
        density=figures["density"],
    )
    return data, names


def test_map_data_lists_every_image_once_with_valid_sprites(tmp_path):
    data, names = _gathered()
    thumbnails = np.random.default_rng(1).random((len(names), 16, 16, 3)).astype(np.float32)
    cache = ResultCache(None)
    plan = map_sprites.write_map_sprites(
        thumbnails, [str(number) for number in range(len(names))], data.positions, tmp_path, cache
    )
    script = mapdata.write_map_script(tmp_path, data)
    assert script == tmp_path / "assets" / "map-data.js"
    payload = mapdata.read_map_script(tmp_path / "assets" / "map-data.js")
    columns = mapdata.map_columns(payload)
    assert columns["names"] == names  # every image, once, in manifest order
    assert sorted(columns["order"]) == list(range(len(names)))  # each in one sheet's cell
    np.testing.assert_array_equal(columns["order"], plan.order)
    assert ((columns["neighbours"] >= 0) & (columns["neighbours"] < len(names))).all()
    assert columns["hrefs"][0] == "images/image-0.html" and columns["hrefs"][1] is None
    assert set(columns["clusters"]) == {0, 1, 2, 3}
    # k-means finds the four clusters: one cluster per label.
    assert len(set(zip(columns["labels"], columns["clusters"]))) == 4
    # The sprite scripts the page will ask for are there, one sharp sheet per group of 256.
    sprites = payload["sprites"]
    assert sprites["sharp"]["count"] == 1 and sprites["small"]["scripts"] == [urls.sprite_atlas(0)]
    assert cache.misses["picture"] == 1 + 1 + 1  # the sharp sheet, the small atlas, the mean colours
    assert sorted(path.name for path in (tmp_path / urls.MAP_SPRITES).iterdir()) == [
        "colours.js",
        "sharp-0.js",
        "small-0.js",
    ]
    for path in (tmp_path / urls.MAP_SPRITES).iterdir():
        assert path.read_text().startswith("window.AevisMapSheet(")


def test_map_quality_on_separated_clusters():
    codes, positions, labels = _clusters()
    quality = map_quality(codes, positions, labels)
    assert quality.trustworthiness > 0.9
    assert quality.label_agreement_codes == 1.0 and quality.label_agreement_map == 1.0
    assert quality.label_agreement_chance == pytest.approx(29 / 119)
    # A shuffled map keeps the codes' agreement but loses the map's and its trustworthiness.
    shuffled = map_quality(codes, np.random.default_rng(3).permutation(positions), labels)
    assert shuffled.label_agreement_map < 0.5 and shuffled.trustworthiness < 0.7
    unlabelled = map_quality(codes, positions, None, sample=50)
    assert unlabelled.label_agreement_codes is None and unlabelled.trust_sample == 50
    assert quality.label_agreement_pixels is None  # no images given


def test_the_raw_pixels_label_agreement_is_measured_beside_the_codes():
    codes, positions, labels = _clusters()
    rng = np.random.default_rng(7)
    # Pixels that know nothing of the labels, then pixels that are the codes themselves.
    noise = rng.random((len(codes), 4, 4, 3)).astype(np.float32)
    blind = map_quality(codes, positions, labels, images=noise)
    kin = map_quality(codes, positions, labels, images=np.asarray(codes).reshape(len(codes), 1, -1, 1))
    assert blind.label_agreement_codes_sampled == blind.label_agreement_codes == 1.0
    assert blind.label_agreement_pixels < 0.5
    assert kin.label_agreement_pixels == kin.label_agreement_codes == 1.0
    # Sampled: both figures come from the same 50 points, the codes' by brute force here.
    sampled = map_quality(codes, positions, labels, sample=50, images=noise)
    chosen = np.sort(np.random.default_rng(0).choice(len(codes), 50, replace=False))
    unit = codes[chosen] / np.linalg.norm(codes[chosen], axis=1, keepdims=True)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1)[:, :10]
    ids = np.asarray(labels)[chosen]
    assert sampled.label_agreement_codes_sampled == pytest.approx(np.mean(ids[nearest] == ids[:, None]))
    words = {
        grade: mapdata.JudgedMapQuality(
            **{**asdict(blind), "label_agreement_codes_sampled": codes_share, "label_agreement_pixels": 0.5}
        ).against_pixels
        for grade, codes_share in (("more", 0.56), ("as", 0.54), ("less", 0.44))
    }
    assert words == {"more": "more", "as": "as", "less": "less"}


def test_map_page_renders_with_its_scripts_and_quality():
    data, names = _gathered(with_labels=False)
    # Only what base.html and map.html read, so the page summary may grow without this test.
    summary = types.SimpleNamespace(title="t", images=len(names), code_size=12, version=__version__, compared=False)
    html = _environment().get_template("map.html").render(root="", site=summary, current="map.html", map=data)
    assert '<script src="assets/map-data.js"></script>' in html and '<script src="assets/map.js"></script>' in html
    assert html.count("<canvas") == 2 and "<noscript>" in html
    assert "Trustworthiness" in html and "same label" not in html
    assert '<option value="label">' not in html and '<option value="cluster">' in html


def test_map_data_carries_sources_trust_density_and_worded_colourings(tmp_path):
    data, names = _gathered()
    payload = mapdata.read_map_script(mapdata.write_map_script(tmp_path, data))
    columns = mapdata.map_columns(payload)
    assert columns["sources"] == [f"kind/{name}" for name in names]
    np.testing.assert_array_equal(columns["trust"], data.map_trust)
    np.testing.assert_array_equal(columns["density"], data.density)
    choices = {choice["key"]: choice for choice in payload["colourings"]}
    assert list(choices) == ["none", "label", "cluster", "error", "density", "trust"]
    for key, choice in choices.items():
        assert len(choice["words"]) > 40, key  # a sentence, not a bare figure
    for key in ("error", "density", "trust"):  # a ramp worded at both ends
        assert len(choices[key]["ramp"]) >= 2 and choices[key]["low"] and choices[key]["high"], key
    assert "code space" in choices["density"]["words"] and f"{QUALITY_K} most similar" in choices["trust"]["words"]
    # Without the figures, no such colourings and no such columns.
    bare = mapdata.gather_map_data(
        names,
        [f"s{n}" for n in range(len(names))],
        [None] * len(names),
        data.positions,
        data.clusters,
        data.errors,
        data.neighbours,
    )
    bare_payload = mapdata.map_payload(bare)
    assert [choice["key"] for choice in bare_payload["colourings"]] == ["none", "cluster", "error"]
    bare_columns = mapdata.map_columns(bare_payload)
    assert bare_columns["trust"] is None and bare_columns["sources"] == names
    with pytest.raises(ValueError, match="Expected 120 entries"):
        mapdata.gather_map_data(
            names,
            data.slugs,
            data.hrefs,
            data.positions,
            data.clusters,
            data.errors,
            data.neighbours,
            map_trust=np.ones(5),
        )


def test_built_site_records_map_trust_in_the_manifest_and_the_map_data(tiny_site):
    config, gallery = tiny_site
    site = config.out
    manifest = json.loads((site / "data" / "manifest.json").read_text())
    payload = mapdata.read_map_script(site / "assets" / "map-data.js")
    codes = finite_codes(gallery.codes)  # the build's neighbours: by the centred similarity
    expected = neighbourhoods(
        codes, gallery.positions, code_neighbours=nearest_neighbours(codes, QUALITY_K, centre=mean_code(codes))
    )
    recorded = [record["map_trust"] for record in manifest["images"]]
    np.testing.assert_allclose(recorded, expected["map_trust"], atol=1e-4)
    columns = mapdata.map_columns(payload)
    at = {slug: number for number, slug in enumerate(columns["slugs"])}
    for record in manifest["images"]:
        assert columns["trust"][at[record["slug"]]] == pytest.approx(record["map_trust"], abs=1e-3)
        assert columns["sources"][at[record["slug"]]] == record["source"]
    np.testing.assert_allclose([columns["density"][at[slug]] for slug in gallery.slugs], expected["density"], rtol=1e-6)
