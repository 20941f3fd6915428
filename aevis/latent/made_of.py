"""What an image's code is made of: the code written as a mix of other images' codes.

SimplEx (Crabbé, Qian, Imrie & van der Schaar, "Explaining Latent Representations with a
Corpus of Examples", NeurIPS 2021) explains a code c by the convex mix of a corpus of other
codes c_1 … c_K that comes closest to it:

    minimise ‖c − Σ_i w_i c_i‖  over  w_i ≥ 0,  Σ_i w_i = 1,

and reads the weights as "this image is 40 % that one, 25 % that one …". What the mix leaves
out, ‖c − Σ_i w_i c_i‖, is reported beside it, relative to the length of c less the set's mean
code (:func:`~aevis.latent.neighbours.mean_code`): what sets the image apart from an average
one, not the part every code shares (a mix summing to 1 always has that part).

The corpus of each image is its :data:`CORPUS` most similar other codes (as the gallery
measures similarity), so the cost is K codes per image explained, for the paged images only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

from aevis.latent.neighbours import finite_codes, nearest_of

CORPUS = 20
"""Codes each image's mix is fitted over: its nearest other codes."""
SMALLEST = 1e-6
"""Weights below this are left out of a mix (rounding of float32 codes), the rest rescaled to sum to 1."""
_SUM_WEIGHT = 1e3
"""How strongly the fit holds the weights to a sum of 1, against residuals of codes scaled to
length 1 (an extra row of the least-squares system); the weights are then divided by their sum."""


@dataclass(frozen=True)
class MadeOf:
    """One image's code as a mix of other images' codes."""

    indices: np.ndarray
    """int64 (m,): the images of the mix with a weight of at least :data:`SMALLEST`, heaviest
    first (then by index)."""
    weights: np.ndarray
    """float64 (m,): their weights, ≥ 0, summing to 1."""
    residual: float
    """‖code − mix‖ / ‖code − mean code‖: the share of what sets the image apart that the mix
    leaves unexplained (0: the mix rebuilds the code exactly)."""


_BLOCK = 1 << 16
"""Numbers of the codes factorised at once: the fit holds this many rows of [corpus | code]."""


def convex_mix(code: np.ndarray, corpus: np.ndarray) -> np.ndarray:
    """float64 (K,): the weights w ≥ 0 with Σ w = 1 that bring Σ w_i corpus[i] closest to ``code``.

    Non-negative least squares (:func:`scipy.optimize.nnls`) with one more row, the sum of the
    weights held to 1 by a large factor; exact when the code is a convex mix of the corpus (the
    extra row is then satisfied too). The code's D numbers are first reduced to K + 1 by a QR
    factorisation of [corpus.T | code], which keeps the fit's minimiser and its residual; it is
    taken :data:`_BLOCK` rows at a time, so a code of over a million numbers (a 540×540 model's)
    costs no float64 copy of the corpus.

    Args:
        code: float (D,).
        corpus: float (K, D), K ≥ 1.
    """
    return _fit(code, corpus)[0]


def _fit(code: np.ndarray, corpus: np.ndarray) -> tuple[np.ndarray, float]:
    """:func:`convex_mix`'s weights, and ‖code − Σ w_i corpus[i]‖ for them."""
    corpus = np.asarray(corpus)
    code = np.asarray(code).reshape(-1)
    if corpus.ndim != 2 or len(corpus) == 0 or corpus.shape[1] != len(code):
        raise ValueError(f"Expected a corpus of shape (K, {len(code)}) with K ≥ 1, got {corpus.shape}.")
    count = len(corpus)
    scale = max(float(np.abs(corpus).max()), float(np.abs(code).max()), 1e-30)
    # ‖A w − b‖ = ‖R [w; −1]‖ for R of the QR of [A | b], built block by block: the R of a
    # block's rows stacked under the R so far is the R of all the rows so far.
    triangle = np.empty((0, count + 1))
    for start in range(0, len(code), _BLOCK):
        stop = min(start + _BLOCK, len(code))
        block = np.empty((stop - start, count + 1))
        block[:, :count] = corpus[:, start:stop].T
        block[:, count] = code[start:stop]
        triangle = np.linalg.qr(np.vstack([triangle, block / scale]), mode="r")
    system = np.vstack([triangle[:, :count], np.full((1, count), _SUM_WEIGHT)])
    target = np.concatenate([triangle[:, count], [_SUM_WEIGHT]])
    weights, _ = nnls(system, target, maxiter=50 * count)
    total = weights.sum()
    weights = weights / total if total > 0 else np.full(count, 1.0 / count)
    return weights, scale * float(np.linalg.norm(triangle @ np.append(weights, -1.0)))


def made_of(codes, rows: np.ndarray, centre: np.ndarray, corpus: int = CORPUS) -> list[MadeOf]:
    """Each of images ``rows``'s code as a convex mix of its ``corpus`` most similar other codes.

    Args:
        codes: float32 (N, D), as encoded (NaN and infinite values are set to 0, as for the
            neighbour search); may be a :class:`~aevis._utils.codes.CodeFile`.
        rows: int (n,), the images to explain.
        centre: float (D,), the set's mean code (the similarity's and the residual's centre).
        corpus: codes per mix, fewer when the set has fewer other codes.

    Returns:
        One :class:`MadeOf` per row, in the order of ``rows``; empty mixes for a set of one.
    """
    rows = np.asarray(rows, np.int64)
    nearest = nearest_of(codes, rows, corpus, centre)
    centre = np.asarray(centre, np.float64).reshape(-1)
    result = []
    for row, others in zip(rows, nearest):
        if not len(others):
            result.append(MadeOf(np.empty(0, np.int64), np.empty(0), float("nan")))
            continue
        code = finite_codes(codes[[int(row)]])[0]
        weights, left = _fit(code, finite_codes(codes[np.sort(others)]))
        distinct = np.linalg.norm(code - centre)
        order = np.lexsort((np.sort(others), -weights))
        kept = order[weights[order] >= SMALLEST]
        result.append(
            MadeOf(
                np.sort(others)[kept],
                weights[kept] / weights[kept].sum(),
                float(left / distinct) if distinct > 0 else 0.0,
            )
        )
    return result
