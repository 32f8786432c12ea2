"""
Quickstart: the best NAS-Bench-Macro network under a FLOPs budget
=================================================================

`NAS-Bench-Macro <https://github.com/xiusu/NAS-Bench-Macro>`_ (Su et al., CVPR 2021) trained
every one of the 6,561 networks of an 8-layer macro space on CIFAR-10, so for this space we know
the *true* best network under any budget.  ``binas-opt`` bundles it as a ready-made problem:

* an exact FLOPs table and an exact parameter table (both are additive per layer);
* an additive accuracy estimator fitted by least squares on a *few* sampled networks, exactly
  as one would fit it from a handful of trained networks in a new space.

We solve the exact MILP under a FLOPs budget and compare the chosen network with the true best.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import binas_opt as bo
from binas_opt.datasets import nas_bench_macro

FAST = os.environ.get("BINAS_FAST_EXAMPLES", "0") == "1"
N_SAMPLES = 60 if FAST else 100      # networks whose accuracy the estimator is fitted on
N_BUDGETS = 8 if FAST else 20        # budgets in the sweep at the end

# %%
# The problem data
# ----------------
# ``nas_bench_macro`` returns the space (3 stages of 2, 3 and 3 layers; identity layers inside a
# stage act as a smaller depth, so it is an op-per-block / depth-per-stage space like BINAS's),
# the two resource tables and the fitted accuracy table.
data = nas_bench_macro(n_samples=N_SAMPLES, seed=0)
space = data.space
print(space)
print(data.flops)
print(data.accuracy)

# %%
# Solve under 60 MFLOPs
# ---------------------
# A budget is written with ``<=`` on a table.  :func:`binas_opt.solve` validates the problem,
# runs the backend, re-checks the budget on the returned architecture and reports the status,
# the proven bound and the gap.
budget = 60e6
problem = bo.Problem(space, data.accuracy, [data.flops <= budget])
result = bo.solve(problem, backend="milp")
print(result.summary())
print("architecture:", result.architecture)

# %%
# Compare with the truth
# ----------------------
# ``result.objective`` is the *estimated* accuracy.  The benchmark knows the real one, and the
# best real accuracy among all networks within the same budget.
true_arch, true_best = data.true_best({"flops": budget})
chosen = data.true_accuracy(result.architecture)
print(f"estimated accuracy of the chosen network: {result.objective:.2f} %")
print(f"true accuracy of the chosen network:      {chosen:.2f} %")
print(f"true best accuracy within {budget / 1e6:.0f} MFLOPs:  {true_best:.2f} % "
      f"(regret {true_best - chosen:.2f} points)")

# %%
# Every network at once
# ---------------------
# The space has only 3,969 distinct networks, so we can draw all of them: FLOPs against true
# accuracy, with the chosen network and the true best marked.
depths, ops = space.enumerate()
flops_all = data.flops.evaluate_arrays(depths, ops)
acc_all = np.array([data.true_accuracy(a) for a in space.architectures_from_arrays(depths, ops)])

fig, ax = plt.subplots(figsize=(6.5, 4.2))
ax.scatter(flops_all / 1e6, acc_all, s=4, c="0.7", label="all 3,969 networks")
ax.axvline(budget / 1e6, color="k", ls="--", lw=1, label="budget")
ax.scatter([result.resources["flops"] / 1e6], [chosen], marker="*", s=220, c="C3",
           label="binas-opt (milp)", zorder=3)
ax.scatter([data.flops(true_arch) / 1e6], [true_best], marker="o", s=90, facecolors="none",
           edgecolors="C0", lw=2, label="true best within budget", zorder=3)
ax.set_xlabel("MFLOPs")
ax.set_ylabel("CIFAR-10 test accuracy (%)")
ax.set_title("NAS-Bench-Macro: one exact solve")
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()

# %%
# Many budgets
# ------------
# Repeating the solve over a range of budgets shows how close the estimator-optimal network
# stays to the true optimum.  Each solve is an exact MILP and takes milliseconds.
lo = problem.min_resources()["flops"]
budgets = np.linspace(lo * 1.05, flops_all.max(), N_BUDGETS)
chosen_acc, best_acc = [], []
for b in budgets:
    r = bo.solve(problem.with_budgets({"flops": b}), backend="milp")
    assert r.status is bo.Status.OPTIMAL and r.resources["flops"] <= b
    chosen_acc.append(data.true_accuracy(r.architecture))
    best_acc.append(data.true_best({"flops": b})[1])

fig, ax = plt.subplots(figsize=(6.5, 4.0))
ax.plot(budgets / 1e6, best_acc, "o-", label="true best within budget")
ax.plot(budgets / 1e6, chosen_acc, "s--", label="binas-opt choice (true accuracy)")
ax.set_xlabel("FLOPs budget (M)")
ax.set_ylabel("CIFAR-10 test accuracy (%)")
ax.legend(fontsize=8)
fig.tight_layout()
regret = np.array(best_acc) - np.array(chosen_acc)
worst = int(np.argmax(regret))
print(f"regret over {len(budgets)} budgets: median {np.median(regret):.2f}, "
      f"max {regret[worst]:.2f} accuracy points (at {budgets[worst] / 1e6:.1f} MFLOPs)")

# %%
# The regret is largest where the additive estimator, fitted on a few networks, is least
# accurate (typically the tightest budgets, where few networks are feasible).  The solve itself
# is exact: the remaining gap is the estimator's, which is what contributions measured on a
# supernet, or a better predictor, improve.

# %%
# The same from the command line::
#
#     binas-opt solve nas-bench-macro --budget flops=60e6
