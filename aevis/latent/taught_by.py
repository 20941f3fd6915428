"""Which training images taught the network what it knows of an image: TracIn over checkpoints.

TracIn (Pruthi, Liu, Kale & Sundararajan, "Estimating Training Data Influence by Tracing
Gradient Descent", NeurIPS 2020) scores a training image z for an image x by how much the
training steps on z moved x's loss, summed over checkpoints kept during training:

    score(z, x) = Σ_t η_t ∇_θ L(z; θ_t) · ∇_θ L(x; θ_t)

with η_t the learning rate at checkpoint t. A positive score makes z a *proponent* of x (a
step on z lowered x's loss too), a negative one an *opponent*. Label-free, as Crabbé & van der
Schaar use it ("Label-Free Explainability for Unsupervised Models", ICML 2022): L is the
reconstruction loss the autoencoder was trained with, and θ the encoder's weights only (the
part that makes the codes).

Each gradient is reduced to :data:`DIMENSIONS` numbers by one fixed Gaussian random projection
(:class:`GaussianProjection`) a batch at a time, so the full gradients of all images are never
held: the stage keeps N × checkpoints × :data:`DIMENSIONS` floats, and its time grows linearly
with the images (one gradient per image and checkpoint).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from scipy.optimize import brentq

from aevis.backend import item_gradients
from aevis.data.imageset import sample_positions

DIMENSIONS = 128
"""Numbers each gradient is projected to (per checkpoint)."""
PROJECTION_SEED = 0
"""The projection is drawn once from this seed: the same for every build and checkpoint."""
KEPT = 10
"""Proponents and opponents kept for each paged image, strongest first."""
SAMPLE = 100
"""Paged images whose scores against every training image are kept (for the label-share check)."""
FAILURE = 1e-3
"""The chance :func:`error_bound` allows that some score of a build is off by more than its bound."""


class GaussianProjection:
    """x ↦ R x for R of shape (k, P) with independent N(0, 1/k) entries, drawn from a fixed seed.

    Johnson–Lindenstrauss (in the form of Dasgupta & Gupta, 2003): for one vector u,
    P(|‖Ru‖² − ‖u‖²| > ε‖u‖²) ≤ 2 exp(−k (ε²/4 − ε³/6)) for 0 < ε < 1. Applied to
    a/‖a‖ ± b/‖b‖, whose squared lengths sum to 4, it bounds an inner product:

        P(|Ra · Rb − a · b| > ε ‖a‖ ‖b‖) ≤ 4 exp(−k (ε²/4 − ε³/6)).

    :func:`error_bound` turns this into the ε that holds for every score of a build at once.
    R takes 4 · k · P bytes (P: the encoder's weights; 200 MB for the default seed at k = 128),
    drawn once and held while the gradients are projected.
    """

    def __init__(self, size: int, dimensions: int = DIMENSIONS, seed: int = PROJECTION_SEED) -> None:
        rng = np.random.default_rng(seed)
        self.matrix = rng.standard_normal((dimensions, size), dtype=np.float32)
        """float32 (k, P): R."""
        self.matrix *= np.float32(1 / math.sqrt(dimensions))

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        """float32 (n, k): the projections of ``vectors`` (n, P)."""
        # R (x_1 … x_n), not (x_1 … x_n)ᵀ Rᵀ: OpenBLAS takes 5 to 10 times longer for the latter.
        return (self.matrix @ np.asarray(vectors, np.float32).T).T


def error_bound(dimensions: int, scores: int, failure: float = FAILURE) -> float:
    """The ε with which every one of ``scores`` projected inner products Ra · Rb is within
    ε ‖a‖ ‖b‖ of a · b, except with probability ``failure`` (a union bound over
    :class:`GaussianProjection`'s bound); inf where no ε < 1 is that sure. (A TracIn score sums
    T checkpoints' products: T of them.)"""

    def excess(epsilon: float) -> float:
        return 4 * max(scores, 1) * math.exp(-dimensions * (epsilon**2 / 4 - epsilon**3 / 6)) - failure

    if excess(1.0) > 0:
        return math.inf
    return float(brentq(excess, 1e-9, 1.0))


def reconstruction_losses(model: keras.Model) -> Callable:
    """Each image's binary cross-entropy against its reconstruction, (N,): the loss the seed
    autoencoder is trained with (its batch mean)."""

    def losses(images):
        rebuilt = model(images)
        return keras.ops.mean(keras.losses.binary_crossentropy(images, rebuilt), axis=(1, 2))

    return losses


def encoder_variables(model: keras.Model, bottleneck: str) -> list:
    """The trainable weights of the layers from the input up to ``bottleneck`` (the encoder)."""
    encoder = keras.Model(model.inputs, model.get_layer(bottleneck).output)
    return list(encoder.trainable_variables)


def projected_gradients(
    model: keras.Model,
    bottleneck: str,
    checkpoints,
    images: np.ndarray,
    batch_size: int,
    dimensions: int = DIMENSIONS,
    seed: int = PROJECTION_SEED,
    on_progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """float32 (N, T · k): for each checkpoint t, √η_t · R ∇_θ L(x; θ_t) of every image, side by
    side, so that row a · row b is the TracIn score of a and b (up to the projection's error).

    Args:
        model: the autoencoder; its weights are set to each checkpoint's in turn (pass a copy).
        bottleneck: the code layer; θ is the weights of the layers up to it.
        checkpoints: :class:`~aevis.model.train.Checkpoints`.
        images: float32 (N, H, W, C) in [0, 1], as the model was trained on them.
        batch_size: images whose full gradients are held at once.
        on_progress: called with the images done, checkpoint by checkpoint.
    """
    variables = encoder_variables(model, bottleneck)
    gradients_of = item_gradients(reconstruction_losses(model), variables)
    projection = GaussianProjection(sum(math.prod(variable.shape) for variable in variables), dimensions, seed)
    projected = np.empty((len(images), dimensions * len(checkpoints.epochs)), np.float32)
    for number, (rate, weights) in enumerate(zip(checkpoints.learning_rates, checkpoints.weights)):
        model.set_weights(weights)
        columns = slice(number * dimensions, (number + 1) * dimensions)
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            projected[start : start + len(batch), columns] = projection(gradients_of(batch)) * np.float32(
                math.sqrt(rate)
            )
            if on_progress:
                on_progress(len(batch))
    return projected


@dataclass(frozen=True, eq=False)
class TaughtBy:
    """The strongest proponents and opponents of each paged image among the training images."""

    rows: np.ndarray
    """int64 (n,): the paged images, in manifest order."""
    proponents: np.ndarray
    """int64 (n, K): each one's training images with the highest scores, highest first (itself left out)."""
    proponent_scores: np.ndarray
    """float32 (n, K)."""
    opponents: np.ndarray
    """int64 (n, K): the lowest scores, lowest (most negative) first."""
    opponent_scores: np.ndarray
    """float32 (n, K)."""
    sample: np.ndarray
    """int64 (S,): the paged images whose every score is kept, for the label-share check."""
    sample_scores: np.ndarray
    """float32 (S, N): their scores against every training image (their own included)."""
    epochs: np.ndarray
    """int64 (T,): the epochs of the checkpoints summed over."""
    learning_rates: np.ndarray
    """float64 (T,)."""
    dimensions: int
    """k, the numbers each gradient was projected to."""

    def arrays(self) -> dict[str, np.ndarray]:
        """Its fields as named arrays (one result-cache entry)."""
        return {name: np.asarray(getattr(self, name)) for name in self.__dataclass_fields__}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> TaughtBy:
        return cls(
            **{name: arrays[name] for name in cls.__dataclass_fields__ if name != "dimensions"},
            dimensions=int(arrays["dimensions"]),
        )

    @property
    def error(self) -> float:
        """ε of :func:`error_bound` for one score: each score is within ε Σ_t η_t ‖a_t‖ ‖b_t‖ of
        the unprojected TracIn score, except with probability :data:`FAILURE` (0.78 at k = 128 and 3 checkpoints:
        the ranking's worth is measured instead, :mod:`aevis.latent.label_share`)."""
        return error_bound(self.dimensions, len(self.epochs))

    def of(self, index: int) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """Image ``index``'s ``(proponents, opponents)`` as (image, score) pairs, strongest first:
        of the :data:`KEPT` highest scores those above 0, of the lowest those below 0."""
        row = int(np.searchsorted(self.rows, index))
        if row >= len(self.rows) or self.rows[row] != index:
            raise KeyError(index)
        return (
            [
                (int(other), float(score))
                for other, score in zip(self.proponents[row], self.proponent_scores[row])
                if score > 0
            ],
            [
                (int(other), float(score))
                for other, score in zip(self.opponents[row], self.opponent_scores[row])
                if score < 0
            ],
        )


_SCORED_BYTES = 64 * 2**20  # score rows worked out at once


def strongest(projected: np.ndarray, rows: np.ndarray, sample: np.ndarray, kept: int = KEPT) -> dict[str, np.ndarray]:
    """The proponents and opponents of images ``rows`` (each one's ``kept`` highest and lowest
    scores, itself left out; ties by index), and every score of images ``sample``, from
    :func:`projected_gradients`' rows: :class:`TaughtBy`'s arrays but the checkpoints'."""
    count = len(projected)
    kept = min(kept, count - 1)
    result = {
        "proponents": np.empty((len(rows), kept), np.int64),
        "opponents": np.empty((len(rows), kept), np.int64),
        "proponent_scores": np.empty((len(rows), kept), np.float32),
        "opponent_scores": np.empty((len(rows), kept), np.float32),
    }
    at_once = max(1, _SCORED_BYTES // (4 * max(count, 1)))
    for start in range(0, len(rows), at_once):
        these = rows[start : start + at_once]
        scores = projected[these] @ projected.T
        for offset, (index, row) in enumerate(zip(these, scores)):
            others = np.delete(np.arange(count), index)
            values = row[others]
            order = np.lexsort((others, -values))  # highest first, then by index
            place = start + offset
            result["proponents"][place] = others[order[:kept]]
            result["proponent_scores"][place] = values[order[:kept]]
            lowest = np.lexsort((others, values))[:kept]
            result["opponents"][place] = others[lowest]
            result["opponent_scores"][place] = values[lowest]
    result["sample_scores"] = projected[sample] @ projected.T
    return result


def taught_by(
    model: keras.Model,
    bottleneck: str,
    checkpoints,
    images: np.ndarray,
    rows: np.ndarray,
    batch_size: int,
    sample: int = SAMPLE,
    on_progress: Callable[[int], None] | None = None,
) -> TaughtBy:
    """Each of images ``rows``'s strongest proponents and opponents among all ``images`` (the
    images the model was trained on), by TracIn over ``checkpoints``; and every score of up to
    ``sample`` of them, spread evenly over ``rows``.

    ``model`` is the trained autoencoder's architecture; its weights are set to each
    checkpoint's in turn (pass a copy). See :func:`projected_gradients` for the rest.
    """
    rows = np.sort(np.asarray(rows, np.int64))
    chosen = rows[sample_positions(len(rows), sample)] if len(rows) else rows
    projected = projected_gradients(model, bottleneck, checkpoints, images, batch_size, on_progress=on_progress)
    return TaughtBy(
        rows=rows,
        sample=chosen,
        epochs=np.array(checkpoints.epochs, np.int64),
        learning_rates=np.array(checkpoints.learning_rates, np.float64),
        dimensions=DIMENSIONS,
        **strongest(projected, rows, chosen),
    )
