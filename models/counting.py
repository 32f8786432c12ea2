"""Parameter and multiply-accumulate counts of a module.

``count_macs`` uses :class:`torch.utils.flop_counter.FlopCounterMode` on one forward pass of a
zero input in eval mode and returns ``FLOPs // 2``: the counter counts 2 FLOPs per
multiply-accumulate of convolutions and matrix products (squeeze-excite, head conv and
classifier included) and nothing for BatchNorm, activations, pooling and additions.  This is the
convention of timm's published MACs (``../shared/data/golden``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["count_params", "count_macs"]


def count_params(module: nn.Module) -> int:
    """Number of parameters (trainable or not; buffers such as BN statistics excluded)."""
    return int(sum(p.numel() for p in module.parameters()))


def count_macs(module: nn.Module, input_size: int = 224, in_channels: int = 3,
               batch_size: int = 1) -> int:
    """Multiply-accumulates of one forward pass on a ``(batch, in_channels, H, H)`` input."""
    if int(input_size) < 1 or int(in_channels) < 1 or int(batch_size) < 1:
        raise ValueError(f"count_macs: input_size={input_size}, in_channels={in_channels} and "
                         f"batch_size={batch_size} must be >= 1")
    was_training = module.training
    try:
        p = next(module.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
        x = torch.zeros(int(batch_size), int(in_channels), int(input_size), int(input_size),
                        device=device)
        module.eval()
        with FlopCounterMode(display=False) as fc, torch.no_grad():
            module(x)
    finally:
        module.train(was_training)
    return int(fc.get_total_flops()) // 2
