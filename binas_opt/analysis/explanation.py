"""``explain()``: what every decision of an architecture contributes, relative to a reference.

For an additive table ``f(arch) = c + sum_s [g_s(d_s) + sum_{b < d_s} a_{s,b,o_b}]`` pick per
block a reference value ``r_{s,b}`` (the mean over its ops, ``"uniform"``, as the paper measures
contributions; or the op that is cheapest in the reference resource, ``"cheapest"``) and per
stage a reference depth distribution (uniform over the allowed depths, or the cheapest depth).
With the stage value under reference ops ``G_s(d) = g_s(d) + sum_{b < d} r_{s,b}``:

.. math::
   f(\\text{arch}) = \\underbrace{c + \\sum_s \\mathbb{E}_{\\text{ref}}[G_s(D)]}_{\\text{reference}}
   + \\sum_s \\underbrace{\\big(G_s(d_s) - \\mathbb{E}_{\\text{ref}}[G_s(D)]\\big)}_{\\text{depth}}
   + \\sum_s \\sum_{b < d_s} \\underbrace{(a_{s,b,o_b} - r_{s,b})}_{\\text{op}}

exactly, for the objective and for every resource table.  With ``"cheapest"`` the reference is
the value of the cheapest architecture itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from binas_opt.model.architecture import Architecture
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table

__all__ = ["Explanation", "TableContributions", "explain", "table_contributions",
           "marginal_value", "REFERENCES"]

REFERENCES = ("uniform", "cheapest")


@dataclass(frozen=True)
class TableContributions:
    """Contributions of every decision of one architecture to one table.

    ``total == reference + depth.sum() + nansum(op)`` (up to float rounding).

    Attributes
    ----------
    depth : ndarray, shape (n_stages,)
        Depth decision of every stage.
    op : ndarray, shape (n_stages, max_blocks)
        Op decision of every block; 0 for inactive blocks, NaN where the block does not exist.
    """

    name: str
    unit: str | None
    total: float
    reference: float
    depth: np.ndarray
    op: np.ndarray

    def residual(self) -> float:
        """``total - (reference + contributions)``: zero up to rounding."""
        return float(self.total - (self.reference + self.depth.sum() + np.nansum(self.op)))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "unit": self.unit, "total": self.total,
                "reference": self.reference, "depth": self.depth.tolist(),
                "op": [[None if np.isnan(v) else float(v) for v in row] for row in self.op]}


@dataclass(frozen=True)
class Explanation:
    """Per-decision contributions of ``architecture`` to the objective and every resource."""

    architecture: Architecture
    reference: str
    objective: TableContributions
    resources: dict[str, TableContributions] = field(default_factory=dict)
    labels: tuple[tuple[str, ...], ...] = ()  # chosen op label per (stage, active block)
    reference_resource: str | None = None

    def summary(self, top: int = 8) -> str:
        """The largest objective contributions, one per line."""
        o = self.objective
        items = [(f"stage {s} depth {self.architecture.depths[s]}", o.depth[s])
                 for s in range(o.depth.size)]
        for s, labs in enumerate(self.labels):
            for b, lab in enumerate(labs):
                items.append((f"stage {s} block {b} {lab}", o.op[s, b]))
        items.sort(key=lambda t: -abs(t[1]))
        lines = [f"{o.name}: {o.total:.6g} = reference {o.reference:.6g} ({self.reference}) + "
                 "contributions"]
        lines += [f"  {name:<36} {v:+.4g}" for name, v in items[:top]]
        return "\n".join(lines)

    def marginal_value(self, front, step: float | None = None) -> float:
        """Objective gained per extra unit of the front's resource, at this architecture's
        resource value: ``(best(r + step) - best(r)) / step`` (``step``: 1% of the front's
        range by default)."""
        r = self.resources[front.resource].total if front.resource in self.resources else None
        if r is None:
            raise ValueError(f"the explanation has no resource {front.resource!r}")
        return float(marginal_value(front, [r], step)[1][0])

    def to_dict(self) -> dict[str, Any]:
        return {"architecture": self.architecture.to_dict(), "reference": self.reference,
                "objective": self.objective.to_dict(),
                "resources": {k: v.to_dict() for k, v in self.resources.items()},
                "labels": [list(x) for x in self.labels],
                "reference_resource": self.reference_resource}


def _reference_ops(space: SearchSpace, table: Table, reference: str, ref_cost: Table | None):
    """Per block reference value ``r_{s,b}`` (flat over blocks) and per stage depth weights."""
    enc = space.encoding
    n_blocks = enc.n_blocks
    if reference == "uniform":
        r = np.bincount(enc.block_of_alpha, weights=table.op_values,
                        minlength=n_blocks) / enc.block_num_ops
        weights = [np.full(len(st.depths), 1.0 / len(st.depths)) for st in space.stages]
        return r, weights
    # cheapest: the op (lowest index on ties) and depth minimising ref_cost
    r = np.empty(n_blocks)
    weights = []
    for s, st in enumerate(space.stages):
        vals, ops = ref_cost.stage_best(s, "min")
        for b in range(st.max_depth):
            o = int(np.argmin(ref_cost.op_table(s, b)))
            r[enc.stage_block_ptr[s] + b] = table.op_table(s, b)[o]
        w = np.zeros(len(st.depths))
        w[int(np.argmin(vals))] = 1.0
        weights.append(w)
    return r, weights


def table_contributions(table: Table, reference: str = "uniform", ref_cost: Table | None = None):
    """Contribution of *every* choice of ``table`` relative to the reference.

    Returns
    -------
    reference_value : float
    depth : list of ndarray
        ``depth[s][i]``: contribution of the ``i``-th allowed depth of stage ``s``
        (``G_s(d) - E_ref G_s``).
    op : list of ndarray
        ``op[s][b, o]``: contribution of op ``o`` in block ``b`` of stage ``s`` when active
        (``a_{s,b,o} - r_{s,b}``), NaN-padded to the widest block.
    """
    space = table.space
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
    if reference == "cheapest" and ref_cost is None:
        raise ValueError("reference='cheapest' needs a resource table to define 'cheapest'")
    r, weights = _reference_ops(space, table, reference, ref_cost)
    depth, op = [], []
    ref_total = table.const
    for s, st in enumerate(space.stages):
        first = int(space.encoding.stage_block_ptr[s])
        cum = np.concatenate([[0.0], np.cumsum(r[first: first + st.max_depth])])
        big = table.depth_table(s) + cum[list(st.depths)]
        e = float(weights[s] @ big)
        ref_total += e
        depth.append(big - e)
        width = max(st.num_ops)
        m = np.full((st.max_depth, width), np.nan)
        for b, n in enumerate(st.num_ops):
            m[b, :n] = table.op_table(s, b) - r[first + b]
        op.append(m)
    return float(ref_total), depth, op


def _contributions(table: Table, arch: Architecture, reference: str, ref_cost, name: str):
    space = table.space
    ref, depth, op = table_contributions(table, reference, ref_cost)
    n_s = space.n_stages
    max_b = max(st.max_depth for st in space.stages)
    dcon = np.zeros(n_s)
    ocon = np.full((n_s, max_b), np.nan)
    for s, st in enumerate(space.stages):
        d = arch.depths[s]
        dcon[s] = depth[s][st.depths.index(d)]
        ocon[s, : st.max_depth] = 0.0
        for b in range(d):
            ocon[s, b] = op[s][b, arch.ops[s][b]]
    return TableContributions(name, table.unit, float(table(arch)), ref, dcon, ocon)


def explain(problem: Problem, architecture, reference: str = "uniform",
            resource: str | None = None) -> Explanation:
    """Contribution of every decision of ``architecture`` to the objective and every resource.

    Parameters
    ----------
    problem : Problem
        Table objective (a QuadraticForm or black box has no per-decision decomposition).
    architecture : Architecture or Result
    reference : {"uniform", "cheapest"}
        ``uniform``: relative to the uniform expectation over ops and depths (the paper's
        measure); ``cheapest``: relative to the cheapest choice in ``resource``.
    resource : str, optional
        The resource defining "cheapest" (default: the first constraint).

    Returns
    -------
    Explanation
        For every table, ``reference + sum of contributions == value`` exactly (up to rounding).
    """
    from binas_opt.solving.result import Result

    if isinstance(architecture, Result):
        if architecture.architecture is None:
            raise ValueError("explain: the result has no architecture (status "
                             f"{architecture.status.value})")
        architecture = architecture.architecture
    if problem.objective_kind is not ObjectiveKind.TABLE:
        raise ValueError(f"explain needs a Table objective, got {problem.objective_kind.value}")
    if reference not in REFERENCES:
        raise ValueError(f"explain: reference must be one of {REFERENCES}, got {reference!r}")
    arch = problem.space.validate(architecture, "explain: architecture").canonical()
    ref_cost = None
    if reference == "cheapest":
        if resource is None:
            if not problem.constraints:
                raise ValueError("explain: reference='cheapest' needs a resource; the problem "
                                 "has no constraints")
            resource = problem.constraints[0].name
        ref_cost = problem.constraint(resource).table
    obj = problem.objective
    out = _contributions(obj, arch, reference, ref_cost, obj.name or "objective")
    res = {c.name: _contributions(c.table, arch, reference, ref_cost, c.name)
           for c in problem.constraints}
    labels = tuple(tuple(st.ops[b][arch.ops[s][b]] for b in range(arch.depths[s]))
                   for s, st in enumerate(problem.space.stages))
    return Explanation(arch, reference, out, res, labels, resource)


def marginal_value(front, budgets=None, step: float | None = None):
    """Objective gained per extra unit of budget, from a :class:`~binas_opt.ParetoFront`.

    Parameters
    ----------
    front : ParetoFront
    budgets : array, optional
        Where to evaluate (default: every front point).
    step : float, optional
        Finite difference ``(best(B + step) - best(B)) / step``; default 1% of the front's
        resource range.  (The front is a step function, so a zero step is meaningless.)

    Returns
    -------
    budgets, per_unit : ndarray
        E.g. accuracy points per extra ms.
    """
    res = front.resources
    if len(front) < 2:
        b = np.asarray(res if budgets is None else budgets, dtype=float)
        return b, np.zeros(b.shape)
    if step is None:
        step = 0.01 * float(res[-1] - res[0])
    if step <= 0:
        raise ValueError(f"marginal_value: step must be > 0, got {step}")
    b = np.asarray(res if budgets is None else budgets, dtype=float)
    lo, hi = front.value_at(b), front.value_at(b + step)
    return b, (hi - lo) / step
