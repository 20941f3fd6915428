"""The browser the site's tests drive: Debian's Chromium (``/usr/bin/chromium``) through
Playwright for Python, launched once a session by the ``browser`` fixture (tests/conftest.py), and
:class:`PageWatch`, a page that records what went wrong on it. bench/map_frames.py launches
Chromium with the same flags."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",  # tests run as root in CI
    "--headless",
    "--disable-gpu",  # no GPU here: compositing in software...
    "--use-angle=swiftshader",  # ...and WebGL 1 and 2 on ANGLE's software Vulkan (SwiftShader),
    "--enable-unsafe-swiftshader",  # which Chromium no longer falls back to on its own
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
"""Every browser test and bench/map_frames.py launch Chromium with these."""

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (apt-get install chromium)",
)
"""Skipped on a desk without Chromium; in CI (CI=true), where .ci/run installs it, never."""


def wait_until_settled(page) -> None:
    """Wait until the map has drawn everything asked of it and written the view to the address
    (``AevisMap.stats.settled``), instead of waiting a fixed time."""
    page.wait_for_function("() => AevisMap.stats.settled")


class PageWatch:
    """A browser page that records console errors and failed requests."""

    def __init__(self, browser, width: int = 1100, height: int = 900) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

    def _failed(self, request) -> None:
        # A request cut short because the test navigated away (a key press) is not a failure.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"failed request: {request.url} ({request.failure})")

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="load")
        # Lazy pictures below the fold load only when scrolled to; load them all to check them.
        self.page.evaluate(
            """() => Promise.all([...document.images].map(img => {
                   img.loading = "eager";
                   return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
               }))"""
        )

    def unloaded_pictures(self) -> list[str]:
        """The address of every picture on the page that did not load (it has no natural width)."""
        return self.page.evaluate(
            "() => [...document.images].filter(img => !(img.naturalWidth > 0)).map(img => img.src)"
        )

    def drawn_at(self, selector: str) -> list[tuple[str | None, tuple[int, int, int, int]]]:
        """(src as written, (left, top, right, bottom) on the whole page) of every element the
        selector finds: where a full-page screenshot shows it."""
        return [
            (src, tuple(box))
            for src, box in self.page.evaluate(
                """selector => [...document.querySelectorAll(selector)].map(element => {
                   const r = element.getBoundingClientRect();
                   return [element.getAttribute("src"), [r.left + scrollX, r.top + scrollY, r.right + scrollX,
                                                         r.bottom + scrollY].map(Math.round)];
               })""",
                selector,
            )
        ]

    def wider_than_the_screen(self) -> list[str]:
        """Open every <details>, then name each element or run of text drawn past the window's
        right edge (beyond what a scrolling or clipping box around it hides) and by how many
        pixels; only the outermost of nested offenders."""
        return self.page.evaluate(_WIDER_THAN_THE_SCREEN)

    def close(self) -> None:
        self.context.close()


_WIDER_THAN_THE_SCREEN = """() => {
    for (const details of document.querySelectorAll("details")) details.open = true;
    const screen = window.innerWidth;
    // The right edge as drawn: a box with overflow other than visible (a table wrapper that
    // scrolls by itself) hides what sticks out of it, so only its own edge counts.
    const drawnRight = (box, parent) => {
        let right = box.right + scrollX;
        for (; parent && parent !== document.body; parent = parent.parentElement) {
            if (getComputedStyle(parent).overflowX !== "visible") {
                right = Math.min(right, parent.getBoundingClientRect().right + scrollX);
            }
        }
        return right;
    };
    const name = element => element.tagName.toLowerCase() + [...element.classList].map(c => "." + c).join("");
    const wide = new Set();
    const found = [];
    for (const element of document.body.querySelectorAll("*")) {
        const box = element.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;  // not drawn (display: none, hidden)
        const past = drawnRight(box, element.parentElement) - screen;
        if (past > 0.5) {
            wide.add(element);
            if (!wide.has(element.parentElement)) {
                found.push(`${name(element)} "${element.textContent.trim().slice(0, 40)}" by ${Math.round(past)}px`);
            }
        }
    }
    const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let text = texts.nextNode(); text; text = texts.nextNode()) {
        if (!text.textContent.trim() || wide.has(text.parentElement)) continue;
        const range = document.createRange();
        range.selectNodeContents(text);
        const box = range.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;
        const past = drawnRight(box, text.parentElement) - screen;
        if (past > 0.5) {
            found.push(`text in ${name(text.parentElement)} "${text.textContent.trim().slice(0, 40)}" by ${Math.round(past)}px`);
        }
    }
    return found;
}"""
