"""What a latency table times: every distinct block configuration once, plus the fixed part.

:func:`latency_plan` lists the modules to time for a MobileNetV3-style space: the fixed part
before the searchable stages (stem and prefix blocks), one :class:`TimingJob` per distinct
block configuration (input and output channels, spatial size, stride, op, activation), and the
fixed part after them (suffix blocks, pooling, head conv and classifier).  A job's key names its
shape, so one cache serves every space measured under the same conditions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from torch import nn

from binas_opt.mbconv.arch_def import BlockDef, MBConvOp
from binas_opt.mbconv.counts import conv_out_size
from binas_opt.model.space import SearchSpace

from .blocks import ConvBnAct, Head, InvertedResidual, chain_blocks

__all__ = ["TimingJob", "latency_plan"]


@dataclass(frozen=True)
class TimingJob:
    """One module to time: its cache key, a builder, and the ``(C, H, W)`` shape of its input."""

    key: str
    build: Callable[[], nn.Module]
    shape: tuple[int, int, int]


def require_mbconv_space(space: SearchSpace, what: str) -> None:
    """Raise unless ``space`` is a SearchSpace with channels and a FixedPart (``what``: the caller)."""
    if not isinstance(space, SearchSpace):
        raise TypeError(f"{what}: space must be a SearchSpace, got {type(space).__name__}")
    if space.fixed is None or any(st.channels is None for st in space.stages):
        raise ValueError(f"{what}: needs a MobileNetV3-style space (stages with channels and a "
                         "FixedPart), e.g. SearchSpace.mobilenet_v3()")


class _Pre(nn.Module):
    """Stem and prefix blocks: the fixed part before the searchable stages."""

    def __init__(self, stem: nn.Module, blocks: Sequence[nn.Module]):
        super().__init__()
        self.stem, self.blocks = stem, nn.Sequential(*blocks)

    def forward(self, x):
        return self.blocks(self.stem(x))


class _Post(nn.Module):
    """Suffix blocks and head: the fixed part after the searchable stages."""

    def __init__(self, blocks: Sequence[nn.Module], head: nn.Module):
        super().__init__()
        self.blocks, self.head = nn.Sequential(*blocks), head

    def forward(self, x):
        return self.head(self.blocks(x))


def latency_plan(space: SearchSpace, input_size: int, num_classes: int | None = None,
                 in_channels: int | None = None) -> tuple[list[TimingJob], list[str]]:
    """The modules to time for ``space``, and the job key of every alpha entry.

    Parameters
    ----------
    space : SearchSpace
        MobileNetV3-style (stages with channels, a FixedPart), MBConv op labels.
    input_size : int
        Height and width of the network's input.
    num_classes, in_channels : int, optional
        Default: the space's FixedPart.

    Returns
    -------
    jobs : list of TimingJob
        The fixed part before the stages first, the distinct blocks, the fixed part after
        the stages last.
    op_keys : list of str
        The job key of every alpha entry (blocks in flat order, paper layout).
    """
    require_mbconv_space(space, "latency_plan")
    fx = space.fixed
    c_img = fx.in_channels if in_channels is None else int(in_channels)
    ncls = fx.num_classes if num_classes is None else int(num_classes)
    pre_defs = [BlockDef.parse(s) for s in fx.prefix]
    suf_defs = [BlockDef.parse(s) for s in fx.suffix]

    def build_pre():
        mods, _ = chain_blocks(pre_defs, fx.stem_channels)
        return _Pre(ConvBnAct(c_img, fx.stem_channels, 3, fx.stem_stride, "hswish"), mods)

    h = conv_out_size(input_size, fx.stem_stride)
    c = fx.stem_channels
    for bd in pre_defs:
        c, h = bd.channels, conv_out_size(h, bd.stride)
    pre_key = (f"fixed_pre|in{c_img}|h{input_size}|stem{fx.stem_channels}s{fx.stem_stride}|"
               + ",".join(fx.prefix))
    jobs = [TimingJob(pre_key, build_pre, (c_img, input_size, input_size))]
    op_keys: list[str] = []
    seen: dict[str, TimingJob] = {}
    for s, st in enumerate(space.stages):
        for b in range(st.max_depth):
            stride = st.stride if b == 0 else 1
            for label in st.ops[b]:
                try:
                    op = MBConvOp.from_label(label)
                except ValueError as exc:
                    raise ValueError(f"{space.stage_name(s)} block {b}: {exc}") from None
                key = f"ir|in{c}|out{st.channels}|h{h}|s{stride}|{op.label}|{st.activation}"
                op_keys.append(key)
                if key not in seen:
                    args = (c, st.channels, op.kernel, stride, op.expansion, st.activation,
                            op.se_ratio)
                    seen[key] = TimingJob(key, lambda a=args: InvertedResidual(*a), (c, h, h))
            if b == 0:
                c, h = st.channels, conv_out_size(h, stride)
    c_post, h_post = c, h

    def build_post():
        mods, cc = chain_blocks(suf_defs, c_post)
        return _Post(mods, Head(cc, fx.head_features, ncls))

    post_key = (f"fixed_post|in{c_post}|h{h_post}|" + ",".join(fx.suffix)
                + f"|head{fx.head_features}|classes{ncls}")
    jobs += list(seen.values()) + [TimingJob(post_key, build_post, (c_post, h_post, h_post))]
    return jobs, op_keys
