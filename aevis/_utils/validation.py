"""Checking options, for every room: an error names the option, what it must be, and what came."""

from __future__ import annotations

import numpy as np


def check_batch_size(batch_size) -> int:
    """``batch_size`` as a positive int, or a ValueError that names it."""
    return check_int("batch_size", batch_size, minimum=1)


def check_int(name: str, value, minimum: int) -> int:
    """An integer option at least ``minimum``, or a ValueError naming the option."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"Option {name!r} must be a whole number of at least {minimum}, got {value!r}.")
    return int(value)


def check_float(name: str, value, minimum: float | None = None, maximum: float | None = None) -> float:
    """A real-number option within bounds, or a ValueError naming the option."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"Option {name!r} must be a number, got {value!r}.")
    value = float(value)
    if not np.isfinite(value) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ValueError(f"Option {name!r} must be a number {bounds}, got {value!r}.")
    return value


def nanmean(values: np.ndarray) -> float:
    """The mean of the finite values; NaN when there are none."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else float("nan")
