"""Checks of arguments at the public boundary; each error names the argument and the bad value.

Scalars (`check_int`, ...) and arrays (`check_array`, `check_pair`): public
functions call these once, then hand checked arrays to unchecked internals."""
import math

import numpy as np


def _is_real(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_int(name, value, minimum=1):
    """`value` as an int >= `minimum` (True and False are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_threads(name, value):
    """`value` is "auto" (the thread policy decides) or an int >= 1."""
    if isinstance(value, str) and value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be \"auto\" or an integer >= 1, got {value!r}")
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


def check_real(a, name):
    """A clear error unless ndarray `a` holds real numbers (bool, int or float)."""
    if a.dtype.kind == "c":
        raise ValueError(f"`{name}` must be real, got dtype {a.dtype}. Complex data not supported: "
                         "pass its real part (or real and imaginary parts as separate columns)")
    if a.dtype.kind not in "biuf":
        raise ValueError(f"`{name}` must be numeric, got dtype {a.dtype}")


def check_array(arr, name, width, dtype):
    """`arr` as a C-contiguous 2-D `dtype` array of `width` columns, or ValueError."""
    try:
        a = np.asarray(arr)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"`{name}` must be a 2-D numeric array: {exc}") from None
    check_real(a, name)
    if a.ndim != 2 or a.shape[1] != width or a.shape[0] == 0:
        raise ValueError(f"`{name}` must have shape (n, {width}) with n >= 1, got shape {a.shape}")
    _check_finite(a, name, "must be finite")
    with np.errstate(over="ignore"):  # an overflow is refused just below, naming the value
        converted = np.ascontiguousarray(a, dtype=dtype)
    if converted.dtype != a.dtype:  # finite, but perhaps too large for dtype
        _check_finite(converted, name, f"overflows {np.dtype(dtype).name}")
    return converted


def _check_finite(a, name, problem):
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"`{name}` {problem}; row {bad[0]}, column {bad[1]} is {a[tuple(bad)]}")


def check_pair(X, Y, d, m, dtype, names=("X", "Y")):
    """(X, Y) checked by `check_array`, widths d and m, with the same number of rows."""
    X = check_array(X, names[0], d, dtype)
    Y = check_array(Y, names[1], m, dtype)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"`{names[0]}` and `{names[1]}` need the same number of rows, "
                         f"got {X.shape[0]} and {Y.shape[0]}")
    return X, Y


def check_validation(validation, d, m, dtype):
    """`validation` as a checked pair (X_val, Y_val), or None."""
    if validation is None:
        return None
    try:
        Xv, Yv = validation
    except (TypeError, ValueError):
        raise ValueError("`validation` must be a pair (X_val, Y_val)") from None
    return check_pair(Xv, Yv, d, m, dtype, ("validation X", "validation Y"))
