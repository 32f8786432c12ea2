"""Data-parallel helpers: ``torch.distributed`` from torchrun's environment (gloo on CPU, nccl on
CUDA), a sum over ranks, rank 0's text on every rank, and a check that every rank holds the
same data.  Nothing is pickled: everything travels as tensors.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["DistInfo", "dist_info", "all_reduce_sum", "broadcast_text", "check_same_everywhere"]

logger = logging.getLogger("binas_opt")


@dataclass(frozen=True)
class DistInfo:
    """This process's place in a data-parallel run (rank 0 of 1 when not distributed)."""

    rank: int
    world: int
    backend: str | None

    @property
    def active(self) -> bool:
        """More than one process."""
        return self.world > 1

    def device(self) -> torch.device:
        """Where the collective operations' tensors live (the current CUDA device for nccl)."""
        if self.backend == "nccl":
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")


def dist_info(distributed: bool | None = None) -> DistInfo:
    """Rank, world size and backend; initialises ``torch.distributed`` if needed.

    Parameters
    ----------
    distributed : bool, optional
        None: initialise from the environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``,
        ``MASTER_PORT``, as torchrun sets them) when present, else run alone; False: run
        alone; True: required (a ``RuntimeError`` when it cannot be set up).

    Returns
    -------
    DistInfo
    """
    import torch.distributed as dist

    if distributed is False or not dist.is_available():
        if distributed:
            raise RuntimeError("distributed=True but torch.distributed is not available")
        return DistInfo(0, 1, None)
    if dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), dist.get_backend())
    env = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    if not (env or distributed):
        return DistInfo(0, 1, None)
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
    return DistInfo(dist.get_rank(), dist.get_world_size(), backend)


def all_reduce_sum(t: torch.Tensor, d: DistInfo) -> torch.Tensor:
    """The sum of ``t`` over all ranks, on the CPU (``t`` itself when not distributed)."""
    if not d.active:
        return t
    import torch.distributed as dist

    buf = t.to(d.device())
    dist.all_reduce(buf, op=dist.ReduceOp.SUM)
    return buf.cpu()


def broadcast_text(text: str | None, d: DistInfo) -> str | None:
    """Rank 0's ``text`` (or None) on every rank, sent as a uint8 tensor."""
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


def check_same_everywhere(name: str, value: str, d: DistInfo) -> None:
    """Raise a ``RuntimeError`` naming ``name`` unless every rank passed the same ``value``."""
    if not d.active:
        return
    import torch.distributed as dist

    h = np.frombuffer(hashlib.sha256(value.encode()).digest()[:8], dtype=np.int64).astype(float)
    buf = torch.tensor([h[0], -h[0]], dtype=torch.float64).to(d.device())
    dist.all_reduce(buf, op=dist.ReduceOp.MAX)  # max(h) == min(h) iff all equal
    if float(buf[0]) != -float(buf[1]):
        raise RuntimeError(
            f"data-parallel measurement: the {name} differ between ranks; every rank must see "
            "the same batches (use unshuffled or identically seeded loaders) and weights"
        )
