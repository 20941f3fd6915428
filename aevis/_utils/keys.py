"""Every cache-key recipe, in one place: what a cached result, picture or trained seed model is
keyed by. A key names everything its value depends on, so a stored value is reused exactly when
it would come out the same.

Results and pictures are keyed by :func:`make_key`, which includes :func:`code_version` (any
edit to aevis computes them anew); the trained seed by :func:`seed_model_key`, which includes
only aevis's release (editing aevis does not retrain it).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import numpy as np

from aevis import __version__


@cache
def code_version() -> str:
    """A hash of aevis's own source: any change to how results are computed or drawn
    invalidates what an earlier version stored."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def array_hash(values) -> str:
    """SHA-256 of an array's dtype, shape and bytes: the identity of an image or a code. Codes
    kept in a file (:class:`aevis._utils.codes.CodeFile`) hash as the same array in memory."""
    if hasattr(values, "update_hash"):
        digest = hashlib.sha256(f"{values.dtype.str}{tuple(values.shape)}".encode())
        values.update_hash(digest)
        return digest.hexdigest()
    values = np.ascontiguousarray(values)
    digest = hashlib.sha256(f"{values.dtype.str}{values.shape}".encode())
    digest.update(values.reshape(-1).view(np.uint8).data if values.size else b"")  # no copy: codes can be 1.6 GB
    return digest.hexdigest()


def make_key(*parts) -> str:
    """A key from JSON-ready parts (dicts are sorted), aevis's code version included."""
    text = json.dumps([code_version(), parts], sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, tuple)):
        return np.asarray(value).tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"Cannot put a {type(value).__name__} into a cache key.")


def encoded_key(model_key: str, image_key: str) -> str:
    """One image's code, reconstruction error and what the channel galleries keep of it."""
    return make_key("encoded", model_key, image_key)


def error_picture_key(model_key: str, image_key: str, top: float) -> str:
    """One image's error picture, coloured up to ``top`` (:attr:`aevis.gallery.Gallery.error_top`)."""
    return make_key("error", model_key, image_key, top)


def seed_model_key(settings: dict) -> str:
    """The trained seed model's file name: a hash of its training ``settings`` (the images'
    hash, shape, filters, epochs, batch size, seed, versions and trainer)."""
    # Serialised as the first caches named their seed models, so those stay valid.
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:20]
