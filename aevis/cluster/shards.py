"""The per-image stages sent to the workers in shards, and their bars advanced as shards finish.

Each shard is one task: the bytes of its images (and, for heat-maps, the codes they are
explained against) travel with it, so the scheduler can send it again to another worker when
the first one dies; its results go into the shared cache, not back to the coordinator. Shards
hold whole batches, in the coordinator's order, so every model call sees the batch a single
process would: the numbers are the same to the bit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aevis._utils.keys import array_hash
from aevis._utils.pixels import Pixels
from aevis.cluster.worker import ModelOnWorker, ModelRecipe, worker_model
from aevis.config import BuildConfig
from aevis.errors import AevisError
from aevis.memory import pages_per_chunk, rows_within
from aevis.store.cache import ResultCache
from aevis.store.results import Results

TASK_BYTES = 8 * 2**20
"""Most pixel bytes one encoding shard carries (Dask warns of larger tasks)."""
SHARDS_PER_WORKER = 4
"""Encoding shards per worker at least, where the set allows: a killed worker's share is small,
and the bars move."""
WORKERS_TIMEOUT = 30
"""Seconds to wait for a scheduler's first worker before saying it has none."""
_IN_FLIGHT_PER_WORKER = 2  # shards submitted ahead of the finished ones: the scheduler holds only these


class Cluster:
    """The build's workers: each holds the model (:class:`~aevis.cluster.worker.ModelOnWorker`)
    and writes into the cache at ``cache_root``, which every worker must reach at that path."""

    def __init__(self, client, recipe: ModelRecipe, cache_root: Path) -> None:
        self.client = client
        self.recipe = recipe
        self.cache_root = Path(cache_root).resolve()
        try:
            client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
        except TimeoutError:
            raise AevisError(
                f"The Dask scheduler at {client.scheduler.address} has no workers; start some with "
                f"'dask worker {client.scheduler.address}'."
            ) from None
        client.register_plugin(ModelOnWorker(recipe), name=recipe.name)  # a worker's load error is raised here

    @classmethod
    def start(cls, client, config: BuildConfig, files: tuple[Path, ...], ae) -> Cluster:
        """The cluster of ``client`` with the model of ``files`` loaded on every worker as ``ae``
        was loaded here; AevisError where the model has no files or the results no cache."""
        if not files:
            raise AevisError(
                "A model handed over in memory cannot go to the cluster's workers: save it "
                "(model.save('model.keras')) and pass the file."
            )
        recipe = ModelRecipe(
            files=tuple(Path(file).resolve() for file in files),
            bottleneck=config.bottleneck,
            custom_objects=None if config.custom_objects is None else Path(config.custom_objects).resolve(),
            safe_mode=not config.trust_model,
            scales=ae.input_spec.scales,
            scales_reason=ae.scales_reason,
            sha256=ae.sha256,
        )
        return cls(client, recipe, Path(config.cache_dir) / "results")

    @property
    def workers(self) -> int:
        return max(1, len(self.client.nthreads()))

    def encode(self, results: Results, stages) -> None:
        """Each image's encoding into the cache (where the whole set's entry is not there yet)."""
        if results.has_encoded_set():
            return
        images, batch = results.images, results.batch_size
        per_task = math.ceil(len(images) / (self.workers * SHARDS_PER_WORKER))
        per_task = max(1, min(per_task, rows_within(_sent(images, slice(0, 1)).nbytes, TASK_BYTES)) // batch) * batch
        shards = (
            (self.recipe.name, _sent(images, slice(start, start + per_task)), batch, self.cache_root)
            for start in range(0, len(images), per_task)
        )
        with stages.stage("Encoding on the cluster", total=len(images)) as advance:
            self._run(_encode_shard, shards, advance, results.model_key, "encode the images")

    def explain(self, config: BuildConfig, gallery, results: Results, stages) -> None:
        """The paged images' heat-maps and pair maps into the cache, chunk by chunk as the
        build explains them (the same rows, so the same batches)."""
        explanations = gallery.explanations
        if explanations is None:
            return
        neighbours, paged = gallery.neighbour_indices, gallery.paged
        by_neighbour = config.target == "neighbour" and neighbours.size > 0
        work = _Explaining(
            methods=tuple(explanations.methods),
            target=config.target,
            options={method: config.method_options(method) for method in explanations.methods},
            pair_method=explanations.pair_method,
            pair_options=config.method_options(explanations.pair_method) if explanations.pair_method else None,
            batch_size=results.batch_size,
            cache_root=self.cache_root,
        )
        size = pages_per_chunk(gallery.ae)

        def shards():
            for start in range(0, len(paged), size):
                rows = paged[start : start + size]
                references = neighbours[rows, 0] if by_neighbour else None
                pairs = neighbours[rows] if work.pair_method else None
                parts = [part.reshape(-1) for part in (references, pairs) if part is not None]
                needed = np.unique(np.concatenate([rows, *parts]))

                codes = np.asarray(gallery.codes[needed])
                local = [None if part is None else np.searchsorted(needed, part) for part in (rows, references, pairs)]
                yield (
                    self.recipe.name,
                    work,
                    _sent(results.images, needed),
                    codes,
                    [array_hash(code) for code in codes],
                    *local,
                )  # rows as positions among ``needed``

        with stages.stage("Explaining on the cluster", total=len(paged)) as advance:
            self._run(_explain_shard, shards(), advance, results.model_key, "draw the heat-maps")

    def _run(
        self, function: Callable, shards: Iterable[tuple], advance: Callable[[int], None], model_key: str, doing: str
    ) -> None:
        """Run ``function`` on every shard, a few per worker in flight; ``advance`` by each
        finished shard's images. AevisError where a worker's results are keyed otherwise, or
        where ``doing`` (what the shards do, in words) met a bad option for this model."""
        from distributed import as_completed

        shards = iter(shards)
        window = self.workers * _IN_FLIGHT_PER_WORKER
        pending = as_completed(
            [self.client.submit(function, *shard, pure=False) for shard in itertools.islice(shards, window)]
        )
        for future in pending:
            try:
                key, done = future.result()
            except (ValueError, TypeError) as error:  # a bad option or target for this model
                raise AevisError(f"The workers could not {doing}: {error}") from None
            if key != model_key:
                raise AevisError(
                    "The workers run another aevis or Keras than this process (their results' keys "
                    "differ): install the same versions on every machine."
                )
            advance(done)
            for shard in itertools.islice(shards, 1):
                pending.add(self.client.submit(function, *shard, pure=False))


@dataclass(frozen=True)
class _Explaining:
    """What every heat-map shard of one build shares: methods, target, options, the cache."""

    methods: tuple[str, ...]
    target: str
    options: dict[str, dict]
    pair_method: str | None
    pair_options: dict | None
    batch_size: int
    cache_root: Path


def _sent(images, rows) -> np.ndarray:
    """Images ``rows`` as a task carries them: their stored bytes where the set keeps bytes
    (:class:`~aevis._utils.pixels.Pixels`), else their float32 values."""
    return images.bytes(rows) if isinstance(images, Pixels) else np.asarray(images[rows], np.float32)


def _received(images: np.ndarray):
    """What :func:`_sent` sent, indexed as the coordinator's images are (float32 in [0, 1])."""
    return Pixels(images) if images.dtype == np.uint8 else images


def _encode_shard(plugin: str, images: np.ndarray, batch_size: int, cache_root: Path) -> tuple[str, int]:
    """On a worker: encode ``images`` (:func:`_sent`) into the cache; the model key and the count."""
    results = Results(worker_model(plugin), _received(images), ResultCache(cache_root), batch_size)
    results.encode_into_cache()
    return results.model_key, len(images)


def _explain_shard(
    plugin: str,
    work: _Explaining,
    images: np.ndarray,
    codes: np.ndarray,
    code_keys: list[str],
    rows: np.ndarray,
    references: np.ndarray | None,
    pairs: np.ndarray | None,
) -> tuple[str, int]:
    """On a worker: the heat-maps of ``rows`` and their pair maps with ``pairs`` (positions in
    ``images`` and ``codes``, the images and codes the chunk needs) into the cache."""
    results = Results(worker_model(plugin), _received(images), ResultCache(work.cache_root), work.batch_size)
    results.use_codes(codes, code_keys)
    for method in work.methods:
        results.maps(rows, method, work.target, work.options[method], references)
    if work.pair_method is not None:
        results.pair_maps(rows, pairs, work.pair_method, work.pair_options)
    return results.model_key, len(rows)
