"""Every autoencoder a Keras user has, with default options: Sequential, nested, overcomplete,
Dense and BatchNorm waists, VAEs in the three forms they are saved in, any pixel range."""

from __future__ import annotations

import importlib.util
import sys

import keras
import numpy as np
import pytest

import aevis
from aevis.methods import METHODS
from aevis.model import choose_scales, load_autoencoder, wrap_autoencoder
from tests import user_models
from tests.user_models import EXPECTED_CODE_LAYER

ALL_METHODS = sorted(METHODS)


def _second_pool(model: keras.Model) -> str:
    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)][1]


PLAIN_FORMS = {
    "sequential_with_input": _second_pool,
    "sequential_input_shape": _second_pool,
    "sequential_built_by_fit": _second_pool,
    "denoising_overcomplete": _second_pool,
    "nested_encoder_decoder": None,
    "flat_twin_of_nested": None,
    "dense_bottleneck": None,
    "batchnorm_waist": None,
}


@pytest.fixture(scope="module")
def vae_module(tmp_path_factory):
    """The user's custom-objects file, written and imported as a user's would be."""
    folder = tmp_path_factory.mktemp("user_code")
    path = folder / "my_layers.py"
    path.write_text(user_models.CUSTOM_OBJECTS_SOURCE)
    spec = importlib.util.spec_from_file_location("my_layers_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return path, module


@pytest.fixture(scope="module")
def vae_files(vae_module, tmp_path_factory):
    """The VAE saved in the three forms users save it in: end-to-end, encoder + decoder, subclassed."""
    path, module = vae_module
    folder = tmp_path_factory.mktemp("vae")
    encoder, decoder = user_models.build_vae_parts(module)
    encoder.save(folder / "encoder.keras")
    decoder.save(folder / "decoder.keras")
    inp = keras.Input((16, 16, 3))
    keras.Model(inp, decoder(encoder(inp)[2]), name="vae").save(folder / "vae.keras")
    subclassed = module.VAE(encoder, decoder)
    subclassed(np.zeros((1, 16, 16, 3), "float32"))
    subclassed.save(folder / "vae_subclassed.keras")
    return folder


@pytest.fixture(scope="module")
def images():
    return user_models.range_training_images(count=3)


def _probe_for(ae, count=3):
    spec = ae.input_spec
    return np.random.default_rng(1).random((count, *spec.shape), dtype=np.float32)


@pytest.mark.parametrize("form", PLAIN_FORMS)
def test_code_layer_is_the_one_a_person_names(form):
    model = getattr(user_models, form)()
    ae = wrap_autoencoder(model)
    expected = PLAIN_FORMS[form](model) if PLAIN_FORMS[form] else EXPECTED_CODE_LAYER[form]
    assert ae.bottleneck == expected, ae.bottleneck_reason
    assert ae.decoder is not None
    probe = _probe_for(ae)
    direct = keras.ops.convert_to_numpy(model(probe))
    np.testing.assert_allclose(ae.reconstruct(probe), direct, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ae.decoder(ae.encoder(probe))), direct, atol=1e-5)


def test_overcomplete_code_is_larger_than_its_input():
    ae = wrap_autoencoder(user_models.denoising_overcomplete())
    assert ae.code_size == 7 * 7 * 32 > 28 * 28
    assert "smallest grid, 7×7" in ae.bottleneck_reason


@pytest.mark.parametrize(
    "form",
    [
        "sequential_with_input",
        "sequential_input_shape",
        "sequential_built_by_fit",
        "nested_encoder_decoder",
        "dense_bottleneck",
        "batchnorm_waist",
        "denoising_overcomplete",
    ],
)
def test_every_method_gives_finite_varying_maps_with_default_options(form):
    ae = wrap_autoencoder(getattr(user_models, form)())
    probe = _probe_for(ae, 2)
    for method in ALL_METHODS:
        maps = aevis.explain(ae, probe, method=method)
        assert maps.shape == (2, *ae.input_spec.shape[:2]), method
        assert np.isfinite(maps).all(), method
        assert maps.reshape(2, -1).std(axis=1).min() > 0, f"{method} gives a constant map"


def test_nested_model_gives_the_maps_of_the_same_network_written_flat():
    nested = wrap_autoencoder(user_models.nested_encoder_decoder())
    flat = wrap_autoencoder(user_models.flat_twin_of_nested())
    assert nested.bottleneck == flat.bottleneck == "latent"
    probe = _probe_for(nested)
    np.testing.assert_allclose(nested.encode(probe), flat.encode(probe), atol=1e-6)
    for method in ALL_METHODS:
        np.testing.assert_allclose(
            aevis.explain(nested, probe, method=method),
            aevis.explain(flat, probe, method=method),
            atol=1e-5,
            err_msg=method,
        )


def test_layers_inside_a_nested_model_can_be_named_by_name_or_path():
    model = user_models.nested_encoder_decoder()
    assert wrap_autoencoder(model, bottleneck="encoder/latent").bottleneck == "latent"
    inner_conv = model.get_layer("encoder").layers[1].name
    ae = wrap_autoencoder(model, bottleneck="latent")
    probe = _probe_for(ae)
    by_name = aevis.explain(ae, probe, method="gradcam", layer=inner_conv)
    by_path = aevis.explain(ae, probe, method="gradcam", layer=f"encoder/{inner_conv}")
    np.testing.assert_array_equal(by_name, by_path)
    assert not np.allclose(by_name, aevis.explain(ae, probe, method="gradcam"))  # the default is 'latent'
    with pytest.raises(aevis.AevisError, match="named 'nope'.*latent"):
        wrap_autoencoder(model, bottleneck="nope")


def test_inner_layers_are_seen_by_the_strip_galleries_and_randomization():
    from aevis.faithfulness.randomization import encoder_layers_top_down
    from aevis.network import activations

    ae = wrap_autoencoder(user_models.nested_encoder_decoder())
    parts = {layer.name: layer.part for layer in activations.strip_layers(ae)}
    assert list(parts.values()) == ["encoder", "bottleneck", "decoder", "decoder"]
    assert [layer.name for layer in activations.gallery_layers(ae)][-1] == "latent"
    assert encoder_layers_top_down(ae)[0] == "latent" and len(encoder_layers_top_down(ae)) == 2


def test_names_repeated_across_sub_models_get_their_path():
    def half(name, shape, filters, strides_layer):
        inp = keras.Input(shape)
        x = keras.layers.Conv2D(filters, 3, padding="same", name="conv")(inp)
        return keras.Model(inp, strides_layer(x), name=name)

    encoder = half("encoder", (8, 8, 3), 4, keras.layers.MaxPooling2D(2, name="pool"))
    decoder = half("decoder", (4, 4, 4), 3, keras.layers.UpSampling2D(2, name="up"))
    ae = load_autoencoder(encoder=encoder, decoder=decoder, input_scale="0-1")
    assert ae.bottleneck == "pool"
    assert ae.layer("encoder/conv") == "conv" and ae.layer("decoder/conv") == "decoder_conv"
    with pytest.raises(aevis.AevisError, match="several sub-models.*decoder/conv, encoder/conv"):
        ae.layer("conv")


# --------------------------------------------------------------------------- VAEs


def _vae_forms(vae_files, custom, module):
    return {
        "subclassed, in memory": lambda: wrap_autoencoder(user_models.vae_subclassed(module)),
        "end to end": lambda: load_autoencoder(vae_files / "vae.keras", custom_objects=custom, input_scale="0-1"),
        "encoder + decoder": lambda: load_autoencoder(
            encoder=vae_files / "encoder.keras",
            decoder=vae_files / "decoder.keras",
            custom_objects=custom,
            input_scale="0-1",
        ),
        "subclassed": lambda: load_autoencoder(
            vae_files / "vae_subclassed.keras", custom_objects=custom, input_scale="0-1"
        ),
    }


def test_a_vae_in_each_saved_form_explains_z_mean_and_never_samples(vae_module, vae_files):
    path, module = vae_module
    encoder, decoder = user_models.build_vae_parts(module)  # the same seed: the same weights as the files
    probe = user_models.range_training_images(count=4)
    z_mean = keras.ops.convert_to_numpy(encoder(probe)[0])
    from_mean = keras.ops.convert_to_numpy(decoder(z_mean))
    for form, load in _vae_forms(vae_files, path, module).items():
        ae = load()
        assert ae.bottleneck == "z_mean", form
        assert "Sampling" in ae.bottleneck_reason or "sampling" in ae.bottleneck_reason, form
        np.testing.assert_allclose(ae.encode(probe), z_mean, atol=1e-6, err_msg=form)
        np.testing.assert_allclose(ae.reconstruct(probe), from_mean, atol=1e-6, err_msg=form)
        again = load()
        for method in ALL_METHODS:
            first = aevis.explain(ae, probe[:2], method=method)
            np.testing.assert_array_equal(
                first, aevis.explain(again, probe[:2], method=method), err_msg=f"{form}: {method}"
            )
            assert np.isfinite(first).all() and first.std() > 0, f"{form}: {method}"


def test_a_vae_without_its_custom_objects_names_the_flag(vae_files):
    registered = keras.saving.get_custom_objects()
    saved = dict(registered)
    registered.clear()  # as in a fresh process, where the user's module was never imported
    try:
        with pytest.raises(aevis.AevisError, match=r"'.*Sampling'.*--custom-objects FILE\.py"):
            load_autoencoder(vae_files / "vae.keras")
    finally:
        registered.update(saved)


def test_a_lambda_calling_the_users_own_unregistered_function_loads_with_custom_objects(tmp_path):
    """As the keras.io VAE of 2020 wrote its sampling: Lambda(sampling), sampling a plain function."""
    module = tmp_path / "owner.py"
    module.write_text("def brighten(x):\n    return x * 0.5 + 0.25\n")
    spec = importlib.util.spec_from_file_location("owner_for_tests", module)
    owner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(owner)
    image = keras.Input((8, 8, 3))
    x = keras.layers.Lambda(owner.brighten, name="brighten")(keras.layers.Conv2D(4, 3, padding="same")(image))
    model = keras.Model(image, keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid")(x))
    model.save(tmp_path / "ae.keras")
    probe = np.random.default_rng(0).random((2, 8, 8, 3), dtype=np.float32)
    ae = load_autoencoder(tmp_path / "ae.keras", custom_objects=module, bottleneck="brighten", input_scale="0-1")
    np.testing.assert_allclose(ae.reconstruct(probe), keras.ops.convert_to_numpy(model(probe)), atol=1e-6)


def test_custom_objects_file_with_an_error_is_one_sentence(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import keras\nraise RuntimeError('no GPU here')\n")
    with pytest.raises(
        aevis.AevisError, match=r"Running broken.py for --custom-objects failed: RuntimeError: no GPU here"
    ):
        load_autoencoder(tmp_path / "whatever.keras", custom_objects=broken)


# --------------------------------------------------------------------------- pixel ranges


@pytest.mark.parametrize("scale", user_models.RANGES)
def test_pixel_range_detection_picks_the_range_the_model_was_trained_on(scale):
    ae = choose_scales(
        wrap_autoencoder(user_models.trained_on_range(scale)), "auto", user_models.range_training_images()
    )
    assert (ae.input_spec.scales.input, ae.input_spec.scales.output) == (scale, scale), ae.scales_reason
    assert ae.rebuild_warning is None
    explicit = choose_scales(ae, "0-1")
    assert explicit.input_spec.scales.input == "0-1" and "given" in explicit.scales_reason


def test_an_output_read_outside_its_range_never_wins_even_when_every_rebuild_is_poor():
    """A model built to output [0, 255] (sigmoid × 255, untrained): no pair rebuilds well, and read as
    [0, 1] its pixels are about 127; the issue's model kept [0, 1] and reported errors of 15,000."""
    keras.utils.set_random_seed(3)
    image = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, activation="relu", padding="same")(image)
    x = keras.layers.Conv2DTranspose(3, 3, strides=2, activation="sigmoid", padding="same")(x)
    model = keras.Model(image, keras.layers.Rescaling(255.0)(x))
    ae = choose_scales(wrap_autoencoder(model), "auto", user_models.range_training_images())
    assert ae.input_spec.scales.output == "0-255", ae.scales_reason
    assert ae.rebuild_warning is not None and "far outside [0, 1]" in ae.scales_reason
    rebuilt = ae.reconstruct(user_models.range_training_images(count=4))
    assert 0.2 < rebuilt.mean() < 0.8  # about 127 / 255, not 127


def test_a_poor_rebuild_is_worded_as_a_warning(images):
    ae = choose_scales(wrap_autoencoder(user_models.dense_bottleneck()), "auto", user_models.range_training_images())
    assert ae.rebuild_warning.startswith("this model does not rebuild these images well: mean error ")


# --------------------------------------------------------------------------- files aevis cannot use


def _refusal(tmp_path, capsys, *arguments) -> str:
    """Run the command line; assert exit 2 with one sentence and no traceback; return the sentence."""
    from aevis.cli import main

    status = main(
        [*arguments, "--out", str(tmp_path / "site"), "--cache-dir", str(tmp_path / "cache"), "--quiet", "--count", "4"]
    )
    error = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(error) == 1 and error[0].startswith("aevis: ") and "Traceback" not in error[0], error
    assert not (tmp_path / "site").exists()
    return error[0]


def _image_to_vector(softmax: bool) -> keras.Model:
    image = keras.Input((16, 16, 3))
    x = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, strides=2)(image))
    return keras.Model(image, keras.layers.Dense(10, activation="softmax" if softmax else None)(x))


def test_refusals_name_what_the_file_is_and_what_to_do(tmp_path, capsys, vae_files):
    saved_model = tmp_path / "exported"
    user_models.nested_encoder_decoder().export(saved_model, verbose=False)
    assert "TensorFlow SavedModel folder" in _refusal(tmp_path, capsys, "--model", str(saved_model))

    (tmp_path / "empty.keras").write_bytes(b"")
    assert "empty (0 bytes)" in _refusal(tmp_path, capsys, "--model", str(tmp_path / "empty.keras"))

    model = user_models.dense_bottleneck()
    model.save_weights(tmp_path / "ae.weights.h5")
    (tmp_path / "renamed.h5").write_bytes((tmp_path / "ae.weights.h5").read_bytes())
    for name in ("ae.weights.h5", "renamed.h5"):
        assert "holds only weights" in _refusal(tmp_path, capsys, "--model", str(tmp_path / name))

    assert "decoder alone" in _refusal(tmp_path, capsys, "--model", str(vae_files / "decoder.keras"))
    assert "encoder alone" in _refusal(tmp_path, capsys, "--model", str(vae_files / "encoder.keras"))

    _image_to_vector(softmax=True).save(tmp_path / "classifier.keras")
    assert "looks like a classifier" in _refusal(tmp_path, capsys, "--model", str(tmp_path / "classifier.keras"))


def test_an_encoder_without_its_decoder_is_an_argument_error(capsys, vae_files):
    from aevis.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["--encoder", str(vae_files / "encoder.keras")])
    assert stopped.value.code == 2
    assert "--encoder and --decoder go together" in capsys.readouterr().err


def test_refusal_of_a_model_needing_custom_classes_names_the_flag(tmp_path, capsys, vae_files):
    registered = keras.saving.get_custom_objects()
    saved = dict(registered)
    registered.clear()
    try:
        sentence = _refusal(tmp_path, capsys, "--model", str(vae_files / "vae.keras"))
    finally:
        registered.update(saved)
    assert "Sampling" in sentence and "--custom-objects FILE.py" in sentence


def test_incremental_occlusion_runs_in_windows_inside_a_nested_encoder():
    from aevis.methods.incremental import plan_patched_codes

    ae = wrap_autoencoder(user_models.nested_encoder_decoder())
    assert plan_patched_codes(ae, patch=4) is not None
    probe = _probe_for(ae, 2)
    np.testing.assert_allclose(
        aevis.explain(ae, probe, method="occlusion", patch=4),
        aevis.explain(ae, probe, method="occlusion", patch=4, incremental=False),
        atol=1e-5,
    )


# --------------------------------------------------------------------------- whole builds


def _save_pngs(folder, images) -> None:
    from PIL import Image

    folder.mkdir()
    for index, image in enumerate(images):
        Image.fromarray(np.round(image * 255).astype(np.uint8)).save(folder / f"image-{index:02d}.png")


def _small_build(tmp_path, name, **settings):
    from aevis.config import BuildConfig
    from aevis.pipeline import build

    out = tmp_path / name
    build(
        BuildConfig(
            out=out,
            cache=False,
            cache_dir=tmp_path / "cache",
            neighbours=2,
            faithfulness_sample=2,
            quiet=True,
            **settings,
        )
    )
    manifest = (out / "data" / "manifest.json").read_text()
    return out, __import__("json").loads(manifest)


def test_a_model_trained_on_0_255_builds_right_without_any_flag(tmp_path, capsys):
    model_path = tmp_path / "bytes.keras"
    user_models.trained_on_range("0-255").save(model_path)
    folder = tmp_path / "photos"
    _save_pngs(folder, user_models.range_training_images(count=8, seed=11))  # unseen images
    out, manifest = _small_build(
        tmp_path, "site", model=model_path, images=folder, methods=("saliency",), pair_method=None
    )
    model = manifest["model"]
    assert (model["input"]["scale"], model["output_scale"]) == ("0-255", "0-255")
    assert "lowest reconstruction error" in model["scales_reason"]
    assert manifest["warnings"] == []
    assert "Pixel values: [0, 255]" in capsys.readouterr().err
    errors = [
        np.load(out / "data" / "maps" / f"{record['slug']}.npz")["reconstruction_error"].mean()
        for record in manifest["images"]
    ]
    assert max(errors) < 0.05  # read in [0, 1], the model's [0, 255] output would be ~15,000


def test_two_builds_of_a_vae_from_encoder_and_decoder_files_are_identical(tmp_path, vae_module, vae_files):
    path, _ = vae_module
    folder = tmp_path / "photos"
    _save_pngs(folder, user_models.range_training_images(count=6, seed=12))
    settings = dict(
        encoder=vae_files / "encoder.keras",
        decoder=vae_files / "decoder.keras",
        custom_objects=path,
        images=folder,
        methods=("saliency", "occlusion"),
    )
    first, manifest = _small_build(tmp_path, "first", **settings)
    second, again = _small_build(tmp_path, "second", **settings)
    assert manifest["model"]["bottleneck"] == "z_mean" and manifest["model"]["code_size"] == 2
    np.testing.assert_array_equal(np.load(first / "data" / "codes.npy"), np.load(second / "data" / "codes.npy"))
    for record in manifest["images"]:
        maps, twin = (np.load(site / "data" / "maps" / f"{record['slug']}.npz") for site in (first, second))
        assert sorted(maps.files) == sorted(twin.files)
        for name in maps.files:
            np.testing.assert_array_equal(maps[name], twin[name], err_msg=name)
    assert {key: value for key, value in manifest.items() if key != "built_at"} == {
        key: value for key, value in again.items() if key != "built_at"
    }
