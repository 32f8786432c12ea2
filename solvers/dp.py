"""Exact Pareto dynamic programming (DESIGN 2.4): a Table objective under one Table budget.

The accuracy-vs-resource front is built stage by stage (see :mod:`binas_opt.solvers._pareto_dp`)
with float costs and no discretisation, so the answer equals the MILP optimum; the best point
within the budget is decoded into an architecture.  Fronts can explode when the value is nearly
proportional to the cost; then the backend either falls back to the MILP (default), to an
epsilon-dominance front of bounded size with a stated guarantee, or stops with an error.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import numpy as np

from binas_opt.model.choices import Choice
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.model.table import Table
from binas_opt.solving.backend import (
    Capability,
    FrontPoints,
    SolveContext,
    Solver,
    WorkLimitExceeded,
    option,
)
from binas_opt.solving.result import SolverOutput, Termination

from ._pareto_dp import FrontTooLarge, OutOfTime, ParetoDP, build_front

__all__ = ["DPSolver", "DPOptions", "DPFallback", "FrontMode", "dp_front", "signed_tables"]

logger = logging.getLogger("binas_opt")


class DPFallback(Choice):
    """What the ``dp`` backend does when an exact front would exceed ``max_pairs``."""

    MILP = "milp"  #: solve the MILP instead (exact)
    EPSILON = "epsilon"  #: build a bounded front of ``fallback_points`` points
    ERROR = "error"  #: stop with status ``error``


class FrontMode(Choice):
    """How :func:`dp_front` built its front."""

    EXACT = "exact"
    EPSILON = "epsilon"  #: epsilon-dominance or ``max_points``, as asked
    FALLBACK = "fallback"  #: the epsilon fallback, because ``max_pairs`` was exceeded


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
    fallback : DPFallback or {"milp", "epsilon", "error"}
        What to do when ``max_pairs`` is exceeded: solve the MILP instead (exact), build a
        bounded front with ``max_points=fallback_points``, or stop with status ``error``.
    fallback_points : int
        Front size of the ``epsilon`` fallback.
    """

    epsilon: float = option(0.0, ge=0)
    max_points: int | None = option(None, ge=2)
    max_pairs: int | None = option(30_000_000, ge=1)
    fallback: DPFallback = DPFallback.MILP
    fallback_points: int = option(1000, ge=2)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fallback", DPFallback.parse(self.fallback, "fallback"))

    def validate(self) -> None:  # types and ranges: the field specs (make_options)
        if self.max_points is not None and self.epsilon > 0:
            raise ValueError("dp: give either epsilon or max_points, not both")


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
             budget: float | None = None, deadline: float = np.inf) -> tuple[ParetoDP, FrontMode]:
    """Build the front of ``problem`` honouring ``options``.

    Returns the front and how it was built (:class:`FrontMode`).  Raises :class:`FrontTooLarge`
    when the fallback is ``milp`` or ``error`` (the caller decides), :class:`OutOfTime` at the
    deadline.
    """
    cost, value, b = signed_tables(problem, resource)
    if budget is not None:
        b = budget
    approx = options.epsilon > 0 or options.max_points is not None
    try:
        front = build_front(problem.space, cost, value, budget=b, epsilon=options.epsilon,
                            max_points=options.max_points,
                            max_pairs=None if approx else options.max_pairs, deadline=deadline)
        return front, (FrontMode.EPSILON if approx else FrontMode.EXACT)
    except FrontTooLarge as exc:
        if options.fallback is not DPFallback.EPSILON:
            raise
        logger.warning("dp: %s; building an epsilon-dominance front of about %d points instead",
                       exc, options.fallback_points)
        front = build_front(problem.space, cost, value, budget=b,
                            max_points=options.fallback_points, deadline=deadline)
        return front, FrontMode.FALLBACK


class DPSolver(Solver):
    """Exact stage-by-stage Pareto DP; one Table budget, Table objective (see module doc).

    Declares :data:`~binas_opt.Capability.PARETO_FRONT`: :meth:`front` returns the whole
    front, which :func:`~binas_opt.pareto_front` and :func:`~binas_opt.solve_budgets` use.
    """

    name = "dp"
    exact = True
    accepts = frozenset({ObjectiveKind.TABLE})
    max_constraints = 1
    Options = DPOptions
    capabilities = frozenset({Capability.PARETO_FRONT})

    def run(self, problem: Problem, options: DPOptions, ctx: SolveContext) -> SolverOutput:
        t0 = time.perf_counter()
        try:
            front, how = dp_front(problem, options, deadline=ctx.deadline)
        except OutOfTime as exc:
            return SolverOutput(Termination.TIME_LIMIT, message=f"{exc}: no architecture yet",
                                solve_time=time.perf_counter() - t0)
        except FrontTooLarge as exc:
            if options.fallback is DPFallback.ERROR:
                return SolverOutput(Termination.ERROR, message=f"{exc}; raise max_pairs, use "
                                    "epsilon/max_points, or the 'milp' backend",
                                    solve_time=time.perf_counter() - t0)
            logger.info("dp: %s; falling back to the MILP", exc)
            from .milp import MilpOptions, MilpSolver

            dp_time = time.perf_counter() - t0
            out = MilpSolver().run(problem, MilpOptions(), ctx)
            stats = {**out.stats, "fallback": "milp", "dp_time": dp_time,
                     "fallback_reason": str(exc)}
            msg = f"dp fell back to milp: {exc}" + (f"; {out.message}" if out.message else "")
            return dataclasses.replace(out, message=msg, stats=stats,
                                       solve_time=dp_time + out.solve_time)
        cost, _, budget = signed_tables(problem)
        # float costs within a rigorous error bound of the budget are decided exactly
        slack = cost.sum_error_bound() if problem.constraints else 0.0
        i = first = front.query(budget, slack)
        while i >= 0 and not problem.is_feasible(front.architectures([i])[0]):
            i -= 1
        stats = {**front.stats, "front_size": len(front), "epsilon": front.epsilon, "mode": how.value,
                 "float_error_bound": slack}
        elapsed = time.perf_counter() - t0
        if first < 0 and problem.impossible_budgets():
            return SolverOutput(Termination.INFEASIBLE, proven_infeasible=True, stats=stats,
                                message="no architecture meets the budget (its exact minimum "
                                        "exceeds it)", solve_time=elapsed)
        exact = front.epsilon == 0.0
        if i < 0 or (i != first and exact):
            # the best float candidates break the budget exactly (by float noise): a point the
            # float dominance dropped may be the optimum, so let the exact MILP decide
            logger.info("dp: the front's best points within float noise of the budget break it "
                        "exactly; solving the MILP instead")
            from .milp import MilpOptions, MilpSolver

            warm = front.architectures([i])[0] if i >= 0 else ctx.warm_start
            sub = dataclasses.replace(ctx, warm_start=warm)
            out = MilpSolver().run(problem, MilpOptions(), sub)
            msg = "dp handed a budget within float noise of its front to milp" + (
                f"; {out.message}" if out.message else "")
            return dataclasses.replace(out, message=msg if not out.proven_optimal else out.message,
                                       stats={**out.stats, "fallback": "milp", "dp_time": elapsed,
                                              "fallback_reason": "exact check at the budget"},
                                       solve_time=elapsed + out.solve_time)
        arch = front.architectures([i])[0]
        if exact:
            return SolverOutput(Termination.OPTIMAL, architecture=arch, proven_optimal=True,
                                stats=stats, solve_time=elapsed)
        # every exactly feasible point is within ``slack`` of the budget in floats, so it is
        # epsilon-dominated by a point at index <= first
        bound = problem.sign * (float(front.value[first]) + front.epsilon)
        return SolverOutput(Termination.CONVERGED, architecture=arch, bound=bound, stats=stats,
                            message=f"epsilon-dominance front: within {front.epsilon:.3g} of "
                                    "the optimum", solve_time=elapsed)

    def front(self, problem: Problem, resource: str, options: DPOptions, ctx: SolveContext, *,
              budget: float = np.inf, max_solves: int | None = None) -> FrontPoints:
        """The exact (or epsilon-dominance, as ``options`` ask) front of ``problem`` along
        ``resource``, up to ``budget``, in one pass.

        Raises
        ------
        WorkLimitExceeded
            The exact front would exceed ``options.max_pairs`` and ``options.fallback`` is not
            ``epsilon`` (the caller chooses what to do instead).
        TimeoutError
            At ``ctx.deadline``.
        """
        try:
            dp, how = dp_front(problem, options, resource=resource, budget=budget,
                               deadline=ctx.deadline)
        except FrontTooLarge as exc:
            raise WorkLimitExceeded(str(exc)) from exc
        except OutOfTime as exc:
            raise TimeoutError(str(exc)) from exc
        d, o = dp.decode(np.arange(len(dp)))
        return FrontPoints(np.asarray(dp.cost, dtype=float), problem.sign * np.asarray(dp.value),
                           d, o, float(dp.epsilon), True,
                           "dp" if how is FrontMode.EXACT else "dp-epsilon",
                           {**dp.stats, "mode": how.value})
