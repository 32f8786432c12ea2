"""Parameter and multiply-accumulate counts of a module.

``count_macs`` uses :class:`torch.utils.flop_counter.FlopCounterMode` on one forward pass in
eval mode and returns ``FLOPs // 2``: the counter counts 2 FLOPs per
multiply-accumulate of convolutions and matrix products (squeeze-excite, head conv and
classifier included) and nothing for BatchNorm, activations, pooling and additions.  This is the
convention of timm's published MACs (``../shared/data/golden``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["count_params", "count_macs"]


def count_params(module: nn.Module) -> int:
    """Number of parameters (trainable or not; buffers such as BN statistics excluded)."""
    return int(sum(p.numel() for p in module.parameters()))


def count_macs(module: nn.Module, input_size: int = 224, in_channels: int = 3,
               batch_size: int = 1) -> int:
    """Multiply-accumulates of one forward pass on a ``(batch, in_channels, H, H)`` input.

    The pass runs on the ``meta`` device (shapes only, no arithmetic, the module's own tensors
    untouched) through :func:`torch.func.functional_call`; a module that cannot run on meta
    tensors is counted with a real forward pass of a zero input instead.
    """
    if int(input_size) < 1 or int(in_channels) < 1 or int(batch_size) < 1:
        raise ValueError(f"count_macs: input_size={input_size}, in_channels={in_channels} and "
                         f"batch_size={batch_size} must be >= 1")
    shape = (int(batch_size), int(in_channels), int(input_size), int(input_size))
    was_training = module.training
    module.eval()
    try:
        try:
            return _count(module, shape, meta=True)
        except (RuntimeError, NotImplementedError, TypeError):
            return _count(module, shape, meta=False)
    finally:
        module.train(was_training)


def _count(module: nn.Module, shape: tuple[int, ...], meta: bool) -> int:
    if meta:
        tensors = {k: torch.empty_like(v, device="meta")
                   for k, v in (*module.named_parameters(), *module.named_buffers())}
        x = torch.zeros(shape, device="meta")
        with FlopCounterMode(display=False) as fc, torch.no_grad():
            functional_call(module, tensors, (x,))
    else:
        p = next(module.parameters(), None)
        x = torch.zeros(shape, device=p.device if p is not None else "cpu")
        with FlopCounterMode(display=False) as fc, torch.no_grad():
            module(x)
    return int(fc.get_total_flops()) // 2
