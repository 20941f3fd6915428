"""Writes the genuine Keras 2 model files in this folder, with tf-keras, and what each computes.

Most autoencoders shared on GitHub were saved by tf.keras 2.x, whose configs Keras 3 refuses
in places. These files are such files, written by Keras 2 itself (the ``tf-keras`` package),
so the tests need no Keras 2. Run it from a separate environment, never aevis's own::

    python3.11 -m venv /work/tfk-venv
    /work/tfk-venv/bin/pip install tf-keras==2.21.0 tensorflow==2.21.0
    /work/tfk-venv/bin/python tests/model/keras2_files/make.py

Each model is tiny (16x16 images, a few filters), trained for a few epochs on drawn shapes so
that its rebuilds, BatchNorm statistics and pixel range are those of a real trained model.
Beside each ``NAME.h5`` (or ``.keras``) goes ``NAME.npz``: ``images``, a fixed input in [0, 1]
(in steps of 1/255, as a PNG holds it);
``outputs``, what Keras 2 made of them; ``codes``, the output of the layer called ``code``
(``z_mean`` in the VAE), flattened.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tensorflow.keras is tf-keras, Keras 2, in sampling.py too
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import layers  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from sampling import Sampling  # noqa: E402

SIZE = 16
EPOCHS = 40


def shapes(count: int, channels: int, seed: int) -> np.ndarray:
    """Bright rectangles and discs on a dark ground, float32 (count, 16, 16, channels) in [0, 1]."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:SIZE, :SIZE]
    images = np.empty((count, SIZE, SIZE, channels), np.float32)
    for image in images:
        image[:] = rng.uniform(0.0, 0.2, channels)
        colour = rng.uniform(0.5, 1.0, channels)
        top, left = rng.integers(1, SIZE // 2, 2)
        extent = rng.integers(4, SIZE // 2, 2)
        if rng.random() < 0.5:
            inside = (rows >= top) & (rows < top + extent[0]) & (cols >= left) & (cols < left + extent[1])
        else:
            inside = (rows - top - extent[0] / 2) ** 2 + (cols - left - extent[1] / 2) ** 2 < (extent.min() / 2) ** 2
        image[inside] = colour
    return images


def sequential() -> keras.Model:
    """Sequential, the input shape given to its first layer (saved as ``batch_input_shape``)."""
    return keras.Sequential([
        layers.Conv2D(8, 3, activation="relu", padding="same", input_shape=(SIZE, SIZE, 1)),
        layers.MaxPooling2D(2),
        layers.Conv2D(4, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(2, name="code"),
        layers.Conv2D(4, 3, activation="relu", padding="same"),
        layers.UpSampling2D(2),
        layers.Conv2D(8, 3, activation="relu", padding="same"),
        layers.UpSampling2D(2),
        layers.Conv2D(1, 3, activation="sigmoid", padding="same"),
    ], name="sequential_autoencoder")


def conv_transpose() -> keras.Model:
    """Functional, strided convolutions down and Conv2DTranspose up (saved with ``groups``)."""
    image = keras.Input((SIZE, SIZE, 3))
    x = layers.Conv2D(8, 3, strides=2, activation="relu", padding="same")(image)
    x = layers.Conv2D(4, 3, strides=2, activation="relu", padding="same", name="code")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(3, 3, strides=2, activation="sigmoid", padding="same")(x)
    return keras.Model(image, x, name="conv_transpose_autoencoder")


def nested() -> keras.Model:
    """An encoder model and a decoder model called in a third, with a Dense code."""
    image = keras.Input((SIZE, SIZE, 1))
    x = layers.Conv2D(8, 3, strides=2, activation="relu", padding="same")(image)
    x = layers.Flatten()(x)
    encoder = keras.Model(image, layers.Dense(8, activation="relu", name="code")(x), name="encoder")
    code = keras.Input((8,))
    x = layers.Dense(8 * 8 * 8, activation="relu")(code)
    x = layers.Reshape((8, 8, 8))(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)
    decoder = keras.Model(code, layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x), name="decoder")
    outer = keras.Input((SIZE, SIZE, 1))
    return keras.Model(outer, decoder(encoder(outer)), name="nested_autoencoder")


def sequential_halves() -> keras.Model:
    """A Sequential encoder and a Sequential decoder, called in a functional model."""
    encoder = keras.Sequential([
        layers.Conv2D(8, 3, strides=2, activation="relu", padding="same", input_shape=(SIZE, SIZE, 3)),
        layers.Conv2D(4, 3, strides=2, activation="relu", padding="same", name="code"),
    ], name="encoder")
    decoder = keras.Sequential([
        layers.UpSampling2D(2, input_shape=(SIZE // 4, SIZE // 4, 4)),
        layers.Conv2D(8, 3, activation="relu", padding="same"),
        layers.UpSampling2D(2),
        layers.Conv2D(3, 3, activation="sigmoid", padding="same"),
    ], name="decoder")
    image = keras.Input((SIZE, SIZE, 3))
    return keras.Model(image, decoder(encoder(image)), name="halves_autoencoder")


def batchnorm() -> keras.Model:
    """Conv, BatchNorm, LeakyReLU blocks and Dropout, as in many GAN-era autoencoders."""
    image = keras.Input((SIZE, SIZE, 3))
    x = image
    for filters in (8, 4):
        x = layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(alpha=0.2)(x)
    x = layers.Activation("linear", name="code")(x)
    x = layers.Dropout(0.1)(x)
    for filters in (8, 8):
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
    x = layers.Conv2D(3, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(image, x, name="batchnorm_autoencoder")


def vae() -> keras.Model:
    """The keras.io VAE of the Keras 2 days, at 16x16x1: a custom Sampling layer, saved end to end."""
    image = keras.Input((SIZE, SIZE, 1))
    x = layers.Conv2D(8, 3, strides=2, activation="relu", padding="same")(image)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(2, name="z_mean")(x)
    z_log_var = layers.Dense(2, name="z_log_var")(x)
    z = Sampling(name="z")([z_mean, z_log_var])
    encoder = keras.Model(image, [z_mean, z_log_var, z], name="encoder")
    latent = keras.Input((2,))
    x = layers.Dense(8 * 8 * 8, activation="relu")(latent)
    x = layers.Reshape((8, 8, 8))(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)
    decoder = keras.Model(latent, layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x),
                          name="decoder")
    outer = keras.Input((SIZE, SIZE, 1))
    return keras.Model(outer, decoder(encoder(outer)[2]), name="vae")


def dense() -> keras.Model:
    """A Sequential with a Dense code, saved as HDF5 under a ``.keras`` name, as tf.keras 2 allowed."""
    return keras.Sequential([
        layers.Flatten(input_shape=(SIZE, SIZE, 1)),
        layers.Dense(16, activation="relu"),
        layers.Dense(8, activation="relu", name="code"),
        layers.Dense(16, activation="relu"),
        layers.Dense(SIZE * SIZE, activation="sigmoid"),
        layers.Reshape((SIZE, SIZE, 1)),
    ], name="dense_autoencoder")


MODELS = {  # file name: (factory, channels)
    "sequential.h5": (sequential, 1),
    "conv_transpose.h5": (conv_transpose, 3),
    "nested.h5": (nested, 1),
    "sequential_halves.h5": (sequential_halves, 3),
    "batchnorm.h5": (batchnorm, 3),
    "vae.h5": (vae, 1),
    "hdf5_named.keras": (dense, 1),
    "keras2_zip.keras": (conv_transpose, 3),  # the .keras zip of tf-keras 2.13 and later
}


def code_output(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The flattened output of the layer called ``code`` (``z_mean`` in the VAE), wherever it is nested."""
    for holder in [model, *(layer for layer in model.layers if isinstance(layer, keras.Model))]:
        for name in ("code", "z_mean"):
            if any(layer.name == name for layer in holder.layers):
                probe = keras.Model(holder.inputs, holder.get_layer(name).output)
                return probe.predict(images, verbose=0).reshape(len(images), -1)
    raise LookupError(f"{model.name} has no layer called 'code'")


def main() -> None:
    keras.utils.set_random_seed(2)
    tf.config.experimental.enable_op_determinism()
    for name, (factory, channels) in MODELS.items():
        model = factory()
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
        training = shapes(512, channels, seed=1)
        model.fit(training, training, epochs=EPOCHS, batch_size=32, verbose=0)
        path = HERE / name
        if name == "hdf5_named.keras":  # tf.keras 2 wrote HDF5 to whatever path it was given
            model.save(path.with_suffix(".h5"), include_optimizer=False)
            shutil.move(path.with_suffix(".h5"), path)
        elif path.suffix == ".keras":
            model.save(path)
        else:  # the optimizer's state kept in one file, as fit-then-save leaves it; small elsewhere
            model.save(path, include_optimizer=name == "sequential.h5")
        images = np.round(shapes(6, channels, seed=7) * 255) / 255  # exact in an 8-bit PNG
        if name == "vae.h5":  # the reconstruction from z_mean: what aevis explains
            encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
            outputs = decoder.predict(encoder.predict(images, verbose=0)[0], verbose=0)
        else:
            outputs = model.predict(images, verbose=0)
        np.savez_compressed(path.with_suffix(".npz"), images=images, outputs=outputs,
                            codes=code_output(model, images))
        error = float(np.mean((outputs - images) ** 2))
        print(f"{name}: {path.stat().st_size / 1024:.0f} KB, rebuild error {error:.4f} "
              f"(average image: {float(np.mean((images - training.mean(axis=0)) ** 2)):.4f})")


if __name__ == "__main__":
    main()
