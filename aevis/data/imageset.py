"""The images a gallery is made of, and the names they go by."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Reject:
    """A file that did not become an image, and why."""

    path: str
    reason: str


@dataclass(frozen=True, eq=False)
class ImageSet:
    """Images at the model's input size, with what is known about each.

    Attributes:
        images: float32 (N, H, W, C) in [0, 1].
        names: what a person calls each image (a file name, or a generated name).
        sources: where each came from: the path relative to the image folder, or
            ``<dataset>/<name>`` for a built-in set.
        labels: a class label per image, where known.
        label_kind: what a label names, as a noun that follows "the same" ("digit", "kind of
            shape"), where known.
        masks: bool (N, H, W) ground-truth object masks, where known.
        rejected: files that were skipped, with reasons.
    """

    images: np.ndarray
    names: list[str]
    sources: list[str]
    labels: list[str] | None = None
    masks: np.ndarray | None = None
    label_kind: str | None = None
    rejected: list[Reject] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def grayscale(self) -> bool:
        """Whether every image is grey: one channel, or every channel equal to the first (to
        within half a level of 8-bit colour, as a grey picture saved in colour is)."""
        images = self.images
        return images.shape[-1] == 1 or bool(np.all(np.abs(images - images[..., :1]) <= 0.5 / 255))

    def in_one_channel(self) -> ImageSet:
        """The same set with grey images as one channel (the first)."""
        return dataclasses.replace(self, images=np.ascontiguousarray(self.images[..., :1]))

    def content_hash(self) -> str:
        """SHA-256 of the pixels and the sources, the cache key of anything trained on them."""
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(self.images, np.float32).tobytes())
        digest.update("\0".join(self.sources).encode())
        return digest.hexdigest()


def sample_positions(count: int, sample: int) -> np.ndarray:
    """The one rule for which images a check runs on (the faithfulness checks, the pixel-range
    detection): up to ``sample`` indices of ``range(count)``, evenly spread (all of them when
    ``count <= sample``)."""
    if count <= sample:
        return np.arange(count)
    return np.unique(np.round(np.linspace(0, count - 1, sample)).astype(int))


def unique_slugs(sources: list[str]) -> list[str]:
    """URL- and file-safe, unique, readable names: ``Cats/Tom & Jerry.JPG`` -> ``cats-tom-jerry-jpg``.

    Accents are folded to ASCII, anything else becomes a hyphen; a clash gets ``-2``, ``-3``...
    """
    slugs, taken = [], set()
    for source in sources:
        folded = unicodedata.normalize("NFKD", source).encode("ascii", "ignore").decode()
        base = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:80] or "image"
        slug, suffix = base, 2
        while slug in taken:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(slug)
        slugs.append(slug)
    return slugs
