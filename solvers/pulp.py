"""The compact MILP (DESIGN 2.2) built through PuLP, for any MILP solver PuLP drives.

The sparse model comes from :func:`binas_opt.solvers._compact.build_model` and is translated row
by row into PuLP expressions.  Statuses are mapped honestly: PuLP labels a time-limited HiGHS run
"Optimal"; here a run is only ``optimal`` when the solver itself says so (HiGHS's model status,
CBC's solution status) and did not run into the time limit.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from dataclasses import dataclass

import numpy as np

from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.solving.backend import Capability, SolveContext, Solver, option
from binas_opt.solving.result import SolverOutput, Termination

from ._compact import CompactModel, budget_excess, build_model
from ._highs import silence_banner

__all__ = ["PulpSolver", "PulpOptions", "available_solvers", "resolve_solver"]

logger = logging.getLogger("binas_opt")

#: Friendly names for PuLP's solver classes.
_ALIASES = {
    "highs": ("HiGHS", "HiGHS_CMD"),
    "highs_cmd": ("HiGHS_CMD",),
    "cbc": ("COIN_CMD",),
    "pulp_cbc_cmd": ("COIN_CMD",),
    "glpk": ("GLPK_CMD",),
    "scip": ("SCIP_CMD", "SCIP_PY"),
    "gurobi": ("GUROBI", "GUROBI_CMD"),
    "cplex": ("CPLEX_PY", "CPLEX_CMD"),
}


def cbc_path() -> str | None:
    """A CBC executable: ``cbc`` on the ``PATH``, else the one bundled with PuLP, else None.

    CBC is always driven through ``pulp.COIN_CMD`` with this path: PuLP's ``PULP_CBC_CMD``
    (the bundled binary's own class) is deprecated since PuLP 3.3 and warns on every use.
    """
    import shutil

    found = shutil.which("cbc")
    if found:
        return found
    try:
        from pulp.apis.coin_api import PULP_CBC_CMD
        bundled = PULP_CBC_CMD.pulp_cbc_path  # a class attribute: no deprecation warning
    except (ImportError, AttributeError):
        return None
    return bundled if os.path.isfile(bundled) and os.access(bundled, os.X_OK) else None


def available_solvers() -> list[str]:
    """PuLP solver names usable on this machine (``pulp.listSolvers(onlyAvailable=True)``),
    with CBC listed as ``"COIN_CMD"`` whenever a CBC executable exists (:func:`cbc_path`)."""
    import pulp

    names = [n for n in pulp.listSolvers(onlyAvailable=True) if n != "PULP_CBC_CMD"]
    if "COIN_CMD" not in names and cbc_path() is not None:
        names.append("COIN_CMD")
    return names


def resolve_solver(name: str) -> str:
    """PuLP's class name for ``name`` (case-insensitive; aliases: ``"HiGHS"``, and ``"CBC"``
    or the deprecated ``"PULP_CBC_CMD"`` for ``"COIN_CMD"``)."""
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
        A PuLP solver among :func:`available_solvers` (case-insensitive): ``"HiGHS"``
        (default, through highspy), ``"HiGHS_CMD"``, ``"CBC"`` (``pulp.COIN_CMD`` with
        ``cbc`` from the ``PATH`` or the binary bundled with PuLP; ``"COIN_CMD"`` and
        ``"PULP_CBC_CMD"`` mean the same), ``"GLPK"``, ...
    rel_gap : float
        Relative MIP gap at which the solver may stop (0: prove optimality).
    threads : int or None
    """

    # types and ranges are checked by make_options from these declarations
    solver: str = "HiGHS"
    rel_gap: float = option(0.0, ge=0, lt=1)
    threads: int | None = option(None, ge=1)

    def validate(self) -> None:
        resolve_solver(self.solver)


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
    prob += pulp.LpAffineExpression([(xs[j], float(model.c[j])) for j in nz],
                                    constant=model.solver_offset)
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
        from .milp import FEASIBILITY_TOL, SMALL_MATRIX_VALUE

        kw.update(random_seed=int(seed) % 2147483647, mip_feasibility_tolerance=FEASIBILITY_TOL,
                  primal_feasibility_tolerance=FEASIBILITY_TOL, mip_abs_gap=0.0,
                  small_matrix_value=SMALL_MATRIX_VALUE)
    if name == "COIN_CMD":  # never PULP_CBC_CMD (deprecated): the same binary, by path
        return pulp.COIN_CMD(path=cbc_path(), **kw)
    return pulp.getSolver(name, **kw)


#: No-good cuts per solve against solutions over a budget by float noise (then tightening).
MAX_CUTS = 10


def _exclude(model: CompactModel, arch) -> CompactModel:
    """``model`` with a no-good cut row excluding exactly ``arch`` (its depths and active ops)."""
    import scipy.sparse as sp

    x = model.encode(arch)
    cols = np.r_[np.arange(model.n_cols)[model.z], np.arange(model.n_cols)[model.beta]]
    on = x[cols] > 0.5
    row = sp.csr_matrix((np.where(on, 1.0, -1.0), (np.zeros(cols.size, dtype=np.int64), cols)),
                        shape=(1, model.n_cols))
    return dataclasses.replace(model, A=sp.vstack([model.A, row]).tocsr(),
                               row_lower=np.append(model.row_lower, -np.inf),
                               row_upper=np.append(model.row_upper, float(on.sum() - 1)))


class PulpSolver(Solver):
    """Exact: the compact MILP solved by any solver PuLP finds (HiGHS, CBC, ...)."""

    name = "pulp"
    exact = True
    accepts = frozenset({ObjectiveKind.TABLE, ObjectiveKind.QUADRATIC})
    Options = PulpOptions
    capabilities = frozenset({Capability.WARM_START})
    packages = ("pulp", "highspy")

    def run(self, problem: Problem, options: PulpOptions, ctx: SolveContext) -> SolverOutput:
        """The scaled compact MILP (:func:`~binas_opt.solvers._compact.build_model` with
        ``scale=True``) with the exact checks of the ``milp`` backend: no-good cuts against
        solutions that break a budget exactly, an infeasibility verdict confirmed on relaxed
        rows, tightened rows as the last resort (see :func:`binas_opt.solvers.milp.solve_session`)."""
        from .milp import CONFIRM_RELAX, FEASIBILITY_TOL

        solver_name = resolve_solver(options.solver)
        t0 = time.perf_counter()
        model = build_model(problem, scale=True)
        base_upper = model.row_upper.copy()
        state = {"build": time.perf_counter() - t0, "solve": 0.0, "cuts": 0}
        tolerances = {"feasibility_tolerance": FEASIBILITY_TOL, "rel_gap": float(options.rel_gap),
                      "objective_scale": model.obj_scale,
                      "row_scales": [float(v) for v in model.row_scales],
                      "dropped_coefficients": model.dropped,
                      "fixed_columns": int((model.col_upper == 0).sum())}

        def loop(model, valid: bool):
            bound = None
            while True:
                out, slipped = self._solve_once(problem, model, solver_name, options, ctx)
                state["build"] += out.build_time
                state["solve"] += out.solve_time
                if valid and out.bound is not None and out.termination is not Termination.ERROR:
                    bound = out.bound if bound is None else (
                        min(bound, out.bound) if problem.sign > 0 else max(bound, out.bound))
                if slipped is None or ctx.out_of_time() or state["cuts"] >= MAX_CUTS:
                    return out, slipped, bound, model
                state["cuts"] += 1
                model = _exclude(model, slipped[1])  # only that exactly infeasible point

        out, slipped, bound, model = loop(model, True)
        notes = []
        confirmed = False
        if out.termination is Termination.INFEASIBLE and not ctx.out_of_time():
            rows = model.budget_rows
            up = model.row_upper.copy()
            up[rows] = base_upper[rows] + CONFIRM_RELAX * np.maximum(1.0, np.abs(base_upper[rows]))
            out, slipped, bound, relaxed = loop(dataclasses.replace(model, row_upper=up), True)
            confirmed = out.termination is Termination.INFEASIBLE
            if not confirmed:
                notes.append("the solver reported the exact budgets infeasible, but not a "
                             "relaxation of them; the relaxation was solved instead")
            model = dataclasses.replace(relaxed, row_upper=np.concatenate(
                [model.row_upper, relaxed.row_upper[model.row_upper.size:]]))
        retries = 0
        while slipped is not None and retries < 5 and not ctx.out_of_time():
            retries += 1
            excess = slipped[0]
            rows = model.budget_rows
            up = model.row_upper.copy()
            step = (2.0 ** retries) * FEASIBILITY_TOL * np.maximum(1.0, np.abs(up[rows]))
            up[rows] -= np.where(excess > 0, excess / model.row_scales + step, 0.0)
            model = dataclasses.replace(model, row_upper=up)
            out, slipped, _, model = loop(model, False)
        stats = {**out.stats, "tolerance_cuts": state["cuts"], "tolerance_retries": retries,
                 "tolerances": tolerances}
        kw = dict(stats=stats, build_time=state["build"], solve_time=state["solve"])
        if state["cuts"]:
            notes.insert(0, f"{state['cuts']} solution(s) that broke a budget exactly (within the "
                            "solver's tolerance) were excluded by cuts"
                            + (f", and the rows tightened {retries} time(s)" if retries else ""))
        msg = "; ".join(notes)
        arch = None if slipped is not None else out.architecture
        sign = problem.sign
        if arch is not None and bound is not None:
            value = problem.evaluate(arch)
            bound = max(bound, value) if sign > 0 else min(bound, value)
        if arch is None:
            if out.termination is Termination.INFEASIBLE and retries == 0 and confirmed:
                return SolverOutput(Termination.INFEASIBLE, proven_infeasible=True, **kw,
                                    message=f"{solver_name} proved the budgets infeasible "
                                            f"(confirmed with every budget row relaxed by "
                                            f"{CONFIRM_RELAX:g}, scaled)")
            if out.termination is Termination.ERROR and slipped is None and retries == 0:
                return dataclasses.replace(out, **kw, bound=bound)
            term = Termination.TIME_LIMIT if ctx.out_of_time() else Termination.ITERATION_LIMIT
            return SolverOutput(term, bound=bound, **kw, message=(msg + "; " if msg else "")
                                + "no architecture that meets every budget exactly was found, "
                                  "and this is not a proof of infeasibility")
        if retries == 0 or out.termination is not Termination.OPTIMAL:
            if out.termination is Termination.OPTIMAL or not msg:
                return dataclasses.replace(out, **kw, bound=bound,
                                           message=msg if msg else out.message)
            return dataclasses.replace(out, **kw, bound=bound, message=f"{out.message}; {msg}"
                                       if out.message else msg)
        tol = FEASIBILITY_TOL * model.obj_scale
        if bound is not None and sign * problem.evaluate(arch) >= sign * bound - tol:
            return SolverOutput(Termination.OPTIMAL, architecture=arch, proven_optimal=True,
                                bound=bound, message=msg, **kw)
        return SolverOutput(Termination.CONVERGED, architecture=arch, bound=bound, **kw,
                            message=f"{msg}; optimal for the tightened budgets, not proven "
                                    "optimal for the given ones")

    def _solve_once(self, problem, model, solver_name, options, ctx):
        import pulp

        if solver_name == "HiGHS":
            silence_banner()  # PuLP constructs highspy.Highs itself

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
                                stats={"solver": solver_name}, build_time=build,
                                solve_time=time.perf_counter() - t1), None
        elapsed = time.perf_counter() - t1
        times = dict(build_time=build, solve_time=elapsed)
        stats = {"solver": solver_name,
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
                bound = problem.sign * model.true_objective(-float(info.mip_dual_bound))
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
                return SolverOutput(Termination.ERROR, bound=bound, stats=stats, **times,
                                    message=f"{solver_name}'s solution exceeds a budget by "
                                            "float noise"), (excess, arch)
        if prob.status == pulp.LpStatusInfeasible and not hit_limit:  # a limit is no proof
            return SolverOutput(Termination.INFEASIBLE, proven_infeasible=True, stats=stats, **times,
                                message=f"{solver_name} proved the budgets infeasible"), None
        if solver_optimal and not hit_limit and arch is not None:
            if options.rel_gap == 0:
                return SolverOutput(Termination.OPTIMAL, architecture=arch, bound=bound,
                                    proven_optimal=True, stats=stats, **times), None
            return SolverOutput(Termination.GAP_LIMIT, architecture=arch, bound=bound, stats=stats,
                                **times, message=f"stopped at the gap limit rel_gap="
                                                 f"{options.rel_gap:g}"), None
        if hit_limit or (ctx.time_limit is not None and prob.status == pulp.LpStatusNotSolved):
            return SolverOutput(Termination.TIME_LIMIT, architecture=arch, bound=bound, stats=stats,
                                **times, message=f"{solver_name} stopped at the time limit"), None
        return SolverOutput(Termination.ERROR, architecture=arch, bound=bound, stats=stats, **times,
                            message=f"{solver_name} ended with PuLP status {stats['pulp_status']}"), None
