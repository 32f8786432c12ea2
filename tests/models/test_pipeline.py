"""End-to-end pipeline on Fashion-MNIST with tiny settings, and its CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from binas_opt.models import data  # noqa: E402
from binas_opt.models.pipeline import STEPS, PipelineConfig, run_pipeline  # noqa: E402

import binas_opt as bo  # noqa: E402
from binas_opt.cli import main as cli_main  # noqa: E402

pytestmark = pytest.mark.torch


def _have_dataset() -> bool:
    try:
        data.load_fashion_mnist()
    except data.DatasetNotFoundError:
        return False
    return True


def test_cli_reports_missing_dataset(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    rc = cli_main(["pipeline", "--tiny", "--out", str(tmp_path / "out"), "--no-progress"])
    assert rc == 1  # an error, not a usage error (2)
    captured = capsys.readouterr()
    err = captured.err
    assert "apt-get install dataset-fashion-mnist" in err and "--root" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    # the output folder is printed first, and the smoke test's accuracy caveat
    assert str((tmp_path / "out").resolve()) in captured.out and "chance level" in captured.out


def test_pipeline_help_shows_the_output_folder_and_presets(capsys):
    assert cli_main(["pipeline", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: binas_pipeline)" in out and "--small" in out and "chance level" in out


def test_presets_and_space_spelling():
    tiny, small = PipelineConfig.tiny(), PipelineConfig.small()
    assert tiny.space == "fashion_mnist_tiny" and small.space == "fashion_mnist"
    assert small.train_subset > tiny.train_subset
    assert PipelineConfig(space="fashion-mnist-tiny").validate().space == "fashion_mnist_tiny"


@pytest.mark.slow
def test_tiny_pipeline_end_to_end_and_resume(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    if not _have_dataset():
        pytest.skip("dataset-fashion-mnist is not installed")
    out = tmp_path / "run"
    report = run_pipeline(PipelineConfig.tiny(threads=1), out, progress=False)
    doc = json.loads((out / "report.json").read_text())
    assert doc["format"] == "binas-opt-pipeline-report"
    assert list(doc["step_times"]) == list(STEPS)
    assert all(v >= 0 for v in doc["step_times"].values())

    space = bo.load(out / "space.json")
    accuracy = bo.load(out / "accuracy_table.json")
    latency = bo.load(out / "latency_table.json")
    assert accuracy.unit == "%" and latency.unit == "ms"
    budgets = doc["latency"]["budgets_ms"]
    assert len(report.children) == 3 and budgets == sorted(budgets)
    assert latency.min_value() <= budgets[0] and budgets[-1] <= latency.max_value()
    preds = []
    for child, budget in zip(report.children, budgets, strict=True):
        assert child.status == "optimal", child.message
        arch = bo.Architecture.from_string(child.architecture, space)
        # the solved child satisfies its budget by the table, and the numbers are the tables'
        assert latency(arch) <= budget  # budgets are exact (no tolerance)
        assert child.predicted_latency_ms == pytest.approx(latency(arch))
        assert child.predicted_accuracy == pytest.approx(accuracy(arch))
        assert child.measured_latency_ms > 0 and child.params > 0
        for acc in (child.oneshot_accuracy, child.finetuned_val_accuracy, child.test_accuracy):
            assert 0.0 <= acc <= 100.0
        preds.append(child.predicted_accuracy)
    assert np.all(np.diff(preds) >= -1e-9)  # a looser budget never predicts worse

    # the command line resumes from the same folder: no training, no new measurement
    rc = cli_main(["pipeline", "--tiny", "--out", str(out), "--threads", "1", "--no-progress"])
    assert rc == 0
    assert "budget(ms)" in capsys.readouterr().out
    again = json.loads((out / "report.json").read_text())
    assert again["supernet"]["resumed_from"] == again["supernet"]["epochs_done"] == 2
    assert again["contributions"]["measured"] == 0
    assert [c["architecture"] for c in again["children"]] == [
        c.architecture for c in report.children]
