"""A site built from hostile file names and an unmeasurable image, in a real browser (Chromium
via Playwright, as test_browser.py): every shown name is isolated from the text around it, so a
right-to-left override cannot make one name pose as another; an error that could not be
measured reads "not measured", never 0."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aevis.site import urls
from tests import models
from tests.browser import PageWatch, needs_chromium
from tests.site.test_map_views import _canvas_box, _download_csv, _drag, _wait_for_hash

pytestmark = needs_chromium

OVERRIDDEN = ("photo\u202egnp.exe", "invoice\u202efdp.scr")
"""Names with a right-to-left override: shown raw, they read "photoexe.png", "invoicercs.pdf"."""
COMPARED = "twin\u202esarek.keras"
"""The model compared, named with an override too: shown raw, it reads "twinkeras.keras"."""
UNMEASURED = "bright.png"
"""The image whose rebuild is NaN (models.unmeasurable): its error is not measured."""


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    """Five grey pictures, two named with an override, one bright enough that the model's
    rebuild of it is NaN; compared with another model (named with an override), so compare.html
    names them too. About 10 seconds."""
    from aevis.config import BuildConfig
    from aevis.pipeline import build

    root = tmp_path_factory.mktemp("hostile-names")
    folder = root / "images"
    folder.mkdir()
    for name, grey in ((OVERRIDDEN[0], 10), (OVERRIDDEN[1], 14), ("dark.png", 18), ("dim.png", 22), (UNMEASURED, 250)):
        Image.fromarray(np.full((12, 12, 3), grey, np.uint8)).save(folder / name, format="PNG")
    models.unmeasurable().save(root / "model.keras")
    models.tiny_seed().save(root / COMPARED)
    config = BuildConfig(
        out=root / "site",
        cache_dir=root / "cache",
        images=folder,
        model=root / "model.keras",
        compare=root / COMPARED,
        input_scale="0-1",
        neighbours=2,
        methods=("saliency",),
        pair_method=None,
        faithfulness_sample=0,
        quiet=True,
    )
    build(config)
    return config.out


_NAKED_NAMES = """names => {
    // Every place a page shows one of ``names`` without isolating it: a text node whose
    // element does not isolate it alone, nor the isolate marks (an SVG's title); an attribute
    // or the page's title without the marks.
    const found = [];
    const isolating = (element) =>
        ["isolate", "isolate-override", "plaintext"].includes(getComputedStyle(element).unicodeBidi);
    const unmarked = (text, name) => text.split("\\u2068" + name + "\\u2069").join("").includes(name);
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const name of names) {
            if (!node.data.includes(name)) continue;
            const element = node.parentElement;
            if (!(isolating(element) && element.textContent === name) && unmarked(node.data, name)) {
                found.push("text: " + element.outerHTML);
            }
        }
    }
    for (const element of document.querySelectorAll("*")) {
        for (const attribute of element.attributes) {
            for (const name of names) {
                if (unmarked(attribute.value, name)) {
                    found.push(attribute.name + ": " + attribute.value);
                }
            }
        }
    }
    for (const name of names) {
        if (unmarked(document.title, name)) found.push("title: " + document.title);
    }
    return found;
}"""


def _shown(page, names) -> int:
    """How many text nodes of the page hold one of ``names``."""
    return page.evaluate(
        """names => { let count = 0; const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                          if (names.some(m => n.data.includes(m))) count++;
                      }
                      return count; }""",
        list(names),
    )


def test_every_page_isolates_every_name(browser, hostile_site):
    """Every HTML page of the site, as the browser shows it (after its scripts ran)."""
    pages = sorted(hostile_site.rglob("*.html"))
    assert {"index.html", "compare.html", "strangest.html", "duplicates.html", "report.html"} <= {p.name for p in pages}
    watch = PageWatch(browser)
    shown_on = []
    try:
        for page in pages:
            watch.open(page.resolve().as_uri())
            assert watch.page.evaluate(_NAKED_NAMES, [*OVERRIDDEN, COMPARED]) == [], page.name
            if _shown(watch.page, OVERRIDDEN):
                shown_on.append(page.relative_to(hostile_site).as_posix())
        assert watch.problems == []
    finally:
        watch.close()
    # The check looked at names where they are: the gallery, the set pages, the comparison, the
    # image pages (their own and their neighbours'), and the duplicates drawn by its script.
    assert {"index.html", "strangest.html", "compare.html", "duplicates.html"} <= set(shown_on)
    compare, report = ((hostile_site / name).read_text() for name in ("compare.html", "report.html"))
    assert f"<bdi>{COMPARED}</bdi>" in compare and f"<bdi>{COMPARED}</bdi>" in report
    assert len([page for page in shown_on if page.startswith("images/")]) >= 4  # all but the bright one's, at least


def test_the_map_card_selection_and_find_isolate_names(browser, hostile_site):
    watch = PageWatch(browser)
    try:
        watch.open((hostile_site / "map.html").resolve().as_uri())
        page = watch.page
        page.fill(".map-find", OVERRIDDEN[0])  # pins the image: its card shows
        page.locator(".map-preview").wait_for(state="visible")
        assert page.locator(".map-preview-name bdi").inner_text() == OVERRIDDEN[0]
        page.locator(".map-find").press("Enter")
        assert page.locator(".map-found bdi").inner_text() == OVERRIDDEN[0]
        page.click(".map-fit")  # the whole map in view, to select all of it
        box = _canvas_box(page)
        _drag(
            page,
            [(box["x"] + 2, box["y"] + 2), (box["x"] + box["width"] - 2, box["y"] + box["height"] - 2)],
            shift=True,
        )
        _wait_for_hash(page, "r")
        assert sorted(page.locator(".map-selection-grid bdi").all_inner_texts()) == sorted(
            [*OVERRIDDEN, "bright.png", "dark.png", "dim.png"]
        )
        page.fill(".map-find", "dark.png")  # its neighbours are the two overridden names
        page.locator(".map-preview").wait_for(state="visible")
        assert set(page.locator(".map-preview-neighbours bdi").all_inner_texts()) & set(OVERRIDDEN)
        assert page.evaluate(_NAKED_NAMES, list(OVERRIDDEN)) == []
        assert watch.problems == []
    finally:
        watch.close()


def test_an_unmeasured_error_reads_not_measured(browser, hostile_site):
    manifest = json.loads((hostile_site / urls.MANIFEST).read_text())
    record = next(record for record in manifest["images"] if record["name"] == UNMEASURED)
    assert record["reconstruction_error"] is None and record["flags"]
    page_text = (hostile_site / record["page"]).read_text()
    assert "Mean squared error not measured." in page_text
    for html in [page_text, *(path.read_text() for path in hostile_site.glob("*.html"))]:
        assert not re.search(r"\bnan\b|\bNaN\b(?! or infinity)", html)  # as Python or JavaScript write it
    watch = PageWatch(browser)
    try:
        watch.open((hostile_site / "map.html").resolve().as_uri())
        page = watch.page
        page.fill(".map-find", UNMEASURED)
        page.locator(".map-preview").wait_for(state="visible")
        facts = page.locator(".map-preview-facts").inner_text()
        assert "rebuild error not measured" in facts and "0.0" not in facts
        page.fill(".map-find", "dark.png")
        dark_error = (0.5 - 18 / 255) ** 2  # a flat grey 18 rebuilt as 0.5 everywhere
        assert f"rebuild error {dark_error:.2f}" in page.locator(".map-preview-facts").inner_text()
        page.select_option(".map-colour", "error")
        assert "NaN" not in page.locator(".map-legend").inner_text()
        page.click(".map-fit")
        box = _canvas_box(page)
        _drag(
            page,
            [(box["x"] + 2, box["y"] + 2), (box["x"] + box["width"] - 2, box["y"] + box["height"] - 2)],
            shift=True,
        )
        _wait_for_hash(page, "r")
        _, rows = _download_csv(page)
        errors = {row["name"]: row["error"] for row in rows}
        assert errors[UNMEASURED] == "" and float(errors["dark.png"]) == pytest.approx(dark_error, rel=1e-3)
        assert watch.problems == []
    finally:
        watch.close()
