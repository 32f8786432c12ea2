"""The dp backend: exact agreement with brute force and the MILP, ties, tight budgets, the
epsilon-dominance guarantee, fallbacks and refusals."""

from __future__ import annotations

import numpy as np
import pytest
from binas_opt.solvers._pareto_dp import build_front, minkowski, pareto_indices, thin_indices
from binas_opt.solvers.dp import DPFallback, DPOptions
from random_table_problems import brute_front, random_problem

import binas_opt as bo
from binas_opt.testing.synthetic import synthetic_problem, synthetic_tables

SEEDS = range(120)


@pytest.mark.parametrize("seed", SEEDS)
def test_front_equals_brute_and_every_budget_is_optimal(seed):
    problem = random_problem(seed, sense="min" if seed % 5 == 4 else "max")
    cost, value, bc, bv = brute_front(problem)
    con = problem.constraints[0]
    front = build_front(problem.space, con.table, problem.objective * problem.sign)
    # the front itself: exactly the brute-force front, strictly monotone, non-dominated
    np.testing.assert_allclose(front.cost, bc, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(front.value, bv, rtol=1e-12, atol=1e-12)
    assert np.all(np.diff(front.cost) > 0) and np.all(np.diff(front.value) > 0)
    # every point decodes to an architecture with exactly its cost and value
    d, o = front.decode(np.arange(len(front)))
    np.testing.assert_allclose(con.table.evaluate_arrays(d, o), front.cost, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(problem.sign * problem.objective.evaluate_arrays(d, o), front.value,
                               rtol=1e-12, atol=1e-12)
    # exactly tight budgets (every distinct cost) and budgets in between: optimal for each
    budgets = np.unique(np.concatenate([cost, (cost[:-1] + cost[1:]) / 2 if cost.size > 1 else []]))
    for b in budgets[:: max(1, budgets.size // 25)]:
        slack = con.table.sum_error_bound()  # float sums in two orders: within this of each other
        i = front.query(b, slack=slack)
        assert front.value[i] == pytest.approx(value[cost <= b + slack].max(), abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_dp_milp_pulp_brute_agree(seed):
    problem = random_problem(seed, sense="min" if seed % 5 == 4 else "max")
    cost, _, bc, _ = brute_front(problem)
    # the problem's own budget, and a budget exactly tight on a front point
    tight = float(bc[len(bc) // 2])
    for p in (problem, problem.with_budgets({"latency": tight})):
        ref = bo.solve(p, backend="brute")
        backends = ["dp", "milp"] + (["pulp"] if seed % 3 == 0 else [])
        for name in backends:
            r = bo.solve(p, backend=name)
            assert r.status is ref.status, (name, r.message)
            if ref.objective is not None:
                assert r.objective == pytest.approx(ref.objective, abs=1e-7), name
                assert p.is_feasible(r.architecture)


def test_ties_are_broken_deterministically():
    space = bo.SearchSpace([bo.Stage((1, 2), ["a", "b", "c"])] * 2)
    acc = bo.Table(space, op=np.ones(space.n_alpha), name="acc")
    lat = bo.Table(space, op=np.ones(space.n_alpha), name="latency")
    p = bo.Problem(space, acc, [lat <= 3.0])
    r1, r2 = bo.solve(p, backend="dp"), bo.solve(p, backend="dp")
    assert r1.architecture == r2.architecture
    assert r1.objective == 3.0 and r1.resources["latency"] == 3.0
    # among equal ops the lowest index wins
    assert all(o == 0 for row in r1.architecture.active_ops() for o in row)


def test_pareto_indices_keeps_lowest_index_on_exact_ties():
    c = np.array([1.0, 1.0, 2.0, 2.0, 3.0])
    v = np.array([5.0, 5.0, 4.0, 6.0, 6.0])
    assert pareto_indices(c, v).tolist() == [0, 3]


def test_chunked_minkowski_equals_full_product(monkeypatch):
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 10, (2, 700))
    b = rng.uniform(0, 10, (2, 900))
    ka, kb = pareto_indices(a[0], a[1]), pareto_indices(b[0], b[1])
    ac, av, bc, bv = a[0][ka], a[1][ka], b[0][kb], b[1][kb]
    full = minkowski(ac, av, bc, bv)
    import binas_opt.solvers._pareto_dp as m

    monkeypatch.setattr(m, "CHUNK", 50)
    chunked = m.minkowski(ac, av, bc, bv)
    for x, y in zip(full, chunked, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("kind", ["realistic", "correlated"])
@pytest.mark.parametrize("epsilon", [0.05, 0.5])
def test_epsilon_front_is_within_its_bound(kind, epsilon):
    space = bo.SearchSpace([bo.Stage((2, 3), [f"o{i}" for i in range(6)]) for _ in range(3)])
    data = synthetic_tables(space, kind, seed=1)
    exact = build_front(space, data.latency, data.accuracy)
    approx = build_front(space, data.latency, data.accuracy, epsilon=epsilon)
    assert approx.epsilon == pytest.approx(epsilon)
    assert len(approx) <= len(exact)
    budgets = np.linspace(exact.cost[0], exact.cost[-1], 400)
    ie = np.searchsorted(exact.cost, budgets, side="right") - 1
    ia = np.searchsorted(approx.cost, budgets, side="right") - 1
    gap = exact.value[ie] - approx.value[ia]
    assert gap.min() >= -1e-9 and gap.max() <= epsilon + 1e-9
    # and every approximate point is a real architecture with that cost and value
    d, o = approx.decode(np.arange(len(approx)))
    np.testing.assert_allclose(data.latency.evaluate_arrays(d, o), approx.cost, rtol=1e-12)


def test_max_points_bounds_the_front_and_reports_epsilon():
    space = bo.SearchSpace([bo.Stage((2, 3), [f"o{i}" for i in range(6)]) for _ in range(3)])
    data = synthetic_tables(space, "correlated", seed=2)
    exact = build_front(space, data.latency, data.accuracy)
    approx = build_front(space, data.latency, data.accuracy, max_points=50)
    assert len(approx) <= 51 < len(exact)
    b = np.linspace(exact.cost[0], exact.cost[-1], 300)
    gap = exact.value[np.searchsorted(exact.cost, b, "right") - 1] - \
        approx.value[np.searchsorted(approx.cost, b, "right") - 1]
    assert 0 < approx.epsilon and gap.max() <= approx.epsilon + 1e-9


def test_thin_indices_guarantee():
    v = np.sort(np.random.default_rng(0).uniform(0, 10, 500))
    k = thin_indices(v, 0.3)
    # every dropped point has a kept earlier (cheaper) point at most 0.3 worse
    pos = np.searchsorted(k, np.arange(v.size), side="right") - 1
    assert np.all(v - v[k[pos]] < 0.3)


def test_dp_epsilon_reports_bound_and_feasible_status():
    p = synthetic_problem(kind="realistic", seed=0)
    exact = bo.solve(p, backend="dp")
    approx = bo.solve(p, backend="dp", epsilon=0.2)
    assert exact.status is bo.Status.OPTIMAL
    assert approx.status is bo.Status.FEASIBLE
    assert approx.bound >= exact.objective - 1e-9
    assert approx.objective >= exact.objective - 0.2 - 1e-9


@pytest.mark.slow
def test_fallbacks_when_the_front_explodes():
    space = bo.SearchSpace([bo.Stage((2, 3), [f"o{i}" for i in range(6)]) for _ in range(3)])
    data = synthetic_tables(space, "correlated", seed=4)
    lat = data.latency
    p = bo.Problem(space, data.accuracy, [lat <= (lat.min_value() + lat.max_value()) / 2])
    ref = bo.solve(p, backend="milp")
    r = bo.solve(p, backend="dp", max_pairs=10)  # default fallback: the MILP, still exact
    assert r.status is bo.Status.OPTIMAL and r.stats["fallback"] == "milp"
    assert r.objective == pytest.approx(ref.objective, abs=1e-9)
    r = bo.solve(p, backend="dp", max_pairs=10, fallback="epsilon", fallback_points=20)
    assert r.status is bo.Status.FEASIBLE and r.stats["mode"] == "fallback"
    assert ref.objective <= r.bound + 1e-9
    r = bo.solve(p, backend="dp", max_pairs=10, fallback="error")
    assert r.status is bo.Status.ERROR and "max_pairs" in r.message


def test_infeasible_and_unconstrained():
    p = random_problem(7)
    lat = p.constraints[0].table
    r = bo.solve(p.with_budgets({"latency": lat.min_value() - 1}), backend="dp")
    assert r.status is bo.Status.INFEASIBLE
    free = bo.Problem(p.space, p.objective)
    r = bo.solve(free, backend="dp")
    assert r.objective == pytest.approx(p.objective.max_value())


def test_refusals_name_the_right_backends():
    p = synthetic_problem(space=bo.SearchSpace([bo.Stage((1, 2), ["a", "b"])]), seed=0)
    with pytest.raises(ValueError, match="milp"):
        bo.solve(bo.Problem(p.space, p.objective.to_quadratic(), p.constraints), backend="dp")
    two = synthetic_problem(space=p.space, seed=0, resources=("latency", "params"))
    with pytest.raises(ValueError, match="at most 1 budget.*milp"):
        bo.solve(two, backend="dp")
    with pytest.raises(ValueError, match="unknown option"):
        bo.solve(p, backend="dp", nonsense=1)
    with pytest.raises(ValueError, match="backend 'dp': option 'fallback' must be one of 'milp', "
                                         "'epsilon', 'error', got 'maybe'"):
        bo.solve(p, backend="dp", fallback="maybe")
    assert DPOptions(fallback="epsilon").fallback is DPFallback.EPSILON


def test_time_limit_is_honoured():
    p = synthetic_problem(kind="correlated", seed=0)
    r = bo.solve(p, backend="dp", time_limit=0.05, max_pairs=None)
    assert r.status is bo.Status.NO_SOLUTION and r.termination is bo.Termination.TIME_LIMIT
    assert r.wall_time < 5
