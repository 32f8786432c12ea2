"""Reduce a search space to the ops a contribution Table ranks best, and measure the cost.

* :func:`restrict` builds a reduced search space that keeps only the best ``top_k`` ops of
  every block, with maps between the reduced and the full space (:class:`RestrictedSpace`,
  :func:`restrict_table`);
* :func:`restriction_loss` measures what the reduction costs: the optimum in the reduced space
  against the optimum in the full space at several budgets, both solved exactly.

To read which op features and stages a Table favours, see :mod:`binas_opt.analysis.aggregation`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from binas_opt.model.architecture import Architecture
from binas_opt.model.choices import ObjectiveSense
from binas_opt.model.space import SearchSpace, Stage, format_count
from binas_opt.model.table import Table
from binas_opt.solving.result import Status

__all__ = ["RestrictedSpace", "restrict", "restrict_table", "RestrictionRow", "RestrictionReport",
           "restriction_loss"]

#: Statuses whose result holds a solution worth comparing.
_SOLVED = (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True, eq=False)
class RestrictedSpace:
    """A reduced space keeping some ops of every block, with maps to and from the full space.

    Attributes
    ----------
    space : SearchSpace
        The reduced space (same stages, depths and metadata; fewer ops per block, in their
        original order).
    full : SearchSpace
    kept : tuple of tuple of tuple of int
        ``kept[s][b]``: original op indices kept in block ``b`` of stage ``s``.
    alpha_index : ndarray
        Position in the full ``alpha`` of every reduced ``alpha`` entry.
    """

    space: SearchSpace
    full: SearchSpace
    kept: tuple[tuple[tuple[int, ...], ...], ...]
    alpha_index: np.ndarray

    @property
    def size_ratio(self) -> float:
        """Reduced over full number of architectures."""
        return self.space.num_architectures / self.full.num_architectures

    def to_full(self, arch: Architecture) -> Architecture:
        """The same network as an architecture of the full space."""
        self.space.validate(arch)
        ops = tuple(tuple(self.kept[s][b][o] for b, o in enumerate(row))
                    for s, row in enumerate(arch.ops))
        return Architecture(arch.depths, ops)

    def from_full(self, arch: Architecture) -> Architecture:
        """A full-space architecture in the reduced space; ``ValueError`` if it uses a dropped
        op in an active block (inactive blocks map to op 0)."""
        self.full.validate(arch)
        ops = []
        for s, row in enumerate(arch.ops):
            out = []
            for b, o in enumerate(row):
                if o in self.kept[s][b]:
                    out.append(self.kept[s][b].index(o))
                elif b >= arch.depths[s]:
                    out.append(0)
                else:
                    lab = self.full.stages[s].ops[b][o]
                    raise ValueError(f"{self.full.stage_name(s)} block {b} uses op {lab!r}, "
                                     "which the reduced space dropped")
            ops.append(tuple(out))
        return Architecture(arch.depths, tuple(ops))

    def ops_to_full(self, ops: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`to_full` on a flat op-index matrix ``(n, total_blocks)``."""
        pos = self.alpha_index[self.space.encoding.alpha_ptr[None, :-1] + np.asarray(ops)]
        return self.full.encoding.alpha_op[pos]

    def restrict_table(self, table: Table) -> Table:
        """A full-space Table on the reduced space (the kept entries)."""
        return restrict_table(table, self)

    def expand_table(self, table: Table, fill: float = 0.0) -> Table:
        """A reduced-space Table on the full space; dropped ops get ``fill``."""
        if table.space != self.space:
            raise ValueError("expand_table: the table is not over the reduced space")
        op = np.full(self.full.n_alpha, float(fill))
        op[self.alpha_index] = table.op_values
        return Table(self.full, table.const, table.depth_values, op, name=table.name,
                     unit=table.unit)


def restrict(space: SearchSpace, table: Table, top_k: int, *,
             sense: ObjectiveSense | str = ObjectiveSense.MAX,
             keep_cheapest: Table | None = None) -> RestrictedSpace:
    """A reduced space with the best ``top_k`` ops of every block under ``table``.

    Parameters
    ----------
    space : SearchSpace
    table : Table
        The contributions that rank the ops (its space must be ``space``).
    top_k : int
        Ops kept per block (all of them where a block has fewer); ties keep the lower index.
    sense : ObjectiveSense or {"max", "min"}
        ``"max"`` keeps the highest values (accuracy), ``"min"`` the lowest.
    keep_cheapest : Table, optional
        A resource table: also keep the cheapest op of every block under it, so the reduced
        space reaches the full space's minimum of that resource (tight budgets stay feasible).

    Returns
    -------
    RestrictedSpace
    """
    if not isinstance(table, Table) or table.space != space:
        raise ValueError("restrict: table must be a Table over the given space")
    sense = ObjectiveSense.parse(sense, "restrict: sense")
    if isinstance(top_k, bool) or int(top_k) != top_k or top_k < 1:
        raise ValueError(f"restrict: top_k must be an integer >= 1, got {top_k!r}")
    if keep_cheapest is not None and keep_cheapest.space != space:
        raise ValueError("restrict: keep_cheapest must be a Table over the given space")
    top_k = int(top_k)
    kept, stages = [], []
    for s, st in enumerate(space.stages):
        ks, ops = [], []
        for b in range(st.max_depth):
            vals = table.op_table(s, b)
            order = np.argsort(-sense.sign * vals, kind="stable")
            keep = set(order[:top_k].tolist())
            if keep_cheapest is not None:
                keep.add(int(np.argmin(keep_cheapest.op_table(s, b))))
            keep = tuple(sorted(keep))
            ks.append(keep)
            ops.append([st.ops[b][o] for o in keep])
        kept.append(tuple(ks))
        stages.append(Stage(st.depths, ops, name=st.name, channels=st.channels, stride=st.stride,
                            activation=st.activation))
    name = f"{space.name or 'space'}_top{top_k}"
    reduced = SearchSpace(stages, fixed=space.fixed, name=name)
    offs = space.index.alpha_offset
    alpha_index = np.array([offs[s, b] + o for s, ks in enumerate(kept)
                            for b, keep in enumerate(ks) for o in keep], dtype=np.int64)
    return RestrictedSpace(reduced, space, tuple(kept), alpha_index)


def restrict_table(table: Table, reduced: RestrictedSpace) -> Table:
    """The entries of a full-space ``table`` that the reduced space keeps, as its Table."""
    if table.space != reduced.full:
        raise ValueError("restrict_table: the table is not over the reduced space's full space")
    return Table(reduced.space, table.const, table.depth_values,
                 table.op_values[reduced.alpha_index], name=table.name, unit=table.unit)


# ---------------------------------------------------------------------------------- loss
@dataclass(frozen=True)
class RestrictionRow:
    """Optimum of the full and the reduced space at one budget.

    ``objective`` values are the table's; ``true_*`` the ground truth's (``truth``), NaN when
    no truth was given or a side is infeasible.  ``loss = full - reduced`` (for ``max``).
    """

    budgets: tuple[float, ...]
    full_status: Status
    reduced_status: Status
    full_objective: float
    reduced_objective: float
    loss: float
    true_full: float
    true_reduced: float
    true_loss: float
    full_architecture: Architecture | None
    reduced_architecture: Architecture | None


@dataclass(frozen=True)
class RestrictionReport:
    """:func:`restriction_loss` over several budgets."""

    reduced: RestrictedSpace
    rows: tuple[RestrictionRow, ...]

    @property
    def max_loss(self) -> float:
        vals = [r.loss for r in self.rows if np.isfinite(r.loss)]
        return float(max(vals)) if vals else float("nan")

    def __str__(self) -> str:
        lines = [f"reduced space: {format_count(self.reduced.space.num_architectures)} of "
                 f"{format_count(self.reduced.full.num_architectures)} architectures "
                 f"({self.reduced.size_ratio:.3g})",
                 f"{'budget':>14} {'full':>10} {'reduced':>10} {'loss':>8} {'true loss':>10}"]
        for r in self.rows:
            b = ",".join(f"{x:.4g}" for x in r.budgets)
            lines.append(f"{b:>14} {r.full_objective:10.4f} {r.reduced_objective:10.4f} "
                         f"{r.loss:8.4f} {r.true_loss:10.4f}")
        return "\n".join(lines)


def restriction_loss(
    table: Table,
    resources: Table | Sequence[Table],
    budgets: Sequence,
    top_k: int,
    *,
    sense: ObjectiveSense | str = ObjectiveSense.MAX,
    keep_cheapest: bool = True,
    truth: Callable[[Architecture], float] | None = None,
    backend: str = "milp",
    time_limit: float | None = None,
) -> RestrictionReport:
    """How much objective the top-``k`` reduced space loses against the full space.

    For every budget both problems (``table`` subject to ``resources <= budget``) are solved
    with ``backend`` (exact by default) and their optima compared.

    Parameters
    ----------
    table : Table
        The objective and the ranking of ops (e.g. an accuracy estimator).
    resources : Table or sequence of Table
        Constrained resources (distinct names).
    budgets : sequence
        One number per budget level for a single resource, or one sequence of numbers (one per
        resource) per level.
    top_k : int
        Ops kept per block (:func:`restrict`).
    sense : ObjectiveSense or {"max", "min"}
    keep_cheapest : bool
        Also keep every block's cheapest op under the first resource (see :func:`restrict`).
    truth : callable, optional
        Ground truth of an architecture of the full space (e.g. a benchmark's accuracy), to
        report the true loss too.
    backend, time_limit
        Passed to :func:`binas_opt.solve`.

    Returns
    -------
    RestrictionReport
    """
    from binas_opt.model.problem import Problem
    from binas_opt.solving.dispatch import solve

    sense = ObjectiveSense.parse(sense, "restriction_loss: sense")
    res = [resources] if isinstance(resources, Table) else list(resources)
    if not res:
        raise ValueError("restriction_loss: give at least one resource table")
    levels = []
    for i, b in enumerate(budgets):
        vec = (b,) if np.ndim(b) == 0 else tuple(b)
        if len(vec) != len(res):
            raise ValueError(f"restriction_loss: budgets[{i}] has {len(vec)} values for "
                             f"{len(res)} resources")
        levels.append(tuple(float(x) for x in vec))
    reduced = restrict(table.space, table, top_k, sense=sense,
                       keep_cheapest=res[0] if keep_cheapest else None)
    red_table = restrict_table(table, reduced)
    red_res = [restrict_table(r, reduced) for r in res]
    sign = sense.sign
    nan = float("nan")
    rows = []
    for vec in levels:
        full_p = Problem(table.space, table, [r <= b for r, b in zip(res, vec, strict=True)],
                         sense=sense)
        red_p = Problem(reduced.space, red_table,
                        [r <= b for r, b in zip(red_res, vec, strict=True)], sense=sense)
        rf = solve(full_p, backend=backend, time_limit=time_limit)
        rr = solve(red_p, backend=backend, time_limit=time_limit)
        af = rf.architecture if rf.status in _SOLVED else None
        ar = reduced.to_full(rr.architecture) if rr.status in _SOLVED else None
        of = rf.objective if af is not None else nan
        orr = rr.objective if ar is not None else nan
        tf = float(truth(af)) if truth is not None and af is not None else nan
        tr = float(truth(ar)) if truth is not None and ar is not None else nan
        rows.append(RestrictionRow(
            budgets=vec, full_status=rf.status, reduced_status=rr.status,
            full_objective=of, reduced_objective=orr, loss=sign * (of - orr),
            true_full=tf, true_reduced=tr, true_loss=sign * (tf - tr),
            full_architecture=af, reduced_architecture=ar,
        ))
    return RestrictionReport(reduced, tuple(rows))
