"""Exact MILP backend: the compact formulation of DESIGN 2.2 solved by HiGHS (``highspy``)."""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from binas_opt.model.choices import Choice
from binas_opt.model.exact import round_down, round_up
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.solving.backend import Capability, FrontPoints, SolveContext, Solver, option
from binas_opt.solving.result import SolverOutput, Termination

from ._compact import CompactModel, Formulation, budget_excess, build_model
from ._highs import new_highs
from ._pareto_dp import pareto_indices

__all__ = ["MilpSolver", "MilpOptions", "Formulation", "HighsSession", "HighsRun", "HighsOutcome",
           "solve_session"]

logger = logging.getLogger("binas_opt")

#: No-good cuts per solve against solutions over a budget by float noise (then tightening).
MAX_CUTS = 100


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
    formulation : Formulation or {"compact", "naive"}
        ``naive`` (one McCormick product per alpha x beta pair) exists for benchmarks.
    presolve : bool
    """

    # types and ranges are checked by make_options from these declarations
    rel_gap: float = option(0.0, ge=0, lt=1)
    abs_gap: float = option(0.0, ge=0)
    threads: int | None = option(None, ge=1)
    formulation: Formulation = Formulation.COMPACT
    presolve: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "formulation", Formulation.parse(self.formulation, "formulation"))


class HighsOutcome(Choice):
    """What a HiGHS run ended with, as far as the backend distinguishes it."""

    OPTIMAL = "optimal"  #: solved to the gap tolerances
    INFEASIBLE = "infeasible"  #: proven infeasible
    TIME_LIMIT = "time_limit"
    OTHER = "other"  #: any other model status (see ``HighsRun.status_text``)


@dataclass(frozen=True)
class HighsRun:
    """One :meth:`HighsSession.run`.

    Attributes
    ----------
    outcome : HighsOutcome
    status_text : str
        HiGHS's model status in words.
    x : ndarray or None
        The incumbent column values, when HiGHS has a feasible one.
    bound : float or None
        HiGHS's dual bound (in the model's maximisation sense), when finite.
    mip_gap : float
    nodes : int
        Branch-and-bound nodes.
    time : float
        Seconds in ``Highs.run``.
    """

    outcome: HighsOutcome
    status_text: str
    x: np.ndarray | None
    bound: float | None
    mip_gap: float
    nodes: int
    time: float


#: HiGHS tolerances of the exact backends.  The budget rows and the objective are scaled to
#: largest coefficient about 1 (:func:`~binas_opt.solvers._compact.build_model` with
#: ``scale=True``), so these absolute tolerances act as relative ones.
FEASIBILITY_TOL = 1e-9
SMALL_MATRIX_VALUE = 1e-12
#: Budget rows are relaxed by this much (scaled units, times ``max(1, |rhs|)``) to confirm an
#: infeasibility verdict: a relaxation that is still infeasible is a proof for the budgets.
CONFIRM_RELAX = 1e-6


def highs_tolerances(model: CompactModel, options: MilpOptions) -> dict:
    """The HiGHS options that depend on the model's scaling, and the tolerances as recorded in
    the result (``stats["tolerances"]``): the gaps in HiGHS's scaled units and the scales."""
    abs_gap = float(options.abs_gap) / model.obj_scale if options.abs_gap else 0.0
    return {
        "mip_feasibility_tolerance": FEASIBILITY_TOL,
        "primal_feasibility_tolerance": FEASIBILITY_TOL,
        "small_matrix_value": SMALL_MATRIX_VALUE,
        "mip_rel_gap": float(options.rel_gap),
        "mip_abs_gap": abs_gap,
    }


class HighsSession:
    """One HiGHS instance holding a (scaled) :class:`CompactModel`; budgets can be changed in
    place.

    Used by the ``milp`` backend and by budget sweeps (``pareto_front``), which re-solve the same
    model for many right-hand sides with a warm start from the previous solution.
    """

    def __init__(self, model: CompactModel, options: MilpOptions, seed: int = 0, verbose: bool = False):
        import highspy

        self.model = model
        h = new_highs(verbose)
        h.setOptionValue("random_seed", int(seed) % 2147483647)
        self.tolerances = highs_tolerances(model, options)
        for k, v in self.tolerances.items():
            h.setOptionValue(k, v)
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
        # a scaled model's constant stays out of HiGHS, except for a relative gap, which is
        # relative to the true objective
        lp.offset_ = (model.offset / model.obj_scale if model.scaled and options.rel_gap > 0
                      else model.solver_offset)
        self._hs_offset = lp.offset_
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
        self._cuts = 0
        self._lower, self._upper = model.row_lower.copy(), model.row_upper.copy()
        self._col_upper = model.col_upper.copy()

    def set_budgets(self, lower: np.ndarray, upper: np.ndarray,
                    col_upper: np.ndarray | None = None) -> None:
        """Change the bounds of the budget rows (full row-bound vectors), and the column
        upper bounds (the exact fixing of a scaled model for these budgets)."""
        if col_upper is not None and not np.array_equal(col_upper, self._col_upper):
            cols = np.flatnonzero(col_upper != self._col_upper).astype(np.int32)
            self.highs.changeColsBounds(cols.size, cols, self.model.col_lower[cols],
                                        col_upper[cols])
            self._col_upper = col_upper.copy()
        if self._rows.size == 0:
            return
        inf = self._hs.kHighsInf
        lo = np.where(np.isinf(lower[self._rows]), -inf, lower[self._rows])
        up = np.where(np.isinf(upper[self._rows]), inf, upper[self._rows])
        self.highs.changeRowsBounds(self._rows.size, self._rows, lo, up)
        self._lower, self._upper = lower, upper

    def set_objective(self, c: np.ndarray) -> None:
        """Replace the objective coefficients (e.g. 0 for a feasibility re-solve)."""
        n = self.model.n_cols
        self.highs.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(c, dtype=float))

    def exclude(self, arch) -> None:
        """Add a no-good cut excluding exactly ``arch`` (its depths and active ops: every
        column vector that decodes to it), until :meth:`drop_cuts`."""
        m = self.model
        x = m.encode(arch)
        cols = np.r_[np.arange(m.n_cols)[m.z], np.arange(m.n_cols)[m.beta]]
        on = x[cols] > 0.5
        vals = np.where(on, 1.0, -1.0)
        self.highs.addRow(-self._hs.kHighsInf, float(on.sum() - 1), cols.size,
                          cols.astype(np.int32), vals)
        self._cuts += 1

    def drop_cuts(self) -> None:
        """Remove every cut added by :meth:`exclude`."""
        if self._cuts:
            n = self.highs.getNumRow()
            self.highs.deleteRows(self._cuts, np.arange(n - self._cuts, n, dtype=np.int32))
            self._cuts = 0

    def warm_start(self, x: np.ndarray) -> None:
        sol = self._hs.HighsSolution()
        sol.col_value = list(map(float, x))
        sol.value_valid = True
        self.highs.setSolution(sol)

    def run(self, time_limit: float | None) -> HighsRun:
        """Solve; returns HiGHS's outcome, incumbent vector, bound (true units, maximised)
        and counters."""
        h, hs = self.highs, self._hs
        h.setOptionValue("time_limit", float("inf") if time_limit is None else max(time_limit, 1e-3))
        t0 = time.perf_counter()
        h.run()
        elapsed = time.perf_counter() - t0
        status = h.getModelStatus()
        info = h.getInfo()
        has_x = info.primal_solution_status == int(hs.SolutionStatus.kSolutionStatusFeasible)
        x = np.asarray(h.getSolution().col_value) if has_x else None
        bound = None
        if np.isfinite(info.mip_dual_bound) and abs(info.mip_dual_bound) < 1e300:
            bound = self.model.true_objective(info.mip_dual_bound - self._hs_offset) \
                if self.model.scaled else float(info.mip_dual_bound)
        outcome = {
            hs.HighsModelStatus.kOptimal: HighsOutcome.OPTIMAL,
            hs.HighsModelStatus.kInfeasible: HighsOutcome.INFEASIBLE,
            hs.HighsModelStatus.kTimeLimit: HighsOutcome.TIME_LIMIT,
        }.get(status, HighsOutcome.OTHER)
        return HighsRun(outcome, h.modelStatusToString(status), x, bound, float(info.mip_gap),
                        int(info.mip_node_count), elapsed)


@dataclass
class _Loop:
    """What one cut loop (:func:`_cut_loop`) ended with."""

    out: HighsRun
    arch: object  # an exactly feasible Architecture, or None
    bound: float | None  # the best valid bound seen (maximised, true units)
    slipped: bool  # HiGHS's last solution broke a budget exactly (cuts ran out / time)
    excess: np.ndarray | None


def _cut_loop(problem: Problem, session: HighsSession, ctx: SolveContext, state: dict,
              valid: bool) -> _Loop:
    """Solve; while HiGHS's solution breaks a budget exactly, exclude it with a no-good cut
    (which removes only that exactly infeasible architecture, so HiGHS's bounds and proofs stay
    valid for the problem) and re-solve, at most :data:`MAX_CUTS` cuts in all.  ``valid``: the
    rows are a relaxation of the exact budgets (bounds taken as valid)."""
    model = session.model
    bound = None
    while True:
        out = session.run(ctx.remaining() if ctx.time_limit is not None else None)
        state["time"] += out.time
        state["nodes"] += out.nodes
        state["solves"] += 1
        if valid and out.bound is not None and out.outcome in (HighsOutcome.OPTIMAL,
                                                               HighsOutcome.TIME_LIMIT):
            bound = out.bound if bound is None else min(bound, out.bound)
        arch = None if out.x is None else model.decode(np.round(out.x))
        if arch is None:
            return _Loop(out, None, bound, False, None)
        excess = budget_excess(problem, arch)
        if not excess.any():
            return _Loop(out, arch, bound, False, None)
        state["slip"] = excess if state["slip"] is None else np.maximum(state["slip"], excess)
        if state["cuts"] >= MAX_CUTS or ctx.out_of_time():
            return _Loop(out, None, bound, True, excess)
        state["cuts"] += 1
        logger.debug("milp: excluding an architecture over a budget by %s", excess)
        session.exclude(arch)


def solve_session(problem: Problem, session: HighsSession, options: MilpOptions,
                  ctx: SolveContext, budgets: np.ndarray | None = None) -> SolverOutput:
    """Solve the model held by ``session`` for ``budgets`` (default: the problem's) and map the
    outcome honestly.

    Budgets are exact; HiGHS works with a feasibility tolerance on a scaled model.

    * A solution that breaks a budget exactly is excluded by a no-good cut and the model
      re-solved (:func:`_cut_loop`); HiGHS's bounds stay valid.
    * After :data:`MAX_CUTS` cuts the budget rows are tightened (at most 5 times) until
      HiGHS's solution holds exactly; it is then ``optimal`` only if it meets a valid bound.
    * An ``infeasible`` verdict is confirmed on the model with every budget row relaxed by
      :data:`CONFIRM_RELAX`: only a relaxation that is still infeasible is a proof.
    """
    model = session.model
    if budgets is None:
        budgets = np.array([c.budget for c in problem.constraints])
    lower, upper = model.with_budgets(budgets, problem)
    session.set_budgets(lower, upper, model.col_upper_for(problem, budgets))
    if ctx.warm_start is not None:
        session.warm_start(model.encode(ctx.warm_start))
    state = {"time": 0.0, "nodes": 0, "solves": 0, "cuts": 0, "slip": None}
    stats = {"tolerances": {**session.tolerances, "objective_scale": model.obj_scale,
                            "row_scales": [float(v) for v in (model.row_scales
                                                              if model.row_scales is not None
                                                              else [])],
                            "dropped_coefficients": model.dropped,
                            "fixed_columns": int((session._col_upper == 0).sum())}}
    notes = []
    try:
        loop = _cut_loop(problem, session, ctx, state, valid=True)
        bound = loop.bound
        if loop.out.outcome is HighsOutcome.INFEASIBLE and not ctx.out_of_time():
            # confirm on a relaxation: rows moved outwards by far more than any tolerance
            rows = model.budget_rows
            relaxed = upper.copy()
            relaxed[rows] = upper[rows] + CONFIRM_RELAX * np.maximum(1.0, np.abs(upper[rows]))
            session.set_budgets(lower, relaxed)
            loop = _cut_loop(problem, session, ctx, state, valid=True)
            bound = loop.bound
            if loop.out.outcome is HighsOutcome.INFEASIBLE:
                stats["infeasible_confirmed"] = True
                notes.append(f"confirmed with every budget row relaxed by {CONFIRM_RELAX:g} "
                             "(scaled)")
            else:
                notes.append("HiGHS reported the exact budgets infeasible, but not a "
                             "relaxation of them; the relaxation was solved instead")
                stats["infeasible_not_confirmed"] = True
            session.set_budgets(lower, upper)
        retries = 0
        tight = upper.copy()
        while loop.slipped and retries < 5 and not ctx.out_of_time():
            # cuts ran out: tighten the rows that slipped by more than HiGHS's tolerance
            retries += 1
            rows = model.budget_rows
            scaled_excess = loop.excess / model.row_scales
            step = (2.0 ** retries) * FEASIBILITY_TOL * np.maximum(1.0, np.abs(tight[rows]))
            tight[rows] -= np.where(loop.excess > 0, scaled_excess + step, 0.0)
            logger.debug("milp: tightening budget rows (scaled) to %s", tight[rows])
            session.set_budgets(lower, tight)
            loop = _cut_loop(problem, session, ctx, state, valid=False)
    finally:
        session.drop_cuts()
        session.set_budgets(lower, upper)
    stats.update({"nodes": state["nodes"], "highs_solves": state["solves"],
                  "tolerance_cuts": state["cuts"], "tolerance_retries": retries,
                  "highs_status": loop.out.status_text})
    return _map_outcome(problem, options, loop, bound, retries, state, stats, notes)


def _map_outcome(problem: Problem, options: MilpOptions, loop: _Loop, bound, retries: int,
                 state: dict, stats: dict, notes: list) -> SolverOutput:
    """The honest SolverOutput of a HiGHS run: ``bound`` is valid for the problem (maximised,
    true units) whenever set; solves on tightened rows prove nothing themselves."""
    sign = problem.sign
    out, arch = loop.out, loop.arch
    slipped = ""
    if state["slip"] is not None:
        names = [c.name for c in problem.constraints]
        over = ", ".join(f"{n} by {float(e):.3g}" for n, e in zip(names, state["slip"], strict=True)
                         if e > 0)
        slipped = (f"HiGHS's solutions exceeded {over} (within its feasibility tolerance); "
                   f"{state['cuts']} were excluded by cuts"
                   + (f" and the budget rows tightened {retries} time(s)" if retries else ""))
    msg = "; ".join([m for m in (slipped, *notes) if m])
    value = None if arch is None else sign * problem.evaluate(arch)
    if bound is not None and value is not None:
        bound = max(bound, value)  # within HiGHS's optimality tolerance of the objective
    user_bound = None if bound is None else sign * bound
    kw = dict(stats=stats, solve_time=state["time"], bound=user_bound)
    if arch is None:
        if out.outcome is HighsOutcome.INFEASIBLE and retries == 0 \
                and stats.get("infeasible_confirmed"):
            return SolverOutput(Termination.INFEASIBLE, proven_infeasible=True, stats=stats,
                                solve_time=state["time"],
                                message="HiGHS proved the budgets jointly infeasible"
                                        + (f" ({msg})" if msg else ""))
        if out.outcome is HighsOutcome.TIME_LIMIT or (state["slip"] is not None
                                                      and out.outcome is not HighsOutcome.OTHER
                                                      and retries == 0):
            term = Termination.TIME_LIMIT
        elif out.outcome is HighsOutcome.OTHER:
            return SolverOutput(Termination.ERROR, message=f"HiGHS ended with status "
                                f"{out.status_text}" + (f"; {msg}" if msg else ""), **kw)
        else:
            term = Termination.ITERATION_LIMIT
        return SolverOutput(term, **kw, message=(msg + "; " if msg else "")
                            + "no architecture that meets every budget exactly was found, and "
                              "this is not a proof of infeasibility")
    tol = FEASIBILITY_TOL * stats["tolerances"]["objective_scale"]
    proven = bound is not None and value >= bound - tol
    if out.outcome is HighsOutcome.OPTIMAL:
        gap_ok = (options.rel_gap == 0 and options.abs_gap == 0) or out.mip_gap <= 1e-9
        if not gap_ok and retries == 0:
            return SolverOutput(Termination.GAP_LIMIT, architecture=arch, **kw,
                                message=f"stopped at the gap limit (rel_gap={options.rel_gap:g}, "
                                        f"abs_gap={options.abs_gap:g})"
                                        + (f"; {msg}" if msg else ""))
        if retries == 0 or proven:
            return SolverOutput(Termination.OPTIMAL, architecture=arch, proven_optimal=True,
                                message=msg, **kw)
        return SolverOutput(Termination.CONVERGED, architecture=arch, **kw,
                            message=f"{msg}; the architecture is optimal for the tightened "
                                    "budgets, not proven optimal for the given ones (see gap)")
    if out.outcome is HighsOutcome.TIME_LIMIT:
        return SolverOutput(Termination.TIME_LIMIT, architecture=arch, **kw,
                            message="HiGHS stopped at the time limit" + (f"; {msg}" if msg else ""))
    return SolverOutput(Termination.ERROR, architecture=arch, **kw,
                        message=f"HiGHS ended with status {out.status_text}"
                                + (f"; {msg}" if msg else ""))


class MilpSolver(Solver):
    """Exact: HiGHS branch-and-cut on the compact MILP; any number of budgets; warm starts.

    Declares :data:`~binas_opt.Capability.BUDGET_SWEEP` (:meth:`sweep`: one model re-solved
    for many budgets, each warm started from the previous) and
    :data:`~binas_opt.Capability.PARETO_FRONT` (:meth:`front`: the epsilon-constraint method).
    """

    name = "milp"
    exact = True
    accepts = frozenset({ObjectiveKind.TABLE, ObjectiveKind.QUADRATIC})
    Options = MilpOptions
    capabilities = frozenset({Capability.WARM_START, Capability.BUDGET_SWEEP,
                              Capability.PARETO_FRONT})
    packages = ("highspy",)

    def run(self, problem: Problem, options: MilpOptions, ctx: SolveContext) -> SolverOutput:
        t0 = time.perf_counter()
        model = build_model(problem, options.formulation, scale=True)
        session = HighsSession(model, options, seed=ctx.seed, verbose=ctx.verbose)
        build = time.perf_counter() - t0
        out = solve_session(problem, session, options, ctx)
        stats = {**out.stats, "n_cols": model.n_cols, "n_rows": model.A.shape[0],
                 "nnz": model.A.nnz}
        return dataclasses.replace(out, stats=stats, build_time=build)

    def sweep(self, problem: Problem, resource: str, budgets, options: MilpOptions,
              ctx: SolveContext) -> list[SolverOutput]:
        """One output per budget of ``resource`` (other budgets fixed), in the given order.

        One HiGHS model is kept; budgets are solved in ascending order, each warm started from
        the previous solution (feasible for the next, larger budget).  Every budget must be
        achievable on its own (the caller answers the others); ``ctx.time_limit`` is for all.
        """
        t0 = time.perf_counter()
        model = build_model(problem, options.formulation, scale=True)
        session = HighsSession(model, options, seed=ctx.seed, verbose=ctx.verbose)
        build = time.perf_counter() - t0
        k = [c.name for c in problem.constraints].index(resource)
        base = np.array([c.budget for c in problem.constraints], dtype=float)
        budgets = [float(b) for b in budgets]
        out: list[SolverOutput | None] = [None] * len(budgets)
        warm = ctx.warm_start
        for n, j in enumerate(np.argsort(budgets, kind="stable")):
            vec = base.copy()
            vec[k] = budgets[j]
            remaining = None if ctx.time_limit is None else max(ctx.remaining(), 1e-3)
            sub = SolveContext(time_limit=remaining, seed=ctx.seed, verbose=ctx.verbose,
                               warm_start=warm)
            so = solve_session(problem.with_budgets({resource: budgets[j]}), session, options,
                               sub, vec)
            so = dataclasses.replace(so, stats={**so.stats, "sweep": True},
                                     build_time=build if n == 0 else 0.0)
            if so.architecture is not None:
                warm = so.architecture
            out[j] = so
        return out  # type: ignore[return-value]

    def front(self, problem: Problem, resource: str, options: MilpOptions, ctx: SolveContext, *,
              budget: float = np.inf, max_solves: int | None = 500) -> FrontPoints:
        """The exact front by the epsilon-constraint method: solve, then lower the budget of
        ``resource`` just below the resource of the solution found, until infeasible.

        Stops early (``complete=False``, ``stats["stopped_by"]``) after ``max_solves`` solves,
        at ``ctx.deadline``, or when a solve ends without a proof.
        """
        t0 = time.perf_counter()
        model = build_model(problem, options.formulation, scale=True)
        session = HighsSession(model, options, seed=ctx.seed, verbose=ctx.verbose)
        con = problem.constraint(resource)
        k = [c.name for c in problem.constraints].index(resource)
        vec = np.array([c.budget for c in problem.constraints], dtype=float)
        b = min(float(budget), con.table.max_value())
        lowest = problem.exact_min_resources()[resource]
        archs, res, obj = [], [], []
        complete, solves, stopped = True, 0, ""
        limit = np.inf if max_solves is None else max_solves
        while True:
            if solves >= limit or ctx.out_of_time():
                complete, stopped = False, "max_solves" if solves >= limit else "time_limit"
                break
            vec[k] = b
            remaining = None if ctx.time_limit is None else max(ctx.remaining(), 1e-3)
            sub = SolveContext(time_limit=remaining, seed=ctx.seed, verbose=ctx.verbose)
            so = solve_session(problem.with_budgets({resource: b}), session, options, sub, vec)
            solves += 1
            if so.architecture is None or not so.proven_optimal:
                if not so.proven_infeasible:
                    complete, stopped = False, so.termination.value
                break
            a = so.architecture.canonical()
            exact_r = con.table.exact_value(a)
            r = round_up(exact_r)  # as a budget, it admits the point
            archs.append(a)
            res.append(r)
            obj.append(problem.evaluate(a))
            b = round_down(exact_r)  # the largest budget that excludes this solution
            if Fraction(b) == exact_r:
                b = math.nextafter(b, -math.inf)
            if Fraction(b) < lowest:
                break
        res_a, obj_a = np.asarray(res, dtype=float), np.asarray(obj, dtype=float)
        keep = pareto_indices(res_a, problem.sign * obj_a) if res else np.zeros(0, dtype=np.int64)
        d, o = problem.space.encoding.to_arrays([archs[i] for i in keep])
        stats = {"milp_solves": solves, "time": time.perf_counter() - t0}
        if stopped:
            stats["stopped_by"] = stopped
        return FrontPoints(res_a[keep], obj_a[keep], d, o, 0.0, complete, "milp", stats)
