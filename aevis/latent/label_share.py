"""Whether an example-importance ranking follows the labels the network never saw.

Crabbé & van der Schaar ("Label-Free Explainability for Unsupervised Models", ICML 2022,
section 4.2) check label-free example importance on a labelled set: for each image, rank the
other images by importance, take the top M and the bottom M, and count the share that carry the
image's own label. A ranking that means something puts images of the same label at the top
(above chance) and pushes them away from the bottom (below chance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRACTIONS = (0.01, 0.05, 0.10, 0.20)
"""M, as shares of the other images."""


@dataclass(frozen=True)
class LabelShare:
    """At one M: the share of the top and of the bottom M images that carry the image's label."""

    fraction: float
    """M as a share of the other images."""
    count: int
    """M as a number of images."""
    top: float
    bottom: float
    chance: float
    """The share if the M images were drawn at random: each image's label's share of the others, averaged."""

    @property
    def holds(self) -> bool:
        """The top sits above chance and the bottom below it."""
        return self.top > self.chance > self.bottom


def label_shares(scores: np.ndarray, rows: np.ndarray, labels, fractions=FRACTIONS) -> list[LabelShare]:
    """The label shares of the rankings ``scores``, averaged over images ``rows``.

    Args:
        scores: float (S, N): row s scores every image for image ``rows[s]`` (higher: more
            important); the image's own score is left out. Ties are broken by index.
        rows: int (S,).
        labels: (N,) any comparable labels.
        fractions: the M's, as shares of the N − 1 other images (each at least one image).
    """
    labels = np.asarray(labels)
    scores, rows = np.asarray(scores), np.asarray(rows, np.int64)
    count = len(labels)
    if scores.shape != (len(rows), count) or count < 2 or not len(rows):
        raise ValueError(
            f"Expected scores of shape ({len(rows)}, {count}) for at least one image of two, got {scores.shape}."
        )
    sizes = [max(1, round(fraction * (count - 1))) for fraction in fractions]
    top, bottom, chance = np.zeros(len(sizes)), np.zeros(len(sizes)), 0.0
    for row, index in zip(scores, rows):
        others = np.delete(np.arange(count), index)
        order = others[np.lexsort((others, -row[others]))]  # highest first, then by index
        same = labels[order] == labels[index]
        chance += same.mean()
        for place, size in enumerate(sizes):
            top[place] += same[:size].mean()
            bottom[place] += same[-size:].mean()
    return [
        LabelShare(
            fraction, size, float(top[place] / len(rows)), float(bottom[place] / len(rows)), float(chance / len(rows))
        )
        for place, (fraction, size) in enumerate(zip(fractions, sizes))
    ]
