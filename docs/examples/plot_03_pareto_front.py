"""
The whole Pareto front, and many budgets at no extra cost
=========================================================

With a table objective and one budget, the exact accuracy-vs-latency trade-off of the
estimator is a *finite staircase*: :func:`binas_opt.pareto_front` builds it stage by stage with
the Pareto dynamic program of :ref:`maths` (floats throughout, nothing discretised).  Point
:math:`i` is optimal for every budget between its latency and the next point's, so once the
front exists, **every budget is a binary search**.

We build the front of the paper's MobileNetV3 space, read off hundreds of budgets, check a few
of them against independent MILP solves, and compare with an epsilon-dominance front.
"""

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import binas_opt as bo
from binas_opt.testing.synthetic import synthetic_tables

FAST = os.environ.get("BINAS_FAST_EXAMPLES", "0") == "1"
N_QUERIES = 1000 if FAST else 10_000   # budgets read off the front
N_CHECKS = 4 if FAST else 12           # of them re-solved with the MILP

space = bo.SearchSpace.mobilenet_v3()
data = synthetic_tables(space, "realistic", seed=0)
latency, accuracy = data.latency, data.accuracy
problem = bo.Problem(space, accuracy, [latency <= latency.max_value()])

# %%
# Build the exact front
# ---------------------
t0 = time.perf_counter()
front = bo.pareto_front(problem, resource="latency")
build = time.perf_counter() - t0
print(front)
print(f"{len(front)} points, method {front.method}, exact: {front.exact}, built in {build:.3f} s")
print(front.table(max_rows=8))

# %%
# The staircase, drawn by :func:`binas_opt.plot_pareto`:
fig_front = bo.plot_pareto(front)

# %%
# Many budgets at no extra cost
# -----------------------------
# :meth:`~binas_opt.ParetoFront.value_at` answers a whole vector of budgets with one
# :func:`numpy.searchsorted`; :meth:`~binas_opt.ParetoFront.best` returns the architecture.
rng = np.random.default_rng(0)
queries = rng.uniform(latency.min_value(), latency.max_value(), N_QUERIES)
t0 = time.perf_counter()
values = front.value_at(queries)
per_query = (time.perf_counter() - t0) / N_QUERIES
print(f"{N_QUERIES} budgets answered in {per_query * 1e6:.2f} microseconds each")

b = 60.0
arch = front.best(b)
print(f"best within {b} ms: accuracy {accuracy(arch):.3f} at {latency(arch):.2f} ms")
print(arch.to_string(space))

# %%
# Check against the MILP
# ----------------------
# Every point of the front is exact: re-solving a few budgets independently with ``milp`` gives
# the same optimal objective.  :meth:`~binas_opt.ParetoFront.result` turns a point into a full
# :class:`~binas_opt.Result`, checked exactly as :func:`~binas_opt.solve` does.
milp_times = []
for q in queries[:N_CHECKS]:
    r_front = front.result(q)
    r_milp = bo.solve(problem.with_budgets({"latency": q}), backend="milp")
    milp_times.append(r_milp.wall_time)
    assert r_front.status is bo.Status.OPTIMAL
    assert abs(r_front.objective - r_milp.objective) < 1e-6
    print(f"budget {q:7.2f} ms: front {r_front.objective:.4f}   milp {r_milp.objective:.4f}")
print(f"one MILP solve: median {np.median(milp_times) * 1e3:.1f} ms; "
      f"the front answered each budget in {per_query * 1e6:.2f} us after a "
      f"{build * 1e3:.0f} ms build")

# %%
# Budgets given up front
# ----------------------
# :func:`binas_opt.solve_budgets` returns one exact Result per budget (it builds the front once,
# up to the largest budget, and reads every answer off it); ``front.results(budgets)`` does the
# same with a front already built.
results = bo.solve_budgets(problem, "latency", [40, 50, 60, 80])
for r in results:
    print(f"{r.budgets['latency']:5.1f} ms -> {r.status.value}, accuracy {r.objective:.3f}, "
          f"latency {r.resources['latency']:.2f} ms")

# %%
# Epsilon-dominance fronts
# ------------------------
# For huge fronts, ``epsilon`` (accuracy points) thins every intermediate front; the best point
# of the thinned front is then within ``epsilon`` of the optimum for *every* budget, and it is a
# real architecture, so the budget still holds exactly.
coarse = bo.pareto_front(problem, resource="latency", epsilon=0.25)
print(f"epsilon front: {len(coarse)} points (exact: {len(front)})")
grid = np.linspace(latency.min_value(), latency.max_value(), 2000)
loss = front.value_at(grid) - coarse.value_at(grid)
print(f"largest loss over 2000 budgets: {np.nanmax(loss):.4f} <= epsilon {coarse.epsilon}")

fig, ax = plt.subplots(figsize=(6.5, 4.2))
bo.plot_pareto(front, ax=ax, label=f"exact ({len(front)} points)")
bo.plot_pareto(coarse, ax=ax, label=f"epsilon = {coarse.epsilon} ({len(coarse)} points)")
ax.set_xlim(latency.min_value(), latency.min_value() + 40)
ax.set_title("exact and epsilon fronts (zoom on fast networks)")

# %%
# Fronts are saved and loaded as JSON (:meth:`~binas_opt.ParetoFront.save`), so a deployment
# tool can answer budget questions without any solver.
