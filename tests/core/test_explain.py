"""explain(): contributions sum exactly to the value; references; marginal value."""

from __future__ import annotations

import numpy as np
import pytest

import binas_opt as bo
from binas_opt.analysis.explanation import marginal_value, table_contributions
from binas_opt.testing.synthetic import synthetic_problem


@pytest.fixture(scope="module")
def problem():
    return synthetic_problem(kind="realistic", seed=2, resources=("latency", "params"))


@pytest.mark.parametrize("reference", ["uniform", "cheapest"])
def test_contributions_sum_to_the_value(problem, reference):
    rng = np.random.default_rng(0)
    for arch in [bo.solve(problem).architecture, *problem.space.sample(rng, 20)]:
        e = bo.explain(problem, arch, reference=reference)
        o = e.objective
        assert o.total == pytest.approx(problem.objective(arch), abs=1e-12)
        assert o.reference + o.depth.sum() + np.nansum(o.op) == pytest.approx(o.total, abs=1e-9)
        for name, c in e.resources.items():
            assert c.total == pytest.approx(problem.constraint(name).table(arch), rel=1e-12)
            assert abs(c.residual()) <= 1e-9 * max(1.0, abs(c.total))
        # inactive blocks contribute nothing
        for s, d in enumerate(arch.depths):
            assert np.all(o.op[s, d: problem.space.stages[s].max_depth] == 0)


def test_cheapest_reference_is_the_cheapest_architecture(problem):
    lat = problem.constraint("latency").table
    _, cheapest = lat.extreme("min")
    e = bo.explain(problem, bo.solve(problem), reference="cheapest", resource="latency")
    assert e.objective.reference == pytest.approx(problem.objective(cheapest), abs=1e-9)
    assert e.resources["latency"].reference == pytest.approx(lat.min_value(), rel=1e-12)
    e0 = bo.explain(problem, cheapest, reference="cheapest")
    assert np.allclose(e0.objective.depth, 0) and np.allclose(np.nan_to_num(e0.objective.op), 0)


def test_uniform_reference_is_the_uniform_expectation(problem):
    # the reference equals the mean value over uniformly sampled depths and ops (in expectation)
    ref, depth, op = table_contributions(problem.objective, "uniform")
    for s in range(problem.space.n_stages):
        assert np.mean(depth[s]) == pytest.approx(0, abs=1e-12)
        assert np.allclose(np.nanmean(op[s], axis=1), 0)


def test_marginal_value_from_front(problem):
    p1 = problem.with_constraints([problem.constraint("latency")])
    f = bo.pareto_front(p1)
    b, per = marginal_value(f, step=1.0)
    assert b.shape == per.shape == (len(f),)
    assert np.all(per[np.isfinite(per)] >= 0)  # more budget never hurts
    r = bo.solve(p1.with_budgets({"latency": float(np.median(f.resources))}), backend="dp")
    e = bo.explain(p1, r)
    assert e.marginal_value(f, step=1.0) == pytest.approx(
        f.value_at([r.resources["latency"] + 1.0])[0] - f.value_at([r.resources["latency"]])[0])
    assert "reference" in e.summary()


@pytest.mark.slow
def test_errors(problem):
    q = bo.Problem(problem.space, problem.objective.to_quadratic(), problem.constraints)
    with pytest.raises(ValueError, match="Table objective"):
        bo.explain(q, bo.solve(problem))
    with pytest.raises(ValueError, match="reference"):
        bo.explain(problem, bo.solve(problem), reference="median")
    with pytest.raises(ValueError, match="resource"):
        bo.explain(bo.Problem(problem.space, problem.objective), bo.solve(problem), "cheapest")
