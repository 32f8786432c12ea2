"""The compact MILP (DESIGN 2.2) built through PuLP, for any MILP solver PuLP drives.

The sparse model comes from :func:`binas_opt.solvers._compact.build_model` and is translated row
by row into PuLP expressions.  Statuses are mapped honestly: PuLP labels a time-limited HiGHS run
"Optimal"; here a run is only ``optimal`` when the solver itself says so (HiGHS's model status,
CBC's solution status) and did not run into the time limit.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import numpy as np

from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.solving.backend import SolveContext, Solver
from binas_opt.solving.result import SolverOutput, Termination

from ._compact import CompactModel, budget_excess, build_model

__all__ = ["PulpSolver", "PulpOptions", "available_solvers", "resolve_solver"]

logger = logging.getLogger("binas_opt")

#: Friendly names for PuLP's solver classes.
_ALIASES = {
    "highs": ("HiGHS", "HiGHS_CMD"),
    "highs_cmd": ("HiGHS_CMD",),
    "cbc": ("PULP_CBC_CMD", "COIN_CMD"),
    "glpk": ("GLPK_CMD",),
    "scip": ("SCIP_CMD", "SCIP_PY"),
    "gurobi": ("GUROBI", "GUROBI_CMD"),
    "cplex": ("CPLEX_PY", "CPLEX_CMD"),
}


def available_solvers() -> list[str]:
    """PuLP solver names usable on this machine (``pulp.listSolvers(onlyAvailable=True)``)."""
    import pulp

    return list(pulp.listSolvers(onlyAvailable=True))


def resolve_solver(name: str) -> str:
    """PuLP's class name for ``name`` (case-insensitive; "CBC" and "HiGHS" aliases)."""
    avail = available_solvers()
    low = {a.lower(): a for a in avail}
    if name.lower() in low:
        return low[name.lower()]
    for cand in _ALIASES.get(name.lower(), ()):
        if cand in avail:
            return cand
    raise ValueError(f"pulp: solver {name!r} is not available here; available solvers: {avail}")


@dataclass(frozen=True)
class PulpOptions:
    """Options of the ``pulp`` backend.

    Attributes
    ----------
    solver : str
        A PuLP solver among ``pulp.listSolvers(onlyAvailable=True)`` (``"HiGHS"``, ``"CBC"``,
        ``"PULP_CBC_CMD"``, ``"GLPK"``, ...).
    rel_gap : float
        Relative MIP gap at which the solver may stop (0: prove optimality).
    threads : int or None
    """

    solver: str = "HiGHS"
    rel_gap: float = 0.0
    threads: int | None = None

    def validate(self) -> None:
        if not isinstance(self.solver, str):
            raise ValueError(f"pulp: solver must be a string, got {self.solver!r}")
        resolve_solver(self.solver)
        if not 0.0 <= self.rel_gap < 1.0:
            raise ValueError(f"pulp: rel_gap must be in [0, 1), got {self.rel_gap}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"pulp: threads must be >= 1 or None, got {self.threads}")


def to_pulp(model: CompactModel, name: str = "binas"):
    """A ``pulp.LpProblem`` (maximise) and its variables for a :class:`CompactModel`."""
    import pulp

    prob = pulp.LpProblem(name, pulp.LpMaximize)
    n = model.n_cols
    add = getattr(prob, "add_variable", None)  # PuLP >= 3.3; LpVariable(...) is deprecated
    xs = []
    for j in range(n):
        lo, up = float(model.col_lower[j]), float(model.col_upper[j])
        cat = (pulp.LpBinary if model.integer[j] and lo == 0 and up == 1 else
               pulp.LpInteger if model.integer[j] else pulp.LpContinuous)
        xs.append(add(f"x{j}", lowBound=lo, upBound=up, cat=cat) if add is not None
                  else pulp.LpVariable(f"x{j}", lowBound=lo, upBound=up, cat=cat))
    nz = np.flatnonzero(model.c)
    prob += pulp.LpAffineExpression([(xs[j], float(model.c[j])) for j in nz], constant=model.offset)
    a = model.A.tocsr()
    for r in range(a.shape[0]):
        lo, up = model.row_lower[r], model.row_upper[r]
        cols, vals = a.indices[a.indptr[r]: a.indptr[r + 1]], a.data[a.indptr[r]: a.indptr[r + 1]]
        expr = pulp.LpAffineExpression([(xs[j], float(v)) for j, v in zip(cols, vals, strict=True)])
        if np.isfinite(lo) and np.isfinite(up) and lo == up:
            prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{r}", float(lo))
            continue
        if np.isfinite(lo):
            prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{r}_lo", float(lo))
        if np.isfinite(up):
            prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{r}_up", float(up))
    return prob, xs


def _make_solver(name: str, options: PulpOptions, time_limit, verbose: bool, warm: bool,
                 seed: int):
    import pulp

    # gapRel is always explicit: HiGHS would otherwise stop at its default gap of 1e-4
    kw = {"msg": bool(verbose), "gapRel": float(options.rel_gap)}
    if time_limit is not None:
        kw["timeLimit"] = max(float(time_limit), 0.01)
    if options.threads is not None:
        kw["threads"] = options.threads
    if warm and name in ("PULP_CBC_CMD", "COIN_CMD", "HiGHS_CMD"):
        kw["warmStart"] = True
    if name == "HiGHS":
        kw.update(random_seed=int(seed) % 2147483647, mip_feasibility_tolerance=1e-9,
                  primal_feasibility_tolerance=1e-9)
    return pulp.getSolver(name, **kw)


class PulpSolver(Solver):
    """Exact: the compact MILP solved by any solver PuLP finds (HiGHS, CBC, ...)."""

    name = "pulp"
    exact = True
    accepts = frozenset({ObjectiveKind.TABLE, ObjectiveKind.QUADRATIC})
    Options = PulpOptions
    packages = ("pulp", "highspy")

    def run(self, problem: Problem, options: PulpOptions, ctx: SolveContext) -> SolverOutput:

        solver_name = resolve_solver(options.solver)
        model = build_model(problem)
        out = None
        for _attempt in range(4):
            out, excess = self._solve_once(problem, model, solver_name, options, ctx)
            if excess is None:
                return out
            # the solver's tolerance let a budget slip beyond float noise: tighten and re-solve
            logger.debug("pulp: tightening budget rows by %s", excess)
            lo, up = model.tightened(model.row_lower, model.row_upper, excess)
            model = dataclasses.replace(model, row_lower=lo, row_upper=up)
        return SolverOutput(out.termination if out.termination is not Termination.OPTIMAL
                            else Termination.ERROR, None, out.bound, stats=out.stats,
                            message="pulp: the solver kept returning solutions beyond a budget")

    def _solve_once(self, problem, model, solver_name, options, ctx):
        import pulp

        t0 = time.perf_counter()
        prob, xs = to_pulp(model)
        if ctx.warm_start is not None:
            for v, x0 in zip(xs, model.encode(ctx.warm_start), strict=True):
                v.setInitialValue(float(x0))
        build = time.perf_counter() - t0
        remaining = None if ctx.time_limit is None else max(ctx.remaining(), 0.01)
        solver = _make_solver(solver_name, options, remaining, ctx.verbose, ctx.warm_start is not None,
                              ctx.seed)
        t1 = time.perf_counter()
        try:
            prob.solve(solver)
        except pulp.PulpSolverError as exc:
            return SolverOutput(Termination.ERROR, message=f"pulp/{solver_name}: {exc}",
                                stats={"build_time": build, "solve_time": time.perf_counter() - t1,
                                       "solver": solver_name}), None
        elapsed = time.perf_counter() - t1
        stats = {"build_time": build, "solve_time": elapsed, "solver": solver_name,
                 "pulp_status": pulp.LpStatus.get(prob.status, str(prob.status)),
                 "pulp_solution_status": pulp.LpSolution.get(prob.sol_status, str(prob.sol_status))}
        # what the solver itself says
        hit_limit = remaining is not None and elapsed >= 0.98 * remaining
        solver_optimal = prob.sol_status == pulp.LpSolutionOptimal
        bound = None
        highs = getattr(prob, "solverModel", None)
        if solver_name == "HiGHS" and highs is not None:
            import highspy

            st = highs.getModelStatus()
            info = highs.getInfo()
            stats["highs_status"] = highs.modelStatusToString(st)
            solver_optimal = st == highspy.HighsModelStatus.kOptimal
            hit_limit = hit_limit or st == highspy.HighsModelStatus.kTimeLimit
            # PuLP hands HiGHS ``min -objective`` without the constant term
            if np.isfinite(info.mip_dual_bound) and abs(info.mip_dual_bound) < 1e300:
                bound = problem.sign * (model.offset - float(info.mip_dual_bound))
            stats["mip_gap"] = float(info.mip_gap)
            stats["nodes"] = int(info.mip_node_count)
        x = np.array([v.varValue if v.varValue is not None else np.nan for v in xs], dtype=float)
        arch = None
        has_x = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible) \
            and np.all(np.isfinite(x[model.integer]))
        if has_x:
            arch = model.decode(np.round(x))
            excess = budget_excess(problem, arch)
            if excess.any():  # a tolerance slip: never hand back a broken budget
                return SolverOutput(Termination.ERROR, stats=stats), excess
        if prob.status == pulp.LpStatusInfeasible:
            return SolverOutput(Termination.INFEASIBLE, proven_infeasible=True, stats=stats,
                                message=f"{solver_name} proved the budgets infeasible"), None
        if solver_optimal and not hit_limit and arch is not None:
            term = Termination.OPTIMAL if options.rel_gap == 0 else Termination.GAP_LIMIT
            return SolverOutput(term, architecture=arch, bound=bound,
                                proven_optimal=options.rel_gap == 0, stats=stats), None
        if hit_limit or (ctx.time_limit is not None and prob.status == pulp.LpStatusNotSolved):
            return SolverOutput(Termination.TIME_LIMIT, architecture=arch, bound=bound, stats=stats,
                                message=f"{solver_name} stopped at the time limit"), None
        return SolverOutput(Termination.ERROR, architecture=arch, bound=bound, stats=stats,
                            message=f"{solver_name} ended with PuLP status {stats['pulp_status']}"), None
