"""``binas-opt`` command line: ``solve``, ``compare``, ``pareto``, ``measure-latency``, ...

Each sub-command lives in its own module of :mod:`binas_opt.commands`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

import binas_opt.commands as _commands

__all__ = ["main"]


def _command_modules():
    mods = []
    for info in sorted(pkgutil.iter_modules(_commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            mods.append(importlib.import_module(f"binas_opt.commands.{info.name}"))
    return mods


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="binas-opt",
        description="Hardware-aware NAS as exact optimisation: solve, compare backends, trace "
                    "the Pareto front, measure latency tables.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``binas-opt`` console script."""
    args = build_parser().parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        return int(args._run(args) or 0)
    except (ValueError, FileNotFoundError, TypeError) as exc:
        print(f"binas-opt {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
