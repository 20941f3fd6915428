"""Genuine Keras 2 model files, written by tf-keras (tests/model/keras2_files/make.py), load and
build a gallery with default options, and compute what Keras 2 computed."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

import aevis
from aevis.model import load_autoencoder
from aevis.model.files import format_note, load_model_file
from aevis.model.legacy import translate_config

FILES = Path(__file__).parent / "keras2_files"
SAMPLING = FILES / "sampling.py"
MODELS = {  # file: the layer aevis should find as the code (the one make.py called "code")
    "sequential.h5": "code",
    "conv_transpose.h5": "code",
    "nested.h5": "code",
    "sequential_halves.h5": "code",
    "batchnorm.h5": "dropout",  # the last layer at the smallest grid; at inference it passes "code" on
    "vae.h5": "z_mean",
    "hdf5_named.keras": "code",
    "keras2_zip.keras": "code",
}


def _expected(name: str):
    return np.load(FILES / f"{Path(name).stem}.npz")


def _custom(name: str):
    return SAMPLING if name == "vae.h5" else None


@pytest.mark.parametrize("name", MODELS)
def test_a_keras2_file_computes_what_keras2_computed(name):
    expected = _expected(name)
    ae = load_autoencoder(FILES / name, custom_objects=_custom(name), images=expected["images"])
    assert ae.bottleneck == MODELS[name], ae.bottleneck_reason
    assert (ae.input_spec.scales.input, ae.input_spec.scales.output) == ("0-1", "0-1"), ae.scales_reason
    assert ae.rebuild_warning is None
    np.testing.assert_allclose(ae.reconstruct(expected["images"]), expected["outputs"], atol=1e-5)
    np.testing.assert_allclose(ae.encode(expected["images"]), expected["codes"], atol=1e-5)


def _save_pngs(folder: Path, images: np.ndarray) -> Path:
    from PIL import Image

    folder.mkdir()
    for index, image in enumerate(np.round(images * 255).astype(np.uint8)):
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(folder / f"image-{index}.png")
    return folder


@pytest.mark.parametrize("name", MODELS)
def test_a_keras2_file_builds_a_gallery_with_default_options(tmp_path, capsys, name):
    from aevis.config import BuildConfig
    from aevis.pipeline import build

    expected = _expected(name)
    out = tmp_path / "site"
    build(
        BuildConfig(
            model=FILES / name,
            custom_objects=_custom(name),
            images=_save_pngs(tmp_path / "images", expected["images"]),
            out=out,
            cache=False,
            cache_dir=tmp_path / "cache",
            quiet=True,
        )
    )
    manifest = json.loads((out / "data" / "manifest.json").read_text())
    assert manifest["model"]["bottleneck"] == MODELS[name] and manifest["warnings"] == []
    np.testing.assert_allclose(np.load(out / "data" / "codes.npy"), expected["codes"], atol=1e-5)
    said = capsys.readouterr().err
    assert ("holds HDF5, as Keras 2 saved under any name" in said) == (name == "hdf5_named.keras"), said


# --------------------------------------------------------------------------- older Keras 2 forms


def _rewritten(tmp_path: Path, name: str, rewrite) -> Path:
    """A copy of a Keras 2 file whose model config ``rewrite`` edits in place, as an older Keras wrote it."""
    copy = tmp_path / name
    shutil.copy(FILES / name, copy)
    with h5py.File(copy, "r+") as saved:
        config = json.loads(saved.attrs["model_config"])
        rewrite(config)
        saved.attrs["model_config"] = json.dumps(config)
    return copy


def _layers(config: dict) -> list:
    layers = config["config"]["layers"] if isinstance(config["config"], dict) else config["config"]
    return [layer for layer in layers if isinstance(layer, dict)]


def _older_sequential(config: dict) -> None:
    """Keras 2.2.0: the Sequential as a bare list; tf.keras 2.1: dtype policies and initializers with a dtype."""
    config["config"] = [layer for layer in config["config"]["layers"] if layer["class_name"] != "InputLayer"]
    config["config"][0]["config"]["batch_input_shape"] = [None, 16, 16, 1]
    for layer in config["config"]:
        layer["config"]["dtype"] = {"class_name": "Policy", "config": {"name": "mixed_float16"}}
        if "kernel_initializer" in layer["config"]:
            layer["config"]["kernel_initializer"]["config"]["dtype"] = "float32"
            layer["config"]["kernel_regularizer"] = {"class_name": "L1L2Regularizer", "config": {"l1": 0.0, "l2": 0.01}}


def _older_functional(config: dict) -> None:
    """tf.keras 1.x: each layer's call as a flat list of inputs; Keras 2: ThresholdedReLU, BatchNorm axis [3]."""
    for layer in _layers(config):
        if layer["inbound_nodes"]:
            layer["inbound_nodes"] = layer["inbound_nodes"][0]
        if layer["class_name"] == "ReLU":  # ReLU() is ThresholdedReLU(theta=0) but at exactly 0
            layer["class_name"] = "ThresholdedReLU"
            layer["config"] = {"name": layer["config"]["name"], "trainable": True, "dtype": "float32", "theta": 0.0}
        if layer["class_name"] == "BatchNormalization":
            layer["config"]["axis"] = [3]


@pytest.mark.parametrize("name, rewrite", [("sequential.h5", _older_sequential), ("batchnorm.h5", _older_functional)])
def test_configs_of_older_keras_versions_load_and_compute_the_same(tmp_path, name, rewrite):
    path = _rewritten(tmp_path, name, rewrite)
    expected = _expected(name)
    model = load_model_file(path)
    assert model.dtype_policy.name == "float32"
    np.testing.assert_allclose(model.predict(expected["images"], verbose=0), expected["outputs"], atol=1e-5)


def test_translation_changes_only_what_keras3_refuses():
    policy = {"class_name": "Policy", "config": {"name": "float32"}}
    initializer = {"class_name": "GlorotUniform", "config": {"seed": None}}
    saved = {
        "class_name": "Conv2DTranspose",
        "config": {"name": "up", "groups": 1, "filters": 4, "dtype": policy, "kernel_initializer": initializer},
    }
    assert translate_config(saved) == {
        "class_name": "Conv2DTranspose",
        "config": {"name": "up", "filters": 4, "dtype": "float32", "kernel_initializer": initializer},
    }
    assert saved["config"]["groups"] == 1  # the caller's config is left as it was
    grouped = {"class_name": "Conv2D", "config": {"name": "c", "groups": 2}}
    assert translate_config(grouped) == grouped  # Conv2D still takes groups, and 2 groups are not 1
    leaky = translate_config({"class_name": "LeakyReLU", "config": {"name": "l", "alpha": 0.3}})
    assert leaky["config"] == {"name": "l", "negative_slope": 0.3}


# --------------------------------------------------------------------------- files aevis cannot use


def test_a_setting_keras_refuses_is_named_in_one_sentence_with_the_way_forward(tmp_path):
    def two_groups(config):
        layer = next(layer for layer in _layers(config) if layer["class_name"] == "Conv2DTranspose")
        layer["config"]["groups"] = 2

    path = _rewritten(tmp_path, "conv_transpose.h5", two_groups)
    with pytest.raises(aevis.AevisError) as refused:
        load_model_file(path)
    sentence = str(refused.value)
    assert "Unrecognized keyword arguments passed to Conv2DTranspose: {'groups': 2}" in sentence
    assert "(saved by Keras 2.21.0)" in sentence and "model.load_weights('conv_transpose.h5')" in sentence
    assert "kernel_initializer" not in sentence and "\n" not in sentence and len(sentence) < 500


def test_tensorflow_functions_saved_as_layers_are_named(tmp_path):
    def tf_op(config):
        layer = next(layer for layer in _layers(config) if layer["class_name"] == "Conv2DTranspose")
        layer["class_name"] = "TFOpLambda"

    with pytest.raises(aevis.AevisError, match="calls TensorFlow functions directly on Keras tensors .*TFOpLambda"):
        load_model_file(_rewritten(tmp_path, "conv_transpose.h5", tf_op))


def test_a_lambda_saved_by_another_python_is_named(tmp_path):
    import base64
    import marshal

    def lambda_from_another_python(config):
        code = base64.b64encode(marshal.dumps(compile("x", "<lambda>", "eval"))[:-3]).decode()  # cut short
        layer = next(layer for layer in _layers(config) if layer["class_name"] == "Conv2DTranspose")
        layer["class_name"] = "Lambda"
        layer["config"] = {
            "name": layer["config"]["name"],
            "function": [code, None, None],
            "function_type": "lambda",
            "output_shape": None,
            "arguments": {},
        }

    path = _rewritten(tmp_path, "conv_transpose.h5", lambda_from_another_python)
    with pytest.raises(
        aevis.AevisError,
        match=r"holds a Lambda layer whose Python code was saved by another "
        r"version of Python \(.+\) .*model.load_weights\('conv_transpose.h5'\)",
    ):
        load_model_file(path, safe_mode=False)
    with pytest.raises(aevis.AevisError, match="pass --trust-model"):  # safe mode says so first
        load_model_file(path)


def test_files_are_known_by_content_not_name(tmp_path):
    for name in ("model", "model.hdf5", "model.bin"):  # HDF5 under any name loads
        shutil.copy(FILES / "conv_transpose.h5", tmp_path / name)
        assert load_model_file(tmp_path / name).count_params() > 0
    assert format_note(tmp_path / "model.bin") == "model.bin holds HDF5: read as a Keras HDF5 model file."
    shutil.copy(FILES / "keras2_zip.keras", tmp_path / "zipped.h5")
    assert load_model_file(tmp_path / "zipped.h5").count_params() > 0
    assert format_note(tmp_path / "zipped.h5") == "zipped.h5 is a .keras zip under another name: read as one."
    assert format_note(FILES / "conv_transpose.h5") is None and format_note(FILES / "keras2_zip.keras") is None

    with zipfile.ZipFile(tmp_path / "model.pt", "w") as archive:
        archive.writestr("model/data.pkl", b"\x80\x02}q\x00.")
    with pytest.raises(aevis.AevisError, match="model.pt is a PyTorch model, not a Keras one"):
        load_model_file(tmp_path / "model.pt")
    with h5py.File(tmp_path / "data.h5", "w") as data:
        data["images"] = np.zeros((2, 4, 4))
    with pytest.raises(aevis.AevisError, match=r"data.h5 is an HDF5 file but not a Keras model \(it holds neither"):
        load_model_file(tmp_path / "data.h5")
    (tmp_path / "model.onnx").write_bytes(b"\x08\x07\x12\x07pytorch" * 10)
    with pytest.raises(aevis.AevisError, match=r"model.onnx is not a Keras model file \(neither HDF5 nor a .keras"):
        load_model_file(tmp_path / "model.onnx")
