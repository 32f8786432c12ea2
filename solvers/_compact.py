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

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import scipy.sparse as sp

from binas_opt.model.architecture import Architecture
from binas_opt.model.choices import Choice
from binas_opt.model.exact import round_down, round_up
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.model.quadratic import QuadraticForm
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table

__all__ = ["CompactModel", "Formulation", "build_model"]


class Formulation(Choice):
    """Which MILP :func:`build_model` writes (see the module docstring)."""

    COMPACT = "compact"
    NAIVE = "naive"


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
    formulation: Formulation
    w_pairs: np.ndarray
    #: scaled models only (see :func:`build_model`): the objective the solver sees is
    #: ``(true maximised objective - offset) / obj_scale``; budget row ``k`` reads
    #: ``(table_k - budget_shifts[k]) / row_scales[k] <= (budget_k - budget_shifts[k]) /
    #: row_scales[k]`` (``<=`` form of the constraint), with ``budget_shifts`` the exact minimum
    scaled: bool = False
    obj_scale: float = 1.0
    row_scales: np.ndarray | None = None
    budget_shifts: tuple = ()
    fixing: tuple = ()
    base_col_upper: np.ndarray | None = None
    dropped: int = 0

    @property
    def n_cols(self) -> int:
        return self.c.size

    @property
    def solver_offset(self) -> float:
        """The objective constant to hand to a solver (0 for scaled models: the true
        objective is :meth:`true_objective` of the solver's)."""
        return 0.0 if self.scaled else self.offset

    def true_objective(self, value: float) -> float:
        """The true maximised objective of a solver objective value (or bound) without the
        constant."""
        return self.offset + self.obj_scale * value

    def le_budgets(self, problem: Problem, budgets=None) -> list[Fraction]:
        """Exact ``<=``-form budgets (``-bound`` for a ``>=`` constraint)."""
        if budgets is None:
            budgets = [c.budget for c in problem.constraints]
        return [Fraction(float(b)) if c.sense == "<=" else -Fraction(float(b))
                for c, b in zip(problem.constraints, budgets, strict=True)]

    def fixed_columns(self, problem: Problem, budgets=None) -> np.ndarray:
        """Columns that no exactly feasible architecture uses for these budgets: those whose
        cheapest completion (exact, rational) already exceeds a budget.  Scaled models only."""
        out = np.zeros(self.n_cols, dtype=bool)
        if not self.fixing:
            return out
        for (cols, lo, hi, extra), shift, b in zip(self.fixing, self.budget_shifts,
                                                    self.le_budgets(problem, budgets), strict=True):
            room = b - shift
            r_lo, r_hi = round_down(room), round_up(room)
            fix = lo > r_hi
            unsure = np.flatnonzero(~fix & (hi > r_lo))
            for j in unsure:
                fix[j] = extra[j] > room
            out[cols[fix]] = True
        return out

    def col_upper_for(self, problem: Problem, budgets=None) -> np.ndarray:
        """Column upper bounds with the exact fixing of :meth:`fixed_columns` applied."""
        up = (self.col_upper if self.base_col_upper is None else self.base_col_upper).copy()
        if self.scaled:
            up[self.fixed_columns(problem, budgets)] = 0.0
        return up

    def scaled_rhs(self, problem: Problem, budgets=None) -> np.ndarray:
        """Right-hand sides of the scaled budget rows, rounded up (the model is a relaxation)."""
        return np.array([round_up((b - shift) / Fraction(scale)) for b, shift, scale in zip(
            self.le_budgets(problem, budgets), self.budget_shifts, self.row_scales, strict=True)],
            dtype=float)

    def with_budgets(self, budgets: np.ndarray, problem: Problem | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Row bounds for new budget values (in the constraints' order); scaled models need
        the ``problem``."""
        lo, up = self.row_lower.copy(), self.row_upper.copy()
        if self.scaled:
            if problem is None:
                raise ValueError("with_budgets: a scaled model needs the problem")
            up[self.budget_rows] = self.scaled_rhs(problem, budgets)
            return lo, up
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
        enc = self.space.encoding
        src = x[self.alpha] if self.alpha is not None else x[self.z]
        depths, ops = enc.decode(src, x[self.beta])
        if self.alpha is None:  # z says nothing about inactive blocks: op 0
            ops = np.where(enc.active_mask(depths)[0], ops, 0)
        return enc.architecture(depths, ops)

    def encode(self, arch: Architecture) -> np.ndarray:
        """A full solution vector for ``arch`` (for warm starts)."""
        enc = self.space.encoding
        alpha, beta = self.space.encode(arch)
        active = enc.active_mask(np.asarray(arch.depths))[0][enc.block_of_alpha]
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
    """Amount by which each budget is exceeded on ``arch``, exactly (0 where met; a broken
    budget's excess is rounded up, never 0)."""
    over = problem.violations(arch)
    return np.array([over.get(c.name, 0.0) for c in problem.constraints])


def _pow2_scale(x: float) -> float:
    """The power of two at or above ``x`` (1 for 0): dividing by it is exact."""
    if not x > 0 or not math.isfinite(x):
        return 1.0
    m, e = math.frexp(x)  # x = m 2^e, 0.5 <= m < 1
    return math.ldexp(1.0, e)


@dataclass(frozen=True)
class _Shifted:
    """A Table rewritten, exactly, as ``minimum + alpha_coef . z + beta_coef . beta`` with
    non-negative rational coefficients that are 0 on the cheapest choices: every block's
    cheapest op is subtracted from its ops and added to the depths that activate the block,
    then every stage's cheapest depth is subtracted and added to the minimum.

    ``z_extra``/``beta_extra``: the exact cost above the minimum of the cheapest architecture
    using that op (in an active block) or depth."""

    minimum: Fraction
    alpha_coef: list
    beta_coef: list
    z_extra: list
    beta_extra: list


def _shift(space: SearchSpace, t: Table) -> _Shifted:
    enc = space.encoding
    a = [Fraction(float(v)) for v in t.op_values]
    g = [Fraction(float(v)) for v in t.depth_values]
    blk = enc.block_of_alpha
    n_blocks = enc.n_blocks
    m = [None] * n_blocks
    for i, k in enumerate(blk):
        if m[k] is None or a[i] < m[k]:
            m[k] = a[i]
    act = enc.activity  # (n_blocks, n_beta): block active under that depth
    bk, bd = np.nonzero(act)
    gp = list(g)
    for k, d in zip(bk, bd, strict=True):
        gp[d] += m[k]
    stage = enc.beta_stage
    G = {}
    for d, s_ in enumerate(stage):
        if s_ not in G or gp[d] < G[s_]:
            G[s_] = gp[d]
    beta_coef = [gp[d] - G[stage[d]] for d in range(len(gp))]
    alpha_coef = [a[i] - m[blk[i]] for i in range(len(a))]
    # cheapest depth under which each block is active
    best_active = [None] * n_blocks
    for k, d in zip(bk, bd, strict=True):
        if best_active[k] is None or beta_coef[d] < best_active[k]:
            best_active[k] = beta_coef[d]
    z_extra = [alpha_coef[i] + best_active[blk[i]] for i in range(len(a))]
    minimum = Fraction(float(t.const)) + sum(G.values(), Fraction(0))
    return _Shifted(minimum, alpha_coef, beta_coef, z_extra, list(beta_coef))


#: scaled coefficients below this are dropped (HiGHS's smallest ``small_matrix_value``);
#: coefficients are non-negative in ``<=`` rows, so dropping only relaxes the row.
SMALL_COEF = 1e-12
#: scaled coefficients above this (only of columns fixed to 0 for the model's budgets) are
#: lowered to it.
LARGE_COEF = 1e6


def _floats_down(values) -> np.ndarray:
    return np.array([round_down(v) for v in values], dtype=float)


def _floats_up(values) -> np.ndarray:
    return np.array([round_up(v) for v in values], dtype=float)


def _block_linking(space: SearchSpace):
    """Rows ``sum_o z_{s,b,o} - sum_{d > b} beta_{s,d} = 0`` as COO parts (z cols, beta cols)."""
    enc = space.encoding
    z_rows, z_cols = enc.block_of_alpha, np.arange(space.n_alpha)
    b_rows, b_cols = np.nonzero(enc.activity)
    return enc.n_blocks, enc.block_of_alpha, (z_rows, z_cols), (b_rows, b_cols)


def dominated_ops(problem: Problem) -> np.ndarray:
    """Alpha entries that an exact solution never needs (Table objective only).

    Op ``i`` of a block is dominated when another op ``j`` of the same block is at least as good
    for the objective and at least as cheap for every constraint, strictly better somewhere or
    earlier in index order (so exactly one of equal ops survives).  Fixing ``z_i = 0`` keeps an
    optimal solution, because swapping ``i`` for ``j`` in any solution stays feasible and is no
    worse.
    """
    space = problem.space
    block = space.encoding.block_of_alpha
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


@dataclass(frozen=True)
class _ScaledRows:
    starts: np.ndarray
    scales: np.ndarray
    shifts: tuple
    fixing: tuple
    fixed: np.ndarray  # columns fixed to 0 for the problem's own budgets
    dropped: int


def _scaled_budget_rows(rows: _Rows, problem: Problem, op_cols: np.ndarray,
                        op_entries: np.ndarray, beta_cols: np.ndarray, n_cols: int,
                        fix: bool) -> _ScaledRows:
    """One ``<=`` row per constraint, shifted by its exact minimum (:class:`_Shifted`: the
    cheapest architecture has activity 0 and right-hand side ``budget - minimum``), divided
    by a power of two at the largest coefficient of the columns a feasible architecture may
    use, so that the solver's absolute tolerances act as relative ones.  Coefficients are
    rounded down and the right-hand side up (the row is a relaxation of the exact budget);
    with ``fix``, columns whose cheapest completion exceeds the budget exactly are fixed."""
    starts, scales, shifts, fixing, dropped = [], [], [], [], 0
    fixed = np.zeros(n_cols, dtype=bool)
    cols = np.concatenate([op_cols, beta_cols])
    for con in problem.constraints:
        t, b = con.as_le()
        sh = _shift(problem.space, t)
        coef = np.concatenate([_floats_down([sh.alpha_coef[i] for i in op_entries]),
                               _floats_down(sh.beta_coef)])
        room = Fraction(float(b)) - sh.minimum
        mask = np.zeros(cols.size, dtype=bool)
        if fix:
            extra = [*sh.z_extra, *sh.beta_extra]
            fcols = np.concatenate([op_cols, beta_cols])
            lo, hi = _floats_down(extra), _floats_up(extra)
            fixing.append((fcols, lo, hi, extra))
            mask = np.array([e > room for e in extra], dtype=bool)
            fixed[fcols[mask]] = True
        free = coef[~mask]
        scale = _pow2_scale(float(free.max()) if free.size else 0.0)
        vals = coef / scale
        # columns fixed for these budgets may be far costlier than the free ones: cap them
        # (lowering a non-negative coefficient only relaxes the row; exact checks follow)
        vals = np.minimum(vals, LARGE_COEF)
        small = (vals > 0) & (vals < SMALL_COEF)
        dropped += int(small.sum())
        vals[small] = 0.0
        starts.append(rows.add(np.zeros(cols.size, dtype=np.int64), cols, vals, -np.inf,
                               round_up(room / Fraction(scale)), 1))
        scales.append(scale)
        shifts.append(sh.minimum)
    return _ScaledRows(np.asarray(starts, dtype=np.int64), np.asarray(scales, dtype=float),
                       tuple(shifts), tuple(fixing), fixed, dropped)


def _scaled_objective(problem: Problem, op_entries: np.ndarray, n_beta: int
                      ) -> tuple[np.ndarray, float]:
    """A Table objective (maximised) as ``offset + coef . (op, beta)`` with coefficients <= 0
    that are 0 on every block's and stage's best choice (:class:`_Shifted` of its negation)."""
    sh = _shift(problem.space, -(problem.objective * problem.sign))
    coef = -np.concatenate([[float(sh.alpha_coef[i]) for i in op_entries],
                            [float(v) for v in sh.beta_coef]]).astype(float)
    return coef, float(-sh.minimum)


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


def build_model(problem: Problem, formulation: Formulation | str = Formulation.COMPACT,
                reduce: bool = True, scale: bool = False) -> CompactModel:
    """Build the MILP of ``problem`` (Table or QuadraticForm objective) without Python loops
    over variables.

    With ``reduce`` (Table objectives), ops dominated within their block (see
    :func:`dominated_ops`) get upper bound 0, which keeps the optimum and shrinks the search.
    Budget sweeps that change only budgets may keep the reduction: dominance does not depend on
    budget values.

    With ``scale`` (what the exact backends solve), every budget row is shifted by its exact
    minimum and divided by a power of two at its largest coefficient, columns that cannot be
    part of an exactly feasible architecture are fixed to 0 (:meth:`CompactModel.fixed_columns`),
    and the objective (a Table's shifted the same way) is divided by a power of two at its
    largest coefficient: the solver's absolute tolerances then act as relative ones at every
    magnitude (see :class:`CompactModel` for the relation to the true values).
    """
    space = problem.space
    kind = problem.objective_kind
    if kind is ObjectiveKind.BLACK_BOX:
        raise ValueError("the MILP needs a Table or QuadraticForm objective")
    formulation = Formulation.parse(formulation, "build_model: formulation")
    if formulation is Formulation.NAIVE:
        return _build_naive(problem, scale)
    n_a, n_b = space.n_alpha, space.n_beta
    idx = space.encoding
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
    sr = None
    if scale:
        sr = _scaled_budget_rows(rows, problem, np.arange(n_a), np.arange(n_a), beta_cols,
                                 n_a + n_b, fix=True)
        budget_rows, consts = sr.starts, np.zeros(sr.starts.size)
        le = np.ones(sr.starts.size, dtype=bool)
    else:
        budget_rows, consts, le = _budget_rows(rows, problem, np.arange(n_a), np.arange(n_a),
                                               beta_cols)

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
        grp = space.encoding.group_of_x
        keep = (grp[u.row] != grp[u.col]) & (u.data != 0)
        pi, pj, coef = u.row[keep], u.col[keep], u.data[keep] * problem.sign
        w_pairs = np.vstack([pi, pj])
        _mccormick(rows, x_col[pi], x_col[pj], n_base + np.arange(pi.size), coef)
        c = np.concatenate([c, coef / problem.sign])
    c = c * problem.sign
    offset = float(problem.sign * offset)
    if scale and not quad:
        c, offset = _scaled_objective(problem, np.arange(n_a), n_b)

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
    model = CompactModel(
        space=space, c=c, offset=offset, A=rows.matrix(n_cols),
        row_lower=np.concatenate(rows.lo), row_upper=np.concatenate(rows.up),
        col_lower=np.zeros(n_cols), col_upper=col_upper, integer=integer,
        budget_rows=budget_rows, budget_consts=consts, budget_le=le,
        z=z, beta=beta, alpha=alpha, formulation=Formulation.COMPACT, w_pairs=w_pairs,
    )
    return _apply_scaling(model, sr) if scale else model


def _apply_scaling(model: CompactModel, sr: _ScaledRows) -> CompactModel:
    """Divide the objective by a power of two at its largest coefficient and fix the columns
    that no exactly feasible architecture uses."""
    obj_scale = _pow2_scale(float(np.abs(model.c).max()) if model.c.size else 0.0)
    base = model.col_upper.copy()
    up = base.copy()
    up[np.flatnonzero(sr.fixed)] = 0.0
    return dataclasses.replace(
        model, c=model.c / obj_scale, col_upper=up, scaled=True, obj_scale=obj_scale,
        row_scales=sr.scales, budget_shifts=sr.shifts, fixing=sr.fixing, base_col_upper=base,
        dropped=sr.dropped)


def _build_naive(problem: Problem, scale: bool = False) -> CompactModel:
    """alpha, beta and one McCormick product per coupled (alpha, beta) pair (benchmark only)."""
    space = problem.space
    if problem.objective_kind is not ObjectiveKind.TABLE:
        raise ValueError("the naive formulation is only built for Table objectives")
    n_a, n_b = space.n_alpha, space.n_beta
    pr, pc = space.encoding.alpha_beta_pattern  # every coupled (alpha, beta) pair
    alpha, beta = slice(0, n_a), slice(n_a, n_a + n_b)  # columns: alpha | beta | w
    w_cols = n_a + n_b + np.arange(pr.size)
    beta_cols = n_a + np.arange(n_b)
    n_blocks, block_of_alpha, _, _ = _block_linking(space)
    rows = _Rows()
    _one_hot_rows(rows, block_of_alpha, np.arange(n_a), n_blocks)
    _one_hot_rows(rows, space.encoding.beta_stage, beta_cols, space.n_stages)
    _mccormick(rows, pr, n_a + pc, w_cols, None)  # the naive linearisation ignores signs
    sr = None
    if scale:
        sr = _scaled_budget_rows(rows, problem, w_cols, pr, beta_cols, w_cols.size + n_a + n_b,
                                 fix=False)
        budget_rows, consts = sr.starts, np.zeros(sr.starts.size)
        le = np.ones(sr.starts.size, dtype=bool)
    else:
        budget_rows, consts, le = _budget_rows(rows, problem, w_cols, pr, beta_cols)
    t = problem.objective
    c = np.zeros(n_a + n_b + pr.size)
    c[beta] = t.depth_values
    c[w_cols] = t.op_values[pr]
    n_cols = c.size
    integer = np.zeros(n_cols, dtype=bool)
    integer[: n_a + n_b] = True
    model = CompactModel(
        space=space, c=c * problem.sign, offset=problem.sign * t.const, A=rows.matrix(n_cols),
        row_lower=np.concatenate(rows.lo), row_upper=np.concatenate(rows.up),
        col_lower=np.zeros(n_cols), col_upper=np.ones(n_cols), integer=integer,
        budget_rows=budget_rows, budget_consts=consts, budget_le=le,
        z=slice(0, n_a), beta=beta, alpha=alpha, formulation=Formulation.NAIVE,
        w_pairs=np.vstack([pr, n_a + pc]),
    )
    return _apply_scaling(model, sr) if scale else model
