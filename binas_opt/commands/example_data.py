"""``binas-opt example-data``: write the bundled data as the files the CLI reads."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

from binas_opt.commands._common import CLIError, arch_labels, canonical_space_name

NAME = "example-data"
HELP = "write bundled example data (tables, measured rows) as files, to try the CLI path"
DESCRIPTION = HELP + """.

nas-bench-macro   NAS-Bench-Macro (real CIFAR-10 accuracies): space.json, flops.json and
                  params.json (exact tables), networks.csv (--n-samples sampled networks with
                  their benchmark accuracy, FLOPs and params: measured rows for binas-opt fit)
mobilenet-v3      the paper's space: space.json, latency.json (the bundled CPU latency table,
                  measured with binas-opt measure-latency, conditions under "metadata"),
                  params.json and macs.json (exact counts)

example:
  binas-opt example-data nas-bench-macro -o macro"""

DATASETS = ("nas-bench-macro", "mobilenet-v3")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="one of " + ", ".join(DATASETS) + " (underscores accepted)")
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="folder to write the files into (created if needed)")
    parser.add_argument("--n-samples", type=int, default=100,
                        help="nas-bench-macro: rows of networks.csv")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampled rows")


def _write(path: Path, text: str) -> None:
    from binas_opt.io import atomic_write_text

    atomic_write_text(path, text)
    print(f"  {path}")


def _macro(out: Path, n: int, seed: int) -> None:
    from binas_opt.datasets import nas_bench_macro
    from binas_opt.datasets.macro import true_accuracies
    from binas_opt.io import save

    if not 2 <= n <= 3969:
        raise CLIError(f"--n-samples must be in [2, 3969], got {n}")
    data = nas_bench_macro(n_samples=n, seed=seed)
    space = data.space
    save(space, out / "space.json")
    print(f"  {out / 'space.json'}")
    for t in (data.flops, data.params):
        save(t, out / f"{t.name}.json")
        print(f"  {out / (t.name + '.json')}")
    archs = list(data.samples)
    acc = true_accuracies(space, archs)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["architecture", "accuracy", "flops", "params"])
    for a, y in zip(archs, acc, strict=True):
        w.writerow([arch_labels(space, a), f"{float(y):.4f}", f"{data.flops(a):.0f}",
                    f"{data.params(a):.0f}"])
    _write(out / "networks.csv", buf.getvalue())


def _mobilenet(out: Path) -> None:
    from binas_opt.datasets.bundled_latency import (
        mobilenet_v3_cpu_latency,
        mobilenet_v3_cpu_latency_metadata,
    )
    from binas_opt.io import save, to_json_dict
    from binas_opt.mbconv.counts import macs_table, params_table

    latency = mobilenet_v3_cpu_latency()
    space = latency.space
    save(space, out / "space.json")
    print(f"  {out / 'space.json'}")
    doc = {**to_json_dict(latency), "metadata": mobilenet_v3_cpu_latency_metadata()}
    _write(out / "latency.json", json.dumps(doc, indent=1, allow_nan=False))
    for t in (params_table(space), macs_table(space)):
        save(t, out / f"{t.name}.json")
        print(f"  {out / (t.name + '.json')}")


def run(args: argparse.Namespace) -> int:
    name = canonical_space_name(args.name)
    if name not in DATASETS:
        raise CLIError(f"unknown example data {args.name!r}; valid: {', '.join(DATASETS)}")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--output {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    print(f"{name}: writing")
    if name == "nas-bench-macro":
        _macro(out, args.n_samples, args.seed)
    else:
        _mobilenet(out)
    return 0
