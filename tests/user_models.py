"""Autoencoders written the way Keras tutorials and blog posts write them, for load-anything tests.

Each factory builds a fresh, tiny model (16x16x3 or 28x28x1 input, output the input's shape)
in one of the forms people bring: Sequential with or without ``keras.Input``, nested encoder
and decoder models, a subclassed VAE with custom layers, BatchNorm in the waist, models trained
on 0-1, 0-255 or -1-1 pixels. Untrained factories run in well under a second; each
``trained_on_range`` model trains for two to three seconds on two CPU cores.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
from keras import layers

# The layer a person would call the code, for the factories whose layers have known names. In
# the nested and VAE forms the layer lives inside the sub-model called "encoder". The
# Sequential, denoising and pixel-range models have auto-named layers: their docstrings say
# which layer (by position) is the code.
EXPECTED_CODE_LAYER = {
    "batchnorm_waist": "waist_relu",
    "dense_bottleneck": "latent",
    "nested_encoder_decoder": "latent",
    "flat_twin_of_nested": "latent",
    "vae_end_to_end": "z_mean",
    "vae_subclassed": "z_mean",
}


def _chollet_layers(first: layers.Layer | None = None) -> list:
    """The layers of Chollet's 'Building Autoencoders in Keras' conv autoencoder, at 16x16x3.

    The decoder's first Conv2D works at the code's 4x4 resolution, before any upsampling.
    ``first`` replaces the first Conv2D (to give it an ``input_shape``).
    """
    return [
        first or layers.Conv2D(8, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(2),
        layers.Conv2D(4, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(2),
        layers.Conv2D(4, 3, activation="relu", padding="same"),
        layers.UpSampling2D(2),
        layers.Conv2D(8, 3, activation="relu", padding="same"),
        layers.UpSampling2D(2),
        layers.Conv2D(3, 3, activation="sigmoid", padding="same"),
    ]


def sequential_with_input() -> keras.Model:
    """Sequential starting with keras.Input((16, 16, 3)); the code is the second MaxPooling2D (4x4x4)."""
    keras.utils.set_random_seed(21)
    return keras.Sequential([keras.Input((16, 16, 3))] + _chollet_layers())


def sequential_input_shape() -> keras.Model:
    """Sequential whose first Conv2D gets input_shape=(16, 16, 3); the code is the second MaxPooling2D."""
    keras.utils.set_random_seed(22)
    with warnings.catch_warnings():  # Keras 3 warns, from the layer's constructor
        warnings.filterwarnings("ignore", message="Do not pass an `input_shape`", category=UserWarning)
        first = layers.Conv2D(8, 3, activation="relu", padding="same", input_shape=(16, 16, 3))
    return keras.Sequential(_chollet_layers(first))


def sequential_built_by_fit() -> keras.Model:
    """Sequential with no input shape, built only by one epoch of fit(); the code is the second MaxPooling2D.

    Built by fit's first batch, its input shape keeps that batch size: (4, 16, 16, 3). fit()
    traces the training step, so this factory takes about a second.
    """
    keras.utils.set_random_seed(23)
    model = keras.Sequential(_chollet_layers())
    model.compile(optimizer="adam", loss="mse")
    images = np.random.default_rng(23).random((8, 16, 16, 3), dtype=np.float32)
    model.fit(images, images, epochs=1, batch_size=4, verbose=0)
    return model


def nested_encoder_decoder() -> keras.Model:
    """keras.io style: Model(inp, decoder(encoder(inp))) with sub-models "encoder" and "decoder"; code "latent"."""
    keras.utils.set_random_seed(24)
    enc_in = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, strides=2, activation="relu", padding="same")(enc_in)
    code = layers.Conv2D(4, 3, strides=2, activation="relu", padding="same", name="latent")(x)
    encoder = keras.Model(enc_in, code, name="encoder")
    dec_in = keras.Input((4, 4, 4))
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(dec_in)
    out = layers.Conv2DTranspose(3, 3, strides=2, activation="sigmoid", padding="same")(x)
    decoder = keras.Model(dec_in, out, name="decoder")
    inp = keras.Input((16, 16, 3))
    return keras.Model(inp, decoder(encoder(inp)), name="autoencoder")


def flat_twin_of_nested() -> keras.Model:
    """nested_encoder_decoder() written as one flat functional model with its weights: the same function."""
    nested = nested_encoder_decoder()
    inp = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, strides=2, activation="relu", padding="same")(inp)
    x = layers.Conv2D(4, 3, strides=2, activation="relu", padding="same", name="latent")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(3, 3, strides=2, activation="sigmoid", padding="same")(x)
    flat = keras.Model(inp, x)
    source = [
        layer
        for part in ("encoder", "decoder")
        for layer in nested.get_layer(part).layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]
    target = [layer for layer in flat.layers if not isinstance(layer, keras.layers.InputLayer)]
    assert len(source) == len(target) == 4
    for src, dst in zip(source, target):
        dst.set_weights(src.get_weights())
    return flat


def denoising_overcomplete() -> keras.Model:
    """keras.io's denoising AE, 28x28x1, compiled as there; its code (second MaxPooling2D, 7x7x32) outsizes the input."""
    keras.utils.set_random_seed(26)
    inp = layers.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(inp)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    autoencoder = keras.Model(inp, x)
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    return autoencoder


def dense_bottleneck() -> keras.Model:
    """Conv, Flatten, Dense layers down to a 6-unit linear Dense "latent", then back up to 16x16x3."""
    keras.utils.set_random_seed(27)
    inp = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, strides=2, activation="relu", padding="same")(inp)
    x = layers.Flatten()(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.Dense(6, name="latent")(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.Dense(8 * 8 * 8, activation="relu")(x)
    x = layers.Reshape((8, 8, 8))(x)
    x = layers.Conv2DTranspose(3, 3, strides=2, activation="sigmoid", padding="same")(x)
    return keras.Model(inp, x)


def batchnorm_waist() -> keras.Model:
    """Conv, BatchNorm, ReLU twice down to a 4x4x4 waist ("waist_relu"), moving statistics away from 0 and 1."""
    keras.utils.set_random_seed(28)
    inp = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(4, 3, strides=2, padding="same", name="waist_conv")(x)
    x = layers.BatchNormalization(name="waist_norm")(x)
    x = layers.ReLU(name="waist_relu")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(3, 3, strides=2, activation="sigmoid", padding="same")(x)
    model = keras.Model(inp, x)
    for norm in (layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)):
        # gamma, beta, moving mean and moving variance all moved off 1 and 0, so they matter
        norm.set_weights([w + np.linspace(0.5, 1.5, w.size).astype("float32") for w in norm.get_weights()])
    return model


# The custom classes of the keras.io VAE example (https://keras.io/examples/generative/vae/), as
# the source of a module: a test writes it to ``my_layers.py``, imports it and passes the module
# to ``build_vae_parts``, ``vae_end_to_end`` or ``vae_subclassed``, so the classes come from a
# file as they do for a user. Sampling draws fresh noise on every call, in inference too.
CUSTOM_OBJECTS_SOURCE = '''\
"""Custom layers of a keras.io-style variational autoencoder."""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="aevis_test")
class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


@keras.saving.register_keras_serializable(package="aevis_test")
class VAE(keras.Model):
    """Encoder and decoder in one subclassed model: decoder(z) for z sampled by the encoder."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder

    def call(self, x):
        return self.decoder(self.encoder(x)[2])

    def get_config(self):
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder),
            decoder=keras.saving.serialize_keras_object(self.decoder),
        )
        return config

    @classmethod
    def from_config(cls, config):
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        decoder = keras.saving.deserialize_keras_object(config.pop("decoder"))
        return cls(encoder, decoder, **config)
'''


def custom_objects(module) -> dict:
    """The custom_objects dict a user passes to keras.models.load_model for the VAE forms."""
    return {"Sampling": module.Sampling, "VAE": module.VAE}


def build_vae_parts(module) -> tuple[keras.Model, keras.Model]:
    """(encoder, decoder) of the keras.io VAE at 16x16x3, latent_dim 2; the encoder outputs [z_mean, z_log_var, z]."""
    keras.utils.set_random_seed(29)
    latent_dim = 2
    inp = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, strides=2, activation="relu", padding="same")(inp)
    x = layers.Conv2D(8, 3, strides=2, activation="relu", padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = module.Sampling()([z_mean, z_log_var])
    encoder = keras.Model(inp, [z_mean, z_log_var, z], name="encoder")
    latent_in = keras.Input((latent_dim,))
    x = layers.Dense(4 * 4 * 8, activation="relu")(latent_in)
    x = layers.Reshape((4, 4, 8))(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)
    out = layers.Conv2DTranspose(3, 3, strides=2, activation="sigmoid", padding="same")(x)
    decoder = keras.Model(latent_in, out, name="decoder")
    return encoder, decoder


def vae_end_to_end(module) -> keras.Model:
    """Functional Model(inp, decoder(encoder(inp)[2]), name="vae"): the sampled z feeds the decoder; code "z_mean"."""
    encoder, decoder = build_vae_parts(module)
    inp = keras.Input((16, 16, 3))
    return keras.Model(inp, decoder(encoder(inp)[2]), name="vae")


def vae_subclassed(module) -> keras.Model:
    """module.VAE(encoder, decoder), built by one call on a batch of zeros; code "z_mean" inside "encoder"."""
    encoder, decoder = build_vae_parts(module)
    vae = module.VAE(encoder, decoder)
    vae(np.zeros((1, 16, 16, 3), dtype="float32"))
    return vae


RANGES = ("0-1", "0-255", "-1-1")


def to_range(images: np.ndarray, scale: str) -> np.ndarray:
    """[0, 1] images mapped to pixel range ``scale``: x, x*255 or x*2-1."""
    return {"0-1": images, "0-255": images * 255.0, "-1-1": images * 2.0 - 1.0}[scale].astype("float32")


def from_range(images: np.ndarray, scale: str) -> np.ndarray:
    """Images in pixel range ``scale`` mapped back to [0, 1] (no clipping)."""
    return {"0-1": images, "0-255": images / 255.0, "-1-1": (images + 1.0) / 2.0}[scale].astype("float32")


def range_training_images(count: int = 64, size: int = 16, seed: int = 7) -> np.ndarray:
    """Smooth [0, 1] float32 images: a blurred random colour field with one bright disc or square."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((count, 4, 4, 3))
    # bilinear upsampling of the 4x4 colour field to size x size, as a matrix per axis
    pos = np.linspace(0.0, 3.0, size)
    low = np.floor(pos).astype(int).clip(0, 2)
    frac = pos - low
    interp = np.zeros((size, 4))
    interp[np.arange(size), low] += 1.0 - frac
    interp[np.arange(size), low + 1] += frac
    fields = np.einsum("ia,jb,nabc->nijc", interp, interp, coarse) * 0.6 + 0.1
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    images = np.empty_like(fields)
    for n in range(count):
        cy, cx = rng.uniform(size / 4, 3 * size / 4, 2)
        radius = rng.uniform(size / 6, size / 3)
        if n % 2:
            mask = (xx - cx) ** 2 + (yy - cy) ** 2 < radius**2
        else:
            mask = (abs(xx - cx) < 0.8 * radius) & (abs(yy - cy) < 0.8 * radius)
        images[n] = np.where(mask[..., None], rng.uniform(0.7, 1.0, 3), fields[n])
    return images.astype("float32")


def trained_on_range(scale: str = "0-1") -> keras.Model:
    """A conv AE trained (Adam 0.01, mse, 30 epochs of 8) on range_training_images() in pixel range ``scale``.

    ``scale`` is "0-1" (sigmoid output), "0-255" (linear output) or "-1-1" (tanh output). Fed
    and read in its own range it rebuilds the training images (MSE in [0, 1] terms) more than
    4x better than under any other pairing of input and output ranges. Its code is the second
    Conv2D (4x4x8).
    """
    activation = {"0-1": "sigmoid", "0-255": None, "-1-1": "tanh"}[scale]
    keras.utils.set_random_seed(31)
    inp = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, strides=2, activation="relu", padding="same")(inp)
    x = layers.Conv2D(8, 3, strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(3, 3, strides=2, activation=activation, padding="same")(x)
    model = keras.Model(inp, x)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    images = to_range(range_training_images(), scale)
    model.fit(images, images, epochs=30, batch_size=8, verbose=0)
    return model
