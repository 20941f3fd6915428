"""Encoding the set: one pass of the model over every image gives its code, its reconstruction
error and what the channel galleries keep of its activations (:class:`Encoded`), each image
cached on its own and the whole set as one entry."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aevis._utils import codes as stored_codes
from aevis._utils.codes import CodeFile
from aevis._utils.keys import array_hash, encoded_key, make_key
from aevis.data.imageset import sample_positions
from aevis.latent.strangeness import image_errors
from aevis.methods.reconstruction_error import squared_error
from aevis.model import Autoencoder
from aevis.network import activations
from aevis.network.channels import ChannelRanking
from aevis.store.cache import ResultCache


@dataclass(frozen=True, eq=False)
class Encoded:
    """What one pass of the model tells about every image, in manifest order.

    Each image's reconstruction error map is not kept (at 100,000 images of 64 × 64 they would
    take 1.6 GB): its mean is, and the maps of an evenly spread sample, which set the colour
    scale of every error picture. :meth:`Results.error_maps` gives any image's map again.
    """

    codes: np.ndarray | CodeFile
    """float32 (N, D): flattened bottleneck activations; in a file above
    :data:`aevis._utils.codes.IN_MEMORY_LIMIT` bytes (index it as an array)."""
    code_keys: list[str]
    """Content hash of each code (the key part of anything explained against it)."""
    errors: np.ndarray
    """float32 (N,): each image's reconstruction error, the mean of its error map (NaN for a
    flagged image): what the pages print, the map colours by and the ranking sorts."""
    error_sample: np.ndarray
    """float32 (S, H, W): the error maps of :data:`ERROR_SAMPLE` images spread evenly over the set
    (all of them in a smaller set), for the error pictures' colour scale."""
    reconstruction_finite: np.ndarray
    """bool (N,): whether every value of the reconstruction is finite."""
    rankings: dict[str, ChannelRanking]
    """Gallery layer name -> each channel's top images by mean activation, with their strongest
    cells (none for a flat layer): ranked as the images are encoded, so that no (N, channels)
    array is held (at 100,000 images of the seed model they took 0.9 GB)."""


ERROR_SAMPLE = 2000
"""Error maps kept for the colour scale (:attr:`Encoded.error_sample`)."""


def _set_arrays(encoded: Encoded, layers) -> dict[str, np.ndarray]:
    """:class:`Encoded` but its codes as the named arrays of one cache entry (layers in gallery
    order); the codes are stored beside them, to be read in place when large."""
    arrays = {
        "code_keys": np.array(encoded.code_keys),
        "errors": encoded.errors,
        "error_sample": encoded.error_sample,
        "finite": encoded.reconstruction_finite,
    }
    for number, layer in enumerate(layers):
        for name, values in encoded.rankings[layer.name].arrays().items():
            arrays[f"ranking-{number}-{name}"] = values
    return arrays


def _set_from_arrays(arrays: dict[str, np.ndarray], codes, layers) -> Encoded:
    """The :class:`Encoded` that :func:`_set_arrays` stored, with its codes."""
    return Encoded(
        codes,
        [str(key) for key in arrays["code_keys"]],
        arrays["errors"],
        arrays["error_sample"],
        arrays["finite"],
        {
            layer.name: ChannelRanking.from_arrays(
                {
                    name.rpartition("-")[2]: values
                    for name, values in arrays.items()
                    if name.startswith(f"ranking-{number}-")
                }
            )
            for number, layer in enumerate(layers)
        },
    )


class _Rankings:
    """Every gallery layer's :class:`ChannelRanking`, fed image by image with an encoded entry's
    ``means`` (each layer's channel means, end to end) and ``cells`` (the strongest cells of the
    layers with places, end to end), merged :data:`RANK_CHUNK` images at a time."""

    def __init__(self, layers) -> None:
        self._layers = layers
        self._rankings = {layer.name: ChannelRanking(layer.channels) for layer in layers}
        self._rows, self._means, self._cells = [], [], []

    def keep(self, index: int, entry: dict) -> None:
        self._rows.append(index)
        self._means.append(entry["means"])
        if "cells" in entry:
            self._cells.append(entry["cells"])
        if len(self._rows) >= RANK_CHUNK:
            self._merge()

    def rankings(self) -> dict[str, ChannelRanking]:
        self._merge()
        return self._rankings

    def _merge(self) -> None:
        if not self._rows:
            return
        means, cells = np.stack(self._means), np.stack(self._cells) if self._cells else None
        first = first_cell = 0
        for layer in self._layers:
            layer_cells = None
            if layer.map_shape:
                layer_cells = cells[:, first_cell : first_cell + layer.channels]
                first_cell += layer.channels
            self._rankings[layer.name].add(means[:, first : first + layer.channels], self._rows, layer_cells)
            first += layer.channels
        self._rows, self._means, self._cells = [], [], []


RANK_CHUNK = 1024
"""Images whose channel means are merged into the rankings at once."""


def encode(
    ae: Autoencoder,
    images,
    cache: ResultCache,
    model_key: str,
    image_keys: list[str],
    batch_size: int,
    on_progress=None,
) -> Encoded:
    """Codes, reconstruction errors and gallery-layer activations of every image, through the
    cache; ``image_keys`` are the images' content hashes, ``model_key`` the model's identity
    (:attr:`aevis.store.results.Results.model_key`).

    Looked up first as one entry for the whole set, so that an unchanged rebuild reads one
    file rather than one per image (at 100,000 images those reads alone took minutes); then
    image by image, so that a changed image recomputes only itself.
    """
    layers = activations.gallery_layers(ae)
    key = _set_key(model_key, image_keys)
    whole = cache.arrays("encoded set", key)
    codes = None if whole is None else cache.codes("encoded set", key, counted=False)
    if codes is None:
        encoded = _encode_each(ae, images, cache, model_key, image_keys, batch_size, layers, on_progress)
        cache.put_arrays("encoded set", key, _set_arrays(encoded, layers))
        cache.put_codes("encoded set", key, encoded.codes)
        return encoded
    if on_progress:
        on_progress(len(images))
    return _set_from_arrays(whole, codes, layers)


def has_encoded_set(cache: ResultCache, model_key: str, image_keys: list[str]) -> bool:
    """Whether the whole set's encodings are in the cache (:func:`encode` will read them)."""
    return cache.arrays("encoded set", _set_key(model_key, image_keys), counted=False) is not None


def encode_into_cache(
    ae: Autoencoder, images, cache: ResultCache, model_key: str, image_keys: list[str], batch_size: int
) -> None:
    """Each image's encoding into the cache, as :func:`encode` makes it, without the whole set's
    entry: a cluster worker's shard (:mod:`aevis.cluster`)."""
    _encode_each(ae, images, cache, model_key, image_keys, batch_size, activations.gallery_layers(ae), None)


def _set_key(model_key: str, image_keys: list[str]) -> str:
    return make_key("encoded set", model_key, image_keys)


def _encode_each(
    ae: Autoencoder, images, cache: ResultCache, model_key: str, image_keys: list[str], size: int, layers, on_progress
) -> Encoded:
    """:func:`encode`, image by image through the cache."""
    count = len(images)
    height, width = ae.input_spec.height, ae.input_spec.width
    codes = stored_codes.allocate((count, ae.code_size))
    errors = np.empty(count, np.float32)
    sampled = sample_positions(count, ERROR_SAMPLE)
    sample_slot = dict(zip(sampled.tolist(), range(len(sampled))))
    error_sample = np.empty((len(sampled), height, width), np.float32)
    finite = np.empty(count, bool)
    rankings = _Rankings(layers)

    def keep(index: int, entry: dict) -> None:
        codes[index], errors[index], finite[index] = (
            entry["code"],
            image_errors(entry["error"][None])[0],
            entry["finite"],
        )
        if index in sample_slot:
            error_sample[sample_slot[index]] = entry["error"]
        rankings.keep(index, entry)

    keys = [encoded_key(model_key, image) for image in image_keys]
    missing = []
    for index, key in enumerate(keys):
        entry = cache.arrays("encoded", key)
        if entry is None:
            missing.append(index)
            continue
        keep(index, entry)
        if on_progress:
            on_progress(1)
    for start in range(0, len(missing), size):
        rows = missing[start : start + size]
        batch = images[rows]
        maps, reconstructions = activations.feature_maps_and_rebuilds(ae, batch, layers, size)
        batch_codes = maps[ae.bottleneck].reshape(len(rows), -1)  # the bottleneck is a gallery layer
        batch_errors = squared_error(batch, reconstructions)
        # All layers' numbers in one array each: an entry of a few arrays is written in a
        # third of the time of one with two per layer (0.26 ms against 0.69 ms, 15 arrays).
        batch_means = np.concatenate([activations.channel_means(maps[layer.name]) for layer in layers], axis=1)
        placed = [activations.argmax_cells(maps[layer.name]) for layer in layers if layer.map_shape]
        batch_cells = np.concatenate(placed, axis=1) if placed else None
        for row, index in enumerate(rows):
            entry = {
                "code": batch_codes[row],
                "error": batch_errors[row],
                "finite": np.isfinite(reconstructions[row]).all(),
                "means": batch_means[row],
            }
            if batch_cells is not None:
                entry["cells"] = batch_cells[row]
            cache.put_arrays("encoded", keys[index], entry)
            keep(index, entry)
        if on_progress:
            on_progress(len(rows))
    return Encoded(codes, [array_hash(code) for code in codes], errors, error_sample, finite, rankings.rankings())


def error_maps(
    ae: Autoencoder, images, cache: ResultCache, model_key: str, image_keys: list[str], batch_size: int, rows
) -> np.ndarray:
    """The reconstruction error maps of images ``rows``, float32 (n, H, W): from the cache
    where :func:`encode` left them (not counted again), else rebuilt."""
    rows = np.asarray(rows, np.int64).reshape(-1)
    maps = np.empty((len(rows), ae.input_spec.height, ae.input_spec.width), np.float32)
    missing = []
    for row, index in enumerate(rows):
        entry = cache.arrays("encoded", encoded_key(model_key, image_keys[index]), counted=False)
        if entry is None:
            missing.append(row)
        else:
            maps[row] = entry["error"]
    if missing:  # rebuilt by the very pass encode() makes, so cached or not they agree to the bit
        batch = images[rows[missing]]
        _, rebuilt = activations.feature_maps_and_rebuilds(ae, batch, activations.gallery_layers(ae), batch_size)
        maps[missing] = squared_error(batch, rebuilt)
    return maps
