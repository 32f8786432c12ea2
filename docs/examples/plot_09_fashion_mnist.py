"""
End to end on Fashion-MNIST: supernet, contributions, solve, export
===================================================================

The whole BINAS workflow on real images, with settings small enough for two CPU cores:

1. train a one-shot **supernet** of a small MobileNetV3-style space on Fashion-MNIST;
2. **measure the accuracy contribution** of every decision (one decision forced, the others
   sampled, BatchNorm re-estimated for every sub-network): the BINAS estimator, a
   :class:`~binas_opt.Table`;
3. **solve** for the most accurate network under a compute budget (exact MACs table);
4. **export** the chosen network as a stand-alone ``torch.nn.Module`` that inherits the
   supernet's weights, and evaluate it.

Fashion-MNIST comes from Debian's ``dataset-fashion-mnist`` package
(``/usr/share/datasets/fashion-mnist``).  The same steps, plus a measured latency table and
fine-tuning, are :func:`binas_opt.models.pipeline.run_pipeline` (``binas-opt pipeline``).  With
these tiny settings the accuracies are far from state of the art; the point is the workflow.
"""

# %%
import os
import tempfile
import time

import numpy as np
import torch
from binas_opt.models import Supernet, build_child, count_params, recalibrate_bn
from binas_opt.models.contributions import measure_contributions
from binas_opt.models.data import fashion_mnist_loaders
from binas_opt.models.train import evaluate_accuracy, train_supernet

import binas_opt as bo
from binas_opt.mbconv.spaces import fashion_mnist_space

FAST = os.environ.get("BINAS_FAST_EXAMPLES", "0") == "1"
STEPS = 20 if FAST else 60            # training steps per phase (batch 64)
N_SAMPLES = 1 if FAST else 2           # random contexts per decision
# one thread: a network this small trains several times faster than on two busy cores
torch.set_num_threads(1)
torch.manual_seed(0)
t_start = time.perf_counter()

space = fashion_mnist_space(tiny=True)   # 3 stages, depths 1-3, kernel 3 or 5: 2,744 networks
print(space)
loaders = fashion_mnist_loaders(batch_size=64, eval_batch_size=250, train_subset=4096,
                                val_subset=500, test_subset=1000, seed=0)
print({k: len(getattr(loaders.splits, k)[1]) for k in ("train", "val", "test")})

# %%
# 1. Train the supernet
# ---------------------
# First the heaviest sub-network alone, then every step trains the heaviest path on the labels
# and a sampled path by distillation from it.  Checkpoints are written every epoch, so an
# interrupted run resumes.
workdir = tempfile.mkdtemp(prefix="binas-fmnist-")
supernet = Supernet(space)
t0 = time.perf_counter()
history = train_supernet(supernet, loaders.train, heaviest_epochs=1, epochs=1, lr=0.1,
                         max_steps_per_epoch=STEPS, seed=0,
                         checkpoint=os.path.join(workdir, "supernet"), progress=False)
print(f"trained in {time.perf_counter() - t0:.1f} s, final loss {history.final_loss:.3f}")

# %%
# 2. Measure the contributions
# ----------------------------
# ``n_samples`` random contexts per decision; BatchNorm statistics are re-estimated on training
# batches for every evaluated sub-network.  The result carries a standard error per entry.
calib = [batch for _, batch in zip(range(4), loaders.train, strict=False)]
t0 = time.perf_counter()
contrib = measure_contributions(supernet, space, loaders.val, calib_loader=calib,
                                n_samples=N_SAMPLES, calib_batches=1, seed=0, progress=False,
                                distributed=False)
accuracy = contrib.table
print(f"{contrib.evaluations} sub-network evaluations in {time.perf_counter() - t0:.1f} s")
print(accuracy)
print(f"largest standard error of an entry: {contrib.stderr.op_values.max():.2f} points")
fig_contrib = bo.plot_contributions(accuracy, title="measured accuracy contributions")

# %%
# 3. Solve under a compute budget
# -------------------------------
# MACs and parameters are exact analytic tables of the space (they equal the exported
# network's counts).  Budget: 40 % of the way from the cheapest to the most expensive network.
macs = bo.macs_table(space)
params = bo.params_table(space)
budget = macs.min_value() + 0.4 * (macs.max_value() - macs.min_value())
problem = bo.Problem(space, accuracy, [macs <= budget])
result = bo.solve(problem, backend="milp")
print(result.summary())
print(result.architecture.to_string(space))
print(bo.explain(problem, result).summary(top=6))

# %%
# 4. Export and evaluate
# ----------------------
# :func:`~binas_opt.models.build_child` builds the chosen network as a plain module with the
# supernet's weights; its BatchNorm statistics are re-estimated, then it is evaluated on test
# images it has never seen.  Its parameter count equals the table's.
child = build_child(space, result.architecture, supernet)
recalibrate_bn(child, None, calib, len(calib))
test_acc = evaluate_accuracy(child, loaders.test)
assert count_params(child) == params(result.architecture)
print(f"exported network: {count_params(child):,} parameters, "
      f"{result.resources['macs'] / 1e6:.2f} M MACs")
print(f"predicted accuracy {result.objective:.2f} %, one-shot test accuracy {test_acc:.2f} %")

# %%
# The heaviest and the lightest networks, for comparison (same one-shot weights):
for name, arch in (("lightest", macs.extreme("min")[1]), ("heaviest", macs.extreme("max")[1])):
    net = build_child(space, arch, supernet)
    recalibrate_bn(net, None, calib, len(calib))
    print(f"{name}: {macs(arch) / 1e6:.2f} M MACs, predicted {accuracy(arch):.2f} %, one-shot "
          f"test accuracy {evaluate_accuracy(net, loaders.test):.2f} %")

# %%
# Save everything
# ---------------
# The problem and the result as JSON; the network as a state dict (read back with
# ``torch.load(..., weights_only=True)``) that ``build_child(space, arch)`` can load.
bo.save(problem, os.path.join(workdir, "problem.json"))
bo.save(result, os.path.join(workdir, "result.json"))
torch.save(child.state_dict(), os.path.join(workdir, "child.pt"))
again = build_child(space, bo.load(os.path.join(workdir, "result.json")).architecture)
again.load_state_dict(torch.load(os.path.join(workdir, "child.pt"), weights_only=True))
x = torch.randn(4, space.fixed.in_channels, space.fixed.input_size, space.fixed.input_size)
assert np.allclose(again.eval()(x).detach(), child.eval()(x).detach(), atol=1e-5)
print(sorted(os.listdir(workdir)))
print(f"whole example: {time.perf_counter() - t_start:.0f} s")
