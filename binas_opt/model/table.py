"""Additive lookup tables (latency, params, MACs, energy, the BINAS accuracy estimator).

A :class:`Table` assigns a number to every choice and sums it over the active blocks:

.. math:: f(\\text{arch}) = c + \\sum_s g_{s,d_s} + \\sum_s \\sum_{b < d_s} a_{s,b,o_{s,b}}

In the (alpha, beta) encoding this is the bilinear form
:math:`c + p_\\alpha^T\\alpha + p_\\beta^T\\beta + \\alpha^T Q \\beta` (see :meth:`Table.to_bilinear`).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from binas_opt.io.serialization import reject_unknown_keys, require
from binas_opt.model.architecture import Architecture
from binas_opt.model.choices import Choice, ObjectiveSense
from binas_opt.model.exact import compare_exact, error_bound, exact_sum, round_up
from binas_opt.model.space import SearchSpace
from binas_opt.model.units import Budget, UnitError, convert

__all__ = ["Table", "Constraint", "Sense"]


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


def _check_finite(values: np.ndarray, what: str, describe) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{what}: entry {describe(i)} is {values[i]} (values must be finite)")


@dataclass(frozen=True, eq=False, init=False)
class Table:
    """An additive table over a search space.

    Parameters
    ----------
    space : SearchSpace
    const : float
        Constant term (e.g. the fixed stem and head, or the base accuracy).
    depth : sequence, optional
        ``depth[s][i]`` is the value of the ``i``-th allowed depth of stage ``s``. Default 0.
    op : sequence, optional
        ``op[s][b][o]`` is the value of op ``o`` in block ``b`` of stage ``s`` when that block is
        active; a 2-D array per stage is fine when every block has the same ops.  Default 0.
    name, unit : str, optional
        Carried through the algebra and checked against budgets.

    Examples
    --------
    >>> import binas_opt as bo
    >>> space = bo.SearchSpace([bo.Stage((1, 2), ["a", "b"])])
    >>> t = bo.Table(space, const=1.0, depth=[[0.0, 0.5]], op=[[[1.0, 2.0], [3.0, 4.0]]],
    ...              name="latency", unit="ms")
    >>> t(bo.Architecture((2,), ((1, 0),)))
    6.5
    """

    space: SearchSpace
    const: float
    depth_values: np.ndarray
    op_values: np.ndarray
    name: str | None
    unit: str | None

    def __init__(self, space, const=0.0, depth=None, op=None, name=None, unit=None):
        if not isinstance(space, SearchSpace):
            raise TypeError(f"Table: space must be a SearchSpace, got {type(space).__name__}")
        where = f"Table {name!r}" if name else "Table"
        const = float(const)
        if not np.isfinite(const):
            raise ValueError(f"{where}: const is {const} (must be finite)")
        depth_vec = np.zeros(space.n_beta) if depth is None else self._flatten_depth(space, depth, where)
        op_vec = np.zeros(space.n_alpha) if op is None else self._flatten_op(space, op, where)
        object.__setattr__(self, "space", space)
        object.__setattr__(self, "const", const)
        object.__setattr__(self, "depth_values", _readonly(depth_vec))
        object.__setattr__(self, "op_values", _readonly(op_vec))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "unit", unit)
        _check_finite(self.depth_values, where, self.describe_beta)
        _check_finite(self.op_values, where, self.describe_alpha)

    # ---------------------------------------------------------------- construction helpers
    @staticmethod
    def _flatten_depth(space: SearchSpace, depth, where: str) -> np.ndarray:
        if isinstance(depth, np.ndarray) and depth.ndim == 1 and depth.size == space.n_beta:
            return depth.astype(float)
        if len(depth) != space.n_stages:
            raise ValueError(f"{where}: depth has {len(depth)} rows, the space has {space.n_stages} stages")
        out = []
        for s, (row, st) in enumerate(zip(depth, space.stages, strict=True)):
            row = np.asarray(row, dtype=float).ravel()
            if row.size != len(st.depths):
                raise ValueError(
                    f"{where}: depth[{s}] has {row.size} values, stage {s} allows depths {st.depths}"
                )
            out.append(row)
        return np.concatenate(out)

    @staticmethod
    def _flatten_op(space: SearchSpace, op, where: str) -> np.ndarray:
        if isinstance(op, np.ndarray) and op.ndim == 1 and op.size == space.n_alpha:
            return op.astype(float)
        if len(op) != space.n_stages:
            raise ValueError(f"{where}: op has {len(op)} entries, the space has {space.n_stages} stages")
        out = []
        for s, (blocks, st) in enumerate(zip(op, space.stages, strict=True)):
            if len(blocks) != st.max_depth:
                raise ValueError(
                    f"{where}: op[{s}] has {len(blocks)} blocks, stage {s} has {st.max_depth}"
                )
            for b, (vals, n) in enumerate(zip(blocks, st.num_ops, strict=True)):
                vals = np.asarray(vals, dtype=float).ravel()
                if vals.size != n:
                    raise ValueError(
                        f"{where}: op[{s}][{b}] has {vals.size} values, block has {n} ops"
                    )
                out.append(vals)
        return np.concatenate(out)

    def describe_alpha(self, i: int) -> str:
        idx = self.space.index
        s, b, o = int(idx.alpha_stage[i]), int(idx.alpha_block[i]), int(idx.alpha_op[i])
        label = self.space.stages[s].ops[b][o]
        return f"op[{s}][{b}][{o}] ({self.space.stage_name(s)} block {b} op {label!r})"

    def describe_beta(self, i: int) -> str:
        idx = self.space.index
        s = int(idx.beta_stage[i])
        j = i - int(idx.beta_offset[s])
        return f"depth[{s}][{j}] ({self.space.stage_name(s)} depth {int(idx.beta_depth[i])})"

    # ---------------------------------------------------------------- structured views
    def depth_table(self, s: int) -> np.ndarray:
        """Values of the allowed depths of stage ``s``."""
        off = self.space.index.beta_offset[s]
        return self.depth_values[off: off + len(self.space.stages[s].depths)]

    def op_table(self, s: int, b: int) -> np.ndarray:
        """Values of the ops of block ``b`` of stage ``s``."""
        off = self.space.index.alpha_offset[s, b]
        return self.op_values[off: off + self.space.stages[s].num_ops[b]]

    def nested(self) -> tuple[list[list[float]], list[list[list[float]]]]:
        """``(depth, op)`` as nested lists in the constructor's layout."""
        depth = [self.depth_table(s).tolist() for s in range(self.space.n_stages)]
        op = [
            [self.op_table(s, b).tolist() for b in range(st.max_depth)]
            for s, st in enumerate(self.space.stages)
        ]
        return depth, op

    # ---------------------------------------------------------------- evaluation
    def __call__(self, arch: Architecture) -> float:
        """Value on one architecture."""
        self.space.validate(arch)
        return float(self.evaluate([arch])[0])

    def evaluate(self, archs: Sequence[Architecture]) -> np.ndarray:
        """Values on many architectures (vectorised)."""
        return self.evaluate_arrays(*self.space.encoding.to_arrays(archs))

    def evaluate_arrays(self, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
        """Values for a depth matrix ``(n, n_stages)`` and flat op matrix ``(n, total_blocks)``."""
        ai, bi = self.space.indices_from_arrays(depths, ops)
        return self._evaluate_idx(ai, bi, self.space.active_mask(depths))

    def _evaluate_idx(self, ai, bi, active) -> np.ndarray:
        ops = np.where(active, self.op_values[ai], 0.0).sum(axis=1)
        return self.const + self.depth_values[bi].sum(axis=1) + ops

    # ---------------------------------------------------------------- exact values
    def _terms(self, depths: np.ndarray, ops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The entries every row uses: ``(n, n_stages)`` depth terms and ``(n, total_blocks)``
        op terms (0 for inactive blocks)."""
        ai, bi = self.space.indices_from_arrays(depths, ops)
        return self.depth_values[bi], np.where(self.space.active_mask(depths), self.op_values[ai], 0.0)

    def exact_values(self, depths: np.ndarray, ops: np.ndarray) -> list[Fraction]:
        """The exact rational value of every row (the sum of its entries, with no rounding)."""
        dt, ot = self._terms(depths, ops)
        return [exact_sum([self.const, *d, *o]) for d, o in zip(dt, ot, strict=True)]

    def exact_value(self, arch: Architecture) -> Fraction:
        """The exact rational value on ``arch``: the definition a budget is checked against."""
        self.space.validate(arch)
        return self.exact_values(*self.space.encoding.to_arrays([arch]))[0]

    def within(self, depths: np.ndarray, ops: np.ndarray, bound: float, upper: bool = True
               ) -> np.ndarray:
        """Exactly which rows have value ``<= bound`` (``>= bound`` when ``upper`` is False).

        Decided in floating point with a rigorous error bound, and with exact rationals for the
        rows that bound cannot decide (:func:`binas_opt.model.exact.compare_exact`), so the answer
        has no tolerance at any magnitude.
        """
        dt, ot = self._terms(depths, ops)
        approx = self.const + dt.sum(axis=1) + ot.sum(axis=1)
        abs_sum = abs(self.const) + np.abs(dt).sum(axis=1) + np.abs(ot).sum(axis=1)
        n_terms = 1 + dt.shape[1] + ot.shape[1]
        sign = 1.0 if upper else -1.0

        def exact_row(i: int) -> Fraction:
            value = exact_sum([self.const, *dt[i], *ot[i]])
            return value if upper else -value

        return compare_exact(sign * approx, abs_sum, n_terms, sign * float(bound), exact_row)

    def exact_extreme(self, upper: bool = False) -> Fraction:
        """The exact minimum (maximum when ``upper``) over the whole space, as a rational.

        Stage by stage: the best op of every block is exact in floats (a comparison), only the
        sums are taken in rationals.
        """
        total = Fraction(self.const)
        pick = np.max if upper else np.min
        for s, st in enumerate(self.space.stages):
            best = [Fraction(float(pick(self.op_table(s, b)))) for b in range(st.max_depth)]
            prefix = [Fraction(0)]
            for v in best:
                prefix.append(prefix[-1] + v)
            g = self.depth_table(s)
            cands = [Fraction(float(g[i])) + prefix[d] for i, d in enumerate(st.depths)]
            total += max(cands) if upper else min(cands)
        return total

    def sum_error_bound(self) -> float:
        """A rigorous bound on ``|float value - exact value|`` for every architecture, whatever
        the summation order (:func:`binas_opt.model.exact.error_bound` of the largest sum of
        absolute entries any architecture uses).  Floats within it of a budget are decided
        exactly; everything else is decided by the float alone."""
        total = abs(self.const)
        n_terms = 1
        for s, st in enumerate(self.space.stages):
            best = np.cumsum([0.0] + [float(np.max(np.abs(self.op_table(s, b))))
                                      for b in range(st.max_depth)])
            g = np.abs(self.depth_table(s))
            total += float(max(g[i] + best[d] for i, d in enumerate(st.depths)))
            n_terms += 1 + st.max_depth
        # the float sum of absolute values is itself rounded: 1 + 2 n u covers it
        return float(error_bound(np.array(total * (1.0 + 4.0 * n_terms * 2.0 ** -53)), n_terms))

    def evaluate_x(self, x: np.ndarray) -> np.ndarray:
        """The bilinear form on (possibly fractional) rows ``x = (alpha, beta)``."""
        x = np.atleast_2d(x)
        a, b = x[:, : self.space.n_alpha], x[:, self.space.n_alpha:]
        _, pa, pb, q = self.to_bilinear()
        return self.const + a @ pa + b @ pb + np.asarray((q @ b.T).T * a).sum(axis=1)

    # ---------------------------------------------------------------- exact extremes
    def stage_best(self, s: int, sense: ObjectiveSense | str = ObjectiveSense.MIN
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Best (smallest for ``"min"``, largest for ``"max"``) value of every allowed depth of
        stage ``s`` and the ops attaining it.

        Returns ``(values, ops)`` with ``values[i]`` the best of depth ``depths[i]`` and
        ``ops[i]`` its op indices (lowest index on ties).
        """
        sense = ObjectiveSense.parse(sense, "stage_best: sense")
        st = self.space.stages[s]
        pick = np.argmin if sense is ObjectiveSense.MIN else np.argmax
        best_ops = np.array([int(pick(self.op_table(s, b))) for b in range(st.max_depth)])
        best_vals = np.array([self.op_table(s, b)[o] for b, o in enumerate(best_ops)])
        cum = np.concatenate([[0.0], np.cumsum(best_vals)])
        values = self.depth_table(s) + cum[list(st.depths)]
        ops = np.array([np.where(np.arange(st.max_depth) < d, best_ops, 0) for d in st.depths])
        return values, ops

    def extreme(self, sense: ObjectiveSense | str = ObjectiveSense.MIN
                ) -> tuple[float, Architecture]:
        """Exact minimum (or maximum) over the whole space, and an architecture attaining it."""
        sense = ObjectiveSense.parse(sense, "extreme: sense")
        total, depths, ops = self.const, [], []
        for s, st in enumerate(self.space.stages):
            vals, o = self.stage_best(s, sense)
            i = int(np.argmin(vals) if sense is ObjectiveSense.MIN else np.argmax(vals))
            total += vals[i]
            depths.append(st.depths[i])
            ops.append(tuple(int(v) for v in o[i]))
        arch = Architecture(tuple(depths), tuple(ops))
        return float(self(arch)), arch

    def min_value(self) -> float:
        """The minimum over the space (closed form, stage by stage), rounded up to a float: a
        ``<=`` budget set to it admits the cheapest architecture (see :meth:`exact_extreme`)."""
        return round_up(self.exact_extreme())

    def max_value(self) -> float:
        """The maximum over the space, rounded up to a float: a ``<=`` budget set to it admits
        every architecture."""
        return round_up(self.exact_extreme(upper=True))

    # ---------------------------------------------------------------- bilinear form
    def to_bilinear(self) -> tuple[float, np.ndarray, np.ndarray, sp.csr_matrix]:
        """``(const, p_alpha, p_beta, Q)`` in the paper's layout.

        ``Q[(s,b,o), (s,d)] = a_{s,b,o}`` for every depth option ``d > b`` (the block is active),
        ``p_alpha = 0`` and ``p_beta`` holds the depth values.
        """
        return self._bilinear

    @cached_property
    def _bilinear(self):
        rows, cols = self.space.encoding.alpha_beta_pattern
        q = sp.csr_matrix(
            (self.op_values[rows], (rows, cols)), shape=(self.space.n_alpha, self.space.n_beta)
        )
        return self.const, np.zeros(self.space.n_alpha), np.array(self.depth_values), q

    @classmethod
    def from_bilinear(cls, space, const, p_alpha, p_beta, Q, name=None, unit=None, tol=1e-9) -> Table:
        """Recover a Table from a bilinear form, if the form is additive over active blocks.

        Raises ``ValueError`` naming the first entry that no Table can represent (use
        :class:`~binas_opt.QuadraticForm` for such forms).
        """
        idx = space.index
        pa = np.asarray(p_alpha, dtype=float).ravel()
        pb = np.asarray(p_beta, dtype=float).ravel()
        if pa.size != space.n_alpha or pb.size != space.n_beta:
            raise ValueError(
                f"from_bilinear: p_alpha/p_beta have lengths {pa.size}/{pb.size}, expected "
                f"{space.n_alpha}/{space.n_beta}"
            )
        q = sp.csr_matrix(Q) if sp.issparse(Q) else sp.csr_matrix(np.asarray(Q, dtype=float))
        if q.shape != (space.n_alpha, space.n_beta):
            raise ValueError(
                f"from_bilinear: Q has shape {q.shape}, expected {(space.n_alpha, space.n_beta)}"
            )
        v = q.toarray() + pa[:, None]  # value of alpha entry a when depth option d is chosen
        cross = (idx.alpha_stage[:, None] != idx.beta_stage[None, :]) & (np.abs(q.toarray()) > 0)
        if cross.any():
            a, d = np.argwhere(cross)[0]
            raise ValueError(f"from_bilinear: Q couples alpha {a} with beta {d} of another stage")
        g = pb.copy()
        opv = np.zeros(space.n_alpha)
        for s, st in enumerate(space.stages):
            cols = np.arange(idx.beta_offset[s], idx.beta_offset[s] + len(st.depths))
            dvals = np.asarray(st.depths)
            for b, n in enumerate(st.num_ops):
                rows = np.arange(idx.alpha_offset[s, b], idx.alpha_offset[s, b] + n)
                block = v[np.ix_(rows, cols)]  # (n ops, n depths)
                act, inact = dvals > b, dvals <= b
                ref = block[:, act][:, -1:]  # value at the largest depth (block active)
                shift = block[:, act] - ref
                if not np.allclose(shift, shift[:1], rtol=tol, atol=tol) or not np.allclose(
                    block[:, inact], block[:1, inact], rtol=tol, atol=tol
                ):
                    raise ValueError(
                        f"from_bilinear: block {b} of stage {s} is not additive (its value "
                        "depends on the op when inactive or on the depth beyond activity); "
                        "use QuadraticForm"
                    )
                opv[rows] = ref[:, 0]
                g[cols[act]] += shift[0]
                g[cols[inact]] += block[0, inact]
        return cls(space, const=const, depth=g, op=opv, name=name, unit=unit)

    def to_quadratic(self):
        """The same function as a :class:`~binas_opt.QuadraticForm` over ``x = (alpha, beta)``."""
        from binas_opt.model.quadratic import QuadraticForm

        c, pa, pb, q = self.to_bilinear()
        n_a = self.space.n_alpha
        w = sp.bmat([[sp.csr_matrix((n_a, n_a)), q], [None, sp.csr_matrix((self.space.n_beta,) * 2)]])
        return QuadraticForm(self.space, c, np.concatenate([pa, pb]), w, name=self.name, unit=self.unit)

    # ---------------------------------------------------------------- algebra
    def _combine(self, other: Table, sign: float) -> Table:
        if other.space != self.space:
            raise ValueError(f"cannot combine tables {self.name!r} and {other.name!r} of different spaces")
        if self.unit and other.unit and self.unit != other.unit:
            raise UnitError(f"cannot add {self.name!r} in {self.unit!r} to {other.name!r} in {other.unit!r}")
        op = "+" if sign > 0 else "-"
        name = self.name if self.name == other.name else f"({self.name} {op} {other.name})"
        return Table(
            self.space, self.const + sign * other.const,
            self.depth_values + sign * other.depth_values,
            self.op_values + sign * other.op_values,
            name=name, unit=self.unit or other.unit,
        )

    def __add__(self, other):
        if isinstance(other, Table):
            return self._combine(other, 1.0)
        if isinstance(other, numbers.Real):
            return self.replace(const=self.const + float(other))
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, Table):
            return self._combine(other, -1.0)
        if isinstance(other, numbers.Real):
            return self.replace(const=self.const - float(other))
        return NotImplemented

    def __rsub__(self, other):
        if isinstance(other, numbers.Real):
            return (-self) + float(other)
        return NotImplemented

    def __mul__(self, k):
        if isinstance(k, numbers.Real):
            k = float(k)
            return Table(self.space, self.const * k, self.depth_values * k, self.op_values * k,
                         name=self.name, unit=self.unit)
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, k):
        if isinstance(k, numbers.Real):
            return self * (1.0 / float(k))
        return NotImplemented

    def __neg__(self):
        return self * -1.0

    def __le__(self, budget) -> Constraint:
        return Constraint(self, budget, Sense.LE)

    def __ge__(self, bound) -> Constraint:
        return Constraint(self, bound, Sense.GE)

    def replace(self, **changes) -> Table:
        """A copy with some of ``const``, ``depth``, ``op``, ``name``, ``unit`` changed."""
        kw = dict(const=self.const, depth=self.depth_values, op=self.op_values,
                  name=self.name, unit=self.unit)
        kw.update(changes)
        return Table(self.space, **kw)

    def to_unit(self, unit: str) -> Table:
        """The same table expressed in ``unit`` (time, energy or byte units convert)."""
        k = convert(1.0, self.unit, unit, what=f"table {self.name!r}")
        return (self * k).replace(unit=unit)

    def equals(self, other: Table) -> bool:
        return (
            isinstance(other, Table) and other.space == self.space and other.const == self.const
            and np.array_equal(other.depth_values, self.depth_values)
            and np.array_equal(other.op_values, self.op_values)
            and other.name == self.name and other.unit == self.unit
        )

    def __eq__(self, other):  # explicit: __le__ is overloaded, keep == a plain comparison
        return self.equals(other) if isinstance(other, Table) else NotImplemented

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return (f"Table(name={self.name!r}, unit={self.unit!r}, const={self.const:.6g}, "
                f"range=[{self.min_value():.6g}, {self.max_value():.6g}])")

    # ---------------------------------------------------------------- io
    def to_dict(self) -> dict[str, Any]:
        depth, op = self.nested()
        return {"const": self.const, "depth": depth, "op": op, "name": self.name, "unit": self.unit}

    @classmethod
    def from_dict(cls, d: dict[str, Any], space: SearchSpace) -> Table:
        where = "Table.from_dict"
        reject_unknown_keys(d, ("const", "depth", "op", "name", "unit"), where)
        return cls(space, const=require(d, "const", where, "a number"),
                   depth=require(d, "depth", where, "a list of per-stage lists of numbers"),
                   op=require(d, "op", where, "a list of per-stage, per-block lists of numbers"),
                   name=d.get("name"), unit=d.get("unit"))


class Sense(Choice):
    """Direction of a constraint."""

    LE = "<="
    GE = ">="


@dataclass(frozen=True, init=False)
class Constraint:
    """``table <= budget`` (a resource budget) or ``table >= bound``.

    A ``<=`` budget requires a resource table: every entry must be non-negative.  A budget given
    as :class:`~binas_opt.Budget` with a unit is converted into the table's unit, or rejected if
    the units are not commensurable or the table has no unit (see :mod:`binas_opt.model.units`).
    A budget is a finite real number: strings, bools, NaN and infinity are refused.
    """

    table: Table
    budget: float
    sense: Sense

    def __init__(self, table: Table, budget, sense: Sense | str = Sense.LE):
        if not isinstance(table, Table):
            raise TypeError(f"Constraint: expected a Table, got {type(table).__name__}")
        sense = Sense.parse(sense, "Constraint: sense")
        name = table.name or "table"
        if isinstance(budget, Budget):
            value = convert(budget.value, budget.unit, table.unit, what=f"budget on {name!r}")
        elif isinstance(budget, numbers.Real) and not isinstance(budget, (bool, np.bool_)):
            value = float(budget)
        else:
            raise TypeError(f"budget on {name!r}: expected a real number or Budget (not a "
                            f"string or bool), got {budget!r}")
        if not np.isfinite(value):
            raise ValueError(f"budget on {name!r} is {value} (must be finite)")
        if sense is Sense.LE:
            for vals, desc in ((table.op_values, table.describe_alpha),
                               (table.depth_values, table.describe_beta)):
                neg = np.flatnonzero(vals < 0)
                if neg.size:
                    i = int(neg[0])
                    raise ValueError(
                        f"resource table {name!r}: entry {desc(i)} is {vals[i]}; resource costs "
                        "must be non-negative"
                    )
            if table.const < 0:
                raise ValueError(f"resource table {name!r}: const is {table.const} (negative)")
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "budget", value)
        object.__setattr__(self, "sense", sense)

    @property
    def name(self) -> str:
        return self.table.name or "resource"

    def as_le(self) -> tuple[Table, float]:
        """``(t, b)`` such that the constraint reads ``t(arch) <= b``."""
        return (self.table, self.budget) if self.sense is Sense.LE else (-self.table, -self.budget)

    def slack(self, value: float) -> float:
        """Budget minus value (for ``<=``); negative when violated."""
        return self.budget - value if self.sense is Sense.LE else value - self.budget

    def with_budget(self, budget) -> Constraint:
        return Constraint(self.table, budget, self.sense)

    def __repr__(self) -> str:
        unit = f" {self.table.unit}" if self.table.unit else ""
        return f"Constraint({self.name} {self.sense.value} {self.budget:g}{unit})"
