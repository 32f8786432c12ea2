"""
Import a Once-for-All or FBNet lookup table and solve with it
=============================================================

Many NAS projects publish latency lookup tables measured on real devices.  ``binas-opt`` reads
the two common formats into an ordinary :class:`~binas_opt.Table` over a matching
:class:`~binas_opt.SearchSpace`, inferred from the file:

* **Once-for-All YAML** (:func:`binas_opt.read_ofa_yaml` for one file,
  :func:`binas_opt.read_ofa_yaml_by_resolution` for one file per input resolution): one entry
  per distinct layer shape, with the mean and standard deviation of its latency;
* **FBNet JSON** (:func:`binas_opt.read_fbnet_json`): one list of latencies per searchable
  layer in FBNet's op order, ``null`` for fixed layers.

The files used here ship with the documentation sources (``docs/examples/data``, MIT licensed,
see ``SOURCES.txt`` there).  Neither format carries accuracies, so each space gets a synthetic
stand-in accuracy table (:func:`binas_opt.testing.synthetic.synthetic_tables`); in a real search it is
the BINAS estimator measured on your supernet.
"""

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import binas_opt as bo
from binas_opt.testing.synthetic import synthetic_tables

FAST = os.environ.get("BINAS_FAST_EXAMPLES", "0") == "1"
N_BUDGETS = 6 if FAST else 15
# sphinx-gallery runs the example from its own folder (and defines no __file__)
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
DATA = HERE / "data"

# %%
# Once-for-All YAML tables
# ------------------------
# A folder of YAML files gives one import per input resolution.  Searchable blocks are chained
# by their shapes into stages; everything else (stem, first block, final convs, classifier) is
# summed into the constant.  The depth choices are not in the files, so they are a parameter
# (default ``(2, 3, 4)``).
ofa = bo.read_ofa_yaml_by_resolution(DATA / "ofa_yaml")
print("resolutions:", sorted(ofa))
lut = ofa[224]
space = lut.space
print(space)
for s, st in enumerate(space.stages):
    print(f"stage {s}: depths {st.depths}, {len(st.ops[0])} ops, {st.channels} channels, "
          f"stride {st.stride}")
print("ops:", space.stages[0].ops[0])
print(lut.table, "\nstd:", lut.std)
print("fixed entries:", [e.key.split("-")[0] for e in lut.fixed])

# %%
# Solve under a latency budget
# ----------------------------
# The imported table is in milliseconds (OFA's unit); the budget may be given in any time unit.
accuracy = synthetic_tables(space, "realistic", seed=0).accuracy
latency = lut.table
problem = bo.Problem(space, accuracy, [latency <= bo.Budget(0.09, "s")])
result = bo.solve(problem, backend="milp")
print(result.summary())
for s, st in enumerate(space.stages):
    chosen = [st.ops[b][o] for b, o in enumerate(result.architecture.active_ops()[s])]
    print(f"stage {s}: depth {result.architecture.depths[s]}: {chosen}")

# %%
# Every entry also has a standard deviation, so the imported ``std`` table bounds the
# measurement noise of the chosen network (adding per-entry standard deviations is a
# conservative bound):
print(f"latency {latency(result.architecture):.2f} ms, sum of entry std "
      f"{lut.std(result.architecture):.2f} ms")

# %%
# Resolution as a decision
# ------------------------
# One table per input resolution: the same architecture is faster at a lower resolution.  The
# exact Pareto front of each shows the trade-off (the stand-in accuracy does not depend on the
# resolution, a real estimator would).
fig, ax = plt.subplots(figsize=(6.5, 4.2))
for res in sorted(ofa):
    imp = ofa[res]
    acc = synthetic_tables(imp.space, "realistic", seed=0).accuracy
    prob = bo.Problem(imp.space, acc, [imp.table <= imp.table.max_value()])
    front = bo.pareto_front(prob, resource="latency", max_points=400, fallback="epsilon")
    bo.plot_pareto(front, ax=ax, label=f"{res}x{res} ({len(front)} points)")
ax.set_title("Once-for-All tables at three resolutions")

# %%
# FBNet JSON tables
# -----------------
# This one was measured on a Raspberry Pi 4B (microseconds).  FBNet has no depth choice: any
# layer can be a ``skip``, so every layer becomes a one-block stage and ``skip`` an op.
fb = bo.read_fbnet_json(DATA / "fbnet_pi4" / "lookup_table_pi.json")
print(fb.space)
print(fb.table)
print("layer 0 ops:", fb.space.stages[0].ops[0])

# %%
# The budget is written in milliseconds and converted into the table's microseconds.
fb_acc = synthetic_tables(fb.space, "realistic", seed=1).accuracy
lo, hi = fb.table.min_value(), fb.table.max_value()
budgets_ms = np.linspace(lo, hi, N_BUDGETS) / 1e3
values, skips = [], []
for b in budgets_ms:
    r = bo.solve(bo.Problem(fb.space, fb_acc, [fb.table <= bo.Budget(b, "ms")]), backend="dp")
    assert r.resources["latency"] <= b * 1e3 * (1 + 1e-9)
    values.append(r.objective)
    labels = [fb.space.stages[s].ops[0][o[0]] for s, o in enumerate(r.architecture.ops)]
    skips.append(labels.count("skip"))

fig, ax1 = plt.subplots(figsize=(6.5, 4.0))
ax1.plot(budgets_ms, values, "o-", label="estimated accuracy")
ax1.set_xlabel("latency budget on a Raspberry Pi 4B (ms)")
ax1.set_ylabel("stand-in accuracy")
ax2 = ax1.twinx()
ax2.plot(budgets_ms, skips, "s--", color="C1", label="skipped layers")
ax2.set_ylabel("layers replaced by skip")
ax1.set_title("FBNet table: fewer layers are skipped as the budget grows")
fig.tight_layout()

# %%
for b, v, k in zip(budgets_ms, values, skips, strict=True):
    print(f"budget {b:7.1f} ms: stand-in accuracy {v:6.2f}, {k:2d} of 22 layers skipped")
