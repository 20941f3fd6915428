"""Where a build's numbers come from: the result cache, or the model when the cache lacks them.

Each call here gives the numbers the plain computation gives, but looks every result up in the
:class:`~aevis.store.cache.ResultCache` first and computes only the missing ones. Per-image results
(codes, reconstruction errors, channel activations, heat-maps, pair maps) are keyed by the
image's own pixels, so changing one image recomputes that image only; whole-set results
(neighbours, the t-SNE map, faithfulness, feature visualization, map quality) are keyed by
everything they read, so they follow any change of their inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from aevis import faithfulness
from aevis.data.imageset import sample_positions
from aevis.faithfulness.cells import cell_deletion
from aevis.faithfulness.randomization import CascadeStep, randomization_cascade
from aevis.latent import mosaic, quality, trust
from aevis.latent.clusters import CLUSTERS, kmeans_clusters
from aevis.latent.map import TSNE, TSNE_LIBRARY, code_map, map_kind
from aevis.latent.neighbours import (
    PROVEN_UP_TO,
    RECALL_SAMPLE,
    finite_codes,
    mean_code,
    nearest_neighbours,
    neighbour_recall,
)
from aevis.latent.strangeness import image_errors
from aevis.methods import explain
from aevis.methods.reconstruction_error import squared_error
from aevis.model import Autoencoder
from aevis.memory import rows_within
from aevis.network import activations, featurevis, morphs
from aevis.network.channels import ChannelRanking
from aevis.store import codes as stored_codes
from aevis.store.cache import ResultCache, array_hash, make_key
from aevis.store.codes import CodeFile


@dataclass(frozen=True, eq=False)
class Encoded:
    """What one pass of the model tells about every image, in manifest order.

    Each image's reconstruction error map is not kept (at 100,000 images of 64 × 64 they would
    take 1.6 GB): its mean is, and the maps of an evenly spread sample, which set the colour
    scale of every error picture. :meth:`Results.error_maps` gives any image's map again.
    """

    codes: np.ndarray | CodeFile
    """float32 (N, D): flattened bottleneck activations; in a file above
    :data:`aevis.store.codes.IN_MEMORY_LIMIT` bytes (index it as an array)."""
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
    arrays = {"code_keys": np.array(encoded.code_keys), "errors": encoded.errors,
              "error_sample": encoded.error_sample, "finite": encoded.reconstruction_finite}
    for number, layer in enumerate(layers):
        for name, values in encoded.rankings[layer.name].arrays().items():
            arrays[f"ranking-{number}-{name}"] = values
    return arrays


def _set_from_arrays(arrays: dict[str, np.ndarray], codes, layers) -> Encoded:
    """The :class:`Encoded` that :func:`_set_arrays` stored, with its codes."""
    return Encoded(
        codes, [str(key) for key in arrays["code_keys"]], arrays["errors"], arrays["error_sample"],
        arrays["finite"],
        {layer.name: ChannelRanking.from_arrays({name.rpartition("-")[2]: values for name, values in arrays.items()
                                                 if name.startswith(f"ranking-{number}-")})
         for number, layer in enumerate(layers)},
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
_EXPLAINED_BYTES = 128 * 2**20  # images and reference codes one explain() call is given


class Results:
    """The cached computations of one build, for one model and one set of images.

    Args:
        ae: the autoencoder; a model never saved to a file (``ae.sha256`` None) is never cached.
        images: float32 (N, H, W, C) in [0, 1], manifest order.
        cache: where results are kept.
        batch_size: images per model call (part of every key, with the model's identity).
    """

    def __init__(self, ae: Autoencoder, images: np.ndarray, cache: ResultCache, batch_size: int) -> None:
        self.ae = ae
        self.images = images
        self.cache = cache if ae.sha256 is not None else ResultCache(None)
        self.batch_size = batch_size
        self.model_key = make_key(
            "model", ae.sha256, ae.bottleneck, ae.input_spec.scales.input, ae.input_spec.scales.output,
            keras.__version__, batch_size,
        )
        self.image_keys = [array_hash(image) for image in images]
        self._encoded: Encoded | None = None
        self._hashes: dict[int, tuple[object, str]] = {}

    # ------------------------------------------------------------------ per image

    def encode(self, on_progress=None) -> Encoded:
        """Codes, reconstruction errors and gallery-layer activations of every image.

        Looked up first as one entry for the whole set, so that an unchanged rebuild reads one
        file rather than one per image (at 100,000 images those reads alone took minutes); then
        image by image, so that a changed image recomputes only itself.
        """
        layers = activations.gallery_layers(self.ae)
        key = make_key("encoded set", self.model_key, self.image_keys)
        whole = self.cache.arrays("encoded set", key)
        codes = None if whole is None else self.cache.codes("encoded set", key, counted=False)
        if codes is None:
            self._encoded = self._encode_each(layers, on_progress)
            self.cache.put_arrays("encoded set", key, _set_arrays(self._encoded, layers))
            self.cache.put_codes("encoded set", key, self._encoded.codes)
        else:
            self._encoded = _set_from_arrays(whole, codes, layers)
            if on_progress:
                on_progress(len(self.images))
        return self._encoded

    def has_encoded_set(self) -> bool:
        """Whether the whole set's encodings are in the cache (:meth:`encode` will read them)."""
        key = make_key("encoded set", self.model_key, self.image_keys)
        return self.cache.arrays("encoded set", key, counted=False) is not None

    def encode_into_cache(self) -> None:
        """Each image's encoding into the cache, as :meth:`encode` makes it, without the whole
        set's entry: a cluster worker's shard (:mod:`aevis.cluster`)."""
        self._encode_each(activations.gallery_layers(self.ae), None)

    def use_codes(self, codes: np.ndarray, code_keys: list[str]) -> None:
        """Explain against ``codes`` (these images' codes, and their keys, found elsewhere)
        without encoding: a cluster worker explains a chunk against the coordinator's codes."""
        empty = np.empty(0, np.float32)
        self._encoded = Encoded(codes, list(code_keys), empty, empty, np.empty(0, bool), {})

    def _encode_each(self, layers, on_progress) -> Encoded:
        """:meth:`encode`, image by image through the cache."""
        ae, count, size = self.ae, len(self.images), self.batch_size
        height, width = ae.input_spec.height, ae.input_spec.width
        codes = stored_codes.allocate((count, ae.code_size))
        errors = np.empty(count, np.float32)
        sampled = sample_positions(count, ERROR_SAMPLE)
        sample_slot = dict(zip(sampled.tolist(), range(len(sampled))))
        error_sample = np.empty((len(sampled), height, width), np.float32)
        finite = np.empty(count, bool)
        rankings = _Rankings(layers)

        def keep(index: int, entry: dict) -> None:
            codes[index], errors[index], finite[index] = entry["code"], image_errors(entry["error"][None])[0], entry["finite"]
            if index in sample_slot:
                error_sample[sample_slot[index]] = entry["error"]
            rankings.keep(index, entry)

        keys = [make_key("encoded", self.model_key, image) for image in self.image_keys]
        missing = []
        for index, key in enumerate(keys):
            entry = self.cache.arrays("encoded", key)
            if entry is None:
                missing.append(index)
                continue
            keep(index, entry)
            if on_progress:
                on_progress(1)
        for start in range(0, len(missing), size):
            rows = missing[start : start + size]
            batch = self.images[rows]
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
                self.cache.put_arrays("encoded", keys[index], entry)
                keep(index, entry)
            if on_progress:
                on_progress(len(rows))
        return Encoded(codes, [array_hash(code) for code in codes], errors, error_sample, finite,
                       rankings.rankings())

    def error_maps(self, rows) -> np.ndarray:
        """The reconstruction error maps of images ``rows``, float32 (n, H, W): from the cache
        where :meth:`encode` left them (not counted again), else rebuilt."""
        rows = np.asarray(rows, np.int64).reshape(-1)
        maps = np.empty((len(rows), self.ae.input_spec.height, self.ae.input_spec.width), np.float32)
        missing = []
        for row, index in enumerate(rows):
            entry = self.cache.arrays("encoded", make_key("encoded", self.model_key, self.image_keys[index]), counted=False)
            if entry is None:
                missing.append(row)
            else:
                maps[row] = entry["error"]
        if missing:  # rebuilt by the very pass encode() makes, so cached or not they agree to the bit
            batch = self.images[rows[missing]]
            _, rebuilt = activations.feature_maps_and_rebuilds(
                self.ae, batch, activations.gallery_layers(self.ae), self.batch_size)
            maps[missing] = squared_error(batch, rebuilt)
        return maps

    def reconstructions(self, rows: np.ndarray) -> np.ndarray:
        """Reconstructions of images ``rows``, float32 (n, H, W, C): computed, never stored
        (a page's pictures need them, and those pictures are cached themselves)."""
        return self.ae.reconstruct(self.images[rows], self.batch_size)

    def feature_maps(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Every convolution's and the code's activations for images ``rows`` (see
        :func:`aevis.network.activations.feature_maps`): computed, never stored."""
        return activations.feature_maps(self.ae, self.images[rows])

    def morph_frames(self, rows: np.ndarray, partners: np.ndarray) -> np.ndarray:
        """Decoded frames from each image's code to its partner's (see
        :func:`aevis.network.morphs.morphs`): computed, never stored."""
        codes = self._need_encoded().codes
        return morphs.morphs(self.ae, codes[rows], codes[partners])

    def maps(self, rows: np.ndarray, method: str, target: str, options: dict,
             reference_rows: np.ndarray | None = None, kind: str | None = None) -> tuple[np.ndarray, list[str]]:
        """Heat-maps of images ``rows`` by ``method``, float32 (n, H, W), and their keys.

        ``reference_rows`` (for the ``neighbour`` target): whose code each image is explained
        against. ``kind`` names the results in the cache's counts (default: the method).
        """
        encoded = self._need_encoded()
        rows = np.asarray(rows, np.int64)
        references = None if reference_rows is None else np.asarray(reference_rows, np.int64)
        keys = [
            make_key(
                "map", self.model_key, self.image_keys[index], method, target, options,
                None if references is None else encoded.code_keys[references[row]],
            )
            for row, index in enumerate(rows)
        ]
        kind = kind or method
        height, width = self.ae.input_spec.height, self.ae.input_spec.width
        maps = np.empty((len(rows), height, width), np.float32)
        slots: dict[str, list[int]] = {}  # the same map may be asked for twice (mutual neighbours)
        for row, key in enumerate(keys):
            slots.setdefault(key, []).append(row)
        missing = []
        for key, same in slots.items():
            entry = self.cache.arrays(kind, key)
            if entry is None:
                missing.append(same[0])
            else:
                maps[same] = entry["map"]
        # A few at a time where images and codes are large: each call holds its images, and the
        # target its reference codes, at 4.7 MB a code for a 540×540 model's 270×270×16.
        per_call = rows_within(self.images[0].nbytes + 2 * 4 * self.ae.code_size, _EXPLAINED_BYTES)
        for start in range(0, len(missing), per_call):
            these = missing[start : start + per_call]
            extra = {} if references is None else {"reference_codes": encoded.codes[references[these]]}
            computed = explain(self.ae, self.images[rows[these]], method, target, **extra, **options)
            for row, values in zip(these, computed):
                maps[slots[keys[row]]] = values
                self.cache.put_arrays(kind, keys[row], {"map": values})
        return maps, keys

    def pair_maps(self, rows: np.ndarray, neighbours: np.ndarray, method: str,
                  options: dict) -> tuple[np.ndarray, list[list[list[str]]]]:
        """Each image of ``rows`` against each of its ``neighbours``' codes, and back.

        Returns float32 (n, K, 2, H, W) — [p, k, 0]: image p against neighbour k's code,
        [p, k, 1]: neighbour k against image p's code — and the keys, nested the same way.
        """
        count, k = neighbours.shape
        here, there = np.repeat(rows, k), neighbours.reshape(-1)
        maps, keys = self.maps(
            np.concatenate([here, there]), method, "neighbour", options,
            reference_rows=np.concatenate([there, here]), kind=f"{method}__pair",
        )
        height, width = maps.shape[1:]
        maps = maps.reshape(2, count, k, height, width).transpose(1, 2, 0, 3, 4)
        keys = [[[keys[p * k + r], keys[count * k + p * k + r]] for r in range(k)] for p in range(count)]
        return maps, keys

    # ------------------------------------------------------------------ whole set

    def _codes_hash(self, codes) -> str:
        """:func:`array_hash` of ``codes``, worked out once for each codes object the build
        passes (they are never changed): at 100,000 codes each hash reads 1.6 GB, six times over."""
        known = self._hashes.get(id(codes))
        if known is None or known[0] is not codes:  # an id is reused only once its object is gone
            known = self._hashes[id(codes)] = (codes, array_hash(codes))
        return known[1]

    def neighbours(self, codes: np.ndarray, k: int, centre: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:func:`aevis.latent.neighbours.nearest_neighbours` of ``codes`` less ``centre`` (by
        default their mean, :func:`~aevis.latent.neighbours.mean_code`: the gallery's
        similarity), keyed by the codes and the centre."""
        centre = mean_code(codes) if centre is None else centre
        key = make_key("neighbours", self._codes_hash(codes), k, "centred", array_hash(centre))
        entry = self.cache.arrays("neighbours", key)
        if entry is None:
            indices, similarities = nearest_neighbours(codes, k, centre=centre)
            entry = {"indices": indices, "similarities": similarities}
            self.cache.put_arrays("neighbours", key, entry)
        return entry["indices"], entry["similarities"]

    def neighbour_recall(self, codes: np.ndarray, indices: np.ndarray, centre: np.ndarray) -> float | None:
        """:func:`aevis.latent.neighbours.neighbour_recall` of ``indices`` where the search did not
        prove them exact (above :data:`~aevis.latent.neighbours.PROVEN_UP_TO` codes), else None;
        keyed by the codes and the indices."""
        if len(codes) <= PROVEN_UP_TO:
            return None
        key = make_key("neighbour recall", self._codes_hash(codes), array_hash(indices), RECALL_SAMPLE,
                       array_hash(centre))
        figures = self.cache.figures("neighbour_recall", key)
        if figures is None:
            figures = {"recall": neighbour_recall(codes, indices, centre=centre)}
            self.cache.put_figures("neighbour_recall", key, figures)
        return figures["recall"]

    def tsne(self, codes: np.ndarray, seed: int) -> np.ndarray:
        """:func:`aevis.latent.map.code_map` of ``codes`` (t-SNE, or a small code itself), keyed
        by the codes, the seed and the openTSNE version."""
        kind = map_kind(codes.shape[1])
        if kind == TSNE:
            key = make_key("tsne", self._codes_hash(codes), seed, TSNE_LIBRARY)
        else:
            key = make_key("code map", self._codes_hash(codes), kind)
        entry = self.cache.arrays("tsne", key)
        if entry is None:
            entry = {"positions": code_map(codes, seed)}
            self.cache.put_arrays("tsne", key, entry)
        return entry["positions"]

    def feature_pictures(self, channels: np.ndarray, seed: int) -> tuple[np.ndarray | None, str]:
        """:func:`aevis.network.featurevis.visualize` of ``channels`` (None without channels), and its key."""
        key = make_key("featurevis", self.model_key, channels, seed)
        if not len(channels):
            return None, key
        entry = self.cache.arrays("featurevis", key)
        if entry is None:
            entry = {"pictures": featurevis.visualize(self.ae, channels, seed=seed)}
            self.cache.put_arrays("featurevis", key, entry)
        return entry["pictures"], key

    def mosaic_cells(self, positions: np.ndarray) -> tuple[np.ndarray, int, int]:
        """:func:`aevis.latent.mosaic.grid_cells` of ``positions``."""
        key = make_key("mosaic", array_hash(positions))
        entry = self.cache.arrays("mosaic", key)
        if entry is None:
            cells, columns, rows = mosaic.grid_cells(positions)
            entry = {"cells": cells, "shape": np.array([columns, rows])}
            self.cache.put_arrays("mosaic", key, entry)
        return entry["cells"], int(entry["shape"][0]), int(entry["shape"][1])

    def clusters(self, codes: np.ndarray, seed: int) -> tuple[np.ndarray, int]:
        """:func:`aevis.latent.clusters.kmeans_clusters` of ``codes`` (k = :data:`CLUSTERS`),
        keyed by the codes and the seed."""
        key = make_key("clusters", self._codes_hash(codes), CLUSTERS, seed)
        entry = self.cache.arrays("clusters", key)
        if entry is None:
            ids, count = kmeans_clusters(codes, CLUSTERS, seed)
            entry = {"ids": ids, "count": np.array(count)}
            self.cache.put_arrays("clusters", key, entry)
        return entry["ids"], int(entry["count"])

    def map_quality(self, codes: np.ndarray, positions: np.ndarray, labels, seed: int,
                    code_neighbours: np.ndarray | None = None) -> dict:
        """:func:`aevis.latent.quality.map_quality` (the pixels' label agreement from this set's
        images), keyed by codes, positions, labels, images and seed. ``code_neighbours``: the
        codes' nearest neighbours, ordered, where already found (they follow from the codes)."""
        key = make_key("map_quality", self._codes_hash(codes), array_hash(positions), labels, self.image_keys, seed)
        figures = self.cache.figures("map_quality", key)
        if figures is None:
            figures = quality.map_quality(codes, positions, labels, seed=seed, images=self.images,
                                          code_neighbours=code_neighbours)
            self.cache.put_figures("map_quality", key, figures)
        return figures

    def neighbourhoods(self, codes: np.ndarray, positions: np.ndarray,
                       code_neighbours: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """:func:`aevis.latent.trust.neighbourhoods` (each image's map trust and local density),
        keyed by codes and positions. ``code_neighbours``: the codes' ``(indices,
        similarities)``, ordered, where already found."""
        key = make_key("neighbourhoods", self._codes_hash(codes), array_hash(positions), quality.QUALITY_K)
        entry = self.cache.arrays("neighbourhoods", key)
        if entry is None:
            entry = trust.neighbourhoods(codes, positions, code_neighbours=code_neighbours)
            self.cache.put_arrays("neighbourhoods", key, entry)
        return {name: entry[name] for name in ("map_trust", "density")}

    def faithfulness(self, rows: np.ndarray, maps: dict[str, np.ndarray], map_keys: dict[str, list[str]],
                     masks: np.ndarray | None, target: str, reference_rows: np.ndarray | None,
                     options: dict[str, dict], seed: int) -> dict[str, dict[str, float]]:
        """:func:`aevis.faithfulness.faithfulness` on exactly the images ``rows`` (its sample).

        ``maps``/``map_keys``: each method's maps of those images and their keys, which name
        the model, images, target, references and options the figures depend on.
        """
        key = make_key(
            "faithfulness", list(maps), map_keys, None if masks is None else array_hash(masks), seed, options,
        )
        figures = self.cache.figures("faithfulness", key)
        if figures is None:
            references = None if reference_rows is None else self._need_encoded().codes[reference_rows]
            figures = faithfulness.faithfulness(
                self.ae, self.images[rows], maps, masks, target=target, reference_codes=references,
                method_options=options, sample=len(rows), seed=seed, batch_size=self.batch_size,
            )
            self.cache.put_figures("faithfulness", key, figures)
        return figures

    def cell_faithfulness(self, rows: np.ndarray, reference_rows: np.ndarray, seed: int) -> dict[str, float | None]:
        """:func:`aevis.faithfulness.cells.cell_deletion` of images ``rows`` against the codes of
        ``reference_rows`` (their nearest neighbours), keyed by the model, the images, those
        codes and the seed."""
        encoded = self._need_encoded()
        key = make_key(
            "cell faithfulness", self.model_key, [self.image_keys[index] for index in rows],
            [encoded.code_keys[index] for index in reference_rows], seed,
        )
        figures = self.cache.figures("cell_faithfulness", key)
        if figures is None:
            references = finite_codes(encoded.codes[reference_rows])  # as the neighbours were found
            figures = cell_deletion(self.ae, self.images[rows], references, sample=len(rows),
                                    seed=seed, batch_size=self.batch_size)
            self.cache.put_figures("cell_faithfulness", key, figures)
        return figures

    def cascade(self, row: int, method: str, trained: np.ndarray, map_key: str, target: str,
                reference_row: int | None, options: dict, seed: int) -> list[CascadeStep]:
        """:func:`aevis.faithfulness.randomization.randomization_cascade` of one image, keyed by its trained map."""
        key = make_key("cascade", map_key, method, options, seed)
        entry = self.cache.arrays("cascade", key)
        if entry is None:
            references = None if reference_row is None else {
                "reference_codes": self._need_encoded().codes[reference_row : reference_row + 1]
            }
            steps = randomization_cascade(
                self.ae, self.images[row : row + 1], method, trained[None], target=target,
                **(references or {}), seed=seed, **options,
            )
            entry = {
                "layers": np.array([step.layer for step in steps], dtype=str),
                "maps": np.stack([step.maps for step in steps]) if steps else np.empty((0, 1, 1, 1), np.float32),
                "spearman": np.array([step.spearman for step in steps], np.float64),
            }
            self.cache.put_arrays("cascade", key, entry)
        return [
            CascadeStep(str(layer), maps, float(spearman))
            for layer, maps, spearman in zip(entry["layers"], entry["maps"], entry["spearman"])
        ]

    def _need_encoded(self) -> Encoded:
        if self._encoded is None:
            raise RuntimeError("Results.encode() must run before heat-maps can be looked up.")
        return self._encoded
