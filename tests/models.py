"""Tiny Keras models for the tests, built fresh by each factory."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from aevis.model.seed import build_seed_autoencoder


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


# Weights of `linear_code`: the code is Σ w·x over this 4x4 grid, so t(x) − t(x with a patch)
# is the sum of w·(x − fill) under the patch, computable on paper.
LINEAR_WEIGHTS = ((1.0, 2.0, 0.0, 0.0), (3.0, 4.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0))


def linear_code(weights=LINEAR_WEIGHTS) -> keras.Model:
    """4x4x1 input; one-unit linear code ``encoded`` = Σ weights·x (no bias); any decoder."""
    grid = np.asarray(weights, dtype="float32")
    size = grid.shape[0]
    image = keras.Input((size, size, 1))
    x = layers.Flatten()(image)
    code = layers.Dense(1, use_bias=False, name="encoded")
    x = code(x)
    x = layers.Dense(size * size, activation="sigmoid")(x)
    x = layers.Reshape((size, size, 1))(x)
    model = keras.Model(image, x)
    code.set_weights([grid.reshape(-1, 1)])
    return model


def smooth_conv(size: int = 8, channels: int = 3) -> keras.Model:
    """Tanh convolutions and a tanh Dense code ``encoded``: smooth, for finite differences."""
    keras.utils.set_random_seed(3)
    image = keras.Input((size, size, channels))
    x = layers.Conv2D(4, 3, padding="same", activation="tanh")(image)
    x = layers.Conv2D(4, 3, strides=2, padding="same", activation="tanh", name="last_conv")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(4, activation="tanh", name="encoded")(x)
    x = layers.Dense(size * size * channels, activation="sigmoid")(x)
    x = layers.Reshape((size, size, channels))(x)
    return keras.Model(image, x)


def top_left_reader(size: int = 16, channels: int = 3) -> keras.Model:
    """An encoder that sees only the top-left quadrant; the decoder still rebuilds the whole image.

    Cropping2D keeps the quadrant; after a 3x3 convolution there, ZeroPadding2D puts the
    features back on the full grid, so the last convolution (1x1, no bias, Grad-CAM's layer)
    is exactly zero outside the quadrant.
    """
    keras.utils.set_random_seed(4)
    half = size // 2
    image = keras.Input((size, size, channels))
    x = layers.Cropping2D(((0, half), (0, half)))(image)
    x = layers.Conv2D(4, 3, padding="same", activation="tanh")(x)
    x = layers.ZeroPadding2D(((0, half), (0, half)))(x)
    x = layers.Conv2D(4, 1, use_bias=False, activation="tanh", name="last_conv")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(4, name="encoded")(x)
    x = layers.Dense(size * size * channels, activation="sigmoid")(x)
    x = layers.Reshape((size, size, channels))(x)
    return keras.Model(image, x)


def skip_around(size: int = 8, channels: int = 3) -> keras.Model:
    """Layer ``b`` has a skip connection around it: the code does not depend on ``b`` alone."""
    keras.utils.set_random_seed(5)
    image = keras.Input((size, size, channels))
    a = layers.Conv2D(4, 3, padding="same", name="a")(image)
    b = layers.Conv2D(4, 3, padding="same", name="b")(a)
    x = layers.Add()([a, b])
    x = layers.Conv2D(2, 3, strides=4, padding="same", name="encoded")(x)
    x = layers.UpSampling2D(4)(x)
    x = layers.Conv2D(channels, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(image, x)


def mixed_windows(size: int = 17, channels: int = 3) -> keras.Model:
    """Every layer kind incremental inference runs in windows, at awkward sizes: a strided
    'valid' convolution (17 -> 8), batch normalisation and ReLU, a dilated convolution, 3x3
    max pooling at stride 2 with 'same' padding (8 -> 4), 2x2 'valid' average pooling, then a
    Dense code ``encoded`` after Flatten, which runs on whole copies."""
    keras.utils.set_random_seed(6)
    image = keras.Input((size, size, channels))
    x = layers.Conv2D(6, 3, strides=2, padding="valid", name="strided")(image)
    x = layers.BatchNormalization(name="norm")(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(6, 3, dilation_rate=2, padding="same", activation="tanh", name="dilated")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = layers.AveragePooling2D(2, padding="valid")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(5, name="encoded")(x)
    x = layers.Dense(size * size * channels, activation="sigmoid")(x)
    x = layers.Reshape((size, size, channels))(x)
    model = keras.Model(image, x)
    norm = model.get_layer("norm")  # moving statistics away from 0 and 1, so they matter
    norm.set_weights([w + np.linspace(0.5, 1.5, w.size).astype("float32") for w in norm.get_weights()])
    return model


def relu_untrained(size: int = 32, channels: int = 3) -> keras.Model:
    """A user's untrained-looking model: strided ReLU convolutions with random weights, whose
    code (layer 'code', (size/4) x (size/4) x 8) is all positive, as issue 25's photos met it."""
    keras.utils.set_random_seed(7)
    image = keras.Input((size, size, channels))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(image)
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="code")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(channels, 3, strides=2, padding="same", activation="sigmoid")(x)
    return keras.Model(image, x)


def random_images(count: int, size: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """Uniform [0, 1] float32 images (N, size, size, channels)."""
    return np.random.default_rng(seed).random((count, size, size, channels), dtype=np.float32)


def colour_channels(size: int = 8) -> keras.Model:
    """Channel k of every layer is the brightness of colour k: known channel responses.

    ``colour`` is a 1x1 convolution with identity weights and no bias (channel k of its map is
    the image's channel k); ``encoded`` max-pools it 2x2 (a 4x4x3 code); the decoder upsamples
    and applies another identity 1x1 convolution ``rebuild``.
    """
    image = keras.Input((size, size, 3))
    colour = layers.Conv2D(3, 1, use_bias=False, name="colour")
    x = colour(image)
    x = layers.MaxPooling2D(2, name="encoded")(x)
    x = layers.UpSampling2D(2)(x)
    rebuild = layers.Conv2D(3, 1, use_bias=False, name="rebuild")
    x = rebuild(x)
    model = keras.Model(image, x)
    identity = np.eye(3, dtype="float32").reshape(1, 1, 3, 3)
    colour.set_weights([identity])
    rebuild.set_weights([identity])
    return model


def overflowing(size: int = 8, channels: int = 3) -> keras.Model:
    """code = exp(sum of pixels) per unit: finite for dark images, infinite for bright ones.

    An image of mean value 0.98 sums to about 188 over 8x8x3 pixels and exp(188) overflows
    float32; grey levels of 0.04 and 0.08 give e^7.5 and e^15, both finite and pointing the
    same way (cosine similarity 1).
    """
    image = keras.Input((size, size, channels))
    x = layers.Flatten()(image)
    x = layers.Dense(2, activation="exponential", kernel_initializer="ones", bias_initializer="zeros", name="encoded")(
        x
    )
    x = layers.Dense(
        size * size * channels, activation="sigmoid", kernel_initializer=keras.initializers.Constant(1e-3)
    )(x)
    return keras.Model(image, layers.Reshape((size, size, channels))(x))


def unmeasurable(size: int = 8, channels: int = 3) -> keras.Model:
    """code = exp(sum of pixels) in two equal units, as :func:`overflowing`; the rebuild reads
    the first unit less the second: 0 for dark images (sigmoid 0.5), inf − inf = NaN for bright
    ones, whose reconstruction error cannot be measured."""
    image = keras.Input((size, size, channels))
    x = layers.Flatten()(image)
    x = layers.Dense(2, activation="exponential", kernel_initializer="ones", bias_initializer="zeros", name="encoded")(
        x
    )
    rebuild = layers.Dense(size * size * channels, activation="sigmoid")
    x = rebuild(x)
    rebuild.set_weights(
        [
            np.stack(
                [np.full(size * size * channels, 1e-3, "float32"), np.full(size * size * channels, -1e-3, "float32")]
            ),
            np.zeros(size * size * channels, "float32"),
        ]
    )
    return keras.Model(image, layers.Reshape((size, size, channels))(x))


def speckle_averse(size: int = 8, side: int = 4, penalty: float = 0.5) -> keras.Model:
    """A one-number code that reads an object and is upset by speckle, as the shapes demo's seed
    was (issue 25): code = Σ x over the top-left ``side`` x ``side`` block − ``penalty`` · Σ
    |Laplacian(x)| over the interior (layer ``edges``: the Laplacian and its negative, ReLU).

    On a grey image with a white block there, greying out the block's pixels one by one, as a
    scattered order does, leaves grey holes in white whose edges pull the code below that of a
    fully grey image; greying out the block in one sweep does not.
    """
    image = keras.Input((size, size, 1))
    edges = layers.Conv2D(2, 3, padding="valid", activation="relu", use_bias=False, name="edges")
    region = layers.Dense(1, use_bias=False, name="region")
    speckle = layers.Dense(1, use_bias=False, name="speckle")
    code = layers.Add(name="encoded")([region(layers.Flatten()(image)), speckle(layers.Flatten()(edges(image)))])
    x = layers.Dense(size * size, activation="sigmoid")(code)
    model = keras.Model(image, layers.Reshape((size, size, 1))(x))
    laplacian = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype="float32")
    edges.set_weights([np.stack([laplacian, -laplacian], axis=-1)[:, :, None, :]])
    block = np.zeros((size, size), dtype="float32")
    block[:side, :side] = 1.0
    region.set_weights([block.reshape(-1, 1)])
    speckle.set_weights([np.full(((size - 2) ** 2 * 2, 1), -penalty, dtype="float32")])
    return model
