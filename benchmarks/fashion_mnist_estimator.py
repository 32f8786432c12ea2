"""BINAS's measured estimator vs fitted predictors on Fashion-MNIST, at equal evaluation budget.

1. Runs the end-to-end pipeline (:func:`binas_opt.models.pipeline.run_pipeline`) with its
   default fast settings, which trains the supernet, measures the contributions (``N``
   sub-network evaluations), the CPU latency table, solves 3 budgets, exports and fine-tunes;
   its per-step wall times are printed.
2. Ground truth: one-shot accuracies (BatchNorm recalibrated) of ``--n-heldout`` random
   sub-networks on the whole validation subset.
3. The estimator's Kendall tau / Spearman / Pearson against them, for the uniform reference
   and the authors' "smallest network" reference.
4. Fitted predictors (additive, bilinear, quadratic, MLP) trained on ``N`` random sampled
   sub-networks, each evaluated exactly like one contribution evaluation (same number of
   validation images, same recalibration): the same evaluation budget.
5. The BatchNorm effect: the same held-out sub-networks without recalibration (the supernet's
   running statistics) and with per-batch statistics.

Everything is cached in ``--out``, so an interrupted run resumes.  Prints side-by-side tables
and writes ``--out/benchmark.json``.

    python benchmarks/fashion_mnist_estimator.py --out /tmp/fm_bench
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import torch
from binas_opt.models.contribution_result import ContributionResult
from binas_opt.models.contributions import measure_contributions
from binas_opt.models.data import fashion_mnist_loaders
from binas_opt.models.pipeline import PipelineConfig, run_pipeline
from binas_opt.models.sampled_accuracies import SampledAccuracies, sample_accuracies
from binas_opt.models.supernet import Supernet

from binas_opt.estimation.predictors import evaluate_predictor, fit_predictor
from binas_opt.io import atomic_write_text
from binas_opt.mbconv.spaces import fashion_mnist_space


def _cached_samples(path: Path, fn) -> SampledAccuracies:
    if path.is_file():
        return SampledAccuracies.from_dict(json.loads(path.read_text()))
    res = fn()
    atomic_write_text(path, json.dumps(res.to_dict()))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="fashion_mnist_bench")
    ap.add_argument("--n-heldout", type=int, default=200)
    ap.add_argument("--n-samples", type=int, default=4, help="contexts per decision")
    ap.add_argument("--bn-subset", type=int, default=50,
                    help="held-out sub-networks also measured without recalibration")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tiny", action="store_true", help="tiny settings (smoke test)")
    args = ap.parse_args()
    out = Path(args.out)
    torch.set_num_threads(args.threads)
    cfg = PipelineConfig.tiny() if args.tiny else PipelineConfig()
    cfg = replace(cfg, n_samples=args.n_samples, threads=args.threads)

    # 1. the pipeline ------------------------------------------------------------------------
    report = run_pipeline(cfg, out / "pipeline", progress=True)
    print("\n== end-to-end pipeline (Fashion-MNIST, CPU, "
          f"{args.threads} thread(s)) ==")
    print(report.summary())

    space = fashion_mnist_space(tiny=cfg.space == "fashion_mnist_tiny")
    supernet = Supernet(space)
    state = torch.load(out / "pipeline" / "supernet.pt", map_location="cpu", weights_only=True)
    supernet.load_state_dict(state["model"])
    loaders = fashion_mnist_loaders(cfg.root, batch_size=cfg.batch_size,
                                    eval_batch_size=cfg.eval_batch_size, seed=cfg.seed,
                                    train_subset=cfg.train_subset, val_subset=cfg.val_subset,
                                    test_subset=cfg.test_subset)
    calib = [b for _, b in zip(range(max(cfg.calib_batches, 2) * 4), loaders.train,
                               strict=False)]
    contrib = ContributionResult.load(out / "pipeline" / "contributions.json")
    budget = contrib.evaluations

    # 2. ground truth -------------------------------------------------------------------------
    t0 = time.perf_counter()
    held = _cached_samples(out / "heldout.json", lambda: sample_accuracies(
        supernet, space, loaders.val, args.n_heldout, calib_loader=calib,
        calib_batches=cfg.calib_batches, seed=1001))
    t_held = time.perf_counter() - t0
    archs, truth = list(held.architectures), held.accuracies

    # 3. estimators ---------------------------------------------------------------------------
    t0 = time.perf_counter()
    smallest = measure_contributions(
        supernet, space, loaders.val, calib_loader=calib, n_samples=cfg.n_samples,
        eval_batches=cfg.eval_batches, calib_batches=cfg.calib_batches, reference="smallest",
        seed=cfg.seed, cache=out / "contrib_smallest_cache.json")
    t_small = time.perf_counter() - t0

    # 4. fitted predictors at the same budget ---------------------------------------------------
    t0 = time.perf_counter()
    train = _cached_samples(out / f"train_{budget}.json", lambda: sample_accuracies(
        supernet, space, loaders.val, budget, calib_loader=calib,
        calib_batches=cfg.calib_batches, eval_batches=cfg.eval_batches, seed=2002))
    t_train = time.perf_counter() - t0
    preds = {}
    for kind in ("additive", "bilinear", "quadratic"):
        preds[f"fitted {kind}"] = fit_predictor(kind, space, list(train.architectures),
                                                train.accuracies)
    from binas_opt.models.mlp_predictor import fit_mlp_predictor

    preds["fitted MLP"] = fit_mlp_predictor(space, list(train.architectures), train.accuracies,
                                            blackbox=True, seed=0)

    rows = [("BINAS measured (uniform ref.)", evaluate_predictor(contrib.table, archs, truth),
             contrib.evaluations),
            ("BINAS measured (smallest ref.)", evaluate_predictor(smallest.table, archs, truth),
             smallest.evaluations)]
    rows += [(name, evaluate_predictor(p, archs, truth), len(train)) for name, p in preds.items()]

    # 5. BatchNorm --------------------------------------------------------------------------------
    k = min(args.bn_subset, len(archs))
    sub = archs[:k]
    none = _cached_samples(out / "heldout_bn_none.json", lambda: sample_accuracies(
        supernet, space, loaders.val, architectures=sub, bn="none"))
    batch = _cached_samples(out / "heldout_bn_batch.json", lambda: sample_accuracies(
        supernet, space, loaders.val, architectures=sub, bn="batch"))
    from scipy.stats import kendalltau

    bn_rows = [("recalibrated (reference)", truth[:k], 1.0),
               ("running statistics (no recal.)", none.accuracies,
                kendalltau(none.accuracies, truth[:k]).statistic),
               ("per-batch statistics", batch.accuracies,
                kendalltau(batch.accuracies, truth[:k]).statistic)]

    # print ---------------------------------------------------------------------------------------
    n_img = int(held.total[0])
    print(f"\n== estimator quality vs one-shot accuracy of {len(archs)} held-out random "
          f"sub-networks ({n_img} val images each, BN recalibrated) ==")
    print(f"space {space.name}: {space.num_architectures:.3g} architectures, "
          f"{space.n_alpha}+{space.n_beta} decisions; held-out accuracy "
          f"{truth.mean():.2f} +- {truth.std():.2f} (range {truth.min():.2f}-{truth.max():.2f})")
    print(f"{'predictor':34s} {'evals':>6s} {'tau':>7s} {'spearman':>9s} {'pearson':>8s} "
          f"{'mse':>8s}")
    for name, sc, n in rows:
        print(f"{name:34s} {n:6d} {sc.kendall_tau:7.3f} {sc.spearman:9.3f} {sc.pearson:8.3f} "
              f"{sc.mse:8.3f}")
    print(f"(each evaluation: {contrib.images_per_eval} val images + {cfg.calib_batches} "
          f"x {cfg.batch_size} BN images; the paper reports tau 0.84 on ImageNet)")
    print(f"\n== BatchNorm: {k} held-out sub-networks ==")
    print(f"{'statistics':34s} {'mean acc':>9s} {'min':>7s} {'max':>7s} {'tau vs recal.':>14s}")
    for name, acc, tau in bn_rows:
        print(f"{name:34s} {acc.mean():9.2f} {acc.min():7.2f} {acc.max():7.2f} {tau:14.3f}")
    print(f"\nwall times (s): held-out ground truth {t_held:.1f}, smallest-reference "
          f"contributions {t_small:.1f}, predictor training samples {t_train:.1f}")

    doc = {
        "config": cfg.to_dict(), "pipeline": report.to_dict(),
        "heldout": {"n": len(archs), "images": n_img, "mean": float(truth.mean()),
                    "std": float(truth.std())},
        "estimators": [{"name": n, "evaluations": int(e), "kendall_tau": s.kendall_tau,
                        "spearman": s.spearman, "pearson": s.pearson, "mse": s.mse}
                       for n, s, e in rows],
        "batchnorm": [{"name": n, "mean": float(a.mean()), "min": float(a.min()),
                       "max": float(a.max()), "tau_vs_recalibrated": float(t)}
                      for n, a, t in bn_rows],
        "wall_times": {"heldout": t_held, "contributions_smallest": t_small,
                       "predictor_samples": t_train},
    }
    atomic_write_text(out / "benchmark.json", json.dumps(doc, indent=1, default=float))


if __name__ == "__main__":
    main()
