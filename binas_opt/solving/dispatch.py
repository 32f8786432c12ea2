"""``solve()``: validate, dispatch to a backend, check its answer, build the Result."""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import numbers
import sys
import time
from importlib import metadata
from typing import Any

from binas_opt.model.architecture import Architecture
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.solving.backend import SolveContext, make_options
from binas_opt.solving.registry import get_backend, list_backends
from binas_opt.solving.result import Result, SolverOutput, Status, Termination

__all__ = ["solve", "backends_accepting", "result_context", "finish_result"]

logger = logging.getLogger("binas_opt")


def backends_accepting(kind: ObjectiveKind, n_constraints: int = 1) -> list[str]:
    """Available backends that accept an objective of ``kind`` with ``n_constraints`` budgets."""
    out = []
    for name in list_backends(True):
        cls = get_backend(name)
        if kind in cls.accepts and (cls.max_constraints is None or n_constraints <= cls.max_constraints):
            out.append(name)
    return out


@functools.cache
def _versions(packages: tuple[str, ...]) -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for p in ("binas-opt", "numpy", "scipy", *packages):
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def _validate_common(time_limit, seed, warm_start, problem: Problem):
    if time_limit is not None:
        if not isinstance(time_limit, numbers.Real) or not math.isfinite(time_limit) or time_limit <= 0:
            raise ValueError(f"time_limit must be a positive number of seconds or None, got {time_limit!r}")
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise ValueError(f"seed must be an int, got {seed!r}")
    if warm_start is None:
        return None
    if isinstance(warm_start, Result):
        warm_start = warm_start.architecture
        if warm_start is None:
            return None
    if not isinstance(warm_start, Architecture):
        raise ValueError(
            f"warm_start must be an Architecture or a Result, got {type(warm_start).__name__}"
        )
    return problem.space.validate(warm_start, "warm_start")


def solve(problem: Problem, backend: str = "milp", time_limit: float | None = None, seed: int = 0,
          verbose: bool = False, warm_start=None, **options: Any) -> Result:
    """Find the best architecture of ``problem`` with the chosen backend.

    Parameters
    ----------
    problem : Problem
    backend : str
        One of :func:`~binas_opt.list_backends`, e.g. ``"milp"``, ``"dp"``, ``"fw"``.
    time_limit : float, optional
        Seconds; a run stopped by it reports ``Status.TIME_LIMIT``, never ``OPTIMAL``.
    seed : int
        Same inputs and seed give the same result.
    verbose : bool
        Let the underlying solver log its progress.
    warm_start : Architecture or Result, optional
        A starting point for backends that use one (``milp``, ``pulp``, ``fw``, ``evo``).
    **options
        Backend options; unknown names raise ``ValueError`` listing the valid ones.

    Returns
    -------
    Result
        Whenever ``result.architecture`` is set it satisfies every budget.

    Examples
    --------
    >>> import binas_opt as bo
    >>> space = bo.SearchSpace([bo.Stage((1, 2), ["a", "b"])])
    >>> acc = bo.Table(space, op=[[[1.0, 2.0], [0.5, 0.7]]], name="acc")
    >>> lat = bo.Table(space, op=[[[1.0, 3.0], [1.0, 1.0]]], name="latency", unit="ms")
    >>> r = bo.solve(bo.Problem(space, acc, [lat <= 2.5]), backend="brute")
    >>> r.status.value, r.objective
    ('optimal', 1.7)
    """
    wall0 = time.perf_counter()
    if not isinstance(problem, Problem):
        raise TypeError(f"solve: problem must be a Problem, got {type(problem).__name__}")
    solver_cls = get_backend(backend)
    kind = problem.objective_kind
    if kind not in solver_cls.accepts:
        raise ValueError(
            f"backend {backend!r} does not accept a {kind.value} objective; backends that do: "
            f"{backends_accepting(kind, len(problem.constraints))}"
        )
    n_cons = len(problem.constraints)
    if solver_cls.max_constraints is not None and n_cons > solver_cls.max_constraints:
        raise ValueError(
            f"backend {backend!r} handles at most {solver_cls.max_constraints} budget(s), the "
            f"problem has {n_cons}; use one of {backends_accepting(kind, n_cons)}"
        )
    opts = make_options(solver_cls.Options, options, backend)
    warm = _validate_common(time_limit, seed, warm_start, problem)
    ctx = SolveContext(time_limit=time_limit, seed=int(seed), verbose=bool(verbose), warm_start=warm)
    common = result_context(problem, backend, dataclasses.asdict(opts), seed, time_limit)

    mins = problem.min_resources()
    impossible = {c.name: mins[c.name] for c in problem.constraints
                  if c.slack(mins[c.name]) < -1e-9 * max(1.0, abs(c.budget))}
    if impossible:
        msg = "; ".join(f"{k}: budget {problem.budgets[k]:g} < smallest achievable {v:.6g}"
                        for k, v in impossible.items())
        logger.info("infeasible budgets (%s)", msg)
        return Result(Status.INFEASIBLE, Termination.INFEASIBLE, min_resources=mins,
                      wall_time=time.perf_counter() - wall0, message=msg, **common)

    out = solver_cls().run(problem, opts, ctx)
    if not isinstance(out, SolverOutput):
        raise TypeError(f"backend {backend!r} returned {type(out).__name__}, not SolverOutput")
    return _finish(problem, out, common, wall0, mins)


def _finish(problem: Problem, out: SolverOutput, common: dict, wall0: float, mins) -> Result:
    stats = dict(out.stats)
    times = dict(solve_time=float(stats.pop("solve_time", 0.0)),
                 build_time=float(stats.pop("build_time", 0.0)))
    arch = out.architecture
    if arch is not None:
        problem.space.validate(arch, f"architecture returned by {common['backend']!r}")
        if problem.objective_kind is ObjectiveKind.TABLE:
            arch = arch.canonical()
        broken = problem.violations(arch)
        if broken:
            msg = f"backend {common['backend']!r} returned an architecture that exceeds {broken}"
            logger.error(msg)
            return Result(Status.ERROR, Termination.ERROR, message=msg, stats=stats,
                          wall_time=time.perf_counter() - wall0, **times, **common)
    if arch is None:
        if out.proven_infeasible or out.termination is Termination.INFEASIBLE:
            status = Status.INFEASIBLE
        elif out.termination is Termination.TIME_LIMIT:
            status = Status.TIME_LIMIT
        else:
            status = Status.ERROR
        return Result(status, out.termination, bound=out.bound,
                      min_resources=mins if status is Status.INFEASIBLE else None,
                      message=out.message, stats=stats,
                      wall_time=time.perf_counter() - wall0, **times, **common)

    objective = problem.evaluate(arch)
    bound = out.bound
    if out.proven_optimal and bound is None:
        bound = objective
    abs_gap = gap = None
    if bound is not None and math.isfinite(bound):
        abs_gap = max(0.0, problem.sign * (bound - objective))
        gap = abs_gap / max(abs(objective), 1e-10)
    if out.proven_optimal:
        status = Status.OPTIMAL
    elif out.termination is Termination.TIME_LIMIT:
        status = Status.TIME_LIMIT
    else:
        status = Status.FEASIBLE
    return Result(
        status, out.termination, architecture=arch, objective=objective, bound=bound, gap=gap,
        abs_gap=abs_gap, resources=problem.resources(arch), message=out.message, stats=stats,
        wall_time=time.perf_counter() - wall0, **times, **common,
    )


def result_context(problem: Problem, backend: str, options: dict[str, Any] | None = None,
                   seed: int = 0, time_limit: float | None = None) -> dict[str, Any]:
    """What :func:`solve` records in every Result (backend, options, seed, sense, budgets,
    versions), for code that drives a backend's machinery itself (e.g. ``pareto_front``)."""
    solver_cls = get_backend(backend)
    return dict(backend=backend, options={**(options or {}), "time_limit": time_limit},
                seed=int(seed), sense=problem.sense, budgets=problem.budgets,
                versions=dict(_versions(solver_cls.packages)))


def finish_result(problem: Problem, output: SolverOutput, context: dict[str, Any],
                  wall0: float | None = None, min_resources: dict[str, float] | None = None
                  ) -> Result:
    """Turn a backend's :class:`SolverOutput` into a :class:`Result` exactly as :func:`solve`
    does: the architecture is validated, every budget re-checked, the objective evaluated and
    the gap computed.  ``context`` comes from :func:`result_context` (with ``budgets`` for this
    problem)."""
    common = {**context, "budgets": problem.budgets}
    mins = problem.min_resources() if min_resources is None else min_resources
    return _finish(problem, output, common, time.perf_counter() if wall0 is None else wall0, mins)
