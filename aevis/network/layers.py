"""What the pictures need to know of a layer, without the model: its record and which of its
channels to show. Keras-free, so the drawing room can use it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STRONGEST = 3
"""Channels per layer shown on the layer strip: the ones with the highest mean activation."""


@dataclass(frozen=True)
class LayerInfo:
    """One layer whose channels are shown."""

    name: str
    kind: str
    """Keras class name, e.g. 'Conv2D' or 'Dense'."""
    part: str
    """'encoder', 'bottleneck' or 'decoder'."""
    channels: int
    """Channels of a feature map, or units of a Dense layer."""
    map_shape: tuple[int, int] | None
    """(height, width) of each channel's map; None for a layer without a spatial map (Dense)."""
    scale: float | None
    """Input pixels per feature-map cell, input height / map height; None without a map."""


def strongest_channels(maps: np.ndarray, count: int = STRONGEST) -> np.ndarray:
    """Indices of the ``count`` channels of one image's (h, w, channels) map with the highest
    mean activation, strongest first (lower index on a tie)."""
    means = np.asarray(maps, np.float32).reshape(-1, maps.shape[-1]).mean(axis=0)
    return np.argsort(-means, kind="stable")[:count]
