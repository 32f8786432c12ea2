"""compare(): rows per backend and budget, best-bound gaps, re-checked feasibility, printing."""

from __future__ import annotations

import json

import pytest

import binas_opt as bo
from binas_opt.solving.comparison import CompareRow
from binas_opt.testing.synthetic import synthetic_problem


@pytest.fixture(scope="module")
def problem():
    space = bo.SearchSpace([bo.Stage((1, 2, 3), [f"o{i}" for i in range(4)]) for _ in range(3)])
    return synthetic_problem(space=space, seed=1)


@pytest.mark.slow
def test_rows_per_backend_and_budget(problem):
    lat = problem.constraint("latency").table
    budgets = [lat.min_value() - 1, problem.budgets["latency"], lat.max_value()]
    rows = bo.compare(problem, ["milp", "dp", "brute", "pulp"], budgets=budgets)
    assert len(rows) == 12 and all(isinstance(r, CompareRow) for r in rows)
    by_budget = {}
    for r in rows:
        by_budget.setdefault(r.budgets["latency"], []).append(r)
    infeasible = by_budget[budgets[0]]
    assert all(r.status is bo.Status.INFEASIBLE and r.gap_to_best is None for r in infeasible)
    for b in budgets[1:]:
        group = by_budget[b]
        objs = {r.objective for r in group}
        assert max(objs) - min(objs) < 1e-7
        assert all(r.feasible and r.gap_to_best == pytest.approx(0, abs=1e-9) for r in group)
        assert all(r.best_bound == pytest.approx(group[0].objective, abs=1e-7) for r in group)
    text = str(rows)
    assert "gap_to_best" in text and "pulp" in text
    dicts = rows.to_dicts()
    json.dumps(dicts)
    assert dicts[0]["status"] == "infeasible" and "result" not in dicts[0]


def test_refusing_backend_gets_an_error_row(problem):
    two = problem.with_constraints([*problem.constraints,
                                    problem.constraint("latency").table.replace(name="lat2") <= 1e9])
    rows = bo.compare(two, ["milp", "dp"])
    assert rows[1].status is bo.Status.ERROR and "milp" in rows[1].message
    assert rows[0].status is bo.Status.OPTIMAL


def test_gap_to_best_bound_for_a_heuristic_row(problem):
    # an epsilon dp row is feasible with a looser objective; its gap is measured to milp's optimum
    rows = bo.compare(problem, ["milp", "dp"], options={"dp": {"epsilon": 0.5}},
                      budgets=[{"latency": problem.budgets["latency"]}])
    best = rows[0].objective
    assert rows[1].best_bound == pytest.approx(best)
    assert rows[1].gap_to_best == pytest.approx((best - rows[1].objective) / abs(rows[1].objective))
    with pytest.raises(ValueError, match="options given"):
        bo.compare(problem, ["milp"], options={"dp": {}})


def test_cli_compare(problem, tmp_path, capsys):
    from binas_opt.cli import main

    path = tmp_path / "problem.json"
    bo.save(problem, path)
    rc = main(["compare", str(path), "--backends", "milp,dp", "--at", "30",
               "--option", "dp.epsilon=0.1", "--json", str(tmp_path / "rows.json")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "gap_to_best" in out and "dp" in out
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert [r["backend"] for r in rows] == ["milp", "dp"]
    assert main(["compare", str(path), "--option", "bad"]) == 1  # one-line error
