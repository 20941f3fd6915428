"""The strangest-and-most-typical and near-duplicates pages: the ranking against errors worked
out again from the model's reconstructions, the manifest's fields, and both pages in a browser
(the slider regroups the near-duplicates)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aevis.latent.duplicates import RESOLUTION, Candidates, find_duplicates, group_duplicates
from aevis.latent.strangeness import error_ranking, image_errors
from aevis.site import html as html_pages
from aevis.site import set_pages, urls
from aevis.site.pages import summarise
from aevis.site.set_pages import (
    SHOWN,
    gather_duplicates,
    gather_strangest,
    shown_images,
    similarity_percent,
    similarity_text,
    slider_position,
    slider_threshold,
)
from tests.browser import PageWatch, needs_chromium
from tests.conftest import TINY_BUILD
from tests.latent.test_duplicates import plant_copies, smooth_pictures


def _manifest(site: Path) -> dict:
    return json.loads((site / urls.MANIFEST).read_text())


# ------------------------------------------------------------------ rules


def test_error_ranking_puts_the_highest_first_ties_in_order_and_non_finite_last():
    errors = np.array([0.1, np.nan, 0.3, 0.1, np.inf, 0.2], np.float32)
    order, ranks = error_ranking(errors)
    assert order.tolist() == [2, 5, 0, 3, 1, 4]
    assert ranks.tolist() == [2, 4, 0, 3, 5, 1]
    assert image_errors(np.stack([np.full((2, 3), 0.5), np.eye(2, 3)])).tolist() == pytest.approx([0.5, 1 / 3])


@pytest.mark.parametrize(("count", "shown"), [(1, 0), (3, 1), (12, 6), (2 * SHOWN, SHOWN), (100, SHOWN)])
def test_each_end_of_the_ranking_shows_up_to_twelve_and_no_image_twice(count, shown):
    order = np.arange(count)[::-1]
    strangest, typical = shown_images(count, order)
    assert len(strangest) == len(typical) == shown
    assert not set(strangest) & set(typical)
    assert strangest.tolist() == order[:shown].tolist() and typical.tolist() == order[::-1][:shown].tolist()


def test_similarities_are_written_to_two_figures_of_their_gap_to_one():
    assert [similarity_text(value) for value in (0.5, 0.84, 0.99946, 0.9999871, 1.0, 1.0000001)] == [
        "0.50",
        "0.84",
        "0.99946",
        "0.999987",
        "1.000000",
        "1.000000",
    ]


def test_similarity_percentages_are_never_rounded_up_to_a_near_copys():
    values = (1.0, 0.99999996, 0.99996, 0.9997, 0.9987, 0.995, 0.9899, 0.5, 0.004, -0.237, float("nan"))
    assert [similarity_percent(value) for value in values] == [
        "100%",
        "100%",
        "99.996%",
        "99.97%",
        "99.8%",
        "99.5%",
        "98%",
        "50%",
        "0%",
        "-23%",
        "n/a",
    ]


# ------------------------------------------------------------------ the tiny site


def test_rankings_equal_a_sort_of_the_errors_recomputed_from_the_reconstructions(tiny_site):
    config, gallery = tiny_site
    images = gallery.imageset.images[:]
    rebuilt = gallery.ae.reconstruct(images, batch_size=5)  # another batching than the build's
    errors = ((images - rebuilt) ** 2).mean(axis=(1, 2, 3))
    expected = np.argsort(-errors, kind="stable")
    assert np.diff(np.sort(errors)).min() > 1e-5 * errors.max()  # no near-tie that rounding could flip

    page = gather_strangest(gallery)
    names = gallery.imageset.names
    assert [item.link.name for item in page.ranking] == [names[index] for index in expected]
    assert [item.rank for item in page.ranking] == list(range(1, len(names) + 1))
    np.testing.assert_allclose([item.error for item in page.ranking], errors[expected], rtol=1e-4)
    half = len(names) // 2
    assert [item.link.name for item in page.strangest] == [names[index] for index in expected[:half]]
    assert [item.link.name for item in page.typical] == [names[index] for index in expected[::-1][:half]]
    assert page.median == pytest.approx(float(np.median(errors)), rel=1e-4)
    assert sum(bar.count for bar in page.histogram.bars) == len(names)
    assert len(page.histogram.markers) == 2 * half

    records = _manifest(config.out)["images"]
    assert [record["slug"] for record in records] == gallery.slugs
    ranks = np.array([record["error_rank"] for record in records])
    assert np.argsort(ranks).tolist() == expected.tolist() and sorted(ranks) == list(range(len(names)))


def test_a_large_set_lists_the_strangest_part_of_its_ranking_and_points_to_the_manifest(
    tiny_site, tmp_path, monkeypatch
):
    config, gallery = tiny_site
    whole = gather_strangest(gallery)
    monkeypatch.setattr(set_pages, "RANKING_LISTED", 3)
    page = gather_strangest(gallery)
    assert page.ranking == whole.ranking[:3] and page.ranked == whole.ranked == len(gallery)
    html = (
        html_pages._environment()
        .get_template("strangest.html")
        .render(root="", site=summarise(gallery, "t"), current=urls.STRANGEST, strangest=page)
    )
    words = " ".join(html.split())
    assert f"the first 3 of {len(gallery)} images" in words and f'href="{urls.MANIFEST}"' in html
    assert html.split('class="ranking"')[1].split("</ol>")[0].count("<li>") == 3
    assert "The whole ranking" in (config.out / urls.STRANGEST).read_text()  # a small set lists it all


def test_the_manifest_records_each_images_error_rank_and_duplicates(tiny_site):
    config, gallery = tiny_site
    manifest = _manifest(config.out)
    found = find_duplicates(gallery.codes, gallery.neighbour_indices, gallery.neighbour_similarities)
    errors = gallery.errors
    for index, record in enumerate(manifest["images"]):
        assert {"reconstruction_error", "error_rank", "duplicates"} <= record.keys()
        # The number the image page prints (and the map colours by), to six figures.
        assert record["reconstruction_error"] == pytest.approx(float(errors[index]), rel=1e-5)
        assert record["duplicates"] == [
            {"slug": gallery.slugs[other], "similarity": pytest.approx(similarity, abs=1e-6)}
            for other, similarity in found.of_image[index]
        ]
    strangest = min(manifest["images"], key=lambda record: record["error_rank"])
    assert strangest["reconstruction_error"] == max(record["reconstruction_error"] for record in manifest["images"])
    assert manifest["duplicate_rule"] == pytest.approx(found.rule.as_record())


def test_both_pages_are_in_every_pages_navigation_and_link_what_they_show(tiny_site):
    config, gallery = tiny_site
    site = config.out
    for page in site.rglob("*.html"):
        html = page.read_text()
        root = urls.root_of(page.relative_to(site).as_posix())
        assert f'href="{root}{urls.STRANGEST}"' in html and f'href="{root}{urls.DUPLICATES}"' in html, page
    strangest = (site / urls.STRANGEST).read_text()
    words = " ".join(strangest.split())
    assert (
        f"squeeze each image into {gallery.ae.code_size} numbers and rebuild it from them, by practising on these very images."
        in words
    )
    for item in (*gather_strangest(gallery).strangest, *gather_strangest(gallery).typical):
        assert f'src="{item.link.thumbnail}"' in strangest and f'src="{item.error_png}"' in strangest
        assert (site / item.error_png).is_file()
        assert f'href="{item.link.href}"' in strangest  # every image of the tiny site has a page
    duplicates = (site / urls.DUPLICATES).read_text()
    assert "window.AEVIS_DUPLICATES = " in duplicates and (site / urls.DUPLICATES_SCRIPT).is_file()
    assert f"at least <strong>{gather_duplicates(gallery).threshold}</strong>" in duplicates


# ------------------------------------------------------------------ planted copies


@pytest.fixture(scope="module")
def planted_site(tmp_path_factory):
    """(config, gallery) of a small site of 16 images from a folder: 12 smooth pictures, three
    copies of the first (exact, JPEG, resized) and a resized copy of the second; pages for 4
    images only, so the strangest page shows images without a page."""
    from aevis.config import BuildConfig
    from aevis.pipeline import build

    root = tmp_path_factory.mktemp("planted")
    folder = root / "images"
    folder.mkdir()
    pictures = smooth_pictures(12, seed=0)
    plant_copies(folder, pictures)
    second = Image.fromarray(pictures[1])
    second.resize((32, 32), Image.Resampling.BILINEAR).resize((64, 64), Image.Resampling.BILINEAR).save(
        folder / "photo-01-resized.png"
    )
    settings = dict(TINY_BUILD, image_size=32, pages=4)
    config = BuildConfig(out=root / "site", cache_dir=root / "cache", images=folder, **settings)
    return config, build(config)


PLANTED_GROUPS = [
    {"photo-00.png", "copy-exact.png", "copy-jpeg.jpg", "copy-resized.png"},
    {"photo-01.png", "photo-01-resized.png"},
]


def test_planted_copies_are_grouped_on_the_page_and_in_the_manifest(planted_site):
    config, gallery = planted_site
    names = gallery.imageset.names
    page = gather_duplicates(gallery)
    assert [{member.link.name for member in group.members} for group in page.groups] == PLANTED_GROUPS
    assert page.adjustable and 0 < page.position < page.steps
    assert slider_position(page.rule) == page.position
    by_slug = {record["slug"]: record for record in _manifest(config.out)["images"]}
    for index, name in enumerate(names):
        listed = {by_slug[entry["slug"]]["name"] for entry in by_slug[gallery.slugs[index]]["duplicates"]}
        group = next((group for group in PLANTED_GROUPS if name in group), {name})
        assert listed == group - {name}, name


def _groups_at(data: dict, position: int) -> list[list]:
    """What duplicates.js shows at a slider position: the changes applied in turn, in order."""
    shown: set[int] = set()
    for added, removed in data["changes"][: position + 1]:
        shown |= set(added)
        shown -= set(removed)
    return [data["groups"][number] for number in sorted(shown)]


def test_the_slider_carries_every_positions_groups_grouped_in_python(planted_site):
    _, gallery = planted_site
    page = gather_duplicates(gallery)
    rule, data = page.rule, page.data
    assert len(data["thresholds"]) == len(data["changes"]) == page.steps + 1
    assert slider_threshold(rule, 0) == pytest.approx(rule.floor, abs=1e-12)
    assert slider_threshold(rule, page.steps) == pytest.approx(1 - RESOLUTION, abs=1e-15)
    assert data["thresholds"][-1] == "0.999999"
    # Its own position gives back (about) the rule's threshold, and the page's groups.
    assert slider_threshold(rule, page.position) == pytest.approx(rule.similarity, abs=(1 - rule.similarity) * 0.05)
    names = [image[0] for image in data["images"]]
    at_rule = _groups_at(data, page.position)
    assert [{names[member] for member in group[0]} for group in at_rule] == PLANTED_GROUPS
    assert [[data["closest"][member] for member in group[0]] for group in at_rule] == [
        [member.closest for member in group.members] for group in page.groups
    ]
    # At every position, the groups group_duplicates finds there, in its order, each group once.
    duplicates = gallery.duplicates
    involved = np.unique(duplicates.candidates.pairs)
    for position in range(page.steps + 1):
        expected = group_duplicates(
            len(names),
            Candidates(np.searchsorted(involved, duplicates.candidates.pairs), duplicates.candidates.similarities),
            slider_threshold(rule, position),
        )
        assert [group[0] for group in _groups_at(data, position)] == [list(group.members) for group in expected]
    assert len({json.dumps(group) for group in data["groups"]}) == len(data["groups"])
    assert [{names[m] for m in group[0]} for group in _groups_at(data, page.steps)] == [
        {"photo-00.png", "copy-exact.png"}
    ]


@needs_chromium
def test_both_pages_load_from_file_and_the_slider_regroups(planted_site, browser):
    config, gallery = planted_site
    site = config.out
    watch = PageWatch(browser, width=800, height=900)
    try:
        watch.open((site / urls.STRANGEST).resolve().as_uri())
        assert watch.unloaded_pictures() == []
        shown = watch.page.evaluate("() => document.querySelectorAll('.ranked img').length")
        assert shown == 2 * 2 * 8  # eight at each end, each with its error picture
        assert watch.problems == []

        watch.open((site / urls.DUPLICATES).resolve().as_uri())
        assert watch.unloaded_pictures() == []
        page = watch.page

        def shown_groups() -> list[int]:
            return page.evaluate(
                "() => [...document.querySelectorAll('.dup-group')].map(g => g.querySelectorAll('img').length)"
            )

        assert shown_groups() == [4, 2]
        slider = page.locator("#dup-threshold")
        slider.focus()
        page.keyboard.press("End")  # the strictest: only copies equal up to rounding
        assert shown_groups() == [2]
        assert page.locator(".dup-status").inner_text() == "1 group, 2 images in all."
        assert page.locator("#dup-value").inner_text() == "0.999999"
        page.keyboard.press("Home")  # the loosest the page carries
        loosest = shown_groups()
        assert len(loosest) >= 2 and sum(loosest) >= 6
        slider.evaluate(
            "(element, value) => { element.value = value; element.dispatchEvent(new Event('input')); }",
            gather_duplicates(gallery).position,
        )
        assert shown_groups() == [4, 2]  # back at the stated threshold, as the page was built
        page.evaluate(
            "() => Promise.all([...document.images].map(img => img.complete ? null : "
            "new Promise(done => { img.onload = img.onerror = done; })))"
        )
        assert watch.unloaded_pictures() == []  # the pictures the script drew
        assert watch.problems == []
    finally:
        watch.close()
