"""Latency tables: plan, resumable cache (mocked timer), validation, bad input, CLI, bundled data."""

import json

import numpy as np
import pytest

import binas_opt as bo
from binas_opt.mbconv.arch_def import mbconv_labels
from binas_opt.model.space import FixedPart, SearchSpace, Stage

torch = pytest.importorskip("torch")
import binas_opt.models.latency as lat  # noqa: E402
import binas_opt.models.timing as timing  # noqa: E402
from binas_opt.models import count_params  # noqa: E402
from binas_opt.models.latency_cache import CACHE_FORMAT  # noqa: E402
from binas_opt.models.latency_validation import validate_latency  # noqa: E402

pytestmark = pytest.mark.torch


def tiny_space() -> SearchSpace:
    fx = FixedPart(in_channels=1, stem_channels=8, stem_stride=1,
                   prefix=("ds_r1_k3_s1_e1_c8_nre",), suffix=("cn_r1_k1_s1_c32",),
                   head_features=64, num_classes=10, input_size=16)
    labels = mbconv_labels((3, 6), (3, 5), (False, True))
    return SearchSpace([
        Stage((1, 2, 3), labels, channels=16, stride=2, activation="relu"),
        Stage((2, 3), labels[:4], channels=24, stride=2),
    ], fixed=fx, name="tiny")


class FakeTimer:
    """Deterministic 'seconds' = 1e-6 * parameter count; optionally fails after some calls."""

    def __init__(self, fail_after=None):
        self.calls = 0  # calls that time something (warm-up-only calls are not counted)
        self.timed = 0  # timed repeats in total
        self.fail_after = fail_after

    def __call__(self, module, x, *, warmup, repeats, number=1, threads=1, clock="wall"):
        if repeats == 0:
            return np.zeros(0)
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("simulated interruption")
        self.calls += 1
        self.timed += repeats
        base = 1e-6 * count_params(module)
        return np.full(repeats, base) + np.linspace(0, 1e-9, repeats)


def test_plan_times_each_distinct_block_once(monkeypatch):
    timer = FakeTimer()
    monkeypatch.setattr(timing, "time_module", timer)
    space = SearchSpace.mobilenet_v3()
    m = lat.measure_latency(space, input_size=32, repeats=3, warmup=0, progress=False)
    # blocks 2-4 of a stage share a shape: 2 x 12 configurations per stage, plus pre and post
    assert timer.calls == len(m.entries) == 5 * 24 + 2
    assert len(m.op_keys) == space.n_alpha and len(set(m.op_keys)) == 120
    assert m.table.unit == "ms" and m.table.name == "latency"
    c = m.conditions
    assert (c.batch_size, c.input_size, c.repeats, c.unit, c.device) == (1, 32, 3, "ms", "cpu")
    assert c.torch_version == torch.__version__ and c.date
    # with time = params, the table is the params table (in "ms" = 1e-3 * params)
    pt = bo.params_table(space)
    np.testing.assert_allclose(m.table.op_values, 1e-3 * pt.op_values, rtol=1e-6)
    np.testing.assert_allclose(m.table.const, 1e-3 * pt.const, rtol=1e-6)
    assert np.all(m.op_dispersion() >= 0)


def test_cache_resumes_after_interruption_without_remeasuring(monkeypatch, tmp_path):
    space = tiny_space()
    cache = tmp_path / "cache.json"
    full = FakeTimer()
    monkeypatch.setattr(timing, "time_module", full)
    ref = lat.measure_latency(space, repeats=2, warmup=0, threads=1, progress=False)
    n_total = full.calls

    first = FakeTimer(fail_after=7)
    monkeypatch.setattr(timing, "time_module", first)
    with pytest.raises(KeyboardInterrupt):
        lat.measure_latency(space, repeats=2, warmup=0, threads=1, cache=cache, progress=False)
    saved = json.loads(cache.read_text())
    assert saved["format"] == CACHE_FORMAT and len(saved["entries"]) == 7
    assert not list(tmp_path.glob(".cache.json.*"))  # atomic writes leave no temp files

    second = FakeTimer()
    monkeypatch.setattr(timing, "time_module", second)
    m = lat.measure_latency(space, repeats=2, warmup=0, threads=1, cache=cache, progress=False)
    assert second.calls == n_total - 7
    assert m.table.equals(ref.table)
    assert m.conditions.date == saved["conditions"]["date"]

    third = FakeTimer()
    monkeypatch.setattr(timing, "time_module", third)
    lat.measure_latency(space, repeats=2, warmup=0, threads=1, cache=cache, progress=False)
    assert third.calls == 0

    # a cache measured under other conditions is refused, naming the difference
    with pytest.raises(ValueError, match="threads"):
        lat.measure_latency(space, repeats=2, warmup=0, threads=2, cache=cache, progress=False)


def test_round_robin_cache_resumes_mid_round(monkeypatch, tmp_path):
    space = tiny_space()
    cache = tmp_path / "rr.json"
    full = FakeTimer()
    monkeypatch.setattr(timing, "time_module", full)
    ref = lat.measure_latency(space, repeats=4, warmup=0, rounds=2, progress=False)
    n_entries = len(ref.entries)
    assert full.calls == 2 * n_entries and full.timed == 4 * n_entries
    first = FakeTimer(fail_after=n_entries + 5)  # stops inside the second round
    monkeypatch.setattr(timing, "time_module", first)
    with pytest.raises(KeyboardInterrupt):
        lat.measure_latency(space, repeats=4, warmup=0, rounds=2, cache=cache, progress=False)
    saved = json.loads(cache.read_text())
    assert len(saved["entries"]) == 5 and len(saved["times"]) == n_entries
    second = FakeTimer()
    monkeypatch.setattr(timing, "time_module", second)
    m = lat.measure_latency(space, repeats=4, warmup=0, rounds=2, cache=cache, progress=False)
    assert first.timed + second.timed == 4 * n_entries  # nothing measured twice
    assert m.table.equals(ref.table)
    with pytest.raises(ValueError, match="rounds"):
        lat.measure_latency(space, repeats=2, rounds=3, progress=False)


def test_validate_latency_with_additive_fake_timer(monkeypatch, tmp_path):
    monkeypatch.setattr(timing, "time_module", FakeTimer())
    space = tiny_space()
    m = lat.measure_latency(space, repeats=3, warmup=0, progress=False)
    v = validate_latency(space, m.table, n=6, seed=1, repeats=3, warmup=0, progress=False)
    # fake time is additive over modules, so the table predicts every network exactly
    np.testing.assert_allclose(v.predicted, v.measured, rtol=1e-5)
    assert v.pearson_r > 0.999 and v.mape < 1e-3
    assert v.slope == pytest.approx(1.0, rel=1e-3)
    assert "Pearson r" in v.summary()
    d = v.to_dict()
    assert len(d["predicted"]) == 6 and d["conditions"]["unit"] == "ms"
    # seconds tables are converted
    vs = validate_latency(space, m.table.to_unit("s"), n=3, seed=1, repeats=2, warmup=0,
                          progress=False)
    np.testing.assert_allclose(vs.predicted, vs.measured, rtol=1e-5)


def test_validate_latency_plot(monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(timing, "time_module", FakeTimer())
    space = tiny_space()
    m = lat.measure_latency(space, repeats=2, warmup=0, progress=False)
    out = tmp_path / "val.png"
    validate_latency(space, m.table, n=3, repeats=2, warmup=0, plot=out, progress=False)
    assert out.stat().st_size > 0


def test_bad_input_is_rejected():
    space = tiny_space()
    for kw, match in [({"repeats": 0}, "repeats"), ({"repeats": -3}, "repeats"),
                      ({"warmup": -1}, "warmup"), ({"batch_size": 0}, "batch_size"),
                      ({"threads": 0}, "threads"), ({"device": "tpu"}, "device"),
                      ({"clock": "sundial"}, "clock"), ({"statistic": "mode"}, "statistic"),
                      ({"clock": "cpu", "threads": 2}, "threads=1")]:
        with pytest.raises(ValueError, match=match):
            lat.measure_latency(space, progress=False, **kw)
    bad = SearchSpace([Stage((1,), ["k3_e3", "mystery_op"], channels=8)], fixed=FixedPart())
    with pytest.raises(ValueError, match="mystery_op"):
        lat.measure_latency(bad, repeats=1, progress=False)
    with pytest.raises(ValueError, match="MobileNetV3-style"):
        lat.measure_latency(SearchSpace([Stage((1,), ["k3_e3"])]), progress=False)
    other = bo.Table(SearchSpace.mobilenet_v3(), const=1.0, unit="ms")
    with pytest.raises(ValueError, match="different search space"):
        validate_latency(space, other, n=2, progress=False)
    with pytest.raises(bo.UnitError):
        validate_latency(space, bo.Table(space, const=1.0, unit="MB"), n=2, progress=False)
    with pytest.raises(ValueError, match="repeats"):
        validate_latency(space, bo.Table(space, const=1.0, unit="ms"), n=2, repeats=0,
                         progress=False)


def test_clock_and_statistic_enums():
    space = tiny_space()
    with pytest.raises(ValueError, match=r"clock must be one of 'wall', 'cpu', got 'sundial'"):
        lat.measure_latency(space, clock="sundial", progress=False)
    with pytest.raises(ValueError, match=r"statistic must be one of 'median', 'min', got 'mode'"):
        validate_latency(space, bo.Table(space, const=1.0, unit="ms"), n=2, statistic="mode",
                         progress=False)
    entry = timing.LatencyEntry.from_times(np.array([1e-3, 2e-3, 4e-3]))
    assert entry.value("min") == entry.value(timing.Statistic.MIN) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="statistic"):
        entry.value("mean")
    cond = timing.MeasurementConditions("cpu", "x", "2", 1, 1, 16, 0, 1, 1, clock="cpu",
                                        statistic="min")
    assert cond.clock is timing.Clock.CPU and cond.statistic is timing.Statistic.MIN
    assert cond.to_dict()["clock"] == "cpu" and type(cond.to_dict()["clock"]) is str
    assert timing.MeasurementConditions.from_dict(json.loads(json.dumps(cond.to_dict()))) == cond
    with pytest.raises(ValueError, match="clock"):
        timing.MeasurementConditions.from_dict({**cond.to_dict(), "clock": "sundial"})


def test_real_timer_smoke():
    """The real torch.utils.benchmark path, tiny and few repeats (not a timing claim)."""
    space = tiny_space()
    m = lat.measure_latency(space, repeats=2, warmup=1, threads=1, progress=False)
    assert np.all(m.table.op_values > 0) and m.table.const > 0
    mc = lat.measure_latency(space, repeats=2, warmup=1, threads=1, clock="cpu",
                             statistic="min", progress=False)
    assert mc.conditions.clock == "cpu" and np.all(mc.table.op_values > 0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_table_and_validation():
    space = tiny_space()
    m = lat.measure_latency(space, device="cuda", repeats=3, warmup=2, progress=False)
    assert m.conditions.device.startswith("cuda") and m.table.min_value() > 0
    v = validate_latency(space, m.table, n=3, device="cuda", repeats=3, warmup=2,
                         progress=False)
    assert np.all(v.measured > 0)


def test_cuda_unavailable_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="cuda"):
        lat.measure_latency(tiny_space(), device="cuda", progress=False)


def test_save_load_round_trip(monkeypatch, tmp_path):
    monkeypatch.setattr(timing, "time_module", FakeTimer())
    space = tiny_space()
    m = lat.measure_latency(space, repeats=2, warmup=0, progress=False)
    path = m.save(tmp_path / "t.json")
    table, meta = lat.load_latency(path)
    assert table.equals(m.table)
    assert bo.load(path).equals(m.table)
    assert meta["unit"] == "ms" and meta["threads"] == m.conditions.threads
    assert set(meta["entries"]) == set(m.entries)


def test_cli_measure_latency(monkeypatch, tmp_path, capsys):
    from binas_opt.cli import main

    monkeypatch.setattr(timing, "time_module", FakeTimer())
    space_file = tmp_path / "space.json"
    bo.save(tiny_space(), space_file)
    out = tmp_path / "lat.json"
    rc = main(["measure-latency", "--space", str(space_file), "-o", str(out), "--repeats", "2",
               "--warmup", "0", "--threads", "1", "--validate", "3", "--no-progress",
               "--no-tune-malloc",
               "--cache", str(tmp_path / "c.json")])
    assert rc == 0
    text = capsys.readouterr().out
    assert "validation" in text and "Pearson r" in text
    table, meta = lat.load_latency(out)
    assert table.space == tiny_space() and meta["validation"]["mape"] < 1e-3
    rc = main(["measure-latency", "--space", "nowhere.json", "-o", str(out)])
    assert rc == 1  # a one-line error (exit status 1; 2 is for usage errors)
    rc = main(["measure-latency", "--space", str(space_file), "-o", str(out),
               "--repeats", "0", "--no-progress"])
    assert rc == 1


def test_bundled_cpu_latency_table():
    from binas_opt.datasets.bundled_latency import (
        mobilenet_v3_cpu_latency,
        mobilenet_v3_cpu_latency_metadata,
    )

    t = mobilenet_v3_cpu_latency()
    assert t.space == SearchSpace.mobilenet_v3() and t.unit == "ms"
    assert np.all(t.op_values > 0) and t.const > 0
    meta = mobilenet_v3_cpu_latency_metadata()
    for key in ("device_name", "threads", "batch_size", "input_size", "torch_version", "date",
                "unit"):
        assert key in meta
    assert (meta["batch_size"], meta["input_size"], meta["unit"]) == (1, 224, "ms")
    # bigger ops are slower on average: e6 vs e3, same kernel/SE, same block
    ops = t.op_values.reshape(5, 4, 12)
    assert np.mean(ops[:, :, 8:] > ops[:, :, :4]) > 0.8
