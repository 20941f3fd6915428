"""Where the seed autoencoder is trained, and cached so a second run does not retrain."""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from aevis import __version__
from aevis._utils import checked
from aevis._utils.keys import seed_model_key
from aevis.model.seed import build_seed_autoencoder


@dataclass(frozen=True)
class TrainedModel:
    """A trained seed autoencoder on disk, with its loss per epoch."""

    path: Path
    losses: list[float]
    cached: bool
    """True when it came from the cache rather than from training now."""
    checkpoints: Path | None = None
    """The weights kept during training (:func:`read_checkpoints`), beside the model."""


CHECKPOINTS = 3
"""Checkpoints of the weights kept during training, at evenly spaced epochs (the last one's
weights are the trained model's): what "Taught by" (:mod:`aevis.latent.taught_by`) sums over."""


@dataclass(frozen=True, eq=False)
class Checkpoints:
    """The model's weights at a few epochs of its training, with the learning rate of each."""

    epochs: tuple[int, ...]
    """The epoch (counted from 1) each checkpoint ends."""
    learning_rates: tuple[float, ...]
    weights: tuple[list[np.ndarray], ...]
    """Each checkpoint's weights, in ``model.get_weights()`` order."""
    sha256: str
    """The checksum of the file they were read from: their identity in result keys."""


def checkpoint_epochs(epochs: int) -> list[int]:
    """The epochs whose end :func:`train_seed` keeps a checkpoint of: :data:`CHECKPOINTS` evenly
    spaced, the last one last (``[10, 20, 30]`` of 30; ``[1]`` of 1)."""
    return sorted({math.ceil(epochs * (number + 1) / CHECKPOINTS) for number in range(CHECKPOINTS)})


def read_checkpoints(path: Path) -> Checkpoints | None:
    """The checkpoints :func:`train_seed` kept at ``path``; None where absent; raises
    :class:`~aevis._utils.checked.Damaged` where the file no longer matches its checksum."""
    data = checked.read_bytes(path)
    if data is None:
        return None
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        epochs = [int(epoch) for epoch in stored["epochs"]]
        rates = [float(rate) for rate in stored["learning_rates"]]
        count = int(stored["weight_count"])
        weights = tuple([stored[f"weights-{number}-{part}"] for part in range(count)] for number in range(len(epochs)))
    return Checkpoints(tuple(epochs), tuple(rates), weights, hashlib.sha256(data).hexdigest())


class _KeepCheckpoints(keras.callbacks.Callback):
    """Copies the model's weights, and the optimizer's learning rate, at the end of the given epochs."""

    def __init__(self, epochs: list[int]) -> None:
        super().__init__()
        self._epochs, self.kept = set(epochs), []

    def on_epoch_end(self, epoch, logs=None) -> None:
        if epoch + 1 in self._epochs:
            rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            self.kept.append((epoch + 1, rate, [np.array(weight) for weight in self.model.get_weights()]))

    def write(self, stream) -> None:
        arrays = {
            "epochs": np.array([epoch for epoch, _, _ in self.kept], np.int64),
            "learning_rates": np.array([rate for _, rate, _ in self.kept], np.float64),
            "weight_count": np.array(len(self.kept[0][2]) if self.kept else 0),
        }
        for number, (_, _, weights) in enumerate(self.kept):
            arrays.update({f"weights-{number}-{part}": weight for part, weight in enumerate(weights)})
        np.savez(stream, **arrays)


class _ShuffledBatches(keras.utils.PyDataset):
    """(x, x) batches in a seeded order, reshuffled each epoch, gathered from ``images`` in place.

    ``model.fit`` on a NumPy array first copies it (twice, as input and target) into a
    TensorFlow dataset: 1 GB more at 10,000 images of 64x64x3. Batches gathered on demand
    keep training's memory at a batch's worth.
    """

    def __init__(self, images: np.ndarray, batch_size: int, seed: int) -> None:
        super().__init__()
        self._images, self._batch_size = images, batch_size
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(images))

    def __len__(self) -> int:
        return -(-len(self._images) // self._batch_size)

    def __getitem__(self, index: int):
        batch = self._images[np.sort(self._order[index * self._batch_size : (index + 1) * self._batch_size])]
        return batch, batch

    def on_epoch_end(self) -> None:
        self._order = self._rng.permutation(len(self._images))


class _EpochProgress(keras.callbacks.Callback):
    """Moves a progress bar one step per training batch."""

    def __init__(self, advance: Callable[[int], None]) -> None:
        super().__init__()
        self._advance = advance

    def on_train_batch_end(self, batch, logs=None) -> None:
        self._advance(1)


def training_steps(count: int, epochs: int, batch_size: int) -> int:
    """How many batches :func:`train_seed` runs, for sizing its progress bar."""
    return epochs * -(-count // batch_size)


def train_seed(
    images: np.ndarray,
    data_hash: str,
    filters: tuple[int, ...],
    epochs: int,
    batch_size: int,
    seed: int,
    cache_dir: Path,
    on_batch: Callable[[int], None] | None = None,
    on_damaged: Callable[[str], None] | None = None,
) -> TrainedModel:
    """Train the seed autoencoder on ``images`` with binary cross-entropy, or reuse the cached one.

    The cache key hashes the data (``data_hash``), the architecture, the training settings,
    the aevis and Keras versions: change any and the model is trained again.

    Args:
        images: float32 (N, H, W, C) in [0, 1].
        data_hash: a content hash of the images (``ImageSet.content_hash()``).
        filters, epochs, batch_size, seed: training configuration.
        cache_dir: folder of cached models, created if missing.
        on_batch: called with 1 after every training batch (drives a progress bar).
        on_damaged: told, in a sentence, when the cached model was damaged and is trained again.

    The weights at :data:`CHECKPOINTS` evenly spaced epochs are kept beside the model
    (:func:`read_checkpoints`); the model counts as cached only with them.
    """
    settings = {
        "data": data_hash,
        "shape": list(images.shape[1:]),
        "filters": list(filters),
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "aevis": __version__,
        "keras": keras.__version__,
        "trainer": "shuffled-batches-1",  # how batches are drawn: a change trains anew
    }
    key = seed_model_key(settings)
    model_path = Path(cache_dir) / f"seed-{key}.keras"
    losses_path = model_path.with_suffix(".losses.json")
    checkpoints_path = model_path.with_suffix(".checkpoints.npz")
    cached = _cached_model(model_path, losses_path, checkpoints_path, on_damaged)
    if cached is not None:
        return cached

    keras.utils.set_random_seed(seed)
    model = build_seed_autoencoder(tuple(images.shape[1:]), tuple(filters))
    # Named, or a second model in one process saves as "adam_1" and its file differs.
    model.compile(optimizer=keras.optimizers.Adam(1e-3, name="adam"), loss="binary_crossentropy")
    keep = _KeepCheckpoints(checkpoint_epochs(epochs))
    callbacks = [keep, *([_EpochProgress(on_batch)] if on_batch else [])]
    history = model.fit(_ShuffledBatches(images, batch_size, seed), epochs=epochs, verbose=0, callbacks=callbacks)
    losses = [float(value) for value in history.history["loss"]]

    def save(scratch: Path) -> None:
        model.save(scratch)
        _make_steady(scratch)

    # The losses and checkpoints first: a model file is taken as cached only beside them.
    checked.write_stream(losses_path, lambda stream: stream.write(json.dumps(losses).encode("ascii")))
    checked.write_stream(checkpoints_path, keep.write)
    checked.write(model_path, save)
    return TrainedModel(model_path, losses, cached=False, checkpoints=checkpoints_path)


def _cached_model(
    model_path: Path, losses_path: Path, checkpoints_path: Path, on_damaged: Callable[[str], None] | None
) -> TrainedModel | None:
    """The trained model kept at ``model_path``, or None where it, its losses or its checkpoints
    are absent or damaged (then removed, and said in one line, so it is trained again)."""
    try:
        if checked.intact(model_path):
            losses = json.loads(checked.read_bytes(losses_path) or b"null")
            if isinstance(losses, list) and checked.intact(checkpoints_path):
                return TrainedModel(model_path, losses, cached=True, checkpoints=checkpoints_path)
    except (checked.Damaged, ValueError) as damage:
        if on_damaged is not None:
            damaged = damage.path if isinstance(damage, checked.Damaged) else losses_path
            on_damaged(f"The cached trained model {damaged.name} was damaged; it was removed and is trained again.")
    checked.remove(model_path)
    checked.remove(losses_path)
    checked.remove(checkpoints_path)
    return None


def _make_steady(path: Path) -> None:
    """Rewrite a saved ``.keras`` archive so the same weights give the same bytes (and SHA-256):
    Keras stamps the time of saving (``metadata.json``'s ``date_saved``, the weights entry's
    date) and numbers shared objects by their memory address (``config.json``)."""
    with zipfile.ZipFile(path) as saved:
        entries = [(entry.filename, saved.read(entry)) for entry in saved.infolist()]
    numbers: dict[bytes, int] = {}

    def renumber(match: re.Match) -> bytes:  # in order of appearance, so links between objects hold
        return b'"shared_object_id": %d' % numbers.setdefault(match.group(1), len(numbers) + 1)

    with zipfile.ZipFile(path, "w") as steady:
        for name, data in entries:
            if name == "metadata.json":
                data = json.dumps(
                    {key: value for key, value in json.loads(data).items() if key != "date_saved"}
                ).encode()
            elif name == "config.json":
                data = re.sub(rb'"shared_object_id": (\d+)', renumber, data)
            steady.writestr(zipfile.ZipInfo(name), data)  # dated 1980-01-01, stored as Keras stores
