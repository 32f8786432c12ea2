"""Importers of Once-for-All YAML and FBNet JSON lookup tables."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

import binas_opt as bo
from binas_opt.io.fbnet import FBNET_OPS, fbnet_space, read_fbnet_json
from binas_opt.io.lut import LutImport
from binas_opt.io.ofa import read_ofa_yaml, read_ofa_yaml_by_resolution

FIX = Path("/work/shared/data/lut_fixtures")
OFA224 = FIX / "ofa_yaml" / "224_lookup_table.yaml"
FBNET = FIX / "fbnet_pi4" / "lookup_table_pi.json"

pytestmark = pytest.mark.skipif(not FIX.exists(), reason="lookup-table fixtures not available")


def _raw_mean(key):
    return yaml.safe_load(OFA224.read_text())[key]["mean"]


def test_ofa_yaml_infers_space_and_values():
    lut = read_ofa_yaml(OFA224)
    assert isinstance(lut, LutImport) and lut.resolution == 224
    sp = lut.space
    assert sp.n_stages == 6
    assert [st.depths for st in sp.stages] == [(2, 3, 4)] * 5 + [(1,)]
    assert [st.channels for st in sp.stages] == [30, 40, 80, 100, 190, 320]
    assert [st.stride for st in sp.stages] == [2, 2, 2, 1, 2, 1]
    assert sp.stages[0].ops[0] == ("k3_e4", "k5_e4", "k7_e4", "k3_e5", "k5_e5", "k7_e5",
                                   "k3_e6", "k5_e6", "k7_e6")
    assert lut.table.unit == "ms" and lut.table.name == "latency"
    fixed = {e.key for e in lut.fixed}
    assert fixed == {
        "Conv-input:224x224x3-output:112x112x30", "Conv_1-input:7x7x320-output:7x7x1280",
        "Logits-input:7x7x1280-output:1000",
        "expanded_conv-input:112x112x30-output:112x112x20-expand:1-kernel:3-stride:1-idskip:0",
    }
    assert lut.table.const == pytest.approx(sum(_raw_mean(k) for k in fixed))
    # one architecture by hand: stage 1 depth 3 with ops k5_e4, k3_e6, k7_e5
    arch = bo.Architecture((2, 3, 2, 2, 2, 1),
                           ((0, 0, 0, 0), (1, 6, 5, 0), (0,) * 4, (0,) * 4, (0,) * 4, (0,)))
    base = bo.Architecture((2, 2, 2, 2, 2, 1), ((0,) * 4, (1, 6, 0, 0), (0,) * 4, (0,) * 4,
                                                 (0,) * 4, (0,)))
    extra = _raw_mean("expanded_conv-input:28x28x40-output:28x28x40-expand:5-kernel:7-stride:1-"
                      "idskip:1")
    assert lut.table(arch) - lut.table(base) == pytest.approx(extra)
    first = _raw_mean("expanded_conv-input:56x56x30-output:28x28x40-expand:4-kernel:5-stride:2-"
                      "idskip:0")
    assert lut.table.op_table(1, 0)[1] == pytest.approx(first)
    assert lut.std is not None and lut.std.op_values.min() >= 0


def test_ofa_folder_gives_one_table_per_resolution_on_one_space():
    luts = read_ofa_yaml_by_resolution(FIX / "ofa_yaml")
    assert isinstance(luts, dict) and sorted(luts) == [128, 144, 160, 176, 192, 208, 224]
    spaces = {id(v.space) for v in luts.values()}
    assert len(spaces) == 1
    mins = [luts[r].table.min_value() for r in sorted(luts)]
    assert np.all(np.diff(mins) > 0)  # larger inputs are slower
    assert all(isinstance(v, LutImport) and v.resolution == r for r, v in luts.items())
    files = sorted((FIX / "ofa_yaml").glob("*.yaml"))[:2]
    two = read_ofa_yaml_by_resolution(files)
    r = min(two)
    assert len(two) == 2 and two[r].table.equals(luts[r].table)
    one = read_ofa_yaml_by_resolution(OFA224)  # one file: a dict with one entry
    assert list(one) == [224] and one[224].table.equals(read_ofa_yaml(OFA224).table)


def test_ofa_readers_have_one_return_type_each(tmp_path):
    with pytest.raises(ValueError, match="is a folder; read_ofa_yaml_by_resolution"):
        read_ofa_yaml(FIX / "ofa_yaml")
    with pytest.raises(ValueError, match="no paths given"):
        read_ofa_yaml_by_resolution([])
    with pytest.raises(FileNotFoundError, match="no .yaml lookup tables"):
        read_ofa_yaml_by_resolution(tmp_path)
    (tmp_path / "a.yaml").write_text(OFA224.read_text())
    (tmp_path / "b.yaml").write_text(OFA224.read_text())
    with pytest.raises(ValueError, match="a second table for resolution 224"):
        read_ofa_yaml_by_resolution(tmp_path)


def test_ofa_with_given_space_validates():
    lut = read_ofa_yaml(OFA224)
    again = read_ofa_yaml(OFA224, lut.space)
    assert again.table.equals(lut.table)
    # a restricted space (fewer ops, fewer depths) maps by label
    stages = [bo.Stage((2, 3), ["k7_e6", "k3_e4"], channels=st.channels, stride=st.stride)
              if st.max_depth > 1 else bo.Stage((1,), ["k3_e4"]) for st in lut.space.stages]
    small = read_ofa_yaml(OFA224, bo.SearchSpace(stages))
    assert small.table.op_table(2, 1)[0] == lut.table.op_table(2, 1)[8]
    assert small.table.const == lut.table.const
    bad = [bo.Stage((2,), ["k9_e4"]) if s == 3 else st for s, st in enumerate(stages)]
    with pytest.raises(ValueError, match="stage3 block 0 op 'k9_e4' is not in the file"):
        read_ofa_yaml(OFA224, bo.SearchSpace(bad))
    with pytest.raises(ValueError, match="6 searchable stages, the space has 5"):
        read_ofa_yaml(OFA224, bo.SearchSpace(stages[:5]))
    wrong_c = [bo.Stage((2,), ["k3_e4"], name="x", channels=24, stride=2)] + stages[1:]
    with pytest.raises(ValueError, match="x has 24 channels"):
        read_ofa_yaml(OFA224, bo.SearchSpace(wrong_c))
    single = [bo.Stage((1,), ["k3_e4"])] * 5 + [bo.Stage((1, 2), ["k3_e4"])]
    with pytest.raises(ValueError, match="no repeatable"):
        read_ofa_yaml(OFA224, bo.SearchSpace(single))


def test_ofa_custom_depths_and_bad_files(tmp_path):
    lut = read_ofa_yaml(OFA224, depths=(1, 2, 3, 4))
    assert lut.space.stages[0].depths == (1, 2, 3, 4)
    data = yaml.safe_load(OFA224.read_text())
    key = next(k for k in data if k.startswith("expanded_conv-input:14x14x80-output:14x14x80"))
    broken = dict(data)
    broken[key] = {"count": 3, "mean": -1.0, "std": 0.1}
    p = tmp_path / "neg.yaml"
    p.write_text(yaml.safe_dump(broken))
    with pytest.raises(ValueError, match="mean -1.0"):
        read_ofa_yaml(p)
    p.write_text(yaml.safe_dump({"expanded_conv-input:14x14-expand:4": {"mean": 1.0}}))
    with pytest.raises(ValueError, match="'output'"):
        read_ofa_yaml(p)
    with pytest.raises(FileNotFoundError):
        read_ofa_yaml(tmp_path / "missing.yaml")


def test_fbnet_json():
    lut = read_fbnet_json(FBNET)
    raw = json.loads(FBNET.read_text())
    layers = [v for v in raw if v is not None]
    sp = lut.space
    assert sp.n_stages == 22 and all(st.depths == (1,) for st in sp.stages)
    assert [len(st.ops[0]) for st in sp.stages] == [len(v) for v in layers]
    assert sp.stages[1].ops[0] == FBNET_OPS[:8] and sp.stages[2].ops[0] == FBNET_OPS
    assert [st.channels for st in sp.stages][:6] == [16, 24, 24, 24, 24, 32]
    assert lut.table.unit == "us" and lut.table.const == 0.0 and lut.std is None
    # the cheapest network: skip wherever allowed, else the cheapest op
    assert lut.table.min_value() == pytest.approx(sum(min(v) for v in layers))
    skip_arch = bo.Architecture((1,) * 22, tuple((len(v) - 1,) for v in layers))
    expect = sum(v[-1] for v in layers)
    assert lut.table(skip_arch) == pytest.approx(expect)
    # as a budget in milliseconds
    c = lut.table <= bo.Budget(100, "ms")
    assert c.budget == pytest.approx(1e5)


def test_fbnet_with_given_space():
    lut = read_fbnet_json(FBNET, fbnet_space([9, 8, 9, 9, 9, 8, 9, 9, 9, 8, 9, 9, 9, 8, 9, 9, 9, 8,
                                              9, 9, 9, 8]))
    assert lut.table.equals(read_fbnet_json(FBNET).table)
    with pytest.raises(ValueError, match="tbs1_0 op 'skip' is not in the file"):
        read_fbnet_json(FBNET, fbnet_space())  # HELP's space allows skip everywhere
    with pytest.raises(ValueError, match="22 searchable layers, the space has 2"):
        read_fbnet_json(FBNET, bo.SearchSpace([bo.Stage((1,), ["skip"])] * 2))
    deep = bo.SearchSpace([bo.Stage((1, 2), ["k3_e1"])] * 22)
    with pytest.raises(ValueError, match="depths"):
        read_fbnet_json(FBNET, deep)


def test_fbnet_bad_file(tmp_path):
    p = tmp_path / "t.json"
    p.write_text(json.dumps([None, [1.0, float("inf")]]).replace("Infinity", "1e999"))
    with pytest.raises(ValueError, match="entry 1 op 'k3_e1_g2'"):
        read_fbnet_json(p)
    p.write_text(json.dumps({"a": 1}))
    with pytest.raises(ValueError, match="JSON list"):
        read_fbnet_json(p)


def test_lazy_exports():
    assert bo.read_ofa_yaml is read_ofa_yaml and bo.read_fbnet_json is read_fbnet_json
    assert bo.read_ofa_yaml_by_resolution is read_ofa_yaml_by_resolution
