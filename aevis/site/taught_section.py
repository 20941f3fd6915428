"""What the pages show of "Taught by" (:mod:`aevis.latent.taught_by`): an image page's section,
and the reading page's label-share check (:mod:`aevis.latent.label_share`)."""

from __future__ import annotations

from dataclasses import dataclass

from aevis.gallery import Gallery

TAUGHT_SHOWN = 5
"""Proponents, and opponents, shown as pictures on an image page."""
TRACIN_PAPER = "https://arxiv.org/abs/2002.08484"
"""TracIn: Pruthi, Liu, Kale & Sundararajan, NeurIPS 2020."""
LABEL_FREE_PAPER = "https://arxiv.org/abs/2203.01928"
"""Crabbé & van der Schaar, "Label-Free Explainability for Unsupervised Models", ICML 2022."""


@dataclass(frozen=True)
class Teacher:
    """One training image and its TracIn score for the page's image."""

    link: object
    """The image as pages show it (:class:`aevis.site.pages.Link`)."""
    score: float


@dataclass(frozen=True)
class TaughtSection:
    """An image page's "Taught by": the training images that helped most, and those that hindered."""

    proponents: tuple[Teacher, ...]
    opponents: tuple[Teacher, ...]
    images: int
    """The training images (every image of the set)."""
    checkpoints: int
    """Moments of training compared."""
    failed: bool
    """The label-share check ran and failed: the page says the method failed here."""
    tracin: str = TRACIN_PAPER
    label_free: str = LABEL_FREE_PAPER


@dataclass(frozen=True)
class LabelShareRow:
    """One M of the label-share check, in whole percent."""

    percent: int
    """M, as a percentage of the other images."""
    count: int
    top: float
    bottom: float
    chance: float
    holds: bool


@dataclass(frozen=True)
class LabelShareCheck:
    """The reading page's check of "Taught by" against the labels the network never saw."""

    rows: tuple[LabelShareRow, ...]
    images: int
    """Images the check ran on (the paged ones, up to :data:`aevis.latent.taught_by.SAMPLE`)."""
    label_kind: str
    holds: bool
    """Every M's top share sits above chance and its bottom share below it."""
    label_free: str = LABEL_FREE_PAPER


def label_share_check(gallery: Gallery) -> LabelShareCheck | None:
    """The check, where the images have labels and the model was trained here."""
    shares = gallery.taught_label_shares
    if shares is None:
        return None
    rows = tuple(
        LabelShareRow(round(share.fraction * 100), share.count, share.top, share.bottom, share.chance, share.holds)
        for share in shares
    )
    return LabelShareCheck(
        rows, len(gallery.taught.sample), gallery.imageset.label_kind or "label", all(row.holds for row in rows)
    )


def taught_section(gallery: Gallery, index: int, links: list) -> TaughtSection | None:
    """Image ``index``'s "Taught by" (``links``: every image as pages show it); None where the
    model was not trained here."""
    if gallery.taught is None:
        return None
    proponents, opponents = gallery.taught.of(index)
    check = gallery.taught_label_shares
    return TaughtSection(
        tuple(Teacher(links[other], score) for other, score in proponents[:TAUGHT_SHOWN]),
        tuple(Teacher(links[other], score) for other, score in opponents[:TAUGHT_SHOWN]),
        len(gallery),
        len(gallery.taught.epochs),
        failed=check is not None and not all(share.holds for share in check),
    )
