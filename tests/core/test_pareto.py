"""pareto_front / ParetoFront / solve_budgets: whole front, budgets, MILP sweep, several
constraints, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

import binas_opt as bo
from binas_opt.testing.synthetic import synthetic_problem, synthetic_tables


def small_problem(seed=0, resources=("latency",), kind="realistic"):
    space = bo.SearchSpace([bo.Stage((1, 2, 3), [f"o{i}" for i in range(4)]) for _ in range(3)])
    return synthetic_problem(space=space, kind=kind, seed=seed, resources=resources)


def brute_best(problem, budgets, resource="latency"):
    """Best objective per budget of ``resource`` by enumeration (other budgets fixed), budgets
    checked exactly: floats decide, exact rationals settle the rows within float noise."""
    d, o = problem.space.enumerate()
    table = problem.constraint(resource).table
    others = bo.Problem(problem.space, problem.objective,
                        [c for c in problem.constraints if c.name != resource])
    keep = others.feasible_mask(d, o)
    d, o = d[keep], o[keep]
    cost = table.evaluate_arrays(d, o)
    val = problem.objective.evaluate_arrays(d, o)
    out = []
    for b in budgets:
        tol = 1e-9 * max(1.0, abs(b))
        ok = cost <= b - tol
        near = np.flatnonzero(np.abs(cost - b) <= tol)
        ok[near] = table.within(d[near], o[near], b)
        out.append(val[ok].max() if ok.any() else None)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_whole_front_matches_brute_force(seed):
    p = small_problem(seed)
    f = bo.pareto_front(p)
    assert isinstance(f, bo.ParetoFront) and f.exact and len(f) > 1
    assert np.all(np.diff(f.resources) > 0) and np.all(np.diff(f.objective) > 0)
    lat = p.constraint("latency").table
    # the whole front, not only up to the problem's own budget
    assert f.resources[-1] == pytest.approx(lat(lat.extreme("max")[1]), rel=1e-9) or \
        f.objective[-1] == pytest.approx(p.objective.max_value(), abs=1e-9)
    budgets = np.concatenate([f.resources, (f.resources[1:] + f.resources[:-1]) / 2,
                              [lat.max_value()]])
    want = brute_best(p, budgets)
    got = f.value_at(budgets)
    np.testing.assert_allclose(got, np.array(want, dtype=float), atol=1e-9)
    # every point is a real architecture with that resource value and objective
    for i in (0, len(f) // 2, len(f) - 1):
        a = f.architecture(i)
        assert p.constraint("latency").table(a) == pytest.approx(f.resources[i], abs=1e-9)
        assert p.objective(a) == pytest.approx(f.objective[i], abs=1e-9)


def test_budgets_give_real_results_in_order_including_infeasible():
    p = small_problem(1)
    lat = p.constraint("latency").table
    lo, hi = lat.min_value(), lat.max_value()
    budgets = [hi, lo, lo - 1.0, 0.5 * (lo + hi)]
    rs = bo.solve_budgets(p, "latency", budgets)
    assert all(isinstance(r, bo.Result) for r in rs)
    want = brute_best(p, budgets)
    for r, w, b in zip(rs, want, budgets, strict=True):
        assert r.budgets["latency"] == b
        if w is None:
            assert r.status is bo.Status.INFEASIBLE and r.min_resources is not None
        else:
            assert r.status is bo.Status.OPTIMAL and r.objective == pytest.approx(w, abs=1e-9)
            assert r.resources["latency"] <= b + 1e-9
            solved = bo.solve(p.with_budgets({"latency": b}), backend="milp")
            assert solved.objective == pytest.approx(r.objective, abs=1e-7)


@pytest.mark.slow
def test_milp_sweep_matches_dp():
    p = small_problem(2)
    dp = bo.pareto_front(p)
    milp = bo.pareto_front(p, method="milp")
    assert milp.method == "milp" and milp.complete
    np.testing.assert_allclose(milp.resources, dp.resources, rtol=1e-9)
    np.testing.assert_allclose(milp.objective, dp.objective, atol=1e-7)
    b = np.linspace(dp.resources[0], dp.resources[-1], 7)
    rd = bo.solve_budgets(p, "latency", b)
    rm = bo.solve_budgets(p, "latency", b, method="milp")
    assert all(r.backend == "dp" for r in rd) and all(r.backend == "milp" for r in rm)
    assert [r.objective for r in rd] == pytest.approx([r.objective for r in rm], abs=1e-7)


@pytest.mark.slow
def test_several_constraints_sweep_one_keep_the_others():
    p = small_problem(3, resources=("latency", "params"))
    f = bo.pareto_front(p, resource="latency")
    assert f.method == "milp"
    b = np.linspace(f.resources[0], f.resources[-1], 5)
    want = brute_best(p, b)
    np.testing.assert_allclose(f.value_at(b), np.array(want, dtype=float), atol=1e-7)
    rs = bo.solve_budgets(p, "latency", b)
    for r, w in zip(rs, want, strict=True):
        assert r.objective == pytest.approx(w, abs=1e-7)
        assert r.resources["params"] <= p.budgets["params"] * (1 + 1e-9)
    with pytest.raises(ValueError, match="method='milp'"):
        bo.pareto_front(p, method="dp")


def test_quadratic_objective_uses_milp():
    p = small_problem(4)
    q = bo.Problem(p.space, p.objective.to_quadratic(), p.constraints)
    b = [p.budgets["latency"]]
    assert bo.solve_budgets(q, "latency", b)[0].objective == pytest.approx(
        bo.solve_budgets(p, "latency", b)[0].objective, abs=1e-7)


def test_query_json_roundtrip(tmp_path):
    p = small_problem(5)
    f = bo.pareto_front(p)
    assert f.query((f.resources[3] + f.resources[4]) / 2) == 3
    # at a point's own (float) resource, the exact budget check decides
    at = p.with_budgets({"latency": float(f.resources[3])})
    assert f.query(f.resources[3]) == (3 if at.is_feasible(f.architecture(3)) else 2)
    assert f.query(f.resources[0] - 1) == -1
    assert f.best(f.resources[0] - 1) is None
    path = tmp_path / "front.json"
    f.save(path)
    g = bo.ParetoFront.load(path)
    assert len(g) == len(f) and g.architecture(3) == f.architecture(3)
    np.testing.assert_array_equal(g.resources, f.resources)
    json.loads(path.read_text())  # plain JSON
    assert "points" in f.table(5)


def test_correlated_falls_back_within_budget_and_reports():
    space = bo.SearchSpace([bo.Stage((2, 3), [f"o{i}" for i in range(6)]) for _ in range(3)])
    data = synthetic_tables(space, "correlated", seed=4)
    p = bo.Problem(space, data.accuracy, [data.latency <= 1e9])
    f = bo.pareto_front(p, max_pairs=10, fallback_points=30)
    assert f.method == "dp-epsilon" and f.epsilon > 0 and f.stats["mode"] == "fallback"
    exact = bo.pareto_front(p)
    b = np.linspace(exact.resources[0], exact.resources[-1], 100)
    gap = exact.value_at(b) - f.value_at(b)
    assert gap.min() >= -1e-9 and gap.max() <= f.epsilon + 1e-9
    rs = bo.solve_budgets(p, "latency", b[:3], max_pairs=10)  # budgets: exact MILP instead
    assert all(r.status is bo.Status.OPTIMAL and r.backend == "milp" for r in rs)


def test_bad_arguments():
    p = small_problem(0)
    with pytest.raises(ValueError, match="constraints"):
        bo.pareto_front(p, resource="energy")
    with pytest.raises(ValueError, match="method"):
        bo.pareto_front(p, method="magic")
    assert bo.solve_budgets(p, "latency", []) == []
    with pytest.raises(TypeError, match="solve_budgets"):  # one return type per function
        bo.pareto_front(p, "latency", [1.0])
    with pytest.raises(ValueError, match="finite"):
        bo.solve_budgets(p, "latency", [float("nan")])


def test_cli_pareto(tmp_path, capsys):
    from binas_opt.cli import main

    p = small_problem(0)
    path = tmp_path / "problem.json"
    bo.save(p, path)
    assert main(["pareto", str(path), "--rows", "5", "--json", str(tmp_path / "f.json")]) == 0
    out = capsys.readouterr().out
    assert "points (exact, dp" in out
    assert len(bo.ParetoFront.load(tmp_path / "f.json")) == len(bo.pareto_front(p))
    b = p.budgets["latency"]
    assert main(["pareto", str(path), "--at", str(b), "--at", "0.001"]) == 0
    out = capsys.readouterr().out
    assert "optimal" in out and "infeasible" in out
