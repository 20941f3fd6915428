"""Reading the files users save their models in, and one sentence for each file aevis cannot use.

A file is known by its content, not its name: HDF5 (what Keras 2 saved, often under a ``.keras``
name) or a ``.keras`` zip, from Keras 3 or Keras 2 (see :mod:`aevis.model.legacy`). Everything
else a user may point at (a TensorFlow SavedModel folder, an empty file left by a failed save,
a weights-only file, a PyTorch file, a file that needs their own layer classes, a setting
Keras refuses) gets a sentence naming what the file is, what Keras objected to, and what to do.
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
from aevis.model.legacy import file_kind, load_hdf5_model, load_zip_model

HDF5_SUFFIXES = (".h5", ".hdf5")
_MARSHAL_ERRORS = ("marshal data", "EOF read where object expected", "unknown type code")
"""What Python's marshal says of a Lambda's bytecode written by another Python version."""


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
    """Load a model file saved by Keras 2 or 3, HDF5 or ``.keras`` zip under any name, or say in
    one sentence why it cannot be used.

    Raises:
        AevisError: the file is missing, is a folder, is empty, holds only weights, needs
            classes that are not given, or is not a model Keras can read.
    """
    path = Path(path)
    kind = _check_file(path)
    load = load_hdf5_model if kind == "hdf5" else load_zip_model
    try:
        return load(path, custom_objects, safe_mode)
    except Exception as error:  # Keras raises many types; the user needs one sentence.
        raise AevisError(_load_failure(path, error)) from error


def format_note(path: str | Path) -> str | None:
    """A line for the terminal when a model file's content is not what its name says (HDF5 under
    a ``.keras`` name, as tf.keras 2 saved to any path), else None (also for a model in memory)."""
    if not isinstance(path, (str, Path)):
        return None
    path = Path(path)
    if not path.is_file():
        return None
    kind = file_kind(path)
    if kind == "hdf5" and path.suffix.lower() == ".keras":
        return (
            f"{path.name} holds HDF5, as Keras 2 saved under any name, not the .keras zip its name says: read as HDF5."
        )
    if kind == "hdf5" and path.suffix.lower() not in HDF5_SUFFIXES:
        return f"{path.name} holds HDF5: read as a Keras HDF5 model file."
    if kind == "zip" and path.suffix.lower() != ".keras":
        return f"{path.name} is a .keras zip under another name: read as one."
    return None


def _check_file(path: Path) -> str:
    """'hdf5' or 'zip' for a file that may hold a model; AevisError naming what it is otherwise."""
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
    if path.stat().st_size == 0:
        raise AevisError(
            f"{path.name} is empty (0 bytes), as a save that failed part-way leaves it; save the model again."
        )
    kind = file_kind(path)
    if kind == "zip":
        check_keras_archive(path)  # a zip bomb is refused before anything inflates it
        _check_zip(path)
    elif kind is None:
        raise AevisError(
            f"{path.name} is not a Keras model file (neither HDF5 nor a .keras zip): it is damaged, or another "
            "format; save the model with model.save('model.keras')."
        )
    return kind


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        raise AevisError(f"{path.name} is a damaged zip file (cut short?); save the model again.") from None
    if "config.json" in names:
        return
    if any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
        raise AevisError(f"{path.name} is a PyTorch model, not a Keras one; aevis explains Keras models.")
    raise AevisError(
        f"{path.name} is a zip archive but not a Keras model (it has no config.json); save the model with "
        "model.save('model.keras')."
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
    if re.search(r"'(TFOpLambda|SlicingOpLambda)'", text):
        return (
            f"{path.name} calls TensorFlow functions directly on Keras tensors (saved as TFOpLambda layers), which "
            "only tf.keras 2 can rebuild; in the code that made it, use Keras layers for those steps and save it again."
        )
    if any(sign in text for sign in _MARSHAL_ERRORS):
        return (
            f"{path.name} holds a Lambda layer whose Python code was saved by another version of Python "
            f"({keras_objection(text)}) and cannot be read back; build the model in Keras 3 code, load these "
            f"weights into it with model.load_weights('{path.name}') and save it with model.save('model.keras')."
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
    if "No Keras model in the HDF5 file" in text:
        return (
            f"{path.name} is an HDF5 file but not a Keras model (it holds neither a model's layers nor its "
            "weights); save the model with model.save('model.keras')."
        )
    objection = keras_objection(text) or type(error).__name__
    saved_by = _saved_by(path)
    return (
        f"Keras {keras.__version__} could not rebuild {path.name}{saved_by}: {objection}; if that names your own "
        "code, pass the file defining it with --custom-objects FILE.py, else build the model in Keras 3 code, "
        f"load these weights into it with model.load_weights('{path.name}') and save it with model.save('model.keras')."
    )


def keras_objection(text: str, limit: int = 240) -> str:
    """What Keras objected to, from its error message: the line after "Exception encountered:"
    where Keras wraps the cause in the layer's whole config, else the last line, without the
    config Keras appends to it; at most ``limit`` characters, without a trailing full stop."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    cause = next(
        (line.split(":", 1)[1].strip() for line in reversed(lines) if line.startswith("Exception encountered:")),
        lines[-1],
    )
    cause = re.split(r"\s*(?:Full object config:|Received: config=)", cause)[0]
    if len(cause) > limit:
        cause = cause[: limit - 1].rstrip() + "…"
    return cause.rstrip(".")


def _saved_by(path: Path) -> str:
    """' (saved by Keras 2.4.0)' from an HDF5 file's attributes, else ''."""
    try:
        with h5py.File(path, "r") as saved:
            version = saved.attrs.get("keras_version")
    except OSError:  # a zip
        return ""
    if version is None:
        return ""
    return f" (saved by Keras {version.decode() if hasattr(version, 'decode') else version})"
