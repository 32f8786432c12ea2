"""Pareto front benchmark on the paper's MobileNetV3 space (5 stages, depths {2,3,4}, 12 ops).

For three kinds of synthetic tables (``binas_opt.testing.synthetic.synthetic_tables``: realistic,
uncorrelated, strongly correlated) it prints, side by side in one run:

* the time to the whole exact front and its size (correlated: the automatic fallback, its
  epsilon and time);
* the time for 20 and 100 budgets via the front (build + one Result per budget) against 20 and
  100 independent MILP solves (``solve(..., backend="milp")``), as a ratio;
* the time of one query of a built front (``ParetoFront.query``), and of building a full Result.

Independent MILP solves are timed on a sample of the budgets (``--milp-sample``) and scaled to
20/100 when the sample is smaller; correlated tables make HiGHS slow (a minute per solve is
possible), so they get a per-solve time limit and the row says so.

Run: ``python benchmarks/pareto.py [--kinds realistic,uncorrelated,correlated]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import binas_opt as bo
from binas_opt.testing.synthetic import synthetic_tables


def timed(fn, repeats=1):
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kinds", default="realistic,uncorrelated,correlated")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="best-of repeats for fast timings")
    ap.add_argument("--milp-sample", type=int, default=100,
                    help="independent MILP solves actually timed per kind (scaled to 20/100)")
    ap.add_argument("--correlated-milp-sample", type=int, default=2)
    ap.add_argument("--correlated-milp-limit", type=float, default=30.0,
                    help="time limit of one correlated MILP solve (s)")
    args = ap.parse_args(argv)
    space = bo.SearchSpace.mobilenet_v3()
    print(f"space: {space!r}")
    print(f"{'kind':<13} {'front':>10} {'points':>7} {'mode':<10} {'epsilon':>8} "
          f"{'query':>9} {'Result':>9}")
    rows = []
    for kind in args.kinds.split(","):
        data = synthetic_tables(space, kind, args.seed)
        lat = data.latency
        lo, hi = lat.min_value(), lat.max_value()
        problem = bo.Problem(space, data.accuracy, [lat <= hi])
        t_front, front = timed(lambda p=problem: bo.pareto_front(p), args.repeats)
        budgets = np.linspace(lo, hi, 100)
        qs = np.random.default_rng(0).uniform(lo, hi, 10_000)
        t0 = time.perf_counter()
        for b in qs:
            front.query(b)
        t_query = (time.perf_counter() - t0) / qs.size
        t_res, _ = timed(lambda f=front, b=budgets[:20]: f.results(b), 1)
        mode = front.stats.get("mode", front.method)
        print(f"{kind:<13} {t_front * 1e3:>8.1f}ms {len(front):>7} {mode:<10} "
              f"{front.epsilon:>8.3g} {t_query * 1e6:>7.2f}us {t_res / 20 * 1e3:>7.2f}ms")
        rows.append((kind, problem, front, budgets))

    print("\nmany budgets: via the front (build + one Result each) vs independent MILP solves")
    print(f"{'kind':<13} {'n':>4} {'via front':>11} {'independent milp':>22} {'ratio':>8}  note")
    for kind, problem, front, budgets in rows:
        correlated = kind == "correlated"
        sample = args.correlated_milp_sample if correlated else args.milp_sample
        limit = args.correlated_milp_limit if correlated else None
        rng = np.random.default_rng(1)
        timed_budgets = rng.choice(budgets, size=min(sample, budgets.size), replace=False)
        per, terminations = [], []
        for b in timed_budgets:
            t = time.perf_counter()
            r = bo.solve(problem.with_budgets({"latency": float(b)}), backend="milp",
                         time_limit=limit)
            per.append(time.perf_counter() - t)
            terminations.append(r.termination.value)
        mean_milp = statistics.fmean(per)
        for n in (20, 100):
            bs = budgets[:: 100 // n][:n]
            if correlated:
                # exact per-budget answers would need the MILP (the exact front is too large);
                # the epsilon front answers within its stated epsilon
                t_via, res = timed(lambda b=bs, f=front: f.results(b), 1)
                t_via += front.build_time
                note = f"front is epsilon={front.epsilon:.3g} (status feasible)"
            else:
                t_via, res = timed(lambda b=bs, p=problem: bo.solve_budgets(p, "latency", b), 1)
                note = "exact (status optimal)"
            t_milp = mean_milp * n
            scaled = "" if len(per) >= n else f" (x{n / len(per):.0f} of {len(per)} timed)"
            extra = ""
            if limit is not None:
                hit = sum(s == "time_limit" for s in terminations)
                extra = f"; milp limit {limit:g}s, {hit}/{len(terminations)} hit it"
            print(f"{kind:<13} {n:>4} {t_via * 1e3:>9.1f}ms {t_milp:>10.2f}s{scaled:<12} "
                  f"{t_milp / t_via:>7.0f}x  {note}{extra}")


if __name__ == "__main__":
    main()
