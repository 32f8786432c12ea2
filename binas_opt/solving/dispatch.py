"""``solve()``: validate, dispatch to a backend, check its answer, build the Result."""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import sys
import time
from importlib import metadata
from typing import Any

from binas_opt.model.architecture import Architecture
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.solving.backend import COMMON_SPECS, SolveContext, check_value, make_options
from binas_opt.solving.registry import get_backend, list_backends
from binas_opt.solving.result import Result, SolverOutput, Status, Termination

__all__ = ["solve", "backends_accepting", "make_result"]

logger = logging.getLogger("binas_opt")


def backends_accepting(problem: Problem | ObjectiveKind, n_constraints: int = 1) -> list[str]:
    """Available backends that take ``problem`` (their :meth:`~binas_opt.Solver.refusal` with
    default options says nothing against it).

    Parameters
    ----------
    problem : Problem or ObjectiveKind
        A problem, or only an objective kind (then with ``n_constraints`` budgets, checking
        ``accepts`` and ``max_constraints``).
    """
    out = []
    for name in list_backends(True):
        cls = get_backend(name)
        if isinstance(problem, Problem):
            try:
                ok = cls.refusal(problem, cls.Options()) is None
            except Exception:  # a third-party refusal that cannot judge default options
                ok = False
        else:
            kind = ObjectiveKind.parse(problem, "backends_accepting: kind")
            ok = kind in cls.accepts and (cls.max_constraints is None
                                          or n_constraints <= cls.max_constraints)
        if ok:
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


def _validate_common(time_limit, seed, verbose, warm_start, problem: Problem):
    """``(time_limit, seed, verbose, warm_start)`` checked with the same rules for every
    backend (:data:`~binas_opt.solving.backend.COMMON_SPECS`), before any work."""
    common = {name: check_value(value, COMMON_SPECS[name], name)
              for name, value in (("time_limit", time_limit), ("seed", seed), ("verbose", verbose))}
    return (*common.values(), _validate_warm_start(warm_start, problem))


def _validate_warm_start(warm_start, problem: Problem):
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
        Seconds; a run stopped by it reports termination ``time_limit`` with status
        ``feasible`` (an architecture was found) or ``no_solution`` (none), never ``optimal``
        or ``infeasible`` without a proof.
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
        Whenever ``result.architecture`` is set it satisfies every budget; ``status`` never
        claims more than was proved (:class:`~binas_opt.Status`) and ``message`` is never empty
        unless the status is ``optimal``.

    Raises
    ------
    ValueError
        Unknown backend or option, bad arguments, or a problem the backend refuses
        (:meth:`~binas_opt.Solver.refusal`); the message lists the backends that take it.

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
    time_limit, seed, verbose, warm = _validate_common(time_limit, seed, verbose, warm_start,
                                                       problem)
    opts = make_options(solver_cls.Options, options, backend)
    reason = solver_cls.refusal(problem, opts)
    if reason is not None:
        raise ValueError(f"{reason}; backends that take this problem: "
                         f"{backends_accepting(problem)}")
    ctx = SolveContext(time_limit=time_limit, seed=seed, verbose=verbose, warm_start=warm)
    common = _context(problem, backend, dataclasses.asdict(opts), seed, time_limit)

    mins = problem.min_resources()
    impossible = problem.impossible_budgets()  # exact: a proof of infeasibility
    if impossible:
        msg = "; ".join(f"{k}: budget {problem.budgets[k]:g} < smallest achievable {v:.6g}"
                        for k, v in impossible.items())
        logger.info("infeasible budgets (%s)", msg)
        return Result(Status.INFEASIBLE, Termination.INFEASIBLE, min_resources=mins,
                      wall_time=time.perf_counter() - wall0, message=msg, **common)

    t_run = time.perf_counter()
    out = solver_cls().run(problem, opts, ctx)
    run_time = time.perf_counter() - t_run
    if not isinstance(out, SolverOutput):
        raise TypeError(f"backend {backend!r} returned {type(out).__name__}, not SolverOutput")
    if out.solve_time == 0.0 and out.build_time == 0.0:  # the backend did not time itself
        out = dataclasses.replace(out, solve_time=run_time)
    return _finish(problem, out, common, wall0, mins)


def _finish(problem: Problem, out: SolverOutput, common: dict, wall0: float, mins) -> Result:
    """The Result of ``out`` (see the table in :class:`~binas_opt.Status`)."""
    stats = dict(out.stats)
    times = dict(solve_time=float(out.solve_time), build_time=float(out.build_time))
    name = common["backend"]
    arch = out.architecture
    if arch is not None:
        problem.space.validate(arch, f"architecture returned by {name!r}")
        if problem.objective_kind is ObjectiveKind.TABLE:
            arch = arch.canonical()
        broken = problem.violations(arch)
        if broken:
            msg = f"backend {name!r} returned an architecture that exceeds {broken}"
            logger.error(msg)
            return Result(Status.ERROR, Termination.ERROR, message=msg, stats=stats,
                          wall_time=time.perf_counter() - wall0, **times, **common)
    if arch is None:
        if out.proven_infeasible:
            status = Status.INFEASIBLE
        elif out.termination is Termination.ERROR:
            status = Status.ERROR
        else:
            status = Status.NO_SOLUTION
        msg = out.message or f"backend {name!r} found no architecture. {out.termination.message}"
        if status is Status.NO_SOLUTION and "not a proof" not in msg:
            msg += " (no architecture found; this is not a proof of infeasibility)"
        return Result(status, out.termination, bound=out.bound,
                      min_resources=mins if status is Status.INFEASIBLE else None,
                      message=msg, stats=stats,
                      wall_time=time.perf_counter() - wall0, **times, **common)

    objective = problem.evaluate(arch)
    bound = out.bound
    if out.proven_optimal and bound is None:
        bound = objective
    abs_gap = gap = None
    if bound is not None and math.isfinite(bound):
        abs_gap = max(0.0, problem.sign * (bound - objective))
        gap = abs_gap / max(abs(objective), 1e-10)
    status = Status.OPTIMAL if out.proven_optimal else Status.FEASIBLE
    msg = out.message
    if not msg and status is not Status.OPTIMAL:
        msg = out.termination.message
    return Result(
        status, out.termination, architecture=arch, objective=objective, bound=bound, gap=gap,
        abs_gap=abs_gap, resources=problem.resources(arch), message=msg, stats=stats,
        wall_time=time.perf_counter() - wall0, **times, **common,
    )


def _context(problem: Problem, backend: str, options: dict[str, Any] | None = None,
             seed: int = 0, time_limit: float | None = None) -> dict[str, Any]:
    """What every Result records besides the outcome (backend, options, seed, sense, budgets,
    versions)."""
    solver_cls = get_backend(backend)
    return dict(backend=backend, options={**(options or {}), "time_limit": time_limit},
                seed=int(seed), sense=problem.sense, budgets=problem.budgets,
                versions=dict(_versions(solver_cls.packages)))


def make_result(problem: Problem, output: SolverOutput, backend: str, *,
                options: dict[str, Any] | None = None, seed: int = 0,
                time_limit: float | None = None, wall0: float | None = None,
                min_resources: dict[str, float] | None = None) -> Result:
    """Turn a :class:`~binas_opt.SolverOutput` into a :class:`~binas_opt.Result` exactly as
    :func:`solve` does, for drivers that call a backend's capability methods themselves
    (:func:`~binas_opt.solve_budgets`, :meth:`~binas_opt.ParetoFront.result`).

    The architecture is validated, every budget re-checked exactly, the objective evaluated,
    the gap computed and the status derived honestly (see :class:`~binas_opt.Status`).

    Parameters
    ----------
    problem : Problem
        The problem ``output`` answers (its budgets are recorded).
    output : SolverOutput
    backend : str
        The registered backend that produced ``output`` (its versions are recorded).
    options, seed, time_limit
        Recorded in the Result, as :func:`solve` records them.
    wall0 : float, optional
        ``time.perf_counter()`` when the work for this result started (``wall_time``).
    min_resources : dict, optional
        ``problem.min_resources()``, if already computed.
    """
    if not isinstance(output, SolverOutput):
        raise TypeError(f"make_result: output must be a SolverOutput, got {type(output).__name__}")
    common = _context(problem, backend, options, seed, time_limit)
    mins = problem.min_resources() if min_resources is None else min_resources
    return _finish(problem, output, common, time.perf_counter() if wall0 is None else wall0, mins)
