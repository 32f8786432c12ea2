"""Plots return matplotlib Figures (Agg, never shown)."""

from __future__ import annotations

import pytest

import binas_opt as bo
from binas_opt.testing.synthetic import synthetic_problem

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402


@pytest.fixture(scope="module")
def problem():
    return synthetic_problem(kind="realistic", seed=0)


def test_plot_contributions_table_and_explanation(problem, tmp_path):
    fig = bo.plot_contributions(problem.objective)
    assert isinstance(fig, Figure) and len(fig.axes) >= 2
    fig.savefig(tmp_path / "c.png")
    fig = bo.plot_contributions(problem.objective, reference="cheapest",
                                ref_cost=problem.constraint("latency").table)
    assert isinstance(fig, Figure)
    e = bo.explain(problem, bo.solve(problem, backend="dp"))
    assert isinstance(bo.plot_contributions(e), Figure)


def test_plot_pareto_and_compare(problem, tmp_path):
    f = bo.pareto_front(problem)
    rs = bo.solve_budgets(problem, "latency", [40, 60])
    fig = bo.plot_pareto(f, results=rs)
    assert isinstance(fig, Figure)
    fig.savefig(tmp_path / "p.png")
    rows = bo.compare(problem, ["milp", "dp"], budgets=[40, 60])
    for metric in ("objective", "time", "gap_to_best"):
        assert isinstance(bo.plot_compare(rows, metric), Figure)
    with pytest.raises(ValueError, match="metric"):
        bo.plot_compare(rows, "speed")
