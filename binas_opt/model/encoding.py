r"""The encoding of a search space: one home for every index map, one-hot row, decoding and draw.

A space with stages :math:`s = 0..S-1` has ``max_depth[s]`` blocks per stage.  Blocks are
numbered in one *flat block order* (stage by stage, then by position): block ``k`` is position
``b_k`` of stage ``s_k``, and ``n_blocks = sum_s max_depth[s]``.  Block ``k`` has ``K_k`` op
choices; stage ``s`` has the allowed depths :math:`D_s` (increasing).

**Groups.**  The decision vector :math:`x = (\alpha, \beta) \in \{0, 1\}^{n_x}` is a
concatenation of contiguous *one-hot groups* :math:`G_0, \dots, G_{m-1}`,
:math:`\sum_{i \in G_g} x_i = 1`:

* one group of kind :attr:`GroupKind.BLOCK_OP` per block ``k`` (all blocks, active or not), in
  flat block order: its entries are the ops ``o = 0..K_k - 1``, at
  :math:`x_{\text{alpha\_ptr}[k] + o}`; together they form :math:`\alpha` (``n_alpha`` entries);
* then one group of kind :attr:`GroupKind.STAGE_DEPTH` per stage ``s``: its entries are the
  depths :math:`d \in D_s`, at :math:`x_{n_\alpha + \text{beta\_ptr}[s] + j}` for the ``j``-th
  allowed depth; together they form :math:`\beta` (``n_beta`` entries).

This is the BINAS paper's layout, so the authors' checkpoints can be read.

**Activity.**  Block ``k`` is active iff its stage is deeper than its position:

.. math:: \pi_k(\beta) = \sum_{d \in D_{s_k},\ d > b_k} \beta_{s_k, d} = (P\beta)_k,

with the 0/1 matrix :attr:`Encoding.activity` ``P`` of shape ``(n_blocks, n_beta)``.  The
product :math:`z_i = \alpha_i\,\pi_{k(i)}(\beta)` (op ``i`` is used in an active block) is
what makes every additive table linear; ``k(i)`` is :attr:`Encoding.block_of_alpha`.

**Arrays.**  Vectorised code handles architectures as integer matrices ``depths`` of shape
``(n, S)`` (a depth value per stage) and ``ops`` of shape ``(n, n_blocks)`` (an op index per
block, flat order, inactive blocks included).  Their one-hot positions are
``alpha_ptr[k] + ops[:, k]`` and ``n_alpha + depth_lookup[s, depths[:, s]]``; decoding takes
the argmax of every group (lowest index on ties).

**Extending.**  A later *global* choice (input resolution, width multiplier; DESIGN 2.3b) is one
more group kind appended after :math:`\beta` (:math:`x = (\alpha, \beta, \gamma)`).  Everything
written against the groups (:attr:`~Encoding.group_ptr`, :attr:`~Encoding.group_of_x`, the
one-hot rows :math:`\sum_{i \in G} x_i = 1`, argmax decoding, uniform draws per group) covers it
unchanged; its interaction with every block, :math:`\gamma_v z_{s,b,o}`, belongs to the tables
and formulations, not to the encoding.  No global choice exists yet.

Examples
--------
>>> import numpy as np, binas_opt as bo
>>> space = bo.SearchSpace([bo.Stage((1, 2), ["a", "b", "c"]), bo.Stage((1,), ["d", "e"])])
>>> enc = space.encoding
>>> enc.n_alpha, enc.n_beta, enc.n_blocks
(8, 3, 3)
>>> enc.block_of_alpha.tolist()
[0, 0, 0, 1, 1, 1, 2, 2]
>>> x = enc.one_hot(np.array([[2, 1]]), np.array([[2, 1, 1]]))
>>> x.astype(int).tolist()
[[0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 1]]
>>> [a.tolist() for a in enc.decode_x(x)]
[[[2, 1]], [[2, 1, 1]]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from binas_opt.model.architecture import Architecture

if TYPE_CHECKING:
    from binas_opt.model.space import Stage

__all__ = ["Encoding", "EncodingIndex", "GroupKind"]


class GroupKind(StrEnum):
    """What a one-hot group of ``x`` chooses."""

    BLOCK_OP = "block_op"        # the op of one block (an alpha group)
    STAGE_DEPTH = "stage_depth"  # the depth of one stage (a beta group)


def _frozen(a) -> np.ndarray:
    a = np.asarray(a)
    a.flags.writeable = False
    return a


def _ptr(sizes) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)


def _inactive(mode: str, where: str, allowed=("zero", "random")) -> str:
    if mode not in allowed:
        raise ValueError(f"{where}: inactive must be one of {allowed}, got {mode!r}")
    return mode


@dataclass(frozen=True, eq=False)
class Encoding:
    """Index maps of a space's one-hot encoding (see the module docstring for the maths).

    Built once per space (:attr:`SearchSpace.encoding <binas_opt.SearchSpace.encoding>`); every
    array is read-only.

    Parameters
    ----------
    stage_depths : sequence of sequences of int
        The allowed depths of every stage, increasing.
    stage_num_ops : sequence of sequences of int
        The number of op choices of every block of every stage (``max(depths)`` per stage).

    Attributes
    ----------
    n_stages, n_blocks, n_alpha, n_beta, n_vars, n_groups : int
        Sizes; ``n_vars = n_alpha + n_beta`` is the length of ``x``.
    stage_block_ptr : ndarray, shape (n_stages + 1,)
        Flat id of the first block of every stage (and ``n_blocks``).
    block_stage, block_position, block_num_ops : ndarray, shape (n_blocks,)
        Stage, position within the stage and number of ops of every flat block.
    alpha_ptr : ndarray, shape (n_blocks + 1,)
        Position in ``alpha`` of op 0 of every flat block (and ``n_alpha``).
    alpha_offset : ndarray, shape (n_stages, max_blocks)
        ``alpha_ptr`` by (stage, position); -1 where the block does not exist.
    alpha_stage, alpha_block, alpha_op, block_of_alpha : ndarray, shape (n_alpha,)
        Stage, position within the stage, op index and flat block of every alpha entry.
    beta_ptr : ndarray, shape (n_stages + 1,)
        Position in ``beta`` of the first depth option of every stage (and ``n_beta``).
    beta_offset : ndarray, shape (n_stages,)
        ``beta_ptr[:-1]``.
    beta_stage, beta_depth, beta_option : ndarray, shape (n_beta,)
        Stage, depth value and option number (position in the stage's depths) of every entry.
    n_depths : ndarray, shape (n_stages,)
        Number of allowed depths of every stage.
    depth_options : ndarray, shape (n_stages, max n_depths)
        ``depth_options[s, j]``: the ``j``-th allowed depth of stage ``s`` (padded with the
        largest).
    depth_lookup : ndarray, shape (n_stages, max_depth + 1)
        Position in ``beta`` of depth ``d`` of stage ``s``; -1 where ``d`` is not allowed.
    group_kind : tuple of GroupKind
        Kind of every group of ``x`` (blocks, then stages).
    group_ptr : ndarray, shape (n_groups + 1,)
        Position in ``x`` of the first entry of every group (and ``n_vars``).
    group_of_x : ndarray, shape (n_vars,)
        Group of every entry of ``x``.
    """

    stage_depths: tuple[tuple[int, ...], ...]
    stage_num_ops: tuple[tuple[int, ...], ...]
    n_stages: int = field(init=False)
    n_blocks: int = field(init=False)
    n_alpha: int = field(init=False)
    n_beta: int = field(init=False)
    n_vars: int = field(init=False)
    n_groups: int = field(init=False)
    stage_block_ptr: np.ndarray = field(init=False, repr=False)
    block_stage: np.ndarray = field(init=False, repr=False)
    block_position: np.ndarray = field(init=False, repr=False)
    block_num_ops: np.ndarray = field(init=False, repr=False)
    alpha_ptr: np.ndarray = field(init=False, repr=False)
    alpha_offset: np.ndarray = field(init=False, repr=False)
    alpha_stage: np.ndarray = field(init=False, repr=False)
    alpha_block: np.ndarray = field(init=False, repr=False)
    alpha_op: np.ndarray = field(init=False, repr=False)
    block_of_alpha: np.ndarray = field(init=False, repr=False)
    beta_ptr: np.ndarray = field(init=False, repr=False)
    beta_offset: np.ndarray = field(init=False, repr=False)
    beta_stage: np.ndarray = field(init=False, repr=False)
    beta_depth: np.ndarray = field(init=False, repr=False)
    beta_option: np.ndarray = field(init=False, repr=False)
    n_depths: np.ndarray = field(init=False, repr=False)
    depth_options: np.ndarray = field(init=False, repr=False)
    depth_lookup: np.ndarray = field(init=False, repr=False)
    group_kind: tuple[GroupKind, ...] = field(init=False, repr=False)
    group_ptr: np.ndarray = field(init=False, repr=False)
    group_of_x: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        depths = tuple(tuple(int(d) for d in ds) for ds in self.stage_depths)
        nops = tuple(tuple(int(k) for k in ks) for ks in self.stage_num_ops)
        if not depths or len(depths) != len(nops):
            raise ValueError("Encoding: give the depths and op counts of at least one stage")
        for s, (ds, ks) in enumerate(zip(depths, nops, strict=True)):
            if not ds or list(ds) != sorted(set(ds)) or ds[0] < 1 or len(ks) != ds[-1]:
                raise ValueError(f"Encoding: stage {s} has depths {ds} and {len(ks)} blocks")
            if min(ks) < 1:
                raise ValueError(f"Encoding: stage {s} has a block without ops: {ks}")
        max_depth = np.array([ds[-1] for ds in depths], dtype=np.int64)
        n_s = len(depths)
        k_flat = np.array([k for ks in nops for k in ks], dtype=np.int64)
        n_depths = np.array([len(ds) for ds in depths], dtype=np.int64)
        stage_block_ptr = _ptr(max_depth)
        block_stage = np.repeat(np.arange(n_s), max_depth)
        block_position = np.arange(k_flat.size) - stage_block_ptr[block_stage]
        alpha_ptr = _ptr(k_flat)
        n_alpha, n_blocks = int(alpha_ptr[-1]), int(k_flat.size)
        block_of_alpha = np.repeat(np.arange(n_blocks), k_flat)
        alpha_offset = -np.ones((n_s, int(max_depth.max())), dtype=np.int64)
        alpha_offset[block_stage, block_position] = alpha_ptr[:-1]
        beta_ptr = _ptr(n_depths)
        n_beta = int(beta_ptr[-1])
        beta_stage = np.repeat(np.arange(n_s), n_depths)
        beta_option = np.arange(n_beta) - beta_ptr[beta_stage]
        beta_depth = np.array([d for ds in depths for d in ds], dtype=np.int64)
        depth_options = np.array([list(ds) + [ds[-1]] * (int(n_depths.max()) - len(ds))
                                  for ds in depths], dtype=np.int64)
        depth_lookup = -np.ones((n_s, int(max_depth.max()) + 1), dtype=np.int64)
        depth_lookup[beta_stage, beta_depth] = np.arange(n_beta)
        group_sizes = np.concatenate([k_flat, n_depths])
        values = {
            "stage_depths": depths, "stage_num_ops": nops,
            "n_stages": n_s, "n_blocks": n_blocks, "n_alpha": n_alpha, "n_beta": n_beta,
            "n_vars": n_alpha + n_beta, "n_groups": int(group_sizes.size),
            "stage_block_ptr": stage_block_ptr, "block_stage": block_stage,
            "block_position": block_position, "block_num_ops": k_flat, "alpha_ptr": alpha_ptr,
            "alpha_offset": alpha_offset, "alpha_stage": block_stage[block_of_alpha],
            "alpha_block": block_position[block_of_alpha],
            "alpha_op": np.arange(n_alpha) - alpha_ptr[block_of_alpha],
            "block_of_alpha": block_of_alpha, "beta_ptr": beta_ptr,
            "beta_offset": beta_ptr[:-1], "beta_stage": beta_stage, "beta_depth": beta_depth,
            "beta_option": beta_option, "n_depths": n_depths, "depth_options": depth_options,
            "depth_lookup": depth_lookup,
            "group_kind": (GroupKind.BLOCK_OP,) * n_blocks + (GroupKind.STAGE_DEPTH,) * n_s,
            "group_ptr": _ptr(group_sizes),
            "group_of_x": np.repeat(np.arange(group_sizes.size), group_sizes),
        }
        for name, v in values.items():
            if isinstance(v, np.ndarray):
                v = _frozen(v.astype(np.int64))
            object.__setattr__(self, name, v)

    @classmethod
    def from_stages(cls, stages: Sequence[Stage]) -> Encoding:
        """The encoding of a sequence of :class:`~binas_opt.Stage`."""
        return cls(tuple(st.depths for st in stages), tuple(st.num_ops for st in stages))

    def __repr__(self) -> str:
        return (f"Encoding(stages={self.n_stages}, blocks={self.n_blocks}, "
                f"n_alpha={self.n_alpha}, n_beta={self.n_beta})")

    # ------------------------------------------------------------------ structure
    @cached_property
    def activity(self) -> np.ndarray:
        """``P`` (bool, ``(n_blocks, n_beta)``): block ``k`` is active at depth option ``j``."""
        p = ((self.block_stage[:, None] == self.beta_stage[None, :])
             & (self.beta_depth[None, :] > self.block_position[:, None]))
        return _frozen(p)

    def activity_matrix(self, sparse: bool = False):
        """:attr:`activity` as floats, dense or ``scipy.sparse.csr_matrix``."""
        if sparse:
            return sp.csr_matrix(self.activity, dtype=float)
        return self.activity.astype(float)

    @cached_property
    def alpha_beta_pattern(self) -> tuple[np.ndarray, np.ndarray]:
        """``(alpha entry, beta entry)`` of every pair where the alpha entry's block is active
        (the non-zeros of a Table's ``Q``), row-major."""
        rows, cols = np.nonzero(self.activity[self.block_of_alpha])
        return _frozen(rows.astype(np.int64)), _frozen(cols.astype(np.int64))

    @cached_property
    def _group_cells(self) -> np.ndarray:
        """``cells[g, j]``: position in ``x`` of entry ``j`` of group ``g`` (``n_vars`` pads)."""
        sizes = np.diff(self.group_ptr)
        j = np.arange(int(sizes.max()))[None, :]
        return _frozen(np.where(j < sizes[:, None], self.group_ptr[:-1, None] + j, self.n_vars))

    # ------------------------------------------------------------------ arrays <-> indices
    def _arrays(self, depths, ops) -> tuple[np.ndarray, np.ndarray]:
        depths = np.asarray(depths, dtype=np.int64).reshape(-1, self.n_stages)
        ops = np.asarray(ops, dtype=np.int64).reshape(-1, self.n_blocks)
        if len(depths) != len(ops):
            raise ValueError(f"{len(depths)} depth rows but {len(ops)} op rows")
        return depths, ops

    def indices(self, depths, ops) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the chosen entries of alpha (every block) and beta.

        Parameters
        ----------
        depths : array-like of int, shape (n, n_stages)
        ops : array-like of int, shape (n, n_blocks)

        Returns
        -------
        alpha_idx : ndarray, shape (n, n_blocks)
        beta_idx : ndarray, shape (n, n_stages)
            -1 where a depth is not allowed.
        """
        depths, ops = self._arrays(depths, ops)
        alpha_idx = self.alpha_ptr[None, :-1] + ops
        beta_idx = self.depth_lookup[np.arange(self.n_stages)[None, :], depths]
        return alpha_idx, beta_idx

    def x_indices(self, depths, ops) -> np.ndarray:
        """Position in ``x`` of the chosen entry of every group, shape ``(n, n_groups)``."""
        ai, bi = self.indices(depths, ops)
        return np.hstack([ai, self.n_alpha + bi])

    def active_mask(self, depths) -> np.ndarray:
        """Boolean matrix ``(n, n_blocks)``: block active under each depth vector."""
        depths = np.asarray(depths).reshape(-1, self.n_stages)
        return self.block_position[None, :] < depths[:, self.block_stage]

    def one_hot(self, depths, ops, *, sparse: bool = False):
        """Rows ``x = (alpha, beta)`` of ``(depths, ops)``: a float array ``(n, n_vars)`` or, with
        ``sparse``, a ``scipy.sparse.csr_matrix``."""
        cols = self.x_indices(depths, ops)
        n, k = cols.shape
        if sparse:
            return sp.csr_matrix((np.ones(n * k), cols.ravel(), np.arange(0, n * k + 1, k)),
                                 shape=(n, self.n_vars))
        x = np.zeros((n, self.n_vars))
        x[np.arange(n)[:, None], cols] = 1.0
        return x

    # ------------------------------------------------------------------ decoding
    def group_argmax(self, x) -> np.ndarray:
        """Argmax within every group of (possibly fractional) rows ``x``, lowest index on ties.

        Returns the position *within* the group, shape ``(n, n_groups)`` (``(n_groups,)`` for
        one row).
        """
        x = np.asarray(x, dtype=float)
        one = x.ndim == 1
        x2 = x.reshape(-1, x.shape[-1])
        if x2.shape[1] != self.n_vars:
            raise ValueError(f"x has {x2.shape[1]} columns, expected {self.n_vars}")
        pad = np.hstack([x2, np.full((len(x2), 1), -np.inf)])
        out = np.argmax(pad[:, self._group_cells], axis=2)
        return out[0] if one else out

    def decode_x(self, x) -> tuple[np.ndarray, np.ndarray]:
        """``(depths, ops)`` of the argmax of every group of rows ``x`` (see :meth:`decode`)."""
        arg = self.group_argmax(x)
        ops = arg[..., : self.n_blocks]
        depths = self.depth_options[np.arange(self.n_stages), arg[..., self.n_blocks:]]
        return depths.astype(np.int64), ops.astype(np.int64)

    def decode(self, alpha, beta) -> tuple[np.ndarray, np.ndarray]:
        """``(depths, ops)`` of the argmax of every group of one-hot or fractional ``alpha`` and
        ``beta`` (lowest index on ties); batched when they are 2-D.

        Parameters
        ----------
        alpha : array-like, shape (n_alpha,) or (n, n_alpha)
        beta : array-like, shape (n_beta,) or (n, n_beta)

        Returns
        -------
        depths : ndarray of int, shape (n_stages,) or (n, n_stages)
        ops : ndarray of int, shape (n_blocks,) or (n, n_blocks)
        """
        alpha, beta = np.asarray(alpha, dtype=float), np.asarray(beta, dtype=float)
        if alpha.shape[-1:] != (self.n_alpha,) or beta.shape[-1:] != (self.n_beta,):
            raise ValueError(f"decode: alpha and beta have lengths {alpha.shape[-1:]} and "
                             f"{beta.shape[-1:]}, expected {self.n_alpha} and {self.n_beta}")
        one = alpha.ndim == 1 and beta.ndim == 1
        a2, b2 = np.atleast_2d(alpha), np.atleast_2d(beta)
        if len(a2) != len(b2):
            raise ValueError(f"decode: {len(a2)} alpha rows but {len(b2)} beta rows")
        depths, ops = self.decode_x(np.hstack([a2, b2]))
        return (depths[0], ops[0]) if one else (depths, ops)

    # ------------------------------------------------------------------ architectures
    def to_arrays(self, archs: Sequence[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        """``(depths, ops)`` integer matrices of architectures (not validated)."""
        archs = list(archs)
        depths = [a.depths for a in archs]
        ops = [[v for row in a.ops for v in row] for a in archs]
        for i, (d, o) in enumerate(zip(depths, ops, strict=True)):
            if len(d) != self.n_stages or len(o) != self.n_blocks:
                raise ValueError(f"architectures[{i}] has {len(d)} depths and {len(o)} op "
                                 f"indices, the space has {self.n_stages} stages and "
                                 f"{self.n_blocks} blocks")
        return (np.array(depths, dtype=np.int64).reshape(len(archs), self.n_stages),
                np.array(ops, dtype=np.int64).reshape(len(archs), self.n_blocks))

    def arrays(self, arch: Architecture) -> tuple[np.ndarray, np.ndarray]:
        """``(depths, ops)`` integer vectors of one architecture."""
        d, o = self.to_arrays([arch])
        return d[0], o[0]

    def to_architectures(self, depths, ops) -> list[Architecture]:
        """Architectures of ``(depths, ops)`` matrices (inverse of :meth:`to_arrays`)."""
        depths, ops = self._arrays(depths, ops)
        ptr = self.stage_block_ptr.tolist()
        return [Architecture(d, [o[ptr[s]: ptr[s + 1]] for s in range(self.n_stages)])
                for d, o in zip(depths.tolist(), ops.tolist(), strict=True)]

    def architecture(self, depths, ops) -> Architecture:
        """The architecture of one ``(depths, ops)`` pair of vectors."""
        return self.to_architectures(depths, ops)[0]

    # ------------------------------------------------------------------ sampling
    def sample_depths(self, rng: np.random.Generator | int | None, n: int) -> np.ndarray:
        """``(n, n_stages)`` depths, uniform over every stage's allowed depths."""
        rng = np.random.default_rng(rng)
        j = rng.integers(self.n_depths[:, None], size=(self.n_stages, int(n))).T
        return self.depth_options[np.arange(self.n_stages)[None, :], j]

    def sample_ops(self, rng: np.random.Generator | int | None, n: int) -> np.ndarray:
        """``(n, n_blocks)`` op indices, uniform in every block (inactive blocks too)."""
        rng = np.random.default_rng(rng)
        return rng.integers(self.block_num_ops[:, None], size=(self.n_blocks, int(n))).T

    def sample(self, rng: np.random.Generator | int | None, n: int, *,
               inactive: str = "zero") -> tuple[np.ndarray, np.ndarray]:
        """``n`` uniform random architectures as ``(depths, ops)`` matrices.

        Depth uniform per stage, then op uniform per block (both drawn stage by stage and block
        by block, ``n`` at a time).  ``inactive="zero"`` sets the op of every inactive block to
        0 (canonical); ``"random"`` keeps its draw.
        """
        _inactive(inactive, "sample")
        rng = np.random.default_rng(rng)
        depths = self.sample_depths(rng, n)
        ops = self.sample_ops(rng, n)
        if inactive == "zero":
            ops = np.where(self.active_mask(depths), ops, 0)
        return depths, ops

    def randomize_inactive(self, depths, ops, rng: np.random.Generator | int | None
                           ) -> np.ndarray:
        """A copy of ``ops`` with the op of every inactive block drawn uniformly."""
        depths, ops = self._arrays(depths, ops)
        return np.where(self.active_mask(depths), ops, self.sample_ops(rng, len(ops)))

    # ------------------------------------------------------------------ enumeration
    def count(self, inactive: str = "zero") -> int:
        """Number of architectures: canonical ones (``"zero"``), or every assignment of every
        block's op, inactive blocks included (``"all"``)."""
        _inactive(inactive, "count", ("zero", "all"))
        if inactive == "all":
            return math.prod(len(ds) * math.prod(ks)
                             for ds, ks in zip(self.stage_depths, self.stage_num_ops, strict=True))
        return math.prod(sum(math.prod(ks[:d]) for d in ds)
                         for ds, ks in zip(self.stage_depths, self.stage_num_ops, strict=True))

    def enumerate(self, limit: int = 1_000_000, *, inactive: str = "zero"
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Every architecture as ``(depths, ops)`` matrices.

        ``inactive="zero"``: the canonical architectures, stage 0 varying slowest; ``"all"``:
        every assignment (inactive op indices too), in lexicographic order of (depth option of
        every stage, op of every block).  Raises ``ValueError`` above ``limit`` rows.
        """
        total = self.count(inactive)
        if total > limit:
            what = ("architectures" if inactive == "zero"
                    else "assignments (inactive op indices included)")
            raise ValueError(
                f"the space has {total:.3g} {what}, more than the enumeration limit "
                f"{limit:.3g}; use an exact backend ('milp', 'dp') instead of enumeration"
            )
        if inactive == "all":
            sizes = list(self.n_depths) + list(self.block_num_ops)
            grid = np.indices(sizes).reshape(len(sizes), -1).T
            k = self.n_stages
            return (self.depth_options[np.arange(k)[None, :], grid[:, :k]].astype(np.int64),
                    grid[:, k:].astype(np.int64))
        depths_cols, ops_cols = [], []
        for ds, ks in zip(self.stage_depths, self.stage_num_ops, strict=True):
            rows_d, rows_o = [], []
            for d in ds:
                grids = np.meshgrid(*[np.arange(k) for k in ks[:d]], indexing="ij")
                combos = np.stack([g.ravel() for g in grids], axis=1)
                pad = np.zeros((combos.shape[0], len(ks) - d), dtype=np.int64)
                rows_o.append(np.hstack([combos, pad]))
                rows_d.append(np.full(combos.shape[0], d))
            depths_cols.append(np.concatenate(rows_d))
            ops_cols.append(np.vstack(rows_o).astype(np.int64))
        sizes = [len(c) for c in depths_cols]
        grid = np.indices(sizes).reshape(len(sizes), -1)
        depths = np.stack([depths_cols[s][grid[s]] for s in range(len(sizes))], axis=1)
        ops = np.hstack([ops_cols[s][grid[s]] for s in range(len(sizes))])
        return depths.astype(np.int64), ops.astype(np.int64)


EncodingIndex = Encoding
"""Former name of :class:`Encoding`."""
