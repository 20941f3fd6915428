"""The site's pictures of the inside of the network: per page, activation grids, the layer strip,
the latent morph and the occlusion sweep (declared as :class:`~aevis.site.pictures.Picture`
jobs, drawn from precomputed inputs); for the whole set, the mosaic and the feature
visualizations.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aevis._utils.keys import make_key
from aevis.draw import animations, network
from aevis.draw.pixels import write_png
from aevis.draw.sheets import mosaic_picture
from aevis.methods.occlusion import occlusion_geometry
from aevis.network import activations
from aevis.site import urls
from aevis.site.pictures import FEATURE_MAPS, MORPH_FRAMES, RECONSTRUCTIONS, Picture
from aevis.store.cache import ResultCache


def image_pictures(gallery, chunk) -> list[Picture]:
    """Every network picture of ``chunk``'s paged images.

    Args:
        gallery: the :class:`aevis.gallery.Gallery`.
        chunk: the :class:`aevis.gallery.ExplainedChunk` of a batch of paged images.
    """
    ae, images, rows = gallery.ae, gallery.imageset.images, chunk.rows
    conv, strip = activations.conv_layers(ae), activations.strip_layers(ae)
    partners = morph_partners(gallery, rows)
    sweep = _sweep_settings(gallery)
    model, keys = gallery.model_key, gallery.image_keys
    jobs = []
    for row, index in enumerate(rows):
        slug = gallery.slugs[index]
        for layer in conv:
            title = f"{layer.name} · {layer.channels} channels"
            jobs.append(
                Picture(
                    make_key("activation grid", model, keys[index], layer.name, title),
                    urls.media(slug, f"act-{layer.name}"),
                    frozenset({FEATURE_MAPS}),
                    lambda inputs, path, layer=layer, row=row, title=title: write_png(
                        network.activation_grid(inputs.feature_maps[layer.name][row], title), path
                    ),
                )
            )
        jobs.append(
            Picture(
                make_key("layer strip", model, keys[index]),
                urls.media(slug, "strip"),
                frozenset({FEATURE_MAPS, RECONSTRUCTIONS}),
                lambda inputs, path, index=index, row=row: write_png(
                    network.layer_strip(
                        images[index],
                        inputs.reconstructions[row],
                        strip,
                        {name: values[row] for name, values in inputs.feature_maps.items()},
                    ),
                    path,
                ),
            )
        )
        if partners is not None:
            other = partners[row]
            jobs.append(
                Picture(
                    make_key("morph", model, keys[index], keys[other]),
                    urls.animation(slug, "morph"),
                    frozenset({MORPH_FRAMES}),
                    lambda inputs, path, index=index, row=row, other=other: animations.morph_gif(
                        images[index], inputs.morph_frames[row], images[other], path
                    ),
                )
            )
        if sweep is not None:
            patch, stride, fill = sweep
            jobs.append(
                Picture(
                    make_key("sweep", chunk.map_keys["occlusion"][row], patch, stride, fill),
                    urls.animation(slug, "sweep"),
                    frozenset(),
                    lambda inputs, path, index=index, row=row, patch=patch, stride=stride, fill=fill: (
                        animations.sweep_gif(
                            images[index], chunk.maps["occlusion"][row], patch, stride, path, fill=fill
                        )
                    ),
                )
            )
    return jobs


def morph_partners(gallery, rows: np.ndarray) -> np.ndarray | None:
    """Each paged image's nearest neighbour, which its morph travels to; None when there is no
    morph (no neighbours, or no decoder that runs alone)."""
    if not gallery.neighbour_indices.size or gallery.ae.decoder is None:
        return None
    return gallery.neighbour_indices[rows, 0]


def write_set_pictures(insides, images: np.ndarray, image_keys: list[str], site: Path, cache: ResultCache) -> None:
    """The mosaic and the feature visualizations."""
    mosaic_key = make_key(
        "mosaic picture",
        image_keys,
        insides.mosaic_cells,
        insides.mosaic_columns,
        insides.mosaic_rows,
    )
    cache.picture(
        mosaic_key,
        site / urls.MOSAIC,
        lambda path: mosaic_picture(images, insides.mosaic_cells, insides.mosaic_columns, insides.mosaic_rows).save(
            path
        ),
    )
    for channel, picture in zip(
        insides.feature_channels, insides.feature_pictures if insides.feature_pictures is not None else ()
    ):
        target = site / urls.feature(int(channel))
        target.parent.mkdir(parents=True, exist_ok=True)
        cache.picture(
            make_key("feature picture", insides.feature_key, int(channel)),
            target,
            lambda path, picture=picture: network.feature_picture(picture).save(path),
        )


def _sweep_settings(gallery) -> tuple[int, int, float] | None:
    """(patch, stride, fill) of the build's occlusion maps, or None without occlusion maps."""
    explanations = gallery.explanations
    if explanations is None or "occlusion" not in explanations.methods:
        return None
    options = explanations.options["occlusion"]
    return occlusion_geometry(
        gallery.ae.input_spec.height, options.get("patch"), options.get("stride"), options.get("fill")
    )
