"""The images a gallery is made of, and the names they go by."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from aevis._utils.pixels import Masks, Pixels


@dataclass(frozen=True)
class Reject:
    """A file that did not become an image, and why."""

    path: str
    reason: str


@dataclass(frozen=True, eq=False)
class ImageSet:
    """Images at the model's input size, with what is known about each.

    Attributes:
        images: (N, H, W, C), kept as bytes and read as float32 in [0, 1] (:class:`Pixels`;
            a float array given here is rounded to 8 bits).
        names: what a person calls each image (a file name, or a generated name).
        sources: where each came from: the path relative to the image folder, or
            ``<dataset>/<name>`` for a built-in set.
        labels: a class label per image, where known.
        label_kind: what a label names, as a noun that follows "the same" ("digit", "kind of
            shape"), where known.
        masks: bool (N, H, W) ground-truth object masks, where known (:class:`Masks`, packed; a
            bool array given here is packed).
        rejected: files that were skipped, with reasons.
    """

    images: Pixels
    names: list[str]
    sources: list[str]
    labels: list[str] | None = None
    masks: Masks | None = None
    label_kind: str | None = None
    rejected: list[Reject] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.images, Pixels):
            object.__setattr__(self, "images", Pixels.from_unit(self.images))
        if self.masks is not None and not isinstance(self.masks, Masks):
            object.__setattr__(self, "masks", Masks.from_bool(self.masks))

    def __len__(self) -> int:
        return len(self.images)

    @property
    def grayscale(self) -> bool:
        """Whether every image is grey: one channel, or every channel equal to the first (as a
        grey picture saved in colour is)."""
        return self.images.shape[-1] == 1 or self.images.all_grey()

    def in_one_channel(self) -> ImageSet:
        """The same set with grey images as one channel (the first)."""
        return dataclasses.replace(self, images=self.images.channels(1))

    def content_hash(self) -> str:
        """SHA-256 of the pixels and the sources, the cache key of anything trained on them."""
        digest = hashlib.sha256()
        self.images.update_hash(digest)
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
