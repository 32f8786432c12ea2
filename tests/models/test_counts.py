"""Parameter and MAC counts: timm's golden HardCoRe-NAS numbers and the analytic tables."""

import json
from pathlib import Path

import numpy as np
import pytest

import binas_opt as bo
from binas_opt.mbconv.arch_def import mbconv_labels
from binas_opt.model.space import FixedPart, SearchSpace, Stage

torch = pytest.importorskip("torch")
from binas_opt.models import build_child, build_from_string, count_macs, count_params  # noqa: E402

pytestmark = pytest.mark.torch

GOLDEN = Path("/work/shared/data/golden")
if not GOLDEN.exists():
    GOLDEN = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "golden"


def _golden():
    if not (GOLDEN / "arch_strings.json").exists():
        pytest.skip("golden data not found")
    strings = json.loads((GOLDEN / "arch_strings.json").read_text())["hardcorenas"]
    counts = json.loads((GOLDEN / "timm_hardcorenas_params_macs.json").read_text())
    return strings, counts


def small_space() -> SearchSpace:
    fx = FixedPart(in_channels=1, stem_channels=8, stem_stride=1,
                   prefix=("ds_r1_k3_s1_e1_c8_nre",), suffix=("cn_r1_k1_s1_c64",),
                   head_features=128, num_classes=10, input_size=28)
    labels = mbconv_labels((3, 6), (3, 5), (False, True))
    return SearchSpace([
        Stage((1, 2), labels, channels=16, stride=2, activation="relu"),
        Stage((1, 2, 3), labels[::2] + ["k7_e4_se0.5"], channels=24, stride=2),
        Stage((2, 3), labels, channels=24, stride=1),
    ], fixed=fx, name="small")


@pytest.mark.slow
@pytest.mark.parametrize("name", [f"hardcorenas_{c}" for c in "abcdef"])
def test_hardcorenas_params_and_macs_match_timm(name):
    strings, counts = _golden()
    space = SearchSpace.mobilenet_v3()
    net = build_from_string(space, strings[name])
    assert count_params(net) == counts[name]["params"]
    assert count_macs(net, input_size=224) == counts[name]["macs"]
    # the analytic tables agree at 224 too
    arch = bo.Architecture.from_string(strings[name], space)
    assert bo.params_table(space)(arch) == counts[name]["params"]
    assert bo.macs_table(space)(arch) == counts[name]["macs"]


def test_hardcorenas_strings_round_trip():
    strings, _ = _golden()
    space = SearchSpace.mobilenet_v3()
    for s in strings.values():
        arch = bo.Architecture.from_string(s, space)
        child = build_child(space, arch)
        assert child.arch_string == arch.to_string(space)
        assert bo.Architecture.from_string(child.arch_string, space) == arch.canonical()


def _check_tables(space, archs, input_size):
    pt = bo.params_table(space)
    mt = bo.macs_table(space, input_size=input_size)
    for a in archs:
        net = build_child(space, a)
        assert pt(a) == count_params(net), a
        assert mt(a) == count_macs(net, input_size, space.fixed.in_channels), a


@pytest.mark.slow
def test_analytic_tables_small_space_exact():
    space = small_space()
    archs = space.sample(np.random.default_rng(0), 10)
    _check_tables(space, archs, 28)
    _check_tables(space, archs[:3], 33)  # odd sizes: (H - 1) // s + 1


@pytest.mark.slow
def test_analytic_tables_equal_module_counts_on_50_random_architectures():
    space = SearchSpace.mobilenet_v3()
    archs = space.sample(np.random.default_rng(2024), 50)
    _check_tables(space, archs[:40], 224)
    _check_tables(space, archs[40:], 57)  # and at an odd size


@pytest.mark.slow
def test_analytic_tables_equal_module_counts_quick():
    space = SearchSpace.mobilenet_v3()
    _check_tables(space, space.sample(np.random.default_rng(7), 4), 224)


def test_analytic_tables_are_tables_with_units():
    space = SearchSpace.mobilenet_v3()
    pt, mt = bo.params_table(space), bo.macs_table(space)
    assert (pt.name, pt.unit, mt.name, mt.unit) == ("params", "params", "macs", "MACs")
    assert np.all(pt.op_values > 0) and np.all(mt.op_values > 0)
    assert np.all(pt.depth_values == 0)
    assert pt.min_value() < pt.max_value()
    with pytest.raises(bo.UnitError):
        pt <= bo.Budget(40, "ms")  # noqa: B015


def test_analytic_tables_reject_bad_spaces():
    with pytest.raises(ValueError, match="FixedPart"):
        bo.params_table(SearchSpace([Stage((1, 2), ["k3_e3", "k5_e6"], channels=8)]))
    fx = FixedPart()
    bad = SearchSpace([Stage((1,), ["k3_e3", "conv3x3"], channels=8)], fixed=fx)
    with pytest.raises(ValueError, match="conv3x3"):
        bo.macs_table(bad)
