"""Keras 2 model files, read by Keras 3: their configs translated, their weights loaded by Keras.

Most autoencoders shared on GitHub were saved by tf.keras 2.x: as HDF5 (under whatever name the
user gave, ``.h5`` or ``.keras`` alike), or from 2.13 as a ``.keras`` zip. Keras 3 still reads
both, but refuses a few settings Keras 2 wrote and Keras 3 dropped or renamed (Keras's own
``keras/src/legacy/saving`` translates some, at the top of the file only; its issues #19441,
#19151 and #19898 show the rest). :func:`translate_config` rewrites them, everywhere in the
model's config, and the loaders below hand the result to Keras's own code, which builds the
model and loads its weights.

What is translated, and why it changes nothing the model computes:

- ``groups: 1`` on transposed, depthwise and separable convolutions: Keras 2 wrote it on every
  convolution; Keras 3 takes it only on ``Conv*D``. One group is what they computed.
- A dtype *policy* (``{"class_name": "Policy", "config": {"name": "mixed_float16"}}``) becomes
  its name; mixed precision becomes float32, the precision of its saved weights, in which
  aevis computes.
- ``dtype`` inside an initializer's config (tf.keras 1.x and 2.0), and the old class name
  ``L1L2Regularizer``: initializers and regularizers play no part once the weights are loaded.
- ``LeakyReLU(alpha=…)`` is ``LeakyReLU(negative_slope=…)``; ``ThresholdedReLU(theta)``, gone
  from Keras 3, is ``ReLU(threshold=theta)``.
- ``BatchNormalization(axis=[3])`` is ``axis=3``.
- A layer's one call written as a flat list of inputs (tf.keras 1.x) becomes a list of calls.
- A Sequential saved as a bare list of layers (Keras before 2.2.3) becomes ``{name, layers}``;
  one whose first layer carries ``batch_input_shape`` starts with that ``InputLayer`` instead,
  as Keras 3 wants (it warns otherwise).
- In a tf-keras ``.keras`` zip, the module paths of Keras 2 (``tf_keras.src.engine.functional``,
  ``keras.src.engine.sequential``) become Keras 3's.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from pathlib import Path

import h5py
import keras
from keras.src.legacy.saving import json_utils, legacy_h5_format, saving_options, saving_utils
from keras.src.saving import saving_lib, serialization_lib

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"

_ONE_GROUP_ONLY = {
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "SeparableConvolution1D",
    "SeparableConvolution2D",
}
_OLD_CLASS_NAMES = {"L1L2Regularizer": "L1L2"}
_MIXED_POLICIES = {"mixed_float16": "float32", "mixed_bfloat16": "float32"}
_KERAS2_MODULE = re.compile(r"^(tf_keras|keras)(\.src)?\.(engine|layers|initializers|regularizers|constraints)\b")
_KERAS3_MODEL_MODULES = {
    "Functional": "keras.src.models.functional",
    "Sequential": "keras.src.models.sequential",
    "Model": "keras.src.models.model",
}


def file_kind(path: Path) -> str | None:
    """'hdf5' or 'zip' from a file's first bytes, whatever its name; None for anything else."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head == HDF5_SIGNATURE:
        return "hdf5"
    if head.startswith(ZIP_SIGNATURE):
        return "zip"
    return "hdf5" if h5py.is_hdf5(path) else None  # HDF5 after a user block of 512, 1024, … bytes


def translate_config(config):
    """A copy of a saved model's config with every Keras 2 setting Keras 3 refuses translated.

    ``config`` is the decoded JSON of an HDF5 file's ``model_config`` attribute or of a
    ``.keras`` zip's ``config.json``. Settings Keras 3 accepts are left as they are.
    """
    return _translate(copy.deepcopy(config))


def _translate(value):
    if isinstance(value, list):
        return [_translate(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "class_name" in value and "config" in value:
        value = _translate_object(value)
    return {key: _translate(item) for key, item in value.items()}


def _translate_object(saved: dict) -> dict:
    """One serialized object, ``{"class_name": …, "config": …}``, in Keras 3's terms."""
    name = _OLD_CLASS_NAMES.get(saved["class_name"], saved["class_name"])
    saved["class_name"] = name
    module = saved.get("module")
    if isinstance(module, str) and _KERAS2_MODULE.match(module):
        saved["module"] = _KERAS3_MODEL_MODULES.get(name, "keras.layers" if ".layers" in module else "keras")
    config = saved["config"]
    if name == "Sequential" and isinstance(config, list):
        config = saved["config"] = {"name": "sequential", "layers": config}
    if not isinstance(config, dict):
        return saved
    if "dtype" in config:
        config["dtype"] = _dtype(config["dtype"])
    for key, item in config.items():
        inner = item.get("config") if isinstance(item, dict) else None
        if key.endswith(("initializer", "regularizer", "constraint")) and isinstance(inner, dict):
            inner.pop("dtype", None)
    if name in _ONE_GROUP_ONLY and config.get("groups") == 1:
        del config["groups"]
    if name == "LeakyReLU" and "alpha" in config:
        config["negative_slope"] = config.pop("alpha")
    if name == "ThresholdedReLU":
        saved["class_name"] = "ReLU"
        config["threshold"] = config.pop("theta", 1.0)
    if name == "BatchNormalization" and isinstance(config.get("axis"), list) and len(config["axis"]) == 1:
        config["axis"] = config["axis"][0]
    if name == "Sequential":
        _give_input_layer(config)
    if name in ("Functional", "Model") and isinstance(config.get("layers"), list):
        for layer in config["layers"]:
            _nest_flat_node(layer)
        _renumber_nested_calls(config)
    return saved


def _dtype(dtype):
    """A dtype policy as Keras 3 reads one: its name, mixed precision as float32."""
    if isinstance(dtype, dict) and dtype.get("class_name") in ("Policy", "PolicyV1", "DTypePolicy"):
        dtype = dtype.get("config", {}).get("name", "float32")
    return _MIXED_POLICIES.get(dtype, dtype) if isinstance(dtype, str) else dtype


def _give_input_layer(config: dict) -> None:
    """Move a Sequential's ``batch_input_shape`` off its first layer into an InputLayer."""
    layers = config.get("layers") or []
    first = layers[0] if layers else None
    if not isinstance(first, dict):
        return
    if first.get("class_name") == "InputLayer":  # tf-keras wrote both
        if len(layers) > 1 and isinstance(layers[1].get("config"), dict):
            layers[1]["config"].pop("batch_input_shape", None)
        return
    shape = first.get("config", {}).pop("batch_input_shape", None)
    if shape is None:
        return
    input_layer = {
        "class_name": "InputLayer",
        "config": {
            "batch_shape": shape,
            "dtype": first["config"].get("dtype", "float32"),
            "name": f"{first['config'].get('name', 'input')}_input",
        },
    }
    if "module" in first:
        input_layer.update(module="keras.layers", registered_name=None)
    layers.insert(0, input_layer)


def _nest_flat_node(layer) -> None:
    """tf.keras 1.x (Keras 2.2.4-tf) wrote a layer's one call as a flat list of its inputs,
    ``[["input_7", 0, 0, {}]]``; Keras writes a list of calls, ``[[["input_7", 0, 0, {}]]]``."""
    nodes = layer.get("inbound_nodes") if isinstance(layer, dict) else None
    if (
        isinstance(nodes, list)
        and nodes
        and all(isinstance(reference, list) and reference and isinstance(reference[0], str) for reference in nodes)
    ):
        layer["inbound_nodes"] = [nodes]


def _renumber_nested_calls(config: dict) -> None:
    """Point a Functional model's calls of its sub-models at Keras 3's node numbers.

    In Keras 2 a model built on its own ``Input`` owns node 0, so its first call in an outer
    model is node 1; a Keras 3 model has no such node, and Keras 3 reads the Keras 2 number for
    layer inputs as it is (for the outer model's outputs it subtracts one itself, for Functional
    sub-models only).
    """
    own_node = {
        layer.get("name") or layer.get("config", {}).get("name"): layer["class_name"]
        for layer in config["layers"]
        if isinstance(layer, dict) and _has_own_node(layer)
    }
    if not own_node:
        return

    def shift(reference, always: bool):
        if (
            isinstance(reference, list)
            and len(reference) >= 3
            and isinstance(reference[0], str)
            and reference[0] in own_node
            and isinstance(reference[1], int)
            and reference[1] >= 1
            and (always or own_node[reference[0]] == "Sequential")
        ):
            reference[1] -= 1

    for layer in config["layers"]:
        for node in layer.get("inbound_nodes") or []:
            if isinstance(node, list):
                for reference in node:
                    shift(reference, always=True)
    outputs = config.get("output_layers")
    for reference in outputs if isinstance(outputs, list) and outputs and isinstance(outputs[0], list) else [outputs]:
        shift(reference, always=False)


def _has_own_node(layer: dict) -> bool:
    """Whether a saved sub-model was built on its own input (a Keras 2 node 0 of its own)."""
    if layer.get("class_name") in ("Functional", "Model"):
        return isinstance(layer.get("config"), dict) and "input_layers" in layer["config"]
    if layer.get("class_name") != "Sequential" or not isinstance(layer.get("config"), dict):
        return False
    inner = layer["config"].get("layers") or []
    return bool(inner) and (
        inner[0].get("class_name") == "InputLayer" or "batch_input_shape" in inner[0].get("config", {})
    )


def load_hdf5_model(path: Path, custom_objects: dict | None, safe_mode: bool) -> keras.Model:
    """A model from an HDF5 file (any name), its config translated, built and filled by Keras 2's
    loader in Keras 3 (``keras.src.legacy.saving``).

    Raises:
        ValueError: the file has no model config: "No model config found" where it holds
            weights, "No Keras model in the HDF5 file" where it holds neither.
        Any error Keras raises on a config it still cannot read.
    """
    with h5py.File(path, "r") as saved:
        raw = saved.attrs.get("model_config")
        if raw is None and ("layer_names" in saved.attrs or "layers" in saved or "model_weights" in saved):
            raise ValueError(f"No model config found in the file at {path}.")  # weights only
        if raw is None:
            raise ValueError(f"No Keras model in the HDF5 file at {path}: neither a model config nor layer weights.")
        config = translate_config(json_utils.decode(raw.decode("utf-8") if hasattr(raw, "decode") else raw))
        objects = {**(custom_objects or {}), **keras.saving.get_custom_objects()}
        with saving_options.keras_option_scope(use_legacy_config=True), serialization_lib.SafeModeScope(safe_mode):
            model = saving_utils.model_from_config(config, custom_objects=objects)
            legacy_h5_format.load_weights_from_hdf5_group(
                legacy_h5_format.safe_get_h5_group(saved, "model_weights"), model
            )
    return model


def load_zip_model(path: Path, custom_objects: dict | None, safe_mode: bool) -> keras.Model:
    """A model from a ``.keras`` zip (any name); one saved by Keras 2 (tf-keras) has its config
    translated first, in a copy of the zip in memory."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if "config.json" not in names:
            raise ValueError("No config.json in the zip archive")
        metadata = json.loads(archive.read("metadata.json")) if "metadata.json" in names else {}
        if not str(metadata.get("keras_version", "3")).startswith("2."):
            with open(path, "rb") as handle:
                return saving_lib.load_model(handle, custom_objects=custom_objects, compile=False, safe_mode=safe_mode)
        translated = io.BytesIO()
        with zipfile.ZipFile(translated, "w") as copy_:
            for name in names:
                data = archive.read(name)
                if name == "config.json":
                    data = json.dumps(translate_config(json.loads(data))).encode()
                copy_.writestr(name, data)
    translated.seek(0)
    return saving_lib.load_model(translated, custom_objects=custom_objects, compile=False, safe_mode=safe_mode)
