"""
Bring your own predictor: a QuadraticForm, and an MLP through ``fw``
====================================================================

The BINAS estimator is an additive :class:`~binas_opt.Table`, but any accuracy predictor can be
the objective:

* a :class:`~binas_opt.QuadraticForm` :math:`c + p^\\top x + x^\\top W x` over the one-hot
  encoding :math:`x = (\\alpha, \\beta)`, which covers the paper's fitted "bilinear" and
  "quadratic" predictors.  The ``milp`` backend linearises every product exactly, so the
  answer is still **proven optimal** for the predictor;
* a :class:`~binas_opt.BlackBox`, e.g. a torch MLP.  No algebraic structure: the ``fw``
  backend uses its autograd gradient on the relaxed encoding, ``evo`` and ``brute`` only
  evaluate it.

We fit all of them on a few NAS-Bench-Macro networks (real CIFAR-10 accuracies), score them on
all the others, solve under a FLOPs budget and check the chosen networks' *true* accuracy.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from binas_opt.models.mlp_predictor import fit_mlp_predictor

import binas_opt as bo
from binas_opt.datasets import nas_bench_macro
from binas_opt.estimation.predictors import evaluate_predictor, fit_predictor

FAST = os.environ.get("BINAS_FAST_EXAMPLES", "0") == "1"
N_TRAIN = 80 if FAST else 200          # networks with a known accuracy to fit on
MLP_EPOCHS = 100 if FAST else 300
FW_OPTIONS = {"steps": 200, "restarts": 2} if FAST else {}   # fw's defaults otherwise
torch.set_num_threads(1)

data = nas_bench_macro(n_samples=N_TRAIN, seed=0)
space, flops = data.space, data.flops
train = list(data.samples)                      # the networks the predictors are fitted on
y_train = np.array([data.true_accuracy(a) for a in train])
depths, ops = space.enumerate()                 # every network, for scoring
every = space.architectures_from_arrays(depths, ops)
y_all = np.array([data.true_accuracy(a) for a in every])
print(f"fitting on {len(train)} of {len(every)} networks")

# %%
# Fit and score
# -------------
# Closed-form ridge regressions (:mod:`binas_opt.estimation.predictors`): the additive one is a Table, the
# bilinear and quadratic ones are QuadraticForms; the MLP is trained with Adam and wrapped as a
# BlackBox.  Kendall's tau on all networks measures how well each ranks them.
predictors = {"additive": fit_predictor("additive", space, train, y_train)}
for kind in ("bilinear", "quadratic"):
    predictors[kind] = fit_predictor(kind, space, train, y_train, seed=0)
predictors["mlp"] = fit_mlp_predictor(space, train, y_train, epochs=MLP_EPOCHS, seed=0,
                                      blackbox=True)
for name, pred in predictors.items():
    print(f"{name:9s} {type(pred).__name__:14s} {evaluate_predictor(pred, (depths, ops), y_all)}")

# %%
# Solve with each predictor
# -------------------------
# Under 50 MFLOPs.  ``milp`` takes the Table and the QuadraticForms; for the MLP we use ``fw``
# (Frank-Wolfe with autograd gradients) and, because this space is small, ``brute`` gives the
# MLP's exact optimum to compare with.
budget = 50e6
true_arch, true_best = data.true_best({"flops": budget})
rows = []
for name, pred in predictors.items():
    problem = bo.Problem(space, pred, [flops <= budget])
    for backend in (["fw", "brute"] if name == "mlp" else ["milp"]):
        options = FW_OPTIONS if backend == "fw" else {}
        r = bo.solve(problem, backend=backend, seed=0, **options)
        assert r.resources["flops"] <= budget
        rows.append((name, backend, r.status.value, r.objective,
                     data.true_accuracy(r.architecture), r.wall_time))
print(f"true best within {budget / 1e6:.0f} MFLOPs: {true_best:.2f} %")
print(f"{'predictor':10s}{'backend':8s}{'status':10s}{'predicted':>10s}{'true':>8s}"
      f"{'regret':>8s}{'time':>9s}")
for name, backend, status, pred_acc, true_acc, t in rows:
    print(f"{name:10s}{backend:8s}{status:10s}{pred_acc:10.2f}{true_acc:8.2f}"
          f"{true_best - true_acc:8.2f}{t * 1e3:7.0f} ms")

# %%
# The QuadraticForm in the MILP
# -----------------------------
# Every product :math:`x_i x_j` with a non-zero weight becomes a continuous variable with
# McCormick rows, exact for binaries, so the MILP's answer is optimal for the fitted form:
quad = predictors["quadratic"]
print(f"quadratic form: {quad.W.nnz} non-zero products over {space.n_vars} decisions")
r_quad = bo.solve(bo.Problem(space, quad, [flops <= budget]), backend="milp")
print(r_quad.summary())

# %%
# Predicted against true accuracy
# -------------------------------
fig, axes = plt.subplots(1, 4, figsize=(12, 3.2), sharey=True)
for ax, (name, pred) in zip(axes, predictors.items(), strict=True):
    p_all = pred.evaluate_arrays(depths, ops)
    ax.scatter(y_all, p_all, s=2, alpha=0.4)
    lim = [y_all.min(), y_all.max()]
    ax.plot(lim, lim, "k--", lw=0.8)
    ax.set_title(name)
    ax.set_xlabel("true accuracy (%)")
axes[0].set_ylabel("predicted (%)")
fig.tight_layout()

# %%
# Your own module works the same way: any ``torch.nn.Module`` mapping ``(n, space.n_vars)``
# float tensors to ``n`` scores, wrapped as ``bo.BlackBox(space, module)``.
