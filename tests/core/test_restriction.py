"""Restricted spaces (the best ops of every block) and the restriction loss."""

import numpy as np
import pytest

import binas_opt as bo
from binas_opt.analysis.restriction import restrict, restrict_table, restriction_loss
from binas_opt.mbconv.arch_def import mbconv_labels
from binas_opt.testing.synthetic import synthetic_tables


def test_restrict_and_maps():
    space = bo.SearchSpace.mobilenet_v3()
    data = synthetic_tables(space, "uncorrelated", seed=2)
    red = restrict(space, data.accuracy, top_k=3)
    assert all(n == 3 for st in red.space.stages for n in st.num_ops)
    assert red.space.stages[0].channels == space.stages[0].channels
    assert red.space.fixed == space.fixed
    for s, st in enumerate(space.stages):
        for b in range(st.max_depth):
            vals = data.accuracy.op_table(s, b)
            assert set(red.kept[s][b]) == set(np.argsort(-vals)[:3].tolist())
            assert list(red.kept[s][b]) == sorted(red.kept[s][b])
    rtab = restrict_table(data.accuracy, red)
    archs = red.space.sample(0, n=50)
    full = [red.to_full(a) for a in archs]
    np.testing.assert_allclose(rtab.evaluate(archs), data.accuracy.evaluate(full))
    assert [red.from_full(a) for a in full] == archs
    ops = np.array([np.concatenate(a.ops) for a in archs])
    np.testing.assert_array_equal(red.ops_to_full(ops),
                                  np.array([np.concatenate(a.ops) for a in full]))
    back = red.expand_table(rtab, fill=-1.0)
    np.testing.assert_allclose(back.evaluate(full), rtab.evaluate(archs))
    assert back.op_values.min() == -1.0
    # an architecture using a dropped op in an active block
    dropped = next(o for o in range(12) if o not in red.kept[0][0])
    bad = bo.Architecture((2,) * 5, ((dropped, red.kept[0][1][0], 0, 0),) + ((
        red.kept[1][0][0], red.kept[1][1][0], 0, 0),) + tuple(
        (red.kept[s][0][0], red.kept[s][1][0], 0, 0) for s in range(2, 5)))
    with pytest.raises(ValueError, match="dropped"):
        red.from_full(bad)
    # min sense and keep_cheapest
    red_lat = restrict(space, data.latency, top_k=1, sense="min")
    assert restrict_table(data.latency, red_lat).min_value() == pytest.approx(
        data.latency.min_value())
    red_k = restrict(space, data.accuracy, top_k=1, keep_cheapest=data.latency)
    assert restrict_table(data.latency, red_k).min_value() == pytest.approx(
        data.latency.min_value())
    assert red.size_ratio < 1e-6
    with pytest.raises(ValueError, match="top_k"):
        restrict(space, data.accuracy, top_k=0)
    with pytest.raises(ValueError, match="restrict: sense must be one of"):
        restrict(space, data.accuracy, top_k=1, sense="maximum")
    with pytest.raises(ValueError, match="space"):
        restrict_table(data.accuracy, red_lat.__class__(red.space, red.space, red.kept,
                                                        red.alpha_index))


def test_restriction_loss():
    space = bo.SearchSpace([bo.Stage((1, 2, 3), mbconv_labels()[:6]), bo.Stage((2, 3),
                                                                          mbconv_labels()[:6])])
    data = synthetic_tables(space, "realistic", seed=5)
    lo, hi = data.latency.min_value(), data.latency.max_value()
    budgets = [lo + f * (hi - lo) for f in (0.05, 0.3, 0.7, 1.0)]
    truth = data.accuracy  # the table is its own ground truth here
    rep = restriction_loss(data.accuracy, data.latency, budgets, top_k=2, truth=truth)
    assert len(rep.rows) == 4
    for row, b in zip(rep.rows, budgets, strict=True):
        assert row.full_status is bo.Status.OPTIMAL and row.reduced_status == "optimal"
        assert row.loss >= -1e-9
        assert row.true_loss == pytest.approx(row.loss, abs=1e-9)
        assert data.latency(row.reduced_architecture) <= b * (1 + 1e-9)
        # exact: compare with brute force in the full space
        best = bo.solve(bo.Problem(space, data.accuracy, [data.latency <= b]), backend="brute")
        assert row.full_objective == pytest.approx(best.objective)
    assert rep.rows[-1].loss == pytest.approx(0.0, abs=1e-9)  # unconstrained: top ops suffice
    assert rep.max_loss >= 0 and "reduced space" in str(rep)
    everything = restriction_loss(data.accuracy, data.latency, budgets, top_k=6)
    assert all(r.loss == pytest.approx(0.0, abs=1e-9) for r in everything.rows)
    with pytest.raises(ValueError, match="budgets\\[0\\]"):
        restriction_loss(data.accuracy, data.latency, [(1.0, 2.0)], top_k=2)
