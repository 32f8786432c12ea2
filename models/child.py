"""Stand-alone networks: a chosen architecture exported as a plain ``torch.nn.Module``.

:func:`build_child` builds the network of an :class:`~binas_opt.Architecture` of a
MobileNetV3-style :class:`~binas_opt.SearchSpace` (stem, fixed prefix blocks, the searchable
blocks, fixed suffix blocks, head).  Given a trained :class:`~binas_opt.models.supernet.Supernet`
it copies the weights of the chosen paths, so the child computes exactly what the supernet
computes with that architecture fixed (eval mode).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from binas_opt.mbconv.arch_def import BlockDef, stage_block_defs
from binas_opt.model.architecture import Architecture
from binas_opt.model.space import FixedPart, SearchSpace

from .blocks import ConvBnAct, Head, chain_blocks

__all__ = ["ChildNet", "build_child", "build_from_string", "block_defs"]


class ChildNet(nn.Module):
    """A MobileNetV3-style network: ``stem -> blocks -> head``.

    Attributes
    ----------
    stem : ConvBnAct
    blocks : nn.Sequential
        Fixed prefix blocks, the searchable blocks in order, fixed suffix blocks.
    head : Head
    arch_string : str or None
        The timm ``arch_def`` string the network was built from.
    """

    def __init__(self, fixed: FixedPart, defs: Sequence[BlockDef], *, num_classes=None,
                 in_channels=None, dropout: float = 0.0, arch_string: str | None = None):
        super().__init__()
        in_ch = fixed.in_channels if in_channels is None else int(in_channels)
        ncls = fixed.num_classes if num_classes is None else int(num_classes)
        self.stem = ConvBnAct(in_ch, fixed.stem_channels, 3, fixed.stem_stride, "hswish")
        mods, c = chain_blocks(defs, fixed.stem_channels)
        self.blocks = nn.Sequential(*mods)
        self.head = Head(c, fixed.head_features, ncls, dropout)
        self.arch_string = arch_string

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


def block_defs(space: SearchSpace, arch: Architecture) -> list[BlockDef]:
    """All block definitions of ``arch`` in order: prefix, searchable blocks, suffix."""
    stages = stage_block_defs(space, arch)
    pre = [BlockDef.parse(s) for s in space.fixed.prefix]
    suf = [BlockDef.parse(s) for s in space.fixed.suffix]
    return pre + [b for st in stages for b in st] + suf


def build_child(space: SearchSpace, arch: Architecture, supernet=None, *, num_classes=None,
                in_channels=None, dropout: float = 0.0) -> ChildNet:
    """The stand-alone network of ``arch``, with the supernet's weights when one is given.

    Parameters
    ----------
    space : SearchSpace
        A MobileNetV3-style space (stages with channels and a :class:`~binas_opt.FixedPart`).
    arch : Architecture
        Validated against ``space``.
    supernet : Supernet, optional
        Copy the weights (and BatchNorm statistics) of ``arch``'s path from this supernet; the
        classifier size and input channels then follow the supernet.
    num_classes, in_channels, dropout
        Override ``space.fixed`` (ignored for sizes when ``supernet`` is given).

    Returns
    -------
    ChildNet
        A plain module; ``child.arch_string == arch.to_string(space)``.
    """
    if not isinstance(space, SearchSpace):
        raise TypeError(f"build_child: space must be a SearchSpace, got {type(space).__name__}")
    space.validate(arch, "build_child: arch")
    defs = block_defs(space, arch)
    if supernet is not None:
        if supernet.space != space:
            raise ValueError("build_child: the supernet was built for a different search space")
        num_classes, in_channels = supernet.num_classes, supernet.in_channels
        dropout = supernet.dropout
    child = ChildNet(space.fixed, defs, num_classes=num_classes, in_channels=in_channels,
                     dropout=dropout, arch_string=arch.to_string(space))
    if supernet is not None:
        supernet.export_weights(arch, child)
    return child


def build_from_string(space: SearchSpace, text: str, supernet=None, **kwargs) -> ChildNet:
    """:func:`build_child` from a timm / BINAS ``arch_def`` string."""
    return build_child(space, Architecture.from_string(text, space), supernet, **kwargs)
