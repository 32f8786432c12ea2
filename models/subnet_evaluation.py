"""Accuracy of one sub-network of a supernet, with its BatchNorm statistics re-estimated.

:func:`evaluate_subnet` counts the correct predictions of a fixed path on given batches, with
the BatchNorm statistics of that path obtained as :class:`BNMode` says.  The helpers below it
take the batch pools the evaluations draw from, fingerprint data and weights (cache keys and
the data-parallel check), and snapshot the BatchNorm buffers so that a measurement leaves the
supernet as it found it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import torch
from torch import nn

from binas_opt.model.architecture import Architecture
from binas_opt.model.choices import Choice

from .supernet import recalibrate_bn
from .train import model_device

__all__ = ["BNMode", "evaluate_subnet"]

Batch = tuple[torch.Tensor, torch.Tensor]


class BNMode(Choice):
    """How BatchNorm statistics are obtained for a sampled sub-network."""

    RECALIBRATE = "recalibrate"  # reset and re-estimate on calibration batches (default)
    BATCH = "batch"              # normalise each evaluation batch with its own statistics
    NONE = "none"                # the supernet's running statistics as they are (biased)


def bn_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    """Every BatchNorm layer of ``model``."""
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


class BatchNormSnapshot:
    """Every BatchNorm buffer and momentum of a model, for :meth:`restore`."""

    def __init__(self, model: nn.Module):
        self.items = [(m, m.momentum, [b.detach().clone() for b in m.buffers()])
                      for m in bn_layers(model)]

    def restore(self) -> None:
        with torch.no_grad():
            for m, mom, bufs in self.items:
                m.momentum = mom
                for b, v in zip(m.buffers(), bufs, strict=True):
                    b.copy_(v)


def take_batches(loader: Iterable, n: int | None, what: str) -> list[Batch]:
    """The first ``n`` (all when None) ``(inputs, targets)`` batches of ``loader``."""
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


def fingerprint_tensors(tensors: Iterable[torch.Tensor]) -> str:
    """A short hash of the shapes, dtypes and values of ``tensors``."""
    h = hashlib.sha256()
    for t in tensors:
        a = t.detach().cpu().contiguous()
        h.update(str((tuple(a.shape), str(a.dtype))).encode())
        h.update(a.numpy().tobytes() if a.dtype != torch.bfloat16 else a.float().numpy().tobytes())
    return h.hexdigest()[:24]


@torch.no_grad()
def evaluate_subnet(supernet: nn.Module, arch: Architecture, eval_batches: Sequence[Batch],
                    calib_batches: Sequence[Batch] = (),
                    bn: str | BNMode = BNMode.RECALIBRATE) -> tuple[int, int]:
    """``(correct, total)`` of the supernet's sub-network ``arch`` on ``eval_batches``.

    ``bn="recalibrate"`` re-estimates every BatchNorm on the path from ``calib_batches``
    first (the supernet's statistics are left changed; the measurements restore them),
    ``"batch"`` normalises each evaluation batch with its own statistics (running
    statistics untouched), ``"none"`` uses the running statistics as they are.
    """
    bn = BNMode.parse(bn, "evaluate_subnet: bn")
    device = model_device(supernet)
    if bn is BNMode.RECALIBRATE:
        if not calib_batches:
            raise ValueError("evaluate_subnet: bn='recalibrate' needs calibration batches")
        recalibrate_bn(supernet, arch, calib_batches, len(calib_batches))
    supernet.set_arch(arch)
    supernet.eval()
    layers = bn_layers(supernet)
    moms = [m.momentum for m in layers]
    tracked = [None if m.num_batches_tracked is None else m.num_batches_tracked.clone()
               for m in layers]
    if bn is BNMode.BATCH:
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
            if bn is BNMode.BATCH and nbt is not None:
                m.num_batches_tracked.copy_(nbt)
        supernet.eval()
    return correct, total
