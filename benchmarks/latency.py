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
    ap.add_argument("--no-tune-malloc", dest="tune_malloc", action="store_false",
                    help="keep glibc's default heap trimming (whole networks page-fault)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="round-robin passes over the table entries")
    args = ap.parse_args()
    torch.set_num_threads(1)
    space = bo.SearchSpace.mobilenet_v3()
    print(f"torch {torch.__version__}, torch.set_num_threads(1), batch 1, 224x224, "
          f"{args.warmup} warm-up + {args.repeats} repeats, statistic {args.statistic}, "
          f"{os.cpu_count()} CPUs, tune_malloc={args.tune_malloc}")
    rows = []
    for clock in args.clocks.split(","):
        print(f"\n[{clock} clock] {load()}")
        kw = {"threads": 1, "warmup": args.warmup, "repeats": args.repeats, "clock": clock,
              "statistic": args.statistic, "progress": False, "tune_malloc": args.tune_malloc}
        t0 = time.perf_counter()
        m = measure_latency(space, rounds=args.rounds, **kw)
        t_table = time.perf_counter() - t0
        disp = m.op_dispersion() / np.maximum(m.table.op_values, 1e-12)
        print(f"  table A: {len(m.entries)} entries measured in {t_table:.1f} s on "
              f"{m.conditions.device_name} ({args.rounds} rounds); fixed part "
              f"{m.table.const:.2f} ms; range {m.table.min_value():.2f}..{m.table.max_value():.2f}"
              f" ms; median relative IQR of entries {100 * np.median(disp):.1f}%   ({load()})")
        t0 = time.perf_counter()
        v = validate_latency(space, m.table, n=args.n, seed=args.seed, **kw)
        t_val = time.perf_counter() - t0
        print(f"  validation of {args.n} networks in {t_val:.1f} s   ({load()})")
        t0 = time.perf_counter()
        m2 = measure_latency(space, rounds=args.rounds, **kw)
        print(f"  table B (after validation) in {time.perf_counter() - t0:.1f} s; fixed part "
              f"{m2.table.const:.2f} ms   ({load()})")
        # A-B-A design: the mean of the tables measured before and after the validation
        # cancels a linear drift of the machine's speed
        avg = (m.table + m2.table) * 0.5
        variants = [("A", m.table), ("B", m2.table), ("(A+B)/2", avg)]
        print("   net  pred A  pred B  pred avg  measured  (IQR)   error(avg)")
        preds = {name: tab.evaluate(list(v.architectures)) for name, tab in variants}
        for i, q in enumerate(v.measured):
            pa, pb, pm = (preds[k][i] for k in ("A", "B", "(A+B)/2"))
            print(f"   {i:3d}  {pa:6.2f}  {pb:6.2f}  {pm:8.2f}  {q:8.2f}  "
                  f"({v.measured_iqr[i]:5.2f})  {100 * (pm - q) / q:+6.1f}%")
        for name, _ in variants:
            p = preds[name]
            r = float(np.corrcoef(p, v.measured)[0, 1])
            mape = float(100 * np.mean(np.abs(p - v.measured) / v.measured))
            mx = float(100 * np.max(np.abs(p - v.measured) / v.measured))
            slope, icpt = np.polyfit(p, v.measured, 1)
            rows.append((clock, name, t_table, r, mape, mx, slope, icpt))
    print("\nsummary (goal: MAPE <= 10%, Pearson r >= 0.95)")
    print(f"{'clock':6s} {'table':8s} {'meas. s':>8s} {'r':>7s} {'MAPE %':>7s} "
          f"{'max err %':>9s} {'slope':>6s} {'intercept':>9s}  goal")
    for clock, name, t_table, r, mape, mx, slope, icpt in rows:
        ok = mape <= 10 and r >= 0.95
        print(f"{clock:6s} {name:8s} {t_table:8.1f} {r:7.3f} {mape:7.2f} {mx:9.1f} "
              f"{slope:6.3f} {icpt:9.3f}  {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
