"""Feature maps of every convolution, read in one pass and checked against the model itself."""

import keras
import numpy as np
import pytest

from aevis.model import wrap_autoencoder
from aevis.network import activations
from aevis.network import layers as network_layers
from tests import models


def test_conv_layers_cover_encoder_and_decoder_in_model_order(seed_ae):
    layers = activations.conv_layers(seed_ae)
    assert [(layer.name, layer.part) for layer in layers] == [
        ("conv_0_e", "encoder"),
        ("conv_1_e", "encoder"),
        ("conv_2_e", "encoder"),
        ("conv_3_e", "encoder"),
        ("conv_0_d", "decoder"),
        ("conv_1_d", "decoder"),
        ("conv_2_d", "decoder"),
        ("conv_decoded", "decoder"),
    ]
    assert [layer.scale for layer in layers[:4]] == [1.0, 2.0, 4.0, 8.0]
    assert [layer.name for layer in activations.gallery_layers(seed_ae)][-1] == "encoded"


def test_feature_maps_agree_with_the_models_own_outputs(seed_ae):
    images = models.random_images(5, 16, seed=3)
    maps = activations.feature_maps(seed_ae, images, batch_size=2)
    # The last decoder convolution, upsampled 2x, is the reconstruction.
    rebuilt = maps["conv_decoded"].repeat(2, axis=1).repeat(2, axis=2)
    np.testing.assert_allclose(rebuilt, seed_ae.reconstruct(images), atol=1e-5)
    # The bottleneck is the code; the first convolution is conv_0_e applied to the image.
    np.testing.assert_allclose(maps["encoded"].reshape(5, -1), seed_ae.encode(images), atol=1e-5)
    first = seed_ae.model.get_layer("conv_0_e")(images)
    np.testing.assert_allclose(maps["conv_0_e"], keras.ops.convert_to_numpy(first), atol=1e-5)
    means = activations.channel_means(maps["conv_1_e"])
    np.testing.assert_allclose(means, maps["conv_1_e"].mean(axis=(1, 2)), rtol=1e-6)


def test_dense_bottleneck_ranks_units_and_has_no_region():
    ae = wrap_autoencoder(models.strided_dense(), bottleneck="code_dense")
    images = models.random_images(4, 16, seed=4)
    bottleneck = activations.bottleneck_layer(ae)
    assert (bottleneck.channels, bottleneck.map_shape) == (6, None)
    maps = activations.feature_maps(ae, images, [bottleneck])
    np.testing.assert_allclose(activations.channel_means(maps["code_dense"]), ae.encode(images), atol=1e-5)
    assert activations.argmax_cells(maps["code_dense"]) is None
    with pytest.raises(ValueError, match="no spatial map"):
        activations.outline_box((0, 0), bottleneck, (16, 16))
    assert [layer.part for layer in activations.conv_layers(ae)] == ["encoder", "encoder", "decoder", "decoder"]


def test_argmax_cells_and_strongest_channels_on_known_maps():
    maps = np.zeros((1, 3, 4, 2), np.float32)
    maps[0, 2, 1, 0] = 5.0
    maps[0, 0, 3, 1] = 1.0
    maps[0, 1, 0, 1] = 1.0  # a tie: the first in row-major order wins
    np.testing.assert_array_equal(activations.argmax_cells(maps), [[[2, 1], [0, 3]]])
    np.testing.assert_array_equal(network_layers.strongest_channels(maps[0], 2), [0, 1])


def test_unknown_layer_is_named_in_the_error(seed_ae):
    with pytest.raises(ValueError, match="'nope'"):
        activations.feature_maps(seed_ae, models.random_images(1, 16), ["nope"])
