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

from aevis import __version__
from aevis.draw import pictures, render
from aevis.site import mapdata
from aevis.network.activations import conv_layers, outline_box
from aevis.store.cache import ResultCache, array_hash, lazy, make_key
from aevis.site.words import METHOD_WORDS, MethodWords, target_words
from aevis.network.insides import gif
from aevis.site.export import page_href
from aevis.gallery import ExplainedChunk, Explanations, Gallery

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
STATIC_FILES = ("style.css", "gallery.js", "favicon.svg", "map.js", "map.css")


@dataclass(frozen=True)
class Link:
    """Another image as shown on a page: its name, thumbnail, and page if it has one."""

    name: str
    thumbnail: str
    href: str | None
    similarity: float | None = None
    pair_here: str | None = None
    """Heat-map of the page's image against this one's code (what it shares with this one)."""
    pair_there: str | None = None
    """Heat-map of this image against the page's image's code."""


@dataclass(frozen=True)
class Heatmap:
    """One method's picture on an image page."""

    words: MethodWords
    png: str
    legend_png: str


@dataclass(frozen=True)
class ActivationGrid:
    layer: str
    part: str
    channels: int
    png: str


@dataclass(frozen=True)
class ImageInside:
    """The "inside the network" part of an image page."""

    strip_png: str
    grids: tuple[ActivationGrid, ...]
    normalisation: str
    """How the grids' colours are scaled, in words."""
    morph_gif: str | None
    morph_with: Link | None
    sweep_gif: str | None


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
    heatmaps: tuple[Heatmap, ...]
    collage_png: str | None
    pair_title: str | None
    """Name of the method that drew the pair maps on the neighbour cards."""
    neighbours: tuple[Link, ...]
    listed_by: tuple[Link, ...]
    """Images that list this one among their neighbours."""
    previous: Link | None
    next: Link | None
    flags: tuple[str, ...] = ()
    """Numerical problems with this image (NaN or infinite values), in words."""
    inside: ImageInside | None = None


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
    scales_reason: str
    code_size: int
    parameters: int
    layers: tuple[LayerRow, ...]
    loss_png: str | None
    final_loss: float | None


@dataclass(frozen=True)
class FaithfulnessRow:
    """One method's faithfulness figures and whether each meets its aim."""

    words: MethodWords
    deletion_auc: float
    random_deletion_auc: float
    randomization_spearman: float
    object_share: float | None
    mask_share: float | None

    @property
    def deletion_ok(self) -> bool:
        return self.deletion_auc < self.random_deletion_auc

    @property
    def randomization_ok(self) -> bool:
        return self.randomization_spearman < 0.5

    @property
    def object_ok(self) -> bool | None:
        return None if self.object_share is None else self.object_share >= 2 * self.mask_share


@dataclass(frozen=True)
class CascadeTile:
    label: str
    png: str
    spearman: float | None


@dataclass(frozen=True)
class ReadingPage:
    """The "How to read these pictures" page."""

    target: str
    methods: tuple[MethodWords, ...]
    example: ImagePage | None
    rows: tuple[FaithfulnessRow, ...]
    chart_png: str | None
    sample: int
    cascade_method: MethodWords | None
    cascade: tuple[CascadeTile, ...]


@dataclass(frozen=True)
class FlaggedImage:
    link: Link
    source: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class ReportPage:
    """What happened in the build: skipped files, flagged images, warnings."""

    rejected: tuple  # of aevis.data.imageset.Reject
    flagged: tuple[FlaggedImage, ...]
    warnings: tuple[str, ...]
    parameters: tuple[tuple[str, str], ...]


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
    flagged: int
    version: str = __version__


def media(slug: str, kind: str) -> str:
    """Path of one of an image's pictures, relative to the site root."""
    return f"media/{slug}/{kind}.png"


def legend(signed: bool) -> str:
    """Path of the overlay colour legend."""
    return f"media/legend-{'signed' if signed else 'unsigned'}.png"


def _pair_pictures(slug: str, rank: int) -> tuple[str, str]:
    return media(slug, f"pair-{rank}-here"), media(slug, f"pair-{rank}-there")


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
    paged = gallery.paged
    explanations = gallery.explanations
    methods = list(explanations.methods) if explanations else []
    has_pairs = explanations is not None and explanations.pair_method is not None
    layers = conv_layers(gallery.ae) if gallery.insides is not None else ()
    pages = []
    for position, index in enumerate(paged):
        slug = gallery.slugs[index]
        neighbours = tuple(
            Link(
                links[other].name, links[other].thumbnail, links[other].href, float(similarity),
                *(_pair_pictures(slug, rank) if has_pairs else (None, None)),
            )
            for rank, (other, similarity) in enumerate(
                zip(gallery.neighbour_indices[index], gallery.neighbour_similarities[index])
            )
        )
        heatmaps = tuple(
            Heatmap(METHOD_WORDS[method], media(slug, method), legend(METHOD_WORDS[method].signed))
            for method in methods
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
            heatmaps=heatmaps,
            collage_png=media(slug, "collage") if methods else None,
            pair_title=METHOD_WORDS[explanations.pair_method].title if has_pairs else None,
            neighbours=neighbours,
            listed_by=tuple(links[other] for other in listed_by[index]),
            previous=links[paged[position - 1]] if position > 0 else None,
            next=links[paged[position + 1]] if position + 1 < len(paged) else None,
            flags=gallery.flags.get(int(index), ()),
            inside=_image_inside(gallery, slug, layers, neighbours[0] if neighbours else None),
        ))
    return pages


def _image_inside(gallery: Gallery, slug: str, layers: tuple, nearest: Link | None) -> ImageInside | None:
    """The inside-the-network part of one page; ``layers`` are the model's conv layers."""
    if gallery.insides is None:
        return None
    grids = tuple(
        ActivationGrid(layer.name, layer.part, layer.channels, media(slug, f"act-{layer.name}"))
        for layer in layers
    )
    has_morph = gallery.ae.decoder is not None and nearest is not None
    has_sweep = gallery.explanations is not None and "occlusion" in gallery.explanations.methods
    return ImageInside(
        strip_png=media(slug, "strip"),
        grids=grids,
        normalisation=pictures.NORMALISATION_WORDS[pictures.GRID_NORMALISATION],
        morph_gif=gif(media, slug, "morph") if has_morph else None,
        morph_with=nearest if has_morph else None,
        sweep_gif=gif(media, slug, "sweep") if has_sweep else None,
    )


def gather_map(gallery: Gallery) -> mapdata.MapData:
    """The interactive map's data: every image's place, colours and neighbours."""
    return mapdata.gather_map_data(
        gallery.imageset.names, gallery.slugs,
        [page_href(slug) if has_page else None for slug, has_page in zip(gallery.slugs, gallery.with_page)],
        gallery.positions, np.nan_to_num(gallery.codes),
        np.nan_to_num(gallery.maps["reconstruction_error"].mean(axis=(1, 2))),
        gallery.neighbour_indices, labels=gallery.imageset.labels,
        quality=gallery.insides.map_quality if gallery.insides else None,
        seed=int(gallery.parameters.get("seed", 0)),
        mosaic="mosaic.png" if gallery.insides else None,
    )


@dataclass(frozen=True)
class GalleryTile:
    """One of a channel's top images, with its strongest region outlined (percent of the image)."""

    link: Link
    value: float
    box: tuple[float, float, float, float] | None
    """(left, top, width, height) in percent, or None for a layer without a spatial map."""


@dataclass(frozen=True)
class ChannelRow:
    channel: int
    tiles: tuple[GalleryTile, ...]
    feature_png: str | None


@dataclass(frozen=True)
class LayerPage:
    """One layer's channel gallery."""

    name: str
    part: str
    kind: str
    href: str
    map_shape: str
    rows: tuple[ChannelRow, ...]


def layer_href(name: str) -> str:
    return f"layers/{name}.html"


def gather_layers(gallery: Gallery) -> list[LayerPage]:
    """A channel gallery per encoder convolution and for the bottleneck."""
    insides = gallery.insides
    if insides is None:
        return []
    height, width = gallery.ae.input_spec.height, gallery.ae.input_spec.width
    features = {int(channel): f"media/features/channel-{int(channel)}.png" for channel in insides.feature_channels}
    names, slugs, with_page = gallery.imageset.names, gallery.slugs, gallery.with_page
    pages = []
    for layer in insides.layers:
        ranking = insides.rankings[layer.name]
        rows = []
        for channel in range(ranking.channels):
            tiles = []
            for rank, index in enumerate(ranking.indices[channel]):
                box = None
                if ranking.cells is not None and layer.scale is not None:
                    top, left, bottom, right = outline_box(ranking.cells[channel, rank], layer, (height, width))
                    box = (100 * left / width, 100 * top / height, 100 * (right - left) / width, 100 * (bottom - top) / height)
                link = Link(names[index], media(slugs[index], "input"), page_href(slugs[index]) if with_page[index] else None)
                tiles.append(GalleryTile(link, float(ranking.values[channel, rank]), box))
            feature = features.get(channel) if layer.part == "bottleneck" else None
            rows.append(ChannelRow(channel, tuple(tiles), feature))
        shape = " × ".join(map(str, layer.map_shape)) if layer.map_shape else f"{layer.channels} units"
        pages.append(LayerPage(layer.name, layer.part, layer.kind, layer_href(layer.name), shape, tuple(rows)))
    return pages


def gather_model(gallery: Gallery) -> ModelPage:
    """The model page: layer table, sizes, training curve."""
    model, spec = gallery.ae.model, gallery.ae.input_spec
    rows = []
    for layer in model.layers:
        output = gallery.ae.graph.tensors.get(layer.name)
        shape = tuple(output.shape[1:]) if output is not None else tuple(spec.shape)
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
        input_scale=spec.scales.describe(),
        scales_reason=gallery.ae.scales_reason,
        code_size=gallery.ae.code_size,
        parameters=int(model.count_params()),
        layers=tuple(rows),
        loss_png="media/loss.png" if losses else None,
        final_loss=losses[-1] if losses else None,
    )


def gather_reading(gallery: Gallery, pages: list[ImagePage], sample: int) -> ReadingPage:
    """The reading guide: method words, a worked example, the faithfulness figures."""
    explanations = gallery.explanations
    if explanations is None:
        return ReadingPage("", (), None, (), None, 0, None, ())
    rows = tuple(
        FaithfulnessRow(
            METHOD_WORDS[method], figures["deletion_auc"], figures["random_deletion_auc"],
            figures["randomization_spearman"], figures.get("object_share"), figures.get("mask_share"),
        )
        for method, figures in explanations.faithfulness.items()
    )
    cascade = ()
    example = None
    if explanations.cascade_image is not None:
        slug = gallery.slugs[explanations.cascade_image]
        example = next(page for page in pages if page.slug == slug)
        cascade = (CascadeTile("trained network", media(slug, explanations.cascade_method), None),) + tuple(
            CascadeTile(f"randomised down to {step.layer}", f"media/cascade-{depth}.png", step.spearman)
            for depth, step in enumerate(explanations.cascade)
        )
    return ReadingPage(
        target=target_words(explanations.target),
        methods=tuple(METHOD_WORDS[method] for method in explanations.methods),
        example=example or (pages[0] if pages else None),
        rows=rows,
        chart_png="media/faithfulness.png" if rows else None,
        sample=sample,
        cascade_method=METHOD_WORDS[explanations.cascade_method] if explanations.cascade_method else None,
        cascade=cascade,
    )


def write_reading_pictures(gallery: Gallery, site: Path, cache: ResultCache) -> None:
    """The faithfulness chart and the randomization strip."""
    explanations = gallery.explanations
    if explanations is None:
        return
    if explanations.faithfulness:
        titles = {method: METHOD_WORDS[method].title for method in explanations.faithfulness}
        cache.picture(
            make_key("faithfulness chart", explanations.faithfulness, titles), site / "media" / "faithfulness.png",
            lambda path: render.faithfulness_chart(explanations.faithfulness, titles, path),
        )
    if explanations.cascade:
        index = explanations.cascade_image
        image = gallery.imageset.images[index]
        signed = METHOD_WORDS[explanations.cascade_method].signed
        for depth, step in enumerate(explanations.cascade):
            cache.picture(
                make_key("overlay", gallery.image_keys[index], array_hash(step.maps[0]), signed),
                site / "media" / f"cascade-{depth}.png",
                lambda path, step=step: render.save_png(render.overlay(image, step.maps[0], signed), path),
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
        flagged=len(gallery.flags),
    )


def gather_report(gallery: Gallery) -> ReportPage:
    """The build report page."""
    flagged = tuple(
        FlaggedImage(
            Link(gallery.imageset.names[index], media(gallery.slugs[index], "input"),
                 page_href(gallery.slugs[index]) if gallery.with_page[index] else None),
            gallery.imageset.sources[index],
            problems,
        )
        for index, problems in gallery.flags.items()
    )
    parameters = tuple((name, "—" if value is None else str(value)) for name, value in gallery.parameters.items())
    return ReportPage(tuple(gallery.imageset.rejected), flagged, tuple(gallery.warnings), parameters)


def error_scale(errors: np.ndarray) -> float:
    """The top of the error pictures' colour scale: one scale for the whole set, so pages
    compare (black = perfect, yellow = the 99th-percentile error over all pixels of all images).

    Rounded up to two significant figures: every error picture is drawn on this scale, and a
    rebuild after one image changed should find them all in the cache, which it does unless
    that image moves the set's percentile across a rounding step.
    """
    top = render.robust_upper(errors)
    step = 10.0 ** (math.floor(math.log10(top)) - 1)
    return float(f"{math.ceil(top / step - 1e-9) * step:.2g}")


def write_set_pictures(gallery: Gallery, site: Path, cache: ResultCache) -> None:
    """The colour legends and the training curve."""
    (site / "media").mkdir(parents=True, exist_ok=True)
    cache.picture(make_key("error legend"), site / "media" / "error-legend.png", render.legend_strip)
    for signed in (False, True):
        cache.picture(
            make_key("overlay legend", signed), site / legend(signed),
            lambda path, signed=signed: render.overlay_legend_strip(path, signed),
        )
    losses = gallery.model_info.losses
    if losses:
        cache.picture(make_key("loss curve", losses), site / "media" / "loss.png",
                      lambda path: render.loss_curve(losses, path))


def write_thumbnails(gallery: Gallery, site: Path, cache: ResultCache, rows) -> None:
    """The input picture (also its thumbnail) of images ``rows``."""
    for index in rows:
        folder = site / "media" / gallery.slugs[index]
        folder.mkdir(parents=True, exist_ok=True)
        image = gallery.imageset.images[index]
        cache.picture(make_key("input", gallery.image_keys[index]), folder / "input.png",
                      lambda path, image=image: render.save_png(image, path))


def write_page_pictures(gallery: Gallery, site: Path, cache: ResultCache, chunk: ExplainedChunk,
                        error_top: float, reconstructions) -> None:
    """The rest of the story for a chunk of paged images: reconstruction, error, heat-map
    overlays, the shareable collage and the neighbour pair maps.

    ``reconstructions()`` gives the chunk's reconstructions, computed when first asked for:
    with every picture in the cache, never.
    """
    errors = gallery.maps["reconstruction_error"]
    for row, index in enumerate(chunk.rows):
        folder = site / "media" / gallery.slugs[index]
        folder.mkdir(parents=True, exist_ok=True)
        identity = (gallery.model_key, gallery.image_keys[index])
        error = lazy(lambda index=index: render.colourise(errors[index], 0.0, error_top))
        cache.picture(make_key("reconstruction", *identity), folder / "reconstruction.png",
                      lambda path, row=row: render.save_png(reconstructions()[row], path))
        cache.picture(make_key("error", *identity, error_top), folder / "error.png",
                      lambda path, error=error: render.save_png(error(), path))
        if gallery.explanations:
            _write_explanation_pictures(gallery, cache, chunk, row, folder, error_top, error, reconstructions)


def _write_explanation_pictures(gallery: Gallery, cache: ResultCache, chunk: ExplainedChunk, row: int,
                                folder: Path, error_top: float, error, reconstructions) -> None:
    """One image's heat-map overlays, its shareable collage, and its neighbour pair maps."""
    explanations = gallery.explanations
    index = int(chunk.rows[row])
    image = gallery.imageset.images[index]
    overlays, parts = [], []
    for method in explanations.methods:
        words = METHOD_WORDS[method]
        picture = lazy(lambda method=method, signed=words.signed: render.overlay(image, chunk.maps[method][row], signed))
        cache.picture(make_key("overlay", chunk.map_keys[method][row], words.signed), folder / f"{method}.png",
                      lambda path, picture=picture: render.save_png(picture(), path))
        overlays.append((words.title, picture))
        parts.append((words.title, chunk.map_keys[method][row], words.signed))

    def collage(path: Path) -> None:
        tiles = [("input", image), ("rebuilt", reconstructions()[row]), ("rebuild error", error())]
        render.collage(tiles + [(title, picture()) for title, picture in overlays]).save(path)

    cache.picture(
        make_key("collage", gallery.model_key, gallery.image_keys[index], error_top, parts), folder / "collage.png",
        collage,
    )
    if chunk.pair_maps is not None:
        signed = METHOD_WORDS[explanations.pair_method].signed
        for rank, other in enumerate(gallery.neighbour_indices[index]):
            for side, (subject, name) in enumerate(((index, "here"), (other, "there"))):
                subject_image = gallery.imageset.images[subject]
                cache.picture(
                    make_key("overlay", chunk.pair_keys[row][rank][side], signed), folder / f"pair-{rank}-{name}.png",
                    lambda path, picture=subject_image, values=chunk.pair_maps[row, rank, side]: render.save_png(
                        render.overlay(picture, values, signed), path),
                )


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
    environment.filters["decimals"] = lambda value, places=3: (
        "n/a" if value is None or value != value else f"{value:.{places}f}"
    )
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
    layers = gather_layers(gallery)
    emit("index.html", "index.html", pages=pages, mosaic="mosaic.png" if gallery.insides else None)
    map_data = gather_map(gallery)
    mapdata.write_map_assets(site, map_data, gallery.imageset.images)
    emit("map.html", "map.html", map=map_data)
    emit("model.html", "model.html", model=gather_model(gallery), layers=layers)
    for layer in layers:
        emit("layer.html", layer.href, layer=layer, layers=layers)
    sample = int(gallery.parameters.get("faithfulness_sample", 0))
    emit("reading.html", "reading.html", guide=gather_reading(gallery, pages, min(sample, len(pages))))
    emit("report.html", "report.html", report=gather_report(gallery))
    for page in pages:
        emit("image.html", page.href, page=page)
        if on_progress:
            on_progress(1)

