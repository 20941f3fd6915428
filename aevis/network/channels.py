"""Which images make each channel fire most: the "dataset examples" of a channel gallery.

Pure NumPy. :class:`ChannelRanking` ranks (N, channels) values chunk by chunk, so the set never
has to fit in memory, and gives the same answer whatever the chunk size.
"""

from __future__ import annotations

import numpy as np

TOP_IMAGES = 8
"""Images shown per channel."""


class ChannelRanking:
    """Streaming top-``k`` images per channel, with an optional payload per winner.

    Call :meth:`add` with each chunk's (n, channels) values and the indices of its images;
    chunks may come in any order. ``cells`` (n, channels, 2) is carried along with the winners
    (the strongest cell of each map, for the outline box).
    """

    def __init__(self, channels: int, k: int = TOP_IMAGES):
        self.channels = int(channels)
        self.k = int(k)
        self.indices = np.empty((self.channels, 0), np.int64)
        self.values = np.empty((self.channels, 0), np.float32)
        self.cells: np.ndarray | None = None
        """int32 (channels, k, 2) or None when no cells were given."""

    def add(self, values: np.ndarray, rows, cells: np.ndarray | None = None) -> None:
        """Merge one chunk: ``values`` (n, channels) of the images ``rows`` (n indices, or the
        first of n consecutive ones)."""
        values = np.asarray(values, np.float32)
        if values.ndim != 2 or values.shape[1] != self.channels:
            raise ValueError(f"Expected values of shape (n, {self.channels}), got {values.shape}.")
        count = len(values)
        rows = np.arange(rows, rows + count) if np.ndim(rows) == 0 else np.asarray(rows)
        indices = np.broadcast_to(rows.astype(np.int64)[None, :], (self.channels, count))
        merged_indices = np.concatenate([self.indices, indices], axis=1)
        merged_values = np.concatenate([self.values, values.T], axis=1)
        # Highest value first; on equal values the lower image index (lexsort: last key is primary).
        order = np.lexsort((merged_indices, -merged_values), axis=1)[:, : self.k]
        if cells is not None:
            cells = np.asarray(cells, np.int32).transpose(1, 0, 2)  # (channels, n, 2)
            previous = self.cells if self.cells is not None else np.empty((self.channels, 0, 2), np.int32)
            merged_cells = np.concatenate([previous, cells], axis=1)
            self.cells = np.take_along_axis(merged_cells, order[..., None], axis=1)
        self.indices = np.take_along_axis(merged_indices, order, axis=1)
        self.values = np.take_along_axis(merged_values, order, axis=1)

    def arrays(self) -> dict[str, np.ndarray]:
        """The winners as named arrays, for the result cache (:meth:`from_arrays` reads them)."""
        kept = {"indices": self.indices, "values": self.values}
        return kept if self.cells is None else {**kept, "cells": self.cells}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], k: int = TOP_IMAGES) -> ChannelRanking:
        """The ranking of top ``k`` that :meth:`arrays` gave."""
        ranking = cls(len(arrays["indices"]), k)
        ranking.indices, ranking.values, ranking.cells = arrays["indices"], arrays["values"], arrays.get("cells")
        return ranking
