"""Enumeration of every architecture: the test oracle for small spaces."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.model.space import format_count
from binas_opt.solving.backend import SolveContext, Solver, option
from binas_opt.solving.result import SolverOutput, Termination

__all__ = ["BruteForceSolver"]


@dataclass(frozen=True)
class BruteOptions:
    """Options of the ``brute`` backend.

    limit : int
        Refuse spaces with more architectures than this (default 10**6).
    """

    limit: int = option(1_000_000, ge=1)


def _all_assignments(problem: Problem, limit: int):
    """Canonical architectures for Tables; every op index (inactive too) for other objectives."""
    space = problem.space
    if problem.objective_kind is ObjectiveKind.TABLE:
        return space.enumerate(limit)
    # inactive op indices matter for quadratic / black-box objectives
    total = space.encoding.count(inactive="all")
    if total > limit:
        raise ValueError(
            f"brute: {total:.3g} assignments (inactive op indices count for a "
            f"{problem.objective_kind.value} objective) exceed the limit {limit:.3g}"
        )
    return space.encoding.enumerate(limit, inactive="all")


class BruteForceSolver(Solver):
    """Evaluate every architecture and keep the best feasible one (lowest index on ties)."""

    name = "brute"
    exact = True
    Options = BruteOptions

    @classmethod
    def refusal(cls, problem: Problem, options: BruteOptions) -> str | None:
        """Also refuses problems with more than ``options.limit`` assignments to enumerate."""
        reason = super().refusal(problem, options)
        if reason is not None:
            return reason
        space = problem.space
        if problem.objective_kind is ObjectiveKind.TABLE:
            total, what = space.num_architectures, "architectures"
        else:  # inactive op indices matter for quadratic / black-box objectives
            total = space.encoding.count(inactive="all")
            what = (f"assignments (inactive op indices count for a "
                    f"{problem.objective_kind.value} objective)")
        if total > options.limit:
            return (f"backend 'brute' enumerates at most limit={options.limit:.3g} "
                    f"architectures; this problem has {format_count(total)} {what}")
        return None

    def run(self, problem: Problem, options: BruteOptions, ctx: SolveContext) -> SolverOutput:
        t0 = time.perf_counter()
        depths, ops = _all_assignments(problem, options.limit)
        ok = problem.feasible_mask(depths, ops)
        if not ok.any():
            return SolverOutput(Termination.INFEASIBLE, proven_infeasible=True,
                                message="no architecture of the space meets every budget",
                                stats={"evaluated": len(ok)}, solve_time=time.perf_counter() - t0)
        depths, ops = depths[ok], ops[ok]
        values = problem.sign * problem.objective.evaluate_arrays(depths, ops)
        best = int(np.argmax(values))
        arch = problem.space.architectures_from_arrays(depths[best: best + 1], ops[best: best + 1])[0]
        return SolverOutput(Termination.OPTIMAL, architecture=arch, proven_optimal=True,
                            stats={"evaluated": int(ok.size)}, solve_time=time.perf_counter() - t0)
