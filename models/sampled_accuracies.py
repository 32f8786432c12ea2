"""One-shot accuracies of sampled (or given) sub-networks of a supernet.

The training and test data of accuracy predictors (:mod:`binas_opt.estimation`,
:mod:`binas_opt.models.mlp_predictor`), and a check of the measured estimator on whole
sub-networks.  Data-parallel under torchrun like :func:`~binas_opt.models.contributions.
measure_contributions`, with the same result on any number of processes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from binas_opt.model.architecture import Architecture
from binas_opt.model.space import SearchSpace

from ._checks import positive_int
from ._progress import progress_bar
from .decisions import stream_rng
from .distributed import all_reduce_sum, check_same_everywhere, dist_info
from .subnet_evaluation import (
    BatchNormSnapshot,
    BNMode,
    evaluate_subnet,
    fingerprint_tensors,
    take_batches,
)

__all__ = ["SampledAccuracies", "sample_accuracies"]

_SAMPLE_STREAM = 0x5A3


@dataclass(frozen=True, eq=False)
class SampledAccuracies:
    """One-shot accuracies (percent) of sampled sub-networks of a supernet."""

    architectures: tuple[Architecture, ...]
    accuracies: np.ndarray
    correct: np.ndarray
    total: np.ndarray
    seed: int
    bn: str
    wall_time: float

    def __len__(self) -> int:
        return len(self.architectures)

    def to_dict(self) -> dict[str, Any]:
        return {"architectures": [a.to_dict() for a in self.architectures],
                "accuracies": self.accuracies.tolist(), "correct": self.correct.tolist(),
                "total": self.total.tolist(), "seed": self.seed, "bn": self.bn,
                "wall_time": self.wall_time}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SampledAccuracies:
        return cls(architectures=tuple(Architecture.from_dict(a) for a in d["architectures"]),
                   accuracies=np.asarray(d["accuracies"], float),
                   correct=np.asarray(d["correct"], np.int64),
                   total=np.asarray(d["total"], np.int64), seed=int(d["seed"]), bn=d["bn"],
                   wall_time=float(d["wall_time"]))


def sample_accuracies(
    supernet: nn.Module,
    space: SearchSpace,
    loader: Iterable,
    n: int | None = None,
    *,
    architectures: Sequence[Architecture] | None = None,
    calib_loader: Iterable | None = None,
    calib_batches: int = 2,
    calib_pool_batches: int = 16,
    eval_batches: int | None = None,
    pool_batches: int | None = None,
    bn: str | BNMode = BNMode.RECALIBRATE,
    seed: int = 0,
    progress: bool = True,
    distributed: bool | None = None,
) -> SampledAccuracies:
    """One-shot top-1 accuracy (percent) of ``n`` uniformly sampled sub-networks.

    Each sub-network gets its BatchNorm recalibrated (``bn="recalibrate"``) on
    ``calib_batches`` batches drawn from ``calib_loader`` (default ``loader``), then is
    evaluated on every batch of the pool (the first ``pool_batches`` batches of ``loader``, all
    by default) or, with ``eval_batches``, on that many batches drawn at random from the pool
    for each sub-network (the per-evaluation cost of
    :func:`~binas_opt.models.contributions.measure_contributions`, for comparisons at equal
    evaluation budget).  Give ``architectures`` instead of ``n`` to evaluate given ones.
    Sampling uses ``seed``; every evaluation's batch choice depends on ``(seed, index)`` only,
    so the result is the same with any number of data-parallel processes.
    """
    t0 = time.perf_counter()
    bn = BNMode.parse(bn, "sample_accuracies: bn")
    if architectures is None:
        if n is None:
            raise ValueError("sample_accuracies: give n or architectures")
        archs = tuple(space.sample(stream_rng(seed, _SAMPLE_STREAM), positive_int(n, "n")))
    else:
        archs = tuple(space.validate(a, f"architectures[{i}]")
                      for i, a in enumerate(architectures))
    d = dist_info(distributed)
    pool = take_batches(loader, pool_batches, "sample_accuracies: loader")
    if eval_batches is not None and positive_int(eval_batches, "eval_batches") > len(pool):
        raise ValueError(f"eval_batches={eval_batches} but the pool has {len(pool)} batches")
    calib = []
    if bn is BNMode.RECALIBRATE:
        calib = take_batches(loader if calib_loader is None else calib_loader,
                             calib_pool_batches, "sample_accuracies: calib_loader")
        calib_batches = min(positive_int(calib_batches, "calib_batches"), len(calib))
    check_same_everywhere("data pools",
                          fingerprint_tensors([t for b in pool + calib for t in b]), d)
    counts = torch.zeros(2, len(archs), dtype=torch.float64)
    bn_state = BatchNormSnapshot(supernet)
    bar = progress_bar(len(archs), "sub-networks", progress and d.rank == 0)
    try:
        for i, arch in enumerate(archs):
            if i % d.world == d.rank:
                rng = stream_rng(seed, _SAMPLE_STREAM + 1, i)
                cb = ([calib[j] for j in np.sort(rng.choice(len(calib), calib_batches,
                                                            replace=False))] if calib else [])
                ev = pool if eval_batches is None else [
                    pool[j] for j in np.sort(rng.choice(len(pool), eval_batches, replace=False))]
                counts[0, i], counts[1, i] = evaluate_subnet(supernet, arch, ev, cb, bn)
            bar.update(1)
    finally:
        bar.close()
        bn_state.restore()
        supernet.set_arch(None)
    counts = all_reduce_sum(counts, d)
    correct, total = counts[0].numpy().astype(np.int64), counts[1].numpy().astype(np.int64)
    return SampledAccuracies(architectures=archs, accuracies=100.0 * correct / total,
                             correct=correct, total=total, seed=int(seed), bn=bn.value,
                             wall_time=time.perf_counter() - t0)
