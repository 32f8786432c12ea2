"""``binas-opt solve``: solve a problem file or the bundled example and print the answer."""

from __future__ import annotations

import argparse

from binas_opt.commands._common import (
    add_problem_arguments,
    format_architecture,
    load_problem_arg,
    parse_assignments,
    parse_option_value,
)

NAME = "solve"
HELP = "solve a problem (JSON file or bundled example) under budgets with one backend"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_problem_arguments(parser)
    parser.add_argument("--backend", default="milp", help="backend name (default milp)")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="backend option, e.g. rel_gap=0.01 (repeatable)")
    parser.add_argument("--json", metavar="PATH", help="also save the Result as JSON")


def run(args: argparse.Namespace) -> int:
    from binas_opt.io import save
    from binas_opt.solving.dispatch import solve

    loaded = load_problem_arg(args)
    problem = loaded.problem
    options = {k: parse_option_value(v) for k, v in parse_assignments(args.option, "--option").items()}
    result = solve(problem, backend=args.backend, time_limit=args.time_limit, seed=args.seed,
                   **options)
    print(f"status:     {result.status.value} "
          f"(stopped: {result.termination.value}, backend {result.backend})")
    if result.architecture is not None:
        print("architecture:")
        print("  " + format_architecture(problem, result.architecture).replace("\n", "\n  "))
        print(f"objective:  {result.objective:.6g} (predicted {problem.objective.name or 'objective'})")
        bound = "n/a" if result.bound is None else f"{result.bound:.6g}"
        gap = "n/a" if result.gap is None else f"{result.gap:.3g}"
        print(f"bound:      {bound}   gap: {gap}")
    for c in problem.constraints:
        unit = f" {c.table.unit}" if c.table.unit else ""
        if result.architecture is not None:
            used = result.resources[c.name]
            print(f"  {c.name:<10} {used:>14.6g} {c.sense.value} {c.budget:<14.6g}{unit}"
                  f"  ({100 * used / c.budget if c.budget else float('nan'):.1f}% of budget)")
        else:
            print(f"  {c.name:<10} budget {c.budget:.6g}{unit}")
    if result.min_resources:
        for k, v in result.min_resources.items():
            print(f"  smallest achievable {k}: {v:.6g}")
    if result.status.value != "optimal":
        print(f"note:       {result.status.message}")
    print(f"time:       {result.wall_time * 1e3:.1f} ms (solver {result.solve_time * 1e3:.1f} ms)")
    if loaded.example is not None and result.architecture is not None:
        data = loaded.example
        true = data.true_accuracy(result.architecture)
        best_arch, best = data.true_best(problem.budgets)
        print(f"true accuracy of the chosen architecture: {true:.2f}%")
        print(f"best true accuracy under the same budgets: {best:.2f}% (regret {best - true:.2f} points)")
    if args.json:
        save(result, args.json)
        print(f"result saved to {args.json}")
    return 0 if result.status.value in ("optimal", "feasible", "infeasible", "time_limit") else 1
