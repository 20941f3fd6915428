"""Images kept as bytes, in memory or in a memory-mapped file, read as float32."""

import hashlib

import numpy as np
import pytest
from PIL import Image

from aevis._utils import pixels
from aevis._utils.pixels import Masks, Pixels, to_bytes
from aevis.data import folders

RNG = np.random.default_rng(3)
UNIT = RNG.random((5, 4, 6, 3), dtype=np.float32)


def test_floats_round_to_the_nearest_of_256_levels_and_read_back_as_float32():
    assert to_bytes(np.array([0.0, 0.5 / 255 - 1e-6, 0.5 / 255 + 1e-6, 1.0, 1.7, -0.2])).tolist() == [
        0,
        0,
        1,
        255,
        255,
        0,
    ]
    kept = Pixels.from_unit(UNIT)
    assert kept[2].dtype == np.float32 and kept[2].shape == (4, 6, 3) and kept[[4, 0]].shape == (2, 4, 6, 3)
    np.testing.assert_array_equal(kept[[4, 0]], np.round(UNIT[[4, 0]] * 255) / np.float32(255))
    assert np.abs(np.asarray(kept) - UNIT).max() <= 0.5 / 255 + 1e-7
    assert len(kept) == 5 and kept.shape == (5, 4, 6, 3) and not kept.on_file


def test_on_disk_pixels_read_exactly_as_in_memory_ones():
    in_memory = Pixels.from_unit(UNIT)
    on_disk = Pixels.allocate(UNIT.shape, on_disk=True)
    for index, image in enumerate(UNIT):
        on_disk[index] = image
    assert on_disk.on_file and not in_memory.on_file
    keys = (
        3,
        -1,
        slice(1, 4),
        slice(None, None, 2),
        [4, 1, 1, 2],
        np.array([0, 2]),
        np.array([True, False] * 2 + [True]),
        (slice(None), 1),
        (2, slice(1, 3), 0),
        (Ellipsis, slice(None, 1)),
        Ellipsis,
    )
    for key in keys:
        np.testing.assert_array_equal(on_disk[key], in_memory[key], err_msg=repr(key))
    np.testing.assert_array_equal(on_disk.head(2)[:], in_memory[:2])
    first, second = hashlib.sha256(), hashlib.sha256()
    in_memory.update_hash(first)
    on_disk.update_hash(second)
    assert first.hexdigest() == second.hexdigest() == hashlib.sha256(to_bytes(UNIT).tobytes()).hexdigest()
    assert on_disk.channels(1).on_file and on_disk.channels(1).shape == (5, 4, 6, 1)
    np.testing.assert_array_equal(on_disk.channels(1)[:], in_memory[..., :1])


def test_grey_is_every_channel_equal_to_the_first():
    grey = np.repeat(UNIT[..., :1], 3, axis=-1)
    assert Pixels.from_unit(grey).all_grey()
    grey[2, 3, 5, 1] += 1 / 255  # one level off in one pixel
    assert not Pixels.from_unit(grey).all_grey()


def test_a_large_folder_is_read_to_disk_with_the_same_pixels(tmp_path, monkeypatch):
    folder = tmp_path / "photos"
    folder.mkdir()
    for index, image in enumerate(to_bytes(RNG.random((4, 20, 30, 3)))):
        Image.fromarray(image).save(folder / f"photo-{index}.png")
    (folder / "notes.txt").write_text("not an image")
    in_memory = folders.read_image_folder(folder, (8, 8, 3))
    monkeypatch.setattr(pixels, "IN_MEMORY_LIMIT", 0)
    on_disk = folders.read_image_folder(folder, (8, 8, 3))
    assert not in_memory.images.on_file and on_disk.images.on_file
    assert len(on_disk) == 4 and [reject.path for reject in on_disk.rejected] == ["notes.txt"]
    np.testing.assert_array_equal(on_disk.images[:], in_memory.images[:])
    assert on_disk.content_hash() == in_memory.content_hash()


def test_pixels_that_are_not_bytes_are_refused():
    with pytest.raises(ValueError, match="uint8"):
        Pixels(UNIT)


def test_masks_packed_eight_to_a_byte_unpack_exactly():
    masks = np.random.default_rng(8).random((6, 5, 7)) > 0.5  # 35 bits a mask: not a whole number of bytes
    packed = Masks.from_bool(masks)
    assert packed.shape == (6, 5, 7) and packed.dtype == bool and len(packed) == 6
    assert packed._packed.nbytes == 6 * 5  # ceil(35 / 8) bytes a mask
    for key in (2, -1, slice(1, 4), [5, 0, 0], np.array([True, False] * 3), (slice(None), 1), (3, 2, slice(0, 4))):
        np.testing.assert_array_equal(packed[key], masks[key], err_msg=repr(key))
    packed[4] = ~masks[4]
    np.testing.assert_array_equal(packed[4], ~masks[4])
    np.testing.assert_array_equal(np.asarray(packed)[:4], masks[:4])
