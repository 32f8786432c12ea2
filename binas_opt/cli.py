"""``binas-opt`` command line: ``solve``, ``compare``, ``pareto``, ``make-problem``, ``fit``, ...

Each sub-command lives in its own module of :mod:`binas_opt.commands`.  User errors (bad files,
missing fields, unknown names, bad values) are printed as one line without a traceback
(``-v`` shows it); the exit status is documented in ``binas-opt --help``
(:data:`binas_opt.commands._common.EXIT_CODES`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import pkgutil
import sys

import binas_opt.commands as _commands
from binas_opt.commands._common import EXIT_CODES_HELP, CLIError, HelpFormatter

__all__ = ["main"]


def _command_modules():
    mods = []
    for info in sorted(pkgutil.iter_modules(_commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            mods.append(importlib.import_module(f"binas_opt.commands.{info.name}"))
    return mods


def _version() -> str:
    import binas_opt

    return f"binas-opt {binas_opt.__version__}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="binas-opt",
        description="Hardware-aware NAS as exact optimisation: build a problem from your own "
                    "tables, solve it, compare backends, trace the Pareto front, measure latency "
                    "tables, export and verify the chosen network.",
        epilog=EXIT_CODES_HELP + "\n\nEach command has its own --help.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=_version(),
                        help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log progress to stderr, and show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for mod in _command_modules():
        epilog = getattr(mod, "EPILOG", None)
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP),
                           epilog=epilog, formatter_class=HelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc}"
    if isinstance(exc, json.JSONDecodeError):
        return f"malformed JSON: {exc}"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())  # one line


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``binas-opt`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and usage errors (2)
        return int(exc.code or 0)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print(f"binas-opt {args.command}: interrupted", file=sys.stderr)
        return 130
    except (CLIError, ValueError, TypeError, KeyError, OSError, ImportError) as exc:
        if args.verbose:
            raise
        print(f"binas-opt {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
