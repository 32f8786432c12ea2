"""The ``binas-opt`` command line: the path from files to an answer, one vocabulary, one-line
errors and documented exit codes."""

from __future__ import annotations

import argparse
import csv
import json
import re
from types import SimpleNamespace

import pytest

import binas_opt as bo
from binas_opt.cli import build_parser, main
from binas_opt.commands._common import (
    EXIT_CODES,
    arch_labels,
    canonical_space_name,
    exit_code,
    parse_arch,
)
from binas_opt.testing.synthetic import random_problem


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


# --------------------------------------------------------------------------- solving
def test_solve_bundled_example(capsys, tmp_path):
    out_json = tmp_path / "r.json"
    rc, out, _ = run(capsys, "solve", "nas-bench-macro", "--budget", "flops=60e6", "--json",
                     out_json)
    assert rc == 0
    for text in ("status:     optimal", "flops", "true accuracy of the chosen architecture",
                 "best true accuracy under the same budgets", "time:"):
        assert text in out
    r = bo.load(out_json)
    assert r.status is bo.Status.OPTIMAL and r.resources["flops"] <= 60e6


def test_underscore_spelling_of_example(capsys):
    rc, out, _ = run(capsys, "solve", "nas_bench_macro", "--budget", "flops=60e6")
    assert rc == 0 and "status:     optimal" in out


def test_solve_problem_file_with_budget_override(capsys, tmp_path):
    p = random_problem(3, n_constraints=1)
    path = bo.save(p, tmp_path / "p.json")
    name = p.constraints[0].name
    rc, out, _ = run(capsys, "solve", path, "--backend", "brute", "--budget", f"{name}=1e9")
    assert rc == 0 and "status:     optimal" in out


def test_infeasible_budget_reports_minimum_and_exits_3(capsys):
    rc, out, _ = run(capsys, "solve", "nas-bench-macro", "--budget", "flops=1e6")
    assert rc == 3
    assert "infeasible" in out and "smallest achievable flops: 7.71328e+06" in out
    assert "result.min_resources" not in out  # the note speaks CLI, not Python


@pytest.mark.parametrize("status, arch, code", [
    ("optimal", True, 0), ("feasible", True, 0), ("infeasible", False, 3),
    ("no_solution", False, 4), ("time_limit", False, 4), ("time_limit", True, 0),
    ("error", False, 1),
])
def test_exit_code_mapping(status, arch, code):
    result = SimpleNamespace(status=SimpleNamespace(value=status),
                             architecture=object() if arch else None)
    assert exit_code(result) == code


def test_exit_codes_are_documented_in_help(capsys):
    rc, out, _ = run(capsys, "--help")
    assert rc == 0
    for code, text in EXIT_CODES.items():
        assert f"  {code}  {text}" in out
    rc, out, _ = run(capsys, "solve", "--help")
    assert rc == 0 and "3  infeasible" in out and "4  no solution found" in out


def test_no_solution_exits_4(capsys, monkeypatch):
    import binas_opt.solving.dispatch as dispatch

    real = dispatch.solve

    def no_solution(problem, **kw):
        r = real(problem, **kw)
        from dataclasses import replace

        status = getattr(bo.Status, "NO_SOLUTION", None) or bo.Status("time_limit")
        return replace(r, status=status, architecture=None, objective=None, bound=None,
                       gap=None, resources={})

    monkeypatch.setattr(dispatch, "solve", no_solution)
    rc, out, _ = run(capsys, "solve", "nas-bench-macro", "--budget", "flops=60e6")
    assert rc == 4 and "note:" in out


def test_version(capsys):
    rc, out, _ = run(capsys, "--version")
    assert rc == 0 and out.strip() == f"binas-opt {bo.__version__}"


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "argv, match",
    [
        (["solve", "nas-bench-macro", "--budget", "latency=3ms"], "unknown budget"),
        (["solve", "nas-bench-macro", "--budget", "flops"], "NAME=VALUE"),
        (["solve", "no-such-file.json"], "neither a file nor a bundled example"),
        (["solve", "nas-bench-macro", "--backend", "cplex"], "unknown backend"),
        (["solve", "nas-bench-macro", "--option", "gap=1"], "unknown option"),
        (["solve", "nas-bench-macro", "--budget", "flops=60M"], "write the number in full, e.g. 60e6"),
        (["solve"], "no problem given"),
        (["compare", "nas-bench-macro", "--budget", "flops=6e7", "--at", "3ms"], "'ms'"),
        (["example-data", "cifar", "-o", "x"], "unknown example data"),
    ],
)
def test_cli_errors_are_one_line(capsys, argv, match):
    rc, _, err = run(capsys, *argv)
    assert rc == 1
    assert match in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"binas-opt {argv[0]}: error: ")


def test_bad_files_are_named(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "binas-opt",\n')
    rc, _, err = run(capsys, "solve", bad)
    assert rc == 1 and str(bad) in err and "malformed JSON" in err

    p = json.loads(json.dumps(bo.io.to_json_dict(random_problem(1))))
    del p["data"]["objective"]
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps(p))
    rc, _, err = run(capsys, "solve", missing)
    assert rc == 1 and str(missing) in err and "objective" in err and "Traceback" not in err

    rc, _, err = run(capsys, "solve", tmp_path)
    assert rc == 1 and "directory" in err and "Traceback" not in err

    table = tmp_path / "t.json"
    rc, _, err = run(capsys, "solve", "--objective", table, "--table", f"flops={table}",
                     "--budget", "flops=1")
    assert rc == 1 and str(table) in err and "no such file" in err


def test_usage_errors_exit_2(capsys):
    rc, _, err = run(capsys, "solve", "nas-bench-macro", "--no-such-option")
    assert rc == 2 and "unrecognized arguments" in err
    rc, _, _ = run(capsys, "pareto", "nas-bench-macro", "--method", "simplex")
    assert rc == 2


# --------------------------------------------------------------------------- help
def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def test_every_option_has_help_and_shows_its_default(capsys):
    parser = build_parser()
    commands = dict(_subparsers(parser))
    assert {"solve", "compare", "pareto", "make-problem", "fit", "example-data", "export",
            "verify", "measure-latency", "pipeline"} <= set(commands)
    problems = []
    for name, sub in commands.items():
        text = sub.format_help()
        flat = " ".join(text.split())
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            label = "/".join(action.option_strings) or action.dest
            if not action.help:
                problems.append(f"{name} {label}: no help text")
                continue
            has_default = not (action.default is None or action.default is False
                               or action.default == [] or action.default is argparse.SUPPRESS)
            if action.option_strings and has_default:
                # the option's own help paragraph states its default
                opt = action.option_strings[-1]
                m = re.search(re.escape(opt) + r"\b.*?(?= --?[a-z]|\Z)", flat[flat.index("options:"):])
                if not m or "default" not in m.group(0):
                    problems.append(f"{name} {label}: default {action.default!r} not shown")
    assert not problems, "\n".join(problems)


def test_compare_at_help_says_it_replaces_the_budget():
    sub = dict(_subparsers(build_parser()))["compare"]
    (at,) = [a for a in sub._actions if "--at" in a.option_strings]
    assert "replace" in at.help and "also" not in at.help


# --------------------------------------------------------------------------- vocabulary
def test_space_names_have_one_spelling():
    for text in ("fashion-mnist-tiny", "fashion_mnist_tiny", "Fashion_MNIST-tiny"):
        assert canonical_space_name(text) == "fashion-mnist-tiny"
    assert canonical_space_name("mobilenet_v3") == "mobilenet-v3"
    assert canonical_space_name("resnet") is None


def test_arch_labels_round_trip():
    space = bo.SearchSpace.mobilenet_v3()
    for seed in range(5):
        a = space.sample(seed)
        text = arch_labels(space, a)
        assert parse_arch(space, text) == a.canonical()
        assert parse_arch(space, a.to_string(space)).canonical() == a.canonical()
        assert parse_arch(space, json.dumps(a.to_dict())) == a


def test_long_architectures_are_wrapped(capsys, tmp_path):
    from binas_opt.datasets import mobilenet_v3_cpu_latency
    from binas_opt.mbconv.counts import params_table

    lat = mobilenet_v3_cpu_latency()
    bo.save(lat, tmp_path / "lat.json")
    bo.save(params_table(lat.space), tmp_path / "params.json")
    rc, out, _ = run(capsys, "solve", "--objective", tmp_path / "params.json", "--table",
                     f"latency={tmp_path / 'lat.json'}", "--budget", "latency=15ms")
    assert rc == 0
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "c24: depth" in out and "k" in out and "arch_def:" in out
    # the wrapped arch_def is still a valid string
    lit = out.split("arch_def:")[1].split("objective:")[0]
    bo.Architecture.from_string(lit, lat.space)


def test_at_takes_units_everywhere(capsys, tmp_path):
    from binas_opt.datasets import mobilenet_v3_cpu_latency
    from binas_opt.mbconv.counts import params_table

    lat = mobilenet_v3_cpu_latency()
    bo.save(lat, tmp_path / "lat.json")
    bo.save(params_table(lat.space), tmp_path / "params.json")
    files = ["--objective", tmp_path / "params.json", "--table", f"latency={tmp_path / 'lat.json'}"]
    rc, out, _ = run(capsys, "compare", *files, "--budget", "latency=0.02s", "--at", "15ms",
                     "--at", "18000us", "--backends", "milp,dp")
    assert rc == 0
    assert "latency<=15 " in out and "latency<=18 " in out
    rc, out, _ = run(capsys, "pareto", *files, "--at", "15ms", "--at", "0.018s")
    assert rc == 0 and "optimal" in out


def test_pareto_prints_op_names(capsys):
    rc, out, _ = run(capsys, "pareto", "nas-bench-macro", "--rows", "5")
    assert rc == 0
    assert "ops=[" not in out and "k5_e6" in out and " | " in out


def test_compare_skips_backends_that_refuse(capsys):
    rc, out, _ = run(capsys, "compare", "nas-bench-macro", "--budget", "flops=60e6",
                     "--budget", "params=1e6", "--backends", "milp,dp")
    assert rc == 0
    (dp_row,) = [line for line in out.splitlines() if re.search(r"\bdp\b", line)]
    assert "skipped" in dp_row and "budget" in dp_row


# --------------------------------------------------------------------------- files -> answer
def test_cli_path_measure_fit_solve(capsys, tmp_path):
    """The commands of docs/user_guide/cli_path.rst on the bundled NAS-Bench-Macro data."""
    d = tmp_path / "macro"
    assert main(["example-data", "nas-bench-macro", "-o", str(d)]) == 0
    rows = list(csv.DictReader((d / "networks.csv").open()))
    assert len(rows) == 100 and set(rows[0]) == {"architecture", "accuracy", "flops", "params"}

    assert main(["fit", str(d / "networks.csv"), "--space", "nas_bench_macro", "--column",
                 "accuracy", "--unit", "%", "-o", str(d / "accuracy.json")]) == 0
    out = capsys.readouterr().out
    assert "R^2" in out
    acc = bo.load(d / "accuracy.json")
    assert acc.name == "accuracy" and acc.unit == "%"

    assert main(["make-problem", "--objective", str(d / "accuracy.json"), "--table",
                 f"flops={d / 'flops.json'}", "--budget", "flops=60e6", "-o",
                 str(d / "problem.json")]) == 0
    problem = bo.load(d / "problem.json")
    assert isinstance(problem, bo.Problem) and problem.budgets == {"flops": 60e6}

    capsys.readouterr()
    assert main(["solve", str(d / "problem.json"), "--json", str(d / "result.json")]) == 0
    from_problem = capsys.readouterr().out
    result = bo.load(d / "result.json")
    assert result.status is bo.Status.OPTIMAL and result.resources["flops"] <= 60e6

    # the same problem straight from the files, and from the CSV rows (fitted on the fly)
    assert main(["solve", "--objective", str(d / "accuracy.json"), "--table",
                 f"flops={d / 'flops.json'}", "--budget", "flops=60e6"]) == 0
    assert capsys.readouterr().out.split("time:")[0] == from_problem.split("time:")[0]
    assert main(["solve", "--space", str(d / "space.json"), "--objective",
                 f"{d / 'networks.csv'}:accuracy", "--table", f"flops={d / 'flops.json'}",
                 "--budget", "flops=60e6"]) == 0
    out = capsys.readouterr().out
    assert "fitted 'accuracy' to 100 rows" in out
    assert "status:     optimal" in out
    # a resource fitted from rows too: flops is exactly additive, so the fit is exact
    assert main(["solve", "--space", "nas-bench-macro", "--objective", str(d / "accuracy.json"),
                 "--table", f"flops={d / 'networks.csv'}", "--budget", "flops=60e6"]) == 0
    assert "R^2 1.0000" in capsys.readouterr().out

    assert main(["compare", str(d / "problem.json"), "--backends", "milp,dp,brute"]) == 0
    assert main(["pareto", "--objective", str(d / "accuracy.json"), "--table",
                 f"flops={d / 'flops.json'}", "--rows", "5"]) == 0
    out = capsys.readouterr().out
    assert "points (exact" in out


@pytest.mark.torch
@pytest.mark.slow
def test_cli_path_export_verify(capsys, tmp_path):
    """Solve on the bundled MobileNetV3 CPU latency table, export the network and time it."""
    torch = pytest.importorskip("torch")
    d = tmp_path / "mbv3"
    assert main(["example-data", "mobilenet_v3", "-o", str(d)]) == 0
    meta = json.loads((d / "latency.json").read_text())["metadata"]
    assert meta["clock"] == "cpu" and meta["input_size"] == 224
    assert main(["solve", "--objective", str(d / "params.json"), "--table",
                 f"latency={d / 'latency.json'}", "--budget", "latency=10ms", "--json",
                 str(d / "result.json")]) == 0
    assert main(["export", str(d / "result.json"), "--space", str(d / "latency.json"), "-o",
                 str(d / "child.pt")]) == 0
    doc = torch.load(d / "child.pt", weights_only=True)
    space = bo.SearchSpace.from_dict(doc["space"])
    assert bo.Architecture.from_string(doc["arch_def"], space) == \
        bo.load(d / "result.json").architecture.canonical()
    capsys.readouterr()
    rc = main(["verify", str(d / "result.json"), "--table", str(d / "latency.json"),
               "--repeats", "3", "--warmup", "1"])
    out = capsys.readouterr().out
    assert rc in (0, 5)  # 5: this machine is slower than the one the table was measured on
    assert "predicted by" in out and "measured whole network" in out and "budget 10.000 ms" in out
