"""The seed autoencoder: a Keras 3 port of the architecture aevis was made for."""

from __future__ import annotations

import keras
from keras import layers


def build_seed_autoencoder(
    input_shape: tuple[int, int, int] = (64, 64, 3),
    filters: tuple[int, int, int, int] = (32, 64, 128, 256),
) -> keras.Model:
    """Build the seed's convolutional autoencoder, untrained.

    Encoder: four blocks of ``Conv2D`` 3x3 ELU ``same`` followed by ``MaxPooling2D`` 2x2
    ``same`` (convolutions ``conv_0_e`` ... ``conv_3_e``; the last pool is ``encoded``, the
    code used for similarity). Decoder, as in the seed: ``conv_0_d`` and ``conv_1_d`` with
    ``filters[1]`` channels, ``conv_2_d`` with ``filters[2]``, each followed by
    ``UpSampling2D`` 2x2, then ``conv_decoded`` with one filter per image channel and a last
    ``UpSampling2D``.

    The seed ends in ELU and trains with binary cross-entropy. ELU's range is (-1, inf), so
    its outputs are not probabilities and cross-entropy on them is undefined for values
    outside [0, 1]; the loss can go negative and training drifts. A sigmoid keeps the
    reconstruction in [0, 1], where the images live and where cross-entropy is a proper
    loss, so ``conv_decoded`` uses sigmoid here.

    Args:
        input_shape: (height, width, channels); height and width must divide by 16.
        filters: the four encoder filter counts (``CONV_0`` ... ``CONV_3`` in the seed).

    Returns:
        An uncompiled ``keras.Model`` named ``seed_autoencoder``.
    """
    height, width, channels = input_shape
    if height % 16 or width % 16:
        raise ValueError(
            f"The seed autoencoder pools four times, so height and width must divide by 16; got {height}x{width}."
        )
    if len(filters) != 4:
        raise ValueError(f"The seed autoencoder has four encoder convolutions; got {len(filters)} filter counts.")

    image = keras.Input(shape=input_shape, name="input_img")
    x = image
    for depth, count in enumerate(filters):
        x = layers.Conv2D(count, 3, activation="elu", padding="same", name=f"conv_{depth}_e")(x)
        pool_name = "encoded" if depth == len(filters) - 1 else f"pool_{depth}_e"
        x = layers.MaxPooling2D(2, padding="same", name=pool_name)(x)
    for depth, count in enumerate((filters[1], filters[1], filters[2])):
        x = layers.Conv2D(count, 3, activation="elu", padding="same", name=f"conv_{depth}_d")(x)
        x = layers.UpSampling2D(2, name=f"up_{depth}_d")(x)
    x = layers.Conv2D(channels, 3, activation="sigmoid", padding="same", name="conv_decoded")(x)
    decoded = layers.UpSampling2D(2, name="decoded")(x)
    return keras.Model(image, decoded, name="seed_autoencoder")
