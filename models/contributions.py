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
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from binas_opt.io import atomic_write_text
from binas_opt.mbconv.arch_def import MBConvOp
from binas_opt.model.architecture import Architecture
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table

__all__ = [
    "Reference", "BNMode", "Decision", "ContributionResult", "SampledAccuracies",
    "measure_contributions", "sample_accuracies", "decisions", "evaluate_subnet",
    "smallest_ops", "dist_info", "CACHE_FORMAT",
]

logger = logging.getLogger("binas_opt")

CACHE_FORMAT = "binas-opt-contributions-cache"
_CACHE_VERSION = 1
_SAMPLE_STREAM = 0x5A3


class Reference(StrEnum):
    """What the contributions are measured against."""

    UNIFORM = "uniform"    # others sampled uniformly; values centred (the default)
    SMALLEST = "smallest"  # others fixed to the smallest network (the authors' alternative)


class BNMode(StrEnum):
    """How BatchNorm statistics are obtained for a sampled sub-network."""

    RECALIBRATE = "recalibrate"  # reset and re-estimate on calibration batches (default)
    BATCH = "batch"              # normalise each evaluation batch with its own statistics
    NONE = "none"                # the supernet's running statistics as they are (biased)


# ---------------------------------------------------------------------- decisions
@dataclass(frozen=True)
class Decision:
    """One measured decision: the base accuracy, the depth of a stage, or the op of a block."""

    kind: str  # "base" | "depth" | "op"
    stage: int = -1
    block: int = -1
    n_options: int = 1

    @property
    def key(self) -> str:
        if self.kind == "base":
            return "base"
        if self.kind == "depth":
            return f"depth/{self.stage}"
        return f"op/{self.stage}/{self.block}"


def decisions(space: SearchSpace) -> list[Decision]:
    """Measurement order: base, then per stage its depth and the op of each of its blocks."""
    out = [Decision("base")]
    for s, st in enumerate(space.stages):
        out.append(Decision("depth", s, -1, len(st.depths)))
        for b, n in enumerate(st.num_ops):
            out.append(Decision("op", s, b, n))
    return out


def smallest_ops(space: SearchSpace) -> np.ndarray:
    """Flat op index of the smallest op of every block (narrowest expansion, then smallest
    kernel, then no squeeze-excite; op 0 for labels that are not MBConv labels)."""
    out = []
    for st in space.stages:
        for labels in st.ops:
            try:
                keys = [(o.expansion, o.kernel, o.se_ratio)
                        for o in (MBConvOp.from_label(lab) for lab in labels)]
                out.append(keys.index(min(keys)))
            except ValueError:
                out.append(0)
    return np.asarray(out, dtype=np.int64)


def _block_offsets(space: SearchSpace) -> np.ndarray:
    return np.concatenate([[0], np.cumsum([st.max_depth for st in space.stages])])


def _to_arch(space: SearchSpace, depths: np.ndarray, ops: np.ndarray) -> Architecture:
    off = _block_offsets(space)
    return Architecture(
        tuple(int(d) for d in depths),
        tuple(tuple(int(v) for v in ops[off[s]:off[s + 1]]) for s in range(space.n_stages)),
    ).canonical()


def _uniform_arrays(space: SearchSpace, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Depth uniform per stage and an op uniform for *every* block (inactive ones too), so
    that forcing a larger depth activates blocks with uniformly drawn ops."""
    depths = np.array([st.depths[rng.integers(len(st.depths))] for st in space.stages])
    ops = np.array([rng.integers(n) for st in space.stages for n in st.num_ops], dtype=np.int64)
    return depths, ops


def _context_archs(space: SearchSpace, dec: Decision, reference: Reference,
                   rng: np.random.Generator, small: tuple[np.ndarray, np.ndarray]
                   ) -> list[Architecture]:
    """The sub-network of every option of ``dec`` in one sampled context."""
    if reference == Reference.UNIFORM:
        depths, ops = _uniform_arrays(space, rng)
    else:
        depths, ops = small[0].copy(), small[1].copy()
    if dec.kind == "base":
        return [_to_arch(space, depths, ops)]
    st = space.stages[dec.stage]
    if dec.kind == "depth":
        out = []
        for d in st.depths:
            depths[dec.stage] = d
            out.append(_to_arch(space, depths, ops))
        return out
    active = [d for d in st.depths if d > dec.block]
    if reference == Reference.UNIFORM:
        depths[dec.stage] = active[rng.integers(len(active))]
    else:
        depths[dec.stage] = active[0]
    col = _block_offsets(space)[dec.stage] + dec.block
    out = []
    for o in range(dec.n_options):
        ops[col] = o
        out.append(_to_arch(space, depths, ops))
    return out


# ---------------------------------------------------------------------- distributed
@dataclass(frozen=True)
class _Dist:
    rank: int
    world: int
    backend: str | None

    @property
    def active(self) -> bool:
        return self.world > 1

    def device(self) -> torch.device:
        if self.backend == "nccl":
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")


def dist_info(distributed: bool | None = None) -> _Dist:
    """Rank, world size and backend; initialises ``torch.distributed`` from the environment
    (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT`` as set by torchrun) when
    ``distributed`` is None and those variables are present, or when it is True."""
    import torch.distributed as dist

    if distributed is False or not dist.is_available():
        if distributed:
            raise RuntimeError("distributed=True but torch.distributed is not available")
        return _Dist(0, 1, None)
    if dist.is_initialized():
        return _Dist(dist.get_rank(), dist.get_world_size(), dist.get_backend())
    env = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    if not (env or distributed):
        return _Dist(0, 1, None)
    if not env:
        raise RuntimeError("distributed=True but RANK/WORLD_SIZE are not set; launch with "
                           "torchrun or initialise torch.distributed yourself")
    use_nccl = torch.cuda.is_available() and dist.is_nccl_available()
    backend = "nccl" if use_nccl else "gloo"
    if use_nccl:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group(backend=backend)
    logger.info("torch.distributed initialised: rank %d of %d (%s)", dist.get_rank(),
                dist.get_world_size(), backend)
    return _Dist(dist.get_rank(), dist.get_world_size(), backend)


def _all_reduce_sum(t: torch.Tensor, d: _Dist) -> torch.Tensor:
    if not d.active:
        return t
    import torch.distributed as dist

    buf = t.to(d.device())
    dist.all_reduce(buf, op=dist.ReduceOp.SUM)
    return buf.cpu()


def _broadcast_text(text: str | None, d: _Dist) -> str | None:
    """Rank 0's text on every rank (as a uint8 tensor: no pickling)."""
    if not d.active:
        return text
    import torch.distributed as dist

    data = (text or "").encode("utf-8") if d.rank == 0 else b""
    n = torch.tensor([len(data), int(text is not None)], dtype=torch.int64, device=d.device())
    dist.broadcast(n, src=0)
    buf = torch.zeros(int(n[0]), dtype=torch.uint8, device=d.device())
    if d.rank == 0 and len(data):
        buf.copy_(torch.frombuffer(bytearray(data), dtype=torch.uint8))
    if int(n[0]):
        dist.broadcast(buf, src=0)
    return bytes(buf.cpu().numpy()).decode("utf-8") if int(n[1]) else None


def _check_same_everywhere(name: str, value: str, d: _Dist) -> None:
    if not d.active:
        return
    h = np.frombuffer(hashlib.sha256(value.encode()).digest()[:8], dtype=np.int64).astype(float)
    t = torch.tensor([h[0], -h[0]], dtype=torch.float64)
    import torch.distributed as dist

    buf = t.to(d.device())
    dist.all_reduce(buf, op=dist.ReduceOp.MAX)
    if float(buf[0]) != -float(buf[1]):
        raise RuntimeError(
            f"data-parallel measurement: the {name} differ between ranks; every rank must see "
            "the same batches (use unshuffled or identically seeded loaders) and weights"
        )


# ---------------------------------------------------------------------- data and evaluation
def _take(loader: Iterable, n: int | None, what: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    out = []
    for i, batch in enumerate(loader):
        if n is not None and i >= n:
            break
        if not isinstance(batch, (list, tuple)) or len(batch) < 2:
            raise ValueError(f"{what}: batches must be (inputs, targets) pairs")
        out.append((batch[0], batch[1]))
    if not out:
        raise ValueError(f"{what}: the loader gave no batches")
    return out


def _fingerprint_tensors(tensors: Iterable[torch.Tensor]) -> str:
    h = hashlib.sha256()
    for t in tensors:
        a = t.detach().cpu().contiguous()
        h.update(str((tuple(a.shape), str(a.dtype))).encode())
        h.update(a.numpy().tobytes() if a.dtype != torch.bfloat16 else a.float().numpy().tobytes())
    return h.hexdigest()[:24]


def _bn_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


class _BNState:
    """Snapshot of every BatchNorm buffer and momentum, restored on exit."""

    def __init__(self, model: nn.Module):
        self.items = [(m, m.momentum, [b.detach().clone() for b in m.buffers()])
                      for m in _bn_layers(model)]

    def restore(self) -> None:
        with torch.no_grad():
            for m, mom, bufs in self.items:
                m.momentum = mom
                for b, v in zip(m.buffers(), bufs, strict=True):
                    b.copy_(v)


def _recalibrate(model: nn.Module, arch: Architecture,
                 batches: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> None:
    try:
        from .supernet import recalibrate_bn
    except ImportError:  # pragma: no cover - the supernet module is part of the package
        recalibrate_bn = None
    if recalibrate_bn is not None:
        recalibrate_bn(model, arch, batches, len(batches))
        return
    model.set_arch(arch)  # pragma: no cover
    for m in _bn_layers(model):
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for x, _ in batches:
            model(x.to(_device(model)))
    model.eval()


def _device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


@torch.no_grad()
def evaluate_subnet(supernet: nn.Module, arch: Architecture,
                    eval_batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
                    calib_batches: Sequence[tuple[torch.Tensor, torch.Tensor]] = (),
                    bn: str | BNMode = BNMode.RECALIBRATE) -> tuple[int, int]:
    """``(correct, total)`` of the supernet's sub-network ``arch`` on ``eval_batches``.

    ``bn="recalibrate"`` re-estimates every BatchNorm on the path from ``calib_batches``
    first (the supernet's statistics are left changed; :func:`measure_contributions` restores
    them), ``"batch"`` normalises each evaluation batch with its own statistics (running
    statistics untouched), ``"none"`` uses the running statistics as they are.
    """
    bn = _enum(BNMode, bn, "bn")
    device = _device(supernet)
    if bn == BNMode.RECALIBRATE:
        if not calib_batches:
            raise ValueError("evaluate_subnet: bn='recalibrate' needs calibration batches")
        _recalibrate(supernet, arch, calib_batches)
    supernet.set_arch(arch)
    supernet.eval()
    layers = _bn_layers(supernet)
    moms = [m.momentum for m in layers]
    tracked = [None if m.num_batches_tracked is None else m.num_batches_tracked.clone()
               for m in layers]
    if bn == BNMode.BATCH:
        for m in layers:
            m.train()
            m.momentum = 0.0  # use batch statistics, leave the running ones unchanged
    correct = total = 0
    try:
        for x, y in eval_batches:
            pred = supernet(x.to(device)).argmax(1)
            correct += int((pred == y.to(device)).sum())
            total += int(y.numel())
    finally:
        for m, mom, nbt in zip(layers, moms, tracked, strict=True):
            m.momentum = mom
            if bn == BNMode.BATCH and nbt is not None:
                m.num_batches_tracked.copy_(nbt)
        supernet.eval()
    return correct, total


# ---------------------------------------------------------------------- results
def _stderr(diff: np.ndarray) -> np.ndarray:
    n = diff.shape[-1]
    if n < 2:
        return np.zeros(diff.shape[:-1])
    return diff.std(axis=-1, ddof=1) / np.sqrt(n)


@dataclass(frozen=True, eq=False)
class ContributionResult:
    """Measured accuracy contributions.

    Attributes
    ----------
    table : Table
        The estimator (percent top-1), paper layout: ``const`` the base accuracy, ``depth`` the
        Delta beta, ``op`` the Delta alpha.
    stderr : Table
        Standard error of every entry, same layout.
    n_samples, eval_batches, calib_batches : int
        Contexts per decision; validation and BatchNorm batches per sub-network.
    images_per_eval : int
        Validation images per evaluated sub-network (first evaluation's count).
    reference, bn : str
    seed : int
    evaluations : int
        Sub-network evaluations behind the table (cached ones included).
    measured : int
        Evaluations run by this call (the rest came from the cache).
    wall_time : float
        Seconds spent by this call.
    world_size : int
        Processes that shared the evaluations.
    accuracies : dict
        Raw accuracies, ``key -> (n_options, n_samples)`` array, per decision.
    """

    table: Table
    stderr: Table
    n_samples: int
    eval_batches: int
    calib_batches: int
    images_per_eval: int
    reference: str
    bn: str
    seed: int
    evaluations: int
    measured: int
    wall_time: float
    world_size: int = 1
    accuracies: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def base_accuracy(self) -> float:
        return self.table.const

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "binas-opt-contributions", "version": 1,
            "space": self.table.space.to_dict(),
            "table": self.table.to_dict(), "stderr": self.stderr.to_dict(),
            "n_samples": self.n_samples, "eval_batches": self.eval_batches,
            "calib_batches": self.calib_batches, "images_per_eval": self.images_per_eval,
            "reference": self.reference, "bn": self.bn, "seed": self.seed,
            "evaluations": self.evaluations, "measured": self.measured,
            "wall_time": self.wall_time, "world_size": self.world_size,
            "accuracies": {k: v.tolist() for k, v in self.accuracies.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContributionResult:
        space = SearchSpace.from_dict(d["space"])
        kw = {k: d[k] for k in ("n_samples", "eval_batches", "calib_batches", "images_per_eval",
                                "reference", "bn", "seed", "evaluations", "measured",
                                "wall_time", "world_size")}
        return cls(table=Table.from_dict(d["table"], space),
                   stderr=Table.from_dict(d["stderr"], space),
                   accuracies={k: np.asarray(v, dtype=float)
                               for k, v in d.get("accuracies", {}).items()}, **kw)

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_dict` as JSON, atomically."""
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | os.PathLike) -> ContributionResult:
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))


def _build_tables(space: SearchSpace, decs: list[Decision], acc: dict[str, np.ndarray],
                  reference: Reference, small_ops: np.ndarray, small_depths: np.ndarray
                  ) -> tuple[Table, Table]:
    idx = space.index
    depth_v, depth_se = np.zeros(space.n_beta), np.zeros(space.n_beta)
    op_v, op_se = np.zeros(space.n_alpha), np.zeros(space.n_alpha)
    off = _block_offsets(space)
    # The constant pools every evaluation of the base network(s): the base samples, and in
    # every depth decision the evaluations that are base draws too -- all options of a uniform
    # context (the depth is uniform, so their mean is an unbiased E_U[Acc]) or the smallest
    # depth option of the smallest reference (which is the smallest network itself).
    units, weights = [acc["base"][0]], [np.ones(acc["base"].shape[1])]
    for dec in decs[1:]:
        if dec.kind != "depth":
            continue
        a = acc[dec.key]
        if reference == Reference.UNIFORM:
            units.append(a.mean(axis=0))
            weights.append(np.full(a.shape[1], float(a.shape[0])))
        else:
            ref = space.stages[dec.stage].depths.index(int(small_depths[dec.stage]))
            units.append(a[ref])
            weights.append(np.ones(a.shape[1]))
    u, w = np.concatenate(units), np.concatenate(weights)
    const = float(np.sum(w * u) / np.sum(w))
    # standard error of a weighted mean of independent units (sandwich form)
    const_se = float(np.sqrt(np.sum(w ** 2 * (u - const) ** 2) * len(u) / max(len(u) - 1, 1))
                     / np.sum(w)) if len(u) > 1 else 0.0
    for dec in decs[1:]:
        a = acc[dec.key]  # (options, samples)
        if reference == Reference.UNIFORM:
            diff = a - a.mean(axis=0, keepdims=True)
        else:
            if dec.kind == "depth":
                ref = space.stages[dec.stage].depths.index(int(small_depths[dec.stage]))
            else:
                ref = int(small_ops[off[dec.stage] + dec.block])
            diff = a - a[ref][None, :]
        val, se = diff.mean(axis=1), _stderr(diff)
        if dec.kind == "depth":
            o = int(idx.beta_offset[dec.stage])
            depth_v[o:o + len(val)], depth_se[o:o + len(val)] = val, se
        else:
            o = int(idx.alpha_offset[dec.stage, dec.block])
            op_v[o:o + len(val)], op_se[o:o + len(val)] = val, se
    table = Table(space, const=const, depth=depth_v, op=op_v, name="accuracy", unit="%")
    stderr = Table(space, const=const_se, depth=depth_se, op=op_se, name="accuracy_stderr",
                   unit="%")
    return table, stderr


# ---------------------------------------------------------------------- cache
def _read_cache(path: Path | None, key: dict[str, Any], d: _Dist) -> dict[str, Any]:
    text = None
    if d.rank == 0 and path is not None and path.is_file():
        text = path.read_text(encoding="utf-8")
    text = _broadcast_text(text, d)
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
                 d: _Dist) -> None:
    if path is None or d.rank != 0:
        return
    doc = {"format": CACHE_FORMAT, "version": _CACHE_VERSION, "key": key, "groups": groups}
    atomic_write_text(path, json.dumps(doc))


# ---------------------------------------------------------------------- main entry points
def _enum(cls, value, name: str):
    try:
        return cls(value)
    except ValueError:
        raise ValueError(f"{name} must be one of {[m.value for m in cls]}, got {value!r}") from None


def _positive(value, name: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, *[int(s) for s in stream]])


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False, dynamic_ncols=True)


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
    reference, bn = _enum(Reference, reference, "reference"), _enum(BNMode, bn, "bn")
    n_samples = _positive(n_samples, "n_samples")
    eval_batches = _positive(eval_batches, "eval_batches")
    calib_batches = _positive(calib_batches, "calib_batches")
    if not hasattr(supernet, "set_arch"):
        raise TypeError("measure_contributions: supernet must have set_arch() (a Supernet)")
    d = dist_info(distributed)
    pool = _take(loader, pool_batches, "measure_contributions: loader")
    if len(pool) < eval_batches:
        raise ValueError(f"eval_batches={eval_batches} but the loader gave {len(pool)} batches")
    calib: list = []
    if bn == BNMode.RECALIBRATE:
        calib = _take(loader if calib_loader is None else calib_loader, calib_pool_batches,
                      "measure_contributions: calib_loader")
        if len(calib) < calib_batches:
            raise ValueError(f"calib_batches={calib_batches} but the calibration pool has "
                             f"{len(calib)} batches")
    decs = decisions(space)
    small_ops = smallest_ops(space)
    small_depths = np.array([st.min_depth for st in space.stages])
    small = (small_depths, small_ops)
    data_fp = _fingerprint_tensors([t for b in pool for t in b] + [t for b in calib for t in b])
    params = [p for _, p in sorted(supernet.named_parameters(), key=lambda kv: kv[0])]
    if bn == BNMode.NONE:
        params += [b for m in _bn_layers(supernet) for b in m.buffers()]
    net_fp = _fingerprint_tensors(params)
    _check_same_everywhere("data pools", data_fp, d)
    _check_same_everywhere("supernet weights", net_fp, d)
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
    bar = _progress(total_evals, "contributions", progress and d.rank == 0)
    bar.update(done_evals)
    bn_state = _BNState(supernet)
    try:
        for gid, dec in enumerate(decs):
            if dec.key in groups:
                continue
            k = dec.n_options
            counts = torch.zeros(2, k * n_samples, dtype=torch.float64)
            for i in range(n_samples):
                rng = _rng(seed, gid, i)
                archs = _context_archs(space, dec, reference, rng, small)
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
            counts = _all_reduce_sum(counts, d)
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
    table, stderr = _build_tables(space, decs, acc, reference, small_ops, small_depths)
    return ContributionResult(
        table=table, stderr=stderr, n_samples=n_samples, eval_batches=eval_batches,
        calib_batches=calib_batches if bn == BNMode.RECALIBRATE else 0,
        images_per_eval=int(groups["base"]["total"][0][0]), reference=reference.value,
        bn=bn.value, seed=int(seed), evaluations=total_evals, measured=measured,
        wall_time=time.perf_counter() - t0, world_size=d.world, accuracies=acc,
    )


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
    for each sub-network (the per-evaluation cost of :func:`measure_contributions`, for
    comparisons at equal evaluation budget).  Give ``architectures`` instead of ``n`` to
    evaluate given ones.  Sampling uses ``seed``; every evaluation's batch choice depends on
    ``(seed, index)`` only, so the result is the same with any number of data-parallel
    processes.
    """
    t0 = time.perf_counter()
    bn = _enum(BNMode, bn, "bn")
    if architectures is None:
        if n is None:
            raise ValueError("sample_accuracies: give n or architectures")
        archs = tuple(space.sample(_rng(seed, _SAMPLE_STREAM), _positive(n, "n")))
    else:
        archs = tuple(space.validate(a, f"architectures[{i}]")
                      for i, a in enumerate(architectures))
    d = dist_info(distributed)
    pool = _take(loader, pool_batches, "sample_accuracies: loader")
    if eval_batches is not None and not 1 <= _positive(eval_batches, "eval_batches") <= len(pool):
        raise ValueError(f"eval_batches={eval_batches} but the pool has {len(pool)} batches")
    calib = []
    if bn == BNMode.RECALIBRATE:
        calib = _take(loader if calib_loader is None else calib_loader, calib_pool_batches,
                      "sample_accuracies: calib_loader")
        calib_batches = min(_positive(calib_batches, "calib_batches"), len(calib))
    _check_same_everywhere("data pools",
                           _fingerprint_tensors([t for b in pool + calib for t in b]), d)
    counts = torch.zeros(2, len(archs), dtype=torch.float64)
    bn_state = _BNState(supernet)
    bar = _progress(len(archs), "sub-networks", progress and d.rank == 0)
    try:
        for i, arch in enumerate(archs):
            if i % d.world == d.rank:
                rng = _rng(seed, _SAMPLE_STREAM + 1, i)
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
    counts = _all_reduce_sum(counts, d)
    correct, total = counts[0].numpy().astype(np.int64), counts[1].numpy().astype(np.int64)
    return SampledAccuracies(architectures=archs, accuracies=100.0 * correct / total,
                             correct=correct, total=total, seed=int(seed), bn=bn.value,
                             wall_time=time.perf_counter() - t0)
