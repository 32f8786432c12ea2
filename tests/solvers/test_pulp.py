"""The pulp backend: agreement with milp, solver choice, honest time-limit status."""

from __future__ import annotations

import pytest
from binas_opt.solvers.pulp import available_solvers, resolve_solver
from random_table_problems import random_problem

import binas_opt as bo
from binas_opt.testing.synthetic import synthetic_problem

SOLVERS = [s for s in ("HiGHS", "CBC") if any(
    a.lower() in {"highs": ("highs", "highs_cmd"), "cbc": ("pulp_cbc_cmd", "coin_cmd")}[s.lower()]
    for a in available_solvers())]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", range(0, 40, 4))
def test_agrees_with_milp(solver, seed):
    p = random_problem(seed)
    ref = bo.solve(p, backend="milp")
    r = bo.solve(p, backend="pulp", solver=solver)
    assert r.status is ref.status
    if ref.objective is not None:
        assert r.objective == pytest.approx(ref.objective, abs=1e-7)
        assert p.is_feasible(r.architecture)


@pytest.mark.parametrize("solver", SOLVERS)
def test_paper_space_two_budgets_and_bound(solver):
    p = synthetic_problem(kind="realistic", seed=3, resources=("latency", "params"))
    ref = bo.solve(p, backend="milp")
    r = bo.solve(p, backend="pulp", solver=solver)
    assert r.status is bo.Status.OPTIMAL
    assert r.objective == pytest.approx(ref.objective, abs=1e-6)
    assert r.bound == pytest.approx(r.objective, abs=1e-6)
    assert r.stats["solver"] == resolve_solver(solver)


def test_quadratic_objective():
    p = synthetic_problem(space=bo.SearchSpace([bo.Stage((1, 2), ["a", "b", "c"])] * 2), seed=1)
    q = bo.Problem(p.space, p.objective.to_quadratic(), p.constraints)
    assert bo.solve(q, backend="pulp").objective == pytest.approx(
        bo.solve(p, backend="brute").objective, abs=1e-7)


@pytest.mark.parametrize("solver", SOLVERS)
def test_time_limit_is_never_optimal(solver):
    # correlated tables with three budgets: HiGHS needs seconds, far more than the limit
    p = synthetic_problem(kind="correlated", resources=("latency", "params", "energy"))
    r = bo.solve(p, backend="pulp", solver=solver, time_limit=0.2)
    assert r.status is not bo.Status.OPTIMAL
    assert r.status in (bo.Status.FEASIBLE, bo.Status.NO_SOLUTION)  # never infeasible
    assert r.termination is bo.Termination.TIME_LIMIT
    if r.architecture is not None:
        assert p.is_feasible(r.architecture)
    if solver == "HiGHS" and r.bound is not None and r.objective is not None:
        assert r.bound >= r.objective - 1e-9 and r.gap >= 0


def test_unknown_solver_lists_available():
    p = random_problem(1)
    with pytest.raises(ValueError, match="available solvers"):
        bo.solve(p, backend="pulp", solver="NoSuchSolver")
    with pytest.raises(ValueError, match="unknown option"):
        bo.solve(p, backend="pulp", bogus=True)


def test_deterministic_and_warm_start():
    p = synthetic_problem(kind="realistic", seed=5)
    r1 = bo.solve(p, backend="pulp", seed=3)
    r2 = bo.solve(p, backend="pulp", seed=3, warm_start=r1)
    assert r1.architecture == r2.architecture
