import json
from pathlib import Path

import numpy as np
import pytest

import binas_opt as bo
from binas_opt.datasets import nas_bench_macro
from binas_opt.datasets.macro import encodings, true_accuracies

RAW = (Path(__file__).resolve().parents[3] / "shared" / "data" / "nas_bench_macro"
       / "nas-bench-macro_cifar10.json")


@pytest.fixture(scope="module")
def data():
    return nas_bench_macro(n_samples=100, seed=0)


def test_space_shape(data):
    space = data.space
    assert [s.max_depth for s in space.stages] == [2, 3, 3]
    assert space.num_architectures == 9 * 21 * 21
    assert space.stages[1].ops[0] == ("down", "k3_e3", "k5_e6")
    assert space.stages[1].ops[1] == ("k3_e3", "k5_e6")


@pytest.mark.skipif(not RAW.exists(), reason="shared data folder not present")
def test_tables_and_truth_equal_the_raw_benchmark(data):
    raw = json.loads(RAW.read_text())
    depths, ops = data.space.enumerate()
    enc = encodings(data.space, depths, ops)
    keys = ["".join(map(str, row)) for row in enc]
    assert np.array_equal(data.flops.evaluate_arrays(depths, ops), [raw[k]["flops"] for k in keys])
    assert np.array_equal(data.params.evaluate_arrays(depths, ops), [raw[k]["params"] for k in keys])
    archs = data.space.architectures_from_arrays(depths[:50], ops[:50])
    assert np.allclose(true_accuracies(data.space, archs), [raw[k]["mean_acc"] for k in keys[:50]])


def test_fitted_estimator_is_useful(data):
    from scipy.stats import kendalltau

    depths, ops = data.space.enumerate()
    archs = data.space.architectures_from_arrays(depths, ops)
    tau = kendalltau(data.accuracy.evaluate_arrays(depths, ops), true_accuracies(data.space, archs))[0]
    assert tau > 0.5
    assert len(set(data.samples)) == 100


def test_true_best_and_small_regret(data):
    budget = 60e6
    r = bo.solve(bo.Problem(data.space, data.accuracy, [data.flops <= budget]))
    best_arch, best = data.true_best({"flops": budget})
    assert data.flops(best_arch) <= budget and data.flops(r.architecture) <= budget
    assert best >= data.true_accuracy(r.architecture)
    assert best - data.true_accuracy(r.architecture) < 2.0
    with pytest.raises(ValueError, match="no architecture"):
        data.true_best({"flops": 1.0})
    with pytest.raises(ValueError, match="n_samples"):
        nas_bench_macro(n_samples=0)
