"""Analytic parameter and MAC tables of MobileNetV3-style spaces (pure arithmetic, no torch).

The counts follow the blocks of :mod:`binas_opt.models.blocks` (timm's HardCoRe-NAS
conventions) exactly, so on every architecture

    params_table(space)(arch) == count_params(build_child(space, arch))
    macs_table(space)(arch)   == count_macs(build_child(space, arch), input_size)

With ``mid = make_divisible(c_in * e)``, ``rd = make_divisible(mid * r, 8)`` and spatial sizes
``H`` (input) and ``H' = (H - 1) // stride + 1`` (output), an inverted residual with kernel ``k``
and squeeze-excite ratio ``r`` has

.. math::
    P &= c_{in} m + 2m + k^2 m + 2m + [r > 0](2 m\\,rd + rd + m) + m\\,c_{out} + 2 c_{out} \\\\
    M &= H^2 c_{in} m + H'^2 k^2 m + [r > 0]\\,2 m\\,rd + H'^2 m\\,c_{out}

(BatchNorm contributes 2 parameters per channel and no MACs; activations, pooling, the gate
product and the residual addition count no MACs, as in ``torch.utils.flop_counter``).  The
constant of each table is the stem, the fixed prefix/suffix blocks and the head (1x1 conv with
bias and the classifier).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from binas_opt.mbconv.arch_def import BlockDef, MBConvOp
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table

__all__ = [
    "params_table", "macs_table", "make_divisible", "mid_channels", "se_channels",
    "conv_out_size",
]


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None,
                   round_limit: float = 0.9) -> int:
    """Round ``v`` to a multiple of ``divisor``, never more than 10% down (timm's rule)."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return int(new_v)


def mid_channels(in_chs: int, expansion: float) -> int:
    """Expanded channels of an inverted residual: ``make_divisible(in_chs * expansion)``."""
    return make_divisible(in_chs * expansion)


def se_channels(mid_chs: int, se_ratio: float) -> int:
    """Reduced channels of squeeze-excite on ``mid_chs`` channels (timm's ``round_channels``)."""
    return make_divisible(mid_chs * se_ratio, 8)


def conv_out_size(size: int, stride: int) -> int:
    """Spatial size after a conv with odd kernel, padding ``k // 2`` and ``stride``."""
    return (int(size) - 1) // int(stride) + 1


@dataclass(frozen=True)
class _Count:
    params: int
    macs: int


def _se(chs: int, ratio: float) -> _Count:
    if not ratio:
        return _Count(0, 0)
    rd = se_channels(chs, ratio)
    return _Count(2 * chs * rd + rd + chs, 2 * chs * rd)


def _ir(c_in: int, c_out: int, h_in: int, stride: int, op: MBConvOp) -> _Count:
    mid = mid_channels(c_in, op.expansion)
    h_out = conv_out_size(h_in, stride)
    k2 = op.kernel * op.kernel
    se = _se(mid, op.se_ratio)
    params = c_in * mid + 2 * mid + k2 * mid + 2 * mid + se.params + mid * c_out + 2 * c_out
    macs = h_in * h_in * c_in * mid + h_out * h_out * (k2 * mid + mid * c_out) + se.macs
    return _Count(params, macs)


def _fixed_block(bd: BlockDef, c_in: int, h_in: int) -> _Count:
    if bd.repeat != 1:
        raise ValueError(f"block {bd.format()!r}: only repeat 1 is supported")
    h_out = conv_out_size(h_in, bd.stride)
    k2 = bd.kernel * bd.kernel
    c = bd.channels
    if bd.kind == "ir":
        return _ir(c_in, c, h_in, bd.stride, bd.op)
    if bd.kind == "ds":
        se = _se(c_in, bd.se_ratio)
        params = c_in * k2 + 2 * c_in + se.params + c_in * c + 2 * c
        return _Count(params, h_out * h_out * (c_in * k2 + c_in * c) + se.macs)
    if bd.kind == "cn":
        return _Count(c_in * c * k2 + 2 * c, h_out * h_out * c_in * c * k2)
    raise ValueError(f"block {bd.format()!r}: kind {bd.kind!r} is not one of 'ds', 'ir', 'cn'")


@dataclass(frozen=True)
class _Counts:
    const: _Count
    op_params: np.ndarray
    op_macs: np.ndarray


def _require(space: SearchSpace, what: str) -> None:
    if not isinstance(space, SearchSpace):
        raise TypeError(f"{what}: space must be a SearchSpace, got {type(space).__name__}")
    if space.fixed is None:
        raise ValueError(f"{what}: the space has no FixedPart (stem/head); use a MobileNetV3-"
                         "style space such as SearchSpace.mobilenet_v3()")
    for s, st in enumerate(space.stages):
        if st.channels is None:
            raise ValueError(f"{what}: stage {space.stage_name(s)} has no channels")


def _counts(space: SearchSpace, what: str, input_size, num_classes, in_channels) -> _Counts:
    _require(space, what)
    fx = space.fixed
    h = int(fx.input_size if input_size is None else input_size)
    ncls = int(fx.num_classes if num_classes is None else num_classes)
    c_img = int(fx.in_channels if in_channels is None else in_channels)
    if h < 1 or ncls < 1 or c_img < 1:
        raise ValueError(f"{what}: input_size={h}, num_classes={ncls} and in_channels={c_img} "
                         "must be >= 1")
    # stem: 3x3 conv, BN
    h = conv_out_size(h, fx.stem_stride)
    const_p = c_img * fx.stem_channels * 9 + 2 * fx.stem_channels
    const_m = h * h * c_img * fx.stem_channels * 9
    c = fx.stem_channels
    for txt in fx.prefix:
        bd = BlockDef.parse(txt)
        cnt = _fixed_block(bd, c, h)
        const_p, const_m = const_p + cnt.params, const_m + cnt.macs
        c, h = bd.channels, conv_out_size(h, bd.stride)
    op_p, op_m = np.zeros(space.n_alpha, dtype=np.int64), np.zeros(space.n_alpha, dtype=np.int64)
    for s, st in enumerate(space.stages):
        for b in range(st.max_depth):
            stride = st.stride if b == 0 else 1
            off = int(space.index.alpha_offset[s, b])
            for o, label in enumerate(st.ops[b]):
                try:
                    op = MBConvOp.from_label(label)
                except ValueError as exc:
                    raise ValueError(f"{what}: {space.stage_name(s)} block {b}: {exc}") from None
                cnt = _ir(c, st.channels, h, stride, op)
                op_p[off + o], op_m[off + o] = cnt.params, cnt.macs
            if b == 0:
                c, h = st.channels, conv_out_size(h, stride)
    for txt in fx.suffix:
        bd = BlockDef.parse(txt)
        cnt = _fixed_block(bd, c, h)
        const_p, const_m = const_p + cnt.params, const_m + cnt.macs
        c, h = bd.channels, conv_out_size(h, bd.stride)
    # head: pool, 1x1 conv with bias, classifier with bias
    f = fx.head_features
    const_p += c * f + f + f * ncls + ncls
    const_m += c * f + f * ncls
    return _Counts(_Count(const_p, const_m), op_p, op_m)


def params_table(space: SearchSpace, *, num_classes: int | None = None,
                 in_channels: int | None = None) -> Table:
    """Exact parameter count of every architecture of ``space`` as an additive :class:`Table`.

    ``num_classes`` and ``in_channels`` override ``space.fixed`` (as they do for
    :class:`~binas_opt.models.supernet.Supernet`).  Unit ``"params"``.
    """
    cnt = _counts(space, "params_table", None, num_classes, in_channels)
    return Table(space, const=float(cnt.const.params), op=cnt.op_params.astype(float),
                 name="params", unit="params")


def macs_table(space: SearchSpace, *, input_size: int | None = None,
               num_classes: int | None = None, in_channels: int | None = None) -> Table:
    """Exact multiply-accumulates of one image (batch 1) as an additive :class:`Table`.

    ``input_size`` defaults to ``space.fixed.input_size``.  Unit ``"MACs"``.
    """
    cnt = _counts(space, "macs_table", input_size, num_classes, in_channels)
    return Table(space, const=float(cnt.const.macs), op=cnt.op_macs.astype(float),
                 name="macs", unit="MACs")
