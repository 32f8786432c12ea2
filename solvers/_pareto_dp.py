"""Exact (or epsilon-bounded) Pareto fronts of additive tables, stage by stage.

For one additive cost table ``c`` and one additive value table ``v`` (to be maximised) over a
:class:`~binas_opt.SearchSpace`, the set of architectures splits into independent stages joined
only through the sums.  The exact front of (cost, value) pairs is built as

1. per block: the non-dominated ops (cost ascending, value strictly ascending);
2. per stage: ``F_0 = {(0, 0)}``, ``F_{b+1} = prune(F_b (+) block_b)``; the front of depth ``d``
   is ``F_d + (g_c[d], g_v[d])``; the stage front is ``prune(union over allowed depths)``;
3. over stages: ``G_1 = S_1``, ``G_k = prune(G_{k-1} (+) S_k)``;

where ``(+)`` is the Minkowski sum and ``prune`` keeps the points that no other point dominates
(``c' <= c`` and ``v' >= v``).  Costs are floats and nothing is discretised, so every point is
exactly optimal for every budget between its cost and the next point's.  Every level stores the
parents of its points, so the architecture of any point is recovered by walking back.

Minkowski sums are computed with sorted sweeps in numpy: candidate pairs are generated in chunks
of rows, filtered against the current front with :func:`numpy.searchsorted`, and pruned with a
sort and a running maximum; never with pairwise Python loops.

Epsilon-dominance
-----------------
With ``delta > 0`` every stage front and every merged front is *thinned* after pruning: values are
bucketed by ``floor((v - v_min) / delta)`` and only the cheapest point of each bucket is kept, so
every dropped point has a kept point that is no more expensive and at most ``delta`` worse.  Along
any architecture the error adds up over the thinning steps it passes (one per stage front and one
per merged front), so the guarantee is

.. math:: \\hat v(B) \\ge v^*(B) - \\varepsilon, \\qquad
   \\varepsilon = \\sum_{\\text{stages}} \\delta_s + \\sum_{\\text{merges}} \\delta_k

for every budget ``B``, where :math:`\\hat v(B)` is the best point of the thinned front with cost at
most ``B`` (a real architecture, so its cost is exact and the budget holds).  A fixed ``epsilon``
uses ``delta = epsilon / (2 S - 1)`` everywhere; a size bound ``max_points`` picks
``delta = (v_max - v_min) / max_points`` per front and reports the resulting epsilon.

Ties: among candidates with equal cost and value the one generated first is kept (lowest op index
within a block, lowest depth, then lowest parent indices), so results are deterministic.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table

__all__ = [
    "pareto_indices", "thin_indices", "minkowski", "StageFront", "Merge", "ParetoDP",
    "build_front", "FrontTooLarge", "OutOfTime",
]

#: Candidate pairs handled in one vectorised chunk of a Minkowski sum.
CHUNK = 1 << 21


class FrontTooLarge(RuntimeError):
    """An exact merge would examine more candidate pairs than allowed."""

    def __init__(self, pairs: int, limit: int, stage: int):
        super().__init__(
            f"exact Pareto merge at stage {stage} would examine {pairs:,} candidate pairs "
            f"(limit max_pairs={limit:,})"
        )
        self.pairs, self.limit, self.stage = pairs, limit, stage


class OutOfTime(RuntimeError):
    """The deadline passed while building the front."""


# ------------------------------------------------------------------------------ primitives
def pareto_indices(cost: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points, sorted by cost (and value) ascending.

    A point is kept iff every cheaper-or-equal point has a strictly smaller value; among exact
    ties the lowest index is kept.  The kept costs and values are strictly increasing.
    """
    if cost.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(cost, kind="stable")
    cs = cost[order]
    if np.any(cs[1:] == cs[:-1]):  # equal costs: the highest value (then lowest index) first
        order = np.lexsort((-value, cost))
    vs = value[order]
    keep = np.empty(vs.size, dtype=bool)
    keep[0] = True
    np.greater(vs[1:], np.maximum.accumulate(vs)[:-1], out=keep[1:])
    return order[keep]


def thin_indices(value: np.ndarray, delta: float) -> np.ndarray:
    """Epsilon-dominance thinning of a front (values ascending): the cheapest point of every
    value bucket of width ``delta``; each dropped point is at most ``delta`` better than a kept,
    cheaper one."""
    if delta <= 0 or value.size <= 1:
        return np.arange(value.size)
    bucket = np.floor((value - value[0]) / delta).astype(np.int64)
    keep = np.empty(value.size, dtype=bool)
    keep[0] = True
    np.not_equal(bucket[1:], bucket[:-1], out=keep[1:])
    return np.flatnonzero(keep)


def _dominated(rc: np.ndarray, rv: np.ndarray, c: np.ndarray, v: np.ndarray,
               tol: float = 0.0) -> np.ndarray:
    """Candidates dominated by the front ``(rc, rv)``: some point costs no more and is worth at
    least ``v - tol``.  With ``tol = 0`` exact ties are *not* dominated (the final prune breaks
    them by key)."""
    k = np.searchsorted(rc, c, side="right") - 1
    ok = k >= 0
    kk = np.where(ok, k, 0)
    best_c, best_v = rc[kk], rv[kk]
    if tol > 0:
        return ok & (best_v >= v - tol)
    tie = (best_c == c) & (best_v == v)
    return ok & (best_v >= v) & ~tie


def minkowski(ac: np.ndarray, av: np.ndarray, bc: np.ndarray, bv: np.ndarray, *,
              cap: float = np.inf, tol: float = 0.0, check: Callable[[], None] | None = None):
    """Front of ``{a + b}`` for two fronts, with parents.

    Parameters
    ----------
    ac, av, bc, bv : ndarray
        Two fronts (costs and values ascending).
    cap : float
        Drop candidates costlier than ``cap`` (a budget minus what later stages cost at least).
    tol : float
        Also drop candidates that a point already found beats up to ``tol`` (epsilon mode: every
        dropped candidate has a kept point no more expensive and at most ``tol`` worse).
    check : callable, optional
        Called between chunks (raises :class:`OutOfTime` when the deadline has passed).

    Returns
    -------
    cost, value, ia, ib : ndarray
        The merged front and the index of each point's parents in ``a`` and ``b``.
    """
    na, nb = ac.size, bc.size
    rows = max(1, CHUNK // max(nb, 1))
    if na <= rows and tol <= 0:
        c = (ac[:, None] + bc[None, :]).ravel()
        v = (av[:, None] + bv[None, :]).ravel()
        keyset = None
        if np.isfinite(cap):
            keyset = np.flatnonzero(c <= cap)
            c, v = c[keyset], v[keyset]
        k = pareto_indices(c, v)
        key = k if keyset is None else keyset[k]
        return c[k], v[k], key // nb, key % nb
    # chunked: a coarse grid of rows x columns gives a cheap, well spread starting front R;
    # then every row is generated, filtered against R (first through a bucket table of R's
    # step function, O(1) per candidate, then exactly), and the survivors merged into R.
    gi = np.unique(np.linspace(0, na - 1, min(na, 256)).astype(np.int64))
    gj = np.unique(np.linspace(0, nb - 1, min(nb, 256)).astype(np.int64))
    rkey = (gi[:, None] * nb + gj[None, :]).ravel()
    rc, rv = ac[rkey // nb] + bc[rkey % nb], av[rkey // nb] + bv[rkey % nb]
    m = rc <= cap
    rkey, rc, rv = rkey[m], rc[m], rv[m]
    k = pareto_indices(rc, rv)
    rc, rv, rkey = rc[k], rv[k], rkey[k]
    lo, hi = ac[0] + bc[0], ac[-1] + bc[-1]
    grid = _StepTable(rc, rv, lo, hi)
    pend_c, pend_v, pend_k = [], [], []
    n_pend = 0
    for start in range(0, na, rows):
        if check is not None:
            check()
        sel = np.arange(start, min(na, start + rows))
        c = (ac[sel, None] + bc[None, :]).ravel()
        v = (av[sel, None] + bv[None, :]).ravel()
        m = grid.maybe_undominated(c, v, tol)
        if np.isfinite(cap):
            m &= c <= cap
        idx = np.flatnonzero(m)
        c, v = c[idx], v[idx]
        if rc.size:
            m = ~_dominated(rc, rv, c, v, tol)
            idx, c, v = idx[m], c[m], v[m]
        key = (start + idx // nb) * nb + idx % nb
        k = pareto_indices(c, v)  # prune the chunk on its own (keeps pending lists short)
        pend_c.append(c[k])
        pend_v.append(v[k])
        pend_k.append(key[k])
        n_pend += k.size
        if n_pend > max(rc.size, 1 << 14):
            rc, rv, rkey = _merge_pending(rc, rv, rkey, pend_c, pend_v, pend_k)
            pend_c, pend_v, pend_k, n_pend = [], [], [], 0
            grid = _StepTable(rc, rv, lo, hi)
    rc, rv, rkey = _merge_pending(rc, rv, rkey, pend_c, pend_v, pend_k)
    return rc, rv, rkey // nb, rkey % nb


class _StepTable:
    """The step function ``L(c) = max{v : (c', v) in R, c' <= c}`` sampled on a uniform grid.

    ``L(e_k)`` at the left edge ``e_k`` of a candidate's cell never exceeds ``L(c)``, so a
    candidate with ``L(e_k) >= v - tol`` (and ``e_k < c`` when ``tol = 0``) is certainly dominated:
    a conservative, O(1) filter; survivors are checked exactly afterwards.
    """

    def __init__(self, rc, rv, lo, hi, cells: int | None = None):
        cells = cells or max(1024, 4 * rc.size)
        self.lo = float(lo)
        self.h = max(float(hi - lo), 1e-300) / cells
        edges = self.lo + self.h * np.arange(cells + 1)
        k = np.searchsorted(rc, edges, side="right") - 1
        self.edges = edges
        self.val = np.where(k >= 0, rv[np.maximum(k, 0)], -np.inf)
        self.cells = cells

    def maybe_undominated(self, c, v, tol):
        k = ((c - self.lo) / self.h).astype(np.int64)
        np.clip(k, 0, self.cells, out=k)
        if tol > 0:
            return self.val[k] < v - tol
        return ~((self.val[k] >= v) & (self.edges[k] < c))


def _merge_pending(rc, rv, rkey, pend_c, pend_v, pend_k):
    c = np.concatenate([rc, *pend_c])
    v = np.concatenate([rv, *pend_v])
    key = np.concatenate([rkey, *pend_k])
    # deterministic ties: order by key first, then pareto_indices keeps the lowest position
    o = np.argsort(key, kind="stable")
    c, v, key = c[o], v[o], key[o]
    k = pareto_indices(c, v)
    return c[k], v[k], key[k]


# ------------------------------------------------------------------------------ data
@dataclass(frozen=True)
class StageFront:
    """Front of one stage: cost, value (constants excluded), and depth / op indices per point."""

    cost: np.ndarray
    value: np.ndarray
    depth: np.ndarray  # (n,) depth value
    ops: np.ndarray  # (n, max_depth) op indices, 0 for inactive blocks
    delta: float = 0.0


@dataclass(frozen=True)
class Merge:
    """Parents of every point of a merged front ``G_k = G_{k-1} (+) S_k``."""

    left: np.ndarray
    right: np.ndarray
    delta: float = 0.0


@dataclass(frozen=True)
class ParetoDP:
    """The final front (constants included) and what is needed to decode any point.

    ``cost`` and ``value`` are strictly increasing; ``value`` is the *signed* objective
    (maximised).  ``epsilon`` is the guarantee (0 for the exact front).
    """

    space: SearchSpace
    cost: np.ndarray
    value: np.ndarray
    epsilon: float
    stages: tuple[StageFront, ...]
    merges: tuple[Merge, ...]
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.cost.size)

    def query(self, budget: float, slack: float = 0.0) -> int:
        """Index of the best point with float ``cost <= budget + slack``, or -1 (pass a
        rigorous error bound as ``slack`` and check the answer exactly)."""
        return int(np.searchsorted(self.cost, budget + slack, side="right")) - 1

    def decode(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(depths, ops)`` matrices of the given front points (vectorised)."""
        points = np.asarray(points, dtype=np.int64).ravel()
        n_s = self.space.n_stages
        depths = np.zeros((points.size, n_s), dtype=np.int64)
        ops_parts: list[np.ndarray] = [None] * n_s  # type: ignore[list-item]
        cur = points
        for s in range(n_s - 1, -1, -1):
            if s > 0:
                m = self.merges[s - 1]
                st_idx, cur = m.right[cur], m.left[cur]
            else:
                st_idx = cur
            sf = self.stages[s]
            depths[:, s] = sf.depth[st_idx]
            ops_parts[s] = sf.ops[st_idx]
        return depths, np.hstack(ops_parts) if ops_parts else np.zeros((points.size, 0), np.int64)

    def architectures(self, points) -> list:
        d, o = self.decode(points)
        return self.space.architectures_from_arrays(d, o)


# ------------------------------------------------------------------------------ build
def _stage_front(space: SearchSpace, s: int, cost: Table, value: Table, cap: float,
                 delta: float | None, max_points: int | None, check) -> StageFront:
    st = space.stages[s]
    fc, fv = np.zeros(1), np.zeros(1)
    fops = np.zeros((1, 0), dtype=np.int64)
    gc, gv = cost.depth_table(s), value.depth_table(s)
    out_c, out_v, out_d, out_o = [], [], [], []
    for b in range(st.max_depth):
        oc, ov = cost.op_table(s, b), value.op_table(s, b)
        keep = pareto_indices(oc, ov)
        c, v, ia, ib = minkowski(fc, fv, oc[keep], ov[keep], check=check)
        fops = np.hstack([fops[ia], keep[ib][:, None]])
        fc, fv = c, v
        if (b + 1) in st.depths:
            i = st.depths.index(b + 1)
            out_c.append(fc + gc[i])
            out_v.append(fv + gv[i])
            out_d.append(np.full(fc.size, b + 1, dtype=np.int64))
            out_o.append(np.hstack([fops, np.zeros((fc.size, st.max_depth - b - 1), np.int64)]))
    c, v = np.concatenate(out_c), np.concatenate(out_v)
    k = pareto_indices(c, v)
    k = k[c[k] <= cap]
    c, v = c[k], v[k]
    d, o = np.concatenate(out_d)[k], np.vstack(out_o)[k]
    used = _delta_for(v, delta, max_points)
    t = thin_indices(v, used)
    return StageFront(c[t], v[t], d[t], o[t], used)


def _delta_for(value: np.ndarray, delta: float | None, max_points: int | None,
               span: float | None = None) -> float:
    """The thinning width of one step: fixed, or the value span over ``max_points``."""
    if delta is not None:
        return float(delta)
    if max_points is None or (span is None and value.size <= max_points):
        return 0.0
    span = float(value[-1] - value[0]) if span is None else span
    return span / max_points


#: Share of a merge step's error budget spent on filtering candidates (the rest thins the front).
TOL_SHARE = 0.5


def _merge_widths(gc, gv, sf: StageFront, delta, max_points) -> tuple[float, float]:
    """``(tol, width)`` of one merge step: candidate filter tolerance and thinning width."""
    if delta == 0.0 or gc.size == 0 or sf.cost.size == 0:
        return 0.0, 0.0
    if delta is None:  # size bound: the merged value span is known before merging
        width = float(gv[-1] + sf.value[-1] - gv[0] - sf.value[0]) / max_points
        small = gc.size * sf.cost.size <= CHUNK  # exact merge is cheap: filter exactly
        return (0.0 if small else TOL_SHARE * width), width
    return TOL_SHARE * delta, (1.0 - TOL_SHARE) * delta


def build_front(space: SearchSpace, cost: Table, value: Table, *, budget: float = np.inf,
                epsilon: float = 0.0, max_points: int | None = None,
                max_pairs: int | None = None, deadline: float = np.inf) -> ParetoDP:
    """Pareto front of ``(cost, value)`` over ``space``.

    Parameters
    ----------
    cost : Table
        The resource (any sign; ``cost <= budget`` is the constraint).
    value : Table
        Maximised.
    budget : float
        Only points with cost at most ``budget`` are needed (prunes; ``inf``: the whole front).
    epsilon : float
        0: exact.  > 0: epsilon-dominance with this total guarantee (objective units).
    max_points : int, optional
        Instead of ``epsilon``: thin every front to about this many points and report epsilon.
    max_pairs : int, optional
        Raise :class:`FrontTooLarge` before a merge that would bring the number of candidate
        pairs examined so far above this.
    deadline : float
        ``time.perf_counter()`` value after which :class:`OutOfTime` is raised.

    Raises
    ------
    FrontTooLarge, OutOfTime
    """
    t0 = time.perf_counter()

    def check():
        if time.perf_counter() > deadline:
            raise OutOfTime("the time limit passed while building the Pareto front")

    n_s = space.n_stages
    delta = epsilon / (2 * n_s - 1) if epsilon > 0 else (None if max_points else 0.0)
    # cheapest completion of every suffix of stages (for the budget cap)
    stage_min = np.array([cost.stage_best(s, "min")[0].min() for s in range(n_s)])
    rest_min = np.concatenate([np.cumsum(stage_min[::-1])[::-1][1:], [0.0]])
    room = budget - cost.const
    # pruning must keep every point that is feasible exactly: allow a rigorous bound on the
    # float error of the partial sums and of ``cap`` itself (a few sums of the same entries)
    slack = (4.0 * cost.sum_error_bound() + 4.0 * math.ulp(abs(budget))
             if np.isfinite(budget) else 0.0)
    stages = []
    for s in range(n_s):
        check()
        cap = room + slack - rest_min[s] - (stage_min[:s].sum() if s else 0.0)
        stages.append(_stage_front(space, s, cost, value, cap, delta, max_points, check))
    gc, gv = stages[0].cost, stages[0].value
    merges = []
    pairs = 0
    for s in range(1, n_s):
        check()
        sf = stages[s]
        n_pairs = gc.size * sf.cost.size
        if max_pairs is not None and pairs + n_pairs > max_pairs:
            raise FrontTooLarge(pairs + n_pairs, max_pairs, s)
        pairs += n_pairs
        cap = room + slack - rest_min[s]
        tol, width = _merge_widths(gc, gv, sf, delta, max_points)
        c, v, ia, ib = minkowski(gc, gv, sf.cost, sf.value, cap=cap, tol=tol, check=check)
        if max_points is not None and v.size <= max_points:
            width = 0.0
        t = thin_indices(v, width)
        gc, gv = c[t], v[t]
        merges.append(Merge(ia[t].astype(np.int32 if ia.size < 2**31 else np.int64),
                            ib[t].astype(np.int32 if ib.size < 2**31 else np.int64), tol + width))
    eps = sum(sf.delta for sf in stages) + sum(m.delta for m in merges)
    stats = {
        "stage_front_sizes": [int(sf.cost.size) for sf in stages],
        "merged_front_sizes": [int(stages[0].cost.size)] + [int(m.left.size) for m in merges],
        "candidate_pairs": int(pairs),
        "dp_time": time.perf_counter() - t0,
    }
    return ParetoDP(space, gc + cost.const, gv + value.const, float(eps), tuple(stages),
                    tuple(merges), stats)
