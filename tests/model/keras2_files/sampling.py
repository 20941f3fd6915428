"""The custom layer of the Keras 2 VAE in this folder, as its owner wrote it for tf.keras.

The same file serves both sides: ``make.py`` imports it under tf-keras (Keras 2) to save the
VAE, and the tests pass it to aevis with ``--custom-objects``, where ``tensorflow.keras`` is
Keras 3.
"""

import tensorflow as tf
from tensorflow import keras


class Sampling(keras.layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding an image."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = tf.random.normal(shape=tf.shape(z_mean))
        return z_mean + tf.exp(0.5 * z_log_var) * epsilon
