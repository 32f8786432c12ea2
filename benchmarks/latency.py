"""Latency tables on this CPU: time to measure the paper-space table, and how well the additive
table predicts whole networks (Pearson r, MAPE; goal MAPE <= 10%, r >= 0.95).

    python benchmarks/latency.py [--n 20] [--repeats 20] [--clocks wall,cpu]

Everything runs with one intra-op thread (``torch.set_num_threads(1)``, and ``threads=1`` for
both the table and the validation), batch 1, 224x224.  The machine this was written on is a
shared 2-core VM with other jobs running, so each clock is reported side by side:

* ``wall``: wall-clock time (what a user means by latency, but inflated whenever the OS runs
  another process in the middle of a forward pass; long passes are hit more often than the
  short block passes the table is made of);
* ``cpu``: the calling thread's CPU time (with one thread all the work runs in it), which
  excludes time given to other processes.

The load average before and after each step is printed, to judge the noise.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from binas_opt.models.latency import measure_latency, validate_latency

import binas_opt as bo


def load() -> str:
    try:
        return "load avg {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "load avg n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="random networks to validate on")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--clocks", default="wall,cpu")
    ap.add_argument("--statistic", default="median", choices=("median", "min"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", default=None, help="save the last clock's scatter plot here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    space = bo.SearchSpace.mobilenet_v3()
    print(f"torch {torch.__version__}, torch.set_num_threads(1), batch 1, 224x224, "
          f"{args.warmup} warm-up + {args.repeats} repeats, statistic {args.statistic}, "
          f"{os.cpu_count()} CPUs")
    rows = []
    for clock in args.clocks.split(","):
        print(f"\n[{clock} clock] {load()}")
        t0 = time.perf_counter()
        m = measure_latency(space, threads=1, warmup=args.warmup, repeats=args.repeats,
                            clock=clock, statistic=args.statistic, progress=False)
        t_table = time.perf_counter() - t0
        disp = m.op_dispersion() / np.maximum(m.table.op_values, 1e-12)
        print(f"  table: {len(m.entries)} entries measured in {t_table:.1f} s on "
              f"{m.conditions.device_name}; fixed part {m.table.const:.2f} ms; range "
              f"{m.table.min_value():.2f}..{m.table.max_value():.2f} ms; median relative IQR "
              f"of entries {100 * np.median(disp):.1f}%   ({load()})")
        t0 = time.perf_counter()
        v = validate_latency(space, m.table, n=args.n, seed=args.seed, threads=1,
                             warmup=args.warmup, repeats=args.repeats, clock=clock,
                             statistic=args.statistic, progress=False, plot=args.plot)
        t_val = time.perf_counter() - t0
        print(f"  validation of {args.n} networks in {t_val:.1f} s   ({load()})")
        print("   net  predicted  measured  (IQR)     error")
        for i, (p, q, d) in enumerate(zip(v.predicted, v.measured, v.measured_iqr,
                                          strict=True)):
            print(f"   {i:3d}  {p:8.2f}  {q:8.2f}  ({d:5.2f})  {100 * (p - q) / q:+6.1f}%")
        print("  " + v.summary())
        rows.append((clock, t_table, v))
    print("\nsummary (goal: MAPE <= 10%, Pearson r >= 0.95)")
    print(f"{'clock':6s} {'table s':>8s} {'r':>7s} {'MAPE %':>7s} {'max err %':>9s} "
          f"{'slope':>6s} {'intercept':>9s}  goal")
    for clock, t_table, v in rows:
        ok = v.mape <= 10 and v.pearson_r >= 0.95
        print(f"{clock:6s} {t_table:8.1f} {v.pearson_r:7.3f} {v.mape:7.2f} "
              f"{v.max_rel_error:9.1f} {v.slope:6.3f} {v.intercept:9.3f}  "
              f"{'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
