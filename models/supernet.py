"""One-shot supernet for MobileNetV3-style search spaces (HardCoRe-NAS / BINAS weight sharing).

Every searchable block is an :class:`ElasticInvertedResidual` that holds all op choices of its
label list (``k{kernel}_e{expansion}[_se{ratio}]``) with shared weights:

* the 1x1 expansion conv and its BatchNorm are held at the widest expansion; a narrower op uses
  the first ``mid = make_divisible(in_chs * e)`` channels (slicing, which is what the authors'
  channel mask computes, without the wasted work);
* every kernel size has its own depthwise weights and its own BatchNorm (privatised as in the
  authors' ``InvertedResidualElastic``);
* squeeze-excite is switched on or off; its weights are held at the widest width and sliced to
  ``rd = make_divisible(mid * ratio, 8)`` reduced channels for narrower ops;
* the projection conv is shared; the BatchNorm after it is privatised per
  (expansion, squeeze-excite) pair, as in the authors' code.

Paths are sampled once per forward (``"batch"``) or per sample (``"sample"``: the batch is split
by op per block, so each sample runs its own network), or fixed with :meth:`Supernet.set_arch`.
:func:`recalibrate_bn` resets and re-estimates the BatchNorm statistics of a fixed path; without
it, accuracies read from a supernet are meaningless.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from binas_opt.mbconv.arch_def import MBConvOp
from binas_opt.model.architecture import Architecture
from binas_opt.model.choices import Choice
from binas_opt.model.space import SearchSpace

from .blocks import (
    ConvBnAct,
    Head,
    InvertedResidual,
    SqueezeExcite,
    chain_blocks,
    mid_channels,
    se_channels,
)

__all__ = ["Supernet", "ElasticInvertedResidual", "recalibrate_bn", "Sampling"]

logger = logging.getLogger("binas_opt")


class Sampling(Choice):
    """How a supernet without a fixed architecture draws its random paths."""

    BATCH = "batch"    # one uniform path for the whole batch
    SAMPLE = "sample"  # one uniform path per sample (the batch is split by op per block)


def _act(name: str, x: torch.Tensor) -> torch.Tensor:
    return F.relu(x) if name == "relu" else F.hardswish(x)


def _sliced_bn(bn: nn.BatchNorm2d, x: torch.Tensor) -> torch.Tensor:
    """``bn`` applied to the first ``x.shape[1]`` channels (same running-stat semantics)."""
    c = x.shape[1]
    if bn.training and x.numel() == c:
        # one value per channel (a single sample at 1x1 in a per-sample group): batch
        # statistics are undefined, normalise with the running statistics instead
        return F.batch_norm(x, bn.running_mean[:c], bn.running_var[:c], bn.weight[:c],
                            bn.bias[:c], False, 0.0, bn.eps)
    if c == bn.num_features:
        return bn(x)
    eaf = 0.0
    if bn.training and bn.track_running_stats:
        bn.num_batches_tracked.add_(1)
        eaf = 1.0 / float(bn.num_batches_tracked) if bn.momentum is None else bn.momentum
    use_batch = bn.training or bn.running_mean is None
    rm = bn.running_mean[:c] if bn.running_mean is not None else None
    rv = bn.running_var[:c] if bn.running_var is not None else None
    return F.batch_norm(x, rm, rv, bn.weight[:c], bn.bias[:c], use_batch, eaf, bn.eps)


def _copy_bn(dst: nn.BatchNorm2d, src: nn.BatchNorm2d) -> None:
    c = dst.num_features
    with torch.no_grad():
        dst.weight.copy_(src.weight[:c])
        dst.bias.copy_(src.bias[:c])
        dst.running_mean.copy_(src.running_mean[:c])
        dst.running_var.copy_(src.running_var[:c])
        dst.num_batches_tracked.copy_(src.num_batches_tracked)


@dataclass(frozen=True)
class _OpSpec:
    op: MBConvOp
    mid: int
    kernel_index: int
    se_index: int  # -1: no squeeze-excite
    rd: int
    bn3_index: int


class ElasticInvertedResidual(nn.Module):
    """All op choices of one searchable block with shared weights (see the module docstring).

    Parameters
    ----------
    in_chs, out_chs, stride : int
    act : str
        ``"relu"`` or ``"hswish"``.
    labels : sequence of str
        MBConv op labels of the block, in the space's order (op index = position).
    where : str
        Name used in error messages.
    """

    def __init__(self, in_chs: int, out_chs: int, stride: int, act: str,
                 labels: Sequence[str], where: str = "block"):
        super().__init__()
        ops = []
        for lab in labels:
            try:
                ops.append(MBConvOp.from_label(lab))
            except ValueError as exc:
                raise ValueError(f"Supernet: {where}: {exc}") from None
        for op in ops:
            if op.kernel % 2 == 0:
                raise ValueError(f"Supernet: {where}: op {op.label!r} has an even kernel")
        self.in_chs, self.out_chs, self.stride, self.act = in_chs, out_chs, stride, act
        self.has_skip = stride == 1 and in_chs == out_chs
        kernels = sorted({op.kernel for op in ops})
        ses = sorted({op.se_ratio for op in ops if op.se_ratio})
        pairs = list(dict.fromkeys((op.expansion, op.se_ratio) for op in ops))
        mids = [mid_channels(in_chs, op.expansion) for op in ops]
        self.max_mid = max_mid = max(mids)
        self.conv_pw = nn.Conv2d(in_chs, max_mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(max_mid)
        self.conv_dw = nn.ModuleList(
            nn.Conv2d(max_mid, max_mid, k, stride, k // 2, groups=max_mid, bias=False)
            for k in kernels
        )
        self.bn2 = nn.ModuleList(nn.BatchNorm2d(max_mid) for _ in kernels)
        self.se = nn.ModuleList(SqueezeExcite(max_mid, se_channels(max_mid, r)) for r in ses)
        self.conv_pwl = nn.Conv2d(max_mid, out_chs, 1, bias=False)
        self.bn3 = nn.ModuleList(nn.BatchNorm2d(out_chs) for _ in pairs)
        self.specs = tuple(
            _OpSpec(op, mid, kernels.index(op.kernel),
                    ses.index(op.se_ratio) if op.se_ratio else -1,
                    se_channels(mid, op.se_ratio) if op.se_ratio else 0,
                    pairs.index((op.expansion, op.se_ratio)))
            for op, mid in zip(ops, mids, strict=True)
        )

    @property
    def num_ops(self) -> int:
        return len(self.specs)

    def forward_op(self, x: torch.Tensor, op_index: int) -> torch.Tensor:
        """The block with op ``op_index`` applied to ``x``."""
        sp = self.specs[op_index]
        mid, k = sp.mid, sp.op.kernel
        y = F.conv2d(x, self.conv_pw.weight[:mid])
        y = _act(self.act, _sliced_bn(self.bn1, y))
        w = self.conv_dw[sp.kernel_index].weight[:mid]
        y = F.conv2d(y, w, None, self.stride, k // 2, 1, mid)
        y = _act(self.act, _sliced_bn(self.bn2[sp.kernel_index], y))
        if sp.se_index >= 0:
            se, rd = self.se[sp.se_index], sp.rd
            s = y.mean((2, 3), keepdim=True)
            s = F.relu(F.conv2d(s, se.conv_reduce.weight[:rd, :mid], se.conv_reduce.bias[:rd]))
            s = F.conv2d(s, se.conv_expand.weight[:mid, :rd], se.conv_expand.bias[:mid])
            y = y * F.hardsigmoid(s)
        y = _sliced_bn(self.bn3[sp.bn3_index], F.conv2d(y, self.conv_pwl.weight[:, :mid]))
        return y + x if self.has_skip else y

    def forward(self, x: torch.Tensor, op_index: int = 0) -> torch.Tensor:
        return self.forward_op(x, op_index)

    def export(self, op_index: int, dst: InvertedResidual | None = None) -> InvertedResidual:
        """A plain :class:`InvertedResidual` with this block's weights for op ``op_index``."""
        sp = self.specs[op_index]
        if dst is None:
            dst = InvertedResidual(self.in_chs, self.out_chs, sp.op.kernel, self.stride,
                                   sp.op.expansion, self.act, sp.op.se_ratio)
        mid, rd = sp.mid, sp.rd
        if dst.conv_pw.out_channels != mid or dst.conv_dw.kernel_size[0] != sp.op.kernel:
            raise ValueError(f"export: target block does not have the shape of op {sp.op.label!r}")
        with torch.no_grad():
            dst.conv_pw.weight.copy_(self.conv_pw.weight[:mid])
            _copy_bn(dst.bn1, self.bn1)
            dst.conv_dw.weight.copy_(self.conv_dw[sp.kernel_index].weight[:mid])
            _copy_bn(dst.bn2, self.bn2[sp.kernel_index])
            if sp.se_index >= 0:
                se = self.se[sp.se_index]
                dst.se.conv_reduce.weight.copy_(se.conv_reduce.weight[:rd, :mid])
                dst.se.conv_reduce.bias.copy_(se.conv_reduce.bias[:rd])
                dst.se.conv_expand.weight.copy_(se.conv_expand.weight[:mid, :rd])
                dst.se.conv_expand.bias.copy_(se.conv_expand.bias[:mid])
            dst.conv_pwl.weight.copy_(self.conv_pwl.weight[:, :mid])
            _copy_bn(dst.bn3, self.bn3[sp.bn3_index])
        return dst


class Supernet(nn.Module):
    """Weight-sharing supernet of a MobileNetV3-style :class:`~binas_opt.SearchSpace`.

    Parameters
    ----------
    space : SearchSpace
        Stages with ``channels``, ``stride`` and ``activation`` and MBConv op labels, and a
        :class:`~binas_opt.FixedPart` (stem, prefix/suffix blocks, head).
    num_classes, in_channels : int, optional
        Override ``space.fixed``.
    dropout : float
        Dropout before the classifier.

    Notes
    -----
    With no architecture set, every forward samples a path: one per batch (``"batch"``, the
    default) or one per sample (``"sample"``), from the generator given to
    :meth:`set_sampling` (seed 0 by default).  The last sampled architecture is kept in
    ``last_arch`` (batch mode) or ``last_sample`` (``(depths, ops)`` arrays, sample mode).
    """

    def __init__(self, space: SearchSpace, *, num_classes=None, in_channels=None,
                 dropout: float = 0.0):
        super().__init__()
        if not isinstance(space, SearchSpace):
            raise TypeError(f"Supernet: space must be a SearchSpace, got {type(space).__name__}")
        if space.fixed is None:
            raise ValueError("Supernet: space has no FixedPart (stem/head); give "
                             "SearchSpace(stages, fixed=FixedPart(...))")
        for s, st in enumerate(space.stages):
            if st.channels is None:
                raise ValueError(f"Supernet: stage {space.stage_name(s)} has no channels")
        fx = space.fixed
        self.space = space
        self.num_classes = fx.num_classes if num_classes is None else int(num_classes)
        self.in_channels = fx.in_channels if in_channels is None else int(in_channels)
        self.dropout = float(dropout)
        if self.num_classes < 1 or self.in_channels < 1:
            raise ValueError(f"Supernet: num_classes={self.num_classes} and in_channels="
                             f"{self.in_channels} must be >= 1")
        self.stem = ConvBnAct(self.in_channels, fx.stem_channels, 3, fx.stem_stride, "hswish")
        prefix, c = chain_blocks(fx.prefix, fx.stem_channels)
        self.prefix = nn.ModuleList(prefix)
        stages = []
        for s, st in enumerate(space.stages):
            blocks = []
            for b in range(st.max_depth):
                blocks.append(ElasticInvertedResidual(
                    c, st.channels, st.stride if b == 0 else 1, st.activation, st.ops[b],
                    where=f"{space.stage_name(s)} block {b}"))
                c = st.channels
            stages.append(nn.ModuleList(blocks))
        self.stages = nn.ModuleList(stages)
        suffix, c = chain_blocks(fx.suffix, c)
        self.suffix = nn.ModuleList(suffix)
        self.head = Head(c, fx.head_features, self.num_classes, self.dropout)
        self._arch: Architecture | None = None
        self._mode = Sampling.BATCH
        self._rng = np.random.default_rng(0)
        self.last_arch: Architecture | None = None
        self.last_sample: tuple[np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------------ path control
    @property
    def arch(self) -> Architecture | None:
        """The fixed architecture, or ``None`` when paths are sampled."""
        return self._arch

    @property
    def sampling(self) -> Sampling:
        """How paths are drawn when no architecture is fixed."""
        return self._mode

    def set_arch(self, arch: Architecture | None) -> None:
        """Fix the path to ``arch`` (validated against the space); ``None`` returns to sampling."""
        if arch is not None:
            self.space.validate(arch, "Supernet.set_arch: arch")
        self._arch = arch

    def set_sampling(self, mode: str | Sampling,
                     generator: np.random.Generator | int | None = None) -> None:
        """Sample one path per forward (``"batch"``) or one per sample (``"sample"``).

        ``generator`` (a numpy Generator or a seed) replaces the sampling generator.
        """
        self._mode = Sampling.parse(mode, "set_sampling: mode")
        if generator is not None:
            self._rng = np.random.default_rng(generator)

    def sample_arch(self, generator: np.random.Generator) -> Architecture:
        """A uniform random architecture (depth uniform per stage, op uniform per block)."""
        return self.space.sample(generator)

    def _extreme_arch(self, pick) -> Architecture:
        depths, ops = [], []
        for s, st in enumerate(self.space.stages):
            blocks = self.stages[s]
            depths.append(pick(st.depths))
            row = []
            for b in range(st.max_depth):
                keys = [(sp.mid, sp.op.kernel, sp.op.se_ratio) for sp in blocks[b].specs]
                row.append(keys.index(pick(keys)))
            ops.append(tuple(row))
        return Architecture(tuple(depths), tuple(ops)).canonical()

    def heaviest_arch(self) -> Architecture:
        """Deepest stages, widest expansion, largest kernel, squeeze-excite on."""
        return self._extreme_arch(max)

    def smallest_arch(self) -> Architecture:
        """Shallowest stages, narrowest expansion, smallest kernel, no squeeze-excite."""
        return self._extreme_arch(min)

    # ------------------------------------------------------------------ forward
    def _fixed_pre(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for m in self.prefix:
            x = m(x)
        return x

    def _fixed_post(self, x: torch.Tensor) -> torch.Tensor:
        for m in self.suffix:
            x = m(x)
        return self.head(x)

    def forward_arch(self, x: torch.Tensor, arch: Architecture) -> torch.Tensor:
        """Forward along the path of ``arch`` (not validated: use :meth:`set_arch`)."""
        x = self._fixed_pre(x)
        for s, blocks in enumerate(self.stages):
            for b in range(arch.depths[s]):
                x = blocks[b].forward_op(x, arch.ops[s][b])
        return self._fixed_post(x)

    def _sample_arrays(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        return self.space.encoding.sample(self._rng, n, inactive="random")

    def forward_per_sample(self, x: torch.Tensor, depths: np.ndarray,
                           ops: np.ndarray) -> torch.Tensor:
        """Forward where sample ``i`` follows ``depths[i]`` and flat op indices ``ops[i]``."""
        n = x.shape[0]
        depths = np.asarray(depths).reshape(n, self.space.n_stages)
        ops = np.asarray(ops).reshape(n, -1)
        x = self._fixed_pre(x)
        col = 0
        for s, blocks in enumerate(self.stages):
            for b, blk in enumerate(blocks):
                active = depths[:, s] > b
                op_col = ops[:, col]
                col += 1
                if not active.any():
                    continue
                groups = [(np.flatnonzero(active & (op_col == o)), o)
                          for o in np.unique(op_col[active])]
                if len(groups) == 1 and active.all():
                    x = blk.forward_op(x, int(groups[0][1]))
                    continue
                parts = [(idx, blk.forward_op(x[torch.as_tensor(idx, device=x.device)], int(o)))
                         for idx, o in groups]
                rest = np.flatnonzero(~active)
                if rest.size:
                    parts.append((rest, x[torch.as_tensor(rest, device=x.device)]))
                y0 = parts[0][1]
                out = y0.new_zeros((n, *y0.shape[1:]))
                for idx, y in parts:
                    out = out.index_copy(0, torch.as_tensor(idx, device=x.device), y)
                x = out
        return self._fixed_post(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._arch is not None:
            return self.forward_arch(x, self._arch)
        if self._mode is Sampling.BATCH:
            arch = self.sample_arch(self._rng)
            self.last_arch = arch
            return self.forward_arch(x, arch)
        depths, ops = self._sample_arrays(x.shape[0])
        self.last_sample = (depths, ops)
        return self.forward_per_sample(x, depths, ops)

    # ------------------------------------------------------------------ export
    def export_weights(self, arch: Architecture, child: nn.Module) -> nn.Module:
        """Copy the weights of ``arch``'s path into ``child`` (a :class:`ChildNet` of ``arch``)."""
        self.space.validate(arch, "export_weights: arch")
        child.stem.load_state_dict(self.stem.state_dict())
        blocks = list(child.blocks)
        n_pre, n_suf = len(self.prefix), len(self.suffix)
        n_search = sum(arch.depths)
        if len(blocks) != n_pre + n_search + n_suf:
            raise ValueError(f"export_weights: the child has {len(blocks)} blocks, arch needs "
                             f"{n_pre + n_search + n_suf}")
        for m, src in zip(blocks[:n_pre], self.prefix, strict=True):
            m.load_state_dict(src.state_dict())
        i = n_pre
        for s, stage in enumerate(self.stages):
            for b in range(arch.depths[s]):
                stage[b].export(arch.ops[s][b], blocks[i])
                i += 1
        for m, src in zip(blocks[i:], self.suffix, strict=True):
            m.load_state_dict(src.state_dict())
        child.head.load_state_dict(self.head.state_dict())
        return child

    def extra_repr(self) -> str:
        return f"space={self.space.name!r}, sampling={self._mode.value!r}"


def _batches(loader: Iterable, n_batches: int):
    for i, batch in enumerate(loader):
        if i >= n_batches:
            return
        yield batch[0] if isinstance(batch, list | tuple) else batch


def recalibrate_bn(model: nn.Module, arch: Architecture | None, loader: Iterable,
                   n_batches: int) -> None:
    """Re-estimate BatchNorm statistics of ``model`` along ``arch``'s path.

    Resets the running statistics of every BatchNorm layer, sets ``momentum=None`` (cumulative
    average over the batches), fixes the path with ``model.set_arch(arch)`` (when ``arch`` is
    given and the model has ``set_arch``; a plain child network needs ``arch=None``), forwards
    ``n_batches`` batches of ``loader`` in train mode without gradients, restores the momenta
    and leaves the model in eval mode with the path fixed.  BatchNorm layers not on the path
    get their previous statistics back; the unused channels of a shared (sliced) layer stay
    reset, so recalibrate again before evaluating another architecture.

    Parameters
    ----------
    model : Supernet or nn.Module
    arch : Architecture or None
    loader : iterable of tensors or of ``(inputs, targets, ...)`` tuples
    n_batches : int
        Number of batches, >= 1.
    """
    if isinstance(n_batches, bool) or int(n_batches) != n_batches or n_batches < 1:
        raise ValueError(f"recalibrate_bn: n_batches must be a positive integer, got {n_batches!r}")
    if arch is not None:
        if not hasattr(model, "set_arch"):
            raise TypeError("recalibrate_bn: arch given but the model has no set_arch(); pass "
                            "arch=None for a stand-alone network")
        model.set_arch(arch)
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.momentum, {k: v.clone() for k, v in m.state_dict().items()}) for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    device = next(model.parameters()).device
    model.train()
    seen = 0
    try:
        with torch.no_grad():
            for x in _batches(loader, int(n_batches)):
                model(x.to(device))
                seen += 1
    finally:
        for m, (mom, state) in zip(bns, saved, strict=True):
            m.momentum = mom
            if m.num_batches_tracked is not None and int(m.num_batches_tracked) == 0:
                m.load_state_dict(state)  # not on the path: keep its statistics
        model.eval()
    if seen == 0:
        raise ValueError("recalibrate_bn: the loader gave no batches")
    if seen < n_batches:
        logger.warning("recalibrate_bn: the loader gave %d batches, fewer than n_batches=%d",
                       seen, n_batches)
