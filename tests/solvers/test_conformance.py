"""One conformance suite for every registered, available backend (present and future).

Every backend in ``binas_opt.list_backends()`` must:

* return only architectures that satisfy every budget;
* say ``optimal`` only when proven (checked against brute force), ``time_limit`` when the clock
  stopped it, ``infeasible`` (quickly) when the budgets cannot be met, also jointly;
* give the same result for the same seed, also in a separate process;
* reject unknown options with a ``ValueError`` listing the valid ones;
* respect the time limit within a small tolerance;
* match ``brute`` on small problems when exact, and never beat the exact optimum otherwise.

Backends accept different problems (``Solver.accepts``, ``Solver.max_constraints``; ``brute``
documents a size limit): each test builds problems the backend accepts and skips, with the reason,
only what a backend documents that it does not accept.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time

import numpy as np
import pytest

import binas_opt as bo
from binas_opt.model.problem import ObjectiveKind
from binas_opt.solving.registry import get_backend
from binas_opt.testing.synthetic import random_problem, synthetic_problem, synthetic_tables

BACKENDS = bo.list_backends()
RESOURCES = ("latency", "params", "energy")
TIME_TOLERANCE = 0.5  # seconds over the limit a backend may take to stop and clean up


def _refusal(name: str, problem: bo.Problem) -> str | None:
    """The reason a backend documents for not accepting ``problem`` (None if it accepts it)."""
    cls = get_backend(name)
    kind = problem.objective_kind
    if kind not in cls.accepts:
        return f"{name} documents that it does not accept {kind.value} objectives"
    n = len(problem.constraints)
    if cls.max_constraints is not None and n > cls.max_constraints:
        return f"{name} documents at most {cls.max_constraints} budget(s), the problem has {n}"
    limit = getattr(cls.Options(), "limit", None)  # brute: documented enumeration limit
    if isinstance(limit, int) and problem.space.num_architectures > limit:
        return f"{name} documents that it refuses spaces above {limit} architectures"
    return None


def _require(name: str, problem: bo.Problem) -> None:
    """Skip a case the backend documents it does not handle, after checking that it refuses
    it with a clear ValueError (a documented refusal must never be a silent wrong answer)."""
    reason = _refusal(name, problem)
    if reason is not None:
        with pytest.raises(ValueError, match=r"brute|does not accept|at most|limit"):
            bo.solve(problem, name)
        pytest.skip(reason + " (refusal checked)")


def _n_cons(name: str, wanted: int) -> int:
    cap = get_backend(name).max_constraints
    return wanted if cap is None else max(0, min(wanted, cap))


def _feasible_within(problem: bo.Problem, arch) -> bool:
    return all(c.table(arch) <= c.budget + 1e-9 * max(1.0, abs(c.budget))
               for c in problem.constraints)


# ------------------------------------------------------------------ small random problems
CASES = [
    (seed, obj, n_cons, mode)
    for seed, (obj, n_cons, mode) in enumerate(
        (obj, n_cons, mode)
        for obj in ("table", "quadratic")
        for n_cons in (1, 2, 3)
        for mode in ("random", "tight", "loose", "random")
    )
]


@pytest.fixture(scope="module")
def oracle():
    """Brute-force results of the small problems, computed once."""
    cache = {}

    def get(problem_key, problem):
        if problem_key not in cache:
            cache[problem_key] = bo.solve(problem, "brute")
        return cache[problem_key]

    return get


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed, obj, n_cons, mode", CASES)
def test_against_brute_and_budgets(backend, seed, obj, n_cons, mode, oracle):
    problem = random_problem(100 + seed, objective=obj, n_constraints=n_cons, budget_mode=mode)
    _require(backend, problem)
    r = bo.solve(problem, backend, seed=0)
    ref = oracle((seed, obj, n_cons, mode), problem)
    assert r.status is not bo.Status.ERROR, r.message
    if r.architecture is not None:  # budgets are hard
        assert _feasible_within(problem, r.architecture)
        assert r.objective == pytest.approx(problem.evaluate(r.architecture), abs=1e-12)
    if ref.status is bo.Status.INFEASIBLE:
        assert r.status is bo.Status.INFEASIBLE and r.architecture is None
        return
    s = problem.sign
    assert r.architecture is not None, f"{backend}: {r.status} {r.message}"
    # never better than the exact optimum
    assert s * (r.objective - ref.objective) <= 1e-9 * max(1.0, abs(ref.objective))
    if r.bound is not None:  # a bound is a bound
        assert s * (r.bound - ref.objective) >= -1e-7 * max(1.0, abs(ref.objective))
    if r.status is bo.Status.OPTIMAL:  # optimal only when it is
        assert r.objective == pytest.approx(ref.objective, abs=1e-9)
    if get_backend(backend).exact:
        assert r.status is bo.Status.OPTIMAL
        assert r.objective == pytest.approx(ref.objective, abs=1e-9)


# ------------------------------------------------------------------ infeasible budgets
def _tiny_jointly_infeasible() -> bo.Problem:
    space = bo.SearchSpace([bo.Stage((1,), ["a", "b"])])
    acc = bo.Table(space, op=[[[1.0, 2.0]]], name="acc")
    lat = bo.Table(space, op=[[[1.0, 3.0]]], name="latency")
    mem = bo.Table(space, op=[[[3.0, 1.0]]], name="memory")
    return bo.Problem(space, acc, [lat <= 2, mem <= 2])


def _mobilenet_jointly_infeasible() -> bo.Problem:
    """Latency and its complement: each budget alone is feasible, both together are not."""
    space = bo.SearchSpace.mobilenet_v3()
    lat = synthetic_tables(space, "realistic", 0).latency
    # "memory" grows when latency shrinks: per block max - value, same depths
    idx = space.index
    op = lat.op_values
    block_max = np.maximum.reduceat(op, np.unique(idx.alpha_offset[idx.alpha_offset >= 0]))
    sizes = [n for st in space.stages for n in st.num_ops]
    comp = np.repeat(block_max, sizes) - op + 0.1
    mem = bo.Table(space, 1.0, np.zeros(space.n_beta), comp, name="memory")
    lo_l, hi_l = lat.min_value(), lat.max_value()
    lo_m, hi_m = mem.min_value(), mem.max_value()
    return bo.Problem(space, synthetic_tables(space, "realistic", 0).accuracy,
                      [lat <= lo_l + 0.02 * (hi_l - lo_l), mem <= lo_m + 0.02 * (hi_m - lo_m)])


def _random_jointly_infeasible(count: int = 2) -> list[bo.Problem]:
    out = []
    for seed in range(400):
        p = random_problem(seed, n_constraints=2, budget_mode="random")
        mins = p.min_resources()
        if all(mins[c.name] <= c.budget for c in p.constraints) and \
                bo.solve(p, "brute").status is bo.Status.INFEASIBLE:
            out.append(p)
            if len(out) == count:
                break
    return out


INFEASIBLE = {"tiny": _tiny_jointly_infeasible, "mobilenet": _mobilenet_jointly_infeasible}


@pytest.mark.parametrize("backend", BACKENDS)
def test_budget_below_minimum_is_infeasible(backend):
    problem = random_problem(7, n_constraints=_n_cons(backend, 2) or 1, budget_mode="infeasible")
    _require(backend, problem)
    r = bo.solve(problem, backend)
    assert r.status is bo.Status.INFEASIBLE and r.architecture is None
    assert r.min_resources is not None


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("which", ["tiny", "mobilenet", "random"])
def test_jointly_infeasible_without_hanging(backend, which):
    problems = _random_jointly_infeasible() if which == "random" else [INFEASIBLE[which]()]
    assert problems, "no jointly infeasible random problem found"
    for problem in problems:
        if which == "mobilenet":  # the budgets really are jointly infeasible (proof by milp)
            assert bo.solve(problem, "milp").status is bo.Status.INFEASIBLE
        _require(backend, problem)
        t0 = time.perf_counter()
        r = bo.solve(problem, backend, time_limit=30)
        assert time.perf_counter() - t0 < 30 + TIME_TOLERANCE
        assert r.architecture is None
        assert r.status is bo.Status.INFEASIBLE, f"{backend}: {r.status} {r.message}"


# ------------------------------------------------------------------ time limits
def _hard_problem(backend: str) -> bo.Problem:
    n = _n_cons(backend, 3) or 1
    return synthetic_problem(kind="correlated", resources=RESOURCES[:n])


@pytest.mark.parametrize("backend", BACKENDS)
def test_time_limit_status_and_respect(backend):
    problem = _hard_problem(backend)
    _require(backend, problem)
    bo.solve(problem, backend, time_limit=0.05)  # warm-up: first-use imports are not the clock
    limit = 0.05
    r = bo.solve(problem, backend, time_limit=limit)
    assert r.wall_time <= limit + TIME_TOLERANCE, f"{backend} took {r.wall_time:.3f}s"
    assert r.status in (bo.Status.TIME_LIMIT, bo.Status.FEASIBLE, bo.Status.OPTIMAL)
    if r.status is not bo.Status.TIME_LIMIT:
        # only a run that finished before the clock may say anything but time_limit
        assert r.termination is not bo.Termination.TIME_LIMIT
        assert r.wall_time <= limit + 0.02, f"{backend} ran past the limit but says {r.status}"
    if r.architecture is not None:
        assert _feasible_within(problem, r.architecture)
    if r.status is bo.Status.OPTIMAL:
        exact = bo.solve(problem, "milp")
        assert r.objective == pytest.approx(exact.objective, abs=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_longer_time_limit_respected(backend):
    problem = _hard_problem(backend)
    _require(backend, problem)
    limit = 0.5
    t0 = time.perf_counter()
    r = bo.solve(problem, backend, time_limit=limit)
    elapsed = time.perf_counter() - t0
    assert elapsed <= limit + TIME_TOLERANCE
    if elapsed > limit + 0.02:
        assert r.status is bo.Status.TIME_LIMIT or r.status is bo.Status.OPTIMAL
    if r.architecture is not None:
        assert _feasible_within(problem, r.architecture)


# ------------------------------------------------------------------ determinism
def _det_problem(backend: str) -> bo.Problem:
    return synthetic_problem(kind="realistic", seed=1,
                             resources=RESOURCES[: _n_cons(backend, 2) or 1])


def _small_det_problem(backend: str) -> bo.Problem:
    return random_problem(11, objective="table", n_constraints=_n_cons(backend, 2) or 1)


def _det_key(r: bo.Result):
    return (r.status.value, None if r.architecture is None else r.architecture.to_dict(),
            r.objective)


_SCRIPT = """
import json, sys
import binas_opt as bo
from binas_opt.testing.synthetic import random_problem, synthetic_problem, synthetic_tables
backend, which, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if which == "big":
    p = synthetic_problem(kind="realistic", seed=1,
                          resources=("latency", "params", "energy")[:n])
else:
    p = random_problem(11, objective="table", n_constraints=n)
r = bo.solve(p, backend, seed=seed)
a = None if r.architecture is None else r.architecture.to_dict()
print(json.dumps([r.status.value, a, r.objective]))
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_same_result(backend):
    big = _det_problem(backend)
    problem = big if _refusal(backend, big) is None else _small_det_problem(backend)
    which = "big" if problem is big else "small"
    _require(backend, problem)
    r1 = bo.solve(problem, backend, seed=5)
    r2 = bo.solve(problem, backend, seed=5)
    assert _det_key(r1) == _det_key(r2)
    n = len(problem.constraints)
    out = subprocess.run([sys.executable, "-c", _SCRIPT, backend, which, str(n), "5"],
                         capture_output=True, text=True, timeout=300, check=True)
    status, arch, obj = json.loads(out.stdout.strip().splitlines()[-1])
    key = _det_key(r1)
    assert status == key[0]
    assert json.loads(json.dumps(key[1])) == arch
    assert obj == key[2]


# ------------------------------------------------------------------ options
@pytest.mark.parametrize("backend", BACKENDS)
def test_unknown_option_raises(backend):
    problem = random_problem(3, n_constraints=1)
    _require(backend, problem)
    with pytest.raises(ValueError) as info:
        bo.solve(problem, backend, no_such_option=1)
    msg = str(info.value)
    assert "no_such_option" in msg
    for f in dataclasses.fields(get_backend(backend).Options):
        assert f.name in msg


# ------------------------------------------------------------------ black boxes (torch)
@pytest.mark.torch
@pytest.mark.parametrize("backend", BACKENDS)
def test_torch_black_box(backend):
    torch = pytest.importorskip("torch")
    problem0 = random_problem(21, objective="table", n_constraints=_n_cons(backend, 2) or 1)
    space = problem0.space
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(space.n_vars, 8), torch.nn.Tanh(),
                              torch.nn.Linear(8, 1)).double()
    for p in net.parameters():
        p.requires_grad_(False)
    problem = bo.Problem(space, net, problem0.constraints, "max")
    assert problem.objective_kind is ObjectiveKind.BLACK_BOX
    _require(backend, problem)
    r = bo.solve(problem, backend)
    ref = bo.solve(problem, "brute")
    assert r.status is ref.status or ref.status is bo.Status.OPTIMAL
    if ref.status is bo.Status.INFEASIBLE:
        assert r.architecture is None
        return
    assert r.architecture is not None and _feasible_within(problem, r.architecture)
    assert r.objective <= ref.objective + 1e-9
    if get_backend(backend).exact or r.status is bo.Status.OPTIMAL:
        assert r.objective == pytest.approx(ref.objective, abs=1e-9)
