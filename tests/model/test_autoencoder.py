"""Loading autoencoders, finding the bottleneck, splitting encoder and decoder."""

import keras
import numpy as np
import pytest

from aevis.errors import AevisError
from aevis.model import InputSpec, PixelScales, load_autoencoder, wrap_autoencoder
from aevis.model.graph import flatten
from aevis.model.waist import find_code_layer
from tests.models import no_narrowing, strided_dense, tiny_seed


def find_bottleneck(model, name=None):
    return find_code_layer(flatten(model), name)


@pytest.fixture(scope="module")
def probe():
    return np.random.default_rng(0).random((5, 16, 16, 3), dtype=np.float32)


def test_seed_bottleneck_is_the_layer_named_encoded():
    name, reason = find_bottleneck(tiny_seed())
    assert name == "encoded"
    assert "encoded" in reason


def test_strided_dense_bottleneck_is_the_smallest_layer():
    name, reason = find_bottleneck(strided_dense())
    assert name == "code_dense"
    assert "narrowest flat layer, 6 values" in reason


def test_model_without_narrowing_is_refused_in_one_sentence():
    with pytest.raises(AevisError, match=r"every layer keeps the input's 8×8 grid; name .* --bottleneck"):
        find_bottleneck(no_narrowing())


def test_bottleneck_override_and_unknown_name():
    model = tiny_seed()
    assert find_bottleneck(model, "conv_3_e")[0] == "conv_3_e"
    with pytest.raises(AevisError, match="no_such_layer.*conv_0_e"):
        find_bottleneck(model, "no_such_layer")


@pytest.mark.parametrize("factory, code_size", [(tiny_seed, 8), (strided_dense, 6)])
def test_encoder_and_decoder_compose_to_the_model(factory, code_size, probe):
    ae = wrap_autoencoder(factory())
    codes = ae.encode(probe, batch_size=2)
    assert codes.shape == (5, code_size) and codes.dtype == np.float32
    assert ae.decoder is not None
    direct = keras.ops.convert_to_numpy(ae.model(probe))
    chained = keras.ops.convert_to_numpy(ae.decoder(ae.encoder(probe)))
    np.testing.assert_allclose(chained, direct, atol=1e-6)
    np.testing.assert_allclose(ae.reconstruct(probe, batch_size=3), direct, atol=1e-6)


def test_decoder_is_none_for_a_model_with_a_skip_connection(probe):
    image = keras.Input((16, 16, 3))
    down = keras.layers.Conv2D(2, 3, strides=4, padding="same", name="encoded")(image)
    up = keras.layers.UpSampling2D(4)(down)
    merged = keras.layers.Concatenate()([up, image])
    output = keras.layers.Conv2D(3, 1)(merged)
    ae = wrap_autoencoder(keras.Model(image, output))
    assert ae.bottleneck == "encoded" and ae.decoder is None
    assert ae.encode(probe).shape == (5, 4 * 4 * 2)


def test_input_scale_feeds_the_model_its_own_range(probe):
    model = strided_dense()
    ae = wrap_autoencoder(model, input_scale="0-255")
    expected = keras.ops.convert_to_numpy(ae.encoder(probe * 255.0)).reshape(5, -1)
    np.testing.assert_allclose(ae.encode(probe), expected, rtol=1e-5, atol=1e-5)
    spec = InputSpec(4, 4, 3, PixelScales("-1-1", "-1-1"))
    np.testing.assert_allclose(spec.to_model(np.array([0.0, 0.5, 1.0])), [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(spec.from_model(spec.to_model(probe)), probe, atol=1e-6)


def test_keras_file_round_trip_records_its_sha256(tmp_path, probe):
    path = tmp_path / "ae.keras"
    tiny_seed().save(path)
    ae = load_autoencoder(path)
    assert ae.bottleneck == "encoded"
    import hashlib

    assert ae.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ae.input_spec.shape == (16, 16, 3)


def test_legacy_h5_file_loads(tmp_path, probe):
    model = strided_dense()
    path = tmp_path / "ae.h5"
    model.save(path)
    ae = load_autoencoder(path)
    assert ae.bottleneck == "code_dense"
    np.testing.assert_allclose(ae.reconstruct(probe), keras.ops.convert_to_numpy(model(probe)), atol=1e-5)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.keras", None, "no such file"),
        ("notes.txt", b"hello", r"notes.txt is not a Keras model file \(neither HDF5 nor a .keras zip\)"),
        ("broken.keras", b"not a zip file", "broken.keras is not a Keras model file"),
    ],
)
def test_bad_model_files_get_one_clear_sentence(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AevisError, match=message):
        load_autoencoder(path)


def test_model_with_two_inputs_is_refused():
    first, second = keras.Input((8, 8, 3)), keras.Input((8, 8, 3))
    model = keras.Model([first, second], keras.layers.Add()([first, second]))
    with pytest.raises(AevisError, match="one image input, but the model has 2"):
        wrap_autoencoder(model)


def test_model_whose_output_differs_from_its_input_is_refused():
    image = keras.Input((8, 8, 3))
    model = keras.Model(image, keras.layers.Dense(2)(keras.layers.Flatten()(image)))
    with pytest.raises(AevisError, match=r"looks like an encoder alone .*--encoder"):
        wrap_autoencoder(model)


def test_a_model_of_any_image_size_is_refused_with_the_way_to_fix_one():
    image = keras.Input((None, None, 3))
    maps = keras.layers.Conv2D(4, 3, padding="same")(image)
    model = keras.Model(image, keras.layers.Conv2D(3, 3, padding="same")(maps))
    with pytest.raises(AevisError, match=r"any size \(None, None, 3\).*keras.Input\(\(height, width, 3\)\)"):
        load_autoencoder(model)


def test_halves_that_cannot_feed_each_other_are_refused_in_one_sentence():
    """As a VAE whose encoder gives mean and log-variance in one Dense(2 × latent) saves them."""
    image = keras.Input((8, 8, 3))
    encoder = keras.Model(image, keras.layers.Dense(4)(keras.layers.Flatten()(image)))
    code = keras.Input((2,))
    decoder = keras.Model(code, keras.layers.Reshape((8, 8, 3))(keras.layers.Dense(192)(code)))
    with pytest.raises(AevisError, match=r"first output has shape \(4,\), but the decoder takes \(2,\)"):
        load_autoencoder(encoder=encoder, decoder=decoder)


def test_an_image_to_image_model_is_not_taken_for_an_encoder():
    grey = keras.Input((8, 8, 1))
    colouriser = keras.Model(grey, keras.layers.Conv2D(3, 3, padding="same")(grey))
    with pytest.raises(AevisError, match=r"turns \(8, 8, 1\) images into \(8, 8, 3\) images: an image-to-image model"):
        load_autoencoder(colouriser)
