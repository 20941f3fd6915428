"""A quiet terminal: TensorFlow's native log lines kept off it, real errors let through.

TensorFlow's C++ core writes start-up and runtime chatter straight to file descriptor 2
(``I0000 … oneDNN custom operations are on``, ``E0000 … failed call to cuInit``), before and
regardless of ``TF_CPP_MIN_LOG_LEVEL`` in current releases. A first-time user reads "error" and
wonders what broke. :func:`native_chatter_filtered` sends descriptor 2 through a filter that
drops those lines and passes everything else on, while Python's own ``sys.stderr`` (progress
bars, aevis's messages) keeps writing to the terminal directly. Keras and TensorFlow also talk
from Python: warnings (``UserWarning: Do not pass an `input_shape` …`` when a model loads) and
log records (``WARNING:absl:…``, ``WARNING:tensorflow:… retracing``); inside the filter those
are dropped too, and errors still pass.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

_NATIVE_LINE = re.compile(rb"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\] ")
"""The prefix absl and TensorFlow's logging put on every native log line."""
_HARMLESS = (
    rb"^[IW]",  # information and warnings: never a failure of the build
    rb"^E.*failed call to cuInit",  # no GPU on this machine: TensorFlow uses the CPU
    rb"^E.*Unable to register cu(DNN|FFT|BLAS) factory",
    rb"^E.*oneDNN supports \w+ only on platforms with",  # falls back to Eigen by itself
)
_TALKATIVE_PACKAGES = r"(keras|tf_keras|tensorflow|absl|h5py)(\.|$)"
"""Packages whose Python warnings are advice to the model's author, not to a user of aevis."""
_TALKATIVE_LOGGERS = ("tensorflow", "absl", "keras", "h5py")
_CHATTER = (
    rb"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    rb"^To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags",
)


def is_chatter(line: bytes) -> bool:
    """Whether a line on descriptor 2 is TensorFlow's harmless chatter rather than a real error."""
    if _NATIVE_LINE.match(line):
        return any(re.match(pattern, line) for pattern in _HARMLESS)
    return any(re.match(pattern, line) for pattern in _CHATTER)


@contextmanager
def native_chatter_filtered() -> Iterator[None]:
    """Inside, lines written to descriptor 2 by native code pass :func:`is_chatter`'s filter;
    ``sys.stderr`` writes to the terminal as before (so it stays a terminal for progress bars)."""
    sys.stderr.flush()
    terminal = os.dup(2)
    reader, writer = os.pipe()
    os.dup2(writer, 2)
    os.close(writer)
    python_stderr = sys.stderr
    if _writes_to_descriptor_2(python_stderr):
        sys.stderr = os.fdopen(
            os.dup(terminal), "w", buffering=1, encoding=python_stderr.encoding, errors=python_stderr.errors
        )
    relay = threading.Thread(target=_relay, args=(reader, terminal), name="aevis-native-log-filter", daemon=True)
    relay.start()
    try:
        with python_chatter_filtered():
            yield
    finally:
        sys.stderr.flush()
        if sys.stderr is not python_stderr:
            sys.stderr.close()
            sys.stderr = python_stderr
        os.dup2(terminal, 2)  # closes the pipe's last writer: the relay reads to the end and stops
        relay.join(timeout=5)
        os.close(terminal)


@contextmanager
def python_chatter_filtered() -> Iterator[None]:
    """Inside, the Python warnings of Keras, TensorFlow, absl and h5py are not shown, and their
    loggers pass only errors; both are as before afterwards."""
    loggers = [logging.getLogger(name) for name in _TALKATIVE_LOGGERS]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=_TALKATIVE_PACKAGES)
        for logger in loggers:
            logger.setLevel(max(logger.getEffectiveLevel(), logging.ERROR))
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)


def _writes_to_descriptor_2(stream) -> bool:
    """Whether ``stream`` is the process's own standard error (not, say, a test's capture)."""
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


def _relay(reader: int, terminal: int) -> None:
    with os.fdopen(reader, "rb") as lines:
        for line in lines:
            if not is_chatter(line):
                os.write(terminal, line)
