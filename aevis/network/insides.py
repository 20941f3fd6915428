"""Inside the network: what the build gathers about layers and channels for the whole set.

The per-image pictures (activation grids, strips, morphs, sweeps) are declared in
:mod:`aevis.site.network_pictures` and drawn chunk by chunk like the heat-maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aevis._utils.codes import map_blocks
from aevis.latent.neighbours import finite_codes
from aevis.latent.quality import MapQuality
from aevis.model import Autoencoder
from aevis.network import activations, featurevis
from aevis.network.channels import ChannelRanking


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
    map_quality: MapQuality
    clusters: np.ndarray
    """int (N,): each image's k-means cluster of the codes, numbered by size, largest first."""
    cluster_count: int
    map_trust: np.ndarray | None = None
    """float32 (N,): share of each image's nearest codes that are also its map neighbours
    (:func:`aevis.latent.trust.map_trust`)."""
    density: np.ndarray | None = None
    """float32 (N,): each image's local density in code space (:func:`aevis.latent.trust.local_density`)."""


def gather_insides(
    ae: Autoencoder,
    encoded,
    positions: np.ndarray,
    labels,
    seed: int,
    results,
    code_neighbours: tuple[np.ndarray, np.ndarray] | None = None,
) -> Insides:
    """Channel galleries, feature visualizations, the mosaic layout, k-means clusters, map quality
    and each image's map trust and local density.

    Args:
        ae: the autoencoder.
        encoded: every image's :class:`aevis.store.encoding.Encoded` numbers.
        positions: float32 (N, 2) map positions.
        labels: N labels or None.
        seed: seeds the feature visualization and the map-quality sample.
        results: the build's :class:`aevis.store.results.Results`, which reuses what it can.
        code_neighbours: the codes' ``(indices, similarities)``, at least
            :data:`~aevis.latent.quality.QUALITY_K` each, most similar first, where the build
            found them already; None: map trust, density and map quality search themselves.
    """
    codes = finite_codes(encoded.codes)
    bottleneck_values = map_blocks(
        lambda block: activations.channel_means(block.reshape(len(block), *ae.encoder.output.shape[1:])), codes
    )
    channels = featurevis.varied_channels(bottleneck_values)
    feature_pictures, feature_key = results.feature_pictures(channels, seed)
    cells, columns, rows = results.mosaic_cells(positions)
    clusters, cluster_count = results.clusters(codes, seed)
    neighbourhoods = results.neighbourhoods(codes, positions, code_neighbours)
    return Insides(
        rankings=encoded.rankings,
        layers=activations.gallery_layers(ae),
        feature_channels=channels,
        feature_pictures=feature_pictures,
        feature_key=feature_key,
        mosaic_cells=cells,
        mosaic_columns=columns,
        mosaic_rows=rows,
        map_quality=results.map_quality(
            codes, positions, labels, seed, None if code_neighbours is None else code_neighbours[0]
        ),
        clusters=clusters,
        cluster_count=cluster_count,
        map_trust=neighbourhoods["map_trust"],
        density=neighbourhoods["density"],
    )
