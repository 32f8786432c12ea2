"""The exact MILP backend against brute force, and its status semantics."""

import numpy as np
import pytest
from binas_opt.solvers.milp import Formulation, MilpOptions

import binas_opt as bo
from binas_opt.testing.synthetic import random_problem, synthetic_problem

CASES = [
    (seed, obj, n_cons, ties, mode)
    for seed, (obj, n_cons, ties, mode) in enumerate(
        (obj, n_cons, ties, mode)
        for obj in ("table", "quadratic")
        for n_cons in (1, 2, 3)
        for ties in (False, True)
        for mode in ("random", "random", "random", "tight", "infeasible", "loose")
        for _ in range(2)
    )
]


def test_enough_cases():
    assert len(CASES) >= 100


@pytest.mark.parametrize("seed, obj, n_cons, ties, mode", CASES)
def test_milp_matches_brute(seed, obj, n_cons, ties, mode):
    problem = random_problem(seed, objective=obj, n_constraints=n_cons, ties=ties, budget_mode=mode)
    exact = bo.solve(problem, "milp")
    oracle = bo.solve(problem, "brute")
    assert exact.status == oracle.status
    if mode == "infeasible":
        assert exact.status is bo.Status.INFEASIBLE
        assert exact.min_resources == pytest.approx(problem.min_resources())
        for name, v in exact.min_resources.items():
            assert v > problem.budgets[name]
        return
    if oracle.status is bo.Status.INFEASIBLE:  # random budgets can be jointly infeasible
        assert mode == "random" and n_cons > 1 and exact.architecture is None
        return
    assert exact.status is bo.Status.OPTIMAL  # tight budgets equal to the minimum are feasible
    assert exact.objective == pytest.approx(oracle.objective, abs=1e-9)
    assert problem.evaluate(exact.architecture) == pytest.approx(exact.objective, abs=1e-12)
    for c in problem.constraints:
        assert c.table(exact.architecture) <= c.budget + 1e-9 * max(1, abs(c.budget))
    assert exact.bound == pytest.approx(exact.objective, abs=1e-6)


def test_jointly_infeasible_budgets():
    space = bo.SearchSpace([bo.Stage((1,), ["a", "b"])])
    acc = bo.Table(space, op=[[[1.0, 2.0]]], name="acc")
    lat = bo.Table(space, op=[[[1.0, 3.0]]], name="latency")
    mem = bo.Table(space, op=[[[3.0, 1.0]]], name="memory")
    problem = bo.Problem(space, acc, [lat <= 2, mem <= 2])  # each alone is feasible
    r = bo.solve(problem, "milp")
    assert r.status is bo.Status.INFEASIBLE and r.architecture is None
    assert r.min_resources == {"latency": 1.0, "memory": 1.0}


def test_time_limit_is_never_optimal():
    problem = synthetic_problem(kind="correlated", resources=("latency", "params", "energy"))
    r = bo.solve(problem, "milp", time_limit=0.05)
    assert r.termination is bo.Termination.TIME_LIMIT and r.message
    assert r.status is (bo.Status.FEASIBLE if r.architecture is not None else bo.Status.NO_SOLUTION)
    assert r.wall_time < 5.0
    if r.architecture is not None:
        assert problem.is_feasible(r.architecture)
        assert r.bound is not None and r.bound >= r.objective - 1e-9
        assert r.gap is not None and r.gap >= 0


def test_gap_limit_is_not_reported_optimal():
    problem = synthetic_problem(kind="correlated", resources=("latency", "params", "energy"))
    r = bo.solve(problem, "milp", rel_gap=0.05)
    assert r.status in (bo.Status.FEASIBLE, bo.Status.OPTIMAL)
    if r.status is bo.Status.FEASIBLE:
        assert r.termination is bo.Termination.GAP_LIMIT


@pytest.mark.slow
def test_warm_start_and_naive_formulation_agree():
    problem = synthetic_problem(kind="realistic", seed=3)
    base = bo.solve(problem, "milp")
    warm = bo.solve(problem, "milp", warm_start=base)
    naive = bo.solve(problem.with_budgets({"latency": problem.budgets["latency"]}), "milp",
                     formulation="naive", time_limit=60)
    assert warm.objective == pytest.approx(base.objective, abs=1e-9)
    assert naive.objective == pytest.approx(base.objective, abs=1e-6)
    assert base.stats["n_cols"] == problem.space.n_alpha + problem.space.n_beta


def test_minimisation_with_accuracy_floor():
    problem = synthetic_problem(kind="realistic", seed=1)
    acc, lat = problem.objective, problem.constraints[0].table
    floor = (acc.min_value() + acc.max_value()) / 2
    p = bo.Problem(problem.space, lat, [acc >= floor], sense="min")
    r = bo.solve(p, "milp")
    assert r.status is bo.Status.OPTIMAL
    assert acc(r.architecture) >= floor - 1e-9
    assert r.objective <= lat.max_value()


def test_result_records_reproducibility_data():
    problem = random_problem(0)
    r = bo.solve(problem, "milp", seed=7, threads=1)
    assert r.backend == "milp" and r.seed == 7
    assert r.options["threads"] == 1 and r.options["rel_gap"] == 0.0
    assert "highspy" in r.versions and "numpy" in r.versions


def test_bad_options_are_named():
    problem = random_problem(0)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['gap'\].*rel_gap"):
        bo.solve(problem, "milp", gap=0.1)
    with pytest.raises(ValueError, match=r"option 'rel_gap' must be a number in \[0, 1\)"):
        bo.solve(problem, "milp", rel_gap=2.0)
    with pytest.raises(ValueError, match="time_limit"):
        bo.solve(problem, "milp", time_limit=-1)
    with pytest.raises(ValueError, match="warm_start"):
        bo.solve(problem, "milp", warm_start="fast")
    with pytest.raises(ValueError, match="backend 'milp': option 'formulation' must be one of "
                                         "'compact', 'naive', got 'dense'"):
        bo.solve(problem, "milp", formulation="dense")
    assert MilpOptions(formulation="naive").formulation is Formulation.NAIVE


def test_tolerance_slips_never_become_a_proof():
    """After budget rows were tightened, HiGHS's verdicts are about another model: an
    'infeasible' is no proof; an unconfirmed 'infeasible' is no proof either."""
    from binas_opt.solvers.milp import HighsOutcome, HighsRun, MilpOptions, _Loop, _map_outcome

    problem = random_problem(4, n_constraints=2)
    slip = np.array([1e-12, 0.0])

    def loop(outcome, slipped=False):
        return _Loop(HighsRun(outcome, outcome.value, None, 1.0, 0.0, 3, 0.01), None, None,
                     slipped, slip if slipped else None)

    def state(s=None):
        return {"time": 0.1, "nodes": 3, "solves": 2, "cuts": 1, "slip": s}

    def stats(**kw):
        return {"tolerances": {"objective_scale": 1.0}, **kw}

    opts = MilpOptions()
    out = _map_outcome(problem, opts, loop(HighsOutcome.INFEASIBLE), None, 2, state(slip),
                       stats(), [])
    assert not out.proven_infeasible and out.termination is not bo.Termination.INFEASIBLE
    assert "not a proof" in out.message and "exceeded" in out.message
    out = _map_outcome(problem, opts, loop(HighsOutcome.INFEASIBLE), None, 0, state(),
                       stats(), [])
    assert not out.proven_infeasible  # not confirmed on the relaxed rows
    out = _map_outcome(problem, opts, loop(HighsOutcome.INFEASIBLE), None, 0, state(),
                       stats(infeasible_confirmed=True), [])
    assert out.proven_infeasible and out.termination is bo.Termination.INFEASIBLE
    out = _map_outcome(problem, opts, loop(HighsOutcome.TIME_LIMIT, True), None, 0, state(slip),
                       stats(), [])
    assert out.termination is bo.Termination.TIME_LIMIT and out.architecture is None
