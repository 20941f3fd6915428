"""A quiet terminal: TensorFlow's native chatter is filtered out of a build, real errors are not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aevis.quiet import is_chatter, native_chatter_filtered

REPOSITORY = Path(__file__).resolve().parents[1]
NOISE = ("I0000", "W0000", "E0000", "oneDNN", "cuInit", "UserWarning", "absl::InitializeLog")


@pytest.mark.parametrize(
    "line, chatter",
    [
        (b"I0000 00:00:1795950555.885559   24794 port.cc:153] oneDNN custom operations are on.\n", True),
        (b"W0000 00:00:1795950555.885559   24794 cpu_feature_guard.cc:227] This TensorFlow binary\n", True),
        (b"E0000 00:00:1795950559.563178   24794 cuda_platform.cc:52] failed call to cuInit: INTERNAL\n", True),
        (
            b"E0000 00:00:1795950561.143704   24794 util.cc:131] oneDNN supports DT_INT32 only on platforms with AVX-512.\n",
            True,
        ),
        (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n", True),
        (b"E0000 00:00:1795950561.143704   24794 bfc_allocator.cc:485] Allocator ran out of memory\n", False),
        (b"F0000 00:00:1795950561.143704   24794 check.cc:10] Check failed: shape\n", False),
        (b"Segmentation fault\n", False),
        (b"aevis: Expected a Keras model file\n", False),
    ],
)
def test_only_harmless_native_lines_are_chatter(line, chatter):
    assert is_chatter(line) is chatter


def test_the_filter_drops_chatter_and_passes_real_errors(capfd):
    import os

    with native_chatter_filtered():
        os.write(2, b"I0000 00:00:1795950555.885559   24794 port.cc:153] oneDNN custom operations are on.\n")
        os.write(2, b"E0000 00:00:1795950561.143704   24794 bfc_allocator.cc:485] Allocator ran out of memory\n")
        print("from Python", file=sys.stderr)
    err = capfd.readouterr().err
    # The relay thread and Python write concurrently, so only what arrives is fixed, not the order.
    assert "E0000 00:00:1795950561.143704   24794 bfc_allocator.cc:485] Allocator ran out of memory\n" in err
    assert "from Python" in err and "oneDNN" not in err


def _build(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        str(REPOSITORY / "generate.py"),
        *"--count 6 --image-size 16 --filters 4 4 8 8 --epochs 1 --batch-size 8 --neighbours 2 --faithfulness-sample 2".split(),
        "--out",
        str(tmp_path / "site"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--quiet",
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)


def test_a_build_prints_no_tensorflow_chatter_and_verbose_shows_it(tmp_path):
    quiet = _build(tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    lines = (quiet.stdout + quiet.stderr).splitlines()
    assert not [line for line in lines if any(noise in line for noise in NOISE)]
    assert any(line.startswith("Code layer:") for line in lines) and any("Built 6 images" in line for line in lines)
    verbose = _build(tmp_path, "--verbose")
    assert verbose.returncode == 0 and "I0000" in verbose.stderr


def test_keras_warnings_and_log_records_are_quiet_inside_the_filter_and_shown_outside(caplog):
    import logging
    import warnings

    import keras

    from aevis.quiet import python_chatter_filtered

    def talk() -> tuple[list[str], list[str]]:
        """What Keras warns and what TensorFlow and absl log while a layer is made."""
        caplog.clear()
        with warnings.catch_warnings(record=True) as warned:
            keras.layers.Conv2D(4, 3, input_shape=(8, 8, 1))  # Keras: "Do not pass an `input_shape`"
        logging.getLogger("absl").warning("You are saving your model as an HDF5 file")
        logging.getLogger("tensorflow").error("a real TensorFlow error")
        return [str(warning.message) for warning in warned], [record.getMessage() for record in caplog.records]

    with python_chatter_filtered():
        warned, logged = talk()
    assert warned == [] and logged == ["a real TensorFlow error"]
    warned, logged = talk()  # --verbose: no filter
    assert any("Do not pass an `input_shape`" in message for message in warned)
    assert logged == ["You are saving your model as an HDF5 file", "a real TensorFlow error"]
