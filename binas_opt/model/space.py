"""Search spaces: stages of blocks with a choice of operation per block and a depth per stage.

The one-hot encoding follows the BINAS paper: ``alpha`` concatenates, over (stage, block, op), a
one-hot vector for *every* block (active or not); ``beta`` concatenates, over (stage, depth
option), a one-hot vector per stage.  The activity of block ``b`` (0-based) of stage ``s`` is

.. math:: \\pi_{s,b}(\\beta) = \\sum_{d \\in D_s,\\ d > b} \\beta_{s,d}.

Every index map of the encoding lives in :class:`~binas_opt.model.encoding.Encoding`
(:attr:`SearchSpace.encoding`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from binas_opt.io.serialization import reject_unknown_keys, require
from binas_opt.model.architecture import Architecture
from binas_opt.model.checks import as_int, as_label
from binas_opt.model.encoding import Encoding, EncodingIndex

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["format_count", "Stage", "FixedPart", "SearchSpace", "EncodingIndex"]


def _as_label_tuple(labels: Sequence[Any], where: str) -> tuple[str, ...]:
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise TypeError(f"{where}: expected a sequence of op labels, got {labels!r}")
    out = tuple(as_label(x, f"{where}[{i}]") for i, x in enumerate(labels))
    if not out:
        raise ValueError(f"{where}: the list of op choices is empty")
    if len(set(out)) != len(out):
        dup = sorted({x for x in out if out.count(x) > 1})
        raise ValueError(f"{where}: duplicate op labels {dup}")
    return out


_STAGE_KEYS = ("depths", "ops", "name", "channels", "stride", "activation")


def format_count(n: int) -> str:
    """A count of architectures in 4 significant digits, e.g. ``'5.912e+21'``; exact for any size
    (a float format overflows above about 1e308, and spaces reach 1e538)."""
    n = int(n)
    if abs(n) < 10**15:
        return f"{n:.4g}"
    digits = str(abs(n))
    mantissa = float(f"{digits[0]}.{digits[1:5]}")
    return f"{'-' if n < 0 else ''}{mantissa:.4g}e+{len(digits) - 1:02d}"


@dataclass(frozen=True, init=False)
class Stage:
    """One stage of a search space.

    Parameters
    ----------
    depths : sequence of int
        Allowed numbers of active blocks, e.g. ``(2, 3, 4)``; ``max_depth = max(depths)``.
        Integers (an integral float such as ``2.0`` is read as ``2``; ``2.7`` is refused, not
        truncated).
    ops : sequence of str, or sequence of sequences of str
        Op labels shared by every block, or one list of labels per block (``max_depth`` lists).
        A label is a non-empty string (an int is read as its decimal string); None, bools
        and floats are refused.
    name : str, optional
        A name for messages and plots.
    channels, stride, activation
        Optional MobileNetV3 metadata (output channels >= 1, stride >= 1 of the first block,
        ``"relu"`` or ``"hswish"``) used by architecture strings, analytic resource tables and
        the PyTorch side.
    """

    depths: tuple[int, ...]
    ops: tuple[tuple[str, ...], ...]
    name: str | None = None
    channels: int | None = None
    stride: int = 1
    activation: str = "hswish"

    def __init__(self, depths, ops, name=None, channels=None, stride=1, activation="hswish"):
        where = f"Stage {name!r}" if name else "Stage"
        if isinstance(depths, (str, bytes)) or not hasattr(depths, "__iter__"):
            raise TypeError(f"{where}: depths must be a sequence of ints, got {depths!r}")
        d = tuple(as_int(x, f"{where}: depths[{i}]") for i, x in enumerate(depths))
        if not d:
            raise ValueError(f"{where}: depths is empty")
        if any(x < 1 for x in d):
            raise ValueError(f"{where}: depths must be >= 1, got {d}")
        if len(set(d)) != len(d):
            raise ValueError(f"{where}: depths has duplicates: {d}")
        d = tuple(sorted(d))
        max_depth = d[-1]
        if isinstance(ops, Sequence) and ops and all(
            isinstance(o, Sequence) and not isinstance(o, str) for o in ops
        ):
            if len(ops) != max_depth:
                raise ValueError(
                    f"{where}: ops gives {len(ops)} per-block lists but max(depths) = {max_depth}"
                )
            per_block = tuple(
                _as_label_tuple(o, f"{where} block {b}") for b, o in enumerate(ops)
            )
        else:
            shared = _as_label_tuple(ops, f"{where} ops")
            per_block = (shared,) * max_depth
        if activation not in ("relu", "hswish"):
            raise ValueError(f"{where}: activation must be 'relu' or 'hswish', got {activation!r}")
        object.__setattr__(self, "depths", d)
        object.__setattr__(self, "ops", per_block)
        object.__setattr__(self, "name", name)
        channels = None if channels is None else as_int(channels, f"{where}: channels", ge=1)
        object.__setattr__(self, "channels", channels)
        object.__setattr__(self, "stride", as_int(stride, f"{where}: stride", ge=1))
        object.__setattr__(self, "activation", activation)

    @property
    def max_depth(self) -> int:
        return self.depths[-1]

    @property
    def min_depth(self) -> int:
        return self.depths[0]

    @property
    def num_ops(self) -> tuple[int, ...]:
        """Number of op choices of every block."""
        return tuple(len(o) for o in self.ops)

    @property
    def num_architectures(self) -> int:
        return sum(math.prod(self.num_ops[:d]) for d in self.depths)

    def to_dict(self) -> dict[str, Any]:
        shared = all(o == self.ops[0] for o in self.ops)
        return {
            "depths": list(self.depths),
            "ops": list(self.ops[0]) if shared else [list(o) for o in self.ops],
            "name": self.name,
            "channels": self.channels,
            "stride": self.stride,
            "activation": self.activation,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Stage:
        where = "Stage.from_dict"
        reject_unknown_keys(d, _STAGE_KEYS, where)
        return cls(require(d, "depths", where, "a list of ints"),
                   require(d, "ops", where, "a list of op labels (or one list per block)"),
                   **{k: d[k] for k in _STAGE_KEYS[2:] if k in d})


@dataclass(frozen=True)
class FixedPart:
    """The non-searchable part of a MobileNetV3-style network.

    ``prefix`` and ``suffix`` are block strings in timm's ``arch_def`` grammar (the first
    depthwise block and the final 1x1 conv); the stem conv and the classifier head are described
    by the remaining fields.
    """

    in_channels: int = 3
    stem_channels: int = 16
    stem_stride: int = 2
    prefix: tuple[str, ...] = ("ds_r1_k3_s1_e1_c16_nre",)
    suffix: tuple[str, ...] = ("cn_r1_k1_s1_c960",)
    head_features: int = 1280
    num_classes: int = 1000
    input_size: int = 224

    def to_dict(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "stem_channels": self.stem_channels,
            "stem_stride": self.stem_stride,
            "prefix": list(self.prefix),
            "suffix": list(self.suffix),
            "head_features": self.head_features,
            "num_classes": self.num_classes,
            "input_size": self.input_size,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FixedPart:
        reject_unknown_keys(d, [f.name for f in dataclasses.fields(cls)], "FixedPart.from_dict")
        d = dict(d)
        d["prefix"] = tuple(d.get("prefix", ()))
        d["suffix"] = tuple(d.get("suffix", ()))
        return cls(**d)


@dataclass(frozen=True, eq=False)
class SearchSpace:
    """A sequence of stages; see the module docstring for the encoding.

    Parameters
    ----------
    stages : sequence of Stage
    fixed : FixedPart, optional
        The fixed stem/head of a MobileNetV3-style network (needed for arch strings and models).
    name : str, optional
    """

    stages: tuple[Stage, ...]
    fixed: FixedPart | None = None
    name: str | None = None

    def __init__(self, stages: Sequence[Stage], fixed: FixedPart | None = None, name=None):
        stages = tuple(stages)
        if not stages:
            raise ValueError("SearchSpace: stages is empty")
        for i, s in enumerate(stages):
            if not isinstance(s, Stage):
                raise TypeError(f"SearchSpace: stages[{i}] is {type(s).__name__}, expected Stage")
        object.__setattr__(self, "stages", stages)
        object.__setattr__(self, "fixed", fixed)
        object.__setattr__(self, "name", name)

    # ------------------------------------------------------------------ equality
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SearchSpace):
            return NotImplemented
        return self.stages == other.stages and self.fixed == other.fixed

    def __hash__(self) -> int:
        return hash((self.stages, self.fixed))

    # ------------------------------------------------------------------ sizes
    @property
    def n_stages(self) -> int:
        return len(self.stages)

    @property
    def n_alpha(self) -> int:
        return self.encoding.n_alpha

    @property
    def n_beta(self) -> int:
        return self.encoding.n_beta

    @property
    def n_vars(self) -> int:
        """Length of ``x = (alpha, beta)``."""
        return self.n_alpha + self.n_beta

    @property
    def num_architectures(self) -> int:
        """Number of distinct (canonical) architectures."""
        return math.prod(s.num_architectures for s in self.stages)

    def stage_name(self, s: int) -> str:
        return self.stages[s].name or f"stage{s}"

    @cached_property
    def encoding(self) -> Encoding:
        """The space's :class:`~binas_opt.model.encoding.Encoding` (built once): every index
        map, one-hot row, decoding and random draw of the space goes through it."""
        return Encoding.from_stages(self.stages)

    @property
    def index(self) -> Encoding:
        """Former name of :attr:`encoding` (the same object)."""
        return self.encoding

    @cached_property
    def alpha_labels(self) -> tuple[str, ...]:
        """Op label of every alpha entry."""
        return tuple(lab for st in self.stages for labels in st.ops for lab in labels)

    # ------------------------------------------------------------------ validation
    def validate(self, arch: Architecture, name: str = "architecture") -> Architecture:
        """Raise ``ValueError`` naming the offending stage/block if ``arch`` is not in the space."""
        if not isinstance(arch, Architecture):
            raise TypeError(f"{name}: expected Architecture, got {type(arch).__name__}")
        if len(arch.depths) != self.n_stages or len(arch.ops) != self.n_stages:
            raise ValueError(
                f"{name}: has {len(arch.depths)} stages, the space has {self.n_stages}"
            )
        for s, st in enumerate(self.stages):
            if arch.depths[s] not in st.depths:
                raise ValueError(
                    f"{name}: depth {arch.depths[s]} of {self.stage_name(s)} is not one of "
                    f"{st.depths}"
                )
            if len(arch.ops[s]) != st.max_depth:
                raise ValueError(
                    f"{name}: {self.stage_name(s)} has {len(arch.ops[s])} op indices, "
                    f"expected {st.max_depth} (one per block, inactive blocks included)"
                )
            for b, (o, n) in enumerate(zip(arch.ops[s], st.num_ops, strict=True)):
                if not 0 <= o < n:
                    raise ValueError(
                        f"{name}: op index {o} of {self.stage_name(s)} block {b} is outside "
                        f"[0, {n})"
                    )
        return arch

    def canonical(self, arch: Architecture) -> Architecture:
        return arch.canonical()

    # ------------------------------------------------------------------ encoding
    def encode(self, arch: Architecture) -> tuple[np.ndarray, np.ndarray]:
        """One-hot ``(alpha, beta)`` in the paper's layout."""
        self.validate(arch)
        x = self.encode_x([arch])[0]
        return x[: self.n_alpha], x[self.n_alpha:]

    def encode_x(self, archs: Sequence[Architecture]) -> np.ndarray:
        """Dense 0/1 matrix of ``x = (alpha, beta)`` rows, one per architecture."""
        return self.encoding.one_hot(*self.encoding.to_arrays(archs))

    def indices(self, archs: Sequence[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the chosen entries of alpha (all blocks) and beta, per architecture.

        Returns
        -------
        alpha_idx : ndarray, shape (n, total_blocks)
        beta_idx : ndarray, shape (n, n_stages)
        """
        return self.encoding.indices(*self.encoding.to_arrays(archs))

    @property
    def block_stage(self) -> np.ndarray:
        """Stage of every block in the flat block order (length ``total_blocks``)."""
        return self.encoding.block_stage

    @property
    def block_position(self) -> np.ndarray:
        """0-based position of every block within its stage."""
        return self.encoding.block_position

    def indices_from_arrays(self, depths: np.ndarray, ops: np.ndarray):
        """Vectorised :meth:`indices` from a depth matrix and a flat op-index matrix."""
        return self.encoding.indices(depths, ops)

    def active_mask(self, depths: np.ndarray) -> np.ndarray:
        """Boolean matrix (n, total_blocks): block active under each depth vector."""
        return self.encoding.active_mask(depths)

    def decode(self, alpha: np.ndarray, beta: np.ndarray) -> Architecture:
        """Architecture from one-hot (or the argmax of fractional) ``alpha`` and ``beta``.

        Ties in a fractional vector go to the lowest index.
        """
        alpha = np.asarray(alpha, dtype=float).ravel()
        beta = np.asarray(beta, dtype=float).ravel()
        if alpha.shape != (self.n_alpha,):
            raise ValueError(f"decode: alpha has length {alpha.size}, expected {self.n_alpha}")
        if beta.shape != (self.n_beta,):
            raise ValueError(f"decode: beta has length {beta.size}, expected {self.n_beta}")
        if not (np.all(np.isfinite(alpha)) and np.all(np.isfinite(beta))):
            raise ValueError("decode: alpha and beta must be finite")
        return self.encoding.architecture(*self.encoding.decode(alpha, beta))

    # ------------------------------------------------------------------ sampling
    def sample(self, rng: np.random.Generator | int | None = None, n: int | None = None):
        """Uniform random architecture(s): depth uniform per stage, op uniform per block.

        Inactive blocks get op 0 (canonical).  With ``n`` returns a list of ``n`` architectures.
        Draws with :meth:`Encoding.sample <binas_opt.model.encoding.Encoding.sample>`.
        """
        archs = self.encoding.to_architectures(
            *self.encoding.sample(rng, 1 if n is None else int(n)))
        return archs[0] if n is None else archs

    def enumerate(self, limit: int = 1_000_000):
        """All canonical architectures as ``(depths, ops)`` integer matrices.

        Raises ``ValueError`` when the space has more than ``limit`` architectures.
        """
        return self.encoding.enumerate(limit)

    def architectures_from_arrays(self, depths: np.ndarray, ops: np.ndarray) -> list[Architecture]:
        """Architectures of ``(depths, ops)`` matrices."""
        return self.encoding.to_architectures(depths, ops)

    # ------------------------------------------------------------------ structure
    def graph(self) -> nx.DiGraph:
        """Directed graph stem -> blocks -> head; op choices and optionality as node data.

        Every block node carries ``stage``, ``block``, ``ops`` (labels) and ``optional`` (True if
        some allowed depth skips it).  Skip edges connect each optional block's predecessor to the
        node after the stage, so every path from ``stem`` to ``head`` is one depth choice.
        """
        import networkx as nx

        g = nx.DiGraph(name=self.name or "search space")
        g.add_node("stem", kind="fixed")
        prev = "stem"
        for s, st in enumerate(self.stages):
            exits = []
            nodes = []
            for b in range(st.max_depth):
                node = f"s{s}b{b}"
                nodes.append(node)
                g.add_node(
                    node, kind="block", stage=s, block=b, ops=list(st.ops[b]),
                    optional=b >= st.min_depth,
                )
                g.add_edge(prev if b == 0 else nodes[b - 1], node)
                if (b + 1) in st.depths:
                    exits.append(node)
            end = f"s{s}end"
            g.add_node(end, kind="join", stage=s)
            for e in exits:
                g.add_edge(e, end, depth=int(e.split("b")[-1]) + 1)
            prev = end
        g.add_node("head", kind="fixed")
        g.add_edge(prev, "head")
        return g

    # ------------------------------------------------------------------ factories
    @classmethod
    def mobilenet_v3(cls) -> SearchSpace:
        """The BINAS / HardCoRe-NAS MobileNetV3 space: 5 stages, depths {2, 3, 4}, 12 ops.

        Op index ``4 * i_expansion + 2 * i_kernel + i_se`` for expansion (3, 4, 6), kernel
        (3, 5) and squeeze-excite (off, 0.25), as in the authors' code.
        """
        from binas_opt.mbconv.arch_def import mbconv_labels

        labels = mbconv_labels(expansions=(3, 4, 6), kernels=(3, 5), se=(False, True))
        spec = [(24, 2, "relu"), (40, 2, "relu"), (80, 2, "hswish"), (112, 1, "hswish"),
                (192, 2, "hswish")]
        stages = [
            Stage((2, 3, 4), labels, name=f"c{c}", channels=c, stride=s, activation=a)
            for c, s, a in spec
        ]
        # timm's _gen_hardcorenas uses stem_size=32 (exact parameter counts need it)
        return cls(stages, fixed=FixedPart(stem_channels=32), name="mobilenet_v3")

    # ------------------------------------------------------------------ strings & io
    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": [s.to_dict() for s in self.stages],
            "fixed": None if self.fixed is None else self.fixed.to_dict(),
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SearchSpace:
        where = "SearchSpace.from_dict"
        reject_unknown_keys(d, ("stages", "fixed", "name"), where)
        stages = require(d, "stages", where, "a list of stage objects")
        if not isinstance(stages, list):
            raise ValueError(f"{where}: 'stages' must be a list of stage objects, got "
                             f"{type(stages).__name__}")
        fixed = d.get("fixed")
        return cls(
            [Stage.from_dict(s) for s in stages],
            fixed=None if fixed is None else FixedPart.from_dict(fixed),
            name=d.get("name"),
        )

    def __repr__(self) -> str:
        return (
            f"SearchSpace(name={self.name!r}, stages={self.n_stages}, n_alpha={self.n_alpha}, "
            f"n_beta={self.n_beta}, architectures={format_count(self.num_architectures)})"
        )
