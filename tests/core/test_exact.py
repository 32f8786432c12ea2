"""Exact budget arithmetic: no tolerance at any magnitude (issue: budgets at every magnitude)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import binas_opt as bo
from binas_opt.model.exact import compare_exact, exact_sum, round_down, round_up

SETTINGS = settings(max_examples=60, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _space_and_table(seed: int, scale: float):
    rng = np.random.default_rng(seed)
    stages = [bo.Stage((1, 2), [["a", "b", "c"], ["a", "b"]]), bo.Stage((2, 3), ["x", "y"])]
    space = bo.SearchSpace(stages)
    depth = [scale * rng.uniform(0, 2, len(s.depths)) for s in stages]
    op = [[scale * rng.uniform(0.5, 2, n) for n in s.num_ops] for s in stages]
    return space, bo.Table(space, const=scale * rng.uniform(0, 3), depth=depth, op=op, name="r")


def test_round_up_and_down_bracket_the_rational():
    x = Fraction(1, 3)
    assert Fraction(round_down(x)) <= x <= Fraction(round_up(x))
    assert math.nextafter(round_down(x), math.inf) == round_up(x)
    assert round_up(Fraction(0.5)) == round_down(Fraction(0.5)) == 0.5


@SETTINGS
@given(values=st.lists(st.floats(1e-9, 1e9), min_size=1, max_size=30),
       shift=st.sampled_from([-1, 0, 1]))
def test_compare_exact_matches_rationals_at_the_ulp(values, shift):
    exact = exact_sum(values)
    bound = float(exact)
    if shift:
        bound = math.nextafter(bound, shift * math.inf)
    approx = np.array([math.fsum(values)]) if shift == 0 else np.array([sum(values)])
    ok = compare_exact(approx, np.array([sum(abs(v) for v in values)]), len(values), bound,
                       lambda i: exact)
    assert bool(ok[0]) == (exact <= Fraction(bound))


@SETTINGS
@given(seed=st.integers(0, 10_000), exponent=st.integers(-9, 9),
       shift=st.sampled_from([-1, 0, 1]))
def test_within_is_exact_at_every_magnitude(seed, exponent, shift):
    space, table = _space_and_table(seed, 10.0 ** exponent)
    depths, ops = space.enumerate()
    exact = table.exact_values(depths, ops)
    pick = exact[seed % len(exact)]
    bound = round_up(pick) if shift >= 0 else round_down(pick)
    if shift:
        bound = math.nextafter(bound, shift * math.inf)
    got = table.within(depths, ops, bound)
    assert got.tolist() == [v <= Fraction(bound) for v in exact]
    got_ge = table.within(depths, ops, bound, upper=False)
    assert got_ge.tolist() == [v >= Fraction(bound) for v in exact]


@SETTINGS
@given(seed=st.integers(0, 10_000), exponent=st.integers(-9, 9))
def test_exact_extreme_is_the_exact_minimum_and_maximum(seed, exponent):
    space, table = _space_and_table(seed, 10.0 ** exponent)
    exact = table.exact_values(*space.enumerate())
    assert table.exact_extreme() == min(exact)
    assert table.exact_extreme(upper=True) == max(exact)


@pytest.mark.parametrize("exponent", [-9, -3, 0, 3, 9])
def test_budget_at_the_minimum_is_possible_one_ulp_below_is_not(exponent):
    space, table = _space_and_table(7, 10.0 ** exponent)
    acc = bo.Table(space, op=[[[1.0, 2.0, 3.0], [1.0, 2.0]], [[1.0, 2.0]] * 3], name="acc")
    low = bo.Problem(space, acc, [table <= 0.0]).min_resources()["r"]
    ok = bo.Problem(space, acc, [table <= low])
    assert ok.impossible_budgets() == {}
    below = bo.Problem(space, acc, [table <= math.nextafter(low, -math.inf)])
    assert below.impossible_budgets() == {"r": low}
    result = bo.solve(ok, backend="brute")
    assert result.has_solution and ok.is_feasible(result.architecture)
    assert bo.solve(below, backend="brute").status.value == "infeasible"


def test_excess_is_exact_where_a_relative_tolerance_would_pass():
    # entries near 1e9: 4e9 + 4 exceeds a 4e9 budget by one part in 1e9
    space = bo.SearchSpace([bo.Stage((1,), ["a", "b"])] * 4)
    flops = bo.Table(space, op=[[[1e9, 1e9 + 1.0]]] * 4, name="flops")
    problem = bo.Problem(space, flops * -1.0, [flops <= 4e9])
    arch = bo.Architecture((1, 1, 1, 1), ((1,), (1,), (1,), (1,)))
    assert problem.excess(arch) == {"flops": Fraction(4)}
    assert problem.violations(arch) == {"flops": 4.0}
    # joules: 2e-9 J under a 1e-9 J budget is 100% over
    tiny = bo.Table(space, op=[[[1e-9, 2e-9]]] * 4, name="energy")
    problem = bo.Problem(space, flops * 0.0, [tiny <= 4e-9])
    assert not problem.is_feasible(arch)
    depths, ops = space.enumerate()
    mask = problem.feasible_mask(depths, ops)
    assert mask.sum() == 1  # only the all-'a' architecture
