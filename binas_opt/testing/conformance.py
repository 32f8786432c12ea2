"""The backend conformance suite: what every backend of :func:`~binas_opt.solve` must do.

Importable, so that the author of a third-party backend can run the same checks as the built-in
backends pass::

    import binas_opt as bo
    from binas_opt.testing.conformance import check_backend

    report = check_backend(MyBackend)          # a Solver subclass or a registered name
    print(report)                              # passed / skipped (with the reason) / failed

or, in a pytest file, one test per check and case::

    import pytest
    from binas_opt.testing import conformance

    @pytest.mark.parametrize("backend, check, case", conformance.pytest_params(["mine"]))
    def test_conformance(backend, check, case):
        conformance.run_pytest_check(backend, check, case)

The checks (:data:`CHECKS`):

* ``declaration``: class variables, options and declared capabilities are well formed;
* ``against_brute``: on small random problems (Table and QuadraticForm objectives, one to three
  budgets) every architecture meets every budget, is never better than the exact optimum,
  bounds are bounds, ``optimal`` only when it is, exact backends always optimal;
* ``budget_below_minimum``, ``jointly_infeasible``: ``infeasible`` when the budgets cannot be
  met (proved), never an architecture; backends that do not declare
  :data:`~binas_opt.Capability.PROVES_INFEASIBILITY` may say ``no_solution`` instead;
* ``never_infeasible``: on feasible problems with tight budgets, also with every boolean option
  that defaults to True switched off (e.g. ``evo``'s ``repair``), never ``infeasible`` and
  never an error;
* ``time_limit``, ``longer_time_limit``: the clock is respected, and a run that went past it
  says so;
* ``determinism``: the same seed gives the same result, also in a fresh process;
* ``unknown_option``: a ``ValueError`` listing the valid options;
* ``result_contract``: status and termination consistent, a message whenever the status is
  not ``optimal``, timings as fields, JSON-able stats, recorded backend, options and versions,
  nothing printed;
* ``capabilities``: every declared capability (Pareto front, budget sweep, warm start) works;
* ``torch_black_box``: a small torch network as the objective (needs torch).

Problems a backend documents that it does not take (:meth:`~binas_opt.Solver.refusal`) are
skipped, after checking that :func:`~binas_opt.solve` refuses them with a ``ValueError``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from binas_opt.model.exact import round_up
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.model.space import SearchSpace, Stage
from binas_opt.model.table import Table
from binas_opt.solving.backend import Capability, SolveContext, Solver
from binas_opt.solving.dispatch import solve
from binas_opt.solving.registry import (
    backend_info,
    get_backend,
    list_backends,
    register_backend,
    unregister_backend,
)
from binas_opt.solving.result import Result, SolverOutput, Status, Termination
from binas_opt.testing.synthetic import random_problem, synthetic_problem, synthetic_tables

__all__ = ["CHECKS", "Check", "ConformanceError", "Report", "Skipped", "check_backend",
           "pytest_params", "run_check", "run_pytest_check"]

RESOURCES = ("latency", "params", "energy")
#: Seconds over the time limit a backend may take to stop and clean up.
TIME_TOLERANCE = 0.5


class ConformanceError(AssertionError):
    """A backend broke the contract (the message says which rule, on which problem)."""


class Skipped(Exception):  # noqa: N818 (mirrors pytest.skip)
    """A check does not apply to a backend (the message says why, e.g. a documented refusal)."""


def _ensure(cond: bool, msg: str) -> None:
    if not cond:
        raise ConformanceError(msg)


def _close(a: float, b: float, tol: float = 1e-9) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


# ---------------------------------------------------------------------------- helpers
def _cls(backend: str) -> type[Solver]:
    return get_backend(backend)


def _refusal(backend: str, problem: Problem, options: dict | None = None) -> str | None:
    cls = _cls(backend)
    return cls.refusal(problem, cls.Options(**(options or {})))


def _require(backend: str, problem: Problem) -> None:
    """Skip a problem the backend declares it does not take, after checking that ``solve``
    refuses it with a ValueError carrying the declared reason (never a silent answer)."""
    reason = _refusal(backend, problem)
    if reason is None:
        return
    try:
        solve(problem, backend)
    except ValueError as exc:
        _ensure(reason in str(exc), f"{backend}: refusal message {str(exc)!r} does not carry the "
                                    f"declared reason {reason!r}")
    else:
        raise ConformanceError(f"{backend}: refusal() says {reason!r} but solve() did not raise "
                               "ValueError")
    raise Skipped(reason + " (refusal checked)")


def _n_cons(backend: str, wanted: int) -> int:
    cap = _cls(backend).max_constraints
    return wanted if cap is None else max(0, min(wanted, cap))


def _feasible(problem: Problem, arch) -> bool:
    return problem.is_feasible(arch)


@functools.lru_cache(maxsize=256)
def _small(seed: int, obj: str, n_cons: int, mode: str) -> Problem:
    """A small random problem."""
    return random_problem(seed, objective=obj, n_constraints=n_cons, budget_mode=mode)


@functools.lru_cache(maxsize=256)
def _oracle(seed: int, obj: str, n_cons: int, mode: str) -> Result:
    """The brute-force answer of :func:`_small`."""
    return solve(_small(seed, obj, n_cons, mode), "brute")


def _tight_feasible(problem: Problem, seed: int, pool: int = 200) -> Problem:
    """``problem`` with every budget set to the (exact, rounded up) resources of a cheap
    random architecture: feasible by construction, with little slack."""
    space = problem.space
    archs = space.sample(np.random.default_rng(seed), pool)
    cons = problem.constraints
    vals = np.array([[c.table(a) for c in cons] for a in archs])
    lo, hi = vals.min(axis=0), vals.max(axis=0)
    score = ((vals - lo) / np.maximum(hi - lo, 1e-12)).sum(axis=1)
    pick = archs[int(np.argsort(score)[min(2, len(archs) - 1)])]
    budgets = {c.name: round_up(c.table.exact_value(pick)) for c in cons}
    out = problem.with_budgets(budgets)
    assert out.is_feasible(pick)
    return out


@contextlib.contextmanager
def _stdout_fd_captured():
    """Capture what is written to file descriptor 1 (also by C libraries); yields a callable
    returning it."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 1)
        text: list[str] = []
        try:
            yield lambda: "".join(text)
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            tmp.seek(0)
            text.append(tmp.read().decode(errors="replace"))


# ---------------------------------------------------------------------------- checks
def check_declaration(backend: str, case=None) -> None:
    """Class variables, options and capabilities are well formed."""
    cls = _cls(backend)
    _ensure(issubclass(cls, Solver), f"{backend}: not a Solver subclass")
    _ensure(getattr(cls, "name", None) == backend,
            f"{backend}: class variable name is {getattr(cls, 'name', None)!r}, registered as "
            f"{backend!r}")
    _ensure(isinstance(cls.exact, bool), f"{backend}: exact must be a bool")
    _ensure(set(cls.accepts) <= set(ObjectiveKind) and len(cls.accepts) > 0,
            f"{backend}: accepts must be a non-empty set of ObjectiveKind")
    _ensure(cls.max_constraints is None or (isinstance(cls.max_constraints, int)
                                            and cls.max_constraints >= 0),
            f"{backend}: max_constraints must be None or an int >= 0")
    _ensure(dataclasses.is_dataclass(cls.Options), f"{backend}: Options must be a dataclass")
    try:
        opts = cls.Options()
    except TypeError as exc:
        raise ConformanceError(f"{backend}: every option needs a default ({exc})") from exc
    with contextlib.suppress(dataclasses.FrozenInstanceError):
        if dataclasses.fields(opts):
            f0 = dataclasses.fields(opts)[0].name
            setattr(opts, f0, getattr(opts, f0))
            raise ConformanceError(f"{backend}: Options must be frozen")
    for cap in cls.capabilities:
        _ensure(isinstance(cap, Capability), f"{backend}: capability {cap!r} is not a Capability")
        if cap.method:
            _ensure(callable(getattr(cls, cap.method, None)),
                    f"{backend}: declares {cap.value} without {cap.method}()")
    for pkg in cls.packages:
        _ensure(isinstance(pkg, str), f"{backend}: packages must be distribution names")
    p = random_problem(3, n_constraints=1)
    reason = cls.refusal(p, opts)
    _ensure(reason is None or (isinstance(reason, str) and reason),
            f"{backend}: refusal() must return None or a non-empty string, got {reason!r}")


CASES = tuple(
    (seed, obj, n_cons, mode)
    for seed, (obj, n_cons, mode) in enumerate(
        (obj, n_cons, mode)
        for obj in ("table", "quadratic")
        for n_cons in (1, 2, 3)
        for mode in ("random", "tight", "loose", "random")
    )
)


def check_against_brute(backend: str, case) -> None:
    """Budgets hard, never better than the exact optimum, bounds are bounds, optimal only
    when it is; exact backends optimal; a FINDS_FEASIBLE backend finds a solution."""
    seed, obj, n_cons, mode = case
    problem = _small(100 + seed, obj, n_cons, mode)
    _require(backend, problem)
    ref = _oracle(100 + seed, obj, n_cons, mode)
    cls = _cls(backend)
    r = solve(problem, backend, seed=0)
    tag = f"{backend} on random_problem({100 + seed}, {obj!r}, {n_cons}, {mode!r})"
    _ensure(r.status is not Status.ERROR, f"{tag}: error: {r.message}")
    if r.architecture is not None:
        _ensure(_feasible(problem, r.architecture), f"{tag}: breaks a budget")
        _ensure(_close(r.objective, problem.evaluate(r.architecture), 1e-12),
                f"{tag}: objective {r.objective} is not the architecture's")
    if ref.status is Status.INFEASIBLE:
        _ensure(r.architecture is None, f"{tag}: an architecture on an infeasible problem")
        want = (Status.INFEASIBLE,) if cls.has(Capability.PROVES_INFEASIBILITY) else \
            (Status.INFEASIBLE, Status.NO_SOLUTION)
        _ensure(r.status in want, f"{tag}: {r.status.value} on an infeasible problem, want "
                                  f"{[s.value for s in want]}")
        return
    _ensure(r.status is not Status.INFEASIBLE, f"{tag}: 'infeasible' on a feasible problem")
    if r.architecture is None:
        _ensure(not cls.has(Capability.FINDS_FEASIBLE),
                f"{tag}: declares finds_feasible but returned {r.status.value}: {r.message}")
        _ensure(r.status is Status.NO_SOLUTION, f"{tag}: {r.status.value} without an architecture")
        return
    s = problem.sign
    _ensure(s * (r.objective - ref.objective) <= 1e-9 * max(1.0, abs(ref.objective)),
            f"{tag}: objective {r.objective} beats the exact optimum {ref.objective}")
    if r.bound is not None:
        _ensure(s * (r.bound - ref.objective) >= -1e-7 * max(1.0, abs(ref.objective)),
                f"{tag}: bound {r.bound} is not a bound (optimum {ref.objective})")
    if r.status is Status.OPTIMAL:
        _ensure(_close(r.objective, ref.objective), f"{tag}: 'optimal' {r.objective} but the "
                                                    f"optimum is {ref.objective}")
    if cls.exact:
        _ensure(r.status is Status.OPTIMAL and _close(r.objective, ref.objective),
                f"{tag}: an exact backend said {r.status.value} {r.objective}, optimum "
                f"{ref.objective}")


def check_budget_below_minimum(backend: str, case=None) -> None:
    """Budgets below the exact minimum: ``infeasible`` with ``min_resources``, at once."""
    problem = random_problem(7, n_constraints=_n_cons(backend, 2) or 1, budget_mode="infeasible")
    _require(backend, problem)
    r = solve(problem, backend)
    _ensure(r.status is Status.INFEASIBLE and r.architecture is None,
            f"{backend}: {r.status.value} for budgets below the minimum")
    _ensure(r.min_resources is not None, f"{backend}: infeasible without min_resources")


def _tiny_jointly_infeasible() -> Problem:
    space = SearchSpace([Stage((1,), ["a", "b"])])
    acc = Table(space, op=[[[1.0, 2.0]]], name="acc")
    lat = Table(space, op=[[[1.0, 3.0]]], name="latency")
    mem = Table(space, op=[[[3.0, 1.0]]], name="memory")
    return Problem(space, acc, [lat <= 2, mem <= 2])


def _mobilenet_jointly_infeasible() -> Problem:
    """Latency and its complement: each budget alone is feasible, both together are not."""
    space = SearchSpace.mobilenet_v3()
    data = synthetic_tables(space, "realistic", 0)
    lat = data.latency
    sizes = [n for st in space.stages for n in st.num_ops]
    op = lat.op_values
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    comp = np.repeat(np.maximum.reduceat(op, starts), sizes) - op + 0.1
    mem = Table(space, 1.0, np.zeros(space.n_beta), comp, name="memory")
    lo_l, hi_l = lat.min_value(), lat.max_value()
    lo_m, hi_m = mem.min_value(), mem.max_value()
    return Problem(space, data.accuracy,
                   [lat <= lo_l + 0.02 * (hi_l - lo_l), mem <= lo_m + 0.02 * (hi_m - lo_m)])


@functools.lru_cache(maxsize=1)
def _random_jointly_infeasible(count: int = 2) -> tuple[Problem, ...]:
    out = []
    for seed in range(400):
        p = random_problem(seed, n_constraints=2, budget_mode="random")
        if not p.impossible_budgets() and solve(p, "brute").status is Status.INFEASIBLE:
            out.append(p)
            if len(out) == count:
                break
    return tuple(out)


def check_jointly_infeasible(backend: str, case: str) -> None:
    """Budgets each achievable alone but not together: no architecture, quickly; proved
    ``infeasible`` by backends that declare PROVES_INFEASIBILITY."""
    if case == "random":
        problems = _random_jointly_infeasible()
        _ensure(len(problems) > 0, "no jointly infeasible random problem found")
    else:
        problems = (_tiny_jointly_infeasible() if case == "tiny" else
                    _mobilenet_jointly_infeasible(),)
    proves = _cls(backend).has(Capability.PROVES_INFEASIBILITY)
    for problem in problems:
        _require(backend, problem)
        t0 = time.perf_counter()
        r = solve(problem, backend, time_limit=30)
        _ensure(time.perf_counter() - t0 < 30 + TIME_TOLERANCE, f"{backend}: ignored the limit")
        _ensure(r.architecture is None, f"{backend}: an architecture on an infeasible problem")
        want = (Status.INFEASIBLE,) if proves else (Status.INFEASIBLE, Status.NO_SOLUTION)
        _ensure(r.status in want, f"{backend} ({case}): {r.status.value} {r.message}")


def _bool_variants(backend: str) -> list[dict[str, Any]]:
    """Default options, then each boolean option that defaults to True switched off."""
    cls = _cls(backend)
    out: list[dict[str, Any]] = [{}]
    for f in dataclasses.fields(cls.Options):
        if f.default is True:
            out.append({f.name: False})
    return out


def check_never_infeasible(backend: str, case: str) -> None:
    """On feasible problems with tight budgets: never ``infeasible`` (no proof exists), never
    an error, only feasible architectures; with default options a FINDS_FEASIBLE backend finds
    one.  Also with each boolean option that defaults to True switched off."""
    cls = _cls(backend)
    if case == "small":
        problems = [_tight_feasible(random_problem(seed, objective=obj, n_constraints=n),
                                    seed)
                    for seed, obj, n in ((2, "table", 2), (3, "quadratic", 3), (4, "table", 1))]
    else:
        n = _n_cons(backend, 3) or 1
        problems = [_tight_feasible(synthetic_problem(kind="realistic", seed=1,
                                                      resources=RESOURCES[:n]), 1)]
    ran = 0
    for problem in problems:
        if _refusal(backend, problem) is not None:
            continue
        for opts in _bool_variants(backend):
            r = solve(problem, backend, time_limit=5.0, **opts)
            ran += 1
            tag = f"{backend} {opts or 'defaults'} ({case}, {len(problem.constraints)} budgets)"
            _ensure(r.status is not Status.INFEASIBLE,
                    f"{tag}: 'infeasible' on a feasible problem ({r.message})")
            _ensure(r.status is not Status.ERROR, f"{tag}: error: {r.message}")
            if r.architecture is not None:
                _ensure(_feasible(problem, r.architecture), f"{tag}: breaks a budget")
            elif (not opts and r.termination is not Termination.TIME_LIMIT
                  and cls.has(Capability.FINDS_FEASIBLE)):
                raise ConformanceError(f"{tag}: declares finds_feasible but found nothing: "
                                       f"{r.message}")
            else:
                _ensure(r.status is Status.NO_SOLUTION and bool(r.message),
                        f"{tag}: {r.status.value} without an architecture or a message")
    if not ran:
        raise Skipped(f"{backend} refuses every {case} problem of this check")


def _hard_problem(backend: str) -> Problem:
    n = _n_cons(backend, 3) or 1
    return synthetic_problem(kind="correlated", resources=RESOURCES[:n])


def _exact_reference(problem: Problem) -> Result | None:
    for name in ("milp", "pulp"):
        if name in list_backends(True):
            return solve(problem, name)
    return None


def check_time_limit(backend: str, case=None) -> None:
    """A 50 ms limit is respected; a run that went past it reports termination time_limit."""
    problem = _hard_problem(backend)
    _require(backend, problem)
    solve(problem, backend, time_limit=0.05)  # warm-up: first-use imports are not the clock
    limit = 0.05
    r = solve(problem, backend, time_limit=limit)
    _ensure(r.wall_time <= limit + TIME_TOLERANCE, f"{backend} took {r.wall_time:.3f}s")
    _ensure(r.status in (Status.FEASIBLE, Status.OPTIMAL, Status.NO_SOLUTION),
            f"{backend}: {r.status.value} under a time limit ({r.message})")
    if r.termination is not Termination.TIME_LIMIT:  # finished before the clock
        _ensure(r.wall_time <= limit + 0.02,
                f"{backend} ran past the limit ({r.wall_time:.3f}s) but says "
                f"{r.termination.value}")
    if r.architecture is not None:
        _ensure(_feasible(problem, r.architecture), f"{backend}: breaks a budget")
    if r.status is Status.OPTIMAL:
        exact = _exact_reference(problem)
        if exact is not None and exact.status is Status.OPTIMAL:
            _ensure(_close(r.objective, exact.objective), f"{backend}: 'optimal' "
                    f"{r.objective}, exact {exact.objective}")


def check_longer_time_limit(backend: str, case=None) -> None:
    """A 0.5 s limit is respected."""
    problem = _hard_problem(backend)
    _require(backend, problem)
    limit = 0.5
    t0 = time.perf_counter()
    r = solve(problem, backend, time_limit=limit)
    elapsed = time.perf_counter() - t0
    _ensure(elapsed <= limit + TIME_TOLERANCE, f"{backend} took {elapsed:.3f}s")
    if elapsed > limit + 0.02:
        _ensure(r.termination is Termination.TIME_LIMIT or r.status is Status.OPTIMAL,
                f"{backend} ran past the limit but says {r.status.value}/{r.termination.value}")
    if r.architecture is not None:
        _ensure(_feasible(problem, r.architecture), f"{backend}: breaks a budget")


_SCRIPT = """
import importlib, json, sys
sys.path[:0] = json.loads(sys.argv[5])
import binas_opt as bo
from binas_opt.testing.synthetic import random_problem, synthetic_problem
backend, which, n, seed, target = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[6]
if backend not in bo.list_backends(False):
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if backend not in bo.list_backends(False):
        bo.register_backend(backend, obj)
if which == "big":
    p = synthetic_problem(kind="realistic", seed=1, resources=("latency", "params", "energy")[:n])
else:
    p = random_problem(11, objective="table", n_constraints=n)
r = bo.solve(p, backend, seed=seed)
a = None if r.architecture is None else r.architecture.to_dict()
print(json.dumps([r.status.value, a, r.objective]))
"""


def _target(backend: str) -> str | None:
    """How a fresh process can load the backend (``module:qualname``), if it can."""
    spec = backend_info(backend)
    if isinstance(spec.target, str):
        return spec.target
    cls = spec.target
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        return None
    return f"{cls.__module__}:{cls.__qualname__}"


def _det_key(r: Result):
    return (r.status.value, None if r.architecture is None else r.architecture.to_dict(),
            r.objective)


def check_determinism(backend: str, case=None) -> None:
    """Same seed, same result: twice here and once in a fresh process."""
    n = _n_cons(backend, 2) or 1
    big = synthetic_problem(kind="realistic", seed=1, resources=RESOURCES[:n])
    if _refusal(backend, big) is None:
        problem, which = big, "big"
    else:
        problem, which = random_problem(11, objective="table", n_constraints=n), "small"
    _require(backend, problem)
    r1 = solve(problem, backend, seed=5)
    r2 = solve(problem, backend, seed=5)
    _ensure(_det_key(r1) == _det_key(r2), f"{backend}: two runs with seed 5 differ")
    target = _target(backend)
    if target is None:
        raise Skipped(f"{backend}: defined in __main__ or a function, so a fresh process cannot "
                      "load it (in-process determinism checked)")
    out = subprocess.run([sys.executable, "-c", _SCRIPT, backend, which, str(n), "5",
                          json.dumps(sys.path), target],
                         capture_output=True, text=True, timeout=300)
    _ensure(out.returncode == 0, f"{backend}: the fresh process failed: {out.stderr[-2000:]}")
    status, arch, obj = json.loads(out.stdout.strip().splitlines()[-1])
    key = _det_key(r1)
    _ensure(status == key[0] and json.loads(json.dumps(key[1])) == arch and obj == key[2],
            f"{backend}: a fresh process with seed 5 gives another result")


def check_unknown_option(backend: str, case=None) -> None:
    """Unknown options raise a ValueError naming them and listing the valid ones."""
    problem = random_problem(3, n_constraints=1)
    _require(backend, problem)
    try:
        solve(problem, backend, no_such_option=1)
    except ValueError as exc:
        msg = str(exc)
    else:
        raise ConformanceError(f"{backend}: an unknown option was accepted")
    _ensure("no_such_option" in msg, f"{backend}: the error does not name the option: {msg}")
    for f in dataclasses.fields(_cls(backend).Options):
        _ensure(f.name in msg, f"{backend}: the error does not list option {f.name!r}: {msg}")


def _check_result(backend: str, problem: Problem, r: Result, tag: str) -> None:
    cls = _cls(backend)
    _ensure(r.backend == backend, f"{tag}: result.backend is {r.backend!r}")
    _ensure((r.architecture is not None) == r.status.has_solution,
            f"{tag}: status {r.status.value} with architecture={r.architecture is not None}")
    if r.status is Status.OPTIMAL:
        _ensure(r.termination is Termination.OPTIMAL, f"{tag}: optimal, terminated "
                                                       f"{r.termination.value}")
    if r.termination is Termination.OPTIMAL:
        _ensure(r.status is Status.OPTIMAL, f"{tag}: termination optimal, status "
                                            f"{r.status.value}")
    if r.status is Status.INFEASIBLE:
        _ensure(r.termination is Termination.INFEASIBLE and r.min_resources is not None,
                f"{tag}: infeasible without the proof's termination or min_resources")
    if r.status is Status.ERROR:
        _ensure(r.termination is Termination.ERROR, f"{tag}: error, terminated "
                                                    f"{r.termination.value}")
    if r.status is not Status.OPTIMAL:
        _ensure(bool(r.message.strip()), f"{tag}: status {r.status.value} with an empty message")
    for k in ("solve_time", "build_time"):
        _ensure(k not in r.stats, f"{tag}: {k} belongs in SolverOutput's field, not in stats")
        _ensure(getattr(r, k) >= 0, f"{tag}: negative {k}")
    _ensure(r.solve_time + r.build_time <= r.wall_time + 1e-3,
            f"{tag}: solve_time + build_time exceed wall_time")
    _ensure("python" in r.versions, f"{tag}: versions not recorded")
    for f in dataclasses.fields(cls.Options):
        _ensure(f.name in r.options, f"{tag}: option {f.name!r} not recorded")
    _ensure("time_limit" in r.options, f"{tag}: time_limit not recorded")
    try:
        json.dumps(r.to_dict(), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConformanceError(f"{tag}: the result is not plain JSON ({exc})") from exc


def check_result_contract(backend: str, case=None) -> None:
    """Status/termination/message/timings/records of the Result, the SolverOutput of a direct
    ``run``, and nothing printed (checked at the file-descriptor level)."""
    cls = _cls(backend)
    problems = [random_problem(5, n_constraints=_n_cons(backend, 2) or 1),
                random_problem(6, objective="quadratic", n_constraints=_n_cons(backend, 1)),
                _tiny_jointly_infeasible(), _hard_problem(backend)]
    ran = 0
    for i, problem in enumerate(problems):
        if _refusal(backend, problem) is not None:
            continue
        limit = 0.05 if i == 3 else None
        with _stdout_fd_captured() as printed:
            r = solve(problem, backend, time_limit=limit)
            out = cls().run(problem, cls.Options(), SolveContext(time_limit=limit)) if not ran \
                else None
        _ensure(printed() == "", f"{backend} printed to stdout: {printed()[:200]!r}")
        if out is not None:
            _ensure(isinstance(out, SolverOutput), f"{backend}: run() returned "
                                                   f"{type(out).__name__}, not SolverOutput")
            if out.architecture is not None:
                _ensure(problem.is_feasible(out.architecture),
                        f"{backend}: run() returned an architecture that breaks a budget")
        _check_result(backend, problem, r, f"{backend} on problem {i}")
        ran += 1
    if not ran:
        raise Skipped(f"{backend} refuses every problem of this check")


def _front_problem(backend: str) -> Problem:
    for seed, obj in ((0, "table"), (1, "quadratic")):
        space = SearchSpace([Stage((1, 2), [f"o{i}" for i in range(3)]) for _ in range(3)])
        p = synthetic_problem(space=space, kind="realistic", seed=seed)
        if obj == "quadratic":
            p = Problem(p.space, p.objective.to_quadratic(), p.constraints)
        if _refusal(backend, p) is None:
            return p
    raise Skipped(f"{backend} refuses the problems of this check")


def _brute_best(problem: Problem, resource: str, budgets: Iterable[float]) -> list[float | None]:
    """The optimum for every budget of ``resource`` (None: infeasible), by enumeration."""
    if problem.objective_kind is not ObjectiveKind.TABLE:  # inactive op indices matter
        return [solve(problem.with_budgets({resource: float(b)}), "brute").objective
                for b in budgets]
    d, o = problem.space.enumerate()
    val = problem.objective.evaluate_arrays(d, o)
    out = []
    for b in budgets:
        ok = problem.with_budgets({resource: float(b)}).feasible_mask(d, o)
        out.append(float(val[ok][np.argmax(problem.sign * val[ok])]) if ok.any() else None)
    return out


def check_capabilities(backend: str, case: str) -> None:
    """A declared capability works: ``pareto_front`` (the front matches brute force),
    ``budget_sweep`` (each result matches brute force), ``warm_start`` (never worse than a
    feasible warm start)."""
    cls = _cls(backend)
    cap = Capability.parse(case, "capability")
    if cap not in cls.capabilities:
        raise Skipped(f"{backend} does not declare {cap.value}")
    from binas_opt.solving.pareto import pareto_front, solve_budgets

    if cap is Capability.PARETO_FRONT:
        problem = _front_problem(backend)
        f = pareto_front(problem, "latency", method=backend)
        _ensure(len(f) > 0 and f.complete, f"{backend}: empty or incomplete front")
        _ensure(bool(np.all(np.diff(f.resources) > 0)), f"{backend}: resources not increasing")
        _ensure(bool(np.all(problem.sign * np.diff(f.objective) > 0)),
                f"{backend}: objective not strictly improving along the front")
        for i in range(len(f)):
            a = f.architecture(i)
            _ensure(_close(problem.constraint("latency").table(a), f.resources[i]) and
                    _close(problem.evaluate(a), f.objective[i]),
                    f"{backend}: point {i} is not its architecture's")
        mids = (f.resources[1:] + f.resources[:-1]) / 2
        budgets = np.concatenate([mids, [f.resources[-1] * 1.5 + 1]])
        want = _brute_best(problem, "latency", budgets)
        got = f.value_at(budgets)
        for b, w, g in zip(budgets, want, got, strict=True):
            _ensure(w is not None and abs(g - w) <= max(f.epsilon, 1e-7 * max(1.0, abs(w))),
                    f"{backend}: front value {g} at {b}, optimum {w}")
    elif cap is Capability.BUDGET_SWEEP:
        problem = _front_problem(backend)
        lat = problem.constraint("latency").table
        lo, hi = lat.min_value(), lat.max_value()
        budgets = [hi, lo - 1.0, lo + 0.3 * (hi - lo), lo + 0.6 * (hi - lo)]
        rs = solve_budgets(problem, "latency", budgets, method=backend)
        want = _brute_best(problem, "latency", budgets)
        _ensure(len(rs) == len(budgets), f"{backend}: {len(rs)} results for {len(budgets)} budgets")
        for r, w, b in zip(rs, want, budgets, strict=True):
            _ensure(r.budgets["latency"] == b, f"{backend}: results out of order")
            _check_result(backend, problem.with_budgets({"latency": b}), r, f"{backend} sweep {b}")
            if w is None:
                _ensure(r.status is Status.INFEASIBLE, f"{backend}: {r.status.value} below min")
                continue
            _ensure(r.architecture is not None and r.resources["latency"] <= b,
                    f"{backend}: sweep at {b}: {r.status.value} {r.message}")
            _ensure(problem.sign * (r.objective - w) <= 1e-9 * max(1.0, abs(w)),
                    f"{backend}: sweep at {b} beats the optimum")
            if cls.exact or r.status is Status.OPTIMAL:
                _ensure(_close(r.objective, w, 1e-7), f"{backend}: sweep at {b}: {r.objective}, "
                                                      f"optimum {w}")
    elif cap is Capability.WARM_START:
        n = _n_cons(backend, 1) or 1
        problem = _small(105, "table", n, "random")
        _require(backend, problem)
        ref = _oracle(105, "table", n, "random")
        if ref.architecture is None:
            raise Skipped("the reference problem is infeasible")
        r = solve(problem, backend, warm_start=ref.architecture)
        _ensure(r.architecture is not None and
                problem.sign * (r.objective - ref.objective) >= -1e-9 * max(1.0, abs(ref.objective)),
                f"{backend}: warm started at the optimum {ref.objective}, returned "
                f"{r.status.value} {r.objective}")


def check_torch_black_box(backend: str, case=None) -> None:
    """A small torch network as the objective (skipped without torch)."""
    problem0 = random_problem(21, objective="table", n_constraints=_n_cons(backend, 2) or 1)
    space = problem0.space
    if ObjectiveKind.BLACK_BOX not in _cls(backend).accepts:  # refused whatever the box: no torch
        _require(backend, Problem(space, lambda x: x.sum(axis=1), problem0.constraints))
    if importlib.util.find_spec("torch") is None:
        raise Skipped("torch is not installed")
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(space.n_vars, 8), torch.nn.Tanh(),
                              torch.nn.Linear(8, 1)).double()
    for p in net.parameters():
        p.requires_grad_(False)
    problem = Problem(space, net, problem0.constraints, "max")
    _ensure(problem.objective_kind is ObjectiveKind.BLACK_BOX, "not a black box")
    _require(backend, problem)
    r = solve(problem, backend)
    ref = solve(problem, "brute")
    if ref.status is Status.INFEASIBLE:
        _ensure(r.architecture is None and r.status is not Status.OPTIMAL,
                f"{backend}: {r.status.value} on an infeasible black box")
        return
    _ensure(r.status is not Status.INFEASIBLE, f"{backend}: infeasible on a feasible black box")
    if r.architecture is None:
        _ensure(not _cls(backend).has(Capability.FINDS_FEASIBLE),
                f"{backend}: nothing found: {r.message}")
        return
    _ensure(_feasible(problem, r.architecture), f"{backend}: breaks a budget")
    _ensure(r.objective <= ref.objective + 1e-9, f"{backend}: beats the optimum")
    if _cls(backend).exact or r.status is Status.OPTIMAL:
        _ensure(_close(r.objective, ref.objective), f"{backend}: {r.objective} vs optimum "
                                                    f"{ref.objective}")


# ---------------------------------------------------------------------------- registry of checks
@dataclass(frozen=True)
class Check:
    """One check of the suite: ``func(backend, case)`` for every case."""

    name: str
    func: Callable[[str, Any], None]
    cases: tuple = (None,)
    marks: tuple[str, ...] = ()

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip().split("\n\n")[0]


CHECKS: dict[str, Check] = {c.name: c for c in (
    Check("declaration", check_declaration),
    Check("against_brute", check_against_brute, CASES),
    Check("budget_below_minimum", check_budget_below_minimum),
    Check("jointly_infeasible", check_jointly_infeasible, ("tiny", "mobilenet", "random")),
    Check("never_infeasible", check_never_infeasible, ("small", "mobilenet")),
    Check("time_limit", check_time_limit),
    Check("longer_time_limit", check_longer_time_limit),
    Check("determinism", check_determinism),
    Check("unknown_option", check_unknown_option),
    Check("result_contract", check_result_contract),
    Check("capabilities", check_capabilities, tuple(c.value for c in (
        Capability.PARETO_FRONT, Capability.BUDGET_SWEEP, Capability.WARM_START))),
    Check("torch_black_box", check_torch_black_box, marks=("torch",)),
)}


def run_check(check: str, backend: str, case=None) -> None:
    """Run one check on one case; raises :class:`ConformanceError` or :class:`Skipped`."""
    if check not in CHECKS:
        raise ValueError(f"unknown check {check!r}; checks: {list(CHECKS)}")
    CHECKS[check].func(backend, case)


def _case_id(case) -> str:
    if case is None:
        return ""
    if isinstance(case, tuple):
        return "-".join(str(c) for c in case)
    return str(case)


def pytest_params(backends: Sequence[str] | None = None, checks: Sequence[str] | None = None):
    """``pytest.param(backend, check, case)`` for every backend (default: every available
    one), check and case, with ids and marks (``torch``) for ``@pytest.mark.parametrize(
    "backend, check, case", ...)``."""
    import pytest

    backends = list_backends(True) if backends is None else list(backends)
    out = []
    for b in backends:
        for name in (checks or CHECKS):
            c = CHECKS[name]
            marks = [getattr(pytest.mark, m) for m in c.marks]
            for case in c.cases:
                cid = "-".join(x for x in (b, name, _case_id(case)) if x)
                out.append(pytest.param(b, name, case, id=cid, marks=marks))
    return out


def run_pytest_check(backend: str, check: str, case=None) -> None:
    """:func:`run_check` with :class:`Skipped` turned into ``pytest.skip``."""
    import pytest

    try:
        run_check(check, backend, case)
    except Skipped as exc:
        pytest.skip(str(exc))


@dataclass
class Report:
    """What :func:`check_backend` found: passed, skipped (why) and failed (why) checks."""

    backend: str
    passed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        lines = [f"backend {self.backend!r}: {len(self.passed)} passed, {len(self.skipped)} "
                 f"skipped, {len(self.failed)} failed"]
        lines += [f"  FAILED  {k}: {v}" for k, v in self.failed.items()]
        lines += [f"  skipped {k}: {v}" for k, v in self.skipped.items()]
        return "\n".join(lines)


def check_backend(backend: str | type[Solver], *, checks: Sequence[str] | None = None,
                  raise_on_failure: bool = True) -> Report:
    """Run the conformance suite on one backend.

    Parameters
    ----------
    backend : str or Solver subclass
        A registered name, or a class (registered under ``cls.name`` for the run and
        unregistered after, unless it was registered already).
    checks : sequence of str, optional
        Names from :data:`CHECKS` (default: all).
    raise_on_failure : bool
        Raise :class:`ConformanceError` with the report when a check fails.

    Returns
    -------
    Report
    """
    added = None
    if isinstance(backend, type):
        name = getattr(backend, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError("check_backend: the class needs a `name` class variable")
        if name not in list_backends(False):
            register_backend(name, backend)
            added = name
        elif get_backend(name) is not backend:
            raise ValueError(f"check_backend: another backend is registered as {name!r}")
        backend = name
    report = Report(backend)
    try:
        for cname in (checks or CHECKS):
            for case in CHECKS[cname].cases:
                key = "-".join(x for x in (cname, _case_id(case)) if x)
                try:
                    run_check(cname, backend, case)
                except Skipped as exc:
                    report.skipped[key] = str(exc)
                except AssertionError as exc:
                    report.failed[key] = str(exc)
                else:
                    report.passed.append(key)
    finally:
        if added is not None:
            unregister_backend(added)
    if raise_on_failure and report.failed:
        raise ConformanceError(str(report))
    return report
