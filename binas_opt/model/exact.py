"""Exact budget arithmetic: a budget holds when the *exact* sum of the table entries an
architecture uses is at most the budget.

Floating-point sums are only a filter.  Every float is a dyadic rational, so the exact sum of a
set of entries is a :class:`fractions.Fraction`; comparing it with the budget (also a float, so
also exact) has no tolerance at all, at any magnitude.  Evaluating that for every row of a large
batch would be slow, so :func:`compare_exact` first sums in floating point with a rigorous error
bound (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., eq. 4.4)

.. math:: |\\hat s - s| \\le \\gamma_{n}\\sum_i |x_i|, \\qquad
          \\gamma_n = \\frac{n u}{1 - n u},\\ u = 2^{-53},

which holds for any summation order, and decides exactly, with rationals, only the rows whose
float sum lies within that bound of the budget.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

import numpy as np

__all__ = ["exact_sum", "round_up", "round_down", "error_bound", "compare_exact"]

_U = 2.0 ** -53


def exact_sum(values: Iterable[float]) -> Fraction:
    """The exact rational sum of finite floats (no rounding anywhere)."""
    return sum((Fraction(float(v)) for v in values), Fraction(0))


def round_up(x: Fraction) -> float:
    """The smallest float that is at least ``x`` (a budget set to it admits ``x``)."""
    f = float(x)
    return math.nextafter(f, math.inf) if Fraction(f) < x else f


def round_down(x: Fraction) -> float:
    """The largest float that is at most ``x``."""
    f = float(x)
    return math.nextafter(f, -math.inf) if Fraction(f) > x else f


def error_bound(abs_sum: np.ndarray, n_terms: int) -> np.ndarray:
    """A rigorous bound on the rounding error of a float sum of ``n_terms`` terms whose absolute
    values sum to ``abs_sum`` (itself computed in floats, hence the extra terms of slack)."""
    n = n_terms + 2
    gamma = n * _U / (1.0 - n * _U)
    # twice the bound: abs_sum and the comparison are themselves rounded; plus the smallest
    # subnormals, so that sums of subnormal numbers are never decided by the filter alone
    return 2.0 * gamma * np.asarray(abs_sum, dtype=float) + 4.0 * math.ulp(0.0)


def compare_exact(approx: np.ndarray, abs_sum: np.ndarray, n_terms: int, bound: float,
                  exact_row) -> np.ndarray:
    """Exactly decide ``sum <= bound`` for many rows.

    Parameters
    ----------
    approx : ndarray, shape (n,)
        Float sums of every row.
    abs_sum : ndarray, shape (n,)
        Float sums of the absolute values of every row's terms.
    n_terms : int
        The most terms any row has.
    bound : float
    exact_row : callable
        ``exact_row(i) -> Fraction``: the exact sum of row ``i``; called only for rows the float
        filter cannot decide.

    Returns
    -------
    ndarray of bool
        ``True`` where the exact sum is at most ``bound``.
    """
    approx = np.asarray(approx, dtype=float)
    err = error_bound(abs_sum, n_terms)
    gap = bound - approx  # within a relative u of the true difference of the two floats
    ok = gap > err
    unsure = np.flatnonzero(~ok & (-gap <= err))
    if unsure.size:
        b = Fraction(float(bound))
        for i in unsure:
            ok[i] = exact_row(int(i)) <= b
    return ok
