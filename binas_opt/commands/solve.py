"""``binas-opt solve``: solve a problem (file, bundled example or table files) and print it."""

from __future__ import annotations

import argparse

from binas_opt.commands._common import (
    EXIT_CODES_HELP,
    add_problem_arguments,
    exit_code,
    format_architecture,
    load_problem_arg,
    parse_assignments,
    parse_option_value,
)

NAME = "solve"
HELP = "solve a problem under its budgets with one backend and print the answer"
DESCRIPTION = HELP + """.

examples:
  binas-opt solve nas-bench-macro --budget flops=60e6
  binas-opt solve problem.json --budget latency=25ms --json result.json
  binas-opt solve --objective accuracy.json --table latency=latency.json --budget latency=30ms
  binas-opt solve --space nas-bench-macro --objective rows.csv:accuracy \\
      --table flops=flops.json --budget flops=60e6"""
EPILOG = EXIT_CODES_HELP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_problem_arguments(parser)
    parser.add_argument("--backend", default="milp",
                        help="backend name (binas_opt.list_backends(): milp, pulp, dp, fw, relax, "
                             "evo, brute)")
    parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                        help="stop the solver after this many seconds (default: no limit)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="backend option, e.g. rel_gap=0.01 (repeatable)")
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="also save the Result as JSON (binas-opt export / verify read it)")


def print_result(problem, result, example=None) -> None:
    """The answer in a few lines: status, architecture (op names), objective, budgets."""
    print(f"status:     {result.status.value} "
          f"(stopped: {result.termination.value}, backend {result.backend})")
    if result.architecture is not None:
        print("architecture:")
        print(format_architecture(problem, result.architecture))
        print(f"objective:  {result.objective:.6g} (predicted {problem.objective.name or 'objective'})")
        bound = "n/a" if result.bound is None else f"{result.bound:.6g}"
        gap = "n/a" if result.gap is None else f"{result.gap:.3g}"
        print(f"bound:      {bound}   gap: {gap}")
    for c in problem.constraints:
        unit = f" {c.table.unit}" if c.table.unit else ""
        if result.architecture is not None:
            used = result.resources[c.name]
            share = f"{100 * used / c.budget:.1f}% of budget" if c.budget else "budget 0"
            print(f"  {c.name:<10} {used:>14.6g} {c.sense.value} {c.budget:<14.6g}{unit}  ({share})")
        else:
            print(f"  {c.name:<10} budget {c.budget:.6g}{unit}")
    if result.min_resources:
        for k, v in result.min_resources.items():
            print(f"  smallest achievable {k}: {v:.6g}")
    if result.status.value == "infeasible":
        print("note:       no architecture meets every budget; relax a budget to at least the "
              "smallest achievable value above")
    elif result.status.value != "optimal":
        print(f"note:       {result.status.message}")
        if result.message:
            print(f"            {result.message}")
    print(f"time:       {result.wall_time * 1e3:.1f} ms (solver {result.solve_time * 1e3:.1f} ms)")
    if example is not None and result.architecture is not None:
        true = example.true_accuracy(result.architecture)
        _, best = example.true_best(problem.budgets)
        print(f"true accuracy of the chosen architecture: {true:.2f}%")
        print(f"best true accuracy under the same budgets: {best:.2f}% "
              f"(regret {best - true:.2f} points)")


def run(args: argparse.Namespace) -> int:
    from binas_opt.io import save
    from binas_opt.solving.dispatch import solve

    loaded = load_problem_arg(args)
    for note in loaded.notes:
        print(note)
    problem = loaded.problem
    options = {k: parse_option_value(v) for k, v in parse_assignments(args.option, "--option").items()}
    result = solve(problem, backend=args.backend, time_limit=args.time_limit, seed=args.seed,
                   **options)
    print_result(problem, result, loaded.example)
    if args.json:
        save(result, args.json)
        print(f"result saved to {args.json}")
    return exit_code(result)
