"""The cvxpy LP relaxation: bound, rounding, solver choice and the compiled-problem cache."""

import pytest
from binas_opt.solvers import relax as relax_mod

import binas_opt as bo
from binas_opt.testing.synthetic import random_problem, synthetic_problem


def test_bound_and_rounding_on_the_paper_space():
    p = synthetic_problem(kind="realistic")
    exact = bo.solve(p, "milp")
    r = bo.solve(p, "relax")
    assert r.status in (bo.Status.FEASIBLE, bo.Status.OPTIMAL)
    assert r.bound >= exact.objective - 1e-9
    assert r.objective <= exact.objective + 1e-9
    assert p.is_feasible(r.architecture)
    assert r.stats["lp_value"] == pytest.approx(r.bound, abs=1e-6)
    if r.status is bo.Status.OPTIMAL:
        assert r.objective == pytest.approx(r.bound, abs=1e-9 * max(1, abs(r.bound)))


@pytest.mark.slow
def test_status_is_optimal_only_when_the_bound_is_attained():
    seen = set()
    for seed in range(40):
        p = random_problem(seed, objective="table" if seed % 2 else "quadratic",
                           n_constraints=1 + seed % 2)
        r = bo.solve(p, "relax")
        ref = bo.solve(p, "brute")
        if ref.status is bo.Status.INFEASIBLE:
            assert r.status is bo.Status.INFEASIBLE
            continue
        seen.add(r.status)
        assert p.sign * (r.bound - ref.objective) >= -1e-9
        if r.status is bo.Status.OPTIMAL:
            assert abs(r.bound - r.objective) <= 1e-9 * max(1, abs(r.bound))
            assert r.objective == pytest.approx(ref.objective, abs=1e-9)
        else:
            assert r.status is bo.Status.FEASIBLE
    assert bo.Status.OPTIMAL in seen and bo.Status.FEASIBLE in seen


def test_solver_by_name_and_error_lists_installed():
    p = random_problem(3)
    names = relax_mod.installed_solvers()
    for name in [n for n in ("HIGHS", "CLARABEL") if n in names]:
        r = bo.solve(p, "relax", solver=name)
        assert r.stats["lp_solver"] == name
    with pytest.raises(ValueError) as info:
        bo.solve(p, "relax", solver="NO_SUCH_SOLVER")
    for n in names:
        assert n in str(info.value)


def test_budget_sweep_reuses_the_compiled_problem():
    relax_mod.clear_cache()
    p = synthetic_problem(kind="realistic")
    lat = p.constraints[0]
    lo, hi = lat.table.min_value(), lat.table.max_value()
    hits, bounds = [], []
    for f in (0.2, 0.4, 0.6, 0.8):
        r = bo.solve(p.with_budgets({"latency": lo + f * (hi - lo)}), "relax")
        hits.append(r.stats["cache_hit"])
        bounds.append(r.bound)
        assert p.with_budgets({"latency": lo + f * (hi - lo)}).is_feasible(r.architecture)
    assert hits == [False, True, True, True]
    assert bounds == sorted(bounds)  # a looser budget never lowers the bound
    r = bo.solve(p, "relax", cache=False)
    assert r.stats["cache_hit"] is False


def test_quadratic_uses_mccormick_bound():
    p = random_problem(5, objective="quadratic", n_constraints=2)
    r = bo.solve(p, "relax")
    ref = bo.solve(p, "brute")
    if ref.status is bo.Status.OPTIMAL:
        assert p.sign * (r.bound - ref.objective) >= -1e-9


def test_black_box_is_refused_with_alternatives():
    p0 = random_problem(2)
    p = bo.Problem(p0.space, lambda x: x.sum(axis=1), p0.constraints)
    with pytest.raises(ValueError, match="does not accept"):
        bo.solve(p, "relax")
