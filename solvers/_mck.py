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

The optimum has at most one fractional group (with two non-zero entries).  Steps 1-2 build a
:class:`Hull` (vectorised over groups padded to the largest one, or a plain loop below
``SMALL_N`` items, where numpy's per-call overhead dominates); step 3 is :meth:`Hull.solve`.
The cost is ``O(n log n)`` plus ``O(m^2)`` per group of ``m`` items for the vectorised hull.
A hull serves any per-group rescaling of its values and costs (the Frank-Wolfe alpha step of a
Table objective), so the ``fw`` backend builds that one once per solve.

With several budget rows :func:`lp_oracle` solves the same LP with HiGHS (sparse, ``highspy``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._highs import new_highs

SMALL_N = 64  # at most this many items: build the hull by a plain loop (see Hull._of_small)

__all__ = ["GroupLayout", "Hull", "OracleResult", "mck_oracle", "lp_oracle", "linear_oracle",
           "weak_duality_bound", "compact_lp_bound"]


@dataclass(frozen=True)
class GroupLayout:
    """Contiguous groups of a flat vector: group ``g`` is ``[ptr[g], ptr[g+1])``.

    Precomputes the padded index matrix used by the vectorised oracle: ``cells[j, g]`` is the
    flat index of the ``j``-th item of group ``g`` (item-major, so that reductions over a group
    run along the first axis, over contiguous rows), and ``n`` (a sentinel one past the last
    item) where the group has fewer than ``max(sizes)`` items.
    """

    ptr: np.ndarray
    group: np.ndarray  # group of every item
    cells: np.ndarray  # (max_size, n_groups) flat item index, n where padded
    sizes: np.ndarray
    cols: np.ndarray  # (1, n_groups) column numbers, for fancy indexing of padded arrays
    upper: np.ndarray  # (max_size, max_size, 1): i < j
    lower: np.ndarray  # (max_size, max_size, 1): i > j

    @classmethod
    def from_sizes(cls, sizes) -> GroupLayout:
        sizes = np.asarray(sizes, dtype=np.int64).ravel()
        if sizes.size == 0 or (sizes < 1).any():
            raise ValueError(f"GroupLayout: every group needs at least one item, got sizes {sizes}")
        ptr = np.concatenate([[0], np.cumsum(sizes)])
        group = np.repeat(np.arange(sizes.size), sizes)
        m = int(sizes.max())
        j = np.arange(m)[:, None]
        cells = np.where(j < sizes[None, :], ptr[None, :-1] + j, ptr[-1])
        tri = np.triu(np.ones((m, m), dtype=bool), 1)[:, :, None]
        return cls(ptr=ptr, group=group, cells=cells, sizes=sizes,
                   cols=np.arange(sizes.size)[None, :], upper=tri, lower=tri.transpose(1, 0, 2))

    @property
    def n_groups(self) -> int:
        return int(self.sizes.size)

    @property
    def n(self) -> int:
        return int(self.ptr[-1])

    def argmax(self, v: np.ndarray) -> np.ndarray:
        """Flat index of the largest entry of every group (lowest index on ties)."""
        vals = np.append(v, -np.inf)[self.cells]
        return self.cells[np.argmax(vals, axis=0), self.cols[0]]

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


def _sorted_hull(c: np.ndarray, a: np.ndarray, layout: GroupLayout):
    """Every group's items sorted by cost, and the mask of its upper-hull vertices.

    Returns ``keys`` of shape (2, m, n_groups): ``keys[0]`` is minus the value and ``keys[1]``
    the cost, sorted by cost down each column (ties: higher value first), with every item that
    is not alive (padding, dominated) set to ``inf`` in both rows; ``items``, the flat index of
    every cell; and ``hull``, the boolean mask of the hull vertices.

    An item survives domination when it is worth strictly more than every cheaper item of its
    group; the survivors then have strictly increasing cost and value, and survivor ``j`` is a
    vertex of the upper hull iff ``max_{k > j} slope(j, k) < min_{i < j} slope(i, j)`` (strict:
    collinear items are dropped).  All slopes of a group are computed at once (``O(m^2)``, ``m``
    at most a few dozen); a slope involving a dead item, and every entry off the side of the
    diagonal being reduced, is ``nan`` and ignored by ``fmin/fmax`` (a side with no slope at all
    constrains nothing).
    """
    n = layout.n
    ext = np.empty((2, n + 1))
    np.negative(c, out=ext[0, :n])
    ext[1, :n] = a
    ext[:, n] = np.inf  # the padding sentinel: infinitely expensive, worth -inf
    order = np.lexsort(ext[:, layout.cells], axis=0)  # down each column: by cost, then value
    items = layout.cells[order, layout.cols]
    keys = ext[:, items]
    run_min = np.minimum.accumulate(keys[0], axis=0)
    alive = np.ones(run_min.shape, dtype=bool)
    np.less(keys[0, 1:], run_min[:-1], out=alive[1:])
    keys = np.where(alive, keys, np.inf)
    if keys.shape[1] <= 2:
        return keys, items, alive
    nv, cost = keys
    # minus the slope of every pair: [i, j, g] = (value_i - value_j) / (cost_j - cost_i),
    # symmetric in i, j; reduced down axis 0 (contiguous rows) on either side of the diagonal
    neg_slope = nv[None] - nv[:, None]
    np.divide(neg_slope, cost[None] - cost[:, None], out=neg_slope)
    left = np.fmax.reduce(np.where(layout.upper, neg_slope, np.nan), axis=0)  # -min_{i<j}
    right = np.fmin.reduce(np.where(layout.lower, neg_slope, np.nan), axis=0)  # -max_{k>j}
    return keys, items, alive > (left >= right)


@dataclass(frozen=True)
class Hull:
    """The continuous multiple-choice knapsack of one ``(c, a)``, ready for its greedy.

    Holds every group's cheapest item and the increments between consecutive upper-hull
    vertices, in greedy order (decreasing value/cost slope).  Scaling a group's values by
    ``r_g >= 0`` and its costs by ``s_g >= 0`` keeps its hull and the order of its own
    increments, and multiplies their slopes by ``r_g / s_g``; :meth:`solve` answers such scaled
    problems without rebuilding (only the global order is re-sorted, and only when ``r != s``).
    The Frank-Wolfe alpha step of a Table objective is one: ``s = pi(beta)``, and ``r = s`` for
    the gradient or a running average of past ``pi`` with momentum.
    """

    n: int
    start_item: np.ndarray  # (n_groups,) every group's cheapest item
    start_cost: np.ndarray  # (n_groups,)
    inc_from: np.ndarray  # (k,) per increment, in greedy order: the vertex it leaves ...
    inc_to: np.ndarray  # ... and the one it reaches
    inc_group: np.ndarray
    inc_cost: np.ndarray
    inc_slope: np.ndarray  # value / cost, decreasing

    @classmethod
    def of(cls, c: np.ndarray, a: np.ndarray, layout: GroupLayout) -> Hull:
        """Build the hull of ``(c, a)``: vectorised, or by a plain loop for small layouts."""
        if layout.n <= SMALL_N:
            return cls._of_small(np.asarray(c, dtype=float).tolist(),
                                 np.asarray(a, dtype=float).tolist(), layout)
        with np.errstate(divide="ignore", invalid="ignore"):
            keys, items, hull = _sorted_hull(np.asarray(c, dtype=float),
                                             np.asarray(a, dtype=float), layout)
            # the hull vertices of all groups, flat: grouped, by increasing cost in a group
            f_group, f_pos = np.nonzero(hull.T)
            f = keys[:, f_pos, f_group]
            step = f[:, 1:] - f[:, :-1]  # minus the value increment, the cost increment
            inner = f_group[1:] == f_group[:-1]
            # by decreasing slope; inside a group slopes strictly decrease, so a group's
            # increments stay in hull order
            neg_slope = np.where(inner, step[0] / step[1], np.inf)
        order = np.argsort(neg_slope)[: np.count_nonzero(inner)]
        f_item = items[f_pos, f_group]
        return cls(n=layout.n, start_item=items[0], start_cost=keys[1, 0],
                   inc_from=f_item[order], inc_to=f_item[order + 1], inc_group=f_group[order],
                   inc_cost=step[1, order], inc_slope=-neg_slope[order])

    @classmethod
    def _of_small(cls, c: list, a: list, layout: GroupLayout) -> Hull:
        """The same hull by Andrew's monotone chain per group, in plain Python.

        Below about ``SMALL_N`` items the ~40 numpy calls of the vectorised path cost more than
        the loop (the beta block of the paper space, 15 items: about 4x).
        """
        ptr = layout.ptr.tolist()
        start_item, start_cost, incs = [], [], []
        for g in range(len(ptr) - 1):
            chain: list[int] = []
            best = -math.inf
            for i in sorted(range(ptr[g], ptr[g + 1]), key=lambda i: (a[i], -c[i])):
                if c[i] <= best:  # dominated: a cheaper (or as cheap) item is worth as much
                    continue
                best = c[i]
                # drop the last vertex while it is on or below the chord to item i
                while len(chain) >= 2 and ((c[chain[-1]] - c[chain[-2]])
                                           / (a[chain[-1]] - a[chain[-2]])
                                           <= (c[i] - c[chain[-1]]) / (a[i] - a[chain[-1]])):
                    chain.pop()
                chain.append(i)
            start_item.append(chain[0])
            start_cost.append(a[chain[0]])
            for p, q in zip(chain, chain[1:], strict=False):
                incs.append(((c[p] - c[q]) / (a[q] - a[p]), a[q] - a[p], p, q, g))
        incs.sort()
        neg, cost, frm, to, grp = zip(*incs, strict=True) if incs else ((),) * 5
        ints = {"dtype": np.int64}
        return cls(n=layout.n, start_item=np.array(start_item, **ints),
                   start_cost=np.array(start_cost), inc_from=np.array(frm, **ints),
                   inc_to=np.array(to, **ints), inc_group=np.array(grp, **ints),
                   inc_cost=np.array(cost, dtype=float), inc_slope=-np.array(neg, dtype=float))

    def solve(self, c: np.ndarray, b: float, scale: np.ndarray | None = None,
              value_scale: np.ndarray | None = None) -> OracleResult:
        """The greedy: take increments by decreasing slope while the budget ``b`` lasts.

        Parameters
        ----------
        c : ndarray
            The objective actually maximised (the hull's values, scaled); it only serves to
            report the value.
        b : float
            Right-hand side of the budget.
        scale : ndarray, shape (n_groups,), optional
            ``s_g >= 0`` multiplying every cost (and every value, unless ``value_scale``) of
            group ``g``.
        value_scale : ndarray, shape (n_groups,), optional
            ``r_g >= 0`` multiplying the values of group ``g`` instead.
        """
        start, inc = self.start_cost, self.inc_cost
        frm, to = self.inc_from, self.inc_to
        if scale is not None:
            start, inc = start * scale, inc * scale[self.inc_group]
        if value_scale is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = value_scale if scale is None else value_scale / scale
                slope = self.inc_slope * ratio[self.inc_group]  # inf: free; nan: worthless
            order = np.argsort(-slope)[: np.count_nonzero(slope > 0)]
            inc, frm, to = inc[order], frm[order], to[order]
        spend = float(start.sum())
        slack_tol = 1e-12 * max(1.0, abs(b), float(np.abs(start).sum()))
        if spend > b + slack_tol:
            return OracleResult(None, -np.inf, False)
        u = np.zeros(self.n)
        u[self.start_item] = 1.0
        cum = np.cumsum(inc)
        cap = b - spend
        stop = int(np.searchsorted(cum, cap + slack_tol, side="right"))
        u[to[:stop]] = 1.0  # a group's last reached vertex ends at 1 ...
        u[frm[:stop]] = 0.0  # ... and every vertex it moved on from at 0
        frac = 0
        if stop < cum.size:
            left = cap - (float(cum[stop - 1]) if stop > 0 else 0.0)
            if left > slack_tol:
                t = min(1.0, left / float(inc[stop]))
                u[frm[stop]] -= t
                u[to[stop]] += t
                frac = 1
        return OracleResult(u, float(c @ u), True, frac)


def mck_oracle(c: np.ndarray, a: np.ndarray, b: float, layout: GroupLayout) -> OracleResult:
    """Maximise ``c.u`` over the product of simplices of ``layout`` with ``a.u <= b``.

    Parameters
    ----------
    c, a : ndarray, shape (n,)
        Objective and budget-row coefficients (any finite real numbers).
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
    if not np.isfinite(b):
        if b < 0:
            return OracleResult(None, -np.inf, False)
        idx = layout.argmax(c)
        return OracleResult(layout.one_hot(idx), float(c[idx].sum()), True)
    return Hull.of(c, a, layout).solve(c, b)


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
    h = highs if highs is not None else new_highs()
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

    h = new_highs()
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
