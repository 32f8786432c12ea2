"""Exact Pareto dynamic programming (DESIGN 2.4): a Table objective under one Table budget.

The accuracy-vs-resource front is built stage by stage (see :mod:`binas_opt.solvers._pareto_dp`)
with float costs and no discretisation, so the answer equals the MILP optimum; the best point
within the budget is decoded into an architecture.  Fronts can explode when the value is nearly
proportional to the cost; then the backend either falls back to the MILP (default), to an
epsilon-dominance front of bounded size with a stated guarantee, or stops with an error.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from binas_opt.model.problem import FEASIBILITY_RTOL, ObjectiveKind, Problem
from binas_opt.model.table import Table
from binas_opt.solving.backend import SolveContext, Solver
from binas_opt.solving.result import SolverOutput, Termination

from ._pareto_dp import FrontTooLarge, OutOfTime, ParetoDP, build_front

__all__ = ["DPSolver", "DPOptions", "FALLBACKS", "dp_front", "signed_tables"]

logger = logging.getLogger("binas_opt")

FALLBACKS = ("milp", "epsilon", "error")


@dataclass(frozen=True)
class DPOptions:
    """Options of the ``dp`` backend.

    epsilon : float
        0 (default): the exact front.  ``> 0``: epsilon-dominance; the returned objective is
        within ``epsilon`` (objective units) of the optimum, reported as ``bound``.
    max_points : int or None
        Instead of ``epsilon``: thin every intermediate front to about this many points; the
        resulting guarantee is reported in ``stats["epsilon"]`` and as ``bound``.
    max_pairs : int or None
        Candidate pairs an exact build may examine (default 3e7, about a second) before the
        ``fallback`` takes over; None: no limit.
    fallback : {"milp", "epsilon", "error"}
        What to do when ``max_pairs`` is exceeded: solve the MILP instead (exact), build a
        bounded front with ``max_points=fallback_points``, or stop with status ``error``.
    fallback_points : int
        Front size of the ``epsilon`` fallback.
    """

    epsilon: float = 0.0
    max_points: int | None = None
    max_pairs: int | None = 30_000_000
    fallback: str = "milp"
    fallback_points: int = 1000

    def validate(self) -> None:
        if not (self.epsilon >= 0 and np.isfinite(self.epsilon)):
            raise ValueError(f"dp: epsilon must be a finite number >= 0, got {self.epsilon!r}")
        if self.max_points is not None and self.max_points < 2:
            raise ValueError(f"dp: max_points must be >= 2 or None, got {self.max_points!r}")
        if self.max_points is not None and self.epsilon > 0:
            raise ValueError("dp: give either epsilon or max_points, not both")
        if self.max_pairs is not None and self.max_pairs < 1:
            raise ValueError(f"dp: max_pairs must be >= 1 or None, got {self.max_pairs!r}")
        if self.fallback not in FALLBACKS:
            raise ValueError(f"dp: fallback must be one of {FALLBACKS}, got {self.fallback!r}")
        if self.fallback_points < 2:
            raise ValueError(f"dp: fallback_points must be >= 2, got {self.fallback_points!r}")


def signed_tables(problem: Problem, resource: str | None = None) -> tuple[Table, Table, float]:
    """``(cost, value, budget)``: the swept constraint as ``cost <= budget`` and the objective
    as a maximised Table (``sign`` applied).  Without constraints the cost is zero."""
    if problem.objective_kind is not ObjectiveKind.TABLE:
        raise ValueError(
            f"the dp backend needs a Table objective, got {problem.objective_kind.value}; "
            "use 'milp' or 'pulp' for QuadraticForms and 'fw', 'evo' or 'brute' for black boxes"
        )
    value = problem.objective * problem.sign
    if not problem.constraints:
        return Table(problem.space, name="none"), value, np.inf
    con = problem.constraint(resource) if resource else problem.constraints[0]
    cost, budget = con.as_le()
    return cost, value, float(budget)


def dp_front(problem: Problem, options: DPOptions, *, resource: str | None = None,
             budget: float | None = None, deadline: float = np.inf) -> tuple[ParetoDP, str]:
    """Build the front of ``problem`` honouring ``options``.

    Returns the front and how it was built (``"exact"``, ``"epsilon"``, or ``"fallback"`` when
    ``max_pairs`` forced the epsilon fallback).  Raises :class:`FrontTooLarge` when the fallback
    is ``"milp"`` or ``"error"`` (the caller decides), :class:`OutOfTime` at the deadline.
    """
    cost, value, b = signed_tables(problem, resource)
    if budget is not None:
        b = budget
    approx = options.epsilon > 0 or options.max_points is not None
    try:
        front = build_front(problem.space, cost, value, budget=b, epsilon=options.epsilon,
                            max_points=options.max_points,
                            max_pairs=None if approx else options.max_pairs, deadline=deadline)
        return front, ("epsilon" if approx else "exact")
    except FrontTooLarge as exc:
        if options.fallback != "epsilon":
            raise
        logger.warning("dp: %s; building an epsilon-dominance front of about %d points instead",
                       exc, options.fallback_points)
        front = build_front(problem.space, cost, value, budget=b,
                            max_points=options.fallback_points, deadline=deadline)
        return front, "fallback"


class DPSolver(Solver):
    """Exact stage-by-stage Pareto DP; one Table budget, Table objective (see module doc)."""

    name = "dp"
    exact = True
    accepts = frozenset({ObjectiveKind.TABLE})
    max_constraints = 1
    Options = DPOptions

    def run(self, problem: Problem, options: DPOptions, ctx: SolveContext) -> SolverOutput:
        t0 = time.perf_counter()
        try:
            front, how = dp_front(problem, options, deadline=ctx.deadline)
        except OutOfTime as exc:
            return SolverOutput(Termination.TIME_LIMIT, message=str(exc),
                                stats={"solve_time": time.perf_counter() - t0})
        except FrontTooLarge as exc:
            if options.fallback == "error":
                return SolverOutput(Termination.ERROR, message=f"{exc}; raise max_pairs, use "
                                    "epsilon/max_points, or the 'milp' backend",
                                    stats={"solve_time": time.perf_counter() - t0})
            logger.info("dp: %s; falling back to the MILP", exc)
            from .milp import MilpOptions, MilpSolver

            out = MilpSolver().run(problem, MilpOptions(), ctx)
            stats = {**out.stats, "fallback": "milp", "dp_time": time.perf_counter() - t0,
                     "fallback_reason": str(exc)}
            stats["solve_time"] = time.perf_counter() - t0
            return SolverOutput(out.termination, out.architecture, out.bound, out.proven_optimal,
                                out.proven_infeasible, f"dp fell back to milp: {exc}", stats)
        _, _, budget = signed_tables(problem)
        i = front.query(budget, rtol=FEASIBILITY_RTOL)
        stats = {**front.stats, "front_size": len(front), "epsilon": front.epsilon, "mode": how,
                 "solve_time": time.perf_counter() - t0}
        if i < 0:
            return SolverOutput(Termination.INFEASIBLE, proven_infeasible=True, stats=stats,
                                message="no architecture meets the budget")
        arch = front.architectures([i])[0]
        if front.epsilon == 0.0:
            return SolverOutput(Termination.OPTIMAL, architecture=arch, proven_optimal=True,
                                stats=stats)
        bound = problem.sign * (float(front.value[i]) + front.epsilon)
        return SolverOutput(Termination.CONVERGED, architecture=arch, bound=bound, stats=stats,
                            message=f"epsilon-dominance front: within {front.epsilon:.3g} of "
                                    "the optimum")
