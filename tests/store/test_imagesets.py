"""Built-in image sets drawn once and read back from the cache exactly as they were drawn."""

import numpy as np

from aevis._utils import pixels
from aevis.data import builtin
from aevis.data.imageset import ImageSet
from aevis.store.cache import ResultCache
from aevis.store.imagesets import remembered_imageset


def _counted(make):
    calls = []

    def counting():
        calls.append(1)
        return make()

    return counting, calls


def _assert_same(found: ImageSet, made: ImageSet) -> None:
    np.testing.assert_array_equal(found.images.bytes(slice(None)), made.images.bytes(slice(None)))
    assert (found.names, found.sources, found.labels, found.label_kind) == (
        made.names,
        made.sources,
        made.labels,
        made.label_kind,
    )
    if made.masks is None:
        assert found.masks is None
    else:
        np.testing.assert_array_equal(found.masks[:], made.masks[:])
    assert found.content_hash() == made.content_hash()


def test_a_built_in_set_is_drawn_once_then_read_back_whole(tmp_path, monkeypatch):
    made = builtin.make_shapes(7, 16, seed=3)
    make, calls = _counted(lambda: builtin.make_shapes(7, 16, seed=3))
    cache = ResultCache(tmp_path)
    _assert_same(remembered_imageset(cache, "ab" * 32, make), made)
    again = remembered_imageset(cache, "ab" * 32, make)
    assert len(calls) == 1 and not again.images.on_file
    _assert_same(again, made)
    monkeypatch.setattr(pixels, "IN_MEMORY_LIMIT", 0)  # a large set: read in place from the cache's file
    in_place = remembered_imageset(cache, "ab" * 32, make)
    assert len(calls) == 1 and in_place.images.on_file
    _assert_same(in_place, made)
    np.testing.assert_array_equal(in_place.images.head(3)[:], made.images[:3])
    assert (cache.hits["image set"], cache.misses["image set"]) == (2, 1)


def test_a_set_without_labels_or_masks_comes_back_without_them(tmp_path):
    plain = ImageSet(
        images=np.random.default_rng(0).random((3, 4, 4, 1)), names=["a", "b", "c"], sources=["x/a", "x/b", "x/c"]
    )
    cache = ResultCache(tmp_path)
    remembered_imageset(cache, "cd" * 32, lambda: plain)
    _assert_same(remembered_imageset(cache, "cd" * 32, lambda: None), plain)
    # Without a cache the set is simply made.
    _assert_same(remembered_imageset(ResultCache(None), "cd" * 32, lambda: plain), plain)
