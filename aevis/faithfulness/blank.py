"""Maps that show nothing: every pixel the same value, so the picture is one flat colour.

Grad-CAM keeps only the positive part of its weighted sum, and on some models and images
nothing is positive: the map is zero everywhere. A flat picture looks like an answer ("nothing
matters here") when it is the method's silence, so such a map is flagged ``blank:<method>`` in
the manifest and its card on the image page says so.
"""

from __future__ import annotations

import numpy as np

BLANK = "blank:"
"""How a flag names a blank map: ``blank:gradcam``."""
_FLATNESS = 1e-6
"""A map is flat when its values spread over at most this share of its largest magnitude:
equal up to float32 rounding (an exactly zero map is flat too)."""


def blank_maps(maps: np.ndarray) -> np.ndarray:
    """bool (N,): which of the (N, H, W) maps are flat. A map with NaN or infinite values is
    not called blank: it is flagged for those."""
    maps = np.asarray(maps).reshape(len(maps), -1)
    spread = maps.max(axis=1) - maps.min(axis=1)
    largest = np.abs(maps).max(axis=1)
    with np.errstate(invalid="ignore"):
        return np.isfinite(spread) & (spread <= _FLATNESS * largest)


def blank_flag(method: str) -> str:
    """The flag of a blank ``method`` map."""
    return f"{BLANK}{method}"


def blank_method(flag: str) -> str | None:
    """The method a flag says drew a blank map, or None for any other flag."""
    return flag[len(BLANK) :] if flag.startswith(BLANK) else None
