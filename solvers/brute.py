"""Enumeration of every architecture: the test oracle for small spaces."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.solving.backend import SolveContext, Solver
from binas_opt.solving.result import SolverOutput, Termination

__all__ = ["BruteForceSolver"]


@dataclass(frozen=True)
class BruteOptions:
    """Options of the ``brute`` backend.

    limit : int
        Refuse spaces with more architectures than this (default 10**6).
    """

    limit: int = 1_000_000

    def validate(self) -> None:
        if self.limit < 1:
            raise ValueError(f"brute: limit must be >= 1, got {self.limit}")


def _all_assignments(problem: Problem, limit: int):
    """Canonical architectures for Tables; every op index (inactive too) for other objectives."""
    space = problem.space
    if problem.objective_kind is ObjectiveKind.TABLE:
        return space.enumerate(limit)
    # inactive op indices matter for quadratic / black-box objectives
    total = int(np.prod([len(st.depths) * np.prod(st.num_ops, dtype=float) for st in space.stages]))
    if total > limit:
        raise ValueError(
            f"brute: {total:.3g} assignments (inactive op indices count for a "
            f"{problem.objective_kind.value} objective) exceed the limit {limit:.3g}"
        )
    sizes = [len(st.depths) for st in space.stages] + [n for st in space.stages for n in st.num_ops]
    grid = np.indices(sizes).reshape(len(sizes), -1).T
    k = space.n_stages
    depths = np.stack([np.asarray(st.depths)[grid[:, s]] for s, st in enumerate(space.stages)], axis=1)
    return depths, grid[:, k:]


class BruteForceSolver(Solver):
    """Evaluate every architecture and keep the best feasible one (lowest index on ties)."""

    name = "brute"
    exact = True
    Options = BruteOptions

    def run(self, problem: Problem, options: BruteOptions, ctx: SolveContext) -> SolverOutput:
        t0 = time.perf_counter()
        depths, ops = _all_assignments(problem, options.limit)
        ok = problem.feasible_mask(depths, ops)
        if not ok.any():
            return SolverOutput(Termination.INFEASIBLE, proven_infeasible=True,
                                stats={"solve_time": time.perf_counter() - t0, "evaluated": len(ok)})
        depths, ops = depths[ok], ops[ok]
        values = problem.sign * problem.objective.evaluate_arrays(depths, ops)
        best = int(np.argmax(values))
        arch = problem.space.architectures_from_arrays(depths[best: best + 1], ops[best: best + 1])[0]
        return SolverOutput(Termination.OPTIMAL, architecture=arch, proven_optimal=True,
                            stats={"solve_time": time.perf_counter() - t0, "evaluated": int(ok.size)})
