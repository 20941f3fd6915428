"""How far to trust the map: does it keep the codes' neighbourhoods, and do labels agree?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.manifold import trustworthiness
from sklearn.neighbors import NearestNeighbors

from aevis._utils.codes import code_rows
from aevis.latent.neighbours import nearest_neighbours

QUALITY_K = 10
"""Neighbours per point in every figure here."""
TRUST_SAMPLE = 2000
"""Trustworthiness needs all pairwise distances (N² memory), so it is measured on at most this
many points, drawn with the build's seed."""


@dataclass(frozen=True)
class MapQuality:
    """The map's quality figures, as :func:`map_quality` measures them (what each one means is
    told there); None where a figure does not apply (no labels, no images, too few images)."""

    k: int
    trustworthiness: float | None
    trust_sample: int
    label_agreement_codes: float | None
    label_agreement_map: float | None
    label_agreement_chance: float | None
    label_agreement_pixels: float | None
    label_agreement_codes_sampled: float | None


def map_quality(
    codes: np.ndarray,
    positions: np.ndarray,
    labels=None,
    k: int = QUALITY_K,
    sample: int = TRUST_SAMPLE,
    seed: int = 0,
    images: np.ndarray | None = None,
    code_neighbours: np.ndarray | None = None,
) -> MapQuality:
    """The map's quality figures (the manifest's ``map_quality``).

    Args:
        codes: float32 (N, D) codes.
        positions: float32 (N, 2) map positions.
        labels: N labels (any hashable), or None.
        k: neighbours per point (10).
        sample: most points used for trustworthiness and the pixels' label agreement (a seeded
            random subset above it).
        seed: seed of that subset.
        images: the N images (N, H, W, C), for the pixels' label agreement; None skips it.
        code_neighbours: int (N, at least k): each code's nearest others by cosine similarity,
            most similar first (:func:`aevis.latent.neighbours.nearest_neighbours`), where the
            build already searched; None searches here.

    Returns:
        A :class:`MapQuality`: ``k``; ``trustworthiness``: 1 when every point's k map neighbours are also near it in
        code space (cosine distance), lower when the map invents neighbours (Venna & Kaski
        2001; scikit-learn's ``trustworthiness``); ``trust_sample``: points it was measured on;
        ``label_agreement_codes`` / ``label_agreement_map``: mean share of each point's k
        nearest neighbours (cosine in code space / straight-line on the map) with its own
        label; ``label_agreement_chance``: the share expected if neighbours were drawn at
        random; ``label_agreement_pixels``: the share with neighbours by the cosine similarity of
        the raw pixels instead of the codes (did the network add anything to what the pixels
        already group?), and ``label_agreement_codes_sampled``: the codes' share to compare it
        with, both among the ``trust_sample`` points (so the codes' equals
        ``label_agreement_codes`` up to :data:`TRUST_SAMPLE` points). The label figures are None
        without labels, the pixels' without images. All None (but ``k``) for sets too small to
        have k neighbours.
    """
    codes = code_rows(codes)
    positions = np.asarray(positions, np.float32)
    count = len(codes)
    result = {
        "k": k,
        "trustworthiness": None,
        "trust_sample": 0,
        "label_agreement_codes": None,
        "label_agreement_map": None,
        "label_agreement_chance": None,
        "label_agreement_pixels": None,
        "label_agreement_codes_sampled": None,
    }
    k = min(k, count - 1)
    if k < 1:
        return MapQuality(**result)
    chosen = np.arange(count)
    if count > sample:
        chosen = np.sort(np.random.default_rng(seed).choice(count, sample, replace=False))
    trust_k = min(k, (len(chosen) - 1) // 2)  # scikit-learn requires k < n / 2
    if trust_k >= 1:
        result["trustworthiness"] = float(
            trustworthiness(codes[chosen], positions[chosen], n_neighbors=trust_k, metric="cosine")
        )
        result["trust_sample"] = int(len(chosen))
    if labels is not None:
        ids = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)[1]
        map_neighbours = NearestNeighbors(n_neighbors=k + 1).fit(positions).kneighbors(positions)[1]
        map_neighbours = _without_self(map_neighbours, k)
        nearest = nearest_neighbours(codes, k, ordered=False)[0] if code_neighbours is None else code_neighbours[:, :k]
        result["label_agreement_codes"] = float(np.mean(ids[nearest] == ids[:, None]))
        result["label_agreement_map"] = float(np.mean(ids[map_neighbours] == ids[:, None]))
        shares = np.bincount(ids) / count
        result["label_agreement_chance"] = float(np.sum(shares * (shares * count - 1) / (count - 1)))
        if images is not None:
            pixels = images[chosen].reshape(len(chosen), -1)
            result["label_agreement_pixels"] = _label_agreement(pixels, ids[chosen], k)
            result["label_agreement_codes_sampled"] = (  # unsampled, it is the figure above
                result["label_agreement_codes"]
                if len(chosen) == count
                else _label_agreement(codes[chosen], ids[chosen], k)
            )
    return MapQuality(**result)


def _label_agreement(vectors: np.ndarray, ids: np.ndarray, k: int) -> float:
    """Mean share of each row's k most cosine-similar rows that carry its label id."""
    neighbours = nearest_neighbours(vectors, k, ordered=False)[0]
    return float(np.mean(ids[neighbours] == ids[:, None]))


def _without_self(neighbours: np.ndarray, k: int) -> np.ndarray:
    """Drop each row's own index (usually first, but not on exact ties), keep k."""
    rows = np.arange(len(neighbours))[:, None]
    keep = neighbours != rows
    # Rows where self was not found lose their last neighbour instead.
    keep[keep.all(axis=1), -1] = False
    return neighbours[keep].reshape(len(neighbours), k)
