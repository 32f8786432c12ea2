"""The Frank-Wolfe backend: options, presets, relaxation algebra, quality and reporting."""

import numpy as np
import pytest
from binas_opt.solvers.fw import (
    PRESETS,
    BlockRule,
    FWOptions,
    RelaxedProblem,
    Start,
    StepRule,
    _balanced,
    _one_hot,
)

import binas_opt as bo
from binas_opt.testing.synthetic import random_problem, synthetic_problem


@pytest.fixture(scope="module")
def realistic():
    return synthetic_problem(kind="realistic", seed=0)


def test_options_validate_and_presets():
    assert FWOptions(preset="paper").settings() == PRESETS["paper"]
    s = PRESETS["paper"]
    assert (s.steps, s.gamma, s.momentum, s.step_rule, s.block) == (
        1000, 0.002, 0.9, "constant", "random")
    assert FWOptions(steps=5).settings().steps == 5
    with pytest.raises(AttributeError):
        FWOptions().steps = 3  # frozen
    problem = random_problem(1)
    for bad in ({"preset": "nope"}, {"gamma": 0.0}, {"momentum": 1.0}, {"step_rule": "x"},
                {"block": "x"}, {"start": "x"}, {"restarts": 0}, {"steps": -1}):
        with pytest.raises(ValueError):
            bo.solve(problem, "fw", **bad)
    with pytest.raises(ValueError, match="backend 'fw': option 'step_rule' must be one of "
                                         "'line_search', 'harmonic', 'constant' or None, got 'x'"):
        bo.solve(problem, "fw", step_rule="x")
    tuned = FWOptions(step_rule=StepRule.HARMONIC, block="random", start="balanced").settings()
    assert tuned.step_rule is StepRule.HARMONIC and tuned.block is BlockRule.RANDOM
    assert tuned.start is Start.BALANCED


def test_relaxation_matches_tables_on_vertices(realistic):
    rp = RelaxedProblem(realistic)
    rng = np.random.default_rng(0)
    for arch in realistic.space.sample(rng, 5):
        a, b = realistic.space.encode(arch)
        assert rp.objective(a, b) == pytest.approx(realistic.evaluate(arch))
        res = rp.resources(a, b)
        assert res[0] == pytest.approx(realistic.constraints[0].table(arch))


def test_relaxation_is_bilinear_and_gradients_are_exact(realistic):
    rp = RelaxedProblem(realistic)
    space = realistic.space
    rng = np.random.default_rng(1)
    a = rng.random(space.n_alpha)
    b = rng.random(space.n_beta)
    a /= rp.alpha_layout.group_sums(a)[rp.alpha_layout.group]
    b /= rp.beta_layout.group_sums(b)[rp.beta_layout.group]
    # the Table's own bilinear form agrees
    x = np.concatenate([a, b])
    assert rp.objective(a, b) == pytest.approx(realistic.objective.evaluate_x(x)[0])
    ga, gb = rp.gradient(a, b)
    eps = 1e-6
    for i in rng.choice(space.n_alpha, 5, replace=False):
        e = np.zeros_like(a)
        e[i] = eps
        assert (rp.objective(a + e, b) - rp.objective(a, b)) / eps == pytest.approx(ga[i], abs=1e-5)
    for j in range(3):
        e = np.zeros_like(b)
        e[j] = eps
        assert (rp.objective(a, b + e) - rp.objective(a, b)) / eps == pytest.approx(gb[j], abs=1e-5)


@pytest.mark.parametrize("fraction", [0.05, 0.3])
def test_balanced_start_is_feasible_and_tight(fraction):
    realistic = synthetic_problem(kind="realistic", latency_fraction=fraction)
    rp = RelaxedProblem(realistic)
    lat = realistic.constraints[0].table
    _, arch = lat.extreme("min")
    from binas_opt.solvers._repair import to_arrays

    a0, b0 = _one_hot(rp, *to_arrays(realistic.space, arch))
    a, b = _balanced(rp, a0, b0)
    r = rp.resources(a, b)[0]
    assert r <= realistic.constraints[0].budget + 1e-9
    # as far towards the uniform point as the budget allows
    assert r == pytest.approx(realistic.constraints[0].budget, rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["table", "quadratic"])
@pytest.mark.parametrize("n_cons", [1, 2])
def test_never_beats_brute_and_feasible(objective, n_cons):
    for seed in range(4):
        p = random_problem(seed, objective=objective, n_constraints=n_cons)
        ref = bo.solve(p, "brute")
        r = bo.solve(p, "fw")
        if ref.status is bo.Status.INFEASIBLE:
            assert r.status is bo.Status.INFEASIBLE
            continue
        assert p.is_feasible(r.architecture)
        assert p.sign * (r.objective - ref.objective) <= 1e-9


def test_default_is_near_optimal_and_reports(realistic):
    exact = bo.solve(realistic, "milp")
    r = bo.solve(realistic, "fw")
    assert exact.objective - r.objective <= 0.1
    st = r.stats
    for key in ("steps", "fw_gap", "relaxed_objective", "upper_bound", "gap_to_bound"):
        assert key in st
    assert st["fw_gap"] >= 0
    assert r.bound is not None and r.bound >= exact.objective - 1e-9
    assert r.abs_gap == pytest.approx(r.bound - r.objective)
    # for a Table the relaxation's optimum is the LP bound: the relaxed value cannot exceed it
    assert st["relaxed_objective"] <= r.bound + 1e-7


def test_paper_preset_runs_1000_steps_and_is_feasible(realistic):
    r = bo.solve(realistic, "fw", preset="paper")
    assert r.stats["steps"] == 1000
    assert realistic.is_feasible(r.architecture)
    assert r.status in (bo.Status.FEASIBLE, bo.Status.OPTIMAL)


@pytest.mark.parametrize("opts", [{"block": "random"}, {"step_rule": "harmonic", "steps": 200},
                                  {"start": "balanced"}, {"sparsify": False, "polish": False}])
def test_variants_stay_feasible(realistic, opts):
    r = bo.solve(realistic, "fw", **opts)
    assert realistic.is_feasible(r.architecture)


def test_several_budgets_use_the_lp_oracle():
    p = synthetic_problem(kind="realistic", resources=("latency", "params", "energy"))
    r = bo.solve(p, "fw")
    exact = bo.solve(p, "milp")
    assert p.is_feasible(r.architecture)
    assert exact.objective - r.objective <= 0.5


def test_time_limit_stops_it():
    p = synthetic_problem(kind="correlated", resources=("latency", "params", "energy"))
    r = bo.solve(p, "fw", time_limit=0.02, step_rule="harmonic")
    assert r.status is bo.Status.FEASIBLE and r.termination is bo.Termination.TIME_LIMIT
    assert r.architecture is not None and p.is_feasible(r.architecture)


def test_non_differentiable_black_box_is_refused():
    p0 = random_problem(2)
    p = bo.Problem(p0.space, lambda x: x.sum(axis=1), p0.constraints)
    with pytest.raises(ValueError, match="differentiable"):
        bo.solve(p, "fw")


@pytest.mark.torch
def test_torch_predictor_gradient_by_autograd():
    torch = pytest.importorskip("torch")
    p0 = synthetic_problem(kind="realistic")
    space = p0.space
    # a linear torch predictor equal to the accuracy table on one-hot encodings of active blocks
    lin = torch.nn.Linear(space.n_vars, 1).double()
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.fill_(0.0)
        lin.weight[0, space.n_alpha:] = torch.tensor(np.array(p0.objective.depth_values))
    for q in lin.parameters():
        q.requires_grad_(False)
    p = bo.Problem(space, lin, p0.constraints)
    r = bo.solve(p, "fw", restarts=1, steps=100)
    assert p.is_feasible(r.architecture)
    assert "fw_gap" in r.stats and r.bound is None


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_cached_alpha_oracle_matches_the_full_oracle(realistic, momentum):
    """The Table-objective alpha step reuses one hull; it must answer as a fresh oracle would."""
    rp = RelaxedProblem(realistic)
    assert rp._alpha_hull is not None
    rng = np.random.default_rng(3)
    state, ref_state, zero_pi = {}, {}, False
    for _ in range(8):
        a = rng.random(realistic.space.n_alpha)
        b = rng.random(realistic.space.n_beta) * (rng.random(realistic.space.n_beta) > 0.3)
        b[rp.beta_layout.ptr[:-1]] += 1e-3  # the smallest depth only: inactive blocks, pi = 0
        a /= rp.alpha_layout.group_sums(a)[rp.alpha_layout.group]
        b /= rp.beta_layout.group_sums(b)[rp.beta_layout.group]
        g, d, o = rp.direction_oracle("alpha", a, b, momentum, state)
        g_ref = rp.block_gradient("alpha", a, b)
        d_ref = g_ref if momentum == 0 or not ref_state else (
            momentum * ref_state["alpha"] + (1 - momentum) * g_ref)
        ref_state["alpha"] = d_ref
        ref = rp.oracle("alpha", d_ref, a, b)
        zero_pi |= bool((rp.pi(b) == 0).any())
        assert g == pytest.approx(g_ref) and d == pytest.approx(d_ref)
        assert o.feasible == ref.feasible
        if o.feasible:
            assert o.value == pytest.approx(ref.value, abs=1e-9)
            A, rhs = rp.budget_rows("alpha", a, b)
            assert A[0] @ o.u <= rhs[0] + 1e-9
    assert zero_pi  # the case of inactive blocks was exercised
