"""``binas-opt pareto``: the objective-vs-resource front (or chosen budgets) as a table."""

from __future__ import annotations

import argparse
import json

import numpy as np

from binas_opt.commands._common import (
    CLIError,
    add_problem_arguments,
    arch_labels,
    budget_value,
    format_architecture,
    load_problem_arg,
    parse_budget,
)

NAME = "pareto"
HELP = "trace the exact objective-vs-resource Pareto front, or solve many budgets at once"
DESCRIPTION = HELP + """.

examples:
  binas-opt pareto nas-bench-macro --resource flops
  binas-opt pareto --objective accuracy.json --table latency=latency.json --rows 10
  binas-opt pareto problem.json --at 20ms --at 25ms --at 30ms"""
EPILOG = """exit status:
  0  the front (or every --at budget) was computed; infeasible budgets are rows of the table
  1  bad input or a failed solve
  2  usage error"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_problem_arguments(parser, sweep=True)
    parser.add_argument("--resource", default=None,
                        help="constraint or table to sweep (default: the first; for the bundled "
                             "example any of its resource tables, e.g. flops)")
    parser.add_argument("--at", action="append", default=[], metavar="BUDGET",
                        help="solve exactly at this budget of --resource, with an optional unit, "
                             "e.g. 30ms (repeatable); without it the whole front is printed")
    parser.add_argument("--method", default="auto", choices=["auto", "dp", "milp"],
                        help="auto: the exact Pareto DP when the problem allows it (Table "
                             "objective, one budget), else a warm-started MILP sweep")
    parser.add_argument("--epsilon", type=float, default=0.0,
                        help="epsilon-dominance front within this much of the optimum "
                             "(0: exact)")
    parser.add_argument("--max-points", type=int, default=None,
                        help="bound the front to about this many points, guarantee reported "
                             "(default: no bound)")
    parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                        help="seconds for the whole sweep (default: no limit)")
    parser.add_argument("--rows", type=int, default=25, help="front rows to print")
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="save the front (or the results) as JSON")
    parser.add_argument("--plot", metavar="PATH", default=None,
                        help="save a plot of the front (needs matplotlib)")


def _with_resource(loaded, resource):
    """The problem with ``resource`` as a constraint (unbudgeted tables: budget = their max)."""
    problem = loaded.problem
    names = [c.name for c in problem.constraints]
    extra = {t.name: t for t in loaded.tables}
    if loaded.example is not None:
        extra.update({"flops": loaded.example.flops, "params": loaded.example.params})
    if resource is None:
        if loaded.tables:
            resource = loaded.tables[0].name
        elif names:
            return problem, names[0]
        elif loaded.example is not None:
            resource = "flops"
        else:
            raise CLIError("nothing to sweep: add --table NAME=FILE (with or without a budget)")
    if resource in names:
        return problem, resource
    table = extra.get(resource)
    if table is None:
        raise CLIError(f"--resource {resource!r} is not a constraint or table of the problem "
                       f"(constraints: {', '.join(names) or 'none'}; tables: "
                       f"{', '.join(extra) or 'none'})")
    return problem.with_constraints([*problem.constraints, table <= table.max_value()]), resource


def _front_table(front, max_rows: int) -> str:
    """The front with op names (one compact line per architecture)."""
    n = len(front)
    rows = np.arange(n)
    if max_rows is not None and n > max_rows:
        rows = np.unique(np.linspace(0, n - 1, max_rows).astype(np.int64))
    space = front.problem.space
    unit = f" [{front.unit}]" if front.unit else ""
    name = front.problem.objective.name or "objective"
    head = f"{'#':>6}  {front.resource + unit:>16}  {name:>12}  architecture (op names by stage)"
    lines = [head, "-" * len(head)]
    for i in rows:
        a = front.architecture(int(i))
        lines.append(f"{i:>6}  {front.resources[i]:>16.6g}  {front.objective[i]:>12.6g}  "
                     f"{arch_labels(space, a)}")
    kind = "exact" if front.exact else f"epsilon={front.epsilon:.3g}"
    shown = f", {len(rows)} shown (--rows)" if len(rows) < n else ""
    lines.append(f"{n} points ({kind}, {front.method}, built in {front.build_time * 1e3:.1f} ms"
                 f"{shown})")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from binas_opt.io import atomic_write_text
    from binas_opt.solving.pareto import pareto_front, solve_budgets

    loaded = load_problem_arg(args, sweep=True)
    for note in loaded.notes:
        print(note)
    problem, resource = _with_resource(loaded, args.resource)
    kw = dict(method=args.method, epsilon=args.epsilon, max_points=args.max_points,
              time_limit=args.time_limit, seed=args.seed)
    if args.at:
        table = problem.constraint(resource).table
        budgets = [budget_value(parse_budget(t, "--at"), table, "--at") for t in args.at]
        results = solve_budgets(problem, resource, budgets, **kw)
        unit = table.unit or ""
        print(f"{'budget':>14}  {'status':<11} {'objective':>12} {resource:>14}  time [ms]")
        for b, r in zip(budgets, results, strict=True):
            obj = "-" if r.objective is None else f"{r.objective:.6g}"
            used = "-" if r.architecture is None else f"{r.resources[resource]:.6g}"
            print(f"{b:>14.6g}  {r.status.value:<11} {obj:>12} {used:>14}  {r.wall_time * 1e3:.2f}")
        for b, r in zip(budgets, results, strict=True):
            if r.architecture is not None:
                print(f"\n{resource} <= {b:g} {unit}:")
                print(format_architecture(problem, r.architecture))
        if args.json:
            atomic_write_text(args.json, json.dumps([r.to_dict() for r in results], indent=1,
                                                    allow_nan=False))
            print(f"results saved to {args.json}")
        if args.plot:
            front = pareto_front(problem, resource, **kw)
            _plot(front, results, args.plot)
        return 0
    front = pareto_front(problem, resource, **kw)
    print(_front_table(front, args.rows))
    if not front.complete:
        print("note: the MILP sweep stopped early (time limit or point limit); the front is partial")
    if args.json:
        front.save(args.json)
        print(f"front saved to {args.json}")
    if args.plot:
        _plot(front, None, args.plot)
    return 0


def _solve_budgets(problem, resource, budgets, kw):
    """One exact Result per budget (``solve_budgets``; older: ``pareto_front(budgets=)``)."""
    try:
        from binas_opt.solving.pareto import solve_budgets
    except ImportError:  # pragma: no cover - before the split of pareto_front
        from binas_opt.solving.pareto import pareto_front

        return pareto_front(problem, resource, budgets=budgets, **kw)
    return solve_budgets(problem, resource, budgets, **kw)


def _plot(front, results, path):
    from binas_opt.analysis.plotting import plot_pareto

    plot_pareto(front, results).savefig(path, dpi=120)
    print(f"plot saved to {path}")
