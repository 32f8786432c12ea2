"""Lookup tables written by other NAS projects: the types every importer returns.

Two formats are read into a :class:`~binas_opt.Table` over a matching
:class:`~binas_opt.SearchSpace` (inferred from the file, or given and validated against it):
Once-for-All YAML (:mod:`binas_opt.io.ofa`: :func:`~binas_opt.io.ofa.read_ofa_yaml` for one file,
:func:`~binas_opt.io.ofa.read_ofa_yaml_by_resolution` for one file per input resolution) and
FBNet JSON (:mod:`binas_opt.io.fbnet`: :func:`~binas_opt.io.fbnet.read_fbnet_json`).  Each
returns a :class:`LutImport`.
"""

from __future__ import annotations

from dataclasses import dataclass

from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table

__all__ = ["LutImport", "LutEntry"]


@dataclass(frozen=True)
class LutEntry:
    """A fixed (non-searchable) entry of a lookup table, summed into the constant."""

    key: str
    mean: float
    std: float
    count: int


@dataclass(frozen=True, eq=False)
class LutImport:
    """An imported lookup table.

    Attributes
    ----------
    space : SearchSpace
        The space the table is over (inferred, or the one given).
    table : Table
        Mean latency per entry; the constant is the sum of the fixed entries.
    std : Table or None
        Standard deviation of each entry (the constant is the square root of the summed
        variances of the fixed entries, assuming independence).  ``None`` for formats without it.
    fixed : tuple of LutEntry
        The entries summed into the constant.
    resolution : int or None
        Input resolution, when the file states it.
    source : str
        The file read.
    """

    space: SearchSpace
    table: Table
    std: Table | None
    fixed: tuple[LutEntry, ...]
    resolution: int | None
    source: str
