"""Argument handling shared by the sub-commands: one vocabulary for the whole CLI.

* **Space names**: ``mobilenet-v3``, ``fashion-mnist``, ``fashion-mnist-tiny``,
  ``nas-bench-macro``; the underscore spelling (``fashion_mnist_tiny``) is accepted everywhere and
  the hyphenated form is what the CLI prints (:func:`canonical_space_name`).
* **Budgets** carry units everywhere: ``--budget latency=30ms``, ``--at 30ms``; a count is written
  ``60e6`` (``60M`` is refused with that suggestion) (:func:`parse_budget`).
* **Problems** come from a problem JSON, a bundled example, or files: ``--objective FILE`` and
  ``--table NAME=FILE`` with ``--budget NAME=VALUE``, where a FILE is a table JSON (``binas_opt.save``,
  ``binas-opt measure-latency``, ``binas-opt fit``) or a CSV of measured rows, fitted on the fly
  with :func:`binas_opt.fit_table` (``FILE.csv:COLUMN``) (:func:`load_problem_arg`).
* **Architectures** print with op names, one stage per line (:func:`format_architecture`), or in
  one compact line ``k3_e3 k5_e6 | k5_e6 | ...`` (:func:`arch_labels`), which CSV files also use.
* **Errors** are :class:`CLIError` (or ``ValueError``/``OSError``) with a one-line message that
  names the file, field or option; ``binas-opt`` prints it without a traceback.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from binas_opt.model.architecture import Architecture
from binas_opt.model.problem import Problem
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table
from binas_opt.model.units import Budget

__all__ = [
    "EXAMPLES", "SPACE_NAMES", "EXIT_CODES", "EXIT_CODES_HELP", "CLIError", "HelpFormatter",
    "LoadedProblem", "add_problem_arguments", "load_problem_arg", "parse_assignments",
    "parse_option_value", "parse_budget", "budget_value", "canonical_space_name", "load_space",
    "load_json_file", "load_object", "read_rows", "fit_rows", "arch_labels", "parse_arch",
    "format_architecture", "exit_code", "split_file", "space_label",
]

# --------------------------------------------------------------------------------- exit codes
#: Exit status of ``binas-opt``, documented in ``binas-opt --help``.
EXIT_CODES = {
    0: "solved: an architecture that meets every budget was found (or the command succeeded)",
    1: "error: bad input (file, field, name, value) or a failed backend; one line on stderr",
    2: "usage error: unknown option or missing argument (argparse)",
    3: "infeasible: proven that no architecture meets the budgets (solve)",
    4: "no solution found: the solver stopped (e.g. time limit) before finding an architecture",
    5: "verify: the measured network breaks its budget",
}
EXIT_CODES_HELP = "exit status:\n" + "\n".join(f"  {k}  {v}" for k, v in EXIT_CODES.items())


class CLIError(ValueError):
    """A user error with a one-line message (printed without a traceback)."""


def exit_code(result) -> int:
    """0 with an architecture, 3 when proven infeasible, 1 on a backend error, else 4.

    Written against ``result.has_solution`` and the status *value*, so it holds whatever the set
    of :class:`~binas_opt.Status` members is (a time-limited run with an architecture is 0).
    """
    status = str(getattr(result.status, "value", result.status))
    if status == "error":
        return 1
    if result.architecture is not None:
        return 0
    if status == "infeasible":
        return 3
    return 4


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps description/epilog line breaks and appends ``(default: X)`` to every option help
    whose default is a real value (not None, False or an empty list) and not already stated."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text or default is None or default is False or default == []
                or default is argparse.SUPPRESS or not action.option_strings):
            return text
        if isinstance(default, (list, tuple)):
            default = ",".join(str(d) for d in default)
        return f"{text} (default: {str(default).replace('%', '%%')})"


# --------------------------------------------------------------------------------- spaces
def _mobilenet_v3() -> SearchSpace:
    return SearchSpace.mobilenet_v3()


def _fashion_mnist(tiny: bool) -> Callable[[], SearchSpace]:
    def make() -> SearchSpace:
        from binas_opt.mbconv.spaces import fashion_mnist_space

        return fashion_mnist_space(tiny=tiny)

    return make


def _macro() -> SearchSpace:
    from binas_opt.datasets import nas_bench_macro_space

    return nas_bench_macro_space()


#: Named search spaces, by canonical (hyphenated) name.
SPACE_NAMES: dict[str, Callable[[], SearchSpace]] = {
    "mobilenet-v3": _mobilenet_v3,
    "fashion-mnist": _fashion_mnist(False),
    "fashion-mnist-tiny": _fashion_mnist(True),
    "nas-bench-macro": _macro,
}

#: Names of bundled example problems accepted in place of a problem JSON file.
EXAMPLES = ("nas-bench-macro",)


def canonical_space_name(text: str | None) -> str | None:
    """``"fashion_mnist_tiny"`` or ``"Fashion-MNIST-tiny"`` -> ``"fashion-mnist-tiny"``; None
    when ``text`` names no known space (or example)."""
    if text is None:
        return None
    key = text.strip().lower().replace("_", "-")
    return key if key in SPACE_NAMES else None


def space_label(space: SearchSpace) -> str:
    """The canonical name of a named space (``fashion-mnist-tiny``), else its own name."""
    return canonical_space_name(space.name) or space.name or "space"


def load_space(text: str, what: str = "--space") -> SearchSpace:
    """A named space, or the space of any binas-opt JSON (space, table, form, problem)."""
    name = canonical_space_name(text)
    if name is not None:
        return SPACE_NAMES[name]()
    path = Path(text)
    if not path.exists():
        raise CLIError(f"{what} {text!r} is neither a file nor a space name "
                       f"({', '.join(SPACE_NAMES)})")
    obj = load_object(path, what)
    space = obj if isinstance(obj, SearchSpace) else getattr(obj, "space", None)
    if not isinstance(space, SearchSpace):
        raise CLIError(f"{what} {text}: holds a {type(obj).__name__}, which has no search space")
    return space


# --------------------------------------------------------------------------------- files
def load_json_file(path: str | Path, what: str = "file") -> Any:
    """``json.load`` with errors that name the file (missing, directory, malformed)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise CLIError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise CLIError(f"{what} {path}: is a directory, not a file") from None
    except UnicodeDecodeError:
        raise CLIError(f"{what} {path}: not a text (UTF-8 JSON) file") from None
    except json.JSONDecodeError as exc:
        raise CLIError(f"{what} {path}: malformed JSON: {exc}") from None
    except OSError as exc:
        raise CLIError(f"{what} {path}: cannot read: {exc.strerror or exc}") from None


def load_object(path: str | Path, what: str = "file") -> Any:
    """A binas-opt object (``binas_opt.save`` format) from ``path``; errors name the file and
    the missing field."""
    from binas_opt.io import from_json_dict

    doc = load_json_file(path, what)
    try:
        return from_json_dict(doc)
    except KeyError as exc:
        raise CLIError(f"{what} {path}: missing field {exc}") from None
    except CLIError:
        raise
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        msg = str(exc).replace(str(path), "").strip(" :")
        raise CLIError(f"{what} {path}: {msg}") from None


# --------------------------------------------------------------------------------- budgets
_MULTIPLIERS = {"k": 3, "K": 3, "M": 6, "G": 9, "T": 12}


def parse_budget(text: str, what: str = "budget") -> Budget:
    """``"30ms"``, ``"60e6"``, ``"0.04 s"`` -> :class:`~binas_opt.Budget`.

    A count suffix such as ``60M`` is refused with the number to write instead (``60e6``); other
    units are checked against the table's unit when the budget is applied (:func:`budget_value`).
    """
    try:
        b = Budget.parse(str(text))
    except ValueError:
        raise CLIError(f"{what} {text!r}: expected a number with an optional unit, e.g. 60e6, "
                       "30ms, 0.5 MB") from None
    if not math.isfinite(b.value):
        raise CLIError(f"{what} {text!r}: must be a finite number")
    if b.unit in _MULTIPLIERS:
        raise CLIError(f"{what} {text!r}: {b.unit!r} is not a unit; write the number in full, "
                       f"e.g. {b.value:g}e{_MULTIPLIERS[b.unit]}")
    return b


def budget_value(budget: Budget, table: Table, what: str = "budget") -> float:
    """``budget`` in ``table``'s unit, as a float (units converted, mismatches refused)."""
    from binas_opt.model.units import convert

    try:
        return convert(budget.value, budget.unit, table.unit, what=f"{what} for {table.name!r}")
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def parse_assignments(items: list[str], what: str) -> dict[str, str]:
    """``["a=1", "b=2"]`` -> ``{"a": "1", "b": "2"}`` with a clear error otherwise."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise CLIError(f"{what} {item!r} is not of the form NAME=VALUE")
        if name.strip() in out:
            raise CLIError(f"{what} {name.strip()!r} is given twice")
        out[name.strip()] = value.strip()
    return out


def parse_option_value(text: str) -> Any:
    """A backend option value: a Python literal (number, bool, None, string) or a bare string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


# --------------------------------------------------------------------------------- architectures
def arch_labels(space: SearchSpace, arch: Architecture) -> str:
    """One line: the op names of the active blocks, stages separated by ``|``.

    ``"down k3_e3 | k5_e6 | k3_e3 k3_e3 k5_e6"``; :func:`parse_arch` reads it back.
    """
    return " | ".join(" ".join(st.ops[b][arch.ops[s][b]] for b in range(arch.depths[s]))
                      for s, st in enumerate(space.stages))


def parse_arch(space: SearchSpace, text: str, where: str = "architecture") -> Architecture:
    """An architecture from :func:`arch_labels`' form, a timm ``arch_def`` string, or the JSON
    ``{"depths": [...], "ops": [[...]]}``."""
    text = str(text).strip()
    try:
        if text.startswith("{"):
            return space.validate(Architecture.from_dict(json.loads(text)), where)
        if text.startswith("["):
            return Architecture.from_string(text, space)
    except (ValueError, KeyError, TypeError) as exc:
        raise CLIError(f"{where}: {exc}") from None
    groups = [g.split() for g in text.split("|")]
    if len(groups) != space.n_stages:
        raise CLIError(f"{where}: {len(groups)} stage(s) separated by '|', the space has "
                       f"{space.n_stages}: {text[:80]!r}")
    depths, ops = [], []
    for s, (st, labels) in enumerate(zip(space.stages, groups, strict=True)):
        if len(labels) not in st.depths:
            raise CLIError(f"{where}: {space.stage_name(s)} has {len(labels)} block(s); allowed "
                           f"depths {tuple(st.depths)}")
        row = []
        for b in range(st.max_depth):
            if b < len(labels):
                if labels[b] not in st.ops[b]:
                    raise CLIError(f"{where}: unknown op {labels[b]!r} in {space.stage_name(s)} "
                                   f"block {b}; valid: {', '.join(st.ops[b])}")
                row.append(st.ops[b].index(labels[b]))
            else:
                row.append(0)
        depths.append(len(labels))
        ops.append(row)
    return Architecture(depths, ops)


def format_architecture(problem_or_space, arch: Architecture, indent: str = "  ",
                        width: int = 96) -> str:
    """Several short lines: one per stage with its depth and op names; for MobileNetV3-style
    spaces also timm's ``arch_def`` string, one stage per line (still a valid Python literal)."""
    space = getattr(problem_or_space, "space", problem_or_space)
    lines = []
    for s, st in enumerate(space.stages):
        ops = " ".join(st.ops[b][arch.ops[s][b]] for b in range(arch.depths[s]))
        lines.append(f"{indent}{space.stage_name(s)}: depth {arch.depths[s]}: {ops}")
    try:
        text = arch.to_string(space)
    except ValueError:
        return "\n".join(lines)
    nested = ast.literal_eval(text)
    lines.append(f"{indent}arch_def:")
    pad = f"{indent}   "
    for i, row in enumerate(nested):
        opening = f"{indent}  [" if i == 0 else pad
        closing = "]" if i == len(nested) - 1 else ","
        one = f"{opening}{row!r}{closing}"
        if len(one) <= width or len(row) < 2:
            lines.append(one)
            continue
        for j, block in enumerate(row):  # a long stage: one block per line
            start = f"{opening}[" if j == 0 else pad + " "
            end = f"]{closing}" if j == len(row) - 1 else ","
            lines.append(f"{start}{block!r}{end}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------- CSV rows
def read_rows(path: str | Path, what: str = "rows") -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a CSV file (errors name the file)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            header = list(reader.fieldnames or [])
    except FileNotFoundError:
        raise CLIError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise CLIError(f"{what} {path}: is a directory, not a file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CLIError(f"{what} {path}: not a readable CSV file: {exc}") from None
    if not header:
        raise CLIError(f"{what} {path}: empty CSV file (expected a header row)")
    return header, rows


def fit_rows(path: str | Path, space: SearchSpace, column: str | None, *, name: str | None = None,
             unit: str | None = None, ridge: float = 0.0, unseen: str = "mean",
             arch_column: str = "architecture", what: str = "rows"):
    """Fit a Table to the measured rows of a CSV file (:func:`binas_opt.fit_table`).

    The CSV has a column ``architecture`` (:func:`parse_arch` forms) and one column per measured
    quantity; ``column`` picks one (None: the only numeric column other than ``architecture``).
    Returns the :class:`~binas_opt.estimation.fitting.TableFit`.
    """
    from binas_opt.estimation.fitting import fit_table

    path = Path(path)
    header, rows = read_rows(path, what)
    if arch_column not in header:
        raise CLIError(f"{what} {path}: no {arch_column!r} column (columns: {', '.join(header)})")
    values = [h for h in header if h != arch_column]
    if column is None:
        if len(values) != 1:
            raise CLIError(f"{what} {path}: several value columns ({', '.join(values)}); "
                           f"name one as {path}:COLUMN")
        column = values[0]
    if column not in header:
        raise CLIError(f"{what} {path}: no column {column!r} (columns: {', '.join(header)})")
    if not rows:
        raise CLIError(f"{what} {path}: no data rows")
    archs, ys = [], []
    for i, row in enumerate(rows, start=2):
        where = f"{path} line {i}"
        archs.append(parse_arch(space, row.get(arch_column) or "", where))
        try:
            ys.append(float(row.get(column) or "nan"))
        except ValueError:
            raise CLIError(f"{where}: {column} = {row.get(column)!r} is not a number") from None
        if not math.isfinite(ys[-1]):
            raise CLIError(f"{where}: {column} = {row.get(column)!r} is not a finite number")
    try:
        return fit_table(space, archs, ys, ridge=ridge, unseen=unseen, name=name or column,
                         unit=unit)
    except (ValueError, TypeError) as exc:
        raise CLIError(f"{what} {path}: {exc}") from None


# --------------------------------------------------------------------------------- problems
@dataclass(frozen=True)
class LoadedProblem:
    """The problem to solve, and the bundled benchmark when it came from one."""

    problem: Problem
    example: Any = None  # binas_opt.datasets.NasBenchMacro for the bundled example
    tables: tuple[Table, ...] = ()  # resource tables given without a budget (pareto sweeps them)
    notes: tuple[str, ...] = ()


def add_problem_arguments(parser: argparse.ArgumentParser, *, sweep: bool = False) -> None:
    """``problem`` (JSON, example) or ``--objective``/``--table`` files; ``--budget``, ..."""
    g = parser.add_argument_group(
        "the problem",
        "Either a problem JSON / bundled example, or an objective file plus NAME=FILE tables.\n"
        "A FILE is a table JSON (binas_opt.save, binas-opt measure-latency, binas-opt fit) or a\n"
        "CSV of measured rows (column 'architecture' plus value columns) fitted on the fly:\n"
        "FILE.csv or FILE.csv:COLUMN.",
    )
    g.add_argument(
        "problem", nargs="?", default=None,
        help="a problem JSON file (binas-opt make-problem, binas_opt.save) or a bundled example: "
             + ", ".join(EXAMPLES) + " (underscores accepted)",
    )
    g.add_argument("--objective", metavar="FILE[:COLUMN]", default=None,
                   help="objective table (e.g. accuracy) instead of a problem file")
    g.add_argument("--table", action="append", default=[], metavar="NAME=FILE[:COLUMN]",
                   help="resource table constrained by --budget NAME=... (repeatable)"
                        + ("; a table without a budget can be swept by --resource" if sweep else ""))
    g.add_argument("--space", default=None, metavar="SPACE",
                   help="search space of CSV rows when no table JSON gives it: "
                        + ", ".join(SPACE_NAMES) + ", or any binas-opt JSON holding a space")
    g.add_argument("--sense", choices=("max", "min"), default="max",
                   help="maximise or minimise the objective (files only)")
    g.add_argument(
        "--budget", action="append", default=[], metavar="NAME=VALUE",
        help="budget on a resource with an optional unit, e.g. flops=100e6 or latency=30ms "
             "(repeatable); for a problem file it replaces that constraint's budget",
    )
    g.add_argument("--n-samples", type=int, default=100,
                   help="bundled example: architectures used to fit the accuracy table")
    parser.add_argument("--seed", type=int, default=0, help="random seed")


def split_file(text: str) -> tuple[str, str | None]:
    """``"rows.csv:latency"`` -> ``("rows.csv", "latency")``; JSON paths pass unchanged."""
    m = re.fullmatch(r"(.+\.csv):([^:/\\]+)", text.strip(), flags=re.IGNORECASE)
    if m:
        return m.group(1), m.group(2)
    return text.strip(), None


def _is_csv(path: str) -> bool:
    return path.lower().endswith(".csv")


def _load_table_file(text: str, space: SearchSpace | None, *, name: str, what: str,
                     objective: bool = False):
    """(table or form, note) from a JSON file or CSV rows (fitted)."""
    from binas_opt.model.quadratic import QuadraticForm

    path, column = split_file(text)
    if _is_csv(path):
        if space is None:
            raise CLIError(f"{what} {path}: CSV rows need a search space: give --space, or a "
                           "table JSON among the other files")
        fit = fit_rows(path, space, column if column is not None else (None if objective else name),
                       name=name if not objective else (column or None), what=what)
        note = (f"{what} {path}: fitted {fit.table.name!r} to {fit.n_samples} rows "
                f"(R^2 {fit.r2:.4f})")
        if not fit.identified:
            note += f"; {len(fit.unidentifiable)} entries not identified by the rows"
        return fit.table, note
    if column is not None:
        raise CLIError(f"{what} {text!r}: ':COLUMN' is only for CSV files")
    obj = load_object(path, what)
    kinds = (Table, QuadraticForm) if objective else (Table,)
    if not isinstance(obj, kinds):
        want = "a Table or QuadraticForm" if objective else "a Table"
        raise CLIError(f"{what} {path}: holds a {type(obj).__name__}, expected {want}")
    if space is not None and obj.space != space:
        raise CLIError(f"{what} {path}: its table is for a different search space than the "
                       f"others ({space_label(obj.space)} vs {space_label(space)})")
    if not objective and obj.name != name:
        obj = obj.replace(name=name)
    return obj, None


def _space_from_files(args) -> SearchSpace | None:
    if args.space is not None:
        return load_space(args.space)
    files = ([args.objective] if args.objective else []) + [
        v for v in parse_assignments(args.table, "--table").values()]
    for text in files:
        path, _ = split_file(text)
        if not _is_csv(path):
            obj = load_object(path, "--objective" if text == args.objective else "--table")
            space = obj if isinstance(obj, SearchSpace) else getattr(obj, "space", None)
            if isinstance(space, SearchSpace):
                return space
    return None


def _problem_from_files(args, budgets: dict[str, Budget], sweep: bool) -> LoadedProblem:
    if not args.objective:
        raise CLIError("no problem given: name a problem JSON file or a bundled example ("
                       + ", ".join(EXAMPLES) + "), or give --objective FILE with --table "
                       "NAME=FILE and --budget NAME=VALUE")
    space = _space_from_files(args)
    notes = []
    objective, note = _load_table_file(args.objective, space, name="objective",
                                       what="--objective", objective=True)
    if note:
        notes.append(note)
    space = objective.space
    tables = {}
    for name, text in parse_assignments(args.table, "--table").items():
        tables[name], note = _load_table_file(text, space, name=name, what=f"--table {name}")
        if note:
            notes.append(note)
    unknown = sorted(set(budgets) - set(tables))
    if unknown:
        raise CLIError(f"--budget {', '.join(unknown)}: no such table; tables: "
                       f"{', '.join(tables) or 'none (add --table NAME=FILE)'}")
    missing = [n for n in tables if n not in budgets]
    if missing and not sweep:
        raise CLIError(f"--table {missing[0]} has no budget; add --budget {missing[0]}=VALUE")
    cons = [tables[n] <= budget_value(budgets[n], tables[n], f"--budget {n}") for n in budgets]
    try:
        problem = Problem(space, objective, cons, sense=args.sense)
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc)) from None
    return LoadedProblem(problem, tables=tuple(tables[n] for n in missing), notes=tuple(notes))


def load_problem_arg(args: argparse.Namespace, *, sweep: bool = False) -> LoadedProblem:
    """Build the problem of ``args``: a problem file, a bundled example, or table files.

    ``sweep=True`` (pareto) lets a ``--table`` come without a budget: it is returned in
    ``LoadedProblem.tables`` to be swept.
    """
    budgets = {k: parse_budget(v, f"--budget {k}")
               for k, v in parse_assignments(args.budget, "--budget").items()}
    if args.problem is None:
        return _problem_from_files(args, budgets, sweep)
    if args.objective or args.table:
        raise CLIError(f"give either a problem ({args.problem}) or --objective/--table files, "
                       "not both")
    example = canonical_space_name(args.problem)
    if example in EXAMPLES:
        from binas_opt.datasets import nas_bench_macro

        if args.n_samples < 2:
            raise CLIError(f"--n-samples must be at least 2, got {args.n_samples}")
        data = nas_bench_macro(n_samples=args.n_samples, seed=args.seed)
        tables = {"flops": data.flops, "params": data.params}
        unknown = set(budgets) - set(tables)
        if unknown:
            raise CLIError(f"unknown budget(s) {sorted(unknown)} for {example}; valid: "
                           f"{sorted(tables)}")
        cons = [tables[k] <= budget_value(b, tables[k], f"--budget {k}")
                for k, b in budgets.items()]
        return LoadedProblem(Problem(data.space, data.accuracy, cons, sense=args.sense), data)
    path = Path(args.problem)
    if not path.exists():
        raise CLIError(f"{args.problem!r} is neither a file nor a bundled example "
                       f"({', '.join(EXAMPLES)})")
    problem = load_object(path, "problem")
    if not isinstance(problem, Problem):
        raise CLIError(f"problem {path}: holds a {type(problem).__name__}, not a Problem")
    if not budgets:
        return LoadedProblem(problem)
    names = [c.name for c in problem.constraints]
    unknown = sorted(set(budgets) - set(names))
    if unknown:
        raise CLIError(f"--budget {', '.join(unknown)}: not a constraint of {path}; "
                       f"constraints: {', '.join(names) or 'none'}")
    values = {k: budget_value(b, problem.constraint(k).table, f"--budget {k}")
              for k, b in budgets.items()}
    return LoadedProblem(problem.with_budgets(values))
