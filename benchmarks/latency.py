"""Latency tables on this CPU: time to measure the paper-space table, and how well the additive
table predicts whole networks (Pearson r, MAPE; goal MAPE <= 10%, r >= 0.95).

    python benchmarks/latency.py [--n 20] [--cycles 3] [--repeats 10] [--clocks cpu,wall]

Everything runs with one intra-op thread (``torch.set_num_threads(1)``, and ``threads=1`` for
both the table and the validation), batch 1, 224x224, with glibc's heap trimming turned off
(``tune_malloc``; otherwise whole networks page-fault where isolated blocks do not, which alone
made some networks 30-40% slower than their table).  The machine this was written on is a
shared 2-core VM with other jobs running, so two clocks are reported side by side:

* ``cpu``: the calling thread's CPU time (with one thread all the work runs in it), which
  excludes the time the OS gives to other processes;
* ``wall``: wall-clock time (what latency means on an idle machine, but inflated whenever
  another process runs in the middle of a forward pass; long passes are hit more often than
  the short block passes the table is made of).

The machine's speed also drifts over minutes, so the table and the networks are measured in
alternating cycles and pooled (per-cycle results are printed too).  The load average is printed
to judge the noise.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from binas_opt.models import measure_latency, validate_latency

import binas_opt as bo


def load() -> str:
    try:
        return "load avg {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "load avg n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="random networks to validate on")
    ap.add_argument("--repeats", type=int, default=10, help="per cycle")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--clocks", default="wall,cpu")
    ap.add_argument("--statistic", default="median", choices=("median", "min"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-tune-malloc", dest="tune_malloc", action="store_false",
                    help="keep glibc's default heap trimming (whole networks page-fault)")
    ap.add_argument("--cycles", type=int, default=3,
                    help="alternations of (measure table, measure networks), pooled")
    ap.add_argument("--rounds", type=int, default=5,
                    help="round-robin passes over the table entries")
    args = ap.parse_args()
    torch.set_num_threads(1)
    space = bo.SearchSpace.mobilenet_v3()
    print(f"torch {torch.__version__}, torch.set_num_threads(1), batch 1, 224x224, "
          f"{args.warmup} warm-up + {args.repeats} repeats, statistic {args.statistic}, "
          f"{os.cpu_count()} CPUs, tune_malloc={args.tune_malloc}")
    rows = []
    archs = space.sample(np.random.default_rng(args.seed), args.n)
    for clock in args.clocks.split(","):
        print(f"\n[{clock} clock] {load()}")
        kw = {"threads": 1, "warmup": args.warmup, "repeats": args.repeats, "clock": clock,
              "statistic": args.statistic, "progress": False, "tune_malloc": args.tune_malloc}
        tables, measured, t_tables = [], [], []
        # cycles of (table, validation): the machine's speed drifts by 10-30% over minutes
        # here, so table and networks are measured alternately and pooled
        for c in range(args.cycles):
            t0 = time.perf_counter()
            m = measure_latency(space, rounds=args.rounds, **kw)
            t_tables.append(time.perf_counter() - t0)
            v = validate_latency(space, m.table, architectures=archs, **kw)
            tables.append(m.table)
            measured.append(v.measured)
            disp = m.op_dispersion() / np.maximum(m.table.op_values, 1e-12)
            print(f"  cycle {c}: table ({len(m.entries)} entries, {args.rounds} rounds) in "
                  f"{t_tables[-1]:.1f} s, fixed part {m.table.const:.2f} ms, median relative "
                  f"IQR of entries {100 * np.median(disp):.1f}%; {args.n} networks: "
                  f"r = {v.pearson_r:.3f}, MAPE = {v.mape:.1f}%   ({load()})")
            rows.append((clock, f"cycle {c}", t_tables[-1], v.pearson_r, v.mape,
                         v.max_rel_error, v.slope, v.intercept))
        table = tables[0]
        for tb in tables[1:]:
            table = table + tb
        table = table * (1.0 / len(tables))
        pred, meas = table.evaluate(archs), np.mean(measured, axis=0)
        print("   net  predicted  measured   error")
        for i, (p, q) in enumerate(zip(pred, meas, strict=True)):
            print(f"   {i:3d}  {p:8.2f}  {q:8.2f}  {100 * (p - q) / q:+6.1f}%")
        r = float(np.corrcoef(pred, meas)[0, 1])
        rel = np.abs(pred - meas) / meas
        slope, icpt = np.polyfit(pred, meas, 1)
        rows.append((clock, "pooled", float(np.mean(t_tables)), r, float(100 * rel.mean()),
                     float(100 * rel.max()), slope, icpt))
    print("\nsummary (goal: MAPE <= 10%, Pearson r >= 0.95)")
    print(f"{'clock':6s} {'table':8s} {'meas. s':>8s} {'r':>7s} {'MAPE %':>7s} "
          f"{'max err %':>9s} {'slope':>6s} {'intercept':>9s}  goal")
    for clock, name, t_table, r, mape, mx, slope, icpt in rows:
        ok = mape <= 10 and r >= 0.95
        print(f"{clock:6s} {name:8s} {t_table:8.1f} {r:7.3f} {mape:7.2f} {mx:9.1f} "
              f"{slope:6.3f} {icpt:9.3f}  {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
