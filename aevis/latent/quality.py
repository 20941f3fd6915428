"""How far to trust the map: does it keep the codes' neighbourhoods, and do labels agree?"""

from __future__ import annotations

import numpy as np
from sklearn.manifold import trustworthiness
from sklearn.neighbors import NearestNeighbors

from aevis.latent.neighbours import nearest_neighbours

QUALITY_K = 10
"""Neighbours per point in every figure here."""
TRUST_SAMPLE = 2000
"""Trustworthiness needs all pairwise distances (N² memory), so it is measured on at most this
many points, drawn with the build's seed."""


def map_quality(codes: np.ndarray, positions: np.ndarray, labels=None, k: int = QUALITY_K,
                sample: int = TRUST_SAMPLE, seed: int = 0) -> dict:
    """The map's quality figures, as plain numbers for the manifest's ``map_quality``.

    Args:
        codes: float32 (N, D) codes.
        positions: float32 (N, 2) map positions.
        labels: N labels (any hashable), or None.
        k: neighbours per point (10).
        sample: most points used for trustworthiness (a seeded random subset above it).
        seed: seed of that subset.

    Returns:
        ``k``; ``trustworthiness``: 1 when every point's k map neighbours are also near it in
        code space (cosine distance), lower when the map invents neighbours (Venna & Kaski
        2001; scikit-learn's ``trustworthiness``); ``trust_sample``: points it was measured on;
        ``label_agreement_codes`` / ``label_agreement_map``: mean share of each point's k
        nearest neighbours (cosine in code space / straight-line on the map) with its own
        label; ``label_agreement_chance``: the share expected if neighbours were drawn at
        random. The label figures are None without labels. All None (but ``k``) for sets too
        small to have k neighbours.
    """
    codes = np.asarray(codes, np.float32)
    positions = np.asarray(positions, np.float32)
    count = len(codes)
    result = {"k": k, "trustworthiness": None, "trust_sample": 0, "label_agreement_codes": None,
              "label_agreement_map": None, "label_agreement_chance": None}
    k = min(k, count - 1)
    if k < 1:
        return result
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
        code_neighbours = nearest_neighbours(codes, k, ordered=False)[0]
        map_neighbours = NearestNeighbors(n_neighbors=k + 1).fit(positions).kneighbors(positions)[1]
        map_neighbours = _without_self(map_neighbours, k)
        result["label_agreement_codes"] = float(np.mean(ids[code_neighbours] == ids[:, None]))
        result["label_agreement_map"] = float(np.mean(ids[map_neighbours] == ids[:, None]))
        shares = np.bincount(ids) / count
        result["label_agreement_chance"] = float(np.sum(shares * (shares * count - 1) / (count - 1)))
    return result


def _without_self(neighbours: np.ndarray, k: int) -> np.ndarray:
    """Drop each row's own index (usually first, but not on exact ties), keep k."""
    rows = np.arange(len(neighbours))[:, None]
    keep = neighbours != rows
    # Rows where self was not found lose their last neighbour instead.
    keep[keep.all(axis=1), -1] = False
    return neighbours[keep].reshape(len(neighbours), k)
