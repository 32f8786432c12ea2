"""The compact MILP of DESIGN 2.2 as sparse arrays, shared by the ``milp``, ``pulp`` and
``relax`` backends.

Variables (columns), in order:

* ``z`` (n_alpha): ``z_{s,b,o} = alpha_{s,b,o} * pi_{s,b}(beta)``, op ``o`` used in an active block;
* ``beta`` (n_beta): the depth of every stage;
* for a QuadraticForm objective only: ``alpha`` (n_alpha), the op of every block (inactive too),
  and ``w``, one continuous variable per product ``x_i x_j`` of the form (McCormick, exact for
  binary ``x``).

Rows: ``sum_o z_{s,b,o} = sum_{d > b} beta_{s,d}`` per block, ``sum_d beta_{s,d} = 1`` per stage,
one row per budget; with ``alpha``: ``sum_o alpha_{s,b,o} = 1`` and ``z <= alpha``; then the
McCormick rows of ``w``.  The objective is always *maximised* (``sign`` applied).

The ``naive`` formulation (for benchmarks) keeps ``alpha`` and ``beta`` and introduces one
McCormick product per (alpha, beta) pair that any table couples, as the paper's bilinear program
would be linearised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from binas_opt.model.architecture import Architecture
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.model.quadratic import QuadraticForm
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table

__all__ = ["CompactModel", "build_model"]


@dataclass(frozen=True)
class CompactModel:
    """``max c.x + offset`` s.t. ``row_lower <= A x <= row_upper``, bounds, integrality."""

    space: SearchSpace
    c: np.ndarray
    offset: float
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    budget_rows: np.ndarray
    budget_consts: np.ndarray
    budget_le: np.ndarray
    z: slice
    beta: slice
    alpha: slice | None
    formulation: str
    w_pairs: np.ndarray

    @property
    def n_cols(self) -> int:
        return self.c.size

    def with_budgets(self, budgets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row bounds for new budget values (in the constraints' order)."""
        lo, up = self.row_lower.copy(), self.row_upper.copy()
        rhs = np.asarray(budgets, dtype=float) - self.budget_consts
        le = self.budget_le
        up[self.budget_rows[le]] = rhs[le]
        lo[self.budget_rows[~le]] = rhs[~le]
        return lo, up

    def tightened(self, lower: np.ndarray, upper: np.ndarray, excess: np.ndarray):
        """Row bounds with every budget row moved inwards by its ``excess`` (plus a hair), for
        re-solving when a solver's feasibility tolerance let a budget slip."""
        lower, upper = lower.copy(), upper.copy()
        shift = np.asarray(excess) * (1 + 1e-6) + 1e-12
        le = self.budget_le
        upper[self.budget_rows[le]] -= shift[le]
        lower[self.budget_rows[~le]] += shift[~le]
        return lower, upper

    def decode(self, x: np.ndarray) -> Architecture:
        """The architecture of an (integral) solution vector."""
        sp_ = self.space
        beta = x[self.beta]
        idx = sp_.index
        depths = tuple(
            st.depths[int(np.argmax(beta[idx.beta_offset[s]: idx.beta_offset[s] + len(st.depths)]))]
            for s, st in enumerate(sp_.stages)
        )
        src = x[self.alpha] if self.alpha is not None else x[self.z]
        ops = []
        for s, st in enumerate(sp_.stages):
            row = []
            for b, n in enumerate(st.num_ops):
                if self.alpha is None and b >= depths[s]:
                    row.append(0)
                    continue
                a0 = idx.alpha_offset[s, b]
                row.append(int(np.argmax(src[a0: a0 + n])))
            ops.append(tuple(row))
        return Architecture(depths, tuple(ops))

    def encode(self, arch: Architecture) -> np.ndarray:
        """A full solution vector for ``arch`` (for warm starts)."""
        sp_ = self.space
        alpha, beta = sp_.encode(arch)
        active = np.repeat(
            sp_.active_mask(np.asarray(arch.depths))[0],
            [n for st in sp_.stages for n in st.num_ops],
        )
        x = np.zeros(self.n_cols)
        x[self.z] = alpha * active
        x[self.beta] = beta
        if self.alpha is not None:
            x[self.alpha] = alpha
            n_w = self.n_cols - self.alpha.stop
            if n_w:
                xi = np.concatenate([alpha, beta])
                pairs = self.w_pairs
                x[self.alpha.stop:] = xi[pairs[0]] * xi[pairs[1]]
        return x


def budget_excess(problem: Problem, arch: Architecture) -> np.ndarray:
    """Amount by which each budget is exceeded on ``arch`` (0 where met), beyond float noise."""
    over = problem.violations(arch)
    return np.array([over.get(c.name, 0.0) for c in problem.constraints])


def _block_linking(space: SearchSpace):
    """Rows ``sum_o z_{s,b,o} - sum_{d > b} beta_{s,d} = 0`` as COO parts (z cols, beta cols)."""
    idx = space.index
    n_blocks = int(sum(st.max_depth for st in space.stages))
    block_of_alpha = np.repeat(np.arange(n_blocks), [n for st in space.stages for n in st.num_ops])
    z_rows, z_cols = block_of_alpha, np.arange(space.n_alpha)
    bs, bp = space.block_stage, space.block_position
    match = (bs[:, None] == idx.beta_stage[None, :]) & (idx.beta_depth[None, :] > bp[:, None])
    b_rows, b_cols = np.nonzero(match)
    return n_blocks, block_of_alpha, (z_rows, z_cols), (b_rows, b_cols)


def dominated_ops(problem: Problem) -> np.ndarray:
    """Alpha entries that an exact solution never needs (Table objective only).

    Op ``i`` of a block is dominated when another op ``j`` of the same block is at least as good
    for the objective and at least as cheap for every constraint, strictly better somewhere or
    earlier in index order (so exactly one of equal ops survives).  Fixing ``z_i = 0`` keeps an
    optimal solution, because swapping ``i`` for ``j`` in any solution stays feasible and is no
    worse.
    """
    space = problem.space
    n_blocks = int(sum(st.max_depth for st in space.stages))
    block = np.repeat(np.arange(n_blocks), [n for st in space.stages for n in st.num_ops])
    i, j = np.nonzero(block[:, None] == block[None, :])
    keep = i != j
    i, j = i[keep], j[keep]
    v = problem.sign * problem.objective.op_values
    better_eq = v[j] >= v[i]
    strict = v[j] > v[i]
    for con in problem.constraints:
        t, _ = con.as_le()
        a = t.op_values
        better_eq &= a[j] <= a[i]
        strict |= a[j] < a[i]
    dom = better_eq & (strict | (j < i))
    out = np.zeros(space.n_alpha, dtype=bool)
    out[i[dom]] = True
    return out


class _Rows:
    """Accumulates sparse rows (COO parts) and their bounds."""

    def __init__(self) -> None:
        self.rows, self.cols, self.vals, self.lo, self.up = [], [], [], [], []
        self.n = 0

    def add(self, local_rows, cols, vals, lo, up, count: int) -> int:
        """Append ``count`` rows; ``local_rows`` numbers them from 0.  Returns the first row."""
        cols = np.asarray(cols)
        self.rows.append(self.n + np.asarray(local_rows))
        self.cols.append(cols)
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=float), cols.shape))
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (count,)))
        self.up.append(np.broadcast_to(np.asarray(up, dtype=float), (count,)))
        start, self.n = self.n, self.n + count
        return start

    def matrix(self, n_cols: int) -> sp.csr_matrix:
        cat = np.concatenate
        return sp.csr_matrix((cat(self.vals), (cat(self.rows), cat(self.cols))), shape=(self.n, n_cols))


def _one_hot_rows(rows: _Rows, group: np.ndarray, cols: np.ndarray, n_groups: int) -> None:
    """``sum of cols in each group == 1``."""
    rows.add(group, cols, 1.0, 1.0, 1.0, n_groups)


def _mccormick(rows: _Rows, xi: np.ndarray, xj: np.ndarray, w: np.ndarray, coef: np.ndarray | None) -> None:
    """McCormick rows for ``w_k = x_i x_j`` over binaries.

    With ``coef`` (the maximised objective coefficient of each product) only the sides the sign
    needs: ``w <= x_i, w <= x_j`` for a positive one, ``w >= x_i + x_j - 1`` otherwise.  Without
    ``coef``, the full envelope.
    """
    upper = np.ones(w.size, dtype=bool) if coef is None else coef > 0
    lower = np.ones(w.size, dtype=bool) if coef is None else coef <= 0
    for other in (xi, xj):
        m = int(upper.sum())
        k = np.arange(m)
        rows.add(np.concatenate([k, k]), np.concatenate([w[upper], other[upper]]),
                 np.concatenate([np.ones(m), -np.ones(m)]), -np.inf, 0.0, m)
    m = int(lower.sum())
    k = np.arange(m)
    rows.add(np.concatenate([k, k, k]), np.concatenate([w[lower], xi[lower], xj[lower]]),
             np.concatenate([np.ones(m), -np.ones(m), -np.ones(m)]), -1.0, np.inf, m)


def _budget_rows(rows: _Rows, problem: Problem, op_cols: np.ndarray, op_entries: np.ndarray,
                 beta_cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per constraint: ``op_values[op_entries]`` on ``op_cols``, depth values on beta."""
    starts, consts, le = [], [], []
    for con in problem.constraints:
        t = con.table
        rhs = con.budget - t.const
        is_le = con.sense == "<="
        cols = np.concatenate([op_cols, beta_cols])
        starts.append(rows.add(np.zeros(cols.size, dtype=np.int64), cols,
                               np.concatenate([t.op_values[op_entries], t.depth_values]),
                               -np.inf if is_le else rhs, rhs if is_le else np.inf, 1))
        consts.append(t.const)
        le.append(is_le)
    return (np.asarray(starts, dtype=np.int64), np.asarray(consts, dtype=float),
            np.asarray(le, dtype=bool))


def build_model(problem: Problem, formulation: str = "compact", reduce: bool = True) -> CompactModel:
    """Build the MILP of ``problem`` (Table or QuadraticForm objective) without Python loops
    over variables.

    With ``reduce`` (Table objectives), ops dominated within their block (see
    :func:`dominated_ops`) get upper bound 0, which keeps the optimum and shrinks the search.
    Budget sweeps that change only budgets may keep the reduction: dominance does not depend on
    budget values.
    """
    space = problem.space
    kind = problem.objective_kind
    if kind is ObjectiveKind.BLACK_BOX:
        raise ValueError("the MILP needs a Table or QuadraticForm objective")
    if formulation not in ("compact", "naive"):
        raise ValueError(f"formulation must be 'compact' or 'naive', got {formulation!r}")
    if formulation == "naive":
        return _build_naive(problem)
    n_a, n_b = space.n_alpha, space.n_beta
    idx = space.index
    quad = kind is ObjectiveKind.QUADRATIC
    z, beta = slice(0, n_a), slice(n_a, n_a + n_b)
    alpha = slice(n_a + n_b, 2 * n_a + n_b) if quad else None
    n_base = (2 * n_a + n_b) if quad else (n_a + n_b)
    beta_cols = n_a + np.arange(n_b)

    rows = _Rows()
    n_blocks, block_of_alpha, (zr, zc), (br, bc) = _block_linking(space)
    rows.add(np.concatenate([zr, br]), np.concatenate([zc, n_a + bc]),
             np.concatenate([np.ones(zr.size), -np.ones(br.size)]), 0.0, 0.0, n_blocks)
    _one_hot_rows(rows, idx.beta_stage, beta_cols, space.n_stages)
    budget_rows, consts, le = _budget_rows(rows, problem, np.arange(n_a), np.arange(n_a), beta_cols)

    c = np.zeros(n_base)
    w_pairs = np.zeros((2, 0), dtype=np.int64)
    if not quad:
        t: Table = problem.objective
        c[z], c[beta], offset = t.op_values, t.depth_values, t.const
    else:
        q: QuadraticForm = problem.objective
        alpha_cols = alpha.start + np.arange(n_a)
        _one_hot_rows(rows, block_of_alpha, alpha_cols, n_blocks)
        k = np.arange(n_a)  # z <= alpha
        rows.add(np.concatenate([k, k]), np.concatenate([k, alpha_cols]),
                 np.concatenate([np.ones(n_a), -np.ones(n_a)]), -np.inf, 0.0, n_a)
        x_col = np.concatenate([alpha_cols, beta_cols])  # x = (alpha, beta) -> columns
        np.add.at(c, x_col, q.linear_part())
        offset = q.const
        u = q.upper_triangular()
        # products inside one one-hot group are always zero: drop them
        grp = np.concatenate([block_of_alpha, n_blocks + idx.beta_stage])
        keep = (grp[u.row] != grp[u.col]) & (u.data != 0)
        pi, pj, coef = u.row[keep], u.col[keep], u.data[keep] * problem.sign
        w_pairs = np.vstack([pi, pj])
        _mccormick(rows, x_col[pi], x_col[pj], n_base + np.arange(pi.size), coef)
        c = np.concatenate([c, coef / problem.sign])
    c = c * problem.sign

    n_cols = c.size
    integer = np.zeros(n_cols, dtype=bool)
    col_upper = np.ones(n_cols)
    if quad:
        integer[beta] = True
        integer[alpha] = True
    else:
        integer[: n_a + n_b] = True
        if reduce:
            col_upper[z][dominated_ops(problem)] = 0.0
    return CompactModel(
        space=space, c=c, offset=float(problem.sign * offset), A=rows.matrix(n_cols),
        row_lower=np.concatenate(rows.lo), row_upper=np.concatenate(rows.up),
        col_lower=np.zeros(n_cols), col_upper=col_upper, integer=integer,
        budget_rows=budget_rows, budget_consts=consts, budget_le=le,
        z=z, beta=beta, alpha=alpha, formulation="compact", w_pairs=w_pairs,
    )


def _build_naive(problem: Problem) -> CompactModel:
    """alpha, beta and one McCormick product per coupled (alpha, beta) pair (benchmark only)."""
    space = problem.space
    if problem.objective_kind is not ObjectiveKind.TABLE:
        raise ValueError("the naive formulation is only built for Table objectives")
    n_a, n_b = space.n_alpha, space.n_beta
    pr, pc = Table._q_pattern(space)  # every coupled (alpha, beta) pair
    alpha, beta = slice(0, n_a), slice(n_a, n_a + n_b)  # columns: alpha | beta | w
    w_cols = n_a + n_b + np.arange(pr.size)
    beta_cols = n_a + np.arange(n_b)
    n_blocks, block_of_alpha, _, _ = _block_linking(space)
    rows = _Rows()
    _one_hot_rows(rows, block_of_alpha, np.arange(n_a), n_blocks)
    _one_hot_rows(rows, space.index.beta_stage, beta_cols, space.n_stages)
    _mccormick(rows, pr, n_a + pc, w_cols, None)  # the naive linearisation ignores signs
    budget_rows, consts, le = _budget_rows(rows, problem, w_cols, pr, beta_cols)
    t = problem.objective
    c = np.zeros(n_a + n_b + pr.size)
    c[beta] = t.depth_values
    c[w_cols] = t.op_values[pr]
    n_cols = c.size
    integer = np.zeros(n_cols, dtype=bool)
    integer[: n_a + n_b] = True
    return CompactModel(
        space=space, c=c * problem.sign, offset=problem.sign * t.const, A=rows.matrix(n_cols),
        row_lower=np.concatenate(rows.lo), row_upper=np.concatenate(rows.up),
        col_lower=np.zeros(n_cols), col_upper=np.ones(n_cols), integer=integer,
        budget_rows=budget_rows, budget_consts=consts, budget_le=le,
        z=slice(0, n_a), beta=beta, alpha=alpha, formulation="naive",
        w_pairs=np.vstack([pr, n_a + pc]),
    )
