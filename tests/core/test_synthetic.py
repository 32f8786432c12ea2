"""Synthetic problems: the kinds and modes are enums that accept their strings."""

import pytest

import binas_opt as bo
from binas_opt.testing.synthetic import BudgetMode, TableKind, random_problem, synthetic_tables


def test_table_kind_accepts_strings_and_members():
    space = bo.SearchSpace([bo.Stage((1, 2), ["k3_e3", "k5_e6"])])
    for kind in TableKind:
        a = synthetic_tables(space, kind, seed=3)
        b = synthetic_tables(space, kind.value, seed=3)
        assert a.accuracy.equals(b.accuracy) and a.latency.equals(b.latency)
    with pytest.raises(ValueError, match="synthetic_tables: kind must be one of 'realistic', "
                                         "'uncorrelated', 'correlated', got 'noisy'"):
        synthetic_tables(space, "noisy")


def test_random_problem_objective_and_budget_mode():
    p = random_problem(4, objective="quadratic", budget_mode=BudgetMode.INFEASIBLE)
    assert p.objective_kind is bo.ObjectiveKind.QUADRATIC
    assert bo.solve(p, "milp").status is bo.Status.INFEASIBLE
    same = random_problem(4, objective=bo.ObjectiveKind.QUADRATIC, budget_mode="infeasible")
    assert same.objective.equals(p.objective) and same.budgets == p.budgets
    with pytest.raises(ValueError, match="random_problem: budget_mode must be one of"):
        random_problem(0, budget_mode="tightest")
    with pytest.raises(ValueError, match="random_problem: objective must be one of"):
        random_problem(0, objective="mlp")
    with pytest.raises(ValueError, match="'table' or 'quadratic', got 'black_box'"):
        random_problem(0, objective="black_box")
