"""How the pages become HTML: the Jinja environment and its filters, and writing every page
and static file of the site.

Every template gets ``root`` (the way back to the site root), ``site`` (the
:class:`~aevis.site.pages.SiteSummary`), ``current`` (its own path) and ``urls``
(:mod:`aevis.site.urls`), plus its page model from :mod:`aevis.site.pages`.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path, PurePosixPath

import jinja2

from aevis.data.imageset import sample_positions
from aevis.gallery import Gallery
from aevis.site import mapdata, urls
from aevis.site.compare_page import gather_compare
from aevis.site.pages import (
    gather_layers,
    gather_map,
    gather_model,
    gather_pages,
    gather_reading,
    gather_report,
    summarise,
)
from aevis.site.set_pages import gather_duplicates, gather_strangest, similarity_percent
from aevis.site.words import isolated

SITE_TITLE = "What the autoencoder sees"


def _templates() -> Path:
    """The templates and static files: inside the installed package (``aevis/templates``, where
    the wheel puts them), else at the top of the source tree, where they are kept."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


TEMPLATES = _templates()
_SPELLED = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_TIMES = {1: "once", 2: "twice"}
NOT_MEASURED = "not measured"
"""What a page shows for a figure that is None or NaN (never 0, nor "nan")."""


def _spelled(count: int) -> str:
    """A count in words, as prose writes it: ``three``, but ``12``."""
    return _SPELLED[count] if 0 <= count < len(_SPELLED) else f"{count:,}"


def _times(factor: float) -> str:
    """A factor in words: ``twice``, ``three times``."""
    if factor != int(factor):
        return f"{factor:g} times"
    return _TIMES.get(int(factor)) or f"{_spelled(int(factor))} times"


def _unmeasured(value) -> bool:
    """Whether a figure is missing: None (JSON's null), NaN or infinite."""
    return value is None or not math.isfinite(value)


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["percent"] = lambda value: NOT_MEASURED if _unmeasured(value) else f"{value * 100:.0f}%"
    environment.filters["similar"] = similarity_percent
    environment.filters["thousands"] = lambda value: f"{value:,}"
    environment.filters["decimals"] = lambda value, places=3: (
        NOT_MEASURED if _unmeasured(value) else f"{value:.{places}f}"
    )
    environment.filters["absent"] = lambda value: "n/a" if value is None else NOT_MEASURED
    environment.filters["spelled"] = _spelled
    environment.filters["isolated"] = isolated
    environment.filters["times"] = _times
    environment.globals["urls"] = urls
    environment.globals["map_version"] = mapdata.VERSION  # map.js checks its data file against it
    return environment


def write_pages(gallery: Gallery, site: Path, title: str, pictured, on_progress=None) -> None:
    """Render every HTML page and copy the static files; ``pictured`` (bool (N,)): the images
    with a thumbnail file (:func:`aevis.site.thumbnails.pictured`), which the map tells apart."""
    environment = _environment()
    summary = summarise(gallery, title)
    pages = gather_pages(gallery)

    def emit(template: str, path: str, **context) -> None:
        html = environment.get_template(template).render(root=urls.root_of(path), site=summary, current=path, **context)
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(html, encoding="utf-8")

    (site / urls.ASSETS).mkdir(exist_ok=True)
    for path in urls.STATIC_FILES:
        shutil.copyfile(TEMPLATES / PurePosixPath(path).name, site / path)
    layers = gather_layers(gallery)
    emit("index.html", urls.INDEX, pages=pages, mosaic=urls.MOSAIC if gallery.insides else None)
    map_data = gather_map(gallery, pictured)
    mapdata.write_map_script(site, map_data)
    emit("map.html", urls.MAP, map=map_data)
    emit("model.html", urls.MODEL, model=gather_model(gallery), layers=layers)
    for layer in layers:
        emit("layer.html", layer.href, layer=layer, layers=layers)
    sample = len(sample_positions(len(pages), int(gallery.parameters.get("faithfulness_sample", 0))))
    emit("reading.html", urls.READING, guide=gather_reading(gallery, pages, sample))
    emit("report.html", urls.REPORT, report=gather_report(gallery))
    emit("strangest.html", urls.STRANGEST, strangest=gather_strangest(gallery))
    emit("duplicates.html", urls.DUPLICATES, duplicates=gather_duplicates(gallery))
    compare = gather_compare(gallery)
    if compare is not None:
        emit("compare.html", urls.COMPARE, compare=compare)
    for page in pages:
        emit("image.html", page.href, page=page)
        if on_progress:
            on_progress(1)
