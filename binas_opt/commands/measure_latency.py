"""``binas-opt measure-latency``: measure a latency lookup table on this machine.

Examples
--------
::

    binas-opt measure-latency -o latency.json --threads 1 --cache latency.cache.json
    binas-opt measure-latency --space fashion-mnist --input-size 28 -o fm_latency.json
    binas-opt measure-latency -o latency.json --validate 20 --plot validation.png

The output is binas-opt's Table JSON (``binas_opt.load`` reads it) with the measurement
conditions and every entry's statistics under ``metadata``.  Interrupt it at any time: with
``--cache`` the next run resumes where it stopped.  Needs the ``torch`` extra.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NAME = "measure-latency"
HELP = "measure a latency lookup table (ms) of a MobileNetV3-style space on this device"

#: Space names accepted by ``--space`` in place of a JSON file.
SPACES = ("mobilenet_v3", "fashion-mnist", "fashion-mnist-tiny")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--space", default="mobilenet_v3",
                        help="a SearchSpace JSON file (binas_opt.save) or one of "
                             + ", ".join(SPACES) + " (default mobilenet_v3)")
    parser.add_argument("-o", "--output", required=True, type=Path,
                        help="where to write the table (JSON)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:i (default cpu)")
    parser.add_argument("--batch-size", type=int, default=1, help="default 1")
    parser.add_argument("--input-size", type=int, default=None,
                        help="input resolution (default: the space's)")
    parser.add_argument("--threads", type=int, default=None,
                        help="intra-op threads while timing (default: torch's current setting)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed runs per entry")
    parser.add_argument("--repeats", type=int, default=30, help="timed repeats per entry")
    parser.add_argument("--number", type=int, default=1, help="runs per timed repeat")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall clock (default) or the thread's CPU time (cpu, 1 thread: "
                             "robust on a loaded machine)")
    parser.add_argument("--statistic", choices=("median", "min"), default="median",
                        help="value kept per entry (default median)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="spread the repeats over this many round-robin passes over all "
                             "entries (robust to changing machine load)")
    parser.add_argument("--no-tune-malloc", action="store_true",
                        help="leave glibc's malloc trimming on (by default it is turned off "
                             "while measuring, see binas_opt.models.latency.tune_malloc)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="JSON cache written after every entry; an interrupted run resumes")
    parser.add_argument("--validate", type=int, default=0, metavar="N",
                        help="also measure N random whole networks and compare (0: skip)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the validation sample")
    parser.add_argument("--plot", type=Path, default=None,
                        help="with --validate: save a predicted-vs-measured plot here")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _load_space(text: str):
    from binas_opt.model.space import SearchSpace

    if text == "mobilenet_v3":
        return SearchSpace.mobilenet_v3()
    if text in ("fashion-mnist", "fashion-mnist-tiny"):
        from binas_opt.mbconv.spaces import fashion_mnist_space

        return fashion_mnist_space(tiny=text.endswith("tiny"))
    path = Path(text)
    if not path.exists():
        raise FileNotFoundError(f"--space {text!r} is neither a file nor one of {SPACES}")
    from binas_opt.io import load

    obj = load(path)
    space = obj if isinstance(obj, SearchSpace) else getattr(obj, "space", None)
    if not isinstance(space, SearchSpace):
        raise ValueError(f"--space {text!r} holds a {type(obj).__name__}, not a SearchSpace")
    return space


def run(args: argparse.Namespace) -> int:
    try:
        from binas_opt.models.latency import measure_latency, validate_latency
    except ImportError as exc:  # pragma: no cover - torch missing
        print(f"binas-opt {NAME}: needs torch (pip install binas-opt[torch]): {exc}",
              file=sys.stderr)
        return 2
    space = _load_space(args.space)
    m = measure_latency(space, device=args.device, batch_size=args.batch_size,
                        input_size=args.input_size, threads=args.threads, warmup=args.warmup,
                        repeats=args.repeats, number=args.number, clock=args.clock,
                        statistic=args.statistic, rounds=args.rounds,
                        tune_malloc=not args.no_tune_malloc, cache=args.cache,
                        progress=not args.no_progress)
    doc = m.to_json_dict()
    c = m.conditions
    print(f"latency table of {space.name or 'space'}: {len(m.entries)} entries on "
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
    from binas_opt.io import atomic_write_text

    atomic_write_text(args.output, json.dumps(doc, indent=1, allow_nan=False))
    print(f"  wrote {args.output}")
    return 0
