"""MILP speed on the paper's MobileNetV3 space: compact formulation vs the naive one.

Builds a paper-sized problem with realistic random tables (latency grows with kernel, expansion
and SE; accuracy contributions correlate with latency with noise and diminishing returns), solves
20 latency budgets from the minimum to the maximum latency to proven optimality, and solves a
subset of the same problems with the naive formulation (one McCormick product per coupled
alpha x beta pair, as the paper's bilinear program would be linearised) for the ratio.

Run:  python benchmarks/milp_paper_space.py [--seeds 3] [--naive-every 4]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from binas_opt.solvers._compact import build_model

import binas_opt as bo
from binas_opt.testing.synthetic import synthetic_tables


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="random table sets")
    ap.add_argument("--budgets", type=int, default=20)
    ap.add_argument("--naive-every", type=int, default=4, help="naive solve on every k-th budget")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    space = bo.SearchSpace.mobilenet_v3()
    compact_t, build_t, naive_pairs = [], [], []
    for seed in range(args.seeds):
        data = synthetic_tables(space, "realistic", seed)
        lat = data.latency
        budgets = np.linspace(lat.min_value(), lat.max_value(), args.budgets)
        for i, b in enumerate(budgets):
            problem = bo.Problem(space, data.accuracy, [lat <= b])
            t0 = time.perf_counter()
            build_model(problem)
            build_t.append(time.perf_counter() - t0)
            r = bo.solve(problem, "milp", threads=args.threads)
            assert r.status is bo.Status.OPTIMAL, r.status
            assert problem.is_feasible(r.architecture)
            compact_t.append(r.wall_time)
            if i % args.naive_every == 0:
                n = bo.solve(problem, "milp", formulation="naive", threads=args.threads, time_limit=120)
                assert n.status is bo.Status.OPTIMAL and abs(n.objective - r.objective) < 1e-6
                naive_pairs.append((r.wall_time, n.wall_time))

    ms = 1e3
    m = build_model(bo.Problem(space, data.accuracy, [lat <= budgets[10]]))
    mn = build_model(bo.Problem(space, data.accuracy, [lat <= budgets[10]]), "naive")
    print(f"paper space: {space.n_alpha} + {space.n_beta} encoding entries, "
          f"{args.seeds} table sets x {args.budgets} latency budgets (min..max), threads={args.threads}")
    print(f"compact model: {m.n_cols} columns, {m.A.shape[0]} rows, {m.A.nnz} nonzeros")
    print(f"naive model:   {mn.n_cols} columns, {mn.A.shape[0]} rows, {mn.A.nnz} nonzeros")
    print(f"{'':24}{'median':>10}{'max':>10}")
    print(f"{'build (ms)':24}{statistics.median(build_t) * ms:10.2f}{max(build_t) * ms:10.2f}")
    print(f"{'compact solve (ms)':24}{statistics.median(compact_t) * ms:10.2f}{max(compact_t) * ms:10.2f}")
    c = [p[0] for p in naive_pairs]
    n = [p[1] for p in naive_pairs]
    print(f"{'compact, same subset':24}{statistics.median(c) * ms:10.2f}{max(c) * ms:10.2f}")
    print(f"{'naive solve (ms)':24}{statistics.median(n) * ms:10.2f}{max(n) * ms:10.2f}")
    ratios = [b / a for a, b in naive_pairs]
    print(f"naive / compact time ratio on {len(ratios)} identical problems: median "
          f"{statistics.median(ratios):.1f}x, min {min(ratios):.1f}x")
    print(f"goal: median proven-optimal compact solve <= 30 ms -> "
          f"{'met' if statistics.median(compact_t) <= 0.030 else 'NOT met'}")


if __name__ == "__main__":
    main()
