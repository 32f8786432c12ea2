"""The BINAS accuracy estimator: measured accuracy contributions of every decision.

For a trained one-shot supernet, :func:`measure_contributions` builds the additive
:class:`~binas_opt.Table`

.. math:: \\widehat{Acc}(arch) = Acc_{base} + \\sum_s \\Delta\\beta_{s,d_s}
          + \\sum_s \\sum_{b < d_s} \\Delta\\alpha_{s,b,o_{s,b}}

whose :meth:`~binas_opt.Table.to_bilinear` is the paper's ``(Acc_base, p_alpha = 0,
p_beta = Delta beta, Q)`` with ``Q[(s,b,o),(s,d)] = Delta alpha_{s,b,o}`` for every depth ``d``
that keeps block ``b`` active.  Every value is measured, never fitted: one decision is forced
and all the others are drawn at random, and the sub-network's top-1 accuracy (percent) is read
on validation batches, with BatchNorm re-estimated for that sub-network.

Reference ``"uniform"`` (default).  ``U`` is the uniform distribution over architectures
(depth uniform per stage, op uniform per block, what :meth:`~binas_opt.SearchSpace.sample`
draws).  With ``m_{s}(d) = E_U[Acc | d_s = d]`` and
``m_{s,b}(o) = E_U[Acc | o_{s,b} = o, d_s > b]`` (the block forced active):

* ``Acc_base = E_U[Acc]``;
* ``Delta beta_{s,d} = m_s(d) - mean_d' m_s(d')``  (``= m_s(d) - Acc_base`` in expectation);
* ``Delta alpha_{s,b,o} = m_{s,b}(o) - mean_o' m_{s,b}(o')``  (``= m_{s,b}(o) -
  E_U[Acc | d_s > b]``).

The op contributions are centred within their block because the depth contribution already
holds the average value of the blocks a depth adds; subtracting ``Acc_base`` from both would
count that value twice.  If the true accuracy is additive over decisions the estimator is
exact in expectation.  The options of one decision are measured on the *same* random
contexts (the other decisions, the validation batches and the BatchNorm batches are common
random numbers), so their differences -- all that ranking and search use -- have a much
smaller variance than independent draws would give.

Reference ``"smallest"`` (the authors' alternative).  The other decisions are not sampled but
set to the smallest network (shallowest stages; narrowest expansion, smallest kernel, no SE in
every block, including the blocks a larger depth adds), the constant is the smallest network's
accuracy, and each value is the accuracy change from the smallest choice of its decision (op
contributions measured with the stage just deep enough for the block to be active).  Only the
batches vary between samples.  It is also exact for an additive truth, but it measures every
decision in one context.

Statistics.  The constant pools all evaluations of base networks: the ``n_samples`` base
samples and, in every depth decision, the evaluations that are base draws as well (with the
uniform reference, every context of a depth decision averaged over its depths is a uniform
draw; with the smallest reference, the smallest depth option *is* the smallest network), which
gives ``1 + n_stages`` times more evaluations than the base samples alone.  Each other value is
a mean over ``n_samples`` sampled contexts; each context is one
sampled sub-network (per option) evaluated on ``eval_batches`` validation batches after
recalibrating its BatchNorm statistics on ``calib_batches`` batches.  The standard error of a
value is the standard deviation of its per-context (paired) differences over
``sqrt(n_samples)``; it is returned as a second Table of the same layout.

Caching and resumption.  After every decision (the base accuracy, one stage's depth, one
block's op) the raw correct/total counts are written atomically to a JSON cache; a later call
with the same settings, space, supernet weights and data re-measures only what is missing.

Data-parallel.  Launched with ``torchrun --nproc_per_node=N`` (or any launcher that sets
``RANK``/``WORLD_SIZE``, or with ``torch.distributed`` already initialised) the evaluations of
every decision are dealt round-robin to the ranks and the integer counts are summed with one
``all_reduce`` (gloo on CPU, nccl on CUDA).  Every evaluation draws its random context from a
seed derived from ``(seed, decision, sample)`` only, so the result does not depend on the
number of processes: 1 and N processes give the same Table.  Example::

    torchrun --nproc_per_node=4 -m binas_opt.models.run_contributions \\
        --space fashion_mnist --supernet supernet.pt --out contributions.json

Every rank must see the same batches from its loaders (unshuffled or identically seeded); this
is checked.

This module is the driver and its cache.  The parts: :mod:`~binas_opt.models.decisions` (what
is measured, in which contexts), :mod:`~binas_opt.models.subnet_evaluation` (one
sub-network's accuracy, BatchNorm recalibrated), :mod:`~binas_opt.models.distributed`
(torchrun), :mod:`~binas_opt.models.contribution_result` (from raw accuracies to Tables) and
:mod:`~binas_opt.models.sampled_accuracies` (whole sampled sub-networks).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from binas_opt.io import atomic_write_text
from binas_opt.model.space import SearchSpace

from ._checks import positive_int
from ._progress import progress_bar
from .contribution_result import ContributionResult, contribution_tables
from .decisions import Reference, context_architectures, decisions, smallest_ops, stream_rng
from .distributed import DistInfo, all_reduce_sum, broadcast_text, check_same_everywhere, dist_info
from .subnet_evaluation import (
    BatchNormSnapshot,
    BNMode,
    bn_layers,
    evaluate_subnet,
    fingerprint_tensors,
    take_batches,
)

__all__ = ["measure_contributions", "CACHE_FORMAT"]

CACHE_FORMAT = "binas-opt-contributions-cache"
_CACHE_VERSION = 1


def _read_cache(path: Path | None, key: dict[str, Any], d: DistInfo) -> dict[str, Any]:
    """Raw counts per decision key from the cache at ``path`` (read by rank 0, sent to all)."""
    text = None
    if d.rank == 0 and path is not None and path.is_file():
        text = path.read_text(encoding="utf-8")
    text = broadcast_text(text, d)
    if text is None:
        return {}
    doc = json.loads(text)
    if doc.get("format") != CACHE_FORMAT:
        raise ValueError(f"contribution cache {path} is not a binas-opt contributions cache")
    if doc.get("version", 0) > _CACHE_VERSION:
        raise ValueError(f"contribution cache {path} has a newer format version")
    saved = doc.get("key", {})
    diff = sorted(k for k in set(saved) | set(key) if saved.get(k) != key.get(k))
    if diff:
        raise ValueError(
            f"contribution cache {path} was measured under other conditions (differs in: "
            f"{', '.join(diff)}); delete it or give another cache path"
        )
    return doc.get("groups", {})


def _write_cache(path: Path | None, key: dict[str, Any], groups: dict[str, Any],
                 d: DistInfo) -> None:
    """Write the raw counts atomically (rank 0 only)."""
    if path is None or d.rank != 0:
        return
    doc = {"format": CACHE_FORMAT, "version": _CACHE_VERSION, "key": key, "groups": groups}
    atomic_write_text(path, json.dumps(doc))


def measure_contributions(
    supernet: nn.Module,
    space: SearchSpace,
    loader: Iterable,
    *,
    calib_loader: Iterable | None = None,
    n_samples: int = 8,
    eval_batches: int = 1,
    calib_batches: int = 2,
    pool_batches: int | None = None,
    calib_pool_batches: int = 16,
    reference: str | Reference = Reference.UNIFORM,
    bn: str | BNMode = BNMode.RECALIBRATE,
    seed: int = 0,
    cache: str | os.PathLike | None = None,
    progress: bool = True,
    distributed: bool | None = None,
) -> ContributionResult:
    """Measure the base accuracy and the contribution of every decision (module docstring).

    Parameters
    ----------
    supernet : Supernet
        A trained one-shot model with ``set_arch``; its BatchNorm statistics are restored when
        the measurement ends.
    space : SearchSpace
        The supernet's space.
    loader : iterable of (images, labels)
        Validation data.  The first ``pool_batches`` batches (all by default) form the pool
        from which every evaluation draws ``eval_batches`` batches.
    calib_loader : iterable, optional
        Data for BatchNorm recalibration (training data is best); default ``loader``.  Its first
        ``calib_pool_batches`` batches form the pool each recalibration draws from.
    n_samples : int
        Sampled contexts per decision: every option of a decision is evaluated ``n_samples``
        times.  The measurement costs ``n_samples * (1 + sum of options)`` evaluations.
    eval_batches, calib_batches : int
        Validation batches per evaluation; BatchNorm batches per recalibration.
    reference : {"uniform", "smallest"}
    bn : {"recalibrate", "batch", "none"}
        See :class:`BNMode`.  ``"none"`` is only for measuring how wrong it is.
    seed : int
    cache : path, optional
        JSON file of raw counts, written after every decision and resumed from.
    progress : bool
        tqdm progress bar (rank 0 only).
    distributed : bool, optional
        None: data-parallel when ``torch.distributed`` is initialised or torchrun's
        environment is present; False: never; True: required.

    Returns
    -------
    ContributionResult
    """
    t0 = time.perf_counter()
    reference = Reference.parse(reference, "measure_contributions: reference")
    bn = BNMode.parse(bn, "measure_contributions: bn")
    n_samples = positive_int(n_samples, "n_samples")
    eval_batches = positive_int(eval_batches, "eval_batches")
    calib_batches = positive_int(calib_batches, "calib_batches")
    if not hasattr(supernet, "set_arch"):
        raise TypeError("measure_contributions: supernet must have set_arch() (a Supernet)")
    d = dist_info(distributed)
    pool = take_batches(loader, pool_batches, "measure_contributions: loader")
    if len(pool) < eval_batches:
        raise ValueError(f"eval_batches={eval_batches} but the loader gave {len(pool)} batches")
    calib: list = []
    if bn is BNMode.RECALIBRATE:
        calib = take_batches(loader if calib_loader is None else calib_loader,
                             calib_pool_batches, "measure_contributions: calib_loader")
        if len(calib) < calib_batches:
            raise ValueError(f"calib_batches={calib_batches} but the calibration pool has "
                             f"{len(calib)} batches")
    decs = decisions(space)
    small_ops = smallest_ops(space)
    small_depths = np.array([st.min_depth for st in space.stages])
    small = (small_depths, small_ops)
    data_fp = fingerprint_tensors([t for b in pool for t in b] + [t for b in calib for t in b])
    params = [p for _, p in sorted(supernet.named_parameters(), key=lambda kv: kv[0])]
    if bn is BNMode.NONE:
        params += [b for m in bn_layers(supernet) for b in m.buffers()]
    net_fp = fingerprint_tensors(params)
    check_same_everywhere("data pools", data_fp, d)
    check_same_everywhere("supernet weights", net_fp, d)
    key = {
        "space": space.to_dict(), "supernet": net_fp, "data": data_fp,
        "n_samples": n_samples, "eval_batches": eval_batches, "calib_batches": calib_batches,
        "reference": reference.value, "bn": bn.value, "seed": int(seed),
    }
    cache_path = None if cache is None else Path(cache)
    groups = _read_cache(cache_path, key, d)
    total_evals = n_samples * sum(dec.n_options for dec in decs)
    done_evals = sum(n_samples * dec.n_options for dec in decs if dec.key in groups)
    measured = 0
    bar = progress_bar(total_evals, "contributions", progress and d.rank == 0)
    bar.update(done_evals)
    bn_state = BatchNormSnapshot(supernet)
    try:
        for gid, dec in enumerate(decs):
            if dec.key in groups:
                continue
            k = dec.n_options
            counts = torch.zeros(2, k * n_samples, dtype=torch.float64)
            for i in range(n_samples):
                rng = stream_rng(seed, gid, i)
                archs = context_architectures(space, dec, reference, rng, small)
                ev = [pool[j] for j in np.sort(rng.choice(len(pool), eval_batches, replace=False))]
                cb = ([calib[j] for j in np.sort(rng.choice(len(calib), calib_batches,
                                                            replace=False))] if calib else [])
                for o, arch in enumerate(archs):
                    t = o * n_samples + i
                    if t % d.world != d.rank:
                        continue
                    c, n = evaluate_subnet(supernet, arch, ev, cb, bn)
                    counts[0, t], counts[1, t] = c, n
                    measured += 1
            counts = all_reduce_sum(counts, d)
            groups[dec.key] = {"correct": counts[0].view(k, n_samples).long().tolist(),
                               "total": counts[1].view(k, n_samples).long().tolist()}
            _write_cache(cache_path, key, groups, d)
            bar.update(k * n_samples)
    finally:
        bar.close()
        bn_state.restore()
        supernet.set_arch(None)
    acc = {}
    for dec in decs:
        g = groups[dec.key]
        correct, total = np.asarray(g["correct"], float), np.asarray(g["total"], float)
        if np.any(total <= 0):
            raise ValueError(f"contribution cache: decision {dec.key} has an empty evaluation")
        acc[dec.key] = 100.0 * correct / total
    table, stderr = contribution_tables(space, decs, acc, reference, small_ops, small_depths)
    return ContributionResult(
        table=table, stderr=stderr, n_samples=n_samples, eval_batches=eval_batches,
        calib_batches=calib_batches if bn is BNMode.RECALIBRATE else 0,
        images_per_eval=int(groups["base"]["total"][0][0]), reference=reference.value,
        bn=bn.value, seed=int(seed), evaluations=total_evals, measured=measured,
        wall_time=time.perf_counter() - t0, world_size=d.world, accuracies=acc,
    )
