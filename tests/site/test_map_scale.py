"""The similarity map at scale, without training anything: the columnar data file, the spatial
groups of the sprite sheets and the writer that reads a group at a time (Python), then a
2,000-image map in Chromium from file:// on each renderer (WebGL 2, WebGL 1, 2D canvas): every
image drawn where its position says, hover names the image, zooming in loads only the sheets on
screen and draws their sharp tiles."""

from __future__ import annotations

import base64
import io
import math
import re
import shutil
import types
from pathlib import Path, PurePosixPath

import numpy as np
import pytest
from PIL import Image

from aevis import __version__
from aevis.draw.pixels import save_png
from aevis.site import map_sprites, mapdata, urls
from aevis.site.html import TEMPLATES, _environment
from aevis.store.cache import ResultCache
from tests.browser import PageWatch, needs_chromium

COUNT = 2000
SIDE = 32
"""The images' side: a 1-pixel checker of two shades of one colour, so a sharp (32-pixel) tile
shows the checker and a small (16-pixel, averaged) tile is flat."""


def write_map_page(site: Path, data: mapdata.MapData, images, cache: ResultCache | None = None) -> None:
    """A site with only the map: the page, its data, its sprite scripts, its static files and the
    input.png (the hover card's picture) of every image ``data.pictured`` names (all, where None).
    ``images`` is read a chunk at a time."""
    (site / urls.ASSETS).mkdir(parents=True, exist_ok=True)
    for path in urls.STATIC_FILES:
        shutil.copyfile(TEMPLATES / PurePosixPath(path).name, site / path)
    mapdata.write_map_script(site, data)
    map_sprites.write_map_sprites(
        images, [str(number) for number in range(data.count)], data.positions, site, cache or ResultCache(None)
    )
    summary = types.SimpleNamespace(title="map", images=data.count, code_size=12, version=__version__, compared=False)
    html = _environment().get_template("map.html").render(root="", site=summary, current=urls.MAP, map=data)
    (site / urls.MAP).write_text(html, encoding="utf-8")
    for start in range(0, data.count, 2000):
        chunk = images[np.arange(start, min(start + 2000, data.count))]
        for number, (image, slug) in enumerate(zip(chunk, data.slugs[start:]), start):
            if data.pictured is not None and not data.pictured[number]:
                continue
            (site / urls.image_folder(slug)).mkdir(parents=True, exist_ok=True)
            save_png(image, site / urls.thumbnail(slug))


def _checkered(count: int, seed: int = 0) -> np.ndarray:
    """float32 (count, SIDE, SIDE, 3): image i a 1-pixel checker of its colour at 60 % and 100 %."""
    colours = np.random.default_rng(seed).uniform(0.15, 1.0, (count, 3)).astype(np.float32)
    rows, columns = np.mgrid[:SIDE, :SIDE]
    shade = np.where((rows + columns) % 2 == 0, 1.0, 0.6).astype(np.float32)
    return colours[:, None, None, :] * shade[None, :, :, None]


def _map_data(count: int, positions: np.ndarray, seed: int = 0, **changes) -> mapdata.MapData:
    rng = np.random.default_rng(seed)
    names = [f"picture {number:05d}.png" for number in range(count)]
    trust = rng.random(count).astype(np.float32)
    trust[::7] = np.nan  # unmeasured
    arguments = {
        "names": names,
        "slugs": [f"picture-{number:05d}" for number in range(count)],
        "hrefs": [urls.image_page(f"picture-{number:05d}") if number % 3 == 0 else None for number in range(count)],
        "positions": positions,
        "clusters": rng.integers(0, 9, count),
        "errors": rng.gamma(2.0, 0.01, count).astype(np.float32),
        "neighbours": rng.integers(0, count, (count, 6)),
        "labels": [f"kind {number % 5}" for number in range(count)],
        "sources": [f"folder {number % 3}/{name}" for number, name in enumerate(names)],
        "map_trust": trust,
        "density": rng.random(count).astype(np.float32),
        "mosaic": None,
    }
    arguments.update(changes)
    return mapdata.gather_map_data(**arguments)


# ------------------------------------------------------------------------------------ Python


def test_the_columnar_data_decodes_to_exactly_what_went_in(tmp_path):
    rng = np.random.default_rng(4)
    positions = rng.random((COUNT, 2)).astype(np.float32)
    data = _map_data(COUNT, positions)
    payload = mapdata.read_map_script(mapdata.write_map_script(tmp_path, data))
    columns = mapdata.map_columns(payload)
    assert payload["version"] == 2 and payload["count"] == COUNT
    for key in ("names", "slugs", "sources", "hrefs", "labels"):
        assert list(columns[key]) == list(getattr(data, key)), key
    assert payload["sources"] is None and payload["sourceFolders"] == ["folder 0/", "folder 1/", "folder 2/"]
    np.testing.assert_array_equal(
        columns["quantised"], np.round(positions.astype(np.float64) * 65535).astype(np.uint16)
    )
    assert np.abs(columns["positions"] - positions).max() <= 0.5 / 65535
    np.testing.assert_array_equal(columns["clusters"], data.clusters)
    np.testing.assert_array_equal(columns["errors"], data.errors)
    np.testing.assert_array_equal(columns["trust"], data.map_trust)  # NaN where unmeasured, as given
    assert np.isnan(columns["trust"][::7]).all()
    np.testing.assert_array_equal(columns["density"], data.density)
    np.testing.assert_array_equal(columns["neighbours"], data.neighbours)
    np.testing.assert_array_equal(columns["order"], data.sprites.order)
    np.testing.assert_array_equal(columns["boxes"], data.sprites.boxes)
    # Compact: about 100 bytes an image, 36 of them its name and slug, 32 its six neighbours.
    assert (tmp_path / urls.MAP_DATA).stat().st_size < 120 * COUNT
    # Sources that are not "folder + name" travel in full; unlabelled, unmeasured sets have no columns.
    odd = _map_data(
        20,
        positions[:20],
        sources=[f"elsewhere-{number}" for number in range(20)],
        labels=None,
        map_trust=None,
        density=None,
    )
    odd_columns = mapdata.map_columns(mapdata.map_payload(odd))
    assert odd_columns["sources"] == [f"elsewhere-{number}" for number in range(20)]
    assert odd_columns["labels"] is None and odd_columns["trust"] is None and odd_columns["density"] is None
    assert columns["pictured"] is None  # every image has its picture
    some = np.arange(20) % 3 == 0
    np.testing.assert_array_equal(
        mapdata.map_columns(mapdata.map_payload(_map_data(20, positions[:20], pictured=some)))["pictured"], some
    )


def test_a_page_anywhere_but_its_own_place_is_refused():
    positions = np.random.default_rng(0).random((3, 2))
    with pytest.raises(ValueError, match="Expected each page at images/<slug>.html"):
        _map_data(3, positions, hrefs=["images/picture-00000.html", None, "elsewhere.html"])


@pytest.mark.parametrize("layout", ["uniform", "clustered", "one place"])
def test_spatial_groups_hold_every_image_once_inside_a_tight_box(layout):
    rng = np.random.default_rng(1)
    count = 5_000
    if layout == "uniform":
        positions = rng.random((count, 2))
    elif layout == "clustered":
        positions = np.clip(rng.random((8, 2))[rng.integers(0, 8, count)] + rng.normal(0, 0.02, (count, 2)), 0, 1)
    else:
        positions = np.full((count, 2), 0.25)  # every image on one spot: ties break by index
    plan = map_sprites.sprite_plan(positions)
    quantised = map_sprites.quantised_positions(positions)
    np.testing.assert_array_equal(np.sort(plan.order), np.arange(count))  # each image once
    assert plan.groups == math.ceil(count / map_sprites.GROUP)
    sizes = [len(plan.group(number)) for number in range(plan.groups)]
    assert sizes[:-1] == [map_sprites.GROUP] * (plan.groups - 1) and 0 < sizes[-1] <= map_sprites.GROUP
    for number in range(plan.groups):
        members = quantised[plan.group(number)]
        np.testing.assert_array_equal(plan.boxes[number], [*members.min(axis=0), *members.max(axis=0)])
        assert list(plan.group(number)) == sorted(plan.group(number))
    if layout != "one place":
        # A k-d split: the boxes do not overlap, so together they cover at most the square once,
        # and each is far smaller than the map (neighbours share a sheet).
        areas = np.prod((plan.boxes[:, 2:].astype(float) - plan.boxes[:, :2]) / 65535, axis=1)
        assert areas.sum() <= 1.0 + 1e-9 and np.median(areas) < 4 / plan.groups
    assert np.array_equal(map_sprites.sprite_plan(positions).order, plan.order)  # the same again


@pytest.mark.parametrize("count", [1, 255, 256, 257, 4096, 4097, 100_000])
def test_sheet_counts_and_sizes_stay_within_bounds(count):
    positions = np.random.default_rng(2).random((count, 2))
    plan = map_sprites.sprite_plan(positions)
    assert plan.groups == math.ceil(count / 256) and plan.atlases == math.ceil(count / 4096)
    rows = [plan.atlas_rows(number) for number in range(plan.atlases)]
    assert all(
        row & (row - 1) == 0 and row * map_sprites.SMALL_COLUMNS >= min(4096, count - n * 4096)
        for n, row in enumerate(rows)
    )
    assert max(rows) * map_sprites.SMALL_CELL <= 1024 and map_sprites.SMALL_COLUMNS * map_sprites.SMALL_CELL <= 1024
    assert map_sprites.SHARP_COLUMNS**2 == map_sprites.GROUP
    assert map_sprites.SHARP_COLUMNS * map_sprites.sharp_cell((count, 500, 300, 3)) <= 512
    assert [map_sprites.sharp_cell((1, side, side, 3)) for side in (8, 16, 20, 28, 64)] == [16, 16, 24, 32, 32]


class _CountedImages:
    """Images read only by rows, counting what was asked for; reading them all at once fails."""

    def __init__(self, images: np.ndarray) -> None:
        self.images, self.shape, self.largest, self.reads = images, images.shape, 0, 0

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.asarray(rows)
        self.largest, self.reads = max(self.largest, rows.size), self.reads + 1
        return self.images[rows]

    def __array__(self, *args, **kwargs):
        raise AssertionError("the sprite writer read every image at once")


def _sheet(path: Path) -> np.ndarray:
    """The picture a sprite script carries, as uint8 RGB."""
    address = re.search(r'"(data:image/jpeg;base64,[^"]+)"', path.read_text()).group(1)
    with Image.open(io.BytesIO(base64.b64decode(address.split(",", 1)[1]))) as picture:
        assert picture.format == "JPEG"
        return np.asarray(picture.convert("RGB")).astype(int)


def test_sprite_scripts_put_each_image_in_its_cell_a_group_at_a_time_and_relink_warm(tmp_path):
    count = 600
    images = _checkered(count)
    positions = np.random.default_rng(5).random((count, 2))
    keys = [f"image {number}" for number in range(count)]
    cold = _CountedImages(images)
    cache = ResultCache(tmp_path / "cache")
    plan = map_sprites.write_map_sprites(cold, keys, positions, tmp_path / "site", cache)
    assert 0 < cold.largest <= map_sprites.GROUP and cold.reads == plan.groups
    folder = tmp_path / "site" / urls.MAP_SPRITES
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        ["colours.js", "small-0.js", *(f"sharp-{number}.js" for number in range(plan.groups))]
    )
    colours = base64.b64decode(re.search(r'"colours", 0, "([^"]+)"', (folder / "colours.js").read_text()).group(1))
    means = np.round(images.mean(axis=(1, 2)) * 255)
    np.testing.assert_array_equal(np.frombuffer(colours, np.uint8).reshape(count, 3), means)
    small = _sheet(folder / "small-0.js")
    assert small.shape == (plan.atlas_rows(0) * 16, 64 * 16, 3)
    for index in (0, 17, 599):
        slot = int(np.flatnonzero(plan.order == index)[0])
        group, within = divmod(slot, map_sprites.GROUP)
        sharp = _sheet(folder / f"sharp-{group}.js")
        assert sharp.shape == (512, 512, 3)
        row, column = divmod(within, 16)
        tile = sharp[row * 32 : (row + 1) * 32, column * 32 : (column + 1) * 32]
        expected = np.round(images[index] * 255)
        assert np.abs(tile - expected).mean() < 6, index  # the checker itself, through JPEG
        row, column = divmod(slot, 64)
        tile = small[row * 16 : (row + 1) * 16, column * 16 : (column + 1) * 16]
        assert np.abs(tile - means[index]).max() < 12 and tile.std(axis=(0, 1)).max() < 3, index  # averaged flat
    # Warm: every script is linked from the cache and no image is read.
    warm = _CountedImages(images)
    hits = cache.hits["picture"]
    map_sprites.write_map_sprites(warm, keys, positions, tmp_path / "again", cache)
    assert warm.reads == 0 and cache.hits["picture"] - hits == plan.groups + 2
    assert (tmp_path / "again" / urls.sprite_sheet(1)).read_bytes() == (folder / "sharp-1.js").read_bytes()


# ------------------------------------------------------------------------------------ browser

pytestmark_browser = needs_chromium
CONTEXTS = {"webgl2": "WebGL 2.0", "webgl1": "WebGL 1.0", "canvas": "2d"}
VIEWPORT = (1280, 800)


@pytest.fixture(scope="module")
def scale_site(tmp_path_factory):
    """(site, data, images) of a 2,000-image map: random places, checkered colours."""
    site = tmp_path_factory.mktemp("scale") / "site"
    images = _checkered(COUNT, seed=1)
    positions = np.random.default_rng(6).uniform(0.02, 0.98, (COUNT, 2)).astype(np.float32)
    data = _map_data(COUNT, positions, seed=1, pictured=np.arange(COUNT) % 4 != 3)  # a quarter without input.png
    write_map_page(site, data, images)
    return site, data, images


def _open(browser, site: Path, renderer: str, hash_tail: str = "") -> PageWatch:
    watch = PageWatch(browser, *VIEWPORT)
    watch.page.goto((site / urls.MAP).resolve().as_uri() + f"#renderer={renderer}{hash_tail}", wait_until="load")
    watch.page.wait_for_function("() => window.AevisMap && AevisMap.stats.firstFullDraw !== null", timeout=20_000)
    stats = watch.page.evaluate("() => AevisMap.stats")
    # The renderer asked for, really: a browser without WebGL fails here, loudly.
    assert (stats["renderer"], stats["asked"]) == (renderer, renderer), stats.get("rendererProblem")
    assert stats["context"].startswith(CONTEXTS[renderer]), stats["context"]
    watch.page.evaluate("() => document.querySelector('.map-stage').scrollIntoView()")  # all of it on screen
    return watch


def _screen(watch: PageWatch) -> tuple[np.ndarray, dict]:
    """The map canvas as shown (uint8 RGB), and its box on the page."""
    box = watch.page.locator(".map-canvas").bounding_box()
    shot = watch.page.screenshot(clip=box)
    with Image.open(io.BytesIO(shot)) as picture:
        return np.asarray(picture.convert("RGB")).astype(int), box


def _isolated(positions: np.ndarray, reach: float) -> np.ndarray:
    """Indices of the images with no other within ``reach`` along both axes (nothing covers them)."""
    apart = np.abs(positions[:, None, :] - positions[None, :, :]).max(axis=2)
    np.fill_diagonal(apart, np.inf)
    return np.flatnonzero(apart.min(axis=1) > reach)


def _on_screen(stats: dict, positions: np.ndarray) -> np.ndarray:
    view = stats["view"]
    return np.stack([positions[:, 0] * view["scale"] + view["x"], positions[:, 1] * view["scale"] + view["y"]], 1)


def _assert_lonely_images_drawn(shot: np.ndarray, stats: dict, site: Path, images: np.ndarray) -> None:
    """Each image that nothing covers shows its mean colour at its place (nine in ten at least)."""
    positions = mapdata.map_columns(mapdata.read_map_script(site / urls.MAP_DATA))["positions"]
    lonely = _isolated(positions, stats["view"]["thumb"] * 1.2)
    assert len(lonely) >= 10
    means = np.round(images.mean(axis=(1, 2)) * 255)
    centres = np.round(_on_screen(stats, positions)).astype(int)
    misses = [int(i) for i in lonely if np.abs(shot[centres[i, 1], centres[i, 0]] - means[i]).max() > 24]
    assert len(misses) <= len(lonely) // 10, f"{len(misses)} of {len(lonely)} images not drawn at their place"


@pytestmark_browser
@pytest.mark.parametrize("renderer", list(CONTEXTS))
def test_every_image_is_drawn_where_its_position_says(browser, scale_site, renderer):
    site, data, images = scale_site
    watch = _open(browser, site, renderer)
    try:
        watch.page.wait_for_function(f"() => AevisMap.stats.smallAtlasesLoaded === {data.sprites.atlases}")
        watch.page.wait_for_function("() => AevisMap.stats.flat === 0 && AevisMap.stats.level === 'small'")
        stats = watch.page.evaluate("() => AevisMap.stats")
        assert stats["drawn"] == COUNT and stats["count"] == COUNT
        shot, _ = _screen(watch)
        _assert_lonely_images_drawn(shot, stats, site, images)
        # Where no image is, the page shows through: the canvas is not painted everywhere.
        empty = np.round(_on_screen(stats, np.array([[-0.2, -0.2], [1.2, 1.2]]))).astype(int)
        assert all(
            (shot[y, x] == shot[3, shot.shape[1] // 2]).all()
            for x, y in empty
            if 0 <= x < shot.shape[1] and 0 <= y < shot.shape[0]
        )
        assert watch.problems == []
    finally:
        watch.close()


@pytestmark_browser
@pytest.mark.parametrize("renderer", ["webgl2", "webgl1"])
def test_a_lost_webgl_context_is_drawn_again_when_it_comes_back(browser, scale_site, renderer):
    site, data, images = scale_site
    watch = _open(browser, site, renderer)
    try:
        watch.page.wait_for_function(
            f"() => AevisMap.stats.smallAtlasesLoaded === {data.sprites.atlases} && AevisMap.stats.flat === 0"
        )
        watch.page.evaluate("""() => {
            const canvas = document.querySelector('.map-canvas');
            const gl = canvas.getContext(AevisMap.stats.renderer === 'webgl2' ? 'webgl2' : 'webgl');
            window.loseContext = gl.getExtension('WEBGL_lose_context');
            canvas.addEventListener('webglcontextlost', () => { window.contextLost = true; });
            loseContext.loseContext();
        }""")
        watch.page.wait_for_function("() => window.contextLost === true")
        frames = watch.page.evaluate("() => AevisMap.stats.frames")
        watch.page.evaluate("() => loseContext.restoreContext()")
        # Nothing moves: only the restored context may ask for the new frames.
        watch.page.wait_for_function(
            f"() => AevisMap.stats.frames > {frames} && AevisMap.stats.drawn === {COUNT} && AevisMap.stats.flat === 0",
            timeout=20_000,
        )
        shot, _ = _screen(watch)
        _assert_lonely_images_drawn(shot, watch.page.evaluate("() => AevisMap.stats"), site, images)
        assert watch.problems == []
    finally:
        watch.close()


@pytestmark_browser
@pytest.mark.parametrize("renderer", list(CONTEXTS))
def test_hovering_an_image_names_it_within_a_frame(browser, scale_site, renderer):
    site, data, _ = scale_site
    watch = _open(browser, site, renderer)
    try:
        stats = watch.page.evaluate("() => AevisMap.stats")
        positions = mapdata.map_columns(mapdata.read_map_script(site / urls.MAP_DATA))["positions"]
        box = watch.page.locator(".map-canvas").bounding_box()
        centres = _on_screen(stats, positions)
        isolated = _isolated(positions, stats["view"]["thumb"])
        pictured, bare = isolated[data.pictured[isolated]], isolated[~data.pictured[isolated]]

        def hover(index):
            watch.page.mouse.move(box["x"] + centres[index, 0], box["y"] + centres[index, 1])
            watch.page.locator(".map-preview").wait_for(state="visible")
            watch.page.wait_for_function(
                "name => document.querySelector('.map-preview-name').textContent === name", arg=data.names[index]
            )
            assert watch.page.locator(".map-preview-neighbours li").count() == 6
            watch.page.wait_for_function("() => AevisMap.stats.hoverLatency !== null")

        for index in pictured[:3]:
            hover(index)
        # The card's full picture, media/<slug>/input.png, loads from file:// too.
        watch.page.wait_for_function(
            "() => { const i = document.querySelector('.map-preview-full');"
            " return i && !i.hidden && i.naturalWidth === 32; }"
        )
        # An image no page shows has no picture of its own: its tile stands in, nothing is fetched.
        hover(bare[0])
        assert watch.page.evaluate("() => document.querySelector('.map-preview-full').hidden")
        assert watch.page.evaluate("() => AevisMap.stats.hoverLatency") < 100
        assert watch.problems == []
    finally:
        watch.close()


@pytestmark_browser
@pytest.mark.parametrize("renderer", list(CONTEXTS))
def test_zooming_in_loads_only_the_sheets_on_screen_and_draws_them_sharp(browser, scale_site, renderer):
    site, data, images = scale_site
    positions = mapdata.map_columns(mapdata.read_map_script(site / urls.MAP_DATA))["positions"]
    thumb = 0.9 / math.sqrt(COUNT)  # map.js's thumbnail side for this many images (world units)
    lonely = [
        i for i in _isolated(positions, thumb * 1.2) if (0.25 < positions[i]).all() and (positions[i] < 0.75).all()
    ]
    focus = lonely[0]  # in the middle of the view, zoomed in four times
    watch = _open(browser, site, renderer, f"&x={positions[focus, 0]:.5f}&y={positions[focus, 1]:.5f}&z=4")
    try:
        watch.page.wait_for_function(
            "() => { const s = AevisMap.stats; return s.level === 'sharp' && s.flat === 0"
            " && s.sharpSheetsWanted.length > 0"
            " && s.sharpSheetsWanted.every(n => s.sharpSheetsLoaded.includes(n)); }"
        )
        stats = watch.page.evaluate("() => AevisMap.stats")
        view = stats["view"]
        # The sheets whose box (and half a thumbnail, its frame and ring) meets the view: no other.
        reach = view["thumb"] / 2 + 2.5 / view["scale"]
        left, top = -view["x"] / view["scale"] - reach, -view["y"] / view["scale"] - reach
        right, bottom = (
            (view["width"] - view["x"]) / view["scale"] + reach,
            (view["height"] - view["y"]) / view["scale"] + reach,
        )
        boxes = data.sprites.boxes / 65535
        meets = [
            g for g, (x0, y0, x1, y1) in enumerate(boxes) if x0 <= right and x1 >= left and y0 <= bottom and y1 >= top
        ]
        assert 0 < len(meets) < data.sprites.groups
        assert stats["sharpSheetsLoaded"] == meets == stats["sharpSheetsWanted"]
        assert stats["sharpDrawn"] > 0
        # A lone image in view shows its checker (the sharp tile), not the flat small tile.
        shot, _ = _screen(watch)
        assert view["thumb"] == pytest.approx(thumb)
        centres = _on_screen(stats, positions)
        side = view["thumb"] * view["scale"]
        inside = (
            (centres[:, 0] > side)
            & (centres[:, 1] > side)
            & (centres[:, 0] < view["width"] - side)
            & (centres[:, 1] < view["height"] - side)
        )
        shown = [i for i in _isolated(positions, view["thumb"] * 1.2) if inside[i]]
        assert focus in shown
        for index in shown[:5]:
            x, y = np.round(centres[index]).astype(int)
            half = int(side * 0.35)
            tile = shot[y - half : y + half, x - half : x + half]
            bright, dim = images[index].max(axis=(0, 1)) * 255, images[index].min(axis=(0, 1)) * 255
            # The image's colour, in both shades of its checker: the small tile would be flat
            # (its spread a level or two), the sharp one spreads by a good part of the shades' gap
            # (a perfect checker by half of it; JPEG keeps about half of that).
            assert np.abs(tile.mean(axis=(0, 1)) - (bright + dim) / 2).max() < 20, index
            strongest = int(np.argmax(bright - dim))
            spread = tile[..., strongest].std()
            assert spread > max(6, 0.15 * (bright - dim)[strongest]), (index, spread, (bright - dim)[strongest])
        assert watch.problems == []
    finally:
        watch.close()
