"""Inside the network: what the build gathers about layers and channels, and the per-image
pictures of activations, morphs and occlusion sweeps.

The per-image pictures are computed and drawn chunk by chunk (:func:`write_image_pictures`),
unlike everything else, which is gathered first and drawn after: a page's feature maps and
morph frames are large (all of them for 320 images would be hundreds of MB), and each is
needed for exactly one picture, so they are made, drawn, and dropped together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aevis import activations, featurevis, mapquality, morphs, mosaic, pictures
from aevis.channels import ChannelRanking
from aevis.model import Autoencoder

GALLERY_SIZE = 8
"""Images shown per channel in a channel gallery."""


@dataclass(frozen=True, eq=False)
class Insides:
    """Whole-set findings about the network's layers and the map."""

    rankings: dict[str, ChannelRanking]
    """Gallery layer name -> each channel's top images (and their strongest cells)."""
    layers: tuple
    """:class:`aevis.activations.LayerInfo` of every gallery layer, encoder first."""
    feature_channels: np.ndarray
    """Bottleneck channels that got a feature visualization."""
    feature_pictures: np.ndarray | None
    """float32 (K, H, W, C): what each of those channels wants to see."""
    mosaic_cells: np.ndarray
    mosaic_columns: int
    mosaic_rows: int
    map_quality: dict


def gather_insides(ae: Autoencoder, images: np.ndarray, codes: np.ndarray, positions: np.ndarray,
                   labels, seed: int, batch_size: int, on_progress=None) -> Insides:
    """Channel galleries, feature visualizations, the mosaic layout and map quality."""
    rankings = activations.channel_rankings(ae, images, GALLERY_SIZE, batch_size, on_progress)
    bottleneck_values = activations.channel_means(codes.reshape(len(codes), *ae.encoder.output.shape[1:]))
    channels = featurevis.varied_channels(np.nan_to_num(bottleneck_values))
    cells, columns, rows = mosaic.grid_cells(positions)
    return Insides(
        rankings=rankings,
        layers=activations.gallery_layers(ae),
        feature_channels=channels,
        feature_pictures=featurevis.visualize(ae, channels, seed=seed) if len(channels) else None,
        mosaic_cells=cells,
        mosaic_columns=columns,
        mosaic_rows=rows,
        map_quality=mapquality.map_quality(codes, positions, labels, seed=seed),
    )


def write_set_pictures(insides: Insides, images: np.ndarray, site: Path) -> None:
    """The mosaic and the feature visualizations."""
    pictures.mosaic_picture(images, insides.mosaic_cells, insides.mosaic_columns, insides.mosaic_rows).save(
        site / "mosaic.png"
    )
    if insides.feature_pictures is not None:
        folder = site / "media" / "features"
        folder.mkdir(parents=True, exist_ok=True)
        for channel, picture in zip(insides.feature_channels, insides.feature_pictures):
            pictures.feature_picture(picture).save(folder / f"channel-{int(channel)}.png")


def write_image_pictures(gallery, site: Path, chunk: np.ndarray, media) -> None:
    """Activation grids, the layer strip, the morph and the occlusion sweep of ``chunk``'s paged images.

    Args:
        gallery: the :class:`aevis.gallery.Gallery`.
        site: the site folder being written.
        chunk: indices (into the whole set) of paged images, a batch's worth.
        media: ``media(slug, name)`` -> the picture's path relative to the site root.
    """
    ae, images = gallery.ae, gallery.imageset.images
    maps = activations.feature_maps(ae, images[chunk])
    conv, strip = activations.conv_layers(ae), activations.strip_layers(ae)
    nearest = gallery.neighbour_indices[chunk, 0] if gallery.neighbour_indices.size else None
    frames = morphs.morphs(ae, gallery.codes[chunk], gallery.codes[nearest]) if nearest is not None else None
    sweep = _sweep_settings(gallery)
    position_of = {int(index): position for position, index in enumerate(gallery.paged)}
    for row, index in enumerate(chunk):
        slug = gallery.slugs[index]
        for layer in conv:
            grid = pictures.activation_grid(maps[layer.name][row], f"{layer.name} · {layer.channels} channels")
            pictures.write_png(grid, site / media(slug, f"act-{layer.name}"))
        one = {name: values[row] for name, values in maps.items()}
        pictures.write_png(
            pictures.layer_strip(images[index], gallery.reconstructions[index], strip, one),
            site / media(slug, "strip"),
        )
        if frames is not None:
            pictures.morph_gif(images[index], frames[row], images[nearest[row]], site / gif(media, slug, "morph"))
        if sweep is not None:
            patch, stride, fill = sweep
            heat = gallery.explanations.maps["occlusion"][position_of[int(index)]]
            pictures.sweep_gif(images[index], heat, patch, stride, site / gif(media, slug, "sweep"), fill=fill)


def gif(media, slug: str, name: str) -> str:
    """An image's GIF path, relative to the site root, beside its PNGs."""
    return media(slug, name)[: -len(".png")] + ".gif"


def _sweep_settings(gallery) -> tuple[int, int, float] | None:
    """(patch, stride, fill) of the build's occlusion maps, or None without occlusion maps."""
    explanations = gallery.explanations
    if explanations is None or "occlusion" not in explanations.maps:
        return None
    options = explanations.options["occlusion"]
    height = gallery.ae.input_spec.height
    patch = options.get("patch") or math.ceil(height / 8)
    stride = options.get("stride") or math.ceil(patch / 2)
    return patch, stride, options.get("fill", 0.5)
