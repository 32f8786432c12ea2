"""The closed-form multiple-choice knapsack oracle and the HiGHS oracle against scipy's linprog."""

import numpy as np
import pytest
from binas_opt.solvers import _mck
from binas_opt.solvers._mck import (
    GroupLayout,
    Hull,
    compact_lp_bound,
    linear_oracle,
    lp_oracle,
    mck_oracle,
    weak_duality_bound,
)
from scipy.optimize import linprog


def _instance(seed):
    rng = np.random.default_rng(seed)
    layout = GroupLayout.from_sizes(rng.integers(1, 8, size=rng.integers(1, 9)))
    n = layout.n
    if seed % 3 == 0:  # many ties
        c = rng.integers(-2, 4, n).astype(float)
        a = rng.integers(0, 4, n).astype(float)
    else:
        c = rng.normal(size=n)
        a = rng.uniform(0, 5, n) if seed % 2 else rng.normal(size=n)
    mins = np.minimum.reduceat(a, layout.ptr[:-1]).sum()
    b = mins + rng.uniform(-0.3, 3.0)
    return layout, c, a, b


def _linprog(layout, c, A, b):
    a_eq = np.zeros((layout.n_groups, layout.n))
    a_eq[layout.group, np.arange(layout.n)] = 1
    return linprog(-c, A_ub=np.atleast_2d(A), b_ub=np.atleast_1d(b), A_eq=a_eq,
                   b_eq=np.ones(layout.n_groups), bounds=(0, None), method="highs")


@pytest.fixture(params=["vectorised", "loop"])
def hull_path(request, monkeypatch):
    """Run a test once with each way of building the hull (numpy, and the small-size loop)."""
    monkeypatch.setattr(_mck, "SMALL_N", -1 if request.param == "vectorised" else 10**9)
    return request.param


@pytest.mark.parametrize("seed", range(300))
def test_mck_matches_linprog(seed, hull_path):
    layout, c, a, b = _instance(seed)
    ref = _linprog(layout, c, a, b)
    out = mck_oracle(c, a, b, layout)
    if ref.status == 2:
        assert not out.feasible and out.u is None
        return
    assert ref.status == 0 and out.feasible
    assert out.value == pytest.approx(-ref.fun, abs=1e-8)
    u = out.u
    assert u.min() >= -1e-12
    assert layout.group_sums(u) == pytest.approx(np.ones(layout.n_groups))
    assert a @ u <= b + 1e-9
    assert c @ u == pytest.approx(out.value, abs=1e-9)
    # at most one fractional group, with at most two non-zero entries
    frac = (u > 1e-12) & (u < 1 - 1e-12)
    groups = np.unique(layout.group[frac])
    assert groups.size <= 1 and frac.sum() in (0, 2)
    assert out.fractional_groups == groups.size


@pytest.mark.parametrize("seed", range(60))
def test_lp_oracle_several_budgets_matches_linprog(seed):
    layout, c, a, b = _instance(seed)
    rng = np.random.default_rng(1000 + seed)
    a2 = rng.uniform(0, 3, layout.n)
    b2 = np.minimum.reduceat(a2, layout.ptr[:-1]).sum() + rng.uniform(0, 2)
    A, bb = np.vstack([a, a2]), np.array([b, b2])
    ref = _linprog(layout, c, A, bb)
    out = linear_oracle(c, A, bb, layout)
    if ref.status == 2:
        assert not out.feasible
        return
    assert out.value == pytest.approx(-ref.fun, abs=1e-7)
    assert (A @ out.u <= bb + 1e-7).all()


def test_no_budget_and_infinite_budget_are_argmax():
    layout = GroupLayout.from_sizes([3, 2])
    c = np.array([0.0, 2.0, 1.0, 5.0, 5.0])
    u = linear_oracle(c, np.zeros((0, 5)), np.zeros(0), layout).u
    assert u.tolist() == [0, 1, 0, 1, 0]  # lowest index on ties
    u2 = mck_oracle(c, np.ones(5), np.inf, layout).u
    assert u2.tolist() == u.tolist()


def test_layout_validates_sizes():
    with pytest.raises(ValueError, match="at least one item"):
        GroupLayout.from_sizes([2, 0])


def test_weak_duality_bound_is_valid_for_any_multipliers():
    rng = np.random.default_rng(0)
    layout, c, a, b = _instance(4)
    ref = _linprog(layout, c, a, b)
    a_eq = np.zeros((layout.n_groups, layout.n))
    a_eq[layout.group, np.arange(layout.n)] = 1
    A = np.vstack([a_eq, a])
    lo = np.concatenate([np.ones(layout.n_groups), [-np.inf]])
    up = np.concatenate([np.ones(layout.n_groups), [b]])
    for _ in range(20):
        y = rng.normal(size=A.shape[0])
        bound = weak_duality_bound(c, A, lo, up, np.zeros(layout.n), np.ones(layout.n), y)
        assert bound >= -ref.fun - 1e-9


def test_compact_lp_bound_bounds_the_milp():
    from binas_opt.solvers._compact import build_model

    import binas_opt as bo
    from binas_opt.testing.synthetic import synthetic_problem

    p = synthetic_problem(kind="realistic")
    bound, x = compact_lp_bound(build_model(p))
    exact = bo.solve(p, "milp")
    assert x is not None and bound >= exact.objective - 1e-9
    assert bound - exact.objective < 1.0


@pytest.mark.parametrize("seed", range(40))
def test_both_hull_paths_find_the_same_increments(seed, monkeypatch):
    layout, c, a, _ = _instance(seed)
    if seed % 2:  # larger groups than the linprog instances
        layout = GroupLayout.from_sizes(np.random.default_rng(seed).integers(1, 30, 6))
        c, a = np.random.default_rng(seed + 1).normal(size=(2, layout.n))
    monkeypatch.setattr(_mck, "SMALL_N", 10**9)
    loop = Hull.of(c, a, layout)
    monkeypatch.setattr(_mck, "SMALL_N", -1)
    vec = Hull.of(c, a, layout)
    assert loop.start_item.tolist() == vec.start_item.tolist()
    assert loop.start_cost == pytest.approx(vec.start_cost)
    # the same increments (the order of equal slopes across groups may differ)
    assert sorted(zip(loop.inc_from.tolist(), loop.inc_to.tolist(), strict=True)) == sorted(
        zip(vec.inc_from.tolist(), vec.inc_to.tolist(), strict=True))
    for h in (loop, vec):
        assert np.all(np.diff(h.inc_slope) <= 0) and np.all(h.inc_slope > 0)


@pytest.mark.parametrize("seed", range(60))
def test_scaled_hull_matches_a_fresh_oracle(seed, hull_path):
    """Scaling a group's values by r_g and costs by s_g (zeros included) needs no new hull."""
    rng = np.random.default_rng(seed)
    layout = GroupLayout.from_sizes(rng.integers(1, 9, size=rng.integers(2, 12)))
    c, a = rng.normal(size=layout.n), rng.uniform(0, 5, layout.n)
    s = rng.uniform(0, 2, layout.n_groups) * (rng.random(layout.n_groups) > 0.2)
    r = s if seed % 2 else rng.uniform(0, 2, layout.n_groups) * (rng.random(layout.n_groups) > 0.2)
    cs, as_ = c * r[layout.group], a * s[layout.group]
    b = float(np.minimum.reduceat(as_, layout.ptr[:-1]).sum() + rng.uniform(0, 3))
    out = Hull.of(c, a, layout).solve(cs, b, s, None if r is s else r)
    ref = mck_oracle(cs, as_, b, layout)
    assert out.feasible and ref.feasible
    assert out.value == pytest.approx(ref.value, abs=1e-9)
    assert as_ @ out.u <= b + 1e-9
    assert layout.group_sums(out.u) == pytest.approx(np.ones(layout.n_groups))
    assert out.u.min() >= -1e-12


def test_one_vs_several_budget_oracles_agree_on_the_paper_size(hull_path):
    layout = GroupLayout.from_sizes([12] * 20)
    rng = np.random.default_rng(0)
    c, a = rng.normal(size=layout.n), rng.uniform(0, 5, layout.n)
    b = np.minimum.reduceat(a, layout.ptr[:-1]).sum() + 10
    assert lp_oracle(c, a[None, :], np.array([b]), layout).value == pytest.approx(
        mck_oracle(c, a, b, layout).value, abs=1e-7)
