"""``binas-opt compare``: several backends on the same problem and budgets, side by side."""

from __future__ import annotations

import argparse
import json

from binas_opt.commands._common import (
    CLIError,
    add_problem_arguments,
    budget_value,
    load_problem_arg,
    parse_assignments,
    parse_budget,
    parse_option_value,
)

NAME = "compare"
HELP = "run several backends on one problem (and budgets) and print a comparison table"
DESCRIPTION = HELP + """.

Backends that declare they cannot take the problem (its objective kind, its number of budgets)
are skipped, with the reason in the table; every returned architecture is re-checked against the
budgets from the tables.

examples:
  binas-opt compare nas-bench-macro --budget flops=60e6 --backends milp,dp,fw,evo
  binas-opt compare problem.json --at 20ms --at 30ms --plot compare.png"""
EPILOG = """exit status:
  0  the comparison ran (rows with status error or skipped are part of the table)
  1  bad input, or a backend returned an architecture that breaks a budget
  2  usage error"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_problem_arguments(parser)
    parser.add_argument("--backends", default="milp,dp,pulp",
                        help="comma-separated backend names")
    parser.add_argument("--resource", default=None,
                        help="constraint whose budget --at replaces (default: the first)")
    parser.add_argument("--at", action="append", default=[], metavar="BUDGET",
                        help="replace the budget of --resource by this value, with an optional "
                             "unit, e.g. 30ms (repeatable: one comparison per value; default: "
                             "the problem's own budgets)")
    parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                        help="seconds per solve (default: no limit)")
    parser.add_argument("--option", action="append", default=[], metavar="BACKEND.KEY=VALUE",
                        help="backend option, e.g. pulp.solver=CBC (repeatable)")
    parser.add_argument("--json", metavar="PATH", default=None, help="save the rows as JSON")
    parser.add_argument("--plot", metavar="PATH", default=None,
                        help="save a bar chart of the objectives (needs matplotlib)")


def refusal(name: str, problem, options: dict | None = None) -> str | None:
    """Why backend ``name`` cannot take ``problem`` by its own declaration, or None.

    Asks ``Solver.refusal(problem, options)`` (cheap, solves nothing); a backend without it is
    judged by its ``accepts`` and ``max_constraints`` class attributes.
    """
    from binas_opt.solving.registry import get_backend

    cls = get_backend(name)  # unknown names raise ValueError listing the valid ones
    ask = getattr(cls, "refusal", None)
    if callable(ask):
        opts = None
        try:
            from binas_opt.solving.backend import make_options

            opts = make_options(cls.Options, dict(options or {}), name)
        except (ImportError, AttributeError):
            pass
        try:
            return ask(problem, opts) or None
        except TypeError:
            try:
                return ask(problem) or None
            except TypeError:
                pass  # fall back to the class attributes
    kind = problem.objective_kind
    accepts = getattr(cls, "accepts", None)
    if accepts is not None and kind not in accepts:
        ok = ", ".join(sorted(getattr(k, "value", str(k)) for k in accepts))
        return f"takes {ok} objectives, not {getattr(kind, 'value', kind)}"
    limit = getattr(cls, "max_constraints", None)
    if limit is not None and len(problem.constraints) > limit:
        return (f"takes at most {limit} budget{'s' if limit != 1 else ''}; the problem has "
                f"{len(problem.constraints)}")
    return None


def _table(rows, skipped, problem) -> str:
    """Aligned rows plus one per skipped backend; notes (refusals, errors) below."""
    head = ["budgets", "backend", "status", "objective", "bound", "gap_to_best", "feasible",
            "time [s]", "note"]

    def f(x, spec=".6g"):
        return "-" if x is None else format(x, spec)

    def label(budgets):
        return ", ".join(f"{k}<={v:.6g}" for k, v in budgets.items()) or "-"

    def short(msg):
        msg = " ".join(str(msg).split())
        return msg if len(msg) <= 60 else msg[:57] + "..."

    body = []
    for r in rows:
        noted = ("error", "infeasible", "no_solution")
        note = short(r.message) if r.status.value in noted or r.feasible is False else ""
        body.append([label(r.budgets), r.backend, r.status.value, f(r.objective), f(r.bound),
                     f(r.gap_to_best, ".2e"),
                     "-" if r.feasible is None else ("yes" if r.feasible else "NO"),
                     f"{r.time:.3f}", note])
    for budgets, name, why in skipped:
        body.append([label(budgets), name, "skipped", "-", "-", "-", "-", "-", short(why)])
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(head)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip()
    out = [line, "-" * len(line)]
    out += ["  ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)).rstrip() for b in body]
    long_notes = [(name, why) for _, name, why in skipped if len(why) > 60]
    long_notes += [(r.backend, r.message) for r in rows
                   if r.status.value == "error" and len(" ".join(str(r.message).split())) > 60]
    for name, why in dict(long_notes).items():
        out.append(f"note: {name}: {' '.join(str(why).split())}")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    from binas_opt.io import atomic_write_text
    from binas_opt.solving.comparison import compare

    problem = load_problem_arg(args).problem
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends:
        raise CLIError("--backends: give at least one backend name")
    options: dict[str, dict] = {}
    for key, value in parse_assignments(args.option, "--option").items():
        backend, dot, name = key.partition(".")
        if not dot:
            raise CLIError(f"--option {key!r}: write BACKEND.KEY=VALUE, e.g. pulp.solver=CBC")
        if backend not in backends:
            raise CLIError(f"--option {key!r}: backend {backend!r} is not in --backends "
                           f"({', '.join(backends)})")
        options.setdefault(backend, {})[name] = parse_option_value(value)
    budgets = None
    if args.at:
        if not problem.constraints:
            raise CLIError("--at needs a problem with a budget (add --budget NAME=VALUE)")
        resource = args.resource or problem.constraints[0].name
        names = [c.name for c in problem.constraints]
        if resource not in names:
            raise CLIError(f"--resource {resource!r} is not a constraint; constraints: "
                           f"{', '.join(names)}")
        table = problem.constraint(resource).table
        budgets = [{resource: budget_value(parse_budget(t, "--at"), table, "--at")}
                   for t in args.at]
    elif args.resource is not None:
        raise CLIError("--resource only applies with --at")
    settings = budgets or [problem.budgets]
    run_names, skipped = [], []
    for name in backends:
        why = refusal(name, problem, options.get(name))
        if why is None:
            run_names.append(name)
        else:
            skipped.extend(({**problem.budgets, **s}, name, why) for s in settings)
    rows = []
    if run_names:
        rows = compare(problem, run_names, budgets=budgets,
                       options={k: v for k, v in options.items() if k in run_names},
                       time_limit=args.time_limit, seed=args.seed)
    print(_table(rows, skipped, problem))
    bad = [r for r in rows if r.feasible is False]
    if bad:
        print(f"WARNING: {len(bad)} row(s) returned an architecture that breaks a budget")
    if args.json:
        doc = [r.to_dict() for r in rows] + [
            {"backend": name, "budgets": b, "status": "skipped", "message": why}
            for b, name, why in skipped]
        atomic_write_text(args.json, json.dumps(doc, indent=1, allow_nan=False))
        print(f"rows saved to {args.json}")
    if args.plot:
        if not rows:
            raise CLIError("--plot: no backend ran, nothing to plot")
        from binas_opt.analysis.plotting import plot_compare

        plot_compare(rows).savefig(args.plot, dpi=120)
        print(f"plot saved to {args.plot}")
    return 0 if not bad else 1
