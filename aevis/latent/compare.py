"""Two models compared on the same images: how many neighbours they share, and their maps aligned.

Model A is the gallery's own model, model B the one given with ``--compare``. For each image,
:func:`neighbour_overlap` counts the share of its k nearest neighbours (cosine similarity of
codes, :func:`aevis.latent.neighbours.nearest_neighbours`) both models agree on; two models that
group the images alike share most of them, and random neighbours would share
:func:`chance_overlap` of them. :func:`procrustes_align` turns, mirrors, scales and shifts B's
t-SNE map onto A's, so the two can be drawn on one picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import orthogonal_procrustes


def neighbour_overlap(mine: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """The share of each image's neighbours two models agree on, in [0, 1].

    Args:
        mine, theirs: int (N, k): each image's k neighbours (indices into the same N images)
            by model A and by model B; their order does not matter.

    Returns:
        float64 (N,): ``|mine[i] ∩ theirs[i]| / k``; 1 for every image when k is 0 (a set of
        one image: nothing to disagree on).
    """
    mine, theirs = np.asarray(mine), np.asarray(theirs)
    if mine.shape != theirs.shape or mine.ndim != 2:
        raise ValueError(f"Expected two (N, k) neighbour lists of one shape, got {mine.shape} and {theirs.shape}.")
    count, k = mine.shape
    if k == 0:
        return np.ones(count)
    # Row i's neighbours of B, per neighbour of A: the pairs that match (neighbours are distinct).
    shared = (mine[:, :, None] == theirs[:, None, :]).any(axis=2).sum(axis=1)
    return shared / k


def chance_overlap(count: int, k: int) -> float:
    """The mean overlap of two random neighbour lists: ``k / (count - 1)`` (each of A's k
    neighbours is among B's k of the other ``count - 1`` images with that chance); 1 for fewer
    than two images."""
    return k / (count - 1) if count > 1 else 1.0


@dataclass(frozen=True, eq=False)
class Alignment:
    """A point set moved onto a reference: ``positions = scale * moving @ rotation + translation``."""

    positions: np.ndarray
    """float64 (N, 2): the moved points, in the reference's coordinates."""
    rotation: np.ndarray
    """float64 (2, 2), orthogonal: a rotation, or a rotation with a mirror (determinant -1)."""
    scale: float
    translation: np.ndarray
    """float64 (2,)."""
    disparity: float
    """What is left after the best fit, in [0, 1]: the squared distances between the moved points
    and the reference, over the reference's squared spread about its centre (0: the same shape;
    :func:`scipy.spatial.procrustes`'s disparity)."""


def procrustes_align(reference: np.ndarray, moving: np.ndarray) -> Alignment:
    """Move ``moving`` onto ``reference`` by the rotation (mirror allowed), uniform scale and shift
    that leave the least squared distance between matching points (orthogonal Procrustes,
    Schönemann 1966, :func:`scipy.linalg.orthogonal_procrustes`).

    t-SNE maps have no preferred orientation, size or handedness, so only what is left after
    this fit (:attr:`Alignment.disparity`) tells two maps apart.

    Args:
        reference, moving: float (N, D) points, row i of one matching row i of the other.
    """
    reference = np.asarray(reference, np.float64)
    moving = np.asarray(moving, np.float64)
    if reference.shape != moving.shape or reference.ndim != 2:
        raise ValueError(f"Expected two (N, D) point sets of one shape, got {reference.shape} and {moving.shape}.")
    centre_ref, centre_mov = reference.mean(axis=0), moving.mean(axis=0)
    target, source = reference - centre_ref, moving - centre_mov
    spread_ref, spread_mov = float(np.sum(target**2)), float(np.sum(source**2))
    if spread_mov == 0.0 or spread_ref == 0.0:  # a map of one place: the best fit is the other's centre
        rotation, scale = np.eye(reference.shape[1]), 0.0
    else:
        rotation, singular_sum = orthogonal_procrustes(source, target)
        scale = singular_sum / spread_mov
    translation = centre_ref - scale * centre_mov @ rotation
    positions = scale * moving @ rotation + translation
    left = float(np.sum((positions - reference) ** 2))
    disparity = left / spread_ref if spread_ref > 0 else 0.0
    return Alignment(positions, rotation, float(scale), translation, min(disparity, 1.0))


@dataclass(frozen=True, eq=False)
class Comparison:
    """The gallery's model (A) and a second model (B) on the same images, in manifest order."""

    source: str
    """Model B's file name."""
    sha256: str | None
    bottleneck: str
    """Model B's code layer."""
    code_size: int
    input_shape: tuple[int, int, int]
    """Model B's input (height, width, channels); the images were brought to it."""
    neighbour_indices: np.ndarray
    """int (N, k): each image's neighbours by model B."""
    overlap: np.ndarray
    """float64 (N,): :func:`neighbour_overlap` of A's neighbours and B's."""
    positions: np.ndarray
    """float64 (N, 2): model B's t-SNE map aligned onto A's (:func:`procrustes_align`)."""
    disparity: float
    neighbour_similarities: np.ndarray | None = None
    """float32 (N, k): each image's similarity to its neighbours by model B (its codes less
    their own mean, :mod:`aevis.latent.neighbours`); None where not kept."""

    @property
    def k(self) -> int:
        return int(self.neighbour_indices.shape[1])

    @property
    def mean_overlap(self) -> float:
        return float(self.overlap.mean())

    @property
    def chance(self) -> float:
        """The mean overlap random neighbours would give (:func:`chance_overlap`)."""
        return chance_overlap(len(self.overlap), self.k)

    def most_changed(self, count: int) -> np.ndarray:
        """Up to ``count`` images whose neighbours changed most (lowest overlap first, then
        manifest order), leaving out those that kept them all."""
        order = np.argsort(self.overlap, kind="stable")
        return order[self.overlap[order] < 1][:count]
