"""``binas-opt fit``: fit an additive table to measured rows (CSV) with ``fit_table``."""

from __future__ import annotations

import argparse

from binas_opt.commands._common import (
    SPACE_NAMES,
    CLIError,
    fit_rows,
    load_space,
    space_label,
    split_file,
)

NAME = "fit"
HELP = "fit an additive table (accuracy, latency, energy, ...) to measured rows of a CSV file"
DESCRIPTION = HELP + """.

The CSV has a header, a column 'architecture' and one column per measured quantity.  An
architecture is written with its op names by stage, e.g. 'down k3_e3 | k5_e6 | k3_e3 k3_e3'
(the blocks of a stage, stages separated by '|'; the number of names is the stage's depth), as
timm's arch_def string for MobileNetV3-style spaces, or as JSON {"depths": [...], "ops": [...]}.
The table is fitted by least squares (binas_opt.fit_table), printed with its R^2 and the entries
the rows cannot determine, and saved as a table JSON that solve, compare, pareto and make-problem
read.

examples:
  binas-opt fit networks.csv --space nas-bench-macro --column accuracy --unit % -o accuracy.json
  binas-opt fit latency_rows.csv:measured_ms --space latency.json --name latency --unit ms \\
      -o latency_fit.json"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rows", metavar="ROWS.csv[:COLUMN]", help="CSV file of measured rows")
    parser.add_argument("--space", required=True,
                        help="the search space: " + ", ".join(SPACE_NAMES)
                             + " (underscores accepted), or any binas-opt JSON holding a space")
    parser.add_argument("--column", default=None,
                        help="the measured column (default: the only one besides 'architecture')")
    parser.add_argument("--name", default=None, help="name of the table (default: the column)")
    parser.add_argument("--unit", default=None,
                        help="unit of the measurements, e.g. ms or %% (default: none)")
    parser.add_argument("--ridge", type=float, default=0.0,
                        help="ridge penalty on the entries (0: least squares)")
    parser.add_argument("--unseen", choices=("mean", "max", "min", "zero"), default="mean",
                        help="value of ops never seen in the rows, relative to the seen ops of "
                             "their block (max is the cautious choice for a resource)")
    parser.add_argument("-o", "--output", required=True, metavar="PATH",
                        help="where to write the table JSON")


def run(args: argparse.Namespace) -> int:
    from binas_opt.io import save

    path, column = split_file(args.rows)
    if column is not None and args.column is not None and column != args.column:
        raise CLIError(f"column given twice: {args.rows} and --column {args.column}")
    column = column or args.column
    space = load_space(args.space)
    fit = fit_rows(path, space, column, name=args.name, unit=args.unit, ridge=args.ridge,
                   unseen=args.unseen, what="rows")
    t = fit.table
    unit = f" {t.unit}" if t.unit else ""
    print(f"fitted {t.name!r} on {space_label(space)} from {fit.n_samples} rows of {path}")
    print(f"  R^2 {fit.r2:.4f}, RMSE {fit.rmse:.4g}{unit}, max |residual| "
          f"{fit.max_abs_residual:.4g}{unit}")
    print(f"  table range {t.min_value():.6g} to {t.max_value():.6g}{unit}")
    if not fit.identified:
        names = fit.unidentifiable
        more = f" ... (+{len(names) - 6} more)" if len(names) > 6 else ""
        print(f"  {len(names)} entries are not determined by these rows (add rows that use "
              f"them): {', '.join(names[:6])}{more}")
    save(t, args.output)
    print(f"wrote {args.output}")
    return 0
