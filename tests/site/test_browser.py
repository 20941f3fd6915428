"""The built site in a real browser: Debian's Chromium driven by Playwright, from file:// and
from a local HTTP server. Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest
from PIL import Image

from aevis.site import urls
from tests.browser import PageWatch, needs_chromium
from tests.conftest import TINY_BUILD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = needs_chromium


def _site_pages(tiny_site) -> list[str]:
    site = tiny_site[0].out
    return sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html"))


def test_every_page_loads_cleanly_with_all_pictures_and_links(browser, base_url, tiny_site):
    site = tiny_site[0].out
    watch = PageWatch(browser)
    external = 0
    try:
        for relative in _site_pages(tiny_site):
            watch.open(base_url + relative)
            broken = watch.unloaded_pictures()
            assert broken == [], f"{relative}: pictures that did not load: {broken}"
            for href in watch.page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)"):
                parsed = urlparse(href)
                if parsed.scheme == "https":
                    external += 1  # a paper cited in the reading guide: a link, never loaded
                    continue
                if base_url.startswith("file:"):
                    assert Path(unquote(parsed.path)).is_file(), f"{relative}: broken link {href}"
                else:
                    response = watch.page.request.get(href)
                    assert response.ok, f"{relative}: link {href} answered {response.status}"
            assert watch.problems == [], f"{relative}: {watch.problems}"
    finally:
        watch.close()
    assert (site / "reading.html").is_file() and external > 0


def test_arrow_keys_move_between_image_pages(browser, base_url, tiny_site):
    pages = [record for record in tiny_site[1].slugs]
    watch = PageWatch(browser)
    try:
        watch.open(base_url + f"images/{pages[1]}.html")
        watch.page.keyboard.press("ArrowRight")
        watch.page.wait_for_url(f"**/images/{pages[2]}.html")
        watch.page.keyboard.press("ArrowLeft")
        watch.page.wait_for_url(f"**/images/{pages[1]}.html")
        watch.page.keyboard.press("ArrowLeft")
        watch.page.wait_for_url(f"**/images/{pages[0]}.html")
        assert watch.problems == []
    finally:
        watch.close()


@pytest.mark.parametrize("renderer", ["webgl2", "webgl1", "canvas"])
def test_map_hover_previews_and_click_opens_the_page(browser, base_url, tiny_site, renderer):
    gallery = tiny_site[1]
    name, slug = gallery.imageset.names[5], gallery.slugs[5]
    watch = PageWatch(browser)
    try:
        watch.open(base_url + "map.html#renderer=" + renderer)
        assert watch.page.evaluate("() => AevisMap.stats.renderer") == renderer
        watch.page.fill(".map-find", name)  # finding an image puts it at the centre of the canvas
        box = watch.page.locator(".map-canvas").bounding_box()
        centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        watch.page.mouse.move(*centre)
        preview = watch.page.locator(".map-preview")
        preview.wait_for(state="visible")
        assert watch.page.locator(".map-preview-name").inner_text() == name
        assert watch.page.locator(".map-preview-neighbours li").count() == 3
        # Each neighbour with its similarity, written as the image pages write it.
        from aevis.site.set_pages import similarity_percent

        expected = [
            f"{gallery.imageset.names[other]} · {similarity_percent(similarity)} similar"
            for other, similarity in zip(gallery.neighbour_indices[5], gallery.neighbour_similarities[5])
        ]
        assert watch.page.locator(".map-preview-neighbours li").all_inner_texts() == expected
        watch.page.mouse.click(*centre)
        watch.page.wait_for_url(f"**/images/{slug}.html")
        assert watch.problems == []
    finally:
        watch.close()


def test_the_map_writes_similarities_as_the_pages_do(browser, base_url):
    from aevis.site.set_pages import similarity_percent

    values = [1.0, 0.99999996, 0.99996, 0.9997, 0.99912, 0.9987, 0.995, 0.99, 0.9899, 0.5, 0.004, -0.004, -0.237, -1.0]
    watch = PageWatch(browser)
    try:
        watch.open(base_url + "map.html")
        written = watch.page.evaluate("(values) => values.map(AevisMapTools.similarityPercent)", values)
        assert written == [similarity_percent(value) for value in values]
    finally:
        watch.close()


def test_map_data_lists_every_image_of_the_manifest_once(tiny_site):
    from aevis.site.mapdata import map_columns, read_map_script

    site = tiny_site[0].out
    manifest = json.loads((site / "data" / "manifest.json").read_text())
    columns = map_columns(read_map_script(site / "assets" / "map-data.js"))
    slugs = columns["slugs"]
    assert sorted(slugs) == sorted(record["slug"] for record in manifest["images"])
    assert len(set(slugs)) == len(slugs)
    assert sorted(columns["order"]) == list(range(len(slugs)))  # each image on one sprite sheet
    by_slug = {record["slug"]: record for record in manifest["images"]}
    for slug, similarities in zip(slugs, columns["similarities"]):
        recorded = [neighbour["similarity"] for neighbour in by_slug[slug]["neighbours"]]
        np.testing.assert_allclose(similarities, recorded, atol=1e-6)
    for number in range(len(columns["boxes"])):  # each sheet's script is in the site
        assert (site / urls.sprite_sheet(number)).is_file()


LONG_NAMES = (
    "holiday_photo_of_the_lighthouse_at_the_end_of_the_pier_taken_just_before_sunset_2023_08_14_IMG_0042.png",
    "AVeryLongFileNameWithoutAnySpacesOrBreaksWhatsoeverThatJustKeepsGoingAndGoingAndGoingForever.png",
    "a long file name with spaces in it that describes the picture in far more words than anyone needs.png",
    "another-extremely-long-hyphenated-file-name-that-goes-on-and-on-and-on-for-many-characters-indeed.png",
    "x" * 120 + ".png",
)
"""File names of 96 to 124 characters, most without a space: on image pages they fill the
heading, the prev/next links, the neighbour chips and the morph's caption."""


@pytest.fixture(scope="module")
def long_name_site(tmp_path_factory) -> Path:
    """A tiny site built from a folder (itself with a long name) of pictures with LONG_NAMES, plus
    an unreadable file with a long name for the report: a few seconds, like ``tiny_site``."""
    from aevis.config import BuildConfig
    from aevis.pipeline import build

    root = tmp_path_factory.mktemp("long-names")
    folder = root / "images" / ("a_folder_whose_name_is_long_too_" + "z" * 60)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in LONG_NAMES:
        Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(folder / name)
    (folder / ("not_a_picture_although_its_name_says_so_" + "y" * 80 + ".png")).write_text("text")
    config = BuildConfig(out=root / "site", cache_dir=root / "cache", images=root / "images", **TINY_BUILD)
    gallery = build(config)
    assert sorted(gallery.imageset.names) == sorted(LONG_NAMES)
    return config.out


@pytest.mark.parametrize("which", ["tiny site", "long names"])
def test_pages_fit_a_360_pixel_phone_without_sideways_scrolling(browser, tiny_site, which, request):
    """Every page, with every <details> open: the document does not scroll sideways, and no
    element or text is drawn past the right edge (a table may scroll inside its own wrapper)."""
    if which == "tiny site":
        site = tiny_site[0].out
        expected = {"index.html", "map.html", "model.html", "reading.html", f"images/{tiny_site[1].slugs[0]}.html"}
    else:
        site = request.getfixturevalue("long_name_site")
        expected = {"index.html", "map.html", "model.html", "reading.html", "report.html"}
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html"))
    assert expected <= set(pages)
    if which == "long names":
        assert sum(page.startswith("images/") for page in pages) == len(LONG_NAMES)
    watch = PageWatch(browser, width=360, height=740)
    wider = {}
    try:
        for relative in pages:
            watch.open((site / relative).resolve().as_uri())
            drawn_past = watch.wider_than_the_screen()
            overflow = watch.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0 or drawn_past:
                wider[relative] = [f"the page is {overflow}px wider than a 360px screen", *drawn_past]
    finally:
        watch.close()
    assert not wider, "\n".join(f"{page}: {'; '.join(found)}" for page, found in wider.items())


def _shows_picture(shot: np.ndarray, box: tuple[int, int, int, int], picture: Path) -> None:
    """The screenshot shows ``picture`` where the page put it: the file's colours, pixel for pixel
    (the file scaled to the box), so a varied picture is not a blank patch of the page."""
    left, top, right, bottom = box
    shown = shot[top:bottom, left:right].astype(np.int16)
    assert shown.shape[0] > 20 and shown.shape[1] > 20, f"{picture.name} is drawn at {box}"
    with Image.open(picture) as stored:
        expected = np.asarray(stored.convert("RGB").resize(shown.shape[1::-1], Image.Resampling.BILINEAR))
    if expected.reshape(-1, 3).std(axis=0).max() > 8:
        assert shown.reshape(-1, 3).std(axis=0).max() > 8, f"{picture.name}: a flat patch where the picture should be"
    difference = np.abs(shown - expected).mean()
    assert difference < 10, f"{picture.name}: the screenshot differs from the file by {difference:.1f} levels"


def test_screenshots_for_the_record(browser, tiny_site):
    """Index, one image page and the map, saved as test artifacts (and the README picture), and
    each checked for what it is for: the mosaic and thumbnails on the index, the image with its
    reconstruction, error and heat-maps on the image page, thumbnails on the map's canvas."""
    config, gallery = tiny_site
    site, slug = config.out, gallery.slugs[0]
    image_page = urls.image_page(slug)
    shown_pictures = {
        "index": [urls.MOSAIC, *(urls.thumbnail(other) for other in gallery.slugs)],
        "image": [
            urls.thumbnail(slug),
            urls.media(slug, "reconstruction"),
            urls.media(slug, "error"),
            *(urls.media(slug, method) for method in gallery.explanations.methods),
        ],
        "map": [],
    }
    ARTIFACTS.mkdir(exist_ok=True)
    watch = PageWatch(browser, width=1100, height=900)
    try:
        for name, relative in [("index", urls.INDEX), ("image", image_page), ("map", urls.MAP)]:
            watch.open((site / relative).resolve().as_uri())
            assert watch.unloaded_pictures() == [], name
            path = ARTIFACTS / f"{name}.png"
            watch.page.screenshot(path=str(path), full_page=True)
            with Image.open(path) as screenshot:
                shot = np.asarray(screenshot.convert("RGB"))
            drawn = dict(watch.drawn_at("img"))
            root = urls.root_of(relative)
            for picture in shown_pictures[name]:
                assert root + picture in drawn, f"{name}: {picture} is not on the page"
                _shows_picture(shot, drawn[root + picture], site / picture)
            assert watch.problems == [], f"{name}: {watch.problems}"
        # The map's canvas (the page last shot) holds the thumbnails: thousands of colours on
        # its plain background, where a blank canvas has one and dots a handful.
        [(_, (left, top, right, bottom))] = watch.drawn_at(".map-canvas")
        canvas = shot[top:bottom, left:right].reshape(-1, 3)
        colours, counts = np.unique(canvas, axis=0, return_counts=True)
        assert len(colours) > 1000, f"the map canvas shows only {len(colours)} colours"
        assert 1 - counts.max() / counts.sum() > 0.02, "the map canvas is nearly all background"
    finally:
        watch.close()
