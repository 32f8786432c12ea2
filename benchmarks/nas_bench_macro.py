#!/usr/bin/env python
"""Predictor-based search on real ground truth: NAS-Bench-Macro (issue 6, item 8).

NAS-Bench-Macro (Su et al., CVPR 2021) gives the CIFAR-10 accuracy (mean of 3 seeds) of every
architecture of an 8-layer macro space; in binas-opt form it has 3 stages (depths {1,2},
{1,2,3}, {1,2,3}), 3,969 distinct architectures and exact FLOPs/params Tables.  Three studies:

1. **Estimator quality**: Kendall tau against the true accuracy of all architectures not
   evaluated, versus the number of evaluated architectures N, for
   (a) BINAS-style conditioned measurement: for each of the 27 decisions (19 ops of blocks,
       8 depth options), force it, draw the other decisions uniformly (a forced op's block is
       kept active) and average the benchmark accuracy over m such networks; contribution =
       mean - mean over the block's (stage's) alternatives; constant = mean of the depth-forced
       samples.  Costs N = 27 m benchmark queries;
   (b) the fitted additive Table, (c) the fitted quadratic form, (c') the fitted bilinear form
       and (d) an MLP, all fitted on N distinct uniformly sampled architectures.
2. **Regret**: fit on n in {30, 100, 300} samples, solve exactly under 3 FLOPs budgets (20th,
   50th, 80th percentile of the space's FLOPs) -- milp for the Tables and the bilinear form,
   brute force (exact enumeration) for the quadratic form and the MLP, with the quadratic
   form's milp optimum cross-checked -- and report the true best accuracy under the budget
   minus the true accuracy of the chosen network, mean over 20 seeds.
3. **Sample efficiency**: start from 10 random evaluated networks; repeat fit -> solve (best
   predicted feasible network not yet evaluated) -> evaluate -> add, until a network within 0.1
   points of the true best under the budget is evaluated; versus random search over the
   feasible networks (the FLOPs check is free).  Reports evaluations needed and the ratio.
4. **Modules**: effects of a fitted Table by kernel and stage, and what restricting every block
   to its top-k ops costs at the three budgets (estimator and true accuracy).

Run: ``python benchmarks/nas_bench_macro.py`` (a few minutes on 2 cores); ``--quick`` for a
smoke run.
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # small dense problems: threads only contend on 2 cores

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
import scipy.stats  # noqa: E402

import binas_opt as bo  # noqa: E402
from binas_opt.analysis.aggregation import aggregate_contributions  # noqa: E402
from binas_opt.analysis.restriction import restriction_loss  # noqa: E402
from binas_opt.datasets import nas_bench_macro  # noqa: E402
from binas_opt.datasets.macro import true_accuracies  # noqa: E402
from binas_opt.estimation.predictors import fit_additive, fit_bilinear, fit_quadratic  # noqa: E402


# ---------------------------------------------------------------------------------- ground truth
@dataclass
class Bench:
    """The benchmark over the enumerated space, with O(1) truth lookup of (depths, ops) rows."""

    space: bo.SearchSpace
    flops: bo.Table
    depths: np.ndarray
    ops: np.ndarray
    acc: np.ndarray
    flops_all: np.ndarray
    dims: tuple[int, ...]
    lookup: np.ndarray

    @classmethod
    def load(cls) -> Bench:
        data = nas_bench_macro(n_samples=30, seed=0)
        space = data.space
        depths, ops = space.enumerate()
        acc = true_accuracies(space, space.architectures_from_arrays(depths, ops))
        dims = tuple([len(st.depths) for st in space.stages]
                     + [n for st in space.stages for n in st.num_ops])
        b = cls(space, data.flops, depths, ops, acc, data.flops.evaluate_arrays(depths, ops),
                dims, np.empty(0))
        lookup = np.full(math.prod(dims), -1, dtype=np.int64)
        lookup[b.keys(depths, ops)] = np.arange(len(depths))
        b.lookup = lookup
        return b

    def keys(self, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
        sp = self.space
        _, bi = sp.indices_from_arrays(depths, ops)
        dpos = bi - sp.index.beta_offset[None, :]
        canon = np.where(sp.active_mask(depths), ops, 0)
        return np.ravel_multi_index(tuple(np.hstack([dpos, canon]).T), self.dims)

    def rows(self, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
        """Row of every architecture in the enumeration."""
        return self.lookup[self.keys(depths, ops)]

    def true_best(self, budget: float) -> float:
        return float(self.acc[self.flops_all <= budget].max())


def _tau(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(scipy.stats.kendalltau(pred, truth).statistic)


# ---------------------------------------------------------------------------------- estimators
def conditioned_table(bench: Bench, m: int, rng: np.random.Generator):
    """BINAS-style estimator from benchmark queries; returns (Table, rows queried)."""
    sp = bench.space
    idx = sp.encoding
    n_ops = idx.block_num_ops
    n_blocks = idx.n_blocks

    def draw(k: int):
        d = np.stack([rng.choice(st.depths, k) for st in sp.stages], axis=1)
        o = np.floor(rng.random((k, n_blocks)) * n_ops).astype(np.int64)
        return d, o

    queried = []
    mean_a = np.zeros(sp.n_alpha)
    for i in range(sp.n_alpha):
        s, b, o = int(idx.alpha_stage[i]), int(idx.alpha_block[i]), int(idx.alpha_op[i])
        d, ops = draw(m)
        allowed = [x for x in sp.stages[s].depths if x > b]
        d[:, s] = rng.choice(allowed, m)
        ops[:, idx.stage_block_ptr[s] + b] = o
        r = bench.rows(d, ops)
        queried.append(r)
        mean_a[i] = bench.acc[r].mean()
    mean_b = np.zeros(sp.n_beta)
    beta_rows = []
    for j in range(sp.n_beta):
        d, ops = draw(m)
        d[:, idx.beta_stage[j]] = idx.beta_depth[j]
        r = bench.rows(d, ops)
        queried.append(r)
        beta_rows.append(r)
        mean_b[j] = bench.acc[r].mean()
    a = mean_a - (np.add.reduceat(mean_a, idx.alpha_ptr[:-1]) / n_ops)[idx.block_of_alpha]
    cnt = np.bincount(idx.beta_stage)
    g = mean_b - (np.bincount(idx.beta_stage, weights=mean_b) / cnt)[idx.beta_stage]
    const = float(bench.acc[np.concatenate(beta_rows)].mean())
    table = bo.Table(sp, const, g, a, name="accuracy", unit="%")
    return table, np.concatenate(queried)


def fit_mlp(bench: Bench, d, o, y, seed: int):
    """Small MLP (32-32), full-batch Adam (batches of at most 256), 200 epochs."""
    from binas_opt.models.mlp_predictor import fit_mlp_predictor

    return fit_mlp_predictor(bench.space, (d, o), y, hidden=(32, 32), epochs=200,
                             batch_size=256, lr=1e-2, weight_decay=1e-4, seed=seed,
                             blackbox=True)


def fitted(kind: str, bench: Bench, rows: np.ndarray, seed: int):
    d, o, y = bench.depths[rows], bench.ops[rows], bench.acc[rows]
    if kind == "additive":
        return fit_additive(bench.space, (d, o), y)
    if kind == "bilinear":
        return fit_bilinear(bench.space, (d, o), y, seed=seed)
    if kind == "quadratic":
        return fit_quadratic(bench.space, (d, o), y, seed=seed)
    if kind == "mlp":
        return fit_mlp(bench, d, o, y, seed)
    raise ValueError(kind)


def predict_all(pred, bench: Bench) -> np.ndarray:
    return np.asarray(pred.evaluate_arrays(bench.depths, bench.ops), dtype=float)


# ---------------------------------------------------------------------------------- studies
def study_tau(bench: Bench, ms, seeds, kinds):
    n_all = len(bench.acc)
    res = {k: np.zeros((len(seeds), len(ms))) for k in ["binas", *kinds]}
    for si, seed in enumerate(seeds):
        for mi, m in enumerate(ms):
            rng = np.random.default_rng([seed, m])
            table, q = conditioned_table(bench, m, rng)
            rest = np.ones(n_all, dtype=bool)
            rest[q] = False
            res["binas"][si, mi] = _tau(predict_all(table, bench)[rest], bench.acc[rest])
            n = 27 * m
            rows = rng.choice(n_all, n, replace=False)
            rest = np.ones(n_all, dtype=bool)
            rest[rows] = False
            for k in kinds:
                pred = fitted(k, bench, rows, seed)
                res[k][si, mi] = _tau(predict_all(pred, bench)[rest], bench.acc[rest])
    return res


def solve_choice(pred, bench: Bench, budget: float, backend: str | None = None):
    """Row of the exact optimum of ``pred`` under the FLOPs budget, and its objective.

    Tables and bilinear forms go to ``milp``; the quadratic form and the MLP to ``brute``
    (exact enumeration of the 3,969 networks, faster here than the McCormick MILP of the
    quadratic form, which is cross-checked against it once per (n, budget)).
    """
    if backend is None:
        na = bench.space.n_alpha
        quad = isinstance(pred, bo.QuadraticForm) and (pred.W[:, :na].nnz + pred.W[na:].nnz) > 0
        backend = "brute" if isinstance(pred, bo.BlackBox) or quad else "milp"
    r = bo.solve(bo.Problem(bench.space, pred, [bench.flops <= budget]), backend=backend)
    if r.status != "optimal":
        raise RuntimeError(f"{backend}: {r.status} ({r.message})")
    a = r.architecture
    return int(bench.rows(*bench.space.encoding.to_arrays([a]))[0]), r.objective


def study_regret(bench: Bench, ns, budgets, seeds, kinds):
    best = np.array([bench.true_best(b) for b in budgets])
    out = {k: np.zeros((len(ns), len(seeds), len(budgets))) for k in ["binas", *kinds]}
    evals = {"binas": [27 * max(1, n // 27) for n in ns]}
    checked = 0
    for ni, n in enumerate(ns):
        for si, seed in enumerate(seeds):
            rng = np.random.default_rng([seed, n, 7])
            rows = rng.choice(len(bench.acc), n, replace=False)
            preds = {k: fitted(k, bench, rows, seed) for k in kinds}
            preds["binas"], _ = conditioned_table(bench, max(1, n // 27), rng)
            for k, pred in preds.items():
                for bi, b in enumerate(budgets):
                    row, obj = solve_choice(pred, bench, b)
                    out[k][ni, si, bi] = best[bi] - bench.acc[row]
                    if k == "quadratic" and si == 0:  # exact MILP agrees with enumeration
                        _, obj_milp = solve_choice(pred, bench, b, backend="milp")
                        assert abs(obj_milp - obj) <= 1e-6 * max(1.0, abs(obj)), (obj_milp, obj)
                        checked += 1
    return out, evals, best, checked


def sequential_search(bench: Bench, kind: str, budget: float, seed: int, tol: float,
                      n0: int = 10, cap: int = 600) -> tuple[int, int]:
    """Evaluations until within ``tol`` of the true best, and until the exact best."""
    feasible = bench.flops_all <= budget
    target = bench.true_best(budget)
    rng = np.random.default_rng([seed, 11])
    evaluated = np.zeros(len(bench.acc), dtype=bool)
    evaluated[rng.choice(len(bench.acc), n0, replace=False)] = True
    hit_tol = hit_best = None

    def check():
        nonlocal hit_tol, hit_best
        got = bench.acc[evaluated & feasible].max(initial=-np.inf)
        n = int(evaluated.sum())
        if hit_tol is None and got >= target - tol:
            hit_tol = n
        if hit_best is None and got >= target:
            hit_best = n

    check()
    while hit_best is None and evaluated.sum() < cap:
        rows = np.flatnonzero(evaluated)
        pred = fitted(kind, bench, rows, seed)
        score = np.where(feasible & ~evaluated, predict_all(pred, bench), -np.inf)
        # the exact optimum of the predictor over the feasible networks not yet evaluated
        # (what milp with no-good cuts on the evaluated ones returns; enumeration is exact here)
        evaluated[int(np.argmax(score))] = True
        check()
    return hit_tol or cap, hit_best or cap


def random_search(bench: Bench, budget: float, seed: int, tol: float) -> tuple[int, int]:
    feasible = np.flatnonzero(bench.flops_all <= budget)
    order = np.random.default_rng([seed, 13]).permutation(feasible)
    acc = bench.acc[order]
    target = bench.true_best(budget)
    return int(np.argmax(acc >= target - tol)) + 1, int(np.argmax(acc >= target)) + 1


# ---------------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="few seeds, for a smoke run")
    ap.add_argument("--no-mlp", action="store_true", help="skip the MLP (no torch)")
    args = ap.parse_args()
    t_all = time.perf_counter()
    bench = Bench.load()
    sp = bench.space
    kinds = ["additive", "quadratic", "bilinear"] + ([] if args.no_mlp else ["mlp"])
    budgets = [float(np.percentile(bench.flops_all, p)) for p in (20, 50, 80)]
    print(f"NAS-Bench-Macro: {sp.num_architectures} architectures, accuracy "
          f"{bench.acc.min():.2f}..{bench.acc.max():.2f} %, n_alpha={sp.n_alpha}, "
          f"n_beta={sp.n_beta} (27 decisions)")
    print("FLOPs budgets (20/50/80th percentile): "
          + ", ".join(f"{b / 1e6:.2f}M (true best {bench.true_best(b):.2f} %, "
                      f"{int((bench.flops_all <= b).sum())} feasible)" for b in budgets))

    # 1. tau curve
    t0 = time.perf_counter()
    ms = [1, 2, 4, 8] if args.quick else [1, 2, 4, 8, 16, 32]
    seeds = [0, 1] if args.quick else [0, 1, 2]
    taus = study_tau(bench, ms, seeds, kinds)
    print(f"\n1. Kendall tau vs evaluated architectures N (mean over {len(seeds)} seeds; "
          "tau over all architectures not evaluated)")
    head = f"{'N':>5} " + " ".join(f"{k:>10}" for k in taus)
    print(head)
    for mi, m in enumerate(ms):
        print(f"{27 * m:>5} " + " ".join(f"{taus[k][:, mi].mean():>10.3f}" for k in taus))
    print(f"   [{time.perf_counter() - t0:.0f} s]")

    # 2. regret
    t0 = time.perf_counter()
    ns = [30, 100, 300]
    seeds = list(range(4 if args.quick else 20))
    regret, evals, best, checked = study_regret(bench, ns, budgets, seeds, kinds)
    print(f"\n2. Regret (true best - true accuracy of the exact optimum of the predictor), "
          f"points, mean over {len(seeds)} seeds")
    print(f"{'n':>5} {'predictor':>10} " + " ".join(f"{b / 1e6:>9.1f}M" for b in budgets)
          + f" {'mean':>9} {'max':>7} {'P(0)':>6}")
    for ni, n in enumerate(ns):
        for k in regret:
            r = regret[k][ni]
            label = k if k != "binas" else f"binas({evals['binas'][ni]})"
            print(f"{n:>5} {label:>10} " + " ".join(f"{x:>10.3f}" for x in r.mean(axis=0))
                  + f" {r.mean():>9.3f} {r.max():>7.2f} {np.mean(r == 0):>6.2f}")
    goal = {k: regret[k][ns.index(100)].mean() for k in regret}
    ok = [k for k, v in goal.items() if v <= 0.4]
    print(f"   quadratic: milp optimum = brute-force optimum on {checked} (n, budget) checks")
    print(f"   goal mean regret <= 0.4 at n=100: met by {ok or 'none'}  "
          f"[{time.perf_counter() - t0:.0f} s]")

    # 3. sample efficiency
    t0 = time.perf_counter()
    tol = 0.1
    seeds = list(range(4 if args.quick else 20))
    loops = ["additive", "quadratic"]
    print(f"\n3. Sample efficiency: evaluations to reach within {tol} points of the true best "
          f"(and the exact best), mean over {len(seeds)} seeds")
    print(f"{'budget':>8} {'method':>16} {'to <=0.1':>9} {'median':>7} {'to best':>8} "
          f"{'ratio rand/seq':>15}")
    for b in budgets:
        rnd = np.array([random_search(bench, b, s, tol) for s in seeds])
        feas = int((bench.flops_all <= b).sum())
        hits = int((bench.acc[bench.flops_all <= b] >= bench.true_best(b) - tol).sum())
        print(f"{b / 1e6:>7.1f}M {'random':>16} {rnd[:, 0].mean():>9.1f} "
              f"{np.median(rnd[:, 0]):>7.0f} {rnd[:, 1].mean():>8.1f} "
              f"{'(expect ' + format((feas + 1) / (hits + 1), '.0f') + ')':>15}")
        for k in loops:
            seq = np.array([sequential_search(bench, k, b, s, tol) for s in seeds])
            print(f"{'':>8} {'fit-solve ' + k:>16} {seq[:, 0].mean():>9.1f} "
                  f"{np.median(seq[:, 0]):>7.0f} {seq[:, 1].mean():>8.1f} "
                  f"{rnd[:, 0].mean() / seq[:, 0].mean():>8.1f}x / "
                  f"{rnd[:, 1].mean() / seq[:, 1].mean():.1f}x")
    print(f"   [{time.perf_counter() - t0:.0f} s]")
    # 4. interpretability: aggregate a fitted Table, restrict to the top-k ops, measure the loss
    t0 = time.perf_counter()
    rows = np.random.default_rng(99).choice(len(bench.acc), 300, replace=False)
    table = fitted("additive", bench, rows, 0)
    summary = aggregate_contributions(table)
    print("\n4. Modules (additive Table fitted on 300 networks): effects by kernel "
          + ", ".join(f"{r.value} {r.effect:+.2f}" for r in summary.by_kernel)
          + "; stages by spread " + ", ".join(f"{r.name} {r.spread:.2f}" for r in summary.by_stage))

    def truth(arch):
        return float(bench.acc[bench.rows(np.array([arch.depths]),
                                          np.array([np.concatenate(arch.ops)]))[0]])

    for cheap in (True, False):
        rep = restriction_loss(table, bench.flops, budgets, top_k=1, truth=truth,
                               keep_cheapest=cheap)
        print(f"   top-1 op per block{' + cheapest' if cheap else ''}: "
              f"{rep.reduced.space.num_architectures} networks; loss (estimator / true) per "
              "budget: " + ", ".join(
                  f"{r.loss:.2f} / {r.true_loss:+.2f}" if r.reduced_status == "optimal"
                  else r.reduced_status for r in rep.rows))
    print(f"   [{time.perf_counter() - t0:.0f} s]")
    print(f"\ntotal {time.perf_counter() - t_all:.0f} s")


if __name__ == "__main__":
    main()
