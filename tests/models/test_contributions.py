"""Measured accuracy contributions: paper layout, exactness on an additive truth, resume,
sampled accuracies, and the data-parallel (torchrun) run equal to the single-process one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from binas_opt.models import contributions as C  # noqa: E402
from binas_opt.models.contribution_result import ContributionResult  # noqa: E402
from binas_opt.models.decisions import Decision, DecisionKind, Reference, decisions  # noqa: E402
from binas_opt.models.sampled_accuracies import SampledAccuracies, sample_accuracies  # noqa: E402
from binas_opt.models.subnet_evaluation import BNMode, evaluate_subnet  # noqa: E402

import binas_opt as bo  # noqa: E402
from binas_opt.mbconv.spaces import fashion_mnist_space  # noqa: E402

pytestmark = pytest.mark.torch

N_IMG = 100  # images per batch: accuracies of the additive net are whole percents


@pytest.fixture(autouse=True)
def _one_thread():
    # one intra-op thread: faster than two on a shared 2-core machine, and reproducible
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


class AdditiveNet(torch.nn.Module):
    """A fake supernet whose accuracy on the synthetic batches below is exactly ``truth(arch)``
    percent: input pixel (0, 0) carries the label, pixel (0, 1) the sample's position u in the
    batch, and the prediction is right iff u < accuracy."""

    def __init__(self, truth: bo.Table):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.truth = truth
        self.arch = None
        self.calls = 0

    def set_arch(self, arch):
        self.arch = arch

    def forward(self, x):
        self.calls += 1
        p = self.truth(self.arch) / 100.0
        label = x[:, 0, 0, 0].round().long()
        right = x[:, 0, 0, 1] < p
        pred = torch.where(right, label, (label + 1) % 10)
        return torch.nn.functional.one_hot(pred, 10).float() + 0 * self.dummy


def _additive_batches(n_batches: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n_batches):
        y = torch.randint(0, 10, (N_IMG,), generator=g)
        x = torch.zeros(N_IMG, 1, 28, 28)
        x[:, 0, 0, 0] = y.float()
        x[:, 0, 0, 1] = (torch.arange(N_IMG) + 0.5) / N_IMG
        out.append((x, y))
    return out


@pytest.fixture(scope="module")
def tiny_space():
    return fashion_mnist_space(tiny=True)


@pytest.fixture(scope="module")
def truth(tiny_space):
    rng = np.random.default_rng(7)
    return bo.Table(tiny_space, const=50.0,
                    depth=rng.integers(-5, 6, tiny_space.n_beta).astype(float),
                    op=rng.integers(-3, 4, tiny_space.n_alpha).astype(float))


def _layout_ok(space, res: ContributionResult) -> None:
    t = res.table
    assert t.space == space and t.unit == "%" and t.name == "accuracy"
    assert res.stderr.space == space
    assert t.depth_values.shape == (space.n_beta,) and t.op_values.shape == (space.n_alpha,)
    c, pa, pb, q = t.to_bilinear()
    assert c == pytest.approx(res.base_accuracy)
    assert np.all(pa == 0) and np.array_equal(pb, t.depth_values)
    idx = space.index
    dense = q.toarray()
    active = (idx.alpha_stage[:, None] == idx.beta_stage[None, :]) & (
        idx.beta_depth[None, :] > idx.alpha_block[:, None])
    assert np.all(dense[~active] == 0)
    np.testing.assert_array_equal(dense, np.where(active, t.op_values[:, None], 0.0))
    assert np.all(res.stderr.op_values >= 0) and np.all(res.stderr.depth_values >= 0)
    assert set(res.accuracies) == {d.key for d in decisions(space)}


def test_smallest_reference_is_exact_on_an_additive_truth(tiny_space, truth):
    net = AdditiveNet(truth)
    batches = _additive_batches(4)
    res = C.measure_contributions(net, tiny_space, batches, n_samples=3, calib_batches=1,
                                  reference="smallest", progress=False)
    _layout_ok(tiny_space, res)
    depths, ops = tiny_space.enumerate()
    np.testing.assert_allclose(res.table.evaluate_arrays(depths, ops),
                               truth.evaluate_arrays(depths, ops), atol=1e-9)
    # contributions are relative to the smallest op (index 0: k3) and the smallest depth
    assert np.all(res.table.op_values[tiny_space.index.alpha_op == 0] == 0)
    assert res.evaluations == 3 * (1 + 9 + 18)


def test_uniform_reference_on_an_additive_truth(tiny_space, truth):
    net = AdditiveNet(truth)
    batches = _additive_batches(4)
    res = C.measure_contributions(net, tiny_space, batches, n_samples=16, calib_batches=1,
                                  progress=False)
    _layout_ok(tiny_space, res)
    idx = tiny_space.index
    # op contributions: the truth centred within each block, exact thanks to paired contexts
    blocks = idx.alpha_stage * 10 + idx.alpha_block
    centred = truth.op_values - np.array([truth.op_values[blocks == k].mean() for k in blocks])
    np.testing.assert_allclose(res.table.op_values, centred, atol=1e-9)
    # depth values and the constant are unbiased estimates: a centred depth table, close to
    # the truth's, and rankings nearly exact
    for s in range(tiny_space.n_stages):
        assert res.table.depth_table(s).sum() == pytest.approx(0.0, abs=1e-9)
    depths, ops = tiny_space.enumerate()
    est, tru = res.table.evaluate_arrays(depths, ops), truth.evaluate_arrays(depths, ops)
    from scipy.stats import kendalltau

    assert kendalltau(est, tru).statistic > 0.9
    assert np.abs((est - est.mean()) - (tru - tru.mean())).max() < 4.0
    assert abs(res.base_accuracy - tru.mean()) < 3 * res.stderr.const + 1.0


def test_resume_after_interruption(tiny_space, truth, tmp_path, monkeypatch):
    batches = _additive_batches(4)
    kw = dict(n_samples=2, calib_batches=1, progress=False, seed=5)
    full = C.measure_contributions(AdditiveNet(truth), tiny_space, batches, **kw)
    cache = tmp_path / "contrib.json"
    real = evaluate_subnet
    calls = {"n": 0}

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] > 25:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(C, "evaluate_subnet", flaky)
    with pytest.raises(KeyboardInterrupt):
        C.measure_contributions(AdditiveNet(truth), tiny_space, batches, cache=cache, **kw)
    doc = json.loads(cache.read_text())
    done = set(doc["groups"])
    assert 1 <= len(done) < len(decisions(tiny_space))
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary file
    monkeypatch.setattr(C, "evaluate_subnet", real)
    resumed = C.measure_contributions(AdditiveNet(truth), tiny_space, batches, cache=cache, **kw)
    cached = sum(2 * d.n_options for d in decisions(tiny_space) if d.key in done)
    assert resumed.measured == resumed.evaluations - cached
    assert resumed.table.equals(full.table) and resumed.stderr.equals(full.stderr)
    again = C.measure_contributions(AdditiveNet(truth), tiny_space, batches, cache=cache, **kw)
    assert again.measured == 0 and again.table.equals(full.table)
    with pytest.raises(ValueError, match="n_samples"):
        C.measure_contributions(AdditiveNet(truth), tiny_space, batches, cache=cache,
                                **{**kw, "n_samples": 3})


def test_sample_accuracies_match_the_truth(tiny_space, truth):
    batches = _additive_batches(3)
    s = sample_accuracies(AdditiveNet(truth), tiny_space, batches, 12, seed=3,
                          calib_batches=1, progress=False)
    assert len(s) == 12 and np.all(s.total == 3 * N_IMG)
    np.testing.assert_allclose(s.accuracies, truth.evaluate(list(s.architectures)))
    again = sample_accuracies(AdditiveNet(truth), tiny_space, batches,
                              architectures=s.architectures, seed=3, calib_batches=1,
                              progress=False)
    np.testing.assert_array_equal(again.accuracies, s.accuracies)
    back = SampledAccuracies.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back.architectures == s.architectures


@pytest.mark.slow
def test_real_supernet_layout_and_bn_state_restored(tiny_space):
    from binas_opt.models.supernet import Supernet

    torch.manual_seed(0)
    net = Supernet(tiny_space)
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(150, 1, 28, 28, generator=g), torch.randint(0, 10, (150,), generator=g)
    val = [(x[i:i + 50], y[i:i + 50]) for i in (0, 50)]
    calib = [(x[100:150], y[100:150])]
    before = {k: v.clone() for k, v in net.state_dict().items()}
    res = C.measure_contributions(net, tiny_space, val, calib_loader=calib, n_samples=1,
                                  calib_batches=1, progress=False)
    _layout_ok(tiny_space, res)
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert net.arch is None
    back = ContributionResult.from_dict(json.loads(json.dumps(res.to_dict())))
    assert back.table.equals(res.table) and back.n_samples == 1
    # "batch" statistics leave the running statistics untouched
    c1 = evaluate_subnet(net, tiny_space.sample(0), val, bn="batch")
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert c1[1] == 100


def test_enums_accept_strings_and_name_the_argument_of_a_bad_one(tiny_space, truth):
    assert Decision("op", 0, 1, 3).kind is DecisionKind.OP
    assert [d.kind for d in decisions(tiny_space)[:2]] == ["base", "depth"]
    with pytest.raises(ValueError, match=r"kind must be one of 'base', 'depth', 'op'.*'width'"):
        Decision("width")
    batches = _additive_batches(2)
    with pytest.raises(ValueError, match=r"reference must be one of 'uniform', 'smallest'"):
        C.measure_contributions(AdditiveNet(truth), tiny_space, batches, reference="largest",
                                progress=False)
    with pytest.raises(ValueError, match=r"bn must be one of 'recalibrate', 'batch', 'none'"):
        sample_accuracies(AdditiveNet(truth), tiny_space, batches, 2, bn="running",
                          progress=False)
    assert Reference("smallest") is Reference.SMALLEST and BNMode.parse("none", "bn") == "none"


@pytest.mark.slow
def test_torchrun_two_processes_equal_one(tmp_path):
    torchrun = shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun not on PATH")
    common = ["-m", "binas_opt.models.run_contributions", "--space", "fashion_mnist_tiny",
              "--data", "synthetic", "--val-subset", "150", "--calib-subset", "100",
              "--batch-size", "50", "--calib-batch-size", "50", "--n-samples", "2",
              "--eval-batches", "2", "--calib-batches", "1", "--threads", "1", "--seed", "3",
              "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out1, out2 = tmp_path / "one.json", tmp_path / "two.json"
    subprocess.run([sys.executable, *common, "--out", str(out1)], check=True, env=env,
                   timeout=300, capture_output=True)
    subprocess.run([torchrun, "--standalone", "--nproc_per_node=2", *common,
                    "--out", str(out2), "--cache", str(tmp_path / "cache2.json")],
                   check=True, env=env, timeout=300, capture_output=True)
    one, two = json.loads(out1.read_text()), json.loads(out2.read_text())
    assert one["world_size"] == 1 and two["world_size"] == 2
    assert one["accuracies"] == two["accuracies"]
    assert one["table"] == two["table"] and one["stderr"] == two["stderr"]
    # the raw accuracies differ between sub-networks: the comparison is not vacuous
    assert len({round(v, 6) for row in one["accuracies"]["op/0/0"] for v in row}) > 1
