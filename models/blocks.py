"""MobileNetV3 building blocks with timm's conventions (no timm dependency).

The conventions are those of timm's ``hardcorenas_a`` ... ``hardcorenas_f`` (``_gen_hardcorenas``),
which fix the exact parameter counts:

* every conv has no bias except the squeeze-excite convs and the head conv;
* BatchNorm after every conv of a block; the projection (``conv_pwl``) has no activation;
* the activation of a block is ReLU for ``nre`` blocks and hard-swish otherwise; the stem, the
  final 1x1 ``cn`` block and the head use hard-swish;
* squeeze-excite acts on the block's *mid* (expanded) channels with
  ``rd = make_divisible(mid * se_ratio, 8)`` reduced channels, ReLU inside, hard-sigmoid gate;
* a residual connection when ``stride == 1`` and ``in_chs == out_chs``;
* head: global average pool, 1x1 conv ``suffix_chs -> head_features`` *with* bias, hard-swish,
  flatten, dropout, linear classifier.

Padding is ``kernel // 2`` (timm's symmetric default), so a stride-``s`` conv maps ``H`` to
``(H - 1) // s + 1`` for every odd kernel.
"""

from __future__ import annotations

import torch
from torch import nn

from binas_opt.mbconv.arch_def import BlockDef
from binas_opt.mbconv.counts import conv_out_size, make_divisible, mid_channels, se_channels

__all__ = [
    "make_divisible",
    "mid_channels",
    "se_channels",
    "conv_out_size",
    "make_act",
    "ConvBnAct",
    "SqueezeExcite",
    "DepthwiseSeparable",
    "InvertedResidual",
    "Head",
    "block_from_def",
    "chain_blocks",
]


def make_act(name: str) -> nn.Module:
    """``"relu"`` -> ReLU, ``"hswish"`` -> Hardswish."""
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "hswish":
        return nn.Hardswish(inplace=True)
    raise ValueError(f"activation must be 'relu' or 'hswish', got {name!r}")


def _conv(in_chs: int, out_chs: int, kernel: int, stride: int = 1, groups: int = 1,
          bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(in_chs, out_chs, kernel, stride, padding=kernel // 2, groups=groups,
                     bias=bias)


class ConvBnAct(nn.Module):
    """Conv (no bias) -> BatchNorm -> activation (the stem and timm's ``cn`` blocks)."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int = 1, stride: int = 1,
                 act: str = "hswish"):
        super().__init__()
        self.conv = _conv(in_chs, out_chs, kernel, stride)
        self.bn1 = nn.BatchNorm2d(out_chs)
        self.act1 = make_act(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act1(self.bn1(self.conv(x)))


class SqueezeExcite(nn.Module):
    """Squeeze-excite: pool, 1x1 conv to ``rd`` (bias), ReLU, 1x1 conv back (bias), hard-sigmoid."""

    def __init__(self, chs: int, rd_chs: int):
        super().__init__()
        self.conv_reduce = nn.Conv2d(chs, rd_chs, 1, bias=True)
        self.act1 = nn.ReLU(inplace=True)
        self.conv_expand = nn.Conv2d(rd_chs, chs, 1, bias=True)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean((2, 3), keepdim=True)
        s = self.conv_expand(self.act1(self.conv_reduce(s)))
        return x * self.gate(s)


class DepthwiseSeparable(nn.Module):
    """timm's ``ds`` block: depthwise conv, BN, act, [SE], pointwise conv, BN (no act)."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int = 3, stride: int = 1,
                 act: str = "hswish", se_ratio: float = 0.0):
        super().__init__()
        self.has_skip = stride == 1 and in_chs == out_chs
        self.conv_dw = _conv(in_chs, in_chs, kernel, stride, groups=in_chs)
        self.bn1 = nn.BatchNorm2d(in_chs)
        self.act1 = make_act(act)
        self.se = (SqueezeExcite(in_chs, se_channels(in_chs, se_ratio)) if se_ratio
                   else nn.Identity())
        self.conv_pw = _conv(in_chs, out_chs, 1)
        self.bn2 = nn.BatchNorm2d(out_chs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act1(self.bn1(self.conv_dw(x)))
        y = self.bn2(self.conv_pw(self.se(y)))
        return y + x if self.has_skip else y


class InvertedResidual(nn.Module):
    """timm's ``ir`` block: 1x1 expansion, BN, act, depthwise kxk, BN, act, [SE], 1x1, BN."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int = 3, stride: int = 1,
                 expansion: float = 6.0, act: str = "hswish", se_ratio: float = 0.0):
        super().__init__()
        mid = mid_channels(in_chs, expansion)
        self.has_skip = stride == 1 and in_chs == out_chs
        self.conv_pw = _conv(in_chs, mid, 1)
        self.bn1 = nn.BatchNorm2d(mid)
        self.act1 = make_act(act)
        self.conv_dw = _conv(mid, mid, kernel, stride, groups=mid)
        self.bn2 = nn.BatchNorm2d(mid)
        self.act2 = make_act(act)
        self.se = SqueezeExcite(mid, se_channels(mid, se_ratio)) if se_ratio else nn.Identity()
        self.conv_pwl = _conv(mid, out_chs, 1)
        self.bn3 = nn.BatchNorm2d(out_chs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act1(self.bn1(self.conv_pw(x)))
        y = self.act2(self.bn2(self.conv_dw(y)))
        y = self.bn3(self.conv_pwl(self.se(y)))
        return y + x if self.has_skip else y


class Head(nn.Module):
    """Global pool, 1x1 conv with bias, hard-swish, flatten, dropout, linear classifier."""

    def __init__(self, in_chs: int, features: int, num_classes: int, dropout: float = 0.0):
        super().__init__()
        self.conv_head = nn.Conv2d(in_chs, features, 1, bias=True)
        self.act2 = nn.Hardswish(inplace=True)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.classifier = nn.Linear(features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.mean((2, 3), keepdim=True)
        x = self.act2(self.conv_head(x)).flatten(1)
        return self.classifier(self.dropout(x))


def chain_blocks(defs, in_chs: int) -> tuple[list[nn.Module], int]:
    """Modules of consecutive block definitions (or timm block strings) starting from
    ``in_chs`` channels, and the channels that come out of the last one."""
    mods, c = [], in_chs
    for bd in defs:
        bd = BlockDef.parse(bd) if isinstance(bd, str) else bd
        mods.append(block_from_def(bd, c))
        c = bd.channels
    return mods, c


def block_from_def(bd: BlockDef, in_chs: int, default_act: str = "hswish") -> nn.Module:
    """The module of one timm block string (kinds ``ds``, ``ir`` and ``cn``), repeat 1."""
    if bd.repeat != 1:
        raise ValueError(f"block {bd.format()!r}: only repeat 1 is supported (got r{bd.repeat})")
    act = "relu" if bd.relu else default_act
    if bd.kind == "ds":
        return DepthwiseSeparable(in_chs, bd.channels, bd.kernel, bd.stride, act, bd.se_ratio)
    if bd.kind == "ir":
        return InvertedResidual(in_chs, bd.channels, bd.kernel, bd.stride, bd.expansion or 1.0,
                                act, bd.se_ratio)
    if bd.kind == "cn":
        return ConvBnAct(in_chs, bd.channels, bd.kernel, bd.stride, act)
    raise ValueError(f"block {bd.format()!r}: kind {bd.kind!r} is not one of 'ds', 'ir', 'cn'")
