"""``binas-opt pareto``: the objective-vs-resource front (or chosen budgets) as a table."""

from __future__ import annotations

import argparse
import json

from binas_opt.commands._common import add_problem_arguments, format_architecture, load_problem_arg

NAME = "pareto"
HELP = "trace the exact objective-vs-resource Pareto front, or solve many budgets at once"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_problem_arguments(parser)
    parser.add_argument("--resource", default=None,
                        help="constraint to sweep (default: the first; for the bundled example "
                             "any of its resource tables, e.g. flops)")
    parser.add_argument("--at", type=float, action="append", default=[], metavar="BUDGET",
                        help="solve exactly at this budget of --resource (repeatable); without "
                             "it the whole front is printed")
    parser.add_argument("--method", default="auto", choices=["auto", "dp", "milp"])
    parser.add_argument("--epsilon", type=float, default=0.0,
                        help="epsilon-dominance front within this much of the optimum")
    parser.add_argument("--max-points", type=int, default=None,
                        help="bound the front to about this many points (guarantee reported)")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds")
    parser.add_argument("--rows", type=int, default=25, help="front rows to print (default 25)")
    parser.add_argument("--json", metavar="PATH", help="save the front (or the results) as JSON")
    parser.add_argument("--plot", metavar="PATH", help="save a plot of the front (needs matplotlib)")


def _with_resource(loaded, resource):
    problem = loaded.problem
    names = [c.name for c in problem.constraints]
    if resource is None:
        if names:
            return problem, names[0]
        resource = "flops" if loaded.example is not None else None
    if resource in names:
        return problem, resource
    table = getattr(loaded.example, resource, None) if loaded.example is not None else None
    if table is None:
        raise ValueError(f"--resource {resource!r} is not a constraint of the problem "
                         f"(constraints: {names}); add a budget for it")
    return problem.with_constraints([*problem.constraints, table <= table.max_value()]), resource


def run(args: argparse.Namespace) -> int:
    from binas_opt.io import atomic_write_text
    from binas_opt.solving.pareto import pareto_front

    loaded = load_problem_arg(args)
    problem, resource = _with_resource(loaded, args.resource)
    kw = dict(method=args.method, epsilon=args.epsilon, max_points=args.max_points,
              time_limit=args.time_limit, seed=args.seed)
    if args.at:
        results = pareto_front(problem, resource, budgets=args.at, **kw)
        unit = problem.constraint(resource).table.unit or ""
        print(f"{'budget':>14}  {'status':<11} {'objective':>12} {resource:>14}  time [ms]")
        for b, r in zip(args.at, results, strict=True):
            obj = "-" if r.objective is None else f"{r.objective:.6g}"
            used = "-" if r.architecture is None else f"{r.resources[resource]:.6g}"
            print(f"{b:>14.6g}  {r.status.value:<11} {obj:>12} {used:>14}  {r.wall_time * 1e3:.2f}")
        for b, r in zip(args.at, results, strict=True):
            if r.architecture is not None:
                print(f"\n{resource} <= {b:g} {unit}:")
                print("  " + format_architecture(problem, r.architecture).replace("\n", "\n  "))
        if args.json:
            atomic_write_text(args.json, json.dumps([r.to_dict() for r in results], indent=1,
                                                    allow_nan=False))
        if args.plot:
            front = pareto_front(problem, resource, **kw)
            _plot(front, results, args.plot)
        return 0
    front = pareto_front(problem, resource, **kw)
    print(front.table(args.rows))
    if not front.complete:
        print("note: the MILP sweep stopped early (time limit or point limit); the front is partial")
    if args.json:
        front.save(args.json)
        print(f"front saved to {args.json}")
    if args.plot:
        _plot(front, None, args.plot)
    return 0


def _plot(front, results, path):
    from binas_opt.analysis.plotting import plot_pareto

    plot_pareto(front, results).savefig(path, dpi=120)
    print(f"plot saved to {path}")
