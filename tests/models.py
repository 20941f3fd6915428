"""Tiny Keras models for the tests, built fresh by each factory."""

from __future__ import annotations

import keras
from keras import layers

from aevis.seed import build_seed_autoencoder


def tiny_seed(size: int = 16, channels: int = 3) -> keras.Model:
    """The seed architecture at toy size: 16x16 input, 4/4/8/8 filters."""
    keras.utils.set_random_seed(1)
    return build_seed_autoencoder((size, size, channels), filters=(4, 4, 8, 8))


def strided_dense(size: int = 16, channels: int = 3) -> keras.Model:
    """Strided-conv encoder, Dense bottleneck named 'code_dense', Conv2DTranspose decoder."""
    keras.utils.set_random_seed(2)
    image = keras.Input((size, size, channels))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(image)
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(6, activation="relu", name="code_dense")(x)
    x = layers.Dense((size // 4) * (size // 4) * 8, activation="relu")(x)
    x = layers.Reshape((size // 4, size // 4, 8))(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(channels, 3, strides=2, padding="same", activation="sigmoid")(x)
    return keras.Model(image, x)


def no_narrowing(size: int = 8, channels: int = 3) -> keras.Model:
    """Every layer at least as large as the input: no bottleneck to find."""
    image = keras.Input((size, size, channels))
    x = layers.Conv2D(8, 3, padding="same")(image)
    x = layers.Conv2D(channels, 3, padding="same")(x)
    return keras.Model(image, x)
