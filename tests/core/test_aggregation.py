"""Aggregation of contributions by op feature and stage."""

import numpy as np
import pytest

import binas_opt as bo
from binas_opt.analysis.aggregation import Feature, aggregate_contributions, op_features
from binas_opt.mbconv.arch_def import MBConvOp, mbconv_labels


def test_op_features():
    f = op_features("k5_e3_se0.25")
    assert (f.kernel, f.expansion, f.se_ratio) == (5, 3.0, 0.25)
    g = op_features("k3_e1_g2")
    assert (g.kernel, g.expansion, g.se_ratio) == (3, 1.0, 0.0)
    s = op_features("skip")
    assert (s.kernel, s.expansion, s.se_ratio) == (None, None, None)
    assert s.value(Feature.KERNEL) == "skip" and f.value(Feature.SE) == "se0.25"
    assert op_features("k3_e6").value(Feature.SE) == "no_se"
    assert f.value(Feature.EXPANSION) == "e3" and f.value(Feature.LABEL) == "k5_e3_se0.25"


def _kernel_table(space):
    labels = [space.stages[s].ops[b][o] for s, b, o in
              zip(space.index.alpha_stage, space.index.alpha_block, space.index.alpha_op,
                  strict=True)]
    op = np.array([1.0 if MBConvOp.from_label(lab).kernel == 5 else 0.0 for lab in labels])
    op = op * (1 + space.index.alpha_stage)  # later stages matter more
    return bo.Table(space, 70.0, np.zeros(space.n_beta), op, name="accuracy", unit="%")


def test_aggregate_ranks_features_and_stages():
    space = bo.SearchSpace.mobilenet_v3()
    table = _kernel_table(space)
    summary = aggregate_contributions(table)
    k = summary.by_kernel
    assert [r.value for r in k] == ["k5", "k3"] and [r.rank for r in k] == [1, 2]
    assert k[0].effect == pytest.approx(1.5) and k[1].effect == pytest.approx(-1.5)
    assert k[0].count == 120
    # expansion and SE carry no signal here
    for r in summary.by_expansion + summary.by_se:
        assert r.effect == pytest.approx(0.0, abs=1e-12)
    assert {r.value for r in summary.by_label} == set(mbconv_labels())
    stages = summary.by_stage
    assert [r.stage for r in stages] == [4, 3, 2, 1, 0]
    assert stages[0].spread == pytest.approx(5.0 * 4) and stages[0].op_spread == pytest.approx(5)
    assert stages[0].depth_gain == pytest.approx(10.0)  # two more blocks at +5
    low = aggregate_contributions(table, sense="min")
    assert low.by_kernel[0].value == "k3" and low.by_stage[0].stage == 4
    assert "by kernel" in str(summary)
    assert low.sense is bo.ObjectiveSense.MIN
    assert aggregate_contributions(table, sense=bo.ObjectiveSense.MIN).by_kernel == low.by_kernel
    with pytest.raises(ValueError, match="aggregate_contributions: sense must be one of 'max', "
                                         "'min', got 'best'"):
        aggregate_contributions(table, sense="best")


def test_non_mbconv_labels_group_by_label():
    space = bo.SearchSpace([bo.Stage((1, 2), [["down", "k3_e3", "k5_e6"], ["k3_e3", "k5_e6"]])])
    table = bo.Table(space, 0.0, op=[[[0.0, 1.0, 2.0], [0.0, 3.0]]])
    by_k = {r.value: r for r in aggregate_contributions(table).by_kernel}
    assert set(by_k) == {"down", "k3", "k5"}
    assert by_k["down"].effect == pytest.approx(-1.0)
    assert by_k["k5"].effect == pytest.approx((1.0 + 1.5) / 2)
