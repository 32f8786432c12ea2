"""
Measure a latency table on this CPU, and validate it
====================================================

A latency budget is only as good as the table behind it.  Here we measure the latency lookup
table of a small MobileNetV3-style space (28x28 grey images, as for Fashion-MNIST) on the CPU
that builds this page, check it against whole networks, and solve with it.

Every *distinct* block configuration is timed once in isolation
(:func:`binas_opt.models.latency.measure_latency`); the fixed stem and head go into the table's
constant.  Whole random networks are then timed and compared with the table's prediction
(:func:`binas_opt.models.latency_validation.validate_latency`).  See :ref:`device` for the details.
"""

# %%
import os
import tempfile

import torch
from binas_opt.models import load_latency, measure_latency, validate_latency

import binas_opt as bo
from binas_opt.mbconv.spaces import fashion_mnist_space

FAST = os.environ.get("BINAS_FAST_EXAMPLES", "0") == "1"
REPEATS = 10 if FAST else 30          # timed repeats per entry (the median is kept)
N_VALIDATE = 8 if FAST else 20        # whole networks timed for the validation
THREADS = 1                           # measure (and deploy) with the same thread count
torch.set_num_threads(THREADS)

space = fashion_mnist_space(tiny=FAST)
print(space)
print("fixed part:", space.fixed)

# %%
# Measure
# -------
# ``cache=`` makes the measurement resumable: every entry is written (atomically) as soon as it
# is timed.  The measurement conditions are recorded with the table.
workdir = tempfile.mkdtemp(prefix="binas-latency-")
m = measure_latency(space, device="cpu", batch_size=1, threads=THREADS, warmup=5,
                    repeats=REPEATS, cache=os.path.join(workdir, "cache.json"), progress=False)
latency = m.table
print(latency)
print(m.conditions)
print(f"{len(m.entries)} distinct modules timed; fixed part (stem + head) {latency.const:.3f} ms")

# %%
# The table is an ordinary :class:`~binas_opt.Table`: a per-op heatmap shows what each op costs
# in each block (``reference="cheapest"``: relative to the cheapest op of the block).
fig_lat = bo.plot_contributions(latency, reference="cheapest", ref_cost=latency,
                                title="measured latency per op (ms, vs the cheapest op)")

# %%
# Save and load
# -------------
# The file is a normal binas-opt Table document plus the conditions and per-entry statistics.
path = m.save(os.path.join(workdir, "latency-cpu.json"))
table, meta = load_latency(path)
assert table == latency
print({k: meta[k] for k in ("device_name", "threads", "batch_size", "input_size", "torch_version")})

# %%
# Validate on whole networks
# --------------------------
# Random networks are built and timed under the same conditions (round-robin, so a change of
# machine load hits all of them alike).  A good table has a correlation near 1 and a slope near
# 1; a constant offset shows up in the intercept.  These networks take about a millisecond and
# this page is built on a shared machine, so expect a rougher fit than on a quiet device with
# realistic input sizes; :ref:`device` lists the usual causes of a poor fit and what to do.
v = validate_latency(space, latency, n=N_VALIDATE, seed=0, threads=THREADS, warmup=3,
                     repeats=REPEATS, progress=False)
print(v.summary())
ax = v.plot()
fig_validation = ax.figure

# %%
# Solve with the measured table
# -----------------------------
# A budget halfway between the fastest and the slowest network, on an accuracy table that
# simply prefers bigger ops (a stand-in; the Fashion-MNIST example measures a real one).
# The budget is given in microseconds and converted into the table's milliseconds.
size = bo.params_table(space)
accuracy = bo.Table(space, const=80.0, op=size.op_values / size.op_values.max(),
                    depth=size.depth_values, name="accuracy", unit="%")
budget_us = 1e3 * (latency.min_value() + latency.max_value()) / 2
result = bo.solve(bo.Problem(space, accuracy, [latency <= bo.Budget(budget_us, "us")]))
print(result.summary())
print(result.architecture.to_string(space))
