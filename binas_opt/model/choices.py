"""Closed sets of option values as string enums, with one parser that names the argument.

Every enum of the package subclasses :class:`Choice`: a member compares equal to its string
(``ObjectiveSense.MAX == "max"``), so plain strings stay valid input everywhere, and
:meth:`Choice.parse` turns a string (or a member) into the member or raises a ``ValueError``
that names the argument and lists the valid values.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

__all__ = ["Choice", "ObjectiveSense"]


class Choice(StrEnum):
    """Base of the package's string enums (a member equals its value as a string)."""

    @classmethod
    def parse(cls, value: object, name: str) -> Self:
        """The member for ``value`` (a member or its string).

        Parameters
        ----------
        value : str or member
        name : str
            The argument, as the error message should name it (e.g. ``"Problem: sense"``).

        Raises
        ------
        ValueError
            Naming ``name``, the value given and the valid values.
        """
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(repr(m.value) for m in cls)
            raise ValueError(f"{name} must be one of {valid}, got {value!r}") from None


class ObjectiveSense(Choice):
    """Whether the objective is maximised (accuracy) or minimised (a resource)."""

    MAX = "max"
    MIN = "min"

    @property
    def sign(self) -> float:
        """+1 for ``max``, -1 for ``min``: ``sign * value`` is maximised."""
        return 1.0 if self is ObjectiveSense.MAX else -1.0
