"""Which images get a thumbnail picture of their own (``media/<slug>/input.png``): the ones a
page shows, wherever it is a picture.

At 100,000 images a thumbnail for each would take most of a gigabyte, the published-size limit
of the common free static hosts; the pages show a few thousand at most, and the map draws every
image from its sprite sheets instead (:mod:`aevis.site.map_sprites`). Every page model that
shows an image's picture gets it through :func:`aevis.site.pages.image_link`; this module names
those images, page by page, so the build draws exactly their thumbnails.
"""

from __future__ import annotations

import numpy as np

from aevis.gallery import Gallery
from aevis.site.compare_page import CHANGED_SHOWN
from aevis.site.set_pages import shown_images
from aevis.site.taught_section import TAUGHT_SHOWN


def pictured(gallery: Gallery) -> np.ndarray:
    """bool (N,): whether some page shows image i's thumbnail."""
    shown = np.zeros(len(gallery), bool)
    paged = gallery.paged
    shown[paged] = True  # the index, and each image's own page
    neighbours = gallery.neighbour_indices
    if neighbours.size:
        shown[neighbours[paged].ravel()] = True  # a page's most similar images
        shown[np.isin(neighbours, paged).any(axis=1)] = True  # and the images that list it
    order, _ = gallery.error_ranking
    shown[np.concatenate(shown_images(len(order), order))] = True  # strangest.html
    shown[list(gallery.flags)] = True  # report.html
    duplicates = gallery.duplicates
    shown[duplicates.candidates.pairs.ravel()] = True  # duplicates.html, at any threshold
    for group in duplicates.groups:
        shown[list(group.members)] = True
    if gallery.insides is not None:  # the channel galleries' strongest images
        for ranking in gallery.insides.rankings.values():
            shown[ranking.indices.ravel()] = True
    taught = gallery.taught
    if taught is not None:  # each page's "Taught by"
        shown[taught.proponents[:, :TAUGHT_SHOWN].ravel()] = True
        shown[taught.opponents[:, :TAUGHT_SHOWN].ravel()] = True
    comparison = gallery.comparison
    if comparison is not None:  # compare.html
        for index in comparison.most_changed(CHANGED_SHOWN):
            shown[[index, *neighbours[index], *comparison.neighbour_indices[index]]] = True
    return shown
