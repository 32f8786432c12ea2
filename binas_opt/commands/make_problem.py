"""``binas-opt make-problem``: write a Problem JSON from table files (or a bundled example)."""

from __future__ import annotations

import argparse

from binas_opt.commands._common import (
    add_problem_arguments,
    load_problem_arg,
    space_label,
)

NAME = "make-problem"
HELP = "write a Problem JSON from an objective table and budgeted resource tables"
DESCRIPTION = HELP + """.

The files are table JSONs (binas_opt.save, binas-opt measure-latency, binas-opt fit) or CSV rows
of measurements, fitted on the fly (FILE.csv:COLUMN).  The result is read by binas-opt solve,
compare and pareto and by binas_opt.load.

examples:
  binas-opt make-problem --objective accuracy.json --table latency=latency.json \\
      --budget latency=30ms -o problem.json
  binas-opt make-problem nas-bench-macro --budget flops=60e6 -o macro_problem.json"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_problem_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="PATH",
                        help="where to write the Problem JSON")


def run(args: argparse.Namespace) -> int:
    from binas_opt.io import save
    from binas_opt.model.space import format_count

    loaded = load_problem_arg(args)
    for note in loaded.notes:
        print(note)
    p = loaded.problem
    save(p, args.output)
    obj = p.objective.name or "objective"
    sense = getattr(p.sense, "value", p.sense)
    print(f"problem: {sense} {obj} over {space_label(p.space)} "
          f"({format_count(p.space.num_architectures)} architectures)")
    for c in p.constraints:
        unit = f" {c.table.unit}" if c.table.unit else ""
        print(f"  {c.name} {c.sense.value} {c.budget:.6g}{unit} "
              f"(achievable {c.table.min_value():.6g} to {c.table.max_value():.6g})")
    print(f"wrote {args.output}")
    return 0
