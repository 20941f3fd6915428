"""Reading the files users save their models in, and one sentence for each file aevis cannot use.

Keras reads ``.keras`` and legacy ``.h5`` files. Everything else a user may point at (a
TensorFlow SavedModel folder, an empty file left by a failed save, a weights-only file, a file
that needs their own layer classes) gets a sentence naming what the file is and what to do.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import re
import sys
import zipfile
from pathlib import Path

import h5py  # comes with Keras, which reads .h5 files with it
import keras

from aevis.errors import AevisError
from aevis.model.archive import check_keras_archive

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_custom_objects(path: str | Path) -> dict[str, object]:
    """Run the user's Python file and return the Keras classes and functions it defines.

    This runs that file's code, as ``import`` would. Classes registered with
    ``@keras.saving.register_keras_serializable`` are found by Keras on their own; the
    returned mapping (name to object) also covers classes that are not registered.

    Raises:
        AevisError: the file is missing, is not Python, or fails while running.
    """
    path = Path(path)
    if not path.is_file() or path.suffix != ".py":
        raise AevisError(f"Expected --custom-objects to name a Python file (.py), but {path} is not one.")
    name = f"aevis_custom_objects_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look classes up by module
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's code: any error, reported in one sentence
        del sys.modules[name]
        raise AevisError(f"Running {path.name} for --custom-objects failed: {type(error).__name__}: {error}") from error
    return {
        key: value
        for key, value in vars(module).items()
        if not key.startswith("_")
        and getattr(value, "__module__", None) == name
        and (inspect.isfunction(value) or (inspect.isclass(value) and issubclass(value, keras.layers.Layer)))
    }


def load_model_file(path: str | Path, custom_objects: dict | None = None, safe_mode: bool = True) -> keras.Model:
    """Load a ``.keras`` or ``.h5`` model file, or say in one sentence why it cannot be used.

    Raises:
        AevisError: the file is missing, is a folder, is empty, holds only weights, needs
            classes that are not given, or is not a model Keras can read.
    """
    path = Path(path)
    _check_file(path)
    if path.suffix == ".keras":
        check_keras_archive(path)  # a zip bomb is refused before Keras inflates it
    try:
        return keras.models.load_model(path, compile=False, safe_mode=safe_mode, custom_objects=custom_objects)
    except Exception as error:  # Keras raises many types; the user needs one sentence.
        raise AevisError(_load_failure(path, error)) from error


def _check_file(path: Path) -> None:
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            raise AevisError(
                f"{path} is a TensorFlow SavedModel folder, which Keras 3 cannot open as a model; in the code "
                "that trained it, save the model as one file with model.save('model.keras')."
            )
        raise AevisError(f"Expected a Keras model file, but {path} is a folder.")
    if not path.exists():
        raise AevisError(f"Expected a Keras model file at {path}, but there is no such file.")
    if path.name.endswith(".weights.h5"):
        raise _weights_only(path)
    if path.suffix not in MODEL_SUFFIXES:
        raise AevisError(
            f"Expected a .keras or .h5 model file, but {path.name} has the extension {path.suffix or '(none)'}."
        )
    if path.stat().st_size == 0:
        raise AevisError(
            f"{path.name} is empty (0 bytes), as a save that failed part-way leaves it; save the model again."
        )
    readable = zipfile.is_zipfile(path) if path.suffix == ".keras" else h5py.is_hdf5(path)
    if not readable:
        raise AevisError(
            f"{path.name} is not a Keras model file: it is damaged, or another format with a model's extension."
        )


def _weights_only(path: Path) -> AevisError:
    return AevisError(
        f"{path.name} holds only weights, not the model's layers; save the whole model with "
        "model.save('model.keras') and pass that file."
    )


def _load_failure(path: Path, error: Exception) -> str:
    """One sentence on why Keras could not load a model file."""
    text = str(error).strip()
    if "safe_mode" in text:
        return (
            f"Expected a model made only of standard layers, but {path.name} contains Python code "
            "(such as a Lambda layer) that would run on loading; if you trust this file, pass --trust-model."
        )
    located = re.search(r"Could not locate (?:class|function) '([^']+)'", text) or re.search(
        r"Unknown (?:layer|object|class|function)[^']*'([^']+)'", text
    )
    if located:
        return (
            f"{path.name} needs the custom class or function {located.group(1)!r}, whose code is not in the "
            "file; pass the Python file that defines it with --custom-objects FILE.py."
        )
    if "No model config found" in text:
        return str(_weights_only(path))
    reason = text.splitlines()[0] if text else type(error).__name__
    return f"Keras could not load {path.name} as a model: {reason}"
