"""``binas-opt verify``: time the chosen network whole on this device against its table."""

from __future__ import annotations

import argparse

import numpy as np

from binas_opt.commands._common import (
    CLIError,
    budget_value,
    format_architecture,
    load_json_file,
    load_object,
    load_space,
    parse_budget,
    space_label,
)
from binas_opt.commands.export import build_network, load_result_arch

NAME = "verify"
HELP = "measure the chosen network whole on this device and compare with its latency table"
DESCRIPTION = HELP + """.

The network of the result is built (fresh weights: latency does not depend on them) and timed
under the conditions recorded in the table's metadata by binas-opt measure-latency (device,
threads, batch, input size, clock, warm-up, repeats); options override them.  It prints the
table's prediction, the measured latency and the budget the result was solved under.

example:
  binas-opt verify result.json --table latency.json"""
EPILOG = """exit status:
  0  measured within the budget (or no budget to check)
  1  bad input
  2  usage error
  5  the measured latency breaks the budget"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("result", help="a Result JSON (binas-opt solve --json)")
    parser.add_argument("--table", required=True, metavar="LATENCY.json",
                        help="the latency table the result was solved with (binas-opt "
                             "measure-latency output; its conditions are reused)")
    parser.add_argument("--space", default=None,
                        help="the search space (default: the table's)")
    parser.add_argument("--budget", default=None, metavar="VALUE",
                        help="budget to check, e.g. 30ms (default: the result's budget on the "
                             "table's resource)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed runs (default: the table's)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed repeats (default: the table's)")
    parser.add_argument("--threads", type=int, default=None,
                        help="intra-op threads (default: the table's)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default=None,
                        help="wall clock or the thread's CPU time (default: the table's)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and input")


def run(args: argparse.Namespace) -> int:
    try:
        import torch

        from binas_opt.models import tune_malloc
    except ImportError as exc:  # pragma: no cover - torch missing
        raise CLIError(f"verify needs PyTorch (pip install binas-opt[torch]): {exc}") from None
    try:
        from binas_opt.models.timing import time_module
    except ImportError:  # pragma: no cover - before the timing module split
        from binas_opt.models.latency import time_module
    from binas_opt.model.table import Table

    table = load_object(args.table, "--table")
    if not isinstance(table, Table):
        raise CLIError(f"--table {args.table}: holds a {type(table).__name__}, not a Table")
    meta = load_json_file(args.table, "--table").get("metadata") or {}
    space = table.space if args.space is None else load_space(args.space)
    if table.space != space:
        raise CLIError(f"--table {args.table}: its space is not --space {args.space}")
    result, arch = load_result_arch(args.result, space)

    def cond(key, given, default):
        return given if given is not None else meta.get(key, default)

    device = str(meta.get("device", "cpu"))
    if device != "cpu" and not torch.cuda.is_available():
        raise CLIError(f"--table {args.table} was measured on {device}, which is not available "
                       "here")
    threads = int(cond("threads", args.threads, 1))
    warmup = int(cond("warmup", args.warmup, 10))
    repeats = int(cond("repeats", args.repeats, 30))
    number = int(meta.get("number", 1))
    clock = str(cond("clock", args.clock, "wall"))
    batch = int(meta.get("batch_size", 1))
    size = int(meta.get("input_size", space.fixed.input_size if space.fixed else 224))
    statistic = str(meta.get("statistic", "median"))
    for name, v in (("--warmup", warmup), ("--repeats", repeats), ("--threads", threads)):
        if v < (0 if name == "--warmup" else 1):
            raise CLIError(f"{name} must be {'>= 0' if name == '--warmup' else '>= 1'}, got {v}")
    if clock == "cpu" and threads != 1:
        raise CLIError("--clock cpu times the calling thread: use it with --threads 1")
    if meta.get("malloc_tuned"):
        tune_malloc()
    net = build_network(space, arch, None, args.seed).to(device).eval()
    gen = torch.Generator().manual_seed(args.seed)
    x = torch.randn((batch, space.fixed.in_channels, size, size), generator=gen).to(device)
    secs = time_module(net, x, warmup=warmup, repeats=repeats, number=number, threads=threads,
                       clock=clock)
    ms = secs * 1e3
    measured = float(np.min(ms) if statistic == "min" else np.median(ms))
    scale = budget_value(parse_budget("1ms"), table, "latency") if table.unit else 1.0
    predicted = float(table(arch)) / scale  # in ms
    here = meta.get("device_name")
    print(f"verify {space_label(space)} on {device} ({threads} thread(s), batch {batch}, "
          f"{size}px, {clock} clock, {statistic} of {repeats} repeats)")
    print(format_architecture(space, arch))
    print(f"  predicted by {args.table}: {predicted:10.3f} ms")
    q1, q3 = np.percentile(ms, [25, 75])
    print(f"  measured whole network:  {measured:10.3f} ms (IQR {q3 - q1:.3f} ms; "
          f"{100 * (measured - predicted) / predicted:+.1f}% vs predicted)")
    if here:
        print(f"  the table was measured on {here!r}, torch {meta.get('torch_version', '?')}")
    if args.budget is not None:
        budget_ms = budget_value(parse_budget(args.budget, "--budget"), table, "--budget") / scale
    else:
        b = result.budgets.get(table.name) if table.name else None
        budget_ms = None if b is None else float(b) / scale
    if budget_ms is None:
        print(f"  no budget on {table.name!r} in the result; give --budget to check one")
        return 0
    ok = measured <= budget_ms
    verdict = "met" if ok else "BROKEN"
    print(f"  budget {budget_ms:.3f} ms: {verdict} (measured {100 * measured / budget_ms:.1f}% "
          f"of the budget)")
    if not ok:
        print("  the table under-predicts this network here: re-measure the table under the "
              "same conditions, or solve with a tighter budget")
    return 0 if ok else 5

