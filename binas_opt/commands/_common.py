"""Argument handling shared by the sub-commands: problem input, budgets and backend options."""

from __future__ import annotations

import argparse
import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from binas_opt.model.problem import Problem
from binas_opt.model.units import Budget

__all__ = ["EXAMPLES", "LoadedProblem", "add_problem_arguments", "load_problem_arg",
           "parse_assignments", "format_architecture"]

#: Names of bundled example problems accepted in place of a problem JSON file.
EXAMPLES = ("nas-bench-macro",)


@dataclass(frozen=True)
class LoadedProblem:
    """The problem to solve, and the bundled benchmark when it came from one."""

    problem: Problem
    example: Any = None  # binas_opt.datasets.NasBenchMacro for the bundled example


def add_problem_arguments(parser: argparse.ArgumentParser) -> None:
    """``problem`` (JSON path or example name), ``--budget NAME=VALUE``, example settings."""
    parser.add_argument(
        "problem",
        help="a problem JSON file (written by binas_opt.save) or a bundled example: "
             + ", ".join(EXAMPLES),
    )
    parser.add_argument(
        "--budget", action="append", default=[], metavar="NAME=VALUE",
        help="budget on a resource, e.g. flops=100e6 or latency=40ms (repeatable); for a JSON "
             "problem it overrides that constraint's budget",
    )
    parser.add_argument("--n-samples", type=int, default=100,
                        help="bundled example: architectures used to fit the accuracy table")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def parse_assignments(items: list[str], what: str) -> dict[str, str]:
    """``["a=1", "b=2"]`` -> ``{"a": "1", "b": "2"}`` with a clear error otherwise."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"{what} {item!r} is not of the form NAME=VALUE")
        out[name.strip()] = value.strip()
    return out


def parse_option_value(text: str) -> Any:
    """A backend option value: a Python literal (number, bool, None, string) or a bare string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def load_problem_arg(args: argparse.Namespace) -> LoadedProblem:
    """Build the problem named by ``args.problem`` with the budgets of ``args.budget``."""
    budgets = {k: Budget.parse(v) for k, v in parse_assignments(args.budget, "--budget").items()}
    if args.problem in EXAMPLES:
        from binas_opt.datasets import nas_bench_macro

        data = nas_bench_macro(n_samples=args.n_samples, seed=args.seed)
        tables = {"flops": data.flops, "params": data.params}
        unknown = set(budgets) - set(tables)
        if unknown:
            raise ValueError(
                f"unknown budget(s) {sorted(unknown)} for {args.problem}; valid: {sorted(tables)}"
            )
        cons = [tables[k] <= b for k, b in budgets.items()]
        return LoadedProblem(Problem(data.space, data.accuracy, cons), data)
    path = Path(args.problem)
    if not path.exists():
        raise FileNotFoundError(
            f"{args.problem!r} is neither a file nor a bundled example ({', '.join(EXAMPLES)})"
        )
    from binas_opt.io import load

    problem = load(path)
    if not isinstance(problem, Problem):
        raise ValueError(f"{path} holds a {type(problem).__name__}, not a Problem")
    return LoadedProblem(problem.with_budgets(budgets) if budgets else problem)


def format_architecture(problem: Problem, arch) -> str:
    """The timm arch string for MobileNetV3-style spaces, else depths and op labels."""
    space = problem.space
    try:
        return arch.to_string(space)
    except ValueError:
        parts = []
        for s, st in enumerate(space.stages):
            ops = [st.ops[b][arch.ops[s][b]] for b in range(arch.depths[s])]
            parts.append(f"{space.stage_name(s)}: depth {arch.depths[s]} [{', '.join(ops)}]")
        return "\n".join(parts)
