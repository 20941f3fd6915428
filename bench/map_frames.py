"""The similarity map at scale: frame intervals while dragging and wheel-zooming, hover latency
and time to the first full draw, in headless Chromium from file://, for each renderer.

    python bench/map_frames.py                          # 10,000 and 100,000 images, 3 runs each
    python bench/map_frames.py --sizes 10000 --runs 1 --renderers webgl2
    python bench/map_frames.py --keep /tmp/maps         # keep (and reuse) the written sites

Each site is written as a build writes the map (aevis.site.mapdata, aevis.site.map_sprites):
built-in shapes of 64x64x3, made a chunk at a time into 8-bit pixels (so 100,000 images take
1.2 GB, not the 4.9 GB of float32), placed in clusters by kind like a t-SNE map, each with six
neighbours of its own kind and its own input.png for the hover card. Then, per renderer and
run, a fresh 1280x800 page: the time until every image is drawn at its level of detail, then
about three seconds each of dragging far out, wheel-zooming in and out, and dragging zoomed in,
with the interval between animation frames recorded inside the page (requestAnimationFrame
timestamps), then hovering over images one after another (the page's own figure: from the
pointer event to the end of the frame that shows the card). Prints medians over the runs of
each figure, the JS heap, and the bytes per image of each level of the site.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aevis._utils.pixels import Pixels
from aevis.data.builtin import make_shapes  # noqa: E402
from aevis.site import mapdata, urls  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.site.test_map_scale import write_map_page  # noqa: E402

CHUNK = 2000
"""Images made at a time."""
VIEWPORT = {"width": 1280, "height": 800}


def main() -> None:
    arguments = _arguments()
    scratch = Path(arguments.keep) if arguments.keep else Path(tempfile.mkdtemp(prefix="aevis-map-bench-"))
    try:
        for size in arguments.sizes:
            site = scratch / f"map-{size}"
            if not (site / urls.MAP).is_file():
                started = time.perf_counter()
                write_site(site, size)
                print(f"wrote the {size:,}-image map in {time.perf_counter() - started:.0f} s", flush=True)
            print(_bytes_line(site, size), flush=True)
            for renderer in arguments.renderers:
                runs = [measure(site, renderer, arguments.seconds) for _ in range(arguments.runs)]
                print(_figures_line(size, renderer, runs), flush=True)
    finally:
        if not arguments.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--renderers", nargs="+", default=list(urls.MAP_RENDERERS), choices=urls.MAP_RENDERERS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each gesture")
    parser.add_argument("--keep", help="folder to keep the written sites in (and reuse them from)")
    return parser.parse_args()


# ------------------------------------------------------------------------------------ the site


def write_site(site: Path, count: int, seed: int = 0) -> mapdata.MapData:
    """A map page of ``count`` shapes under ``site``, written as a build writes it."""
    rng = np.random.default_rng(seed)
    images = Pixels.allocate((count, 64, 64, 3))  # as a build keeps them: bytes, on disk when large
    labels: list[str] = []
    for start in range(0, count, CHUNK):
        shapes = make_shapes(min(CHUNK, count - start), 64, seed=seed + 1 + start // CHUNK)
        images[start : start + len(shapes)] = shapes.images[:]
        labels += shapes.labels
    kinds = sorted(set(labels))
    kind_of = np.array([kinds.index(label) for label in labels])
    # Clusters by kind, a few blobs each, like a t-SNE map of codes that group by kind.
    centres = rng.random((len(kinds), 4, 2)) * 0.8 + 0.1
    positions = centres[kind_of, rng.integers(0, 4, count)] + rng.normal(0, 0.05, (count, 2))
    positions = (positions - positions.min(axis=0)) / np.ptp(positions, axis=0)
    neighbours = np.empty((count, 6), np.int64)
    for kind in range(len(kinds)):
        members = np.flatnonzero(kind_of == kind)
        neighbours[members] = rng.choice(members, (len(members), 6))
    names = [f"shape-{number:06d}.png" for number in range(count)]
    slugs = [f"shape-{number:06d}" for number in range(count)]
    data = mapdata.gather_map_data(
        names,
        slugs,
        [None] * count,
        positions.astype(np.float32),
        kind_of,
        rng.gamma(2.0, 0.01, count),
        neighbours,
        labels=labels,
        sources=[f"shapes/{name}" for name in names],
        map_trust=rng.random(count),
        density=rng.random(count),
        mosaic=None,
    )
    write_map_page(site, data, images)
    return data


def level_bytes(site: Path) -> dict[str, int]:
    """Bytes of each level of the map: its data script, the mean colours, the small atlases
    (loaded at start) and the sharp sheets (loaded as zoomed into)."""
    sprites = site / urls.MAP_SPRITES
    return {
        "data": (site / urls.MAP_DATA).stat().st_size,
        "colours": (site / urls.MAP_COLOURS).stat().st_size,
        "small": sum(path.stat().st_size for path in sprites.glob("small-*.js")),
        "sharp": sum(path.stat().st_size for path in sprites.glob("sharp-*.js")),
    }


def _bytes_line(site: Path, count: int) -> str:
    sizes = level_bytes(site)
    return (
        f"N {count:>7,} bytes per image: "
        + ", ".join(f"{level} {size / count:.1f}" for level, size in sizes.items())
        + (f" (total {sum(sizes.values()) / 2**20:.1f} MiB)")
    )


# ------------------------------------------------------------------------------------ measuring

_RECORD = """() => {
    const frames = window.benchFrames = [];
    const tick = (time) => { if (window.benchFrames === frames) { frames.push(time); requestAnimationFrame(tick); } };
    requestAnimationFrame(tick);
}"""
_STOP = """() => { const t = window.benchFrames; window.benchFrames = null;
                   return t.slice(1).map((time, i) => time - t[i]); }"""


def measure(site: Path, renderer: str, seconds: float) -> dict:
    """One fresh page: its figures (milliseconds, bytes)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.goto((site / urls.MAP).resolve().as_uri() + f"#renderer={renderer}", wait_until="load")
            page.wait_for_function("() => window.AevisMap && AevisMap.stats.firstFullDraw !== null", timeout=120_000)
            stats = page.evaluate("() => AevisMap.stats")
            if stats["renderer"] != renderer:
                raise RuntimeError(f"Asked for {renderer}, the page drew with {stats['renderer']}.")
            page.wait_for_function(
                "n => AevisMap.stats.smallAtlasesLoaded === n",
                arg=len(list((site / urls.MAP_SPRITES).glob("small-*.js"))),
                timeout=120_000,
            )
            figures = {"first_draw": stats["firstFullDraw"]}
            box = page.locator(".map-canvas").bounding_box()
            centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            figures["drag far"] = _frames(page, lambda: _drag(page, centre, seconds))
            figures["wheel"] = _frames(page, lambda: _wheel(page, centre, seconds))
            page.evaluate("() => { location.hash = 'x=0.5&y=0.5&z=6&renderer=' + AevisMap.stats.renderer; }")
            page.wait_for_timeout(1500)  # the sharp sheets of the new view load
            figures["drag near"] = _frames(page, lambda: _drag(page, centre, seconds))
            page.click(".map-fit")
            page.wait_for_timeout(300)
            figures["hover"] = _hover(page, box, count=40)
            session = page.context.new_cdp_session(page)
            session.send("Performance.enable")
            metrics = session.send("Performance.getMetrics")["metrics"]
            figures["heap"] = next(metric["value"] for metric in metrics if metric["name"] == "JSHeapUsedSize")
            figures["problems"] = problems
            return figures
        finally:
            browser.close()


def _frames(page, gesture) -> list[float]:
    page.evaluate(_RECORD)
    gesture()
    return page.evaluate(_STOP)


def _drag(page, centre: tuple[float, float], seconds: float) -> None:
    """Press and drag round a circle until ``seconds`` are up."""
    page.mouse.move(*centre)
    page.mouse.down()
    started, step = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        angle = step * 0.12
        page.mouse.move(centre[0] + 150 * np.cos(angle), centre[1] + 100 * np.sin(angle))
        step += 1
    page.mouse.up()


def _wheel(page, centre: tuple[float, float], seconds: float) -> None:
    """Wheel in for a while, then out, and again, until ``seconds`` are up."""
    page.mouse.move(*centre)
    started, step = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        page.mouse.wheel(0, -60 if (step // 40) % 2 == 0 else 60)
        step += 1


def _hover(page, box: dict, count: int) -> list[float]:
    """Move onto ``count`` images, one after another: the page's latency for each (ms)."""
    stats = page.evaluate("() => AevisMap.stats")
    view = stats["view"]
    rng = np.random.default_rng(1)
    latencies = []
    for _ in range(count):
        x, y = rng.random(2) * 0.8 + 0.1
        page.mouse.move(box["x"] + x * view["scale"] + view["x"], box["y"] + y * view["scale"] + view["y"])
        page.wait_for_timeout(40)
        latency = page.evaluate("() => AevisMap.stats.hoverLatency")
        if latency is not None:
            latencies.append(latency)
        page.evaluate("() => {}")
    return latencies


def _summary(intervals: list[float]) -> tuple[float, float, float]:
    values = np.asarray(intervals) if intervals else np.zeros(1)
    return float(np.median(values)), float(np.percentile(values, 95)), float(values.max())


def _figures_line(size: int, renderer: str, runs: list[dict]) -> str:
    median = statistics.median
    parts = [f"N {size:>7,} {renderer:<7}"]
    for gesture in ("drag far", "wheel", "drag near"):
        figures = [_summary(run[gesture]) for run in runs]
        parts.append(
            f"{gesture}: median {median(f[0] for f in figures):5.1f} p95 {median(f[1] for f in figures):6.1f} "
            f"max {median(f[2] for f in figures):6.1f} ms"
        )
    hover = [float(np.median(run["hover"])) if run["hover"] else float("nan") for run in runs]
    parts.append(f"hover {median(hover):5.1f} ms")
    parts.append(f"first draw {median(run['first_draw'] for run in runs):6.0f} ms")
    parts.append(f"heap {median(run['heap'] for run in runs) / 2**20:5.1f} MiB")
    problems = sorted({problem for run in runs for problem in run["problems"]})
    if problems:
        parts.append(f"problems: {problems[:3]}")
    return " | ".join(parts)


if __name__ == "__main__":
    main()
