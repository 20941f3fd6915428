"""Inside the network: what the build gathers about layers and channels, and the per-image
pictures of activations, morphs and occlusion sweeps.

The per-image pictures are computed and drawn chunk by chunk (:func:`write_image_pictures`),
like the pages' heat-maps: a page's feature maps and morph frames are large (all of them for
320 images would be hundreds of MB), and each is needed for exactly one picture, so they are
made, drawn, and dropped together, and not made at all when the picture cache has the picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aevis.draw import pictures
from aevis.network import activations, featurevis, morphs
from aevis.store.cache import ResultCache, lazy, make_key
from aevis.network.channels import ChannelRanking
from aevis.model import Autoencoder

GALLERY_SIZE = 8
"""Images shown per channel in a channel gallery."""


@dataclass(frozen=True, eq=False)
class Insides:
    """Whole-set findings about the network's layers and the map."""

    rankings: dict[str, ChannelRanking]
    """Gallery layer name -> each channel's top images (and their strongest cells)."""
    layers: tuple
    """:class:`aevis.network.activations.LayerInfo` of every gallery layer, encoder first."""
    feature_channels: np.ndarray
    """Bottleneck channels that got a feature visualization."""
    feature_pictures: np.ndarray | None
    """float32 (K, H, W, C): what each of those channels wants to see."""
    feature_key: str
    """The cache key of those pictures' numbers."""
    mosaic_cells: np.ndarray
    mosaic_columns: int
    mosaic_rows: int
    map_quality: dict


def rank_channels(encoded, k: int = GALLERY_SIZE, chunk: int = 1024) -> dict[str, ChannelRanking]:
    """Each gallery layer's channels' top ``k`` images, from every image's channel means
    (:class:`aevis.store.results.Encoded`), merged ``chunk`` images at a time."""
    rankings = {}
    for name, means in encoded.channel_means.items():
        cells = encoded.channel_cells[name]
        ranking = ChannelRanking(means.shape[1], k)
        for start in range(0, len(means), chunk):
            ranking.add(means[start : start + chunk], start, None if cells is None else cells[start : start + chunk])
        rankings[name] = ranking
    return rankings


def gather_insides(ae: Autoencoder, encoded, positions: np.ndarray, labels, seed: int, results) -> Insides:
    """Channel galleries, feature visualizations, the mosaic layout and map quality.

    Args:
        ae: the autoencoder.
        encoded: every image's :class:`aevis.store.results.Encoded` numbers.
        positions: float32 (N, 2) map positions.
        labels: N labels or None.
        seed: seeds the feature visualization and the map-quality sample.
        results: the build's :class:`aevis.store.results.Results`, which reuses what it can.
    """
    codes = np.nan_to_num(encoded.codes)
    bottleneck_values = activations.channel_means(codes.reshape(len(codes), *ae.encoder.output.shape[1:]))
    channels = featurevis.varied_channels(np.nan_to_num(bottleneck_values))
    feature_pictures, feature_key = results.feature_pictures(channels, seed)
    cells, columns, rows = results.mosaic_cells(positions)
    return Insides(
        rankings=rank_channels(encoded),
        layers=activations.gallery_layers(ae),
        feature_channels=channels,
        feature_pictures=feature_pictures,
        feature_key=feature_key,
        mosaic_cells=cells,
        mosaic_columns=columns,
        mosaic_rows=rows,
        map_quality=results.map_quality(codes, positions, labels, seed),
    )


def write_set_pictures(insides: Insides, images: np.ndarray, image_keys: list[str], site: Path,
                       cache: ResultCache) -> None:
    """The mosaic and the feature visualizations."""
    mosaic_key = make_key(
        "mosaic picture", image_keys, insides.mosaic_cells, insides.mosaic_columns, insides.mosaic_rows,
    )
    cache.picture(mosaic_key, site / "mosaic.png", lambda path: pictures.mosaic_picture(
        images, insides.mosaic_cells, insides.mosaic_columns, insides.mosaic_rows).save(path))
    if insides.feature_pictures is not None:
        folder = site / "media" / "features"
        folder.mkdir(parents=True, exist_ok=True)
        for channel, picture in zip(insides.feature_channels, insides.feature_pictures):
            cache.picture(
                make_key("feature picture", insides.feature_key, int(channel)),
                folder / f"channel-{int(channel)}.png",
                lambda path, picture=picture: pictures.feature_picture(picture).save(path),
            )


def write_image_pictures(gallery, site: Path, chunk, media, cache: ResultCache, reconstructions) -> None:
    """Activation grids, the layer strip, the morph and the occlusion sweep of ``chunk``'s paged images.

    Whatever the cache holds is linked; the feature maps, reconstructions and morph frames are
    computed only when some picture of the chunk is missing, and dropped with the chunk.

    Args:
        gallery: the :class:`aevis.gallery.Gallery`.
        site: the site folder being written.
        chunk: the :class:`aevis.gallery.ExplainedChunk` of a batch's worth of paged images.
        media: ``media(slug, name)`` -> the picture's path relative to the site root.
        cache: where drawn pictures are kept.
        reconstructions: ``reconstructions()`` -> float32 (n, H, W, C) of the chunk, computed once
            when first asked for.
    """
    ae, images, rows = gallery.ae, gallery.imageset.images, chunk.rows
    conv, strip = activations.conv_layers(ae), activations.strip_layers(ae)
    maps = lazy(lambda: activations.feature_maps(ae, images[rows]))
    nearest = gallery.neighbour_indices[rows, 0] if gallery.neighbour_indices.size and ae.decoder is not None else None
    frames = lazy(lambda: morphs.morphs(ae, gallery.codes[rows], gallery.codes[nearest]))
    sweep = _sweep_settings(gallery)
    model, keys = gallery.model_key, gallery.image_keys
    for row, index in enumerate(rows):
        slug = gallery.slugs[index]
        for layer in conv:
            title = f"{layer.name} · {layer.channels} channels"
            cache.picture(
                make_key("activation grid", model, keys[index], layer.name, title),
                site / media(slug, f"act-{layer.name}"),
                lambda path, layer=layer, row=row, title=title: pictures.write_png(
                    pictures.activation_grid(maps()[layer.name][row], title), path),
            )
        cache.picture(
            make_key("layer strip", model, keys[index]),
            site / media(slug, "strip"),
            lambda path, index=index, row=row: pictures.write_png(pictures.layer_strip(
                images[index], reconstructions()[row], strip, {name: values[row] for name, values in maps().items()},
            ), path),
        )
        if nearest is not None:
            other = nearest[row]
            cache.picture(
                make_key("morph", model, keys[index], keys[other]),
                site / gif(media, slug, "morph"),
                lambda path, index=index, row=row, other=other: pictures.morph_gif(
                    images[index], frames()[row], images[other], path),
            )
        if sweep is not None:
            patch, stride, fill = sweep
            cache.picture(
                make_key("sweep", chunk.map_keys["occlusion"][row], patch, stride, fill),
                site / gif(media, slug, "sweep"),
                lambda path, index=index, row=row: pictures.sweep_gif(
                    images[index], chunk.maps["occlusion"][row], patch, stride, path, fill=fill),
            )


def gif(media, slug: str, name: str) -> str:
    """An image's GIF path, relative to the site root, beside its PNGs."""
    return media(slug, name)[: -len(".png")] + ".gif"


def _sweep_settings(gallery) -> tuple[int, int, float] | None:
    """(patch, stride, fill) of the build's occlusion maps, or None without occlusion maps."""
    explanations = gallery.explanations
    if explanations is None or "occlusion" not in explanations.methods:
        return None
    options = explanations.options["occlusion"]
    height = gallery.ae.input_spec.height
    patch = options.get("patch") or math.ceil(height / 8)
    stride = options.get("stride") or math.ceil(patch / 2)
    return patch, stride, options.get("fill", 0.5)
