"""``binas-opt measure-latency``: measure a latency lookup table on this machine.

Examples
--------
::

    binas-opt measure-latency -o latency.json --threads 1 --cache latency.cache.json
    binas-opt measure-latency --space fashion-mnist --input-size 28 -o fm_latency.json
    binas-opt measure-latency -o latency.json --validate 20 --plot validation.png
    binas-opt measure-latency -o latency.json --validate 50 --rows networks.csv

The output is binas-opt's Table JSON (``binas_opt.load`` reads it) with the measurement
conditions and every entry's statistics under ``metadata``.  ``--rows`` also writes the whole
networks measured by ``--validate`` as CSV rows (``architecture,predicted_ms,measured_ms``) that
``binas-opt fit`` turns into a table fitted to whole-network latency.  Interrupt it at any time: with
``--cache`` the next run resumes where it stopped.  Needs the ``torch`` extra.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

from binas_opt.commands._common import SPACE_NAMES, CLIError, arch_labels, load_space, space_label

NAME = "measure-latency"
HELP = "measure a latency lookup table (ms) of a MobileNetV3-style space on this device"
DESCRIPTION = HELP + """.

examples:
  binas-opt measure-latency -o latency.json --threads 1 --clock cpu
  binas-opt measure-latency --space fashion-mnist-tiny -o latency.json --validate 20 \\
      --rows networks.csv"""

#: Space names accepted by ``--space`` in place of a JSON file (MobileNetV3-style ones).
SPACES = tuple(n for n in SPACE_NAMES if n != "nas-bench-macro")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--space", default="mobilenet-v3",
                        help="one of " + ", ".join(SPACES) + " (underscores accepted), or a "
                             "binas-opt JSON holding a MobileNetV3-style space")
    parser.add_argument("-o", "--output", required=True, type=Path,
                        help="where to write the table (JSON)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:i")
    parser.add_argument("--batch-size", type=int, default=1, help="images per forward pass")
    parser.add_argument("--input-size", type=int, default=None,
                        help="input resolution (default: the space's)")
    parser.add_argument("--threads", type=int, default=None,
                        help="intra-op threads while timing (default: torch's current setting)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed runs per entry")
    parser.add_argument("--repeats", type=int, default=30, help="timed repeats per entry")
    parser.add_argument("--number", type=int, default=1, help="runs per timed repeat")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall clock, or the thread's CPU time (cpu, 1 thread: robust on a "
                             "loaded machine)")
    parser.add_argument("--statistic", choices=("median", "min"), default="median",
                        help="value kept per entry")
    parser.add_argument("--rounds", type=int, default=1,
                        help="spread the repeats over this many round-robin passes over all "
                             "entries (robust to changing machine load)")
    parser.add_argument("--no-tune-malloc", action="store_true",
                        help="leave glibc's malloc trimming on (by default it is turned off "
                             "while measuring, see binas_opt.models.timing.tune_malloc)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="JSON cache written after every entry; an interrupted run resumes "
                             "(default: none)")
    parser.add_argument("--validate", type=int, default=0, metavar="N",
                        help="also measure N random whole networks and compare (0: skip)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the validation sample")
    parser.add_argument("--plot", type=Path, default=None,
                        help="with --validate: save a predicted-vs-measured plot here "
                             "(default: none)")
    parser.add_argument("--rows", type=Path, default=None, metavar="CSV",
                        help="with --validate: write the measured networks as CSV rows "
                             "(architecture,predicted_ms,measured_ms) for binas-opt fit "
                             "(default: none)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    try:
        from binas_opt.models import measure_latency, validate_latency
    except ImportError as exc:  # pragma: no cover - torch missing
        raise CLIError(f"needs PyTorch (pip install binas-opt[torch]): {exc}") from None
    if args.rows is not None and not args.validate:
        raise CLIError("--rows writes the networks measured by --validate N: add --validate")
    space = load_space(args.space)
    m = measure_latency(space, device=args.device, batch_size=args.batch_size,
                        input_size=args.input_size, threads=args.threads, warmup=args.warmup,
                        repeats=args.repeats, number=args.number, clock=args.clock,
                        statistic=args.statistic, rounds=args.rounds,
                        tune_malloc=not args.no_tune_malloc, cache=args.cache,
                        progress=not args.no_progress)
    doc = m.to_json_dict()
    c = m.conditions
    print(f"latency table of {space_label(space)}: {len(m.entries)} entries on "
          f"{c.device_name} ({c.device}, {c.threads} threads, batch {c.batch_size}, "
          f"{c.input_size}px, {c.clock} clock, {c.statistic})")
    print(f"  fixed part {m.table.const:.3f} ms; networks from {m.table.min_value():.3f} to "
          f"{m.table.max_value():.3f} ms")
    if args.validate:
        v = validate_latency(space, m.table, n=args.validate, seed=args.seed,
                             device=args.device, batch_size=c.batch_size,
                             input_size=c.input_size, threads=c.threads, warmup=c.warmup,
                             repeats=c.repeats, number=c.number, clock=c.clock,
                             statistic=c.statistic, tune_malloc=c.malloc_tuned,
                             plot=args.plot,
                             progress=not args.no_progress)
        doc["metadata"]["validation"] = v.to_dict()
        print("  validation: " + v.summary())
        if args.rows is not None:
            _write_rows(args.rows, space, v)
    from binas_opt.io import atomic_write_text

    atomic_write_text(args.output, json.dumps(doc, indent=1, allow_nan=False))
    print(f"  wrote {args.output}")
    return 0


def _write_rows(path: Path, space, validation) -> None:
    from binas_opt.io import atomic_write_text

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["architecture", "predicted_ms", "measured_ms"])
    for a, p, m in zip(validation.architectures, validation.predicted, validation.measured,
                       strict=True):
        w.writerow([arch_labels(space, a), f"{float(p):.6g}", f"{float(m):.6g}"])
    atomic_write_text(path, buf.getvalue())
    print(f"  wrote {len(validation.measured)} measured networks to {path}")
