"""Compare every backend against the exact optimum, time the Frank-Wolfe step, and scale up.

Run: ``python benchmarks/solvers.py`` (about 30 minutes on 2 cores, most of it the exact solves
of the strongly correlated tables; ``--budgets 5`` or ``--kinds realistic`` is quicker).

1. The paper's space (``SearchSpace.mobilenet_v3``) with realistic, uncorrelated and strongly
   correlated synthetic tables (:func:`binas_opt.testing.synthetic.synthetic_tables`), 20 latency budgets
   each from 5% to 95% of the latency range.  For every available backend (``fw`` twice: our
   default and ``preset="paper"``): budgets solved exactly, mean / median / max gap to the exact
   optimum (accuracy points), median time per solve, time for the whole sweep, and how many
   solves stopped at the time limit (``clock``, termination ``time_limit``).
2. The time per Frank-Wolfe step (gradient, linear oracle, step, update) inside real runs with
   our closed-form oracle against the same runs with an interior-point LP per step (cvxopt if
   installed, else scipy's ``highs-ipm``).
3. A scaled-up space: 10 stages x 8 blocks x 24 ops with 3 budgets (latency, params, energy).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import numpy as np
from binas_opt.solvers import fw
from binas_opt.solvers._mck import OracleResult
from binas_opt.solvers.fw import RelaxedProblem
from scipy.optimize import linprog

import binas_opt as bo
from binas_opt.mbconv.arch_def import mbconv_labels
from binas_opt.solving.backend import SolveContext
from binas_opt.solving.registry import get_backend
from binas_opt.testing.synthetic import TableKind, synthetic_problem, synthetic_tables

RUNS = [("milp", {}), ("pulp", {}), ("dp", {}), ("fw", {}), ("fw", {"preset": "paper"}),
        ("relax", {}), ("evo", {}), ("brute", {})]


def _label(name, opts):
    return name if not opts else f"{name}[{','.join(f'{k}={v}' for k, v in opts.items())}]"


def _refusal(name, problem):
    cls = get_backend(name)
    if problem.objective_kind not in cls.accepts:
        return f"no {problem.objective_kind.value} objectives"
    if cls.max_constraints is not None and len(problem.constraints) > cls.max_constraints:
        return f"at most {cls.max_constraints} budget(s)"
    limit = getattr(cls.Options(), "limit", None)
    if isinstance(limit, int) and problem.space.num_architectures > limit:
        return f"space above its limit of {limit:.0e} architectures"
    return None


def sweep(n_budgets: int, time_limit: float, kinds=tuple(TableKind)) -> dict:
    space = bo.SearchSpace.mobilenet_v3()
    available = set(bo.list_backends())
    medians = {}
    for kind in kinds:
        data = synthetic_tables(space, kind, seed=0)
        lo, hi = data.latency.min_value(), data.latency.max_value()
        problems = [bo.Problem(space, data.accuracy, [data.latency <= lo + f * (hi - lo)])
                    for f in np.linspace(0.05, 0.95, n_budgets)]
        t_ref = time.perf_counter()
        exact, exact_times = [], []
        for p in problems:
            t0 = time.perf_counter()
            exact.append(bo.solve(p, "milp"))
            exact_times.append(time.perf_counter() - t0)
        exact_sweep = time.perf_counter() - t_ref
        assert all(r.status is bo.Status.OPTIMAL for r in exact)
        opt = np.array([r.objective for r in exact])
        print(f"\n== {kind} tables, paper space, {n_budgets} latency budgets "
              f"(optimum {opt.min():.2f} .. {opt.max():.2f} %) ==")
        print(f"{'backend':<22}{'exact':>7}{'mean gap':>10}{'median':>9}{'max gap':>9}"
              f"{'median s':>10}{'sweep s':>9}{'clock':>6}  all feasible")
        for name, opts in RUNS:
            label = _label(name, opts)
            if name not in available:
                print(f"{label:<22}  (not available)")
                continue
            why = _refusal(name, problems[0])
            if why:
                print(f"{label:<22}  (skipped: {why})")
                continue
            if label == "milp":  # the reference solves themselves (no time limit)
                print(f"{label:<22}{len(opt):>4}/{len(opt):<2}{0:>10.4f}{0:>9.4f}{0:>9.4f}"
                      f"{statistics.median(exact_times):>10.4f}{exact_sweep:>9.2f}{0:>6}  True")
                continue
            gaps, times, feas, clock = [], [], True, 0
            t_sweep = time.perf_counter()
            for p, best in zip(problems, opt, strict=True):
                t0 = time.perf_counter()
                r = bo.solve(p, name, time_limit=time_limit, **opts)
                times.append(time.perf_counter() - t0)
                clock += r.termination is bo.Termination.TIME_LIMIT
                if r.architecture is None:
                    gaps.append(np.nan)
                    continue
                feas &= p.is_feasible(r.architecture)
                gaps.append(best - r.objective)
            sweep_s = time.perf_counter() - t_sweep
            g = np.array(gaps)
            n_exact = int(np.sum(np.abs(g) <= 1e-6))
            medians[(kind, label)] = float(np.nanmedian(g))
            print(f"{label:<22}{n_exact:>4}/{len(g):<2}{np.nanmean(g):>10.4f}"
                  f"{np.nanmedian(g):>9.4f}{np.nanmax(g):>9.4f}{statistics.median(times):>10.4f}"
                  f"{sweep_s:>9.2f}{clock:>6}  {feas and not np.isnan(g).any()}")
    return medians


class _InteriorPointProblem(RelaxedProblem):
    """The relaxation with every block LP solved by an interior-point method (as the authors'
    code did with cvxopt), instead of the closed-form oracle."""

    def __init__(self, problem):
        super().__init__(problem)
        self._alpha_hull = None  # every step goes through oracle()
        self.eq = {}
        for which, lay in (("alpha", self.alpha_layout), ("beta", self.beta_layout)):
            a_eq = np.zeros((lay.n_groups, lay.n))
            a_eq[lay.group, np.arange(lay.n)] = 1.0
            self.eq[which] = a_eq
        try:
            import cvxopt  # noqa: F401

            self.method = "cvxopt"
        except ImportError:
            self.method = "scipy highs-ipm"

    def oracle(self, which, c, alpha, beta, highs=None):
        A, b = self.budget_rows(which, alpha, beta)
        a_eq = self.eq[which]
        if self.method == "cvxopt":
            from cvxopt import matrix, solvers

            n = a_eq.shape[1]
            sol = solvers.lp(matrix(-c), matrix(np.vstack([A, -np.eye(n)])),
                             matrix(np.concatenate([b, np.zeros(n)])), matrix(a_eq),
                             matrix(np.ones(a_eq.shape[0])), options={"show_progress": False})
            u = np.array(sol["x"]).ravel()
        else:
            u = linprog(-c, A_ub=A, b_ub=b, A_eq=a_eq, b_eq=np.ones(a_eq.shape[0]),
                        bounds=(0, None), method="highs-ipm").x
        return OracleResult(u, float(c @ u), True)


def fw_step_timing(steps: int = 100, rounds: int = 5) -> dict:
    """Time per Frank-Wolfe step inside real runs: our oracle against an interior-point LP.

    Both run the backend's own iteration (``fw._iterate``) from the same start on the paper
    space (one latency budget, realistic tables), over alpha (240 entries) and beta (15) steps;
    a step is the block gradient, the oracle, the step size and the update.  The interior-point
    run swaps only the oracle.  Runs are interleaved over ``rounds``; the fastest round counts
    (the least disturbed by other jobs on a shared machine).
    Returns the ratio (interior point / ours) per preset.
    """
    import highspy

    p = synthetic_problem(kind="realistic")
    ours, ipm = RelaxedProblem(p), _InteriorPointProblem(p)
    uncached = RelaxedProblem(p)
    uncached._alpha_hull = None  # what a QuadraticForm or torch objective pays: a hull per step
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    d0, o0, _ = fw._cheapest_arch(p, ours, SolveContext())
    a0, b0 = fw._one_hot(ours, d0, o0)
    print(f"\n== time per Frank-Wolfe step in {steps}-step runs, paper space, 1 budget: "
          f"closed-form oracle vs interior point ({ipm.method}) ==")
    print(f"{'run':<32}{'ours us/step':>14}{'IPM us/step':>14}{'ratio':>9}")
    ratios = {}
    for label, preset, rp_ours in (("default", "default", ours), ("paper", "paper", ours),
                                   ("default, hull every step", "default", uncached)):
        s = replace(fw.PRESETS[preset], steps=steps, tol=0.0)
        per_step = {"ours": [], "ipm": []}
        for _ in range(rounds):
            for name, rp in (("ours", rp_ours), ("ipm", ipm)):
                run = fw._Run(a0.copy(), b0.copy())
                t0 = time.perf_counter()
                fw._iterate(rp, s, run, np.random.default_rng(0), SolveContext(), highs)
                # the run ends with two more oracle calls (its Frank-Wolfe gap)
                per_step[name].append((time.perf_counter() - t0) / (run.steps + 2))
        t_ours, t_ipm = min(per_step["ours"]), min(per_step["ipm"])
        ratios[label] = t_ipm / t_ours
        print(f"{label:<32}{t_ours * 1e6:>14.1f}{t_ipm * 1e6:>14.1f}{t_ipm / t_ours:>8.1f}x")
    return ratios


def scaled_up(time_limit: float) -> None:
    labels = mbconv_labels(expansions=(2, 3, 4, 6), kernels=(3, 5, 7), se=(False, True))
    stages = [bo.Stage((4, 5, 6, 7, 8), labels, name=f"s{i}") for i in range(10)]
    space = bo.SearchSpace(stages, name="scaled")
    p = synthetic_problem(space, kind="realistic", resources=("latency", "params", "energy"))
    print(f"\n== scaled-up space: 10 stages x 8 blocks x {len(labels)} ops "
          f"({space.num_architectures:.2e} architectures), 3 budgets, time limit {time_limit}s ==")
    print(f"{'backend':<22}{'status':>12}{'objective':>12}{'gap to best':>13}{'bound':>11}"
          f"{'time s':>9}  feasible")
    rows = []
    for name, opts in RUNS:
        label = _label(name, opts)
        if name not in bo.list_backends():
            continue
        why = _refusal(name, p)
        if why:
            rows.append((label, None, why))
            continue
        t0 = time.perf_counter()
        r = bo.solve(p, name, time_limit=time_limit, **opts)
        rows.append((label, r, time.perf_counter() - t0))
    best = max(r.objective for _, r, _ in rows if r is not None and r.objective is not None)
    for label, r, t in rows:
        if r is None:
            print(f"{label:<22}  (skipped: {t})")
            continue
        obj = "-" if r.objective is None else f"{r.objective:.4f}"
        gap = "-" if r.objective is None else f"{best - r.objective:.4f}"
        bound = "-" if r.bound is None else f"{r.bound:.4f}"
        feas = r.architecture is not None and p.is_feasible(r.architecture)
        print(f"{label:<22}{r.status.value:>12}{obj:>12}{gap:>13}{bound:>11}{t:>9.2f}  {feas}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budgets", type=int, default=20)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--kinds", default=",".join(TableKind),
                    help="table kinds of the sweep, comma-separated")
    ap.add_argument("--sections", default="sweep,step,scaled",
                    help="which parts to run, comma-separated: sweep, step, scaled")
    args = ap.parse_args()
    sections = set(args.sections.split(","))
    medians, ratios = {}, {}
    if "sweep" in sections:
        medians = sweep(args.budgets, args.time_limit, tuple(args.kinds.split(",")))
    if "step" in sections:
        ratios = fw_step_timing()
    if "scaled" in sections:
        scaled_up(args.time_limit)
    print("\n== goal: fw (default) median gap <= 0.1 accuracy points on realistic tables ==")
    for label in ("fw", "fw[preset=paper]"):
        if ("realistic", label) in medians:
            print(f"{label:<22} median gap {medians[('realistic', label)]:.4f} points")
    if ratios:
        print("\n== goal: a Frank-Wolfe step >= 30x faster than with an interior-point LP ==")
        for preset, ratio in ratios.items():
            print(f"{preset:<32} {ratio:.1f}x  {'met' if ratio >= 30 else 'NOT met'}")


if __name__ == "__main__":
    main()
