r"""The bilinear relaxation of a problem in the ``(alpha, beta)`` encoding (used by ``fw``).

A Table is bilinear: with ``pi(beta) = P beta`` the activity of every block,

.. math:: t(\alpha, \beta) = c + g^T\beta + \sum_i v_i\,\alpha_i\,\pi_{b(i)}(\beta),

so with one block fixed every table is linear in the other.  :class:`RelaxedProblem` stacks the
tables as rows (the objective first when it is a Table), precomputes the budget rows apart, and
gives each Frank-Wolfe step what it needs for *one* block: the gradient and the oracle's linear
budget rows.  Tiny matrices are kept dense (a sparse product costs microseconds of overhead).
"""

from __future__ import annotations

import numpy as np

from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.model.table import Table

from ._mck import GroupLayout, Hull, OracleResult, linear_oracle, lp_oracle, mck_oracle

__all__ = ["RelaxedProblem"]

DENSE_MAX = 1_000_000  # keep P dense up to this many entries


class RelaxedProblem:
    """The relaxation of ``problem`` in the (alpha, beta) encoding, vectorised.

    Attributes
    ----------
    V, G, C : ndarray
        Op values (T, n_alpha), depth values (T, n_beta) and constants (T,) of the stacked
        tables: the objective (times ``sign``) first when it is a Table, then the budgets as
        ``<=`` rows.
    P : ndarray or sparse matrix, shape (n_blocks, n_beta)
        ``pi = P beta``: a block is active when its stage is deeper than its position.
    budgets : ndarray
        Right-hand sides of the ``<=`` budget rows.
    """

    def __init__(self, problem: Problem):
        space = problem.space
        self.problem = problem
        self.space = space
        self.sign = problem.sign
        self.kind = problem.objective_kind
        enc = space.encoding
        self.n_blocks = enc.n_blocks
        self.alpha_layout = GroupLayout.from_sizes(enc.block_num_ops)
        self.beta_layout = GroupLayout.from_sizes(enc.n_depths)
        self.item_block = enc.block_of_alpha
        self.P = enc.activity_matrix(sparse=enc.activity.size > DENSE_MAX)
        self.PT = self.P.T.copy() if isinstance(self.P, np.ndarray) else self.P.T.tocsr()
        tables: list[Table] = [c.as_le()[0] for c in problem.constraints]
        self.budgets = np.array([c.as_le()[1] for c in problem.constraints], dtype=float)
        self.n_cons = len(tables)
        if self.kind is ObjectiveKind.TABLE:
            tables = [problem.objective * self.sign, *tables]
        self.obj_row = 0 if self.kind is ObjectiveKind.TABLE else None
        self.V = np.array([t.op_values for t in tables]).reshape(len(tables), space.n_alpha)
        self.G = np.array([t.depth_values for t in tables]).reshape(len(tables), space.n_beta)
        self.C = np.array([t.const for t in tables], dtype=float)
        self.con_rows = slice(1, None) if self.obj_row is not None else slice(0, None)
        # the budget rows apart (contiguous), for the per-step oracle
        self._Vc = np.ascontiguousarray(self.V[self.con_rows])
        self._Gc = np.ascontiguousarray(self.G[self.con_rows])
        self._Cc = self.C[self.con_rows].copy()
        if self.kind is ObjectiveKind.QUADRATIC:
            q = problem.objective
            self.S = (q.W + q.W.T).tocsr()
            self.W = q.W
        self.n_alpha = space.n_alpha
        # a Table objective under one budget: the alpha oracle of its gradient reuses one hull
        self._alpha_hull = (Hull.of(self.V[0], self._Vc[0], self.alpha_layout)
                            if self.kind is ObjectiveKind.TABLE and self.n_cons == 1 else None)

    # -- tables ---------------------------------------------------------------
    def pi(self, beta: np.ndarray) -> np.ndarray:
        return self.P @ beta

    def alpha_coeffs(self, beta: np.ndarray):
        """Per table: coefficients of alpha and the constant part, with beta fixed."""
        return self._in_alpha(self.V, self.G, self.C, beta)

    def _in_alpha(self, V, G, C, beta):
        return V * self.pi(beta)[self.item_block], C + G @ beta

    def _in_beta(self, V, G, alpha):
        sums = self.alpha_layout.group_sums(V * alpha)  # (rows, n_blocks)
        return G + (self.PT @ sums.T).T

    def table_values(self, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
        coef, const = self.alpha_coeffs(beta)
        return coef @ alpha + const

    def resources(self, alpha, beta) -> np.ndarray:
        return self.table_values(alpha, beta)[self.con_rows]

    def budget_rows(self, which: str, alpha: np.ndarray, beta: np.ndarray):
        """``(A, b)``: the budgets as ``A u <= b`` in block ``which``, the other block fixed."""
        if which == "alpha":
            A, const = self._in_alpha(self._Vc, self._Gc, self._Cc, beta)
            return A, self.budgets - const
        return self._in_beta(self._Vc, self._Gc, alpha), self.budgets - self._Cc

    # -- objective (maximised: sign applied) ----------------------------------
    def objective(self, alpha: np.ndarray, beta: np.ndarray) -> float:
        if self.kind is ObjectiveKind.TABLE:
            return float(self.table_values(alpha, beta)[0])
        x = np.concatenate([alpha, beta])
        return self.sign * float(self.problem.objective.evaluate_x(x)[0])

    def gradient(self, alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The gradient of the (maximised) objective, per block."""
        if self.kind is ObjectiveKind.TABLE:
            return self.block_gradient("alpha", alpha, beta), self.block_gradient("beta", alpha, beta)
        x = np.concatenate([alpha, beta])
        if self.kind is ObjectiveKind.QUADRATIC:
            g = self.problem.objective.p + self.S @ x
        else:
            g = self.problem.objective.gradient_x(x)
        g = self.sign * np.asarray(g, dtype=float)
        return g[: self.n_alpha], g[self.n_alpha:]

    def block_gradient(self, which: str, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """The gradient with respect to one block (all a Frank-Wolfe block step needs)."""
        if self.kind is ObjectiveKind.TABLE:
            if which == "alpha":
                return self.V[0] * self.pi(beta)[self.item_block]
            return self._in_beta(self.V[:1], self.G[:1], alpha)[0]
        ga, gb = self.gradient(alpha, beta)
        return ga if which == "alpha" else gb

    def curvature(self, which: str, d: np.ndarray) -> float | None:
        """``q`` in ``f(x + t d) = f(x) + t g.d + t^2 q`` for a move of one block, or None."""
        if self.kind is ObjectiveKind.TABLE:
            return 0.0  # linear in each block
        if self.kind is ObjectiveKind.QUADRATIC:
            full = np.zeros(self.space.n_vars)
            if which == "alpha":
                full[: self.n_alpha] = d
            else:
                full[self.n_alpha:] = d
            return self.sign * float(full @ (self.W @ full))
        return None

    # -- oracle ---------------------------------------------------------------
    def direction_oracle(self, which: str, alpha: np.ndarray, beta: np.ndarray,
                         momentum: float = 0.0, state: dict | None = None, highs=None):
        """One Frank-Wolfe block step's work: gradient, direction and the oracle's answer.

        Returns ``(g, d, o)``: the block gradient ``g``; the direction ``d``, which is ``g``
        itself without momentum and else the running average ``m d_prev + (1 - m) g`` kept in
        ``state[which]``; and the oracle's maximiser of ``d`` under the budgets.

        For a Table objective under one budget the alpha oracle reuses the hull built once in
        the constructor: block ``b``'s values (``v_i pi_b``, or ``v_i`` times the running
        average of ``pi_b``) and costs (``a_i pi_b``) are scaled copies of the tables' own, so
        every group's hull is unchanged (:class:`~._mck.Hull`).
        """
        if which == "alpha" and self._alpha_hull is not None:
            pi = self.pi(beta)
            rate = _running_average(state, which, momentum, pi)
            g = self.V[0] * pi[self.item_block]
            d = g if rate is pi else self.V[0] * rate[self.item_block]
            b = float(self.budgets[0] - self._Cc[0] - self._Gc[0] @ beta)  # budget_rows' b
            return g, d, self._alpha_hull.solve(d, b, pi, None if rate is pi else rate)
        g = self.block_gradient(which, alpha, beta)
        d = _running_average(state, which, momentum, g)
        return g, d, self.oracle(which, d, alpha, beta, highs)

    def oracle(self, which: str, c: np.ndarray, alpha: np.ndarray, beta: np.ndarray,
               highs=None) -> OracleResult:
        """Maximise ``c.u`` over block ``which`` under the budgets (the other block fixed)."""
        layout = self.alpha_layout if which == "alpha" else self.beta_layout
        if self.n_cons == 0:
            return linear_oracle(c, np.zeros((0, layout.n)), np.zeros(0), layout)
        A, b = self.budget_rows(which, alpha, beta)
        if self.n_cons == 1:
            return mck_oracle(c, A[0], float(b[0]), layout)
        return lp_oracle(c, A, b, layout, highs)


def _running_average(state: dict | None, key: str, momentum: float, new: np.ndarray) -> np.ndarray:
    """``m prev + (1 - m) new``, kept in ``state[key]`` (``new`` itself, unchanged, if m = 0)."""
    if momentum <= 0:
        return new
    prev = state.get(key)
    avg = new if prev is None else momentum * prev + (1 - momentum) * new
    state[key] = avg
    return avg
