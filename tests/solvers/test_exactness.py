"""Property tests of exact budget semantics (issue 12): at every magnitude from 1e-9 to 1e9,
with budgets at a resource's exact minimum, at an architecture's exact cost and one ulp either
side of it, every backend returns nothing over a budget (checked with rationals, independently
of the package's own checks), the exact backends agree with brute force, and ``infeasible``
comes only when brute force finds nothing.

Bounded and reproducible: a fixed number of derandomised examples.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import binas_opt as bo
from binas_opt.testing.oracle import reference_exact_costs

PLACEMENTS = ("minimum", "at_cost", "ulp_below", "ulp_above")
EXACT = ("milp", "pulp", "dp")

FAST = settings(max_examples=60, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=20, derandomize=True, deadline=None,
               suppress_health_check=[HealthCheck.too_slow])




@st.composite
def cases(draw, max_budgets: int = 2):
    """``(problem, truth)``: truth is the best feasible objective, or None if infeasible."""
    n_stages = draw(st.integers(1, 3))
    stages = []
    for s in range(n_stages):
        max_depth = draw(st.integers(1, 3))
        depths = sorted({max_depth, *draw(st.lists(st.integers(1, max_depth), max_size=2))})
        ops = [[f"o{j}" for j in range(draw(st.integers(1, 4)))] for _ in range(max_depth)]
        stages.append(bo.Stage(depths, ops, name=f"s{s}"))
    space = bo.SearchSpace(stages)
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    scale = 10.0 ** draw(st.integers(-9, 9))
    obj_scale = 10.0 ** draw(st.integers(-9, 9))
    ties = draw(st.booleans())

    def values(shape, k):
        if ties:
            return k * rng.integers(1, 4, size=shape).astype(float)
        return k * rng.uniform(0.5, 2.0, size=shape)

    def table(name, k):
        depth = [values(len(s_.depths), k) * rng.integers(0, 2) for s_ in space.stages]
        op = [[values(n, k) for n in s_.num_ops] for s_ in space.stages]
        return bo.Table(space, const=float(values((), k)), depth=depth, op=op, name=name)

    objective = table("objective", obj_scale)
    tables = [table(f"r{k}", scale * 10.0 ** rng.uniform(-1, 1))
              for k in range(draw(st.integers(1, max_budgets)))]
    placement = draw(st.sampled_from(PLACEMENTS))
    depths, ops = space.enumerate()
    costs = [reference_exact_costs(t, depths, ops) for t in tables]
    pick = int(rng.integers(len(depths)))
    budgets = []
    for c in costs:
        exact = min(c) if placement == "minimum" else c[pick]
        b = float(exact)
        if Fraction(b) < exact:
            b = math.nextafter(b, math.inf)
        if placement == "ulp_below":
            b = math.nextafter(b, -math.inf)
        elif placement == "ulp_above":
            b = math.nextafter(b, math.inf)
        budgets.append(b)
    problem = bo.Problem(space, objective, [t <= b for t, b in zip(tables, budgets, strict=True)])
    feasible = np.ones(len(depths), dtype=bool)
    for c, b in zip(costs, budgets, strict=True):
        feasible &= np.array([x <= Fraction(b) for x in c])
    values_ = objective.evaluate_arrays(depths, ops)
    truth = float(values_[feasible].max()) if feasible.any() else None
    return problem, truth


def _check(problem: bo.Problem, truth, backend: str, **kw) -> bo.Result:
    r = bo.solve(problem, backend=backend, seed=0, **kw)
    assert r.status.value != "error", (backend, r.message)
    if r.architecture is not None:
        depths, ops = problem.space.encoding.to_arrays([r.architecture])
        for c in problem.constraints:  # zero excess, checked exactly and independently
            assert reference_exact_costs(c.table, depths, ops)[0] <= Fraction(c.budget), (backend, c)
        assert r.resources[c.name] <= c.budget
    if r.status.value == "infeasible":
        assert truth is None, (backend, r.message)
    tol = 1e-9 * abs(truth) if truth is not None else 0.0
    if r.status.value == "optimal":
        assert truth is not None and r.objective >= truth - tol, (backend, r.objective, truth)
    if r.bound is not None and truth is not None:
        assert r.bound >= truth - tol, (backend, r.bound, truth)
    return r


@pytest.mark.slow
@FAST
@given(cases())
def test_exact_backends_agree_with_brute_force(case):
    problem, truth = case
    ref = _check(problem, truth, "brute")
    assert ref.status.value == ("infeasible" if truth is None else "optimal")
    for backend in EXACT:
        if backend == "dp" and len(problem.constraints) > 1:
            continue
        r = _check(problem, truth, backend)
        assert r.status == ref.status, (backend, r.status, r.message)
        if truth is not None:
            assert r.objective == pytest.approx(truth, rel=1e-9, abs=0), backend


@FEW
@given(cases())
def test_heuristics_never_exceed_a_budget(case):
    problem, truth = case
    for backend in ("fw", "relax"):
        _check(problem, truth, backend)


@pytest.mark.slow
@settings(max_examples=6, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_evo_never_exceeds_a_budget(case):
    problem, truth = case
    _check(problem, truth, "evo", generations=20, population=30)


@FAST
@given(cases(max_budgets=1))
def test_budget_at_the_minimum_is_always_solved(case):
    problem, _ = case
    mins = problem.min_resources()
    at_min = problem.with_budgets(mins)
    for backend in ("milp", "pulp", "dp"):
        r = bo.solve(at_min, backend=backend)
        assert r.status.value == "optimal", (backend, r.message)
        assert at_min.is_feasible(r.architecture)


def test_result_records_tolerances():
    space = bo.SearchSpace([bo.Stage((1, 2), ["a", "b"])])
    t = bo.Table(space, op=[[[1e-9, 2e-9], [1e-9, 1e-9]]], name="energy")
    acc = bo.Table(space, op=[[[1.0, 2.0], [0.5, 0.7]]], name="acc")
    r = bo.solve(bo.Problem(space, acc, [t <= 1e-9]), backend="milp")
    assert r.status.value == "optimal"
    assert r.resources["energy"] <= 1e-9
    tol = r.stats["tolerances"]
    assert tol["mip_feasibility_tolerance"] > 0 and tol["row_scales"][0] > 0
