"""Where pages get their numbers: the gathered :class:`~aevis.gallery.Gallery` becomes one frozen
page model per page.

Templates receive these dataclasses and only loop and branch; every path (:mod:`aevis.site.urls`),
size, aim (:mod:`aevis.site.aims`) and number shown is worked out here. All links are relative
to the site root, so the site works from ``file://`` and any host.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass

import numpy as np

from aevis import __version__
from aevis.draw import animations, charts
from aevis.draw.colour import GRID_NORMALISATION, NORMALISATION_WORDS
from aevis.draw.pixels import Size
from aevis.faithfulness.blank import blank_method
from aevis.faithfulness.cells import CELLS, with_cells
from aevis.gallery import Gallery
from aevis.latent.cells import code_grid, shows_places
from aevis.latent.made_of import CORPUS
from aevis.latent.map import map_kind
from aevis.network.activations import conv_layers, outline_box
from aevis.network.layers import STRONGEST
from aevis.site import aims, mapdata, urls
from aevis.site.export import SOFTWARE, versions
from aevis.site.settings import applied_settings
from aevis.site.taught_section import LabelShareCheck, TaughtSection, label_share_check, taught_section
from aevis.site.words import CELL_WORDS, METHOD_WORDS, MethodWords, target_words


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
    cells_here: str | None = None
    """Where the two codes agree, cell by cell, laid over the page's image (a grid code only)."""
    cells_there: str | None = None
    """The same cells laid over this image."""


@dataclass(frozen=True)
class Heatmap:
    """One method's picture on an image page."""

    words: MethodWords
    png: str
    legend_png: str
    failures: tuple[str, ...] = ()
    """The faithfulness checks this method failed on this model, each in a plain sentence."""
    blank: bool = False
    """The map is one flat colour on this image: the method found nothing to point at."""


@dataclass(frozen=True)
class CellMaps:
    """The "where the two codes agree" pictures of an image page's neighbour cards: the exact
    cell shares of each similarity (:mod:`aevis.latent.cells`), shown for codes whose grid has
    more than one cell."""

    words: MethodWords
    grid: str
    """The code's grid of cells in words, ``4 × 4``."""
    legend_png: str
    failures: tuple[str, ...] = ()
    """The faithfulness checks the cell map failed on this model, each in a plain sentence."""


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
    strip_channels: int
    """Channels the strip shows of each layer."""
    grids: tuple[ActivationGrid, ...]
    normalisation: str
    """How the grids' colours are scaled, in words."""
    morph_gif: str | None
    morph_with: Link | None
    morph_size: Size | None
    sweep_gif: str | None
    sweep_size: Size | None


@dataclass(frozen=True)
class MixPart:
    """One image of another's mix (:mod:`aevis.latent.made_of`) and its share of it."""

    link: Link
    weight: float
    percent: int
    """Its share in whole percent; the shares shown (with :attr:`MadeOfSection.others_percent`) add up to 100."""


@dataclass(frozen=True)
class MadeOfSection:
    """An image's code as a mix of other images' codes: the heaviest parts, as the page shows them."""

    parts: tuple[MixPart, ...]
    others: int
    """Images of the mix not shown, and :attr:`others_weight` their total share."""
    others_weight: float
    others_percent: int
    residual: float
    """What the mix leaves unexplained, relative to what sets the code apart from the average."""
    corpus: int
    verdict: str
    """What :attr:`residual` means, in a sentence (:func:`residual_words`)."""
    paper: str = "https://arxiv.org/abs/2110.15355"
    """SimplEx: Crabbé, Qian, Imrie & van der Schaar, NeurIPS 2021."""


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
    """Most faithful first where the faithfulness checks ran (see :attr:`FaithfulnessRow.standing`)."""
    ranked: bool
    """Whether the heat-maps are in order of measured faithfulness."""
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
    cells: CellMaps | None = None
    """Where each neighbour's code agrees with this one's (the cards' ``cells_here`` and
    ``cells_there``); None for a flat code or a one-cell grid, whose cards show the pair maps."""
    made_of: MadeOfSection | None = None
    """The code as a mix of other images' codes; None for a set of one image."""
    taught: TaughtSection | None = None
    """The training images that most helped and hindered it; None for a model not trained here."""


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
    loss_size: Size | None
    final_loss: float | None


def _measured(value) -> bool:
    """Whether a figure was measured: not None (the check does not apply) and not NaN (undefined)."""
    return value is not None and value == value


@dataclass(frozen=True)
class FaithfulnessRow:
    """One method's faithfulness figures and whether each meets its aim (:mod:`aevis.site.aims`).

    A figure is None where its check does not apply (the code-cell map has no randomization or
    object figures) and NaN where it is undefined; either way it fails nothing, and shows as
    n/a or as not measured.
    """

    words: MethodWords
    deletion_auc: float | None
    random_deletion_auc: float | None
    randomization_spearman: float | None
    object_share: float | None
    mask_share: float | None
    deleted_at_random: str = "the same pattern of pixels at a random place"
    """What the deletion baseline greys out: the heat-map's own pattern moved across the image
    (:func:`aevis.faithfulness.deletion.shifted_maps`), or whole cells at random for the code-cell
    map (:func:`aevis.faithfulness.cells.cell_deletion`)."""

    @property
    def deletion_measured(self) -> bool:
        return _measured(self.deletion_auc) and _measured(self.random_deletion_auc)

    @property
    def randomization_measured(self) -> bool:
        return _measured(self.randomization_spearman)

    @property
    def object_measured(self) -> bool:
        return _measured(self.object_share) and _measured(self.mask_share)

    @property
    def deletion_ok(self) -> bool:
        return self.deletion_measured and self.deletion_auc < self.random_deletion_auc

    @property
    def randomization_ok(self) -> bool:
        return self.randomization_measured and self.randomization_spearman < aims.RANDOMIZATION

    @property
    def object_ok(self) -> bool | None:
        return self.object_share >= aims.OBJECT_SHARE * self.mask_share if self.object_measured else None

    @property
    def failures(self) -> tuple[str, ...]:
        """Each failed check in a sentence a layman can read beside the picture; a figure that
        is undefined (NaN) or does not apply (None) fails nothing."""
        failed = []
        if self.deletion_measured and not self.deletion_ok:
            failed.append(
                "Not shown to be faithful here: greying out the pixels this map ranks highest changed the "
                f"code no faster than greying out {self.deleted_at_random} (deletion area "
                f"{self.deletion_auc:.3f} "
                f"against {self.random_deletion_auc:.3f})."
            )
        if self.randomization_measured and not self.randomization_ok:
            failed.append(
                "Take with care: this map looks much the same when the network's learned weights are "
                f"replaced by random ones (rank correlation {self.randomization_spearman:.2f}, aim below "
                f"{aims.RANDOMIZATION:g}), so it shows more of the image than of what the network learned."
            )
        if self.object_ok is False:
            failed.append(
                f"Take with care: it puts {self.object_share:.0%} of its weight on the object, which covers "
                f"{self.mask_share:.0%} of the image; a map on target puts at least {aims.OBJECT_SHARE:g} "
                "times that share there."
            )
        return tuple(failed)

    @property
    def standing(self) -> tuple[int, float]:
        """How the method ranks, best first: fewest failed checks, then the lowest deletion area
        relative to random (how much faster than chance its order finds what matters)."""
        relative = float("inf")
        if self.deletion_measured and self.random_deletion_auc:
            relative = self.deletion_auc / self.random_deletion_auc
        return len(self.failures), relative


def faithfulness_rows(explanations) -> dict[str, FaithfulnessRow]:
    """Each checked method's :class:`FaithfulnessRow`, in the order the checks ran, then the
    code-cell map's under :data:`~aevis.faithfulness.cells.CELLS` where its check ran."""
    rows = {
        method: FaithfulnessRow(
            METHOD_WORDS[method],
            figures["deletion_auc"],
            figures["random_deletion_auc"],
            figures["randomization_spearman"],
            figures.get("object_share"),
            figures.get("mask_share"),
        )
        for method, figures in explanations.faithfulness.items()
    }
    cells = getattr(explanations, "cell_faithfulness", None)
    if cells is not None:
        rows[CELLS] = FaithfulnessRow(
            CELL_WORDS,
            cells.get("deletion_auc"),
            cells.get("random_deletion_auc"),
            cells.get("randomization_spearman"),
            cells.get("object_share"),
            cells.get("mask_share"),
            deleted_at_random="whole cells at random",
        )
    return rows


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
    checks: int
    """How many faithfulness checks there are (and panels the chart has)."""
    chart_png: str | None
    chart_size: Size | None
    sample: int
    cascade_method: MethodWords | None
    cascade: tuple[CascadeTile, ...]
    randomization_aim: float = aims.RANDOMIZATION
    object_share_aim: float = aims.OBJECT_SHARE
    cells: MethodWords | None = None
    """The code-cell map's words, when the build checked it (its row is the last of :attr:`rows`)."""
    label_share: LabelShareCheck | None = None
    """How far "Taught by" follows the labels, where there are labels and the model was trained here."""

    @property
    def objects(self) -> bool:
        """Whether the table has the on-the-object columns: some method was checked on masks."""
        return any(row.object_share is not None for row in self.rows)


@dataclass(frozen=True)
class FlaggedImage:
    link: Link
    source: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class ReportPage:
    """What happened in the build: skipped files, flagged images, warnings, and what made it."""

    rejected: tuple  # of aevis.data.imageset.Reject
    flagged: tuple[FlaggedImage, ...]
    blank: tuple[tuple[str, int], ...]
    """(method title, pages) for each method whose map was one flat colour on some pages."""
    warnings: tuple[str, ...]
    parameters: tuple[tuple[str, str], ...]
    versions: tuple[tuple[str, str], ...]
    """(software, version) of the software that made the numbers, as the manifest records them."""


@dataclass(frozen=True)
class Finding:
    """What the network grouped the images by, told against their labels: the index's lead."""

    label_kind: str
    """What a label names ("digit")."""
    k: int
    agreement: float
    """Share of each image's k nearest codes that have its label."""
    chance: float
    """The share if the neighbours were picked at random."""

    @property
    def grade(self) -> str:
        """'found' (the agreement meets :data:`aevis.site.aims.LABEL_AGREEMENT`), 'chance' (under
        :data:`aevis.site.aims.NEAR_CHANCE` times chance) or 'partly'."""
        if self.agreement >= aims.LABEL_AGREEMENT:
            return "found"
        return "chance" if self.agreement < aims.NEAR_CHANCE * self.chance else "partly"


@dataclass(frozen=True)
class SiteSummary:
    """Counts and facts shown in the header and on the index."""

    title: str
    images: int
    pages: int
    rejected: int
    code_size: int
    input_values: int
    """Numbers in one input image (height × width × channels)."""
    input_shape: str
    labels: int
    flagged: int
    compared: bool = False
    """Whether the site has a compare page (a second model, ``--compare``)."""
    finding: Finding | None = None
    """What the codes group by, where the images have labels."""
    version: str = __version__


def shape_in_words(sizes) -> str:
    """A shape in words: ``32 × 32 × 3``."""
    return " × ".join(str(size) for size in sizes)


def _href(gallery: Gallery, index: int) -> str | None:
    """Image ``index``'s page, or None where it has none."""
    return urls.image_page(gallery.slugs[index]) if gallery.with_page[index] else None


def image_link(gallery: Gallery, index: int) -> Link:
    """Image ``index``'s name, thumbnail and page (None where it has none)."""
    return Link(gallery.imageset.names[index], urls.thumbnail(gallery.slugs[index]), _href(gallery, index))


def gather_pages(gallery: Gallery) -> list[ImagePage]:
    """One page model per image that has a page, in manifest order."""
    links = [image_link(gallery, index) for index in range(len(gallery))]
    listed_by: list[list[int]] = [[] for _ in gallery.slugs]
    for index, neighbours in enumerate(gallery.neighbour_indices):
        for other in neighbours:
            listed_by[other].append(index)
    paged = gallery.paged
    explanations = gallery.explanations
    methods = list(explanations.methods) if explanations else []
    checked = faithfulness_rows(explanations) if explanations else {}
    # The most faithful first: a layman reads the first picture as the answer.
    methods.sort(key=lambda method: checked[method].standing if method in checked else (0, float("inf")))
    has_pairs = explanations is not None and explanations.pair_method is not None
    cells = _cell_maps(gallery, checked.get(CELLS))
    layers = conv_layers(gallery.ae) if gallery.insides is not None else ()
    pages = []
    for position, index in enumerate(paged):
        slug = gallery.slugs[index]
        flags = gallery.flags.get(int(index), ())
        blank = {blank_method(flag) for flag in flags}
        neighbours = tuple(
            Link(
                links[other].name,
                links[other].thumbnail,
                links[other].href,
                float(similarity),
                *(urls.pair_maps(slug, rank) if has_pairs else (None, None)),
                *(urls.cell_maps(slug, rank) if cells else (None, None)),
            )
            for rank, (other, similarity) in enumerate(
                zip(gallery.neighbour_indices[index], gallery.neighbour_similarities[index])
            )
        )
        heatmaps = tuple(
            Heatmap(
                METHOD_WORDS[method],
                urls.media(slug, method),
                urls.overlay_legend(METHOD_WORDS[method].signed),
                checked[method].failures if method in checked else (),
                method in blank,
            )
            for method in methods
        )
        pages.append(
            ImagePage(
                slug=slug,
                name=gallery.imageset.names[index],
                source=gallery.imageset.sources[index],
                label=gallery.imageset.labels[index] if gallery.imageset.labels else None,
                href=urls.image_page(slug),
                input_png=urls.thumbnail(slug),
                reconstruction_png=urls.media(slug, "reconstruction"),
                error_png=urls.media(slug, "error"),
                error_mean=float(gallery.errors[index]),
                heatmaps=heatmaps,
                ranked=any(method in checked for method in methods),
                collage_png=urls.media(slug, "collage") if methods else None,
                pair_title=METHOD_WORDS[explanations.pair_method].title if has_pairs else None,
                neighbours=neighbours,
                listed_by=tuple(links[other] for other in listed_by[index]),
                previous=links[paged[position - 1]] if position > 0 else None,
                next=links[paged[position + 1]] if position + 1 < len(paged) else None,
                flags=numerical_problems(flags),
                inside=_image_inside(gallery, slug, layers, neighbours[0] if neighbours else None),
                cells=cells,
                made_of=_made_of_section(gallery.made_of[int(index)], links),
                taught=taught_section(gallery, int(index), links),
            )
        )
    return pages


MIX_SHOWN = 5
"""Heaviest images of a mix shown as pictures; the rest are summed up in words."""


def _made_of_section(mix, links: list[Link]) -> MadeOfSection | None:
    if not len(mix.indices):
        return None
    shown = min(MIX_SHOWN, len(mix.indices))
    rest = float(mix.weights[shown:].sum())
    percents = whole_percents([*mix.weights[:shown], rest])
    parts = tuple(
        MixPart(links[int(other)], float(weight), percent)
        for other, weight, percent in zip(mix.indices[:shown], mix.weights[:shown], percents)
    )
    return MadeOfSection(
        parts,
        len(mix.indices) - shown,
        rest,
        percents[-1],
        mix.residual,
        min(CORPUS, len(links) - 1),
        residual_words(mix.residual),
    )


MOSTLY_MIXED = 0.1
"""A mix that leaves out less than this share reads "nearly all of it is a mixture"."""
PARTLY_MIXED = 0.5
"""Less than this: "much of it is a mixture; the rest is its own"; more: "much of it is its own"."""


def residual_words(residual: float) -> str:
    """What a Made of residual means, in one sentence."""
    if residual < MOSTLY_MIXED:
        return "Nearly all of it is, to the network, a mixture of these images."
    if residual < PARTLY_MIXED:
        return "Much of it is a mixture of these images; the rest is its own."
    return "Much of it is its own: no mixture of the images most like it comes close."


def whole_percents(shares) -> list[int]:
    """Shares summing to 1 as whole percentages summing to 100: each rounded down, then the
    largest remainders rounded up (Hamilton's method), so "46 %, 45 %, 10 %" never adds to 101."""
    exact = np.asarray(shares, np.float64) * 100
    floors = np.floor(exact + 1e-9).astype(int)
    missing = int(round(exact.sum())) - int(floors.sum())
    for index in np.argsort(-(exact - floors), kind="stable")[: max(missing, 0)]:
        floors[index] += 1
    return [int(value) for value in floors]


def numerical_problems(flags: tuple[str, ...]) -> tuple[str, ...]:
    """An image's flags but its blank maps (which its cards show): NaN or infinite values, in words."""
    return tuple(flag for flag in flags if blank_method(flag) is None)


def _cell_maps(gallery: Gallery, checked: FaithfulnessRow | None) -> CellMaps | None:
    """The neighbour cards' "where the two codes agree", when the code's grid can say where."""
    grid = code_grid(gallery.ae)
    if not shows_places(grid) or gallery.neighbour_indices.size == 0:
        return None
    return CellMaps(
        CELL_WORDS, shape_in_words(grid[:2]), urls.overlay_legend(True), checked.failures if checked is not None else ()
    )


def _image_inside(gallery: Gallery, slug: str, layers: tuple, nearest: Link | None) -> ImageInside | None:
    """The inside-the-network part of one page; ``layers`` are the model's conv layers."""
    if gallery.insides is None:
        return None
    grids = tuple(
        ActivationGrid(layer.name, layer.part, layer.channels, urls.media(slug, f"act-{layer.name}"))
        for layer in layers
    )
    has_morph = gallery.ae.decoder is not None and nearest is not None
    has_sweep = gallery.explanations is not None and "occlusion" in gallery.explanations.methods
    return ImageInside(
        strip_png=urls.media(slug, "strip"),
        strip_channels=STRONGEST,
        grids=grids,
        normalisation=NORMALISATION_WORDS[GRID_NORMALISATION],
        morph_gif=urls.animation(slug, "morph") if has_morph else None,
        morph_with=nearest if has_morph else None,
        morph_size=animations.morph_size() if has_morph else None,
        sweep_gif=urls.animation(slug, "sweep") if has_sweep else None,
        sweep_size=animations.sweep_size() if has_sweep else None,
    )


def gather_map(gallery: Gallery, pictured: np.ndarray | None = None) -> mapdata.MapData:
    """The interactive map's data: every image's place, colours and neighbours; ``pictured``
    (bool (N,)): which images have a thumbnail picture (:func:`aevis.site.thumbnails.pictured`)."""
    code_size = gallery.ae.code_size
    data = mapdata.gather_map_data(
        gallery.imageset.names,
        gallery.slugs,
        [_href(gallery, index) for index in range(len(gallery))],
        gallery.positions,
        gallery.insides.clusters if gallery.insides else np.zeros(len(gallery), np.int64),
        gallery.errors,  # NaN where not measured: the map says so
        gallery.neighbour_indices,
        labels=gallery.imageset.labels,
        sources=gallery.imageset.sources,
        map_trust=gallery.insides.map_trust if gallery.insides else None,
        density=gallery.insides.density if gallery.insides else None,
        quality=gallery.insides.map_quality if gallery.insides else None,
        mosaic=urls.MOSAIC if gallery.insides else None,
        pictured=pictured,
    )
    similarities = np.asarray(gallery.neighbour_similarities, np.float32).reshape(data.neighbours.shape)
    return dataclasses.replace(data, kind=map_kind(code_size), code_size=code_size, similarities=similarities)


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


def gather_layers(gallery: Gallery) -> list[LayerPage]:
    """A channel gallery per encoder convolution and for the bottleneck."""
    insides = gallery.insides
    if insides is None:
        return []
    height, width = gallery.ae.input_spec.height, gallery.ae.input_spec.width
    features = {int(channel): urls.feature(channel) for channel in insides.feature_channels}
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
                    box = (
                        100 * left / width,
                        100 * top / height,
                        100 * (right - left) / width,
                        100 * (bottom - top) / height,
                    )
                tiles.append(GalleryTile(image_link(gallery, index), float(ranking.values[channel, rank]), box))
            feature = features.get(channel) if layer.part == "bottleneck" else None
            rows.append(ChannelRow(channel, tuple(tiles), feature))
        shape = shape_in_words(layer.map_shape) if layer.map_shape else f"{layer.channels} units"
        pages.append(LayerPage(layer.name, layer.part, layer.kind, urls.layer_page(layer.name), shape, tuple(rows)))
    return pages


def gather_model(gallery: Gallery) -> ModelPage:
    """The model page: layer table, sizes, training curve."""
    model, spec = gallery.ae.model, gallery.ae.input_spec
    rows = []
    for layer in model.layers:
        output = gallery.ae.graph.tensors.get(layer.name)
        shape = tuple(output.shape[1:]) if output is not None else tuple(spec.shape)
        rows.append(
            LayerRow(
                layer.name,
                type(layer).__name__,
                shape_in_words(shape) or "—",
                int(layer.count_params()),
                layer.name == gallery.ae.bottleneck,
            )
        )
    losses = gallery.model_info.losses
    return ModelPage(
        source=gallery.model_info.source,
        sha256=gallery.model_info.sha256,
        bottleneck=gallery.ae.bottleneck,
        bottleneck_reason=gallery.ae.bottleneck_reason,
        input_shape=shape_in_words((spec.height, spec.width, spec.channels)),
        input_scale=spec.scales.describe(),
        scales_reason=gallery.ae.scales_reason,
        code_size=gallery.ae.code_size,
        parameters=int(model.count_params()),
        layers=tuple(rows),
        loss_png=urls.LOSS_CURVE if losses else None,
        loss_size=charts.loss_curve_size() if losses else None,
        final_loss=losses[-1] if losses else None,
    )


def gather_reading(gallery: Gallery, pages: list[ImagePage], sample: int) -> ReadingPage:
    """The reading guide: method words, a worked example, the faithfulness figures."""
    explanations = gallery.explanations
    if explanations is None:
        return ReadingPage("", (), None, (), 0, None, None, 0, None, (), label_share=label_share_check(gallery))
    rows = tuple(faithfulness_rows(explanations).values())
    charted = with_cells(explanations.faithfulness, explanations.cell_faithfulness)
    cascade = ()
    example = None
    if explanations.cascade_image is not None:
        slug = gallery.slugs[explanations.cascade_image]
        example = next(page for page in pages if page.slug == slug)
        cascade = (CascadeTile("trained network", urls.media(slug, explanations.cascade_method), None),) + tuple(
            CascadeTile(f"randomised down to {step.layer}", urls.cascade(depth), step.spearman)
            for depth, step in enumerate(explanations.cascade)
        )
    return ReadingPage(
        target=target_words(explanations.target),
        methods=tuple(METHOD_WORDS[method] for method in explanations.methods),
        example=example or (pages[0] if pages else None),
        rows=rows,
        checks=charts.faithfulness_panels(explanations.faithfulness),
        chart_png=urls.FAITHFULNESS_CHART if rows else None,
        chart_size=charts.faithfulness_chart_size(charted) if rows else None,
        sample=sample,
        cascade_method=METHOD_WORDS[explanations.cascade_method] if explanations.cascade_method else None,
        cascade=cascade,
        cells=CELL_WORDS if explanations.cell_faithfulness is not None else None,
        label_share=label_share_check(gallery),
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
        input_values=spec.height * spec.width * spec.channels,
        input_shape=shape_in_words((spec.height, spec.width, spec.channels)),
        labels=len(set(labels)) if labels else 0,
        flagged=sum(1 for flags in gallery.flags.values() if numerical_problems(flags)),
        compared=gallery.comparison is not None,
        finding=_finding(gallery),
    )


def _finding(gallery: Gallery) -> Finding | None:
    quality = gallery.insides.map_quality if gallery.insides else None
    if quality is None or quality.label_agreement_codes is None:
        return None
    return Finding(
        gallery.imageset.label_kind or "label", quality.k, quality.label_agreement_codes, quality.label_agreement_chance
    )


def gather_report(gallery: Gallery) -> ReportPage:
    """The build report page."""
    flagged = tuple(
        FlaggedImage(image_link(gallery, index), gallery.imageset.sources[index], numerical_problems(flags))
        for index, flags in gallery.flags.items()
        if numerical_problems(flags)
    )
    parameters = applied_settings(gallery.parameters)
    software = tuple((SOFTWARE[name], version or "not installed") for name, version in versions().items())
    blank = Counter(method for flags in gallery.flags.values() for method in map(blank_method, flags) if method)
    blank_titles = tuple((METHOD_WORDS[method].title, count) for method, count in blank.items())
    return ReportPage(
        tuple(gallery.imageset.rejected), flagged, blank_titles, tuple(gallery.warnings), parameters, software
    )
