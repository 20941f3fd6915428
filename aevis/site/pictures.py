"""The site's own pictures, each put in place through the picture cache: the colour legends, the
charts, and every image's input, reconstruction, error map, heat-map overlays, collage and pair
maps. A page's pictures are declared as :class:`Picture` jobs (the network's are in
:mod:`aevis.site.network_pictures`) and drawn from precomputed :class:`PictureInputs`.

Each picture is copied from the cache when an earlier build drew it, and drawn by
:mod:`aevis.draw` otherwise; its place in the site is :mod:`aevis.site.urls`'.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aevis._utils.keys import array_hash, error_picture_key, make_key
from aevis.draw import charts, colour, sheets
from aevis.draw.pixels import save_png
from aevis.faithfulness.cells import CELLS, with_cells
from aevis.gallery import ExplainedChunk, Gallery
from aevis.latent.cells import cells_to_pixels, code_grid, neighbour_cells, shows_places
from aevis.site import aims, urls
from aevis.site.words import CELL_WORDS, METHOD_WORDS
from aevis.store.cache import ResultCache, lazy


def error_scale(errors: np.ndarray) -> float:
    """The top of the error pictures' colour scale: one scale for the whole set, so pages
    compare (black = perfect, yellow = the 99th-percentile error over all pixels of all images).

    Rounded up to two significant figures: every error picture is drawn on this scale, and a
    rebuild after one image changed should find them all in the cache, which it does unless
    that image moves the set's percentile across a rounding step.
    """
    top = colour.robust_upper(errors)
    step = 10.0 ** (math.floor(math.log10(top)) - 1)
    return float(f"{math.ceil(top / step - 1e-9) * step:.2g}")


def write_set_pictures(gallery: Gallery, site: Path, cache: ResultCache) -> None:
    """The colour legends and the training curve."""
    (site / urls.MEDIA).mkdir(parents=True, exist_ok=True)
    cache.picture(make_key("error legend"), site / urls.ERROR_LEGEND, colour.legend_strip)
    for signed in (False, True):
        cache.picture(
            make_key("overlay legend", signed),
            site / urls.overlay_legend(signed),
            lambda path, signed=signed: colour.overlay_legend_strip(path, signed),
        )
    losses = gallery.model_info.losses
    if losses:
        cache.picture(
            make_key("loss curve", losses), site / urls.LOSS_CURVE, lambda path: charts.loss_curve(losses, path)
        )


def write_reading_pictures(gallery: Gallery, site: Path, cache: ResultCache) -> None:
    """The faithfulness chart and the randomization strip."""
    explanations = gallery.explanations
    if explanations is None:
        return
    if explanations.faithfulness:
        figures = with_cells(explanations.faithfulness, explanations.cell_faithfulness)
        titles = {method: METHOD_WORDS[method].title for method in explanations.faithfulness}
        titles.update({CELLS: CELL_WORDS.title} if CELLS in figures else {})
        cache.picture(
            make_key("faithfulness chart", figures, titles),
            site / urls.FAITHFULNESS_CHART,
            lambda path: charts.faithfulness_chart(figures, titles, path, aims.RANDOMIZATION),
        )
    if explanations.cascade:
        index = explanations.cascade_image
        image = gallery.imageset.images[index]
        signed = METHOD_WORDS[explanations.cascade_method].signed
        for depth, step in enumerate(explanations.cascade):
            cache.picture(
                make_key("overlay", gallery.image_keys[index], array_hash(step.maps[0]), signed),
                site / urls.cascade(depth),
                lambda path, step=step: save_png(colour.overlay(image, step.maps[0], signed), path),
            )


def write_compare_pictures(gallery: Gallery, site: Path, cache: ResultCache) -> None:
    """The two models' overlap chart and their aligned maps, when the build compared two."""
    comparison = gallery.comparison
    if comparison is None:
        return
    overlap, first, second = comparison.overlap, gallery.positions, comparison.positions
    cache.picture(
        make_key("overlap chart", array_hash(overlap), comparison.k),
        site / urls.OVERLAP_CHART,
        lambda path: charts.overlap_chart(overlap, comparison.k, comparison.chance, path),
    )
    cache.picture(
        make_key("aligned maps", array_hash(first), array_hash(second), array_hash(overlap)),
        site / urls.ALIGNED_MAPS,
        lambda path: charts.aligned_maps(first, second, overlap, path),
    )


def _image_folder(site: Path, slug: str) -> None:
    (site / urls.image_folder(slug)).mkdir(parents=True, exist_ok=True)


def write_thumbnails(gallery: Gallery, site: Path, cache: ResultCache, rows) -> None:
    """The input picture (also its thumbnail) of images ``rows``: the images some page shows
    (:func:`aevis.site.thumbnails.pictured`)."""
    for index in rows:
        slug = gallery.slugs[index]
        _image_folder(site, slug)
        image = gallery.imageset.images[index]
        cache.picture(
            make_key("input", gallery.image_keys[index]),
            site / urls.thumbnail(slug),
            lambda path, image=image: save_png(image, path),
        )


FEATURE_MAPS, RECONSTRUCTIONS, MORPH_FRAMES = "feature maps", "reconstructions", "morph frames"
"""What a page picture may need computed before it can be drawn."""


@dataclass(frozen=True)
class PictureInputs:
    """A chunk's arrays for drawing, each None when no missing picture needs it.

    ``feature_maps``: layer name to float32 (n, h, w, channels); ``reconstructions``: float32
    (n, H, W, C); ``morph_frames``: float32 (n, frames, H, W, C); rows in chunk order.
    """

    feature_maps: dict[str, np.ndarray] | None = None
    reconstructions: np.ndarray | None = None
    morph_frames: np.ndarray | None = None


@dataclass(frozen=True)
class Picture:
    """One page picture: its cache key, its path in the site, what it needs, how to draw it.

    A chunk's pictures are declared first; the build asks the cache which are missing and
    computes, on its own thread, only the :class:`PictureInputs` those need. Drawing then only
    draws: the model never runs while drawing, and a rebuild that finds every picture
    computes nothing.
    """

    key: str
    path: str
    needs: frozenset[str]
    draw: Callable[[PictureInputs, Path], None]


def missing_needs(jobs: list[Picture], cache: ResultCache) -> set[str]:
    """What the pictures the cache lacks need computed."""
    return set().union(*(job.needs for job in jobs if not cache.has_picture(job.key, Path(job.path).suffix)))


def draw(jobs: list[Picture], inputs: PictureInputs, site: Path, cache: ResultCache) -> None:
    """Put every picture of ``jobs`` into ``site``: copied from the cache or drawn from ``inputs``."""
    for job in jobs:
        (site / job.path).parent.mkdir(parents=True, exist_ok=True)
        cache.picture(job.key, site / job.path, lambda path, job=job: job.draw(inputs, path))


def page_pictures(gallery: Gallery, chunk: ExplainedChunk) -> list[Picture]:
    """The rest of the story for a chunk of paged images: reconstruction, error, heat-map
    overlays, the shareable collage and the neighbour pair maps."""
    error_top = gallery.error_top
    jobs = []
    for row, index in enumerate(chunk.rows):
        slug = gallery.slugs[index]
        identity = (gallery.model_key, gallery.image_keys[index])
        error = lazy(lambda row=row: colour.colourise(chunk.error_maps[row], 0.0, error_top))
        jobs.append(
            Picture(
                make_key("reconstruction", *identity),
                urls.media(slug, "reconstruction"),
                frozenset({RECONSTRUCTIONS}),
                lambda inputs, path, row=row: save_png(inputs.reconstructions[row], path),
            )
        )
        jobs.append(
            Picture(
                error_picture_key(*identity, error_top),
                urls.media(slug, "error"),
                frozenset(),
                lambda inputs, path, error=error: save_png(error(), path),
            )
        )
        if gallery.explanations:
            jobs += _explanation_pictures(gallery, chunk, row, error_top, error)
    return jobs + cell_pictures(gallery, chunk.rows)


def cell_pictures(gallery: Gallery, rows: np.ndarray) -> list[Picture]:
    """Where the codes of each of images ``rows`` and of each of its neighbours agree: the pair's
    exact cell shares of their similarity (:mod:`aevis.latent.cells`), laid over each of the two
    images, red where a cell adds to the similarity and blue where it takes from it. None unless
    the code is a grid of more than one cell; drawn from the codes, so the model never runs."""
    grid = code_grid(gallery.ae)
    if not shows_places(grid) or gallery.neighbour_indices.size == 0:
        return []
    rows = np.asarray(rows, np.int64)
    cells = neighbour_cells(gallery.codes, gallery.neighbour_indices, rows, grid, gallery.code_centre)
    height, width = gallery.ae.input_spec.height, gallery.ae.input_spec.width
    images = gallery.imageset.images
    jobs = []
    for row, index in enumerate(rows):
        slug = gallery.slugs[index]
        for rank, other in enumerate(gallery.neighbour_indices[index]):
            shares = cells_to_pixels(cells[row, rank], height, width)
            for subject, path in zip((index, other), urls.cell_maps(slug, rank)):
                jobs.append(
                    Picture(
                        make_key("cell overlay", gallery.image_keys[subject], array_hash(shares)),
                        path,
                        frozenset(),
                        lambda inputs, path, picture=images[subject], shares=shares: save_png(
                            colour.overlay(picture, shares, signed=True), path
                        ),
                    )
                )
    return jobs


def _explanation_pictures(gallery: Gallery, chunk: ExplainedChunk, row: int, error_top: float, error) -> list[Picture]:
    """One image's heat-map overlays, its shareable collage, and its neighbour pair maps."""
    explanations = gallery.explanations
    index = int(chunk.rows[row])
    slug = gallery.slugs[index]
    image = gallery.imageset.images[index]
    jobs, overlays, parts = [], [], []
    for method in explanations.methods:
        words = METHOD_WORDS[method]
        picture = lazy(
            lambda method=method, signed=words.signed: colour.overlay(image, chunk.maps[method][row], signed)
        )
        jobs.append(
            Picture(
                make_key("overlay", chunk.map_keys[method][row], words.signed),
                urls.media(slug, method),
                frozenset(),
                lambda inputs, path, picture=picture: save_png(picture(), path),
            )
        )
        overlays.append((words.title, picture))
        parts.append((words.title, chunk.map_keys[method][row], words.signed))

    def collage(inputs: PictureInputs, path: Path) -> None:
        tiles = [("input", image), ("rebuilt", inputs.reconstructions[row]), ("rebuild error", error())]
        sheets.collage(tiles + [(title, picture()) for title, picture in overlays]).save(path)

    jobs.append(
        Picture(
            make_key("collage", gallery.model_key, gallery.image_keys[index], error_top, parts),
            urls.media(slug, "collage"),
            frozenset({RECONSTRUCTIONS}),
            collage,
        )
    )
    if chunk.pair_maps is not None:
        signed = METHOD_WORDS[explanations.pair_method].signed
        for rank, other in enumerate(gallery.neighbour_indices[index]):
            for side, (subject, path) in enumerate(zip((index, other), urls.pair_maps(slug, rank))):
                jobs.append(
                    Picture(
                        make_key("overlay", chunk.pair_keys[row][rank][side], signed),
                        path,
                        frozenset(),
                        lambda inputs, path, picture=gallery.imageset.images[subject], values=chunk.pair_maps[row, rank, side]: (
                            save_png(colour.overlay(picture, values, signed), path)
                        ),
                    )
                )
    return jobs
