"""Checks of single values shared by the model classes, with messages that name the item.

**Integers.**  Where an integer is expected (depths, op indices, channels, strides), a Python or
numpy integer is taken as it is, a float only when it is integral (``2.0`` is read as ``2``,
``2.7`` is refused rather than truncated), and anything else (a bool, a string, None) is
refused.

**Real numbers.**  Budgets and other numbers take Python or numpy reals (ints too), never a
string or a bool, and never NaN or infinity.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["as_int", "as_real", "as_label"]


def as_int(value: Any, what: str, *, ge: int | None = None) -> int:
    """``value`` as an int (see the module docstring), at least ``ge`` if given.

    Raises
    ------
    TypeError
        Not a number (or a bool), naming ``what``.
    ValueError
        A non-integral float or a value below ``ge``, naming ``what``.
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be an integer, got the bool {value!r}")
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif isinstance(value, numbers.Real):
        v = float(value)
        if not v.is_integer():
            raise ValueError(f"{what} must be an integer, got {value!r} (not truncated)")
        out = int(v)
    else:
        raise TypeError(f"{what} must be an integer, got {value!r}")
    if ge is not None and out < ge:
        raise ValueError(f"{what} must be >= {ge}, got {value!r}")
    return out


def as_real(value: Any, what: str) -> float:
    """``value`` as a finite float: a real number, not a string, a bool, NaN or infinity.

    Raises
    ------
    TypeError
        Not a real number (a string, a bool, None, ...), naming ``what``.
    ValueError
        NaN or infinite, naming ``what``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return out


def as_label(value: Any, what: str) -> str:
    """An op label: a non-empty string, or an int (not a bool) read as its decimal string.

    Raises
    ------
    TypeError
        None, a bool, a float or any other object, naming ``what``.
    ValueError
        An empty or blank string, naming ``what``.
    """
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(f"{what} is an empty string; op labels must be non-empty")
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    raise TypeError(f"{what} must be a non-empty string (or an int), got {value!r}")
