"""``binas-opt compare``: several backends on the same problem and budgets, side by side."""

from __future__ import annotations

import argparse
import json

from binas_opt.commands._common import (
    add_problem_arguments,
    load_problem_arg,
    parse_assignments,
    parse_option_value,
)

NAME = "compare"
HELP = "run several backends on one problem (and budgets) and print a comparison table"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_problem_arguments(parser)
    parser.add_argument("--backends", default="milp,dp,pulp",
                        help="comma-separated backend names (default milp,dp,pulp)")
    parser.add_argument("--resource", default=None,
                        help="constraint that --at budgets apply to (default: the first)")
    parser.add_argument("--at", type=float, action="append", default=[], metavar="BUDGET",
                        help="also compare at this budget of --resource (repeatable)")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per solve")
    parser.add_argument("--option", action="append", default=[], metavar="BACKEND.KEY=VALUE",
                        help="backend option, e.g. pulp.solver=CBC (repeatable)")
    parser.add_argument("--json", metavar="PATH", help="save the rows as JSON")
    parser.add_argument("--plot", metavar="PATH", help="save a bar chart of the objectives")


def run(args: argparse.Namespace) -> int:
    from binas_opt.io import atomic_write_text
    from binas_opt.solving.comparison import compare

    problem = load_problem_arg(args).problem
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    options: dict[str, dict] = {}
    for key, value in parse_assignments(args.option, "--option").items():
        backend, dot, name = key.partition(".")
        if not dot:
            raise ValueError(f"--option {key!r}: write BACKEND.KEY=VALUE, e.g. pulp.solver=CBC")
        options.setdefault(backend, {})[name] = parse_option_value(value)
    rows = compare(problem, backends, budgets=args.at or None, resource=args.resource,
                   options=options, time_limit=args.time_limit, seed=args.seed)
    print(rows)
    bad = [r for r in rows if r.feasible is False]
    if bad:
        print(f"WARNING: {len(bad)} row(s) returned an architecture that breaks a budget")
    if args.json:
        atomic_write_text(args.json, json.dumps(rows.to_dicts(), indent=1, allow_nan=False))
        print(f"rows saved to {args.json}")
    if args.plot:
        from binas_opt.analysis.plotting import plot_compare

        plot_compare(rows).savefig(args.plot, dpi=120)
        print(f"plot saved to {args.plot}")
    return 0 if not bad else 1
