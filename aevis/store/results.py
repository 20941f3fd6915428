"""Where a build's numbers come from: the result cache, or the model when the cache lacks them.

Each call here gives the numbers the plain computation gives, but looks every result up in the
:class:`~aevis.store.cache.ResultCache` first and computes only the missing ones
(:meth:`~aevis.store.cache.ResultCache.remember`). Per-image results (codes, reconstruction
errors and channel activations: :mod:`aevis.store.encoding`; heat-maps, pair maps) are keyed by
the image's own pixels, so changing one image recomputes that image only; whole-set results
(neighbours, the t-SNE map, faithfulness, feature visualization, map quality) are keyed by
everything they read, so they follow any change of their inputs."""

from __future__ import annotations

from dataclasses import asdict

import keras
import numpy as np

from aevis import faithfulness
from aevis._utils.keys import array_hash, make_key
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
from aevis.latent.taught_by import DIMENSIONS, KEPT, PROJECTION_SEED, SAMPLE, TaughtBy, taught_by
from aevis.memory import rows_within
from aevis.methods import explain
from aevis.model import Autoencoder
from aevis.network import activations, featurevis, morphs
from aevis.store import encoding
from aevis.store.cache import ResultCache
from aevis.store.encoding import Encoded

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
            "model",
            ae.sha256,
            ae.bottleneck,
            ae.input_spec.scales.input,
            ae.input_spec.scales.output,
            keras.__version__,
            batch_size,
        )
        self.image_keys = [array_hash(image) for image in images]
        self._encoded: Encoded | None = None
        self._hashes: dict[int, tuple[object, str]] = {}

    # ------------------------------------------------------------------ per image

    def encode(self, on_progress=None) -> Encoded:
        """Codes, reconstruction errors and gallery-layer activations of every image
        (:func:`aevis.store.encoding.encode`)."""
        self._encoded = encoding.encode(
            self.ae, self.images, self.cache, self.model_key, self.image_keys, self.batch_size, on_progress
        )
        return self._encoded

    def has_encoded_set(self) -> bool:
        """Whether the whole set's encodings are in the cache (:meth:`encode` will read them)."""
        return encoding.has_encoded_set(self.cache, self.model_key, self.image_keys)

    def encode_into_cache(self) -> None:
        """Each image's encoding into the cache, without the whole set's entry: a cluster
        worker's shard (:func:`aevis.store.encoding.encode_into_cache`)."""
        encoding.encode_into_cache(self.ae, self.images, self.cache, self.model_key, self.image_keys, self.batch_size)

    def use_codes(self, codes: np.ndarray, code_keys: list[str]) -> None:
        """Explain against ``codes`` (these images' codes, and their keys, found elsewhere)
        without encoding: a cluster worker explains a chunk against the coordinator's codes."""
        empty = np.empty(0, np.float32)
        self._encoded = Encoded(codes, list(code_keys), empty, empty, np.empty(0, bool), {})

    def error_maps(self, rows) -> np.ndarray:
        """The reconstruction error maps of images ``rows`` (:func:`aevis.store.encoding.error_maps`)."""
        return encoding.error_maps(
            self.ae, self.images, self.cache, self.model_key, self.image_keys, self.batch_size, rows
        )

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

    def maps(
        self,
        rows: np.ndarray,
        method: str,
        target: str,
        options: dict,
        reference_rows: np.ndarray | None = None,
        kind: str | None = None,
    ) -> tuple[np.ndarray, list[str]]:
        """Heat-maps of images ``rows`` by ``method``, float32 (n, H, W), and their keys.

        ``reference_rows`` (for the ``neighbour`` target): whose code each image is explained
        against. ``kind`` names the results in the cache's counts (default: the method).
        """
        encoded = self._need_encoded()
        rows = np.asarray(rows, np.int64)
        references = None if reference_rows is None else np.asarray(reference_rows, np.int64)
        keys = [
            make_key(
                "map",
                self.model_key,
                self.image_keys[index],
                method,
                target,
                options,
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

    def pair_maps(
        self, rows: np.ndarray, neighbours: np.ndarray, method: str, options: dict
    ) -> tuple[np.ndarray, list[list[list[str]]]]:
        """Each image of ``rows`` against each of its ``neighbours``' codes, and back.

        Returns float32 (n, K, 2, H, W) — [p, k, 0]: image p against neighbour k's code,
        [p, k, 1]: neighbour k against image p's code — and the keys, nested the same way.
        """
        count, k = neighbours.shape
        here, there = np.repeat(rows, k), neighbours.reshape(-1)
        maps, keys = self.maps(
            np.concatenate([here, there]),
            method,
            "neighbour",
            options,
            reference_rows=np.concatenate([there, here]),
            kind=f"{method}__pair",
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
        entry = self.cache.remember(
            "neighbours",
            key,
            lambda: dict(zip(("indices", "similarities"), nearest_neighbours(codes, k, centre=centre))),
        )
        return entry["indices"], entry["similarities"]

    def neighbour_recall(self, codes: np.ndarray, indices: np.ndarray, centre: np.ndarray) -> float | None:
        """:func:`aevis.latent.neighbours.neighbour_recall` of ``indices`` where the search did not
        prove them exact (above :data:`~aevis.latent.neighbours.PROVEN_UP_TO` codes), else None;
        keyed by the codes and the indices."""
        if len(codes) <= PROVEN_UP_TO:
            return None
        key = make_key(
            "neighbour recall", self._codes_hash(codes), array_hash(indices), RECALL_SAMPLE, array_hash(centre)
        )
        return self.cache.remember(
            "neighbour_recall", key, lambda: {"recall": neighbour_recall(codes, indices, centre=centre)}, figures=True
        )["recall"]

    def tsne(self, codes: np.ndarray, seed: int) -> np.ndarray:
        """:func:`aevis.latent.map.code_map` of ``codes`` (t-SNE, or a small code itself), keyed
        by the codes, the seed and the openTSNE version."""
        kind = map_kind(codes.shape[1])
        if kind == TSNE:
            key = make_key("tsne", self._codes_hash(codes), seed, TSNE_LIBRARY)
        else:
            key = make_key("code map", self._codes_hash(codes), kind)
        return self.cache.remember("tsne", key, lambda: {"positions": code_map(codes, seed)})["positions"]

    def feature_pictures(self, channels: np.ndarray, seed: int) -> tuple[np.ndarray | None, str]:
        """:func:`aevis.network.featurevis.visualize` of ``channels`` (None without channels), and its key."""
        key = make_key("featurevis", self.model_key, channels, seed)
        if not len(channels):
            return None, key
        entry = self.cache.remember(
            "featurevis", key, lambda: {"pictures": featurevis.visualize(self.ae, channels, seed=seed)}
        )
        return entry["pictures"], key

    def mosaic_cells(self, positions: np.ndarray) -> tuple[np.ndarray, int, int]:
        """:func:`aevis.latent.mosaic.grid_cells` of ``positions``."""
        key = make_key("mosaic", array_hash(positions))

        def compute() -> dict[str, np.ndarray]:
            cells, columns, rows = mosaic.grid_cells(positions)
            return {"cells": cells, "shape": np.array([columns, rows])}

        entry = self.cache.remember("mosaic", key, compute)
        return entry["cells"], int(entry["shape"][0]), int(entry["shape"][1])

    def clusters(self, codes: np.ndarray, seed: int) -> tuple[np.ndarray, int]:
        """:func:`aevis.latent.clusters.kmeans_clusters` of ``codes`` (k = :data:`CLUSTERS`),
        keyed by the codes and the seed."""
        key = make_key("clusters", self._codes_hash(codes), CLUSTERS, seed)

        def compute() -> dict[str, np.ndarray]:
            ids, count = kmeans_clusters(codes, CLUSTERS, seed)
            return {"ids": ids, "count": np.array(count)}

        entry = self.cache.remember("clusters", key, compute)
        return entry["ids"], int(entry["count"])

    def map_quality(
        self, codes: np.ndarray, positions: np.ndarray, labels, seed: int, code_neighbours: np.ndarray | None = None
    ) -> quality.MapQuality:
        """:func:`aevis.latent.quality.map_quality` (the pixels' label agreement from this set's
        images), keyed by codes, positions, labels, images and seed. ``code_neighbours``: the
        codes' nearest neighbours, ordered, where already found (they follow from the codes)."""
        key = make_key("map_quality", self._codes_hash(codes), array_hash(positions), labels, self.image_keys, seed)
        return quality.MapQuality(
            **self.cache.remember(
                "map_quality",
                key,
                lambda: asdict(
                    quality.map_quality(
                        codes, positions, labels, seed=seed, images=self.images, code_neighbours=code_neighbours
                    )
                ),
                figures=True,
            )
        )

    def neighbourhoods(
        self, codes: np.ndarray, positions: np.ndarray, code_neighbours: tuple[np.ndarray, np.ndarray] | None = None
    ) -> dict[str, np.ndarray]:
        """:func:`aevis.latent.trust.neighbourhoods` (each image's map trust and local density),
        keyed by codes and positions. ``code_neighbours``: the codes' ``(indices,
        similarities)``, ordered, where already found."""
        key = make_key("neighbourhoods", self._codes_hash(codes), array_hash(positions), quality.QUALITY_K)
        entry = self.cache.remember(
            "neighbourhoods", key, lambda: trust.neighbourhoods(codes, positions, code_neighbours=code_neighbours)
        )
        return {name: entry[name] for name in ("map_trust", "density")}

    def faithfulness(
        self,
        rows: np.ndarray,
        maps: dict[str, np.ndarray],
        map_keys: dict[str, list[str]],
        masks: np.ndarray | None,
        target: str,
        reference_rows: np.ndarray | None,
        options: dict[str, dict],
        seed: int,
    ) -> dict[str, dict[str, float]]:
        """:func:`aevis.faithfulness.faithfulness` on exactly the images ``rows`` (its sample).

        ``maps``/``map_keys``: each method's maps of those images and their keys, which name
        the model, images, target, references and options the figures depend on.
        """
        key = make_key(
            "faithfulness",
            list(maps),
            map_keys,
            None if masks is None else array_hash(masks),
            seed,
            options,
        )

        def compute() -> dict[str, dict[str, float]]:
            references = None if reference_rows is None else self._need_encoded().codes[reference_rows]
            return faithfulness.faithfulness(
                self.ae,
                self.images[rows],
                maps,
                masks,
                target=target,
                reference_codes=references,
                method_options=options,
                sample=len(rows),
                seed=seed,
                batch_size=self.batch_size,
            )

        return self.cache.remember("faithfulness", key, compute, figures=True)

    def cell_faithfulness(self, rows: np.ndarray, reference_rows: np.ndarray, seed: int) -> dict[str, float | None]:
        """:func:`aevis.faithfulness.cells.cell_deletion` of images ``rows`` against the codes of
        ``reference_rows`` (their nearest neighbours), keyed by the model, the images, those
        codes and the seed."""
        encoded = self._need_encoded()
        key = make_key(
            "cell faithfulness",
            self.model_key,
            [self.image_keys[index] for index in rows],
            [encoded.code_keys[index] for index in reference_rows],
            seed,
        )
        return self.cache.remember(
            "cell_faithfulness",
            key,
            lambda: cell_deletion(
                self.ae,
                self.images[rows],
                finite_codes(encoded.codes[reference_rows]),  # as the neighbours were found
                sample=len(rows),
                seed=seed,
                batch_size=self.batch_size,
            ),
            figures=True,
        )

    def cascade(
        self,
        row: int,
        method: str,
        trained: np.ndarray,
        map_key: str,
        target: str,
        reference_row: int | None,
        options: dict,
        seed: int,
    ) -> list[CascadeStep]:
        """:func:`aevis.faithfulness.randomization.randomization_cascade` of one image, keyed by its trained map."""
        key = make_key("cascade", map_key, method, options, seed)

        def compute() -> dict[str, np.ndarray]:
            references = (
                None
                if reference_row is None
                else {"reference_codes": self._need_encoded().codes[reference_row : reference_row + 1]}
            )
            steps = randomization_cascade(
                self.ae,
                self.images[row : row + 1],
                method,
                trained[None],
                target=target,
                **(references or {}),
                seed=seed,
                **options,
            )
            return {
                "layers": np.array([step.layer for step in steps], dtype=str),
                "maps": np.stack([step.maps for step in steps]) if steps else np.empty((0, 1, 1, 1), np.float32),
                "spearman": np.array([step.spearman for step in steps], np.float64),
            }

        entry = self.cache.remember("cascade", key, compute)
        return [
            CascadeStep(str(layer), maps, float(spearman))
            for layer, maps, spearman in zip(entry["layers"], entry["maps"], entry["spearman"])
        ]

    def taught_by(self, checkpoints, rows: np.ndarray, on_progress=None) -> TaughtBy:
        """:func:`aevis.latent.taught_by.taught_by` of images ``rows`` over ``checkpoints`` (a
        :class:`~aevis.model.train.Checkpoints`), keyed by the model, the checkpoints, the images and the rows."""
        key = make_key(
            "taught by",
            self.model_key,
            checkpoints.sha256,
            self.image_keys,
            rows,
            DIMENSIONS,
            PROJECTION_SEED,
            KEPT,
            SAMPLE,
        )
        entry = self.cache.arrays("taught_by", key)
        if entry is None:
            copy = keras.models.clone_model(self.ae.model)  # its weights are set to each checkpoint's
            entry = taught_by(
                copy, self.ae.bottleneck, checkpoints, self.images, rows, self.batch_size, on_progress=on_progress
            ).arrays()
            self.cache.put_arrays("taught_by", key, entry)
        elif on_progress:
            on_progress(len(self.images) * len(checkpoints.epochs))
        return TaughtBy.from_arrays(entry)

    def _need_encoded(self) -> Encoded:
        if self._encoded is None:
            raise RuntimeError("Results.encode() must run before heat-maps can be looked up.")
        return self._encoded
