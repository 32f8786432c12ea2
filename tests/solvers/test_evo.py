"""The evolutionary baseline: the authors' settings, bounded sampling, determinism."""

import numpy as np
import pytest
from binas_opt.solvers.evo import EvoOptions

import binas_opt as bo
from binas_opt.testing.synthetic import random_problem, synthetic_problem


def test_defaults_are_the_papers():
    o = EvoOptions()
    assert (o.population, o.generations, o.parent_ratio, o.mutation_ratio, o.mutate_prob) == (
        100, 500, 0.25, 0.5, 0.1)
    for bad in ({"population": 1}, {"parent_ratio": 0}, {"mutate_prob": 2}, {"max_attempts": 0},
                {"generations": -1}, {"patience": 0}):
        with pytest.raises(ValueError):
            bo.solve(random_problem(1), "evo", **bad)


@pytest.mark.slow
def test_feasible_and_close_on_the_paper_space():
    p = synthetic_problem(kind="realistic")
    r = bo.solve(p, "evo", seed=1)
    exact = bo.solve(p, "milp")
    assert p.is_feasible(r.architecture)
    assert r.status is bo.Status.FEASIBLE and r.stats["generations"] == 500
    assert 0 <= exact.objective - r.objective < 1.0


def test_seeded_and_deterministic():
    p = synthetic_problem(kind="uncorrelated", seed=2)
    a = bo.solve(p, "evo", seed=3, generations=50)
    b = bo.solve(p, "evo", seed=3, generations=50)
    c = bo.solve(p, "evo", seed=4, generations=50)
    assert a.architecture == b.architecture and a.objective == b.objective
    assert c.architecture is not None


@pytest.mark.slow
def test_tight_budget_terminates_and_repairs():
    p = synthetic_problem(kind="realistic", latency_fraction=0.001)
    r = bo.solve(p, "evo", generations=20)
    assert r.status is bo.Status.FEASIBLE and p.is_feasible(r.architecture)
    assert r.stats.get("repaired") is True
    r2 = bo.solve(p, "evo", generations=20, repair=False, max_attempts=3)
    # nothing sampled is not a proof: no_solution, never infeasible (milp finds the optimum)
    assert r2.status is bo.Status.NO_SOLUTION and r2.architecture is None
    assert r2.termination is bo.Termination.ITERATION_LIMIT and "not a proof" in r2.message
    assert bo.solve(p, "milp").status is bo.Status.OPTIMAL


def test_never_beats_brute():
    for seed in range(8):
        p = random_problem(seed, objective="quadratic", n_constraints=2)
        ref = bo.solve(p, "brute")
        r = bo.solve(p, "evo", generations=30)
        if ref.status is bo.Status.INFEASIBLE:
            assert r.architecture is None
            continue
        assert p.is_feasible(r.architecture)
        assert p.sign * (r.objective - ref.objective) <= 1e-9


def test_numpy_black_box_and_patience():
    p0 = random_problem(4, n_constraints=1)
    w = np.random.default_rng(0).normal(size=p0.space.n_vars)
    p = bo.Problem(p0.space, lambda x: x @ w, p0.constraints)
    r = bo.solve(p, "evo", patience=5)
    assert r.architecture is not None and p.is_feasible(r.architecture)
    assert r.stats["generations"] < 500


def test_time_limit():
    p = synthetic_problem(kind="correlated", resources=("latency", "params", "energy"))
    r = bo.solve(p, "evo", time_limit=0.05)
    assert r.termination is bo.Termination.TIME_LIMIT and r.wall_time < 1.0
    assert r.status in (bo.Status.FEASIBLE, bo.Status.NO_SOLUTION) and r.message
    assert r.architecture is None or p.is_feasible(r.architecture)
