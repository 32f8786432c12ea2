"""Supernet: weight sharing, path control, BN recalibration and export to a child network."""

import numpy as np
import pytest

import binas_opt as bo
from binas_opt.mbconv.arch_def import mbconv_labels
from binas_opt.model.space import FixedPart, SearchSpace, Stage

torch = pytest.importorskip("torch")
from binas_opt.models import (  # noqa: E402
    Supernet,
    build_child,
    count_params,
    recalibrate_bn,
)

pytestmark = pytest.mark.torch


def fm_space() -> SearchSpace:
    """The Fashion-MNIST-sized space other code trains on (1 channel, 28x28)."""
    fx = FixedPart(in_channels=1, stem_channels=8, stem_stride=1,
                   prefix=("ds_r1_k3_s1_e1_c8_nre",), suffix=("cn_r1_k1_s1_c64",),
                   head_features=128, num_classes=10, input_size=28)
    labels = mbconv_labels((3, 6), (3, 5), (False, True))
    return SearchSpace([
        Stage((1, 2), labels, channels=16, stride=2, activation="relu"),
        Stage((1, 2, 3), labels, channels=24, stride=2),
        Stage((2, 3), [labels, labels[:3], ["k5_e4_se0.25", "k3_e2"]], channels=32, stride=1),
    ], fixed=fx, name="fm")


def randomise_bn(net):
    g = torch.Generator().manual_seed(1)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=g) - 0.5)


@pytest.fixture(scope="module")
def fm():
    torch.manual_seed(0)
    space = fm_space()
    net = Supernet(space)
    randomise_bn(net)
    return space, net.eval()


@pytest.mark.slow
def test_fixed_arch_forward_equals_exported_child_small_space(fm):
    space, net = fm
    x = torch.randn(3, 1, 28, 28)
    for arch in [*space.sample(np.random.default_rng(0), 6), net.heaviest_arch(),
                 net.smallest_arch()]:
        net.set_arch(arch)
        child = build_child(space, arch, net).eval()
        with torch.no_grad():
            a, b = net(x), child(x)
        assert a.shape == (3, 10)
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    net.set_arch(None)


@pytest.mark.slow
def test_fixed_arch_forward_equals_exported_child_paper_space():
    torch.manual_seed(0)
    space = SearchSpace.mobilenet_v3()
    net = Supernet(space, num_classes=7)
    randomise_bn(net)
    net.eval()
    x = torch.randn(2, 3, 64, 64)
    for arch in space.sample(np.random.default_rng(3), 2):
        net.set_arch(arch)
        child = build_child(space, arch, net).eval()
        assert child.head.classifier.out_features == 7
        assert count_params(child) == bo.params_table(space, num_classes=7)(arch)
        with torch.no_grad():
            torch.testing.assert_close(net(x), child(x), rtol=1e-5, atol=1e-5)


def test_per_sample_paths_equal_single_paths(fm):
    space, net = fm
    net.set_arch(None)
    net.set_sampling("sample", 5)
    x = torch.randn(6, 1, 28, 28)
    with torch.no_grad():
        y = net(x)
    depths, ops = net.last_sample
    archs = space.architectures_from_arrays(depths, ops)
    assert len({a.canonical() for a in archs}) > 1
    for i, a in enumerate(archs):
        with torch.no_grad():
            yi = net.forward_arch(x[i:i + 1], a)
        torch.testing.assert_close(y[i:i + 1], yi, rtol=1e-5, atol=1e-6)
    net.set_sampling("batch")


@pytest.mark.slow
def test_sampling_modes_train_and_backprop():
    torch.manual_seed(0)
    space = fm_space()
    net = Supernet(space, dropout=0.1).train()
    x = torch.randn(4, 1, 28, 28)
    for mode in ("batch", "sample"):
        net.set_sampling(mode, 0)
        net.zero_grad()
        net(x).square().mean().backward()
        grads = [p.grad for p in net.parameters() if p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads)
    # batch mode draws a new architecture per forward, reproducibly from the seed
    net.set_sampling("batch", 42)
    seen = []
    for _ in range(5):
        with torch.no_grad():
            net(x)
        seen.append(net.last_arch)
    assert len(set(seen)) > 1
    net.set_sampling("batch", 42)
    with torch.no_grad():
        net(x)
    assert net.last_arch == seen[0]
    assert net.sample_arch(np.random.default_rng(1)) == space.sample(np.random.default_rng(1))


def test_heaviest_and_smallest(fm):
    space, net = fm
    heavy, small = net.heaviest_arch(), net.smallest_arch()
    assert heavy.depths == tuple(st.max_depth for st in space.stages)
    assert small.depths == tuple(st.min_depth for st in space.stages)
    assert heavy.ops[2][:3] == (7, 2, 0)  # widest, then largest kernel, then SE
    paper = SearchSpace.mobilenet_v3()
    pnet = Supernet(paper)
    pt, mt = bo.params_table(paper), bo.macs_table(paper)
    assert pt(pnet.heaviest_arch()) == pt.max_value()
    assert mt(pnet.smallest_arch()) == mt.min_value()


@pytest.mark.slow
def test_recalibrate_bn_matches_recalibrated_child():
    torch.manual_seed(0)
    space = fm_space()
    net = Supernet(space)
    net.train()
    with torch.no_grad():  # some training-mode forwards put stats everywhere
        for _ in range(3):
            net(torch.randn(8, 1, 28, 28))
    arch = space.sample(np.random.default_rng(11))
    loader = [(torch.randn(8, 1, 28, 28) * 2 + 1, torch.zeros(8)) for _ in range(6)]
    other = net.stages[0][0].bn3[-1].running_mean.clone()
    recalibrate_bn(net, arch, loader, n_batches=4)
    assert not net.training and net.arch == arch
    x = torch.randn(5, 1, 28, 28)
    child = build_child(space, arch)
    child.load_state_dict(build_child(space, arch, net).state_dict())
    recalibrate_bn(child, None, loader, n_batches=4)
    with torch.no_grad():
        torch.testing.assert_close(net(x), child(x), rtol=1e-4, atol=1e-5)
    # statistics are cumulative averages over exactly 4 batches; momenta restored
    bn = net.stem.bn1
    assert int(bn.num_batches_tracked) == 4 and bn.momentum == 0.1
    # a BatchNorm off the path keeps its statistics
    used = {(s, arch.ops[s][b]) for s in range(space.n_stages) for b in range(arch.depths[s])}
    if all(net.stages[0][0].specs[o].bn3_index != len(net.stages[0][0].bn3) - 1
           for s, o in used if s == 0):
        torch.testing.assert_close(net.stages[0][0].bn3[-1].running_mean, other)


def test_recalibrate_bn_and_construction_reject_bad_input(fm):
    space, net = fm
    with pytest.raises(ValueError, match="n_batches"):
        recalibrate_bn(net, None, [torch.zeros(2, 1, 28, 28)], 0)
    with pytest.raises(ValueError, match="no batches"):
        recalibrate_bn(net, None, [], 2)
    with pytest.raises(ValueError,
                       match=r"set_sampling: mode must be one of 'batch', 'sample', got 'per-layer'"):
        net.set_sampling("per-layer")
    with pytest.raises(ValueError, match="depth"):
        net.set_arch(bo.Architecture((5, 1, 2), ((0, 0), (0, 0, 0), (0, 0, 0))))
    bad = SearchSpace([Stage((1,), ["k3_e3", "mystery_op"], channels=8)], fixed=FixedPart())
    with pytest.raises(ValueError, match="mystery_op"):
        Supernet(bad)
    with pytest.raises(ValueError, match="FixedPart"):
        Supernet(SearchSpace([Stage((1,), ["k3_e3"], channels=8)]))
    with pytest.raises(ValueError, match="different search space"):
        build_child(SearchSpace.mobilenet_v3(), SearchSpace.mobilenet_v3().sample(0), net)


def test_child_string_round_trip():
    space = SearchSpace.mobilenet_v3()
    for arch in space.sample(np.random.default_rng(5), 5):
        child = build_child(space, arch)
        assert bo.Architecture.from_string(child.arch_string, space) == arch.canonical()
        assert child.arch_string == arch.to_string(space)


def test_one_sampling_enum_for_supernet_and_training(fm):
    from binas_opt.models.supernet import Sampling
    from binas_opt.models.train import TrainSettings

    _, net = fm
    net.set_sampling("sample")
    assert net.sampling is Sampling.SAMPLE
    net.set_sampling(Sampling.BATCH)
    assert net.sampling == "batch"
    assert TrainSettings(sampling="sample").sampling is Sampling.SAMPLE
    assert TrainSettings().to_dict()["sampling"] == "batch"
    with pytest.raises(ValueError, match=r"sampling must be one of 'batch', 'sample', got 'path'"):
        TrainSettings(sampling="path")
