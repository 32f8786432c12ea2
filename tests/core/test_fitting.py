"""fit_table: exact recovery, HELP's per-block latency tables, gauge and identifiability."""

from pathlib import Path

import numpy as np
import pytest

import binas_opt as bo
from binas_opt.estimation.fitting import Gauge, TableFit, as_arrays, design_matrix, fit_table

HELP_CSV = Path("/work/shared/data/help_fbnet/help_fbnet_5000_latency.csv")
FBNET_LABELS = ["k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6",
                "skip"]


def _help():
    if not HELP_CSV.exists():
        pytest.skip(f"{HELP_CSV} not available")
    d = np.genfromtxt(HELP_CSV, delimiter=",", names=True)
    ops = np.stack([d[f"op_{i}"] for i in range(22)], axis=1).astype(np.int64)
    space = bo.SearchSpace([bo.Stage((1,), FBNET_LABELS, name=f"layer{i}") for i in range(22)])
    return space, np.ones((len(ops), 22), dtype=np.int64), ops, d


@pytest.mark.slow
@pytest.mark.parametrize("device", ["raspi4", "pixel3", "eyeriss", "fpga"])
def test_help_fbnet_exact_tables_predict_held_out(device):
    space, depths, ops, d = _help()
    y = d[f"lat_{device}"]
    fit = fit_table(space, (depths[:1000], ops[:1000]), y[:1000], name="latency", unit="ms")
    assert isinstance(fit, TableFit)
    held_out = fit.score((depths[1000:], ops[1000:]), y[1000:])
    assert held_out >= 0.9999
    assert fit.r2 >= 0.9999
    assert fit.rank == fit.n_identifiable == 1 + 22 * 8
    assert fit.identified and fit.unidentifiable == ()
    np.testing.assert_allclose(fit.predict((depths[1000:], ops[1000:])), y[1000:], atol=1e-6)
    # canonical "min" gauge: a usable resource table (non-negative entries)
    assert fit.table.op_values.min() == 0.0 and fit.table.const >= 0.0
    assert (fit.table <= float(np.median(y))).budget == float(np.median(y))


def test_help_non_additive_device_is_reported_by_r2():
    space, depths, ops, d = _help()
    fit = fit_table(space, (depths[:1000], ops[:1000]), d["lat_gold_6226"][:1000])
    assert fit.r2 < 0.99  # a desktop CPU is not an exact per-block sum


def _truth(space, seed=0):
    rng = np.random.default_rng(seed)
    return bo.Table(space, const=5.0, depth=rng.uniform(0, 1, space.n_beta),
                    op=rng.uniform(0, 3, space.n_alpha), name="latency", unit="ms")


def test_recovers_mobilenet_table_function_exactly():
    space = bo.SearchSpace.mobilenet_v3()
    truth = _truth(space)
    train = space.sample(1, n=600)
    test = space.sample(2, n=200)
    fit = fit_table(space, train, truth.evaluate(train), name="latency", unit="ms")
    assert fit.identified
    np.testing.assert_allclose(fit.table.evaluate(test), truth.evaluate(test), rtol=1e-9)
    assert fit.table.name == "latency" and fit.table.unit == "ms"
    assert fit.max_abs_residual < 1e-9
    # the canonical table has the same exact minimum and maximum over the whole space
    assert fit.table.min_value() == pytest.approx(truth.min_value(), rel=1e-9)
    assert fit.table.max_value() == pytest.approx(truth.max_value(), rel=1e-9)


@pytest.mark.parametrize("gauge", ["min", "mean"])
def test_gauge_is_canonical(gauge):
    space = bo.SearchSpace([bo.Stage((1, 2, 3), ["a", "b", "c"]), bo.Stage((2,), ["x", "y"])])
    truth = _truth(space, 3)
    depths, ops = space.enumerate()
    fit = fit_table(space, (depths, ops), truth.evaluate_arrays(depths, ops), gauge=gauge)
    np.testing.assert_allclose(fit.table.evaluate_arrays(depths, ops),
                               truth.evaluate_arrays(depths, ops), atol=1e-10)
    reduce = np.min if gauge == "min" else np.mean
    for s, st in enumerate(space.stages):
        assert reduce(fit.table.depth_table(s)) == pytest.approx(0.0, abs=1e-10)
        for b in range(st.max_depth):
            assert reduce(fit.table.op_table(s, b)) == pytest.approx(0.0, abs=1e-10)
    # a second fit of a differently-gauged but equal table gives the same canonical table
    shifted = bo.Table(space, truth.const - 1.0, truth.depth_values + 0.5, truth.op_values)
    fit2 = fit_table(space, (depths, ops), shifted.evaluate_arrays(depths, ops) + 0.0, gauge=gauge)
    # shifted differs from truth by const -1 + 0.5 * n_stages = 0 here
    np.testing.assert_allclose(fit2.table.op_values, fit.table.op_values, atol=1e-10)
    np.testing.assert_allclose(fit2.table.depth_values, fit.table.depth_values, atol=1e-10)


def test_unseen_and_collinear_entries_are_reported():
    space = bo.SearchSpace([bo.Stage((2,), ["a", "b", "c"]), bo.Stage((1, 2), ["x", "y"])])
    truth = _truth(space, 4)
    rng = np.random.default_rng(0)
    n = 60
    # op "c" of stage 0 never used; block 1 of stage 0 always copies block 0's op
    o0 = rng.integers(0, 2, n)
    d1 = rng.choice([1, 2], n)
    ops = np.stack([o0, o0, rng.integers(0, 2, n), rng.integers(0, 2, n)], axis=1)
    depths = np.stack([np.full(n, 2), d1], axis=1)
    y = truth.evaluate_arrays(depths, ops)
    fit = fit_table(space, (depths, ops), y, unseen="max")
    assert fit.r2 == pytest.approx(1.0)
    assert not fit.identified
    names = fit.unidentifiable
    assert any("op 'c'" in s and "never active" in s for s in names)
    # a/b of stage 0, blocks 0 and 1, are collinear: their split is unidentified
    # (which of a/b is flagged depends on which is the gauge reference)
    assert sum(("stage0 block" in s and "never active" not in s) for s in names) == 2
    # stage 1 is identified
    assert not any("stage1" in s for s in names)
    # unseen="max": the unseen op costs as much as the dearest seen op of its block
    for b in range(2):
        vals = fit.table.op_table(0, b)
        assert vals[2] == pytest.approx(vals[:2].max())
    assert "unidentifiable" in fit.summary()


def test_ridge_shrinks_and_validation():
    space = bo.SearchSpace.mobilenet_v3()
    truth = _truth(space)
    archs = space.sample(5, n=120)
    y = truth.evaluate(archs)
    f0 = fit_table(space, archs, y)
    f1 = fit_table(space, archs, y, ridge=10.0)
    assert f1.ridge == 10.0 and f1.r2 < f0.r2
    with pytest.raises(ValueError, match="ridge"):
        fit_table(space, archs, y, ridge=-1)
    with pytest.raises(ValueError, match="measurements"):
        fit_table(space, archs, y[:-1])
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match=r"measurements\[3\]"):
        fit_table(space, archs, bad)
    with pytest.raises(ValueError, match="fit_table: gauge must be one of 'min', 'mean', got "
                                         "'median'"):
        fit_table(space, archs, y, gauge="median")
    with pytest.raises(ValueError, match="fit_table: unseen must be one of"):
        fit_table(space, archs, y, unseen="avg")
    assert fit_table(space, archs, y, gauge="mean").gauge is Gauge.MEAN
    depths = np.full((2, 5), 2)
    ops = np.zeros((2, 20), dtype=np.int64)
    ops[1, 7] = 12
    with pytest.raises(ValueError, match="row 1 has op index 12"):
        fit_table(space, (depths, ops), [1.0, 2.0])
    depths[0, 2] = 5
    with pytest.raises(ValueError, match="row 0 has depth 5"):
        fit_table(space, (depths, np.zeros_like(ops)), [1.0, 2.0])


def test_design_matrix_matches_table_evaluation():
    space = bo.SearchSpace.mobilenet_v3()
    truth = _truth(space, 9)
    archs = space.sample(3, n=50)
    depths, ops = as_arrays(space, archs)
    x = design_matrix(space, depths, ops)
    theta = np.concatenate([truth.depth_values, truth.op_values])
    np.testing.assert_allclose(truth.const + x @ theta, truth.evaluate(archs))


def test_lazy_export():
    assert bo.fit_table is fit_table and bo.TableFit is TableFit
