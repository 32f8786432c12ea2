"""
Compare every backend on one problem
====================================

All backends take the same :class:`~binas_opt.Problem` and return the same
:class:`~binas_opt.Result`, so comparing them is one call: :func:`binas_opt.compare` runs each
backend on each budget setting and reports the status, the objective, the backend's own bound,
the gap to the best bound any backend proved, feasibility re-checked from the tables, and the
time.

The problem is the paper's MobileNetV3 space (5 stages of depth 2-4, 12 ops per block,
:math:`6 \\cdot 10^{21}` architectures) with a realistic synthetic accuracy table and a latency
table (:func:`binas_opt.testing.synthetic.synthetic_tables`).
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import binas_opt as bo
from binas_opt.testing.synthetic import synthetic_tables

FAST = os.environ.get("BINAS_FAST_EXAMPLES", "0") == "1"
N_BUDGETS = 3 if FAST else 5

space = bo.SearchSpace.mobilenet_v3()
data = synthetic_tables(space, "realistic", seed=0)
latency, accuracy = data.latency, data.accuracy
print(space)
print(latency)
print(accuracy)

# %%
# The backends
# ------------
# :func:`~binas_opt.list_backends` lists what is importable here; ``brute`` enumerates and
# refuses a space this large, which :func:`~binas_opt.compare` reports as a row with status
# ``error`` and the reason instead of failing.
backends = bo.list_backends()
for name in backends:
    cls = bo.get_backend(name)
    kinds = ", ".join(sorted(k.value for k in cls.accepts))
    print(f"{name:6s} exact={cls.exact!s:5s} accepts: {kinds}")

# %%
# Budgets from tight to loose
# ---------------------------
# Budgets between the fastest possible network and the slowest one.
lo, hi = latency.min_value(), latency.max_value()
budgets = [float(b) for b in np.linspace(lo, hi, N_BUDGETS + 2)[1:-1]]
problem = bo.Problem(space, accuracy, [latency <= budgets[0]])

rows = bo.compare(problem, backends=backends, budgets=budgets, seed=0)
print(rows)

# %%
# Every returned architecture was re-checked against the budget from the tables, and a refused
# backend says why:
assert all(r.feasible for r in rows if r.feasible is not None)
for name in sorted({r.backend for r in rows if r.status is bo.Status.ERROR}):
    print(f"{name}: {next(r.message for r in rows if r.backend == name)}")

# %%
# Reading the table: the exact backends (``milp``, ``pulp``, ``dp``) agree on the objective and
# prove it optimal (their gap to the best bound is 0).  ``fw`` (the paper's Frank-Wolfe) is a
# heuristic: it returns a feasible architecture close to the optimum together with the
# LP-relaxation bound.
#
# Objective per backend and budget:
fig_objective = bo.plot_compare(rows, metric="objective")

# %%
# Time per solve (log scale), including model building and the budget re-check:
fig_time = bo.plot_compare(rows, metric="time")

# %%
# Quality against speed
# ---------------------
# The loss of each backend relative to the best proven bound, against its median time.
names = [b for b in backends if any(r.backend == b and r.objective is not None for r in rows)]
fig, ax = plt.subplots(figsize=(6, 4))
for name in names:
    mine = [r for r in rows if r.backend == name and r.objective is not None]
    t = np.median([r.time for r in mine]) * 1e3
    loss = np.median([(r.best_bound - r.objective) for r in mine if r.best_bound is not None])
    ax.scatter([t], [max(loss, 1e-4)], s=60, label=name)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("median time per solve (ms)")
ax.set_ylabel("median loss vs best bound (points, floored at 1e-4)")
ax.set_title("exact backends sit at the floor")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Time limits and gaps
# --------------------
# Every backend accepts ``time_limit``.  A run stopped by it reports termination ``time_limit``
# and status ``feasible`` (with the best architecture found) or ``no_solution`` (none yet), never
# ``optimal``; with an exact backend it carries HiGHS's bound and the resulting gap.
r = bo.solve(problem, backend="milp", time_limit=5.0)
print(r.summary())
