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

from binas_opt.architecture import Architecture
from binas_opt.problem import ObjectiveKind, Problem
from binas_opt.quadratic import QuadraticForm
from binas_opt.space import SearchSpace
from binas_opt.table import Table

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


def _mccormick(pairs_i, pairs_j, coef, w0, row0):
    """McCormick rows for ``w_k = x_i x_j``; only the sides the objective's sign needs.

    For a maximised positive coefficient ``w <= x_i`` and ``w <= x_j`` suffice; for a negative
    one ``w >= x_i + x_j - 1``.  Returns COO data and row bounds.
    """
    k = np.arange(pairs_i.size)
    w = w0 + k
    pos, neg = coef > 0, coef <= 0
    rows, cols, vals, lo, up = [], [], [], [], []
    r = row0
    for sel, other in ((pos, pairs_i), (pos, pairs_j)):
        m = int(sel.sum())
        rr = r + np.arange(m)
        rows += [rr, rr]
        cols += [w[sel], other[sel]]
        vals += [np.ones(m), -np.ones(m)]
        lo.append(np.full(m, -np.inf))
        up.append(np.zeros(m))
        r += m
    m = int(neg.sum())
    rr = r + np.arange(m)
    rows += [rr, rr, rr]
    cols += [w[neg], pairs_i[neg], pairs_j[neg]]
    vals += [np.ones(m), -np.ones(m), -np.ones(m)]
    lo.append(np.full(m, -1.0))
    up.append(np.full(m, np.inf))
    r += m
    cat = np.concatenate
    return cat(rows), cat(cols), cat(vals), cat(lo), cat(up), r


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
    quad = kind is ObjectiveKind.QUADRATIC
    z, beta = slice(0, n_a), slice(n_a, n_a + n_b)
    alpha = slice(n_a + n_b, 2 * n_a + n_b) if quad else None
    n_base = (2 * n_a + n_b) if quad else (n_a + n_b)

    rows, cols, vals, lo, up = [], [], [], [], []
    # block linking
    n_blocks, block_of_alpha, (zr, zc), (br, bc) = _block_linking(space)
    rows += [zr, br]
    cols += [zc, n_a + bc]
    vals += [np.ones(zr.size), -np.ones(br.size)]
    lo.append(np.zeros(n_blocks))
    up.append(np.zeros(n_blocks))
    r = n_blocks
    # stage rows
    idx = space.index
    rows.append(r + idx.beta_stage)
    cols.append(n_a + np.arange(n_b))
    vals.append(np.ones(n_b))
    lo.append(np.ones(space.n_stages))
    up.append(np.ones(space.n_stages))
    r += space.n_stages
    # budgets
    budget_rows, consts, le = [], [], []
    for con in problem.constraints:
        t = con.table
        rows += [np.full(n_a, r), np.full(n_b, r)]
        cols += [np.arange(n_a), n_a + np.arange(n_b)]
        vals += [t.op_values, t.depth_values]
        rhs = con.budget - t.const
        is_le = con.sense == "<="
        lo.append([-np.inf if is_le else rhs])
        up.append([rhs if is_le else np.inf])
        budget_rows.append(r)
        consts.append(t.const)
        le.append(is_le)
        r += 1

    c = np.zeros(n_base)
    offset = 0.0
    w_pairs = np.zeros((2, 0), dtype=np.int64)
    if not quad:
        t: Table = problem.objective
        c[z] = t.op_values
        c[beta] = t.depth_values
        offset = t.const
    else:
        q: QuadraticForm = problem.objective
        # alpha one-hot per block, z <= alpha
        rows += [r + block_of_alpha]
        cols += [alpha.start + np.arange(n_a)]
        vals += [np.ones(n_a)]
        lo.append(np.ones(n_blocks))
        up.append(np.ones(n_blocks))
        r += n_blocks
        ar = r + np.arange(n_a)
        rows += [ar, ar]
        cols += [np.arange(n_a), alpha.start + np.arange(n_a)]
        vals += [np.ones(n_a), -np.ones(n_a)]
        lo.append(np.full(n_a, -np.inf))
        up.append(np.zeros(n_a))
        r += n_a
        # objective: x = (alpha, beta) maps to columns (alpha, beta)
        x_col = np.concatenate([alpha.start + np.arange(n_a), n_a + np.arange(n_b)])
        lin = q.linear_part()
        np.add.at(c, x_col, lin)
        offset = q.const
        u = q.upper_triangular()
        # products inside one one-hot group are always zero: drop them
        grp = np.concatenate([block_of_alpha, n_blocks + idx.beta_stage])
        keep = (grp[u.row] != grp[u.col]) & (u.data != 0)
        pi, pj, coef = u.row[keep], u.col[keep], u.data[keep] * problem.sign
        w_pairs = np.vstack([pi, pj])
        mr, mc, mv, mlo, mup, r = _mccormick(x_col[pi], x_col[pj], coef, n_base, r)
        rows.append(mr)
        cols.append(mc)
        vals.append(mv)
        lo.append(mlo)
        up.append(mup)
        c = np.concatenate([c * problem.sign, coef])
        offset *= problem.sign
    if not quad:
        c = c * problem.sign
        offset *= problem.sign

    n_cols = c.size
    A = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, n_cols)
    )
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
        space=space, c=c, offset=float(offset), A=A,
        row_lower=np.concatenate([np.asarray(x, dtype=float) for x in lo]),
        row_upper=np.concatenate([np.asarray(x, dtype=float) for x in up]),
        col_lower=np.zeros(n_cols), col_upper=col_upper, integer=integer,
        budget_rows=np.asarray(budget_rows, dtype=np.int64),
        budget_consts=np.asarray(consts, dtype=float), budget_le=np.asarray(le, dtype=bool),
        z=z, beta=beta, alpha=alpha, formulation="compact", w_pairs=w_pairs,
    )


def _build_naive(problem: Problem) -> CompactModel:
    """alpha, beta and one McCormick product per coupled (alpha, beta) pair (benchmark only)."""
    space = problem.space
    if problem.objective_kind is not ObjectiveKind.TABLE:
        raise ValueError("the naive formulation is only built for Table objectives")
    n_a, n_b = space.n_alpha, space.n_beta
    idx = space.index
    pr, pc = Table._q_pattern(space)  # every coupled (alpha, beta) pair
    n_w = pr.size
    # columns: alpha | beta | w
    alpha, beta = slice(0, n_a), slice(n_a, n_a + n_b)
    w0 = n_a + n_b
    n_blocks, block_of_alpha, _, _ = _block_linking(space)
    rows, cols, vals, lo, up = [], [], [], [], []
    rows.append(block_of_alpha)
    cols.append(np.arange(n_a))
    vals.append(np.ones(n_a))
    lo.append(np.ones(n_blocks))
    up.append(np.ones(n_blocks))
    r = n_blocks
    rows.append(r + idx.beta_stage)
    cols.append(n_a + np.arange(n_b))
    vals.append(np.ones(n_b))
    lo.append(np.ones(space.n_stages))
    up.append(np.ones(space.n_stages))
    r += space.n_stages
    # full McCormick envelope (the naive linearisation does not exploit signs)
    k = np.arange(n_w)
    for other in (pr, n_a + pc):
        rr = r + k
        rows += [rr, rr]
        cols += [w0 + k, other]
        vals += [np.ones(n_w), -np.ones(n_w)]
        lo.append(np.full(n_w, -np.inf))
        up.append(np.zeros(n_w))
        r += n_w
    rr = r + k
    rows += [rr, rr, rr]
    cols += [w0 + k, pr, n_a + pc]
    vals += [np.ones(n_w), -np.ones(n_w), -np.ones(n_w)]
    lo.append(np.full(n_w, -1.0))
    up.append(np.full(n_w, np.inf))
    r += n_w
    budget_rows, consts, le = [], [], []
    for con in problem.constraints:
        t = con.table
        rows += [np.full(n_w, r), np.full(n_b, r)]
        cols += [w0 + k, n_a + np.arange(n_b)]
        vals += [t.op_values[pr], t.depth_values]
        rhs = con.budget - t.const
        is_le = con.sense == "<="
        lo.append([-np.inf if is_le else rhs])
        up.append([rhs if is_le else np.inf])
        budget_rows.append(r)
        consts.append(t.const)
        le.append(is_le)
        r += 1
    t = problem.objective
    c = np.zeros(w0 + n_w)
    c[beta] = t.depth_values
    c[w0:] = t.op_values[pr]
    c *= problem.sign
    n_cols = c.size
    A = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, n_cols)
    )
    integer = np.zeros(n_cols, dtype=bool)
    integer[: n_a + n_b] = True
    return CompactModel(
        space=space, c=c, offset=problem.sign * t.const, A=A,
        row_lower=np.concatenate([np.asarray(x, dtype=float) for x in lo]),
        row_upper=np.concatenate([np.asarray(x, dtype=float) for x in up]),
        col_lower=np.zeros(n_cols), col_upper=np.ones(n_cols), integer=integer,
        budget_rows=np.asarray(budget_rows, dtype=np.int64),
        budget_consts=np.asarray(consts, dtype=float), budget_le=np.asarray(le, dtype=bool),
        z=slice(0, n_a), beta=beta, alpha=alpha, formulation="naive",
        w_pairs=np.vstack([pr, n_a + pc]),
    )
