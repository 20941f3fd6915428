"""The map page's views in a real browser (Chromium via Playwright, from file:// and from a
local HTTP server, like test_browser.py): every colouring with its worded legend, selecting a
rectangle or a lasso and downloading it as CSV, and the view kept in the address."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pytest
from PIL import Image

from aevis.site.mapdata import map_columns, read_map_script
from tests.browser import PageWatch, needs_chromium, wait_until_settled
from tests.conftest import TINY_BUILD

pytestmark = needs_chromium

CSV_COLUMNS = ["name", "source", "x", "y", "error", "label"]
BYTE_ORDER_MARK = "\ufeff".encode()
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet takes for the start of a formula (OWASP, CSV injection)."""


def _map_data(site: Path) -> dict:
    return read_map_script(site / "assets" / "map-data.js")


def _points(site: Path) -> list[dict]:
    """Each image of the map's data as the page sees it: x and y as its float32 positions."""
    columns = map_columns(_map_data(site))
    positions = (columns["quantised"] / 65535).astype(np.float32)
    labels = columns["labels"] or [None] * len(columns["names"])
    return [
        {
            "name": name,
            "source": source,
            "x": float(x),
            "y": float(y),
            "error": float(error),
            "label": label,
            "href": href,
            "slug": slug,
        }
        for name, source, (x, y), error, label, href, slug in zip(
            columns["names"],
            columns["sources"],
            positions,
            columns["errors"],
            labels,
            columns["hrefs"],
            columns["slugs"],
        )
    ]


def _isolated(name: str) -> str:
    """A name as an attribute shows it: between the first-strong-isolate and pop-directional-isolate marks."""
    return f"\u2068{name}\u2069"


def _hash_state(page) -> dict[str, str]:
    """The view the address holds now: key -> value."""
    hash_text = page.evaluate("() => location.hash")
    return {key: values[0] for key, values in parse_qs(hash_text.lstrip("#")).items()}


def _wait_for_hash(page, *keys: str) -> dict[str, str]:
    """Wait until the address's hash names every key (it is written a moment after a change)."""
    page.wait_for_function(
        "keys => { const p = new URLSearchParams(location.hash.slice(1)); return keys.every(k => p.has(k)); }",
        arg=list(keys),
    )
    return _hash_state(page)


def _wait_for_value(page, key: str, value: str) -> None:
    page.wait_for_function("([k, v]) => new URLSearchParams(location.hash.slice(1)).get(k) === v", arg=[key, value])


def _canvas_box(page) -> dict:
    return page.locator(".map-canvas").bounding_box()


def _drag(page, corners: list[tuple[float, float]], shift: bool = False) -> None:
    """Press at the first corner, move through the others, release at the last."""
    if shift:
        page.keyboard.down("Shift")
    page.mouse.move(*corners[0])
    page.mouse.down()
    for corner in corners[1:]:
        page.mouse.move(*corner, steps=6)
    page.mouse.up()
    if shift:
        page.keyboard.up("Shift")


def _download_csv(page) -> tuple[str, list[dict[str, str]]]:
    """Click "Download CSV", catch the real download; (file name, rows as dicts)."""
    file_name, text = _download_csv_text(page)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert reader.fieldnames == CSV_COLUMNS
    return file_name, list(reader)


def _download_csv_text(page) -> tuple[str, str]:
    """Click "Download CSV", catch the real download; (file name, its text after the byte-order mark)."""
    with page.expect_download() as caught:
        page.click(".map-download")
    download = caught.value
    data = Path(download.path()).read_bytes()
    assert data.startswith(BYTE_ORDER_MARK)  # so a spreadsheet reads the accents as UTF-8
    return download.suggested_filename, data[len(BYTE_ORDER_MARK) :].decode("utf-8")


def _expected_rows(points: list[dict], chosen: list[int]) -> list[dict[str, str]]:
    return [{column: _as_cell(points[i][column]) for column in CSV_COLUMNS} for i in chosen]


def _as_cell(value) -> str:
    """What a CSV cell should read: nothing for a missing value, a single quote before text that
    would start a formula, the text itself otherwise."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return str(value)


def _same_rows(found: list[dict[str, str]], expected: list[dict[str, str]]) -> None:
    """Rows equal: text columns exactly, number columns as the CSV rounds them (x and y to 5
    decimals, the error to 4 significant digits)."""
    assert [row["name"] for row in found] == [row["name"] for row in expected]
    for got, want in zip(found, expected):
        for column in CSV_COLUMNS:
            if column in ("x", "y", "error") and want[column] == "":
                assert got[column] == "", (got, want)
            elif column in ("x", "y"):
                assert float(got[column]) == pytest.approx(float(want[column]), abs=1.5e-5), (got, want)
            elif column == "error":
                assert float(got[column]) == pytest.approx(float(want[column]), rel=1e-3), (got, want)
            else:
                assert got[column] == want[column], (got, want)


def _inside_polygon(x: float, y: float, corners: list[tuple[float, float]]) -> bool:
    """Even-odd rule, written out again here for the check."""
    odd = False
    for (xi, yi), (xj, yj) in zip(corners, corners[-1:] + corners[:-1]):
        if (yi > y) != (yj > y) and x < xj + (y - yj) * (xi - xj) / (yi - yj):
            odd = not odd
    return odd


def test_every_colouring_draws_with_worded_legend(browser, base_url, tiny_site):
    data = _map_data(tiny_site[0].out)
    choices = {choice["key"]: choice for choice in data["colourings"]}
    assert {"none", "label", "cluster", "error", "density", "trust"} <= set(choices)
    watch = PageWatch(browser)
    try:
        watch.open(base_url + "map.html")
        canvas = watch.page.locator(".map-canvas")
        options = watch.page.eval_on_selector_all(".map-colour option", "options => options.map(o => o.value)")
        assert options == list(choices)
        plain = canvas.screenshot()
        for key, choice in choices.items():
            watch.page.select_option(".map-colour", key)
            legend = watch.page.locator(".map-legend")
            assert legend.locator(".map-legend-words").inner_text() == choice["words"]
            if choice["ramp"]:
                assert legend.locator(".map-ramp").count() == 1
                text = legend.inner_text()
                assert choice["low"] in text and choice["high"] in text
            if key in ("label", "cluster"):
                assert legend.locator(".map-swatch").count() >= 1
            wait_until_settled(watch.page)  # drawn with the new colours
            if key != "none":
                assert canvas.screenshot() != plain, f"colouring by {key} drew nothing new"
            if key != "none":
                _wait_for_value(watch.page, "c", key)
        assert watch.problems == []
    finally:
        watch.close()


def test_rectangle_selection_lists_and_downloads_exactly_the_points_inside(browser, base_url, tiny_site):
    config, gallery = tiny_site
    points = _points(config.out)
    name = gallery.imageset.names[5]
    watch = PageWatch(browser)
    try:
        watch.open(base_url + "map.html")
        watch.page.fill(".map-find", name)  # puts the image at the centre of the canvas
        box = _canvas_box(watch.page)
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        _drag(watch.page, [(cx - 150, cy - 100), (cx + 40, cy + 20), (cx + 150, cy + 100)], shift=True)
        watch.page.mouse.move(1, 1)  # off the canvas: nothing hovered
        state = _wait_for_hash(watch.page, "r", "x", "y", "z")
        x0, y0, x1, y1 = map(float, state["r"].split(","))
        # The rectangle is the dragged one in map coordinates: 300 by 200 pixels, centred where
        # the view is centred (the drag was centred on the canvas), to a pixel or two (the
        # pointer's positions are whole pixels).
        pixel = (x1 - x0) / 300
        assert (y1 - y0) / pixel == pytest.approx(200, abs=2)
        assert (x0 + x1) / 2 == pytest.approx(float(state["x"]), abs=2 * pixel)
        assert (y0 + y1) / 2 == pytest.approx(float(state["y"]), abs=2 * pixel)
        inside = [i for i, p in enumerate(points) if x0 <= p["x"] <= x1 and y0 <= p["y"] <= y1]
        assert 5 in inside and len(inside) < len(points)
        panel = watch.page.locator(".map-selection")
        assert panel.is_visible()
        count = len(inside)
        assert watch.page.locator(".map-selection-count").inner_text() == (
            "1 image selected" if count == 1 else f"{count} images selected"
        )
        tiles = watch.page.locator(".map-selection-grid li")
        assert tiles.count() == count
        assert watch.page.eval_on_selector_all(".map-selection-grid img", "images => images.map(i => i.alt)") == [
            _isolated(points[i]["name"]) for i in inside
        ]
        hrefs = watch.page.eval_on_selector_all(
            ".map-selection-grid a", "links => links.map(a => a.getAttribute('href'))"
        )
        assert hrefs == [points[i]["href"] for i in inside if points[i]["href"]]
        file_name, rows = _download_csv(watch.page)
        assert file_name.endswith(".csv")
        _same_rows(rows, _expected_rows(points, inside))
        # Clearing empties the panel and the address.
        watch.page.click(".map-clear")
        assert not panel.is_visible()
        watch.page.wait_for_function("() => !new URLSearchParams(location.hash.slice(1)).has('r')")
        assert watch.problems == []
    finally:
        watch.close()


def test_lasso_selects_the_points_inside_its_outline_and_drag_still_pans(browser, base_url, tiny_site):
    points = _points(tiny_site[0].out)
    watch = PageWatch(browser)
    try:
        watch.open(base_url + "map.html")
        box = _canvas_box(watch.page)
        left, top, w, h = box["x"], box["y"], box["width"], box["height"]
        # A plain drag moves the map and selects nothing.
        _drag(watch.page, [(left + w * 0.5, top + h * 0.5), (left + w * 0.55, top + h * 0.45)])
        moved = _wait_for_hash(watch.page, "x", "y")
        assert "r" not in moved and "l" not in moved and not watch.page.locator(".map-selection").is_visible()
        watch.page.click(".map-fit")
        # The lasso tool: a triangle over the left and middle of the map.
        watch.page.click(".map-tool[data-tool=lasso]")
        assert watch.page.get_attribute(".map-tool[data-tool=lasso]", "aria-pressed") == "true"
        corners = [
            (left + w * 0.05, top + h * 0.05),
            (left + w * 0.7, top + h * 0.5),
            (left + w * 0.05, top + h * 0.95),
        ]
        _drag(watch.page, corners + [corners[0]])
        watch.page.mouse.move(1, 1)
        flat = list(map(float, _wait_for_hash(watch.page, "l")["l"].split(",")))
        outline = list(zip(flat[::2], flat[1::2]))
        assert len(outline) >= 3
        inside = [i for i, p in enumerate(points) if _inside_polygon(p["x"], p["y"], outline)]
        assert 0 < len(inside) < len(points)
        names = watch.page.eval_on_selector_all(".map-selection-grid img", "images => images.map(i => i.alt)")
        assert names == [_isolated(points[i]["name"]) for i in inside]
        _, rows = _download_csv(watch.page)
        _same_rows(rows, _expected_rows(points, inside))
        assert watch.problems == []
    finally:
        watch.close()


def test_the_view_in_the_address_opens_again_in_a_new_page(browser, base_url, tiny_site):
    config, gallery = tiny_site
    points = _points(config.out)
    name, slug = gallery.imageset.names[3], gallery.slugs[3]
    first = PageWatch(browser)
    try:
        first.open(base_url + "map.html")
        first.page.select_option(".map-colour", "trust")
        first.page.fill(".map-find", name)  # centres and pins the image
        first.page.click(".map-zoom-out")
        first.page.locator(".map-canvas").focus()
        first.page.keyboard.press("ArrowLeft")  # and a small pan, so the centre is not the image's
        box = _canvas_box(first.page)
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        _drag(first.page, [(cx - 120, cy - 120), (cx + 120, cy + 120)], shift=True)
        first.page.mouse.move(1, 1)
        wait_until_settled(first.page)  # the last change written to the address
        state = _wait_for_hash(first.page, "x", "y", "z", "c", "i", "r")
        assert state["c"] == "trust" and state["i"] == slug
        assert float(state["x"]) != pytest.approx(points[3]["x"], abs=1e-4)
        url = first.page.url
        selected = first.page.locator(".map-selection-count").inner_text()
        assert first.problems == []
    finally:
        first.close()

    second = PageWatch(browser, width=800, height=700)  # another window size: the same view, fitted
    try:
        second.open(url)
        page = second.page
        assert page.locator(".map-colour").input_value() == "trust"
        page.locator(".map-preview").wait_for(state="visible")
        assert page.locator(".map-preview-name").inner_text() == name
        assert page.locator(".map-selection-count").inner_text() == selected
        assert page.locator(".map-legend-words").inner_text().startswith("How far to trust")
        # Change the colouring: the page writes the address again from what it shows, so the
        # centre, zoom, image and selection it restored come back as they were.
        page.select_option(".map-colour", "error")
        _wait_for_value(page, "c", "error")
        again = _hash_state(page)
        for key in ("x", "y", "z", "i", "r"):
            assert again[key] == state[key], key
        assert second.problems == []
    finally:
        second.close()


ODD_NAMES = (
    "comma, in the name.png",
    'say "cheese".png',
    "plain.png",
    "semi;colon and 'single'.png",
    "ünïcode näme.png",
    "hash#and%percent.png",
)
"""File names a CSV must quote (comma, double quote) or carry unchanged."""
FORMULA_NAMES = (
    "=1+1.png",
    '=HYPERLINK("http:\\\\x","y").png',
    "@SUM(1).png",
    "+cmd.png",
    "-2.png",
    "\ttab first.png",
    "\rreturn first.png",
)
"""File names a spreadsheet would run as formulas if a CSV carried them as they are (a file
name cannot hold "//", so the link's address has backslashes)."""


@pytest.fixture(scope="module")
def odd_name_site(tmp_path_factory) -> Path:
    """A tiny site built from a folder of pictures with ODD_NAMES: a few seconds."""
    from aevis.config import BuildConfig
    from aevis.pipeline import build

    root = tmp_path_factory.mktemp("odd-names")
    folder = root / "images" / "a, folder"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ODD_NAMES + FORMULA_NAMES:
        Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(folder / name)
    config = BuildConfig(out=root / "site", cache_dir=root / "cache", images=root / "images", **TINY_BUILD)
    build(config)
    return config.out


def test_csv_of_everything_escapes_odd_names_and_formulas(browser, odd_name_site):
    points = _points(odd_name_site)
    assert any("," in p["name"] for p in points) and any('"' in p["name"] for p in points)
    assert set(FORMULA_NAMES) <= {p["name"] for p in points}
    watch = PageWatch(browser)
    try:
        watch.open((odd_name_site / "map.html").resolve().as_uri())
        box = _canvas_box(watch.page)
        _drag(
            watch.page,
            [(box["x"] + 2, box["y"] + 2), (box["x"] + box["width"] - 2, box["y"] + box["height"] - 2)],
            shift=True,
        )
        state = _wait_for_hash(watch.page, "r")
        x0, y0, x1, y1 = map(float, state["r"].split(","))
        inside = [i for i, p in enumerate(points) if x0 <= p["x"] <= x1 and y0 <= p["y"] <= y1]
        assert inside == list(range(len(points)))  # the whole fitted map
        _, text = _download_csv_text(watch.page)
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        _same_rows(rows, _expected_rows(points, inside))
        # No cell starts a formula: each such name is quoted, behind a single quote (OWASP).
        assert not [cell for row in rows for cell in row.values() if cell.startswith(FORMULA_STARTS)]
        for name in FORMULA_NAMES:
            assert "\"'" + name.replace('"', '""') + '"' in text, name
        assert {row["name"] for row in rows} >= {"'=1+1.png", "'-2.png", "ünïcode näme.png"}
        # A newline in a field (no file name has one) is quoted too, and read back whole; numbers
        # stay numbers (a negative one is no formula), an unmeasured one is an empty cell.
        text = watch.page.evaluate(
            """() => AevisMapTools.csvText([{name: 'two\\nlines', source: 'a,"b"', x: -0.5, y: 0.25, error: 1e-7,
                                              label: null}, {name: '-1', source: '@a', x: 0, y: 1, error: NaN,
                                              label: '+x'}], [0, 1])"""
        )
        assert text == (
            '\ufeffname,source,x,y,error,label\r\n"two\nlines","a,""b""",-0.5,0.25,1e-7,\r\n'
            '"\'-1","\'@a",0,1,,"\'+x"\r\n'
        )
        assert list(csv.reader(io.StringIO(text[1:], newline="")))[1:] == [
            ["two\nlines", 'a,"b"', "-0.5", "0.25", "1e-7", ""],
            ["'-1", "'@a", "0", "1", "", "'+x"],
        ]
        assert watch.problems == []
    finally:
        watch.close()
