"""Checks of scalar arguments; each error names the argument and the bad value."""
import math

import numpy as np


def _is_real(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_int(name, value, minimum=1):
    """`value` as an int >= `minimum` (True and False are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_positive(name, value):
    """`value` as a float, finite and > 0."""
    if not (_is_real(value) and math.isfinite(value) and value > 0):
        raise ValueError(f"`{name}` must be a finite number > 0, got {value!r}")
    return float(value)


def check_non_negative(name, value):
    """`value` as a float, finite and >= 0."""
    if not (_is_real(value) and math.isfinite(value) and value >= 0):
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}")
    return float(value)


def check_in_range(name, value, lo, hi):
    """`value` as a float with lo <= value < hi."""
    if not (_is_real(value) and lo <= value < hi):
        raise ValueError(f"`{name}` must be in [{lo:g}, {hi:g}), got {value!r}")
    return float(value)
