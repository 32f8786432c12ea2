"""
Several budgets at once: latency, parameters and MACs
=====================================================

A network for a phone must be fast *and* small *and* cheap in compute.  Any number of budgets
can be given; each is a hard constraint, checked again on the returned architecture.  The
``milp`` backend handles any number of them exactly (``dp`` handles one).

For the paper's MobileNetV3 space the parameter and MAC counts are exact additive tables
computed analytically (:func:`binas_opt.params_table`, :func:`binas_opt.macs_table`; they equal
the counts of the exported PyTorch network).  Latency and accuracy are realistic synthetic
tables here; see :ref:`sphx_glr_auto_examples_plot_06_measure_latency.py` for measuring a real
one.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import binas_opt as bo
from binas_opt.testing.synthetic import synthetic_tables

FAST = os.environ.get("BINAS_FAST_EXAMPLES", "0") == "1"
N_LAT = 6 if FAST else 14            # latency budgets per curve
PARAM_LEVELS = (0.25, 0.6) if FAST else (0.15, 0.3, 0.5, 1.0)   # fractions of the params range

space = bo.SearchSpace.mobilenet_v3()
data = synthetic_tables(space, "realistic", seed=0)
latency, accuracy = data.latency, data.accuracy
params = bo.params_table(space)
macs = bo.macs_table(space)
for t in (latency, params, macs):
    print(f"{t.name:8s} [{t.unit}]: from {t.min_value():.4g} to {t.max_value():.4g}")

# %%
# Three budgets
# -------------
# Units are checked: the latency budget is given in microseconds and converted into the table's
# milliseconds; ``params`` and ``MACs`` are plain counts.
problem = bo.Problem(space, accuracy, [
    latency <= bo.Budget(60_000, "us"),
    params <= 4.0e6,
    macs <= 250e6,
])
print(problem.budgets)
result = bo.solve(problem, backend="milp")
print(result.summary())

# %%
# Which budget binds?  The slack of every constraint on the chosen network:
for con in problem.constraints:
    used = result.resources[con.name]
    print(f"{con.name:8s} {used:12.6g} of {con.budget:12.6g}  (slack {con.slack(used):.4g})")

# %%
# Backends that cannot handle several budgets say so
# --------------------------------------------------
try:
    bo.solve(problem, backend="dp")
except ValueError as err:
    print("ValueError:", err)
print("backends for a table objective with 3 budgets:",
      bo.backends_accepting(bo.ObjectiveKind.TABLE, 3))

# %%
# Impossible combinations
# -----------------------
# A constraint can also be a lower bound, ``table >= value``: here a minimum estimated accuracy
# of 85 % together with the 60 ms latency budget.  Each is achievable on its own, but not
# together.  The exact backend proves it, and the Result gives the best achievable value of
# every constrained quantity taken one at a time (smallest latency, largest accuracy).
demanding = bo.Problem(space, accuracy, [latency <= 60.0, accuracy >= 85.0])
r = bo.solve(demanding, backend="milp")
print(r.status.value, "-", r.status.message)
print("achievable one at a time:", {k: f"{v:.4g}" for k, v in r.min_resources.items()})

# %%
# Trade-offs under two budgets
# ----------------------------
# Sweeping the latency budget for a few parameter budgets (MACs unconstrained): each curve is
# exact (one warm-started MILP per point, through :func:`binas_opt.solve_budgets`).  Where the
# parameter budget binds, more latency buys nothing.
two = bo.Problem(space, accuracy, [latency <= latency.max_value(), params <= params.max_value()])
lat_budgets = np.linspace(latency.min_value() * 1.05, latency.max_value() * 0.8, N_LAT)
fig, ax = plt.subplots(figsize=(6.5, 4.2))
p_lo, p_hi = params.min_value(), params.max_value()
for frac in PARAM_LEVELS:
    p_budget = p_lo + frac * (p_hi - p_lo)
    sub = two.with_budgets({"params": p_budget})
    rs = bo.solve_budgets(sub, "latency", lat_budgets)
    ok = [r for r in rs if r.has_solution]
    assert all(r.resources["params"] <= p_budget and r.resources["latency"] <= r.budgets["latency"]
               for r in ok)
    ax.plot([r.budgets["latency"] for r in ok], [r.objective for r in ok], "o-", ms=3,
            label=f"params <= {p_budget / 1e6:.2f} M")
ax.set_xlabel("latency budget (ms)")
ax.set_ylabel("estimated accuracy (%)")
ax.set_title("accuracy vs latency under a parameter budget")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Adding a resource is one more table and one more ``<=``; tables with the same unit can also be
# combined (``latency_cpu + latency_npu``) into a single budget.
