"""An independent oracle for budget checks: exact costs computed entry by entry.

Deliberately written without :meth:`binas_opt.Table.exact_values` (plain loops over
``depth_table``/``op_table`` and :class:`fractions.Fraction`), so that tests and
``benchmarks/robustness.py`` check the package's exact arithmetic against a second implementation.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from binas_opt.model.table import Table

__all__ = ["reference_exact_costs"]


def reference_exact_costs(table: Table, depths: np.ndarray, ops: np.ndarray) -> list[Fraction]:
    """The exact rational sum of the entries every row (architecture) uses."""
    space = table.space
    out = []
    for arch in space.encoding.to_architectures(depths, ops):
        total = Fraction(table.const)
        for s, stage in enumerate(space.stages):
            d = arch.depths[s]
            total += Fraction(float(table.depth_table(s)[stage.depths.index(d)]))
            for b in range(d):
                total += Fraction(float(table.op_table(s, b)[arch.ops[s][b]]))
        out.append(total)
    return out
