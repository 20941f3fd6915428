"""How many images a model call holds: worked out from the model's own layer sizes."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from aevis import memory
from aevis.errors import AevisError
from aevis.model import wrap_autoencoder
from tests import models


def _wide_autoencoder(size: int) -> keras.Model:
    """Input size×size×1, 32 channels at full size, a strided 16-channel code, and back."""
    image = keras.Input((size, size, 1))
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(image)
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="code")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(image, x)


def test_an_image_costs_the_sum_of_its_layers_outputs():
    ae = wrap_autoencoder(_wide_autoencoder(64), bottleneck="code")
    # input, conv 32, code 16 at half size, transposed conv 32, output: float32 each
    numbers = 64 * 64 * (1 + 32 + 32 + 1) + 32 * 32 * 16
    assert memory.image_bytes(ae) == 4 * numbers


def test_the_batch_shrinks_as_the_layers_grow():
    small = wrap_autoencoder(models.tiny_seed(), bottleneck="encoded")
    assert memory.images_per_call(small, 32) == 32  # a small model keeps the batch it was given
    sizes = (128, 256, 540)
    batches = [
        memory.images_per_call(wrap_autoencoder(_wide_autoencoder(size), bottleneck="code"), 32) for size in sizes
    ]
    assert batches == sorted(batches, reverse=True) and batches[0] > batches[-1]
    # 540×540: 77.9 MB an image, so 2 fit in 192 MB, and 2 pages in a 160 MB chunk.
    big = wrap_autoencoder(_wide_autoencoder(540), bottleneck="code")
    assert memory.images_per_call(big, 32) == memory.CALL_BYTES // memory.image_bytes(big) == 2
    assert memory.pages_per_chunk(big) == 2
    assert memory.images_per_call(big, 2) == 2  # never more than asked


def test_rows_within_a_budget_are_at_least_one_and_at_most_asked():
    assert memory.rows_within(10, 100) == 10
    assert memory.rows_within(1000, 100) == 1
    assert memory.rows_within(10, 100, most=4) == 4


def test_a_split_call_gives_the_codes_of_one_call():
    ae = wrap_autoencoder(_wide_autoencoder(540), bottleneck="code")
    images = np.random.default_rng(0).random((5, 540, 540, 1), dtype=np.float32)
    codes = ae.encode(images, batch_size=64)  # read 2 at a time
    np.testing.assert_array_equal(codes[2:4], ae.encode(images[2:4], batch_size=2))


def test_a_model_that_cannot_fit_is_refused_in_one_sentence_naming_what_helps():
    ae = wrap_autoencoder(_wide_autoencoder(540), bottleneck="code")  # 78 MB an image
    memory.check_fits(ae, gradients=True, free=2**30)  # fits
    with pytest.raises(
        AevisError, match=r"more than the 0\.2 GB free on this machine: draw occlusion alone"
    ) as refused:
        memory.check_fits(ae, gradients=True, free=200 * 2**20)
    assert "--methods occlusion --no-pair-maps" in str(refused.value) and str(refused.value).count(". ") == 0
    memory.check_fits(ae, gradients=False, free=200 * 2**20)  # occlusion alone needs no gradients
    with pytest.raises(AevisError, match="holds? 0.1 GB for each image it reads, more than the 0.0 GB free"):
        memory.check_fits(ae, gradients=False, free=20 * 2**20)
    assert memory.available_bytes() > 0
