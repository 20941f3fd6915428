"""Where pages get their numbers: the gathered :class:`~aevis.gallery.Gallery` becomes plain
page models, pictures and HTML.

Templates receive frozen dataclasses and only loop and branch; every path and number shown is
worked out here. All links are relative, so the site works from ``file://`` and any host.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

from aevis import __version__, render
from aevis.export import page_href
from aevis.gallery import Gallery

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC_FILES = ("style.css", "gallery.js")
_MAP_MARGIN = 5.0  # percent kept free at the map's edges, so edge thumbnails stay inside


@dataclass(frozen=True)
class Link:
    """Another image as shown on a page: its name, thumbnail, and page if it has one."""

    name: str
    thumbnail: str
    href: str | None
    similarity: float | None = None


@dataclass(frozen=True)
class ImagePage:
    """Everything one image's page shows."""

    slug: str
    name: str
    source: str
    label: str | None
    href: str
    input_png: str
    reconstruction_png: str
    error_png: str
    error_mean: float
    neighbours: tuple[Link, ...]
    listed_by: tuple[Link, ...]
    """Images that list this one among their neighbours."""
    previous: Link | None
    next: Link | None


@dataclass(frozen=True)
class MapPoint:
    """One thumbnail on the map, placed in percent of the map's width and height."""

    link: Link
    left: float
    top: float


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    output_shape: str
    parameters: int
    is_bottleneck: bool


@dataclass(frozen=True)
class ModelPage:
    source: str
    sha256: str
    bottleneck: str
    bottleneck_reason: str
    input_shape: str
    input_scale: str
    code_size: int
    parameters: int
    layers: tuple[LayerRow, ...]
    loss_png: str | None
    final_loss: float | None


@dataclass(frozen=True)
class SiteSummary:
    """Counts and facts shown in the header and on the index."""

    title: str
    images: int
    pages: int
    rejected: int
    code_size: int
    input_shape: str
    labels: int
    version: str = __version__


def media(slug: str, kind: str) -> str:
    """Path of one of an image's pictures, relative to the site root."""
    return f"media/{slug}/{kind}.png"


def gather_pages(gallery: Gallery) -> list[ImagePage]:
    """One page model per image that has a page, in manifest order."""
    links = [
        Link(name, media(slug, "input"), page_href(slug) if has_page else None)
        for name, slug, has_page in zip(gallery.imageset.names, gallery.slugs, gallery.with_page)
    ]
    listed_by: list[list[int]] = [[] for _ in gallery.slugs]
    for index, neighbours in enumerate(gallery.neighbour_indices):
        for other in neighbours:
            listed_by[other].append(index)
    paged = np.flatnonzero(gallery.with_page)
    pages = []
    for position, index in enumerate(paged):
        slug = gallery.slugs[index]
        neighbours = tuple(
            Link(links[other].name, links[other].thumbnail, links[other].href, float(similarity))
            for other, similarity in zip(gallery.neighbour_indices[index], gallery.neighbour_similarities[index])
        )
        pages.append(ImagePage(
            slug=slug,
            name=gallery.imageset.names[index],
            source=gallery.imageset.sources[index],
            label=gallery.imageset.labels[index] if gallery.imageset.labels else None,
            href=page_href(slug),
            input_png=media(slug, "input"),
            reconstruction_png=media(slug, "reconstruction"),
            error_png=media(slug, "error"),
            error_mean=float(gallery.maps["reconstruction_error"][index].mean()),
            neighbours=neighbours,
            listed_by=tuple(links[other] for other in listed_by[index]),
            previous=links[paged[position - 1]] if position > 0 else None,
            next=links[paged[position + 1]] if position + 1 < len(paged) else None,
        ))
    return pages


def gather_map(gallery: Gallery) -> list[MapPoint]:
    """Every image on the map, positions in percent."""
    return [
        MapPoint(
            Link(name, media(slug, "input"), page_href(slug) if has_page else None),
            left=round(_MAP_MARGIN + float(x) * (100 - 2 * _MAP_MARGIN), 3),
            top=round(_MAP_MARGIN + float(y) * (100 - 2 * _MAP_MARGIN), 3),
        )
        for name, slug, has_page, (x, y) in zip(
            gallery.imageset.names, gallery.slugs, gallery.with_page, gallery.positions
        )
    ]


def gather_model(gallery: Gallery) -> ModelPage:
    """The model page: layer table, sizes, training curve."""
    model, spec = gallery.ae.model, gallery.ae.input_spec
    rows = []
    for layer in model.layers:
        try:
            shape = tuple(layer.output.shape[1:])
        except (AttributeError, ValueError):
            shape = ()
        rows.append(LayerRow(
            layer.name,
            type(layer).__name__,
            " × ".join(str(size) for size in shape) or "—",
            int(layer.count_params()),
            layer.name == gallery.ae.bottleneck,
        ))
    losses = gallery.model_info.losses
    return ModelPage(
        source=gallery.model_info.source,
        sha256=gallery.model_info.sha256,
        bottleneck=gallery.ae.bottleneck,
        bottleneck_reason=gallery.ae.bottleneck_reason,
        input_shape=f"{spec.height} × {spec.width} × {spec.channels}",
        input_scale=spec.scale,
        code_size=gallery.ae.code_size,
        parameters=int(model.count_params()),
        layers=tuple(rows),
        loss_png="media/loss.png" if losses else None,
        final_loss=losses[-1] if losses else None,
    )


def summarise(gallery: Gallery, title: str) -> SiteSummary:
    spec = gallery.ae.input_spec
    labels = gallery.imageset.labels
    return SiteSummary(
        title=title,
        images=len(gallery),
        pages=int(gallery.with_page.sum()),
        rejected=len(gallery.imageset.rejected),
        code_size=gallery.ae.code_size,
        input_shape=f"{spec.height} × {spec.width} × {spec.channels}",
        labels=len(set(labels)) if labels else 0,
    )


def write_pictures(gallery: Gallery, site: Path, on_progress=None) -> None:
    """PNG files: every image's input (its thumbnail); reconstruction and error for pages."""
    errors = gallery.maps["reconstruction_error"]
    # One colour scale for the whole set, so pages compare: black = perfect, yellow = the
    # 99th-percentile error over all pixels of all images.
    error_top = render.robust_upper(errors)
    for index, slug in enumerate(gallery.slugs):
        folder = site / "media" / slug
        folder.mkdir(parents=True, exist_ok=True)
        render.save_png(gallery.imageset.images[index], folder / "input.png")
        if gallery.with_page[index]:
            render.save_png(gallery.reconstructions[index], folder / "reconstruction.png")
            render.save_png(render.colourise(errors[index], 0.0, error_top), folder / "error.png")
        if on_progress:
            on_progress(1)
    render.legend_strip(site / "media" / "error-legend.png")
    if gallery.model_info.losses:
        render.loss_curve(gallery.model_info.losses, site / "media" / "loss.png")


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["percent"] = lambda value: f"{value * 100:.0f}%"
    environment.filters["thousands"] = lambda value: f"{value:,}"
    environment.filters["decimals"] = lambda value, places=3: f"{value:.{places}f}"
    return environment


def write_pages(gallery: Gallery, site: Path, title: str, on_progress=None) -> None:
    """Render every HTML page and copy the static files."""
    environment = _environment()
    summary = summarise(gallery, title)
    pages = gather_pages(gallery)

    def emit(template: str, path: str, **context) -> None:
        depth = path.count("/")
        html = environment.get_template(template).render(
            root="../" * depth, site=summary, current=path, **context
        )
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(html, encoding="utf-8")

    (site / "assets").mkdir(exist_ok=True)
    for name in STATIC_FILES:
        shutil.copyfile(TEMPLATES / name, site / "assets" / name)
    emit("index.html", "index.html", pages=pages)
    points = gather_map(gallery)
    emit("map.html", "map.html", points=points, thumb_size=_map_thumb_size(len(points)))
    emit("model.html", "model.html", model=gather_model(gallery))
    for page in pages:
        emit("image.html", page.href, page=page)
        if on_progress:
            on_progress(1)


def _map_thumb_size(count: int) -> float:
    """Thumbnail width in percent of the map: large for few images, small for many."""
    return round(min(8.0, max(1.2, 60.0 / math.sqrt(max(count, 1)))), 2)
