"""The MobileNetV3 block vocabulary and timm's ``arch_def`` string grammar.

A searchable op label is ``k{kernel}_e{expansion}`` with an optional ``_se0.25`` suffix, e.g.
``"k5_e3_se0.25"``.  A block string in timm's grammar reads
``ir_r1_k5_s2_e3_c24_nre_se0.25``: inverted residual, repeat 1, kernel 5, stride 2, expansion 3,
24 output channels, ReLU (``nre``; hard-swish otherwise), squeeze-excite with ratio 0.25.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING

from binas_opt.model.architecture import Architecture

if TYPE_CHECKING:
    from binas_opt.model.space import SearchSpace

__all__ = ["MBConvOp", "BlockDef", "mbconv_labels", "arch_to_string", "arch_from_string"]

_LABEL_RE = re.compile(r"^k(\d+)_e(\d+(?:\.\d+)?)(?:_se(\d*\.?\d+))?$")


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass(frozen=True)
class MBConvOp:
    """An inverted-residual op choice: kernel size, expansion ratio, squeeze-excite ratio."""

    kernel: int
    expansion: float
    se_ratio: float = 0.0

    @property
    def label(self) -> str:
        se = f"_se{self.se_ratio}" if self.se_ratio else ""
        return f"k{self.kernel}_e{_fmt_num(self.expansion)}{se}"

    @classmethod
    def from_label(cls, label: str) -> MBConvOp:
        m = _LABEL_RE.match(label)
        if not m:
            raise ValueError(
                f"op label {label!r} is not an MBConv label like 'k5_e3' or 'k3_e6_se0.25'"
            )
        return cls(int(m.group(1)), float(m.group(2)), float(m.group(3) or 0.0))


def mbconv_labels(expansions=(3, 4, 6), kernels=(3, 5), se=(False, True)) -> list[str]:
    """Op labels in the authors' order: index = ``4*i_e + 2*i_k + i_se`` for the defaults."""
    return [
        MBConvOp(k, e, 0.25 if s else 0.0).label for e, k, s in product(expansions, kernels, se)
    ]


@dataclass(frozen=True)
class BlockDef:
    """One block string of timm's ``arch_def`` grammar."""

    kind: str
    repeat: int = 1
    kernel: int = 3
    stride: int = 1
    expansion: float | None = None
    channels: int = 0
    relu: bool = False
    se_ratio: float = 0.0

    @classmethod
    def parse(cls, s: str) -> BlockDef:
        parts = s.split("_")
        kind, fields = parts[0], {}
        relu, se = False, 0.0
        for tok in parts[1:]:
            if tok == "nre":
                relu = True
            elif tok.startswith("se"):
                se = float(tok[2:])
            elif tok[:1] in "rksec" and re.fullmatch(r"[rksec]\d+(\.\d+)?", tok):
                fields[tok[0]] = float(tok[1:])
            else:
                raise ValueError(f"block string {s!r}: unknown token {tok!r}")
        if "c" not in fields:
            raise ValueError(f"block string {s!r}: no output channels (c...)")
        return cls(
            kind=kind,
            repeat=int(fields.get("r", 1)),
            kernel=int(fields.get("k", 3)),
            stride=int(fields.get("s", 1)),
            expansion=fields.get("e"),
            channels=int(fields["c"]),
            relu=relu,
            se_ratio=se,
        )

    def format(self) -> str:
        toks = [self.kind, f"r{self.repeat}", f"k{self.kernel}", f"s{self.stride}"]
        if self.expansion is not None:
            toks.append(f"e{_fmt_num(self.expansion)}")
        toks.append(f"c{self.channels}")
        if self.relu:
            toks.append("nre")
        if self.se_ratio:
            toks.append(f"se{self.se_ratio}")
        return "_".join(toks)

    @property
    def op(self) -> MBConvOp:
        return MBConvOp(self.kernel, self.expansion or 1.0, self.se_ratio)


def _require_mbconv(space: SearchSpace) -> None:
    if space.fixed is None or any(st.channels is None for st in space.stages):
        raise ValueError(
            "architecture strings need a MobileNetV3-style space (stages with channels and a "
            "FixedPart), e.g. SearchSpace.mobilenet_v3()"
        )


def stage_block_defs(space: SearchSpace, arch: Architecture) -> list[list[BlockDef]]:
    """The searchable blocks of ``arch`` as :class:`BlockDef` lists, one per stage."""
    _require_mbconv(space)
    space.validate(arch)
    out = []
    for s, st in enumerate(space.stages):
        blocks = []
        for b in range(arch.depths[s]):
            op = MBConvOp.from_label(st.ops[b][arch.ops[s][b]])
            blocks.append(BlockDef("ir", 1, op.kernel, st.stride if b == 0 else 1, op.expansion,
                                   st.channels, st.activation == "relu", op.se_ratio))
        out.append(blocks)
    return out


def arch_to_string(space: SearchSpace, arch: Architecture) -> str:
    """Print ``arch`` as timm's nested-list ``arch_def`` string, fixed blocks included."""
    stages = [[b.format() for b in blocks] for blocks in stage_block_defs(space, arch)]
    full = [list(space.fixed.prefix), *stages, list(space.fixed.suffix)]
    return str(full)


def arch_from_string(space: SearchSpace, text: str) -> Architecture:
    """Parse timm's nested-list ``arch_def`` string into an architecture of ``space``."""
    _require_mbconv(space)
    try:
        nested = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError) as exc:
        raise ValueError(f"not an arch_def string (a Python list of lists): {text[:80]!r}") from exc
    if not isinstance(nested, list) or not all(isinstance(x, list) for x in nested):
        raise ValueError("arch_def string must be a list of lists of block strings")
    pre, suf = len(space.fixed.prefix), len(space.fixed.suffix)
    searchable = nested[pre: len(nested) - suf] if suf else nested[pre:]
    if [x for row in nested[:pre] for x in row] != list(space.fixed.prefix) or (
        suf and [x for row in nested[len(nested) - suf:] for x in row] != list(space.fixed.suffix)
    ):
        raise ValueError(
            f"arch_def string: fixed blocks differ from the space's {space.fixed.prefix} ... "
            f"{space.fixed.suffix}"
        )
    if len(searchable) != space.n_stages:
        raise ValueError(
            f"arch_def string has {len(searchable)} searchable stages, the space has "
            f"{space.n_stages}"
        )
    depths, ops = [], []
    for s, (st, row) in enumerate(zip(space.stages, searchable, strict=True)):
        if len(row) not in st.depths:
            raise ValueError(f"stage {s}: depth {len(row)} is not one of {st.depths}")
        idx = []
        for b, blk in enumerate(row):
            bd = BlockDef.parse(blk)
            want_stride = st.stride if b == 0 else 1
            if bd.channels != st.channels or bd.stride != want_stride:
                raise ValueError(
                    f"stage {s} block {b} ({blk!r}): expected c{st.channels} s{want_stride}"
                )
            if bd.relu != (st.activation == "relu"):
                raise ValueError(f"stage {s} block {b} ({blk!r}): wrong activation")
            label = bd.op.label
            if label not in st.ops[b]:
                raise ValueError(
                    f"stage {s} block {b}: op {label!r} is not one of {list(st.ops[b])}"
                )
            idx.append(st.ops[b].index(label))
        idx += [0] * (st.max_depth - len(idx))
        depths.append(len(row))
        ops.append(tuple(idx))
    return Architecture(tuple(depths), tuple(ops))
