"""Linear oracles over a product of simplices with budget rows (the Frank-Wolfe subproblem).

Every Frank-Wolfe step of the ``fw`` backend maximises a linear function over one block of the
relaxed encoding (all op simplices of ``alpha``, or all depth simplices of ``beta``) subject to the
budgets, which are linear in that block once the other block is fixed:

.. math::

    \\max_u \\; c^T u \\quad \\text{s.t.} \\quad \\sum_{i \\in g} u_i = 1 \\; (g \\in G), \\quad
    a_k^T u \\le b_k \\; (k = 1..K), \\quad u \\ge 0.

With a single budget row (``K = 1``) this is the LP relaxation of the *multiple-choice knapsack*
problem, solved here in closed form (Sinha and Zoltners, 1979; Kellerer, Pferschy and Pisinger,
"Knapsack Problems", ch. 11):

1. in every group drop the items that are *dominated* (another item costs no more and is worth at
   least as much) and the *LP-dominated* ones (on or below the chord of two other items in the
   cost/value plane), leaving each group's upper convex hull, sorted by cost;
2. start from every group's cheapest hull item; the hull's consecutive *increments* have
   decreasing value/cost slopes inside each group;
3. sort all increments of all groups by slope and take them greedily while the slope is positive
   and the budget lasts; the first increment that does not fit is taken fractionally.

The optimum has at most one fractional group (with two non-zero entries).  Everything is
vectorised over groups (padded to the largest group); the cost is ``O(n log n)``.

With several budget rows :func:`lp_oracle` solves the same LP with HiGHS (sparse, ``highspy``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["GroupLayout", "OracleResult", "mck_oracle", "lp_oracle", "linear_oracle",
           "weak_duality_bound", "compact_lp_bound"]


@dataclass(frozen=True)
class GroupLayout:
    """Contiguous groups of a flat vector: group ``g`` is ``[ptr[g], ptr[g+1])``.

    Precomputes the padded index matrix used by the vectorised oracle.
    """

    ptr: np.ndarray
    group: np.ndarray  # group of every item
    pad: np.ndarray  # (n_groups, max_size) flat item index, -1 where padded
    sizes: np.ndarray

    @classmethod
    def from_sizes(cls, sizes) -> GroupLayout:
        sizes = np.asarray(sizes, dtype=np.int64).ravel()
        if sizes.size == 0 or (sizes < 1).any():
            raise ValueError(f"GroupLayout: every group needs at least one item, got sizes {sizes}")
        ptr = np.concatenate([[0], np.cumsum(sizes)])
        group = np.repeat(np.arange(sizes.size), sizes)
        m = int(sizes.max())
        cols = np.arange(m)[None, :]
        pad = np.where(cols < sizes[:, None], ptr[:-1, None] + cols, -1)
        return cls(ptr=ptr, group=group, pad=pad, sizes=sizes)

    @property
    def n_groups(self) -> int:
        return int(self.sizes.size)

    @property
    def n(self) -> int:
        return int(self.ptr[-1])

    def argmax(self, v: np.ndarray) -> np.ndarray:
        """Flat index of the largest entry of every group (lowest index on ties)."""
        vals = np.where(self.pad >= 0, v[np.maximum(self.pad, 0)], -np.inf)
        return self.pad[np.arange(self.n_groups), np.argmax(vals, axis=1)]

    def one_hot(self, flat_idx: np.ndarray) -> np.ndarray:
        u = np.zeros(self.n)
        u[flat_idx] = 1.0
        return u

    def group_sums(self, v: np.ndarray) -> np.ndarray:
        return np.add.reduceat(v, self.ptr[:-1], axis=-1)


@dataclass(frozen=True)
class OracleResult:
    """A maximiser ``u`` of the oracle LP (None when infeasible) and its value ``c.u``."""

    u: np.ndarray | None
    value: float
    feasible: bool
    fractional_groups: int = 0


def _hull_mask(cost: np.ndarray, val: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Upper-hull (non-LP-dominated) items of every row of cost-sorted padded arrays.

    ``cost`` is sorted ascending per row (ties: higher value first); padded entries have
    ``valid`` False.  Returns a boolean mask of the same shape.

    After dropping dominated items (not worth strictly more than every cheaper one), values
    strictly increase with cost, and item ``j`` is a vertex of the upper hull iff a line through
    it has every other item below, i.e. iff
    ``max_{k > j} slope(j, k) < min_{i < j} slope(i, j)`` (strict: collinear items are dropped).
    All slopes of a row are computed at once (``O(m^2)`` per group, ``m`` <= a few dozen).
    """
    g, m = cost.shape
    neg = np.where(valid, val, -np.inf)
    run_max = np.maximum.accumulate(neg, axis=1)
    prev_max = np.concatenate([np.full((g, 1), -np.inf), run_max[:, :-1]], axis=1)
    alive = valid & (neg > prev_max)
    if m <= 2:
        return alive
    c = np.where(alive, cost, 0.0)
    v = np.where(alive, val, 0.0)
    dc = c[:, None, :] - c[:, :, None]  # [g, i, j] = c_j - c_i (> 0 for alive i < j)
    pair = _UPPER[m] & alive[:, :, None] & alive[:, None, :]
    np.copyto(dc, 1.0, where=~pair)
    slope = (v[:, None, :] - v[:, :, None]) / dc
    left_min = np.where(pair, slope, np.inf).min(axis=1)  # min over i < j, per j
    right_max = np.where(pair, slope, -np.inf).max(axis=2)  # max over k > i, per i
    return alive & (right_max < left_min)


class _Upper(dict):
    """Strict upper-triangle masks by size (computed once)."""

    def __missing__(self, m):
        mask = np.triu(np.ones((m, m), dtype=bool), 1)[None, :, :]
        self[m] = mask
        return mask


_UPPER = _Upper()


def mck_oracle(c: np.ndarray, a: np.ndarray, b: float, layout: GroupLayout) -> OracleResult:
    """Maximise ``c.u`` over the product of simplices of ``layout`` with ``a.u <= b``.

    Parameters
    ----------
    c, a : ndarray, shape (n,)
        Objective and budget-row coefficients (any real numbers).
    b : float
        Right-hand side; ``inf`` means no budget.
    layout : GroupLayout

    Returns
    -------
    OracleResult
        ``u`` has at most one fractional group; ``feasible`` is False (and ``u`` None) when even
        the cheapest item of every group breaks the budget.
    """
    c = np.asarray(c, dtype=float)
    a = np.asarray(a, dtype=float)
    if not np.isfinite(b):
        if b < 0:
            return OracleResult(None, -np.inf, False)
        idx = layout.argmax(c)
        return OracleResult(layout.one_hot(idx), float(c[idx].sum()), True)
    pad = layout.pad
    valid = pad >= 0
    safe = np.maximum(pad, 0)
    cost = np.where(valid, a[safe], np.inf)
    val = np.where(valid, c[safe], -np.inf)
    # sort each group by cost ascending, value descending on ties
    order = np.lexsort((-val, cost), axis=1)
    cost = np.take_along_axis(cost, order, 1)
    val = np.take_along_axis(val, order, 1)
    valid = np.take_along_axis(valid, order, 1)
    pad = np.take_along_axis(pad, order, 1)
    alive = _hull_mask(cost, val, valid)
    # hull items of all groups, flat: grouped, increasing cost inside a group
    g_idx, j_idx = np.nonzero(alive)
    f_cost, f_val, f_pad = cost[g_idx, j_idx], val[g_idx, j_idx], pad[g_idx, j_idx]
    counts = np.bincount(g_idx, minlength=layout.n_groups)
    start = np.cumsum(counts) - counts  # each group's cheapest hull item
    spend = float(f_cost[start].sum())
    slack_tol = 1e-12 * max(1.0, abs(b), float(np.abs(f_cost[start]).sum()))
    if spend > b + slack_tol:
        return OracleResult(None, -np.inf, False)
    value = float(f_val[start].sum())
    inc = np.ones(g_idx.size, dtype=bool)
    inc[start] = False
    p_idx = np.flatnonzero(inc)  # increment from item p-1 to item p of the same group
    u = np.zeros(layout.n)
    if p_idx.size == 0:
        u[f_pad[start]] = 1.0
        return OracleResult(u, value, True)
    d_cost = f_cost[p_idx] - f_cost[p_idx - 1]
    d_val = f_val[p_idx] - f_val[p_idx - 1]
    slope = d_val / d_cost
    # global order by slope (desc); slopes strictly decrease inside a group and the sort is
    # stable on the grouped order, so every group's increments stay in hull order
    o = np.argsort(-slope, kind="stable")
    cum = np.cumsum(d_cost[o])
    cap = b - spend
    full = (slope[o] > 0) & (cum <= cap + slack_tol)
    stop = int(np.argmin(full)) if not full.all() else full.size
    taken = o[:stop]
    k = np.bincount(g_idx[p_idx[taken]], minlength=layout.n_groups)
    final = start + k
    u[f_pad[final]] = 1.0
    value += float(d_val[taken].sum())
    frac = 0
    if stop < full.size and slope[o[stop]] > 0:
        left = cap - (float(cum[stop - 1]) if stop > 0 else 0.0)
        if left > slack_tol:
            i = int(p_idx[o[stop]])
            t = min(1.0, left / d_cost[o[stop]])
            u[f_pad[i - 1]] -= t
            u[f_pad[i]] += t
            value += t * float(d_val[o[stop]])
            frac = 1
    return OracleResult(u, value, True, frac)


def lp_oracle(c: np.ndarray, A: np.ndarray, b: np.ndarray, layout: GroupLayout,
              highs=None) -> OracleResult:
    """The same LP with several budget rows ``A u <= b``, solved by HiGHS (dual simplex).

    Parameters
    ----------
    A : ndarray or sparse, shape (K, n)
    b : ndarray, shape (K,)
    highs : highspy.Highs, optional
        An instance to reuse (its model is replaced).
    """
    import highspy

    c = np.asarray(c, dtype=float)
    b = np.asarray(b, dtype=float).ravel()
    A = sp.csr_matrix(A) if not sp.issparse(A) else A.tocsr()
    n, k = layout.n, A.shape[0]
    # rows: one per group (== 1), then the budgets
    eq = sp.csr_matrix((np.ones(n), (layout.group, np.arange(n))), shape=(layout.n_groups, n))
    M = sp.vstack([eq, A]).tocsc()
    h = highs if highs is not None else highspy.Highs()
    if highs is None:
        h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = layout.n_groups + k
    lp.col_cost_ = c
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lp.row_lower_ = np.concatenate([np.ones(layout.n_groups), np.full(k, -inf)])
    lp.row_upper_ = np.concatenate([np.ones(layout.n_groups), np.where(np.isfinite(b), b, inf)])
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = M.indptr.astype(np.int32)
    lp.a_matrix_.index_ = M.indices.astype(np.int32)
    lp.a_matrix_.value_ = M.data.astype(float)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return OracleResult(None, -np.inf, False)
    u = np.clip(np.asarray(h.getSolution().col_value, dtype=float), 0.0, 1.0)
    u /= layout.group_sums(u)[layout.group]  # remove float drift from the simplex rows
    inner = (u > 1e-9) & (u < 1 - 1e-9)
    frac = int(np.count_nonzero(np.bincount(layout.group, inner, minlength=layout.n_groups)))
    return OracleResult(u, float(c @ u), True, frac)


def linear_oracle(c: np.ndarray, A: np.ndarray, b: np.ndarray, layout: GroupLayout,
                  highs=None) -> OracleResult:
    """Dispatch: no budget -> argmax per group; one -> :func:`mck_oracle`; more -> HiGHS."""
    A = np.atleast_2d(np.asarray(A, dtype=float)) if not sp.issparse(A) else A
    b = np.atleast_1d(np.asarray(b, dtype=float))
    if A.shape[0] == 0:
        idx = layout.argmax(np.asarray(c, dtype=float))
        return OracleResult(layout.one_hot(idx), float(np.asarray(c)[idx].sum()), True)
    if A.shape[0] == 1:
        row = A.toarray().ravel() if sp.issparse(A) else A[0]
        return mck_oracle(c, row, float(b[0]), layout)
    return lp_oracle(c, A, b, layout, highs)


def weak_duality_bound(c: np.ndarray, A, row_lower: np.ndarray, row_upper: np.ndarray,
                       col_lower: np.ndarray, col_upper: np.ndarray, y: np.ndarray) -> float:
    """A rigorous upper bound on ``max c.x`` s.t. ``lo <= A x <= up``, ``l <= x <= u``.

    For *any* row multipliers ``y``, ``c.x = (c - A^T y).x + y.(A x)`` is at most
    ``max_x (c - A^T y).x + max_s y.s`` over the box and the row bounds.  The sign convention
    of a solver's duals does not matter: both ``y`` and ``-y`` are tried and the smaller bound
    is returned.  Multipliers of rows whose needed side is infinite are set to zero.
    """
    A = sp.csr_matrix(A)

    def bound(yv):
        yv = np.where((yv > 0) & ~np.isfinite(row_upper), 0.0, yv)
        yv = np.where((yv < 0) & ~np.isfinite(row_lower), 0.0, yv)
        r = c - A.T @ yv
        box = np.where(r > 0, r * col_upper, r * col_lower)
        rows = np.where(yv > 0, yv * np.where(np.isfinite(row_upper), row_upper, 0.0),
                        yv * np.where(np.isfinite(row_lower), row_lower, 0.0))
        return float(box.sum() + rows.sum())

    y = np.asarray(y, dtype=float)
    return min(bound(y), bound(-y))


def compact_lp_bound(model) -> tuple[float, np.ndarray | None]:
    """LP relaxation of a :class:`~binas_opt.solvers._compact.CompactModel` by HiGHS.

    Returns ``(bound, x)``: a rigorous upper bound (weak duality on HiGHS's duals, in the model's
    maximised sense, offset included) and the LP solution; ``(-inf, None)`` when the LP is
    infeasible (then so is the MILP).
    """
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    a = model.A.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_ = model.n_cols
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = model.c
    lp.col_lower_ = model.col_lower
    lp.col_upper_ = model.col_upper
    lp.row_lower_ = np.where(np.isinf(model.row_lower), -inf, model.row_lower)
    lp.row_upper_ = np.where(np.isinf(model.row_upper), inf, model.row_upper)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return -np.inf, None
    if status != highspy.HighsModelStatus.kOptimal:
        return np.inf, None
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=float)
    y = np.asarray(sol.row_dual, dtype=float)
    b = weak_duality_bound(model.c, model.A, model.row_lower, model.row_upper,
                           model.col_lower, model.col_upper, y)
    return b + model.offset, x
