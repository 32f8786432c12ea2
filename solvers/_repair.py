"""Make an architecture feasible and improve it by single decision moves (shared by ``fw``,
``relax`` and ``evo``).

An architecture is handled as the pair of integer vectors used everywhere in vectorised code:
``depths`` (one per stage) and ``ops`` (one op index per block, in the flat block order).  A
*move* changes one decision: the op of one block or the depth of one stage.

* :func:`repair` moves decisions, one at a time, to their best feasible choice: first it looks for
  one move that makes every budget hold and keeps the objective highest; otherwise it takes the
  move that removes the most (normalised) budget excess per unit of objective lost, and repeats.
  If greedy moves get stuck (possible with several budgets), a small HiGHS MILP finds the
  feasible architecture that agrees with the current one on the most decisions, or proves that
  the budgets are jointly infeasible.  The result is feasible whenever any architecture is.
* :func:`polish` is a local search that keeps feasibility: best improving single move, and for
  Table objectives also the best improving pair of moves (one decision up, another down), whose
  effects on additive tables simply add up.

All candidates of one round are evaluated at once with ``evaluate_arrays`` / ``feasible_mask``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from binas_opt.model.architecture import Architecture
from binas_opt.model.choices import Choice
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.model.table import Table

__all__ = ["RepairOutcome", "RepairMethod", "repair", "polish", "to_arrays", "Evaluator",
           "decode_x", "best_of"]

logger = logging.getLogger("binas_opt")


def to_arrays(space, arch: Architecture) -> tuple[np.ndarray, np.ndarray]:
    """``(depths, ops)`` integer vectors of one architecture."""
    return space.encoding.arrays(arch)


def decode_x(space, alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Argmax of every group of a (fractional) ``(alpha, beta)``, as ``(depths, ops)``."""
    return space.encoding.decode(alpha, beta)


class RepairMethod(Choice):
    """How :func:`repair` obtained its architecture."""

    NONE = "none"  #: already feasible
    GREEDY = "greedy"  #: single decision moves
    MILP = "milp"  #: the HiGHS feasibility MILP
    INFEASIBLE = "infeasible"  #: no feasible architecture found (see ``proven_infeasible``)


@dataclass(frozen=True)
class RepairOutcome:
    """A feasible ``(depths, ops)`` (None when none exists), and how it was obtained."""

    depths: np.ndarray | None
    ops: np.ndarray | None
    moves: int
    method: RepairMethod
    proven_infeasible: bool = False


class Evaluator:
    """Vectorised objective (``sign`` applied: larger is better) and budget checks."""

    def __init__(self, problem: Problem):
        self.problem = problem
        space = problem.space
        self.space = space
        self.sign = problem.sign
        self.kind = problem.objective_kind
        cons = problem.constraints
        self.budgets = np.array([c.as_le()[1] for c in cons], dtype=float)
        self.tables = [c.as_le()[0] for c in cons]
        rng_ = np.array([max(t.max_value() - t.min_value(), 1e-12) for t in self.tables])
        self.scale = np.maximum(rng_, 1e-12) if cons else np.ones(0)
        idx = space.encoding
        self.n_blocks = idx.n_blocks
        self.item_block = idx.block_of_alpha
        self.item_op = idx.alpha_op
        self.item_stage = idx.alpha_stage
        self.item_pos = idx.alpha_block
        self.beta_stage = idx.beta_stage
        self.beta_depth = idx.beta_depth

    def objective(self, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
        return self.sign * np.asarray(self.problem.objective.evaluate_arrays(depths, ops), float)

    def resources(self, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
        if not self.tables:
            return np.zeros((len(depths), 0))
        return np.stack([t.evaluate_arrays(depths, ops) for t in self.tables], axis=1)

    def excess(self, res: np.ndarray) -> np.ndarray:
        """Normalised total budget excess of every row, in floats (a guide for moves only;
        feasibility is decided by :meth:`feasible`)."""
        if res.shape[1] == 0:
            return np.zeros(res.shape[0])
        over = np.maximum(res - self.budgets[None, :], 0.0)
        return (over / self.scale[None, :]).sum(axis=1)

    def feasible(self, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
        """Which rows meet every budget, decided exactly (:meth:`Problem.feasible_mask`)."""
        return self.problem.feasible_mask(np.asarray(depths), np.asarray(ops))

    # ------------------------------------------------------------------ moves
    def moves(self, depths: np.ndarray, ops: np.ndarray, active_only: bool):
        """All single moves from one architecture.

        Returns ``(D, O, kind, where)``: candidate matrices, ``kind`` 0 for an op move and 1 for
        a depth move, and ``where`` the block (op move) or stage (depth move) changed.
        """
        cur = ops[self.item_block]
        sel = self.item_op != cur
        if active_only:
            sel &= self.item_pos < depths[self.item_stage]
        items = np.flatnonzero(sel)
        n_op = items.size
        bsel = self.beta_depth != depths[self.beta_stage]
        bet = np.flatnonzero(bsel)
        n = n_op + bet.size
        D = np.repeat(depths[None, :], n, axis=0)
        O = np.repeat(ops[None, :], n, axis=0)
        O[np.arange(n_op), self.item_block[items]] = self.item_op[items]
        D[n_op + np.arange(bet.size), self.beta_stage[bet]] = self.beta_depth[bet]
        kind = np.concatenate([np.zeros(n_op, dtype=np.int64), np.ones(bet.size, dtype=np.int64)])
        where = np.concatenate([self.item_block[items], self.beta_stage[bet]])
        return D, O, kind, where


def _milp_fallback(problem: Problem, depths, ops, time_limit: float | None):
    """A feasible architecture agreeing with ``(depths, ops)`` on the most decisions (HiGHS)."""
    from binas_opt.solving.backend import SolveContext
    from binas_opt.solving.result import Termination

    from ._compact import build_model
    from .milp import HighsSession, MilpOptions, solve_session

    space = problem.space
    idx = space.encoding
    ev = Evaluator(problem)
    depth_v = (idx.beta_depth == depths[idx.beta_stage]).astype(float)
    op_v = (idx.alpha_op == ops[ev.item_block]).astype(float)
    agree = Table(space, 0.0, depth_v, op_v, name="agreement")
    feas = Problem(space, agree, problem.constraints, "max")
    options = MilpOptions(rel_gap=0.5)
    model = build_model(feas, scale=True)
    session = HighsSession(model, options, seed=0)
    out = solve_session(feas, session, options, SolveContext(time_limit=time_limit))
    if out.termination is Termination.INFEASIBLE:  # a confirmed proof (see solve_session)
        return None, None, True
    if out.architecture is None:
        return None, None, False
    d2, o2 = to_arrays(space, out.architecture)
    active = space.active_mask(d2[None, :])[0]
    o2 = np.where(active, o2, ops)  # inactive op indices do not affect any budget
    if not ev.feasible(d2[None, :], o2[None, :])[0]:
        return None, None, False
    return d2, o2, False


def repair(problem: Problem, depths: np.ndarray, ops: np.ndarray, max_moves: int | None = None,
           fallback: bool = True, time_limit: float | None = None) -> RepairOutcome:
    """Make ``(depths, ops)`` feasible by moving decisions to their best feasible choices.

    Parameters
    ----------
    problem : Problem
    depths, ops : ndarray of int
        The architecture to repair (e.g. the argmax of a fractional point).
    max_moves : int, optional
        Bound on greedy moves (default: twice the number of decisions).
    fallback : bool
        Use the HiGHS feasibility MILP when greedy moves get stuck.
    time_limit : float, optional
        Seconds for the fallback MILP.
    """
    ev = Evaluator(problem)
    depths = np.asarray(depths, dtype=np.int64).copy()
    ops = np.asarray(ops, dtype=np.int64).copy()
    res = ev.resources(depths[None, :], ops[None, :])
    if ev.feasible(depths[None, :], ops[None, :])[0]:
        return RepairOutcome(depths, ops, 0, RepairMethod.NONE)
    limit = max_moves if max_moves is not None else 2 * (ev.n_blocks + problem.space.n_stages)
    active_only = True  # inactive op indices never change a resource
    cur_exc = ev.excess(res)[0]
    cur_obj = ev.objective(depths[None, :], ops[None, :])[0]
    for step in range(limit):
        D, O, _, _ = ev.moves(depths, ops, active_only)
        if len(D) == 0:
            break
        r = ev.resources(D, O)
        ok = ev.feasible(D, O)
        obj = ev.objective(D, O)
        if ok.any():
            best = int(np.flatnonzero(ok)[np.argmax(obj[ok])])
            return RepairOutcome(D[best], O[best], step + 1, RepairMethod.GREEDY)
        exc = ev.excess(r)
        gain = cur_exc - exc
        if not (gain > 1e-15).any():
            break
        loss = np.maximum(cur_obj - obj, 0.0)
        eps = 1e-9 * (1.0 + abs(cur_obj))
        score = np.where(gain > 1e-15, gain / (loss + eps), -np.inf)
        best = int(np.argmax(score))
        depths, ops, cur_exc, cur_obj = D[best], O[best], exc[best], obj[best]
    if not fallback:
        return RepairOutcome(None, None, limit, RepairMethod.INFEASIBLE)
    logger.debug("repair: greedy moves stuck, using the feasibility MILP")
    d2, o2, proven = _milp_fallback(problem, depths, ops, time_limit)
    if d2 is None:
        return RepairOutcome(None, None, limit, RepairMethod.INFEASIBLE,
                             proven_infeasible=proven)
    return RepairOutcome(d2, o2, limit, RepairMethod.MILP)


def _additive(problem: Problem) -> bool:
    return problem.objective_kind is ObjectiveKind.TABLE


def _best_pair(ev: Evaluator, d_obj, d_res, cur_res, kind, where, block_stage, max_up: int):
    """Best feasible pair of single moves whose effects add up (Table objectives).

    An improving pair needs one improving move, so rows are the ``max_up`` best improving moves
    and columns all moves.  Compatible pairs: different stages, or op moves in two different
    blocks of one stage.
    """
    up = np.flatnonzero(d_obj > 0)
    if up.size == 0:
        return None
    up = up[np.argsort(-d_obj[up], kind="stable")[:max_up]]
    stage = np.where(kind == 0, block_stage[np.minimum(where, ev.n_blocks - 1)], where)
    si, ki, wi = stage[up][:, None], kind[up][:, None], where[up][:, None]
    compat = (si != stage[None, :]) | ((ki == 0) & (kind[None, :] == 0) & (wi != where[None, :]))
    g2 = d_obj[up][:, None] + d_obj[None, :]
    r2 = cur_res[None, None, :] + d_res[up][:, None, :] + d_res[None, :, :]
    # a float filter only: the pair taken is re-checked exactly in :func:`polish`
    ok2 = compat & (r2 <= ev.budgets).all(axis=2)
    g2 = np.where(ok2, g2, -np.inf)
    flat = int(np.argmax(g2))
    a, j = divmod(flat, g2.shape[1])
    if not np.isfinite(g2[a, j]):
        return None
    return float(g2[a, j]), (int(up[a]), int(j))


def polish(problem: Problem, depths: np.ndarray, ops: np.ndarray, max_rounds: int = 200,
           pairs: bool = True, deadline=None,
           max_up: int = 128) -> tuple[np.ndarray, np.ndarray, int]:
    """Local search from a feasible ``(depths, ops)``: apply the best improving feasible move
    (single, or for Table objectives a pair) until none improves.

    Returns the improved ``(depths, ops)`` and the number of moves made.
    """
    ev = Evaluator(problem)
    depths = np.asarray(depths, dtype=np.int64).copy()
    ops = np.asarray(ops, dtype=np.int64).copy()
    active_only = problem.objective_kind is ObjectiveKind.TABLE
    cur_obj = ev.objective(depths[None, :], ops[None, :])[0]
    cur_res = ev.resources(depths[None, :], ops[None, :])[0]
    made = 0
    for _ in range(max_rounds):
        if deadline is not None and deadline():
            break
        D, O, kind, where = ev.moves(depths, ops, active_only)
        if len(D) == 0:
            break
        obj = ev.objective(D, O)
        res = ev.resources(D, O)
        ok = ev.feasible(D, O)
        tol = 1e-12 * max(1.0, abs(cur_obj))
        gain1 = np.where(ok, obj - cur_obj, -np.inf)
        best1 = int(np.argmax(gain1))
        best_gain, choice = gain1[best1], ("single", best1)
        if pairs and _additive(problem) and len(D) > 1:
            pair = _best_pair(ev, obj - cur_obj, res - cur_res[None, :], cur_res, kind, where,
                              problem.space.block_stage, max_up)
            if pair is not None and pair[0] > best_gain:
                best_gain, choice = pair[0], ("pair", pair[1])
        if not best_gain > tol:
            break
        if choice[0] == "pair":
            i, j = choice[1]
            nd, no = D[i].copy(), O[i].copy()
            if kind[j] == 0:
                no[where[j]] = O[j][where[j]]
            else:
                nd[where[j]] = D[j][where[j]]
            if not ev.feasible(nd[None, :], no[None, :])[0]:  # the pair broke a budget exactly
                if not gain1[best1] > tol:
                    break
                nd, no = D[best1].copy(), O[best1].copy()  # feasible exactly (``ok``)
        else:
            nd, no = D[choice[1]].copy(), O[choice[1]].copy()
        depths, ops = nd, no
        new_res = ev.resources(depths[None, :], ops[None, :])
        cur_obj = ev.objective(depths[None, :], ops[None, :])[0]
        cur_res = new_res[0]
        made += 1
    return depths, ops, made


def best_of(problem: Problem, candidates: list[tuple[np.ndarray, np.ndarray]]):
    """The feasible candidate with the best objective (None if none is feasible)."""
    if not candidates:
        return None
    ev = Evaluator(problem)
    D = np.stack([c[0] for c in candidates])
    O = np.stack([c[1] for c in candidates])
    ok = ev.feasible(D, O)
    if not ok.any():
        return None
    obj = np.where(ok, ev.objective(D, O), -np.inf)
    i = int(np.argmax(obj))
    return D[i], O[i]
