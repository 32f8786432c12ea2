"""Fit an additive :class:`~binas_opt.Table` to whole-network measurements by least squares.

Given architectures and one measurement ``y`` per architecture (latency of the whole network,
energy, accuracy, ...), :func:`fit_table` finds the table that best explains them:

.. math::

    \\min_{c, g, a} \\; \\sum_i \\Big(y_i - c - \\sum_s g_{s,d_{i,s}}
        - \\sum_s \\sum_{b < d_{i,s}} a_{s,b,o_{i,s,b}}\\Big)^2
        + \\lambda \\big(\\lVert g \\rVert^2 + \\lVert a \\rVert^2\\big)

The design matrix has one row per architecture and one column per table entry (const, every
``(stage, depth option)``, every ``(stage, block, op)`` counted only when the block is active).

**Gauge.**  A Table is over-parametrised: adding ``m`` to every op of a block and subtracting it
from the depth values that keep the block active (or from the constant, for an always-active
block), or shifting all depth values of a stage against the constant, changes no architecture's
value.  These ``total_blocks + n_stages`` directions can never be identified from data, so the
fitted table is returned in a canonical gauge: ``"min"`` (default; the cheapest op of every block
and the smallest depth value of every stage are 0, everything else is relative to them, the rest
goes into the constant; a latency table fitted this way has non-negative entries whenever the
measurements allow it) or ``"mean"`` (zero mean per block and per stage).

**Identifiability.**  Beyond the gauge, the sample itself may leave directions undetermined:
ops never seen in an active block, or decisions that always co-occur in the sample.  These are
reported by :class:`TableFit` (``unidentifiable``); their values are filled (``unseen``) or left
at the minimum-norm / ridge solution and should not be trusted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from binas_opt.model.architecture import Architecture
from binas_opt.model.choices import Choice
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table

__all__ = ["fit_table", "TableFit", "Gauge", "Unseen", "design_matrix", "as_arrays"]

log = logging.getLogger("binas_opt")


class Gauge(Choice):
    """Canonical representation of a fitted table (see the module docstring)."""

    MIN = "min"  #: the cheapest op of every block and the smallest depth value of a stage are 0
    MEAN = "mean"  #: op and depth entries average to 0 per block and per stage


class Unseen(Choice):
    """Value given to ops never seen active, relative to the seen ops of their block."""

    MEAN = "mean"
    MAX = "max"  #: conservative for resource tables
    MIN = "min"
    ZERO = "zero"


_DENSE_LIMIT = 40_000_000  # n * p above which the normal equations are used instead of an SVD


def as_arrays(space: SearchSpace, architectures) -> tuple[np.ndarray, np.ndarray]:
    """``(depths, ops)`` integer matrices from Architectures or a ``(depths, ops)`` pair.

    Raises ``ValueError`` naming the offending row when a depth or an op index is not in ``space``.
    """
    if (isinstance(architectures, tuple) and len(architectures) == 2
            and isinstance(architectures[0], np.ndarray)):
        depths = np.asarray(architectures[0], dtype=np.int64).reshape(-1, space.n_stages)
        ops = np.asarray(architectures[1], dtype=np.int64)
        n_blocks = space.encoding.n_blocks
        if ops.ndim != 2 or ops.shape != (len(depths), n_blocks):
            raise ValueError(
                f"architectures: ops has shape {ops.shape}, expected ({len(depths)}, {n_blocks})"
            )
        _check_arrays(space, depths, ops)
        return depths, ops
    archs = list(architectures)
    for i, a in enumerate(archs):
        if not isinstance(a, Architecture):
            raise TypeError(
                f"architectures[{i}] is {type(a).__name__}; expected Architecture or a "
                "(depths, ops) pair of integer arrays"
            )
        space.validate(a, name=f"architectures[{i}]")
    return space.encoding.to_arrays(archs)


def _check_arrays(space: SearchSpace, depths: np.ndarray, ops: np.ndarray) -> None:
    enc = space.encoding
    lut = enc.depth_lookup
    bad_d = (depths < 0) | (depths >= lut.shape[1])
    bad_d |= lut[np.arange(space.n_stages)[None, :], np.clip(depths, 0, lut.shape[1] - 1)] < 0
    if bad_d.any():
        i, s = np.argwhere(bad_d)[0]
        raise ValueError(
            f"architectures: row {i} has depth {depths[i, s]} in {space.stage_name(s)}, allowed "
            f"{space.stages[s].depths}"
        )
    n_ops = enc.block_num_ops
    bad_o = (ops < 0) | (ops >= n_ops[None, :])
    if bad_o.any():
        i, j = np.argwhere(bad_o)[0]
        s, b = int(enc.block_stage[j]), int(enc.block_position[j])
        raise ValueError(
            f"architectures: row {i} has op index {ops[i, j]} in {space.stage_name(s)} block {b}, "
            f"expected [0, {n_ops[j]})"
        )


def design_matrix(space: SearchSpace, depths: np.ndarray, ops: np.ndarray) -> sp.csr_matrix:
    """Sparse 0/1 design matrix ``(n, n_beta + n_alpha)``: depth indicators, then active ops.

    The constant column is not included.  Column ``j < n_beta`` is beta entry ``j``; column
    ``n_beta + i`` is alpha entry ``i`` counted only when its block is active.
    """
    depths = np.asarray(depths, dtype=np.int64).reshape(-1, space.n_stages)
    ops = np.asarray(ops, dtype=np.int64)
    n = len(depths)
    ai, bi = space.indices_from_arrays(depths, ops)
    act = space.active_mask(depths)
    rows = np.concatenate([np.repeat(np.arange(n), space.n_stages), np.nonzero(act)[0]])
    cols = np.concatenate([bi.ravel(), space.n_beta + ai[act]])
    return sp.csr_matrix((np.ones(rows.size), (rows, cols)),
                         shape=(n, space.n_beta + space.n_alpha))


@dataclass(frozen=True, eq=False)
class TableFit:
    """A fitted Table and the diagnostics of the least-squares fit.

    Attributes
    ----------
    table : Table
        The fitted table, in the canonical ``gauge``.
    r2 : float
        Coefficient of determination on the fitting data.
    residuals : ndarray
        ``y - table(arch)`` for every fitting sample.
    rmse, max_abs_residual : float
    rank : int
        Rank of the design matrix (constant column included).
    n_params : int
        ``1 + n_beta + n_alpha``.
    n_identifiable : int
        Number of parameters any data can identify: ``n_params - total_blocks - n_stages``.
    condition : float
        Ratio of the largest to the smallest non-zero singular value of the centred design matrix
        (large values mean nearly collinear decisions in the sample).
    unidentifiable_alpha, unidentifiable_beta : ndarray of int
        Op (alpha) and depth (beta) entries whose canonical value is not determined by the data
        (it could change without changing any fitted value).  Includes ``unseen_alpha``.
    unseen_alpha : ndarray of int
        Op entries never seen in an active block; filled according to ``unseen``.
    ridge : float
    gauge : Gauge
    """

    table: Table
    r2: float
    residuals: np.ndarray
    rmse: float
    max_abs_residual: float
    rank: int
    n_params: int
    n_identifiable: int
    condition: float
    unidentifiable_alpha: np.ndarray
    unidentifiable_beta: np.ndarray
    unseen_alpha: np.ndarray
    ridge: float
    gauge: Gauge

    @property
    def n_samples(self) -> int:
        return int(self.residuals.size)

    @property
    def identified(self) -> bool:
        """True when every entry is determined by the data (up to the gauge)."""
        return not (self.unidentifiable_alpha.size or self.unidentifiable_beta.size)

    @property
    def unidentifiable(self) -> tuple[str, ...]:
        """Human-readable names of the entries the data cannot determine."""
        t = self.table
        return tuple(
            [t.describe_beta(int(i)) for i in self.unidentifiable_beta]
            + [t.describe_alpha(int(i)) + (" (never active in the sample)"
                                           if i in set(self.unseen_alpha.tolist()) else "")
               for i in self.unidentifiable_alpha]
        )

    def predict(self, architectures) -> np.ndarray:
        """Table values on architectures (a sequence or a ``(depths, ops)`` pair)."""
        depths, ops = as_arrays(self.table.space, architectures)
        return self.table.evaluate_arrays(depths, ops)

    def score(self, architectures, measurements) -> float:
        """R^2 of the fitted table on (held-out) data."""
        y = np.asarray(measurements, dtype=float).ravel()
        pred = self.predict(architectures)
        if pred.size != y.size:
            raise ValueError(f"score: {pred.size} architectures but {y.size} measurements")
        return _r2(y, pred)

    def summary(self) -> str:
        lines = [
            f"TableFit({self.table.name or 'table'}): n={self.n_samples}, R^2={self.r2:.6f}, "
            f"RMSE={self.rmse:.4g}, max|res|={self.max_abs_residual:.4g}",
            f"  rank {self.rank} of {self.n_params} parameters ({self.n_identifiable} "
            f"identifiable in principle), condition {self.condition:.3g}, ridge {self.ridge:g}",
        ]
        if not self.identified:
            names = self.unidentifiable
            more = f" ... (+{len(names) - 8})" if len(names) > 8 else ""
            lines.append(f"  {len(names)} unidentifiable entries: {', '.join(names[:8])}{more}")
        return "\n".join(lines)


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    ss_res = float(np.sum((y - pred) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def _segment_argmin(values: np.ndarray, segment: np.ndarray, n_segments: int) -> np.ndarray:
    """Index of the first smallest value of every segment (-1 for an empty segment)."""
    order = np.lexsort((np.arange(values.size), values, segment))
    seg, pos = np.unique(segment[order], return_index=True)
    out = np.full(n_segments, -1, dtype=np.int64)
    out[seg] = order[pos]
    return out


def _solve(x: sp.csr_matrix, xbar: np.ndarray, yc: np.ndarray, ridge: float):
    """Ridge / minimum-norm least squares on the centred design ``x - xbar``.

    Returns ``(coef, non-zero singular values, orthonormal basis of the null space)``.  Uses an
    SVD of the dense centred matrix when it is small enough, else the normal equations.
    """
    n, p = x.shape
    if n * p <= _DENSE_LIMIT:
        xc = x.toarray() - xbar[None, :]
        u, s, vt = np.linalg.svd(xc, full_matrices=True)
        tol = max(n, p) * np.finfo(float).eps * (s[0] if s.size else 0.0)
        keep = s > tol
        f = np.zeros(s.size)
        f[keep] = s[keep] / (s[keep] ** 2 + ridge)
        coef = vt[: s.size].T @ (f * (u[:, : s.size].T @ yc))
        rank = int(keep.sum())
        return coef, s[keep], vt[rank:].T
    gram = (x.T @ x).toarray() - n * np.outer(xbar, xbar)
    evals, evecs = np.linalg.eigh(gram)
    evals, evecs = np.clip(evals[::-1], 0.0, None), evecs[:, ::-1]
    s = np.sqrt(evals)
    tol = np.sqrt(p * np.finfo(float).eps) * (s[0] if s.size else 0.0)
    keep = s > tol
    f = np.zeros(p)
    f[keep] = 1.0 / (evals[keep] + ridge)
    coef = evecs @ (f * (evecs.T @ (x.T @ yc)))
    return coef, s[keep], evecs[:, ~keep]


class _Gauge:
    """Linear map from parameter vectors to the canonical gauge.

    The references (which op of every block and which depth of every stage is set to 0 in the
    ``"min"`` gauge) are chosen once, from the fitted solution, so that the same linear map can
    be applied to null-space directions for the identifiability diagnostics.
    """

    def __init__(self, space: SearchSpace, kind: Gauge, g: np.ndarray, a: np.ndarray,
                 seen: np.ndarray):
        self.space, self.kind, self.seen = space, kind, seen
        idx = space.encoding
        self.starts = idx.alpha_ptr[:-1]
        self.block_of_alpha = idx.block_of_alpha
        # keeps_active[j, k]: block k is active at depth option j
        self.keeps_active = idx.activity_matrix().T
        if kind is Gauge.MIN:
            ref = _segment_argmin(np.where(seen, a, np.inf), self.block_of_alpha, idx.n_blocks)
            self.op_ref = np.where(ref >= 0, ref, self.starts)
            g_shifted = g + self.keeps_active @ a[self.op_ref]
            self.depth_ref = _segment_argmin(g_shifted, idx.beta_stage, space.n_stages)

    def apply(self, c: np.ndarray, g: np.ndarray, a: np.ndarray):
        """Canonicalise ``k`` parameter vectors: c (k,), g (n_beta, k), a (n_alpha, k)."""
        bo = self.space.encoding.beta_offset
        if self.kind is Gauge.MIN:
            m = a[self.op_ref]
        else:
            w = self.seen.astype(float)[:, None]
            cnt = np.add.reduceat(w, self.starts, axis=0)
            m = np.add.reduceat(a * w, self.starts, axis=0) / np.maximum(cnt, 1.0)
        a = a - m[self.block_of_alpha]
        g = g + self.keeps_active @ m
        if self.kind is Gauge.MIN:
            dm = g[self.depth_ref]
        else:
            cnt = np.diff(np.append(bo, self.space.n_beta))[:, None]
            dm = np.add.reduceat(g, bo, axis=0) / cnt
        g = g - dm[self.space.encoding.beta_stage]
        return c + dm.sum(axis=0), g, a


def fit_table(
    space: SearchSpace,
    architectures,
    measurements,
    ridge: float = 0.0,
    *,
    gauge: Gauge | str = Gauge.MIN,
    unseen: Unseen | str = Unseen.MEAN,
    name: str | None = None,
    unit: str | None = None,
) -> TableFit:
    """Recover a per-block Table from whole-network measurements by (ridge) least squares.

    Parameters
    ----------
    space : SearchSpace
    architectures : sequence of Architecture, or ``(depths, ops)`` integer arrays
        ``depths`` of shape ``(n, n_stages)``, ``ops`` of shape ``(n, total_blocks)``.
    measurements : array-like, shape (n,)
        One finite value per architecture (e.g. measured latency of the whole network).
    ridge : float
        Non-negative penalty ``lambda`` on the depth and op entries (the constant is not
        penalised).  ``0`` gives the minimum-norm least-squares solution.
    gauge : Gauge or {"min", "mean"}
        Canonical representation of the fitted table (see the module docstring).
    unseen : Unseen or {"mean", "max", "min", "zero"}
        Value given to ops never seen active, relative to the seen ops of the same block.
        ``"max"`` is the conservative choice for resource tables.
    name, unit : str, optional
        Name and unit of the returned Table.

    Returns
    -------
    TableFit
        The table plus R^2, residuals, rank, condition and the unidentifiable entries.

    Examples
    --------
    >>> import numpy as np, binas_opt as bo
    >>> space = bo.SearchSpace([bo.Stage((1, 2), ["a", "b"]), bo.Stage((1,), ["c", "d"])])
    >>> truth = bo.Table(space, 1.0, depth=[[0.0, 0.5], [0.0]],
    ...                  op=[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0]]])
    >>> archs = space.sample(0, n=40)
    >>> fit = bo.fit_table(space, archs, truth.evaluate(archs))
    >>> bool(np.allclose(fit.table.evaluate(archs), truth.evaluate(archs)))
    True
    """
    if not isinstance(space, SearchSpace):
        raise TypeError(f"fit_table: space must be a SearchSpace, got {type(space).__name__}")
    gauge = Gauge.parse(gauge, "fit_table: gauge")
    unseen = Unseen.parse(unseen, "fit_table: unseen")
    ridge = float(ridge)
    if not np.isfinite(ridge) or ridge < 0:
        raise ValueError(f"fit_table: ridge must be a finite number >= 0, got {ridge}")
    depths, ops = as_arrays(space, architectures)
    y = np.asarray(measurements, dtype=float).ravel()
    n = len(depths)
    if y.size != n:
        raise ValueError(f"fit_table: {n} architectures but {y.size} measurements")
    if n == 0:
        raise ValueError("fit_table: no architectures given")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise ValueError(f"fit_table: measurements[{int(bad[0])}] is {y[bad[0]]} (must be finite)")

    x = design_matrix(space, depths, ops)
    n_beta = space.n_beta
    seen = np.asarray(x[:, n_beta:].sum(axis=0)).ravel() > 0
    xbar = np.asarray(x.mean(axis=0)).ravel()
    ybar = float(y.mean())
    coef, svals, null = _solve(x, xbar, y - ybar, ridge)
    const = ybar - float(xbar @ coef)
    g, a = coef[:n_beta].copy(), coef[n_beta:].copy()

    # fill ops never seen active, relative to the seen ops of their block
    enc = space.encoding
    starts, blk = enc.alpha_ptr[:-1], enc.block_of_alpha
    if not seen.all():
        w = seen.astype(float)
        cnt = np.add.reduceat(w, starts)
        with np.errstate(invalid="ignore"):
            if unseen is Unseen.MEAN:
                fill = np.add.reduceat(a * w, starts) / np.maximum(cnt, 1)
            elif unseen is Unseen.MAX:
                fill = np.maximum.reduceat(np.where(seen, a, -np.inf), starts)
            elif unseen is Unseen.MIN:
                fill = np.minimum.reduceat(np.where(seen, a, np.inf), starts)
            else:
                fill = np.zeros(enc.n_blocks)
        fill = np.where(cnt > 0, fill, 0.0)
        a = np.where(seen, a, fill[blk])

    gauge_map = _Gauge(space, gauge, g, a, seen)
    c_out, g_out, a_out = gauge_map.apply(np.array([const]), g[:, None], a[:, None])
    # entries within rounding error of zero become exactly zero (a fitted latency table must not
    # be refused as a resource because its constant came out as -1e-14)
    eps = 1e-12 * max(1.0, float(np.abs(y).max()))
    c_out, g_out, a_out = (np.where(np.abs(v) < eps, 0.0, v) for v in (c_out, g_out, a_out))
    table = Table(space, const=float(c_out[0]), depth=g_out[:, 0], op=a_out[:, 0],
                  name=name, unit=unit)

    # diagnostics: directions of the data null space that are not pure gauge
    if null.shape[1]:
        nc = -(xbar @ null)
        _, ng, na = gauge_map.apply(nc, null[:n_beta], null[n_beta:])
        tol = 1e-7
        un_beta = np.flatnonzero(np.abs(ng).max(axis=1) > tol)
        un_alpha = np.flatnonzero((np.abs(na).max(axis=1) > tol) | ~seen)
    else:
        un_beta = np.zeros(0, dtype=np.int64)
        un_alpha = np.flatnonzero(~seen)
    pred = table.evaluate_arrays(depths, ops)
    resid = y - pred
    rank = int(svals.size) + 1
    n_params = 1 + n_beta + space.n_alpha
    n_ident = n_params - enc.n_blocks - space.n_stages
    cond = float(svals[0] / svals[-1]) if svals.size else float("inf")
    fit = TableFit(
        table=table, r2=_r2(y, pred), residuals=resid,
        rmse=float(np.sqrt(np.mean(resid**2))), max_abs_residual=float(np.abs(resid).max()),
        rank=rank, n_params=n_params, n_identifiable=n_ident, condition=cond,
        unidentifiable_alpha=un_alpha.astype(np.int64),
        unidentifiable_beta=un_beta.astype(np.int64),
        unseen_alpha=np.flatnonzero(~seen).astype(np.int64), ridge=ridge, gauge=gauge,
    )
    if not fit.identified:
        log.info("fit_table: %d entries are not identified by the data",
                 fit.unidentifiable_alpha.size + fit.unidentifiable_beta.size)
    return fit
