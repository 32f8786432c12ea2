"""Exact MILP backend: the compact formulation of DESIGN 2.2 solved by HiGHS (``highspy``)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.solving.backend import SolveContext, Solver
from binas_opt.solving.result import SolverOutput, Termination

from ._compact import CompactModel, budget_excess, build_model

__all__ = ["MilpSolver", "MilpOptions", "HighsSession"]

logger = logging.getLogger("binas_opt")


@dataclass(frozen=True)
class MilpOptions:
    """Options of the ``milp`` backend.

    Attributes
    ----------
    rel_gap : float
        Relative MIP gap at which HiGHS may stop; the default 0 means proven optimal.  A run
        stopped at a positive gap is reported ``feasible`` with termination ``gap_limit``.
    abs_gap : float
        Absolute MIP gap (objective units), default 0.
    threads : int or None
        HiGHS threads (None: HiGHS's default).
    formulation : {"compact", "naive"}
        ``naive`` (one McCormick product per alpha x beta pair) exists for benchmarks.
    presolve : bool
    """

    rel_gap: float = 0.0
    abs_gap: float = 0.0
    threads: int | None = None
    formulation: str = "compact"
    presolve: bool = True

    def validate(self) -> None:
        if not 0.0 <= self.rel_gap < 1.0:
            raise ValueError(f"milp: rel_gap must be in [0, 1), got {self.rel_gap}")
        if self.abs_gap < 0:
            raise ValueError(f"milp: abs_gap must be >= 0, got {self.abs_gap}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"milp: threads must be >= 1 or None, got {self.threads}")
        if self.formulation not in ("compact", "naive"):
            raise ValueError(f"milp: formulation must be 'compact' or 'naive', got {self.formulation!r}")


class HighsSession:
    """One HiGHS instance holding a :class:`CompactModel`; budgets can be changed in place.

    Used by the ``milp`` backend and by budget sweeps (``pareto_front``), which re-solve the same
    model for many right-hand sides with a warm start from the previous solution.
    """

    def __init__(self, model: CompactModel, options: MilpOptions, seed: int = 0, verbose: bool = False):
        import highspy

        self.model = model
        h = highspy.Highs()
        h.setOptionValue("output_flag", bool(verbose))
        h.setOptionValue("log_to_console", bool(verbose))
        h.setOptionValue("random_seed", int(seed) % 2147483647)
        h.setOptionValue("mip_rel_gap", float(options.rel_gap))
        h.setOptionValue("mip_abs_gap", float(options.abs_gap))
        h.setOptionValue("mip_feasibility_tolerance", 1e-9)
        h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        h.setOptionValue("presolve", "on" if options.presolve else "off")
        if options.threads is not None:
            h.setOptionValue("threads", int(options.threads))
        lp = highspy.HighsLp()
        a = model.A.tocsc()
        lp.num_col_ = model.n_cols
        lp.num_row_ = a.shape[0]
        lp.col_cost_ = model.c
        lp.col_lower_ = model.col_lower
        lp.col_upper_ = model.col_upper
        lp.row_lower_ = np.where(np.isinf(model.row_lower), -highspy.kHighsInf, model.row_lower)
        lp.row_upper_ = np.where(np.isinf(model.row_upper), highspy.kHighsInf, model.row_upper)
        lp.offset_ = model.offset
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
            for i in model.integer
        ]
        h.passModel(lp)
        self.highs = h
        self._hs = highspy
        self._rows = model.budget_rows.astype(np.int32)
        self._lower, self._upper = model.row_lower.copy(), model.row_upper.copy()

    def set_budgets(self, lower: np.ndarray, upper: np.ndarray) -> None:
        """Change the bounds of the budget rows (full row-bound vectors)."""
        if self._rows.size == 0:
            return
        inf = self._hs.kHighsInf
        lo = np.where(np.isinf(lower[self._rows]), -inf, lower[self._rows])
        up = np.where(np.isinf(upper[self._rows]), inf, upper[self._rows])
        self.highs.changeRowsBounds(self._rows.size, self._rows, lo, up)
        self._lower, self._upper = lower, upper

    def warm_start(self, x: np.ndarray) -> None:
        sol = self._hs.HighsSolution()
        sol.col_value = list(map(float, x))
        sol.value_valid = True
        self.highs.setSolution(sol)

    def run(self, time_limit: float | None) -> dict:
        """Solve; returns HiGHS's status, incumbent vector, bound and counters."""
        h, hs = self.highs, self._hs
        h.setOptionValue("time_limit", float("inf") if time_limit is None else max(time_limit, 1e-3))
        t0 = time.perf_counter()
        h.run()
        elapsed = time.perf_counter() - t0
        status = h.getModelStatus()
        info = h.getInfo()
        has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
        x = np.asarray(h.getSolution().col_value) if has_x else None
        bound = info.mip_dual_bound if np.isfinite(info.mip_dual_bound) else None
        return {
            "status": status, "x": x, "bound": bound, "mip_gap": info.mip_gap,
            "nodes": int(info.mip_node_count), "time": elapsed,
            "optimal": status == hs.HighsModelStatus.kOptimal,
            "infeasible": status == hs.HighsModelStatus.kInfeasible,
            "time_limit": status == hs.HighsModelStatus.kTimeLimit,
        }


def solve_session(problem: Problem, session: HighsSession, options: MilpOptions,
                  ctx: SolveContext, budgets: np.ndarray | None = None) -> SolverOutput:
    """Solve the model held by ``session`` for ``budgets`` (default: the problem's) and map the
    outcome honestly.  If HiGHS's tolerances let a budget slip by more than float noise, the
    budget row is tightened by the excess and the model re-solved (at most 5 times)."""
    model = session.model
    if budgets is None:
        budgets = np.array([c.budget for c in problem.constraints])
    lower, upper = model.with_budgets(budgets)
    session.set_budgets(lower, upper)
    if ctx.warm_start is not None:
        session.warm_start(model.encode(ctx.warm_start))
    total, nodes, retries = 0.0, 0, 0
    while True:
        out = session.run(ctx.remaining() if ctx.time_limit is not None else None)
        total += out["time"]
        nodes += out["nodes"]
        arch = None if out["x"] is None else model.decode(np.round(out["x"]))
        if arch is None:
            break
        excess = budget_excess(problem, arch)
        if not excess.any() or retries >= 5:
            break
        retries += 1
        logger.debug("milp: tightening budget rows by %s after HiGHS tolerance slip", excess)
        lower, upper = model.tightened(lower, upper, excess)
        session.set_budgets(lower, upper)
    stats = {"solve_time": total, "nodes": nodes, "tolerance_retries": retries,
             "highs_status": session.highs.modelStatusToString(out["status"])}
    if arch is not None and budget_excess(problem, arch).any():
        arch = None
    sign = problem.sign
    bound = None if out["bound"] is None else sign * out["bound"]
    if out["infeasible"]:
        return SolverOutput(Termination.INFEASIBLE, proven_infeasible=True, stats=stats,
                            message="HiGHS proved the budgets jointly infeasible")
    if out["optimal"]:
        gap_ok = (options.rel_gap == 0 and options.abs_gap == 0) or out["mip_gap"] <= 1e-9
        term = Termination.OPTIMAL if gap_ok else Termination.GAP_LIMIT
        return SolverOutput(term, architecture=arch, bound=bound, proven_optimal=gap_ok and arch is not None,
                            stats=stats)
    if out["time_limit"]:
        return SolverOutput(Termination.TIME_LIMIT, architecture=arch, bound=bound, stats=stats,
                            message="HiGHS stopped at the time limit")
    return SolverOutput(Termination.ERROR, architecture=arch, bound=bound, stats=stats,
                        message=f"HiGHS ended with status {stats['highs_status']}")


class MilpSolver(Solver):
    """Exact: HiGHS branch-and-cut on the compact MILP; any number of budgets; warm starts."""

    name = "milp"
    exact = True
    accepts = frozenset({ObjectiveKind.TABLE, ObjectiveKind.QUADRATIC})
    Options = MilpOptions
    packages = ("highspy",)

    def run(self, problem: Problem, options: MilpOptions, ctx: SolveContext) -> SolverOutput:
        t0 = time.perf_counter()
        model = build_model(problem, options.formulation)
        session = HighsSession(model, options, seed=ctx.seed, verbose=ctx.verbose)
        build = time.perf_counter() - t0
        out = solve_session(problem, session, options, ctx)
        stats = {**out.stats, "build_time": build, "n_cols": model.n_cols,
                 "n_rows": model.A.shape[0], "nnz": model.A.nnz}
        return SolverOutput(out.termination, out.architecture, out.bound, out.proven_optimal,
                            out.proven_infeasible, out.message, stats)
