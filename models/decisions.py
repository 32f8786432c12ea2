"""The decisions whose accuracy contributions are measured, and the sub-networks measuring them.

A :class:`Decision` is the base accuracy, the depth of one stage or the op of one block;
:func:`decisions` lists them in measurement order.  :func:`context_architectures` draws one
context of a decision (the values of all the other decisions, see :class:`Reference`) and
returns the sub-network of every option of the decision in that context.  Contexts are drawn
from :func:`stream_rng`, seeded by ``(seed, decision, sample)`` only, so they do not depend on
the number of data-parallel processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from binas_opt.mbconv.arch_def import MBConvOp
from binas_opt.model.architecture import Architecture
from binas_opt.model.choices import Choice
from binas_opt.model.space import SearchSpace

__all__ = ["Reference", "DecisionKind", "Decision", "decisions", "smallest_ops",
           "context_architectures"]


class Reference(Choice):
    """What the contributions are measured against."""

    UNIFORM = "uniform"    # others sampled uniformly; values centred (the default)
    SMALLEST = "smallest"  # others fixed to the smallest network (the authors' alternative)


class DecisionKind(Choice):
    """The three kinds of measured decision."""

    BASE = "base"    # the base accuracy: no decision forced
    DEPTH = "depth"  # the depth of one stage
    OP = "op"        # the op of one block


@dataclass(frozen=True)
class Decision:
    """One measured decision: the base accuracy, the depth of a stage, or the op of a block.

    ``kind`` accepts a :class:`DecisionKind` or its string.
    """

    kind: DecisionKind
    stage: int = -1
    block: int = -1
    n_options: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DecisionKind.parse(self.kind, "Decision: kind"))

    @property
    def key(self) -> str:
        """``"base"``, ``"depth/<stage>"`` or ``"op/<stage>/<block>"`` (cache and result key)."""
        if self.kind is DecisionKind.BASE:
            return "base"
        if self.kind is DecisionKind.DEPTH:
            return f"depth/{self.stage}"
        return f"op/{self.stage}/{self.block}"


def decisions(space: SearchSpace) -> list[Decision]:
    """Measurement order: base, then per stage its depth and the op of each of its blocks."""
    out = [Decision(DecisionKind.BASE)]
    for s, st in enumerate(space.stages):
        out.append(Decision(DecisionKind.DEPTH, s, -1, len(st.depths)))
        for b, n in enumerate(st.num_ops):
            out.append(Decision(DecisionKind.OP, s, b, n))
    return out


def smallest_ops(space: SearchSpace) -> np.ndarray:
    """Flat op index of the smallest op of every block (narrowest expansion, then smallest
    kernel, then no squeeze-excite; op 0 for labels that are not MBConv labels)."""
    out = []
    for st in space.stages:
        for labels in st.ops:
            try:
                keys = [(o.expansion, o.kernel, o.se_ratio)
                        for o in (MBConvOp.from_label(lab) for lab in labels)]
                out.append(keys.index(min(keys)))
            except ValueError:
                out.append(0)
    return np.asarray(out, dtype=np.int64)


def stream_rng(seed: int, *stream: int) -> np.random.Generator:
    """A generator seeded by ``seed`` and the stream ids only (same draws on every rank)."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, *[int(s) for s in stream]])


def context_architectures(space: SearchSpace, decision: Decision, reference: Reference,
                          rng: np.random.Generator, smallest: tuple[np.ndarray, np.ndarray]
                          ) -> list[Architecture]:
    """The sub-network of every option of ``decision`` in one sampled context.

    Parameters
    ----------
    space : SearchSpace
    decision : Decision
    reference : {"uniform", "smallest"}
        ``"uniform"``: the other decisions drawn uniformly from ``rng`` (and, for an op, the
        depth drawn among those that keep the block active); ``"smallest"``: the other
        decisions taken from ``smallest`` (and the shallowest depth that keeps the block
        active).
    rng : numpy.random.Generator
    smallest : (depths, ops)
        The smallest network as arrays: depth per stage, flat op per block.

    Returns
    -------
    list of Architecture
        One per option of ``decision``, in option order.
    """
    reference = Reference.parse(reference, "context_architectures: reference")
    enc = space.encoding

    def arch():
        return enc.architecture(depths, ops).canonical()

    if reference is Reference.UNIFORM:
        # depth uniform per stage and an op uniform for *every* block (inactive ones too),
        # so that forcing a larger depth activates blocks with uniformly drawn ops
        depths, ops = (a[0].copy() for a in enc.sample(rng, 1, inactive="random"))
    else:
        depths, ops = smallest[0].copy(), smallest[1].copy()
    if decision.kind is DecisionKind.BASE:
        return [arch()]
    st = space.stages[decision.stage]
    if decision.kind is DecisionKind.DEPTH:
        out = []
        for d in st.depths:
            depths[decision.stage] = d
            out.append(arch())
        return out
    active = [d for d in st.depths if d > decision.block]
    if reference is Reference.UNIFORM:
        depths[decision.stage] = active[rng.integers(len(active))]
    else:
        depths[decision.stage] = active[0]
    col = enc.stage_block_ptr[decision.stage] + decision.block
    out = []
    for o in range(decision.n_options):
        ops[col] = o
        out.append(arch())
    return out
