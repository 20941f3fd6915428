"""Built-in image sets kept between builds: drawing 100,000 shapes took 55 s, a tenth of a
warm rebuild's time, and reading them back takes seconds."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aevis._utils.pixels import Masks
from aevis.data.imageset import ImageSet
from aevis.store.cache import ResultCache

KIND = "image set"


def remembered_imageset(cache: ResultCache, key: str, make: Callable[[], ImageSet]) -> ImageSet:
    """The image set stored under ``key`` (its images read in place when large), else
    ``make()``'s, stored under it. ``key`` must name everything the set depends on."""
    entry = cache.arrays(KIND, key)
    images = None if entry is None else cache.pixels(KIND, key, counted=False)
    if images is not None:
        return ImageSet(
            images=images,
            names=entry["names"].tolist(),
            sources=entry["sources"].tolist(),
            labels=entry["labels"].tolist() if "labels" in entry else None,
            masks=Masks.from_packed(tuple(entry["mask_shape"]), entry["masks"]) if "masks" in entry else None,
            label_kind=str(entry["label_kind"]) if "label_kind" in entry else None,
        )
    made = make()
    arrays = {"names": np.array(made.names), "sources": np.array(made.sources)}
    if made.labels is not None:
        arrays["labels"] = np.array(made.labels)
    if made.masks is not None:
        arrays["masks"], arrays["mask_shape"] = made.masks.packed, np.array(made.masks.shape)
    if made.label_kind is not None:
        arrays["label_kind"] = np.array(made.label_kind)
    cache.put_pixels(KIND, key, made.images)
    cache.put_arrays(KIND, key, arrays)
    return made
