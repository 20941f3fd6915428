"""The demo: what `python generate.py` builds with no arguments, and what it lets a visitor discover."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aevis.cli import config_from_arguments
from aevis.config import DEFAULT_PAGES, BuildConfig
from aevis.data.builtin import make_digits
from aevis.pipeline import build
from aevis.site.html import _environment
from aevis.site.pages import Finding, SiteSummary


def test_the_demo_is_500_digits_at_32_pixels_with_100_pages():
    config = config_from_arguments([])
    assert (config.dataset, config.count, config.seed_image_size, config.pages) == ("digits", 500, 32, DEFAULT_PAGES)
    assert config_from_arguments(["--pages", "all"]).pages is None
    assert config_from_arguments(["--image-size", "48"]).seed_image_size == 48
    assert config_from_arguments(["--dataset", "shapes"]).seed_image_size == 64
    assert BuildConfig(images="photos").seed_image_size == 64  # a folder's default, whatever the dataset


def test_more_digits_than_there_are_is_one_sentence(capsys):
    with pytest.raises(SystemExit) as stop:
        config_from_arguments(["--count", "2000"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "aevis: error: The built-in digits are 1,797 images; --count 2000 asks for more."
    )


def test_the_network_sorts_the_digits_by_itself(tmp_path):
    """At a small size (300 digits, 10 epochs, no heat-maps): the label agreement, recomputed here
    from the exported codes by brute force, is well above chance, and the index says so."""
    out = tmp_path / "site"
    build(
        BuildConfig(
            out=out,
            cache_dir=tmp_path / "cache",
            count=300,
            epochs=10,
            methods=(),
            pages=3,
            faithfulness_sample=0,
            quiet=True,
        )
    )
    codes = np.load(out / "data" / "codes.npy").astype(np.float64)
    manifest = json.loads((out / "data" / "manifest.json").read_text())
    labels = np.array([record["label"] for record in manifest["images"]])
    agreement = _label_agreement(codes - codes.mean(axis=0), labels)  # codes by the gallery's (centred) similarity
    counts = np.unique(labels, return_counts=True)[1]
    chance = float(np.sum(counts * (counts - 1)) / (len(labels) * (len(labels) - 1)))

    quality = manifest["map_quality"]
    assert agreement >= 0.6 and chance < 0.11
    assert quality["label_agreement_codes"] == pytest.approx(agreement, abs=1e-9)
    assert quality["label_agreement_chance"] == pytest.approx(chance, abs=1e-9)
    pixels = make_digits(300, 32, channels=1).images[:].reshape(300, -1).astype(np.float64)
    assert quality["label_agreement_pixels"] == pytest.approx(_label_agreement(pixels, labels), abs=1e-9)
    map_page = " ".join((out / "map.html").read_text().split())
    assert (
        f"Comparing the raw pixels the same way gives <strong>{quality['label_agreement_pixels']:.0%}</strong>"
        in map_page
    )
    index = " ".join((out / "index.html").read_text().split())
    assert "The network sorted the images by digit by itself." in index
    assert f"yet {agreement:.0%} of each image" in index and f"picked at random, {chance:.0%} would" in index
    assert '<a href="map.html#c=label">See what it grouped together on the map' in index  # opens coloured by digit


def _label_agreement(vectors: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Share of each row's k nearest rows (cosine, brute force) with its label; centre the rows
    first for the gallery's similarity."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    return float(np.mean(labels[nearest] == labels[:, None]))


@pytest.mark.parametrize(
    ("agreement", "grade", "words"),
    [
        (0.6, "found", "The network sorted the images by kind of shape by itself."),
        (0.59, "partly", "The network partly sorted the images by kind of shape."),
        (0.375, "partly", "The network partly sorted the images by kind of shape."),
        (0.374, "chance", "The network groups these images by something other than their kind of shape."),
    ],
)
def test_the_index_says_in_words_what_the_network_groups_by(agreement, grade, words):
    finding = Finding("kind of shape", 10, agreement, 0.25)
    assert finding.grade == grade
    summary = SiteSummary("Demo", 160, 160, 0, 1024, 1024, "32×32×1", 4, 0, finding=finding)
    html = (
        _environment()
        .get_template("index.html")
        .render(root="", site=summary, current="index.html", pages=[], mosaic=None)
    )
    text = " ".join(html.split())
    assert words in text
    assert "rewrote each of these images, 1,024 numbers, as 1,024 numbers of its own making" in text
    assert f"{agreement:.0%}" in text and "25%" in text


def test_the_index_says_squeezed_only_when_the_code_is_smaller(tiny_site):
    config, gallery = tiny_site  # 16x16x3 images, an 8-number code
    text = " ".join((config.out / "index.html").read_text().split())
    assert f"squeezed each of these images, 768 numbers, into {gallery.ae.code_size} numbers, its" in text
