import json

import pytest

import binas_opt as bo
from binas_opt.cli import main
from binas_opt.testing.synthetic import random_problem


def test_solve_bundled_example(capsys, tmp_path):
    out_json = tmp_path / "r.json"
    assert main(["solve", "nas-bench-macro", "--budget", "flops=60e6", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    for text in ("status:     optimal", "flops", "true accuracy of the chosen architecture",
                 "best true accuracy under the same budgets", "time:"):
        assert text in out
    r = bo.load(out_json)
    assert r.status is bo.Status.OPTIMAL and r.resources["flops"] <= 60e6


def test_solve_problem_file_with_budget_override(capsys, tmp_path):
    p = random_problem(3, n_constraints=1)
    path = bo.save(p, tmp_path / "p.json")
    name = p.constraints[0].name
    assert main(["solve", str(path), "--backend", "brute", "--budget", f"{name}=1e9"]) == 0
    assert "status:     optimal" in capsys.readouterr().out


def test_infeasible_budget_reports_minimum(capsys):
    assert main(["solve", "nas-bench-macro", "--budget", "flops=1e6"]) == 0
    out = capsys.readouterr().out
    assert "infeasible" in out and "smallest achievable flops: 7.71328e+06" in out


@pytest.mark.parametrize(
    "argv, match",
    [
        (["solve", "nas-bench-macro", "--budget", "latency=3ms"], "unknown budget"),
        (["solve", "nas-bench-macro", "--budget", "flops"], "NAME=VALUE"),
        (["solve", "no-such-file.json"], "neither a file nor a bundled example"),
        (["solve", "nas-bench-macro", "--backend", "cplex"], "unknown backend"),
        (["solve", "nas-bench-macro", "--option", "gap=1"], "unknown option"),
    ],
)
def test_cli_errors_are_clear(capsys, argv, match):
    assert main(argv) == 2
    assert match in capsys.readouterr().err


def test_problem_json_is_plain(tmp_path):
    path = bo.save(random_problem(1), tmp_path / "p.json")
    d = json.loads(path.read_text())
    assert d["type"] == "Problem" and d["format"] == "binas-opt"
