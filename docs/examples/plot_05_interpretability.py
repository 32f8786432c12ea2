"""
Interpretability: the contributions heatmap and what it says
============================================================

The BINAS estimator is *additive*: a base accuracy plus one contribution per decision (the op
of every block, the depth of every stage).  That makes the model readable, and every
architecture it picks explainable, exactly, decision by decision.

We use NAS-Bench-Macro's real CIFAR-10 accuracies: the additive table is fitted by least
squares on benchmark networks (:func:`binas_opt.datasets.nas_bench_macro`), and because the
benchmark knows every network's true accuracy we can check what the table says.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import binas_opt as bo
from binas_opt.analysis.aggregation import aggregate_contributions
from binas_opt.analysis.restriction import restriction_loss
from binas_opt.datasets import nas_bench_macro

FAST = os.environ.get("BINAS_FAST_EXAMPLES", "0") == "1"
N_SAMPLES = 400 if FAST else 3969      # networks the table is fitted on (3969: all of them)
N_BUDGETS = 4 if FAST else 8

data = nas_bench_macro(n_samples=N_SAMPLES, seed=0)
space, accuracy, flops = data.space, data.accuracy, data.flops
for s, st in enumerate(space.stages):
    print(f"stage {s}: depths {st.depths}, ops of block 0 {st.ops[0]}, later blocks {st.ops[-1]}")

# %%
# The heatmap
# -----------
# :func:`binas_opt.plot_contributions` draws every op of every block relative to the mean of the
# block's ops (the "uniform" reference, as the paper measures contributions): red helps, blue
# hurts.  The right panel shows what each allowed depth of a stage contributes.
fig_table = bo.plot_contributions(accuracy, title="NAS-Bench-Macro: fitted accuracy contributions")

# %%
# What it says, in numbers: :func:`binas_opt.analysis.aggregation.aggregate_contributions` ranks the
# contributions by op label and the stages by how much their decisions can move accuracy.
summary = aggregate_contributions(accuracy)
print("by op label:")
for e in summary.by_label:
    print(f"  {e.rank}. {e.value:8s} {e.effect:+.3f} points (sd {e.std:.3f}, {e.count} blocks)")
print("by stage:")
for st in summary.by_stage:
    print(f"  {st.rank}. {st.name}: spread {st.spread:.2f} points, depth gain {st.depth_gain:+.2f}, "
          f"op spread {st.op_spread:.2f}")

# %%
# Reading it: in how many blocks does the large MBConv (``k5_e6``) beat the small one
# (``k3_e3``), and which stage's depth pays off most?
better = 0
blocks = 0
for s, st in enumerate(space.stages):
    for b in range(st.max_depth):
        ops = accuracy.op_table(s, b)
        labels = st.ops[b]
        better += ops[labels.index("k5_e6")] > ops[labels.index("k3_e3")]
        blocks += 1
print(f"k5_e6 beats k3_e3 in {better} of {blocks} blocks")
best_depth = max(summary.by_stage, key=lambda e: e.depth_gain)
print(f"the largest depth gain is in {best_depth.name}: {best_depth.depth_gain:+.2f} points")

# %%
# Both larger ops and more depth cost FLOPs, which is where the optimisation comes in: under a
# budget, where should the FLOPs go?
#
# Explaining one architecture
# ---------------------------
# :func:`binas_opt.explain` splits the chosen network's estimated accuracy and its FLOPs into a
# reference plus one term per decision, exactly.
problem = bo.Problem(space, accuracy, [flops <= 50e6])
result = bo.solve(problem)
expl = bo.explain(problem, result)
print(expl.summary(top=10))
total = expl.objective.reference + expl.objective.depth.sum() + np.nansum(expl.objective.op)
print(f"reference + contributions = {total:.4f} = objective {result.objective:.4f}")
fig_expl = bo.plot_contributions(expl, title="where the chosen network's accuracy comes from")

# %%
# Contributions per FLOP
# ----------------------
# Each op's accuracy contribution against its FLOPs contribution: the optimiser buys the
# decisions with the best accuracy per FLOP until the budget is spent (for one budget this is
# exactly a multiple-choice knapsack).
fig, ax = plt.subplots(figsize=(6, 4.2))
idx = space.encoding
for s in range(space.n_stages):
    sel = idx.alpha_stage == s
    ax.scatter(flops.op_values[sel] / 1e6, accuracy.op_values[sel], label=space.stage_name(s))
ax.set_xlabel("op FLOPs when active (M)")
ax.set_ylabel("op accuracy contribution (points)")
ax.set_title("what each op costs and what it brings")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# The marginal value of the budget
# --------------------------------
# From the exact Pareto front, the accuracy one more MFLOP would buy at the chosen network:
front = bo.pareto_front(problem, resource="flops")
mv = expl.marginal_value(front, step=1e6)
print(f"at {result.resources['flops'] / 1e6:.1f} MFLOPs: {mv * 1e6:+.4f} accuracy points per "
      "extra MFLOP")

# %%
# Does the explanation hold on the real networks?
# -----------------------------------------------
# Keep only the best op of every block (plus the cheapest, so tight budgets stay feasible) and
# compare the optimum of this much smaller space with the full one, in the table and in the
# benchmark's true accuracy.  Where the loss is zero the heatmap's ranking alone finds the best
# network; where it is not (typically tight budgets), the lower-ranked but cheaper ops are
# needed, and only the optimisation over the whole space finds the right mix.
lo, hi = flops.min_value(), flops.max_value()
budgets = np.linspace(lo + 0.1 * (hi - lo), hi, N_BUDGETS)
report = restriction_loss(accuracy, flops, budgets, top_k=1, truth=data.true_accuracy)
print(report)
