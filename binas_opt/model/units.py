"""Units carried by tables and budgets, with conversion only between commensurable units.

A table's unit is a string (``"ms"``, ``"MB"``, ``"FLOPs"``), :data:`DIMENSIONLESS` (``"1"``,
a pure number declared as such) or None (not given).  A :class:`Budget` with a unit on a table
without one is an error: the unit cannot be checked.  Plain numbers (and ``Budget(x)`` without
a unit) are always read in the table's own unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from binas_opt.model.checks import as_real

__all__ = ["Budget", "convert", "UnitError", "DIMENSIONLESS"]

#: The unit of a table of pure numbers (``Table(..., unit="1")``); a budget in ``"1"`` (or
#: ``"dimensionless"``) matches it, a budget in any other unit is refused.
DIMENSIONLESS = "1"

# unit -> (dimension, factor to the dimension's base unit)
_UNITS: dict[str, tuple[str, float]] = {
    "s": ("time", 1.0), "ms": ("time", 1e-3), "us": ("time", 1e-6), "ns": ("time", 1e-9),
    "J": ("energy", 1.0), "mJ": ("energy", 1e-3), "uJ": ("energy", 1e-6), "nJ": ("energy", 1e-9),
    "B": ("bytes", 1.0), "KB": ("bytes", 1e3), "MB": ("bytes", 1e6), "GB": ("bytes", 1e9),
    "KiB": ("bytes", 1024.0), "MiB": ("bytes", 1024.0**2), "GiB": ("bytes", 1024.0**3),
}
_ALIASES = {"µs": "us", "sec": "s", "msec": "ms", "dimensionless": DIMENSIONLESS}


class UnitError(ValueError):
    """A budget's unit is not the unit of the table it constrains (and cannot be converted)."""


def _norm(unit: str | None) -> str | None:
    if unit is None:
        return None
    unit = unit.strip()
    return _ALIASES.get(unit, unit) or None


def convert(value: float, from_unit: str | None, to_unit: str | None, what: str = "budget") -> float:
    """Convert ``value`` from ``from_unit`` into ``to_unit``.

    Identical units (or no unit on ``value``) pass unchanged; time, energy and byte units
    convert; a unit on ``value`` with no unit on the table, and anything else, raise
    :class:`UnitError` naming both units.
    """
    f, t = _norm(from_unit), _norm(to_unit)
    if f is not None and t is None:
        raise UnitError(
            f"{what} is in {from_unit!r} but the table has no unit, so the unit cannot be "
            f"checked; give the table its unit (Table(..., unit={from_unit!r})), or give the "
            f"budget as a plain number in the table's unit (a table of pure numbers declares "
            f"unit={DIMENSIONLESS!r})")
    if f is None or t is None or f == t:
        return float(value)
    if f in _UNITS and t in _UNITS and _UNITS[f][0] == _UNITS[t][0]:
        return float(value) * _UNITS[f][1] / _UNITS[t][1]
    raise UnitError(f"{what} is in {from_unit!r} but the table is in {to_unit!r}")


@dataclass(frozen=True)
class Budget:
    """A number with a unit, for ``table <= Budget(40, "ms")``.

    Examples
    --------
    >>> Budget.parse("40ms")
    Budget(value=40.0, unit='ms')
    """

    value: float
    unit: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", as_real(self.value, "Budget: value"))
        if self.unit is not None and not isinstance(self.unit, str):
            raise TypeError(f"Budget: unit must be a string or None, got {self.unit!r}")

    @classmethod
    def parse(cls, text: str) -> Budget:
        """Parse ``"40"``, ``"40ms"``, ``"5e6"`` or ``"0.04 s"``."""
        import re

        m = re.fullmatch(r"\s*([-+]?[\d.]+(?:[eE][-+]?\d+)?)\s*([A-Za-zµ]*)\s*", text)
        if not m:
            raise ValueError(f"cannot read a budget from {text!r}; expected e.g. '40' or '40ms'")
        return cls(float(m.group(1)), m.group(2) or None)
