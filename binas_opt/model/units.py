"""Units carried by tables and budgets, with conversion only between commensurable units."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Budget", "convert", "UnitError"]

# unit -> (dimension, factor to the dimension's base unit)
_UNITS: dict[str, tuple[str, float]] = {
    "s": ("time", 1.0), "ms": ("time", 1e-3), "us": ("time", 1e-6), "ns": ("time", 1e-9),
    "J": ("energy", 1.0), "mJ": ("energy", 1e-3), "uJ": ("energy", 1e-6), "nJ": ("energy", 1e-9),
    "B": ("bytes", 1.0), "KB": ("bytes", 1e3), "MB": ("bytes", 1e6), "GB": ("bytes", 1e9),
    "KiB": ("bytes", 1024.0), "MiB": ("bytes", 1024.0**2), "GiB": ("bytes", 1024.0**3),
}
_ALIASES = {"µs": "us", "sec": "s", "msec": "ms"}


class UnitError(ValueError):
    """A budget's unit is not the unit of the table it constrains (and cannot be converted)."""


def _norm(unit: str | None) -> str | None:
    if unit is None:
        return None
    unit = unit.strip()
    return _ALIASES.get(unit, unit) or None


def convert(value: float, from_unit: str | None, to_unit: str | None, what: str = "budget") -> float:
    """Convert ``value`` from ``from_unit`` into ``to_unit``.

    Identical units (or a missing unit on either side) pass unchanged; time, energy and byte
    units convert; anything else raises :class:`UnitError` naming both units.
    """
    f, t = _norm(from_unit), _norm(to_unit)
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

    @classmethod
    def parse(cls, text: str) -> Budget:
        """Parse ``"40"``, ``"40ms"``, ``"5e6"`` or ``"0.04 s"``."""
        import re

        m = re.fullmatch(r"\s*([-+]?[\d.]+(?:[eE][-+]?\d+)?)\s*([A-Za-zµ]*)\s*", text)
        if not m:
            raise ValueError(f"cannot read a budget from {text!r}; expected e.g. '40' or '40ms'")
        return cls(float(m.group(1)), m.group(2) or None)
