"""The site's rules: one owner of every path, the aims figures are judged by, the words for
numbers, and charts drawn at the size their page states."""

import re
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aevis import __version__
from aevis.draw import charts
from aevis.draw.pixels import Size
from aevis.site import aims, urls
from aevis.site.html import TEMPLATES, _environment
from aevis.site.mapdata import JudgedMapQuality
from aevis.site.pages import FaithfulnessRow, ReadingPage
from aevis.site.words import METHOD_WORDS


def test_paths_are_relative_to_the_site_root_and_root_leads_back():
    assert urls.image_page("a b") == "images/a b.html" and urls.layer_page("conv") == "layers/conv.html"
    assert urls.root_of(urls.INDEX) == "" and urls.root_of(urls.image_page("x")) == "../"
    assert urls.media("cat", "saliency") == "media/cat/saliency.png"
    assert urls.animation("cat", "morph") == "media/cat/morph.gif"
    assert urls.pair_maps("cat", 2) == ("media/cat/pair-2-here.png", "media/cat/pair-2-there.png")
    assert urls.THUMBNAIL_PATTERN.format(slug="cat") == urls.thumbnail("cat") == "media/cat/input.png"
    assert urls.maps_file("cat") == "data/maps/cat.npz"
    assert (urls.in_data(urls.CODES), urls.in_data(urls.MAPS_PATTERN)) == ("codes.npy", "maps/{slug}.npz")
    every = [
        urls.INDEX,
        urls.MAP,
        urls.MODEL,
        urls.READING,
        urls.REPORT,
        urls.MAP_DATA,
        urls.MOSAIC,
        urls.ERROR_LEGEND,
        urls.LOSS_CURVE,
        urls.FAITHFULNESS_CHART,
        urls.MANIFEST,
        urls.CODES,
        urls.overlay_legend(True),
        urls.overlay_legend(False),
        urls.cascade(0),
        urls.feature(np.int64(3)),
        urls.sprite_sheet(0),
        *urls.STATIC_FILES,
    ]
    assert len(set(every)) == len(every) and not any(path.startswith("/") for path in every)
    assert urls.feature(np.int64(3)) == "media/features/channel-3.png"


def test_static_files_exist_in_templates():
    for path in urls.STATIC_FILES:
        assert (TEMPLATES / Path(path).name).is_file(), path


def test_templates_take_every_link_and_picture_from_python():
    # Each href and src is an expression: a path from urls.py or a page model, behind {{ root }}.
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        literal = re.findall(r'(?:href|src)="(?!\{\{)[^"]*"', text)
        assert literal == [], f"{template.name} spells out {literal}"
        assert not re.search(r"\b0\.[59]\b|\btwice\b", text), f"{template.name} states an aim in its words"


@pytest.mark.parametrize(("spearman", "ok"), [(aims.RANDOMIZATION - 0.01, True), (aims.RANDOMIZATION, False)])
def test_randomization_is_judged_by_its_aim(spearman, ok):
    row = FaithfulnessRow(METHOD_WORDS["saliency"], 0.1, 0.2, spearman, None, None)
    assert row.randomization_ok is ok and row.object_ok is None and row.deletion_ok


def test_object_share_is_judged_by_its_aim():
    words = METHOD_WORDS["saliency"]
    assert FaithfulnessRow(words, 0.1, 0.2, 0.1, 0.4, 0.4 / aims.OBJECT_SHARE).object_ok
    assert not FaithfulnessRow(words, 0.1, 0.2, 0.1, 0.39, 0.4 / aims.OBJECT_SHARE).object_ok


def test_map_trust_is_judged_by_its_aim():
    quality = dict(
        k=5,
        trust_sample=10,
        label_agreement_codes=None,
        label_agreement_map=None,
        label_agreement_chance=None,
        label_agreement_pixels=None,
        label_agreement_codes_sampled=None,
    )
    assert JudgedMapQuality(trustworthiness=aims.TRUSTWORTHINESS, **quality).trustworthy is True
    assert JudgedMapQuality(trustworthiness=aims.TRUSTWORTHINESS - 0.01, **quality).trustworthy is False
    assert JudgedMapQuality(trustworthiness=None, **quality).trustworthy is None


def test_numbers_in_words():
    environment = _environment()
    spelled, times = environment.filters["spelled"], environment.filters["times"]
    assert [spelled(count) for count in (0, 3, 10, 11, 1200)] == ["no", "three", "ten", "11", "1,200"]
    assert [times(factor) for factor in (1, 2, 2.0, 3, 1.5)] == ["once", "twice", "twice", "three times", "1.5 times"]


def test_reading_page_states_the_aims_and_the_chart_size():
    words = METHOD_WORDS["saliency"]
    rows = (FaithfulnessRow(words, 0.1, 0.2, 0.3, 0.5, 0.1), FaithfulnessRow(words, 0.3, 0.2, 0.7, 0.1, 0.1))
    guide = ReadingPage(
        "what it shares", (words,), None, rows, 3, urls.FAITHFULNESS_CHART, Size(1260, 360), 4, None, ()
    )
    site = types.SimpleNamespace(title="t", images=8, code_size=12, version=__version__, compared=False)
    html = _environment().get_template("reading.html").render(root="", site=site, current=urls.READING, guide=guide)
    assert "on 4 images, three ways:" in html and "Below 0.5 is what we aim for." in html
    assert "at least twice as much is what we aim for." in html
    assert html.count("yes, below 0.5") == 1 and html.count("not clearly: 0.5 or more") == 1
    assert html.count("yes, twice or more") == 1 and html.count("less than twice") == 1
    assert (
        f'src="{urls.FAITHFULNESS_CHART}" alt="Bar charts of the faithfulness figures for each method" '
        'width="1260" height="360"><figcaption>The three checks' in html
    )


def _figures(with_objects: bool) -> dict[str, dict[str, float]]:
    row = {"deletion_auc": 0.2, "random_deletion_auc": 0.3, "randomization_spearman": 0.4}
    if with_objects:
        row |= {"object_share": 0.5, "mask_share": 0.2}
    return {"saliency": row, "gradcam": dict(row)}


@pytest.mark.parametrize(("with_objects", "panels", "size"), [(True, 3, (1260, 360)), (False, 2, (840, 360))])
def test_faithfulness_chart_is_drawn_at_the_size_its_page_states(tmp_path, with_objects, panels, size):
    figures = _figures(with_objects)
    charts.faithfulness_chart(
        figures, {"saliency": "Saliency", "gradcam": "Grad-CAM"}, tmp_path / "chart.png", aims.RANDOMIZATION
    )
    with Image.open(tmp_path / "chart.png") as chart:
        assert chart.size == charts.faithfulness_chart_size(figures) == size
    assert charts.faithfulness_panels(figures) == panels


def test_loss_curve_is_drawn_at_the_size_its_page_states(tmp_path):
    charts.loss_curve([0.7, 0.5, 0.45], tmp_path / "loss.png")
    with Image.open(tmp_path / "loss.png") as curve:
        assert curve.size == charts.loss_curve_size() == (550, 308)
