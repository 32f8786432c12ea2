"""LP relaxation of the compact MILP through cvxpy (backend ``relax``): a bound and a rounding.

The model is :func:`._compact.build_model` with integrality dropped (for a QuadraticForm the
model already holds the McCormick rows of every product), stated as a cvxpy problem:

.. math:: \\max\\; c^T x + c_0 \\quad\\text{s.t.}\\quad A_{=} x = b_{=},\\;
          A_{\\le} x \\le b_{\\le},\\; A_{B} x \\le \\theta,\\; 0 \\le x \\le 1,

where the budget right-hand sides :math:`\\theta` are a ``cp.Parameter``.  The compiled problem is
cached (keyed by everything except the budgets), so a sweep over budgets recompiles nothing.

The LP optimum bounds the MILP optimum.  The bound reported is rigorous: it is recomputed from the
solver's duals by weak duality (:func:`._mck.weak_duality_bound`), so solver tolerances cannot
make it too small.  The LP solution is rounded (argmax per group), repaired if it breaks a budget,
and optionally polished by local search (:mod:`._repair`).  The status is ``feasible`` unless the
rounded architecture provably attains the bound (within 1e-9 relative), which proves it optimal.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass

import cvxpy as cp  # imported with the backend (before solve() starts its clock)
import numpy as np

from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.solving.backend import Capability, SolveContext, Solver
from binas_opt.solving.result import SolverOutput, Termination

from ._compact import CompactModel, build_model
from ._highs import silence_banner
from ._mck import weak_duality_bound
from ._repair import Evaluator, polish, repair, to_arrays

__all__ = ["RelaxSolver", "RelaxOptions", "installed_solvers", "clear_cache"]

logger = logging.getLogger("binas_opt")

#: Preferred LP solvers, in order, when ``solver`` is not given.
PREFERRED = ("HIGHS", "CLARABEL", "SCIPY", "ECOS", "SCS")
#: Time-limit keyword of the cvxpy solvers that have one.
_TIME_KW = {"HIGHS": "time_limit", "CLARABEL": "time_limit", "SCS": "time_limit_secs",
            "GUROBI": "TimeLimit", "MOSEK": None}


def installed_solvers() -> list[str]:
    return list(cp.installed_solvers())


@dataclass(frozen=True)
class RelaxOptions:
    """Options of the ``relax`` backend.

    solver : str, optional
        A cvxpy solver name among ``cvxpy.installed_solvers()`` (default: the first installed of
        HIGHS, CLARABEL, SCIPY, ECOS, SCS).
    polish : bool
        Improve the rounded architecture by feasible local search (default True).
    cache : bool
        Reuse the compiled cvxpy problem across budgets (default True).
    """

    solver: str | None = None
    polish: bool = True
    cache: bool = True

    def validate(self) -> None:
        if self.solver is not None:
            names = installed_solvers()
            if not isinstance(self.solver, str) or self.solver.upper() not in names:
                raise ValueError(
                    f"relax: solver {self.solver!r} is not an installed cvxpy solver; "
                    f"installed: {names}")

    def solver_name(self) -> str:
        names = installed_solvers()
        if self.solver is not None:
            return self.solver.upper()
        for n in PREFERRED:
            if n in names:
                return n
        raise ValueError(f"relax: no LP-capable cvxpy solver installed (installed: {names})")


@dataclass
class _Compiled:
    """A cvxpy problem of one model structure; only the budget parameter changes."""

    problem: object
    x: object
    rhs: object  # cp.Parameter, budget right-hand sides (sign-adjusted: every row is <=)
    cons: list
    parts: dict  # which model rows each constraint holds, and their signs
    uses: int = 0


_CACHE: OrderedDict[str, _Compiled] = OrderedDict()
_CACHE_SIZE = 16
_LOCK = threading.Lock()


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def _key(model: CompactModel, solver: str) -> str:
    """Digest of everything in the model except the budget right-hand sides."""
    h = hashlib.sha256()
    lo, up = model.row_lower.copy(), model.row_upper.copy()
    lo[model.budget_rows] = 0.0
    up[model.budget_rows] = 0.0
    a = model.A.tocsr()
    for arr in (model.c, np.array([model.offset]), a.data, a.indices, a.indptr, lo, up,
                model.col_lower, model.col_upper, model.budget_rows, model.budget_le):
        h.update(np.ascontiguousarray(arr).tobytes())
        h.update(b"|")
    h.update(solver.encode())
    h.update(str(a.shape).encode())
    return h.hexdigest()


def _rhs(model: CompactModel, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Budget right-hand sides with every budget row written as ``<=``."""
    rows, le = model.budget_rows, model.budget_le
    return np.where(le, upper[rows], -lower[rows])


def _compile(model: CompactModel) -> _Compiled:
    A = model.A.tocsr()
    n = model.n_cols
    lo, up = model.row_lower, model.row_upper
    is_budget = np.zeros(A.shape[0], dtype=bool)
    is_budget[model.budget_rows] = True
    eq = ~is_budget & np.isfinite(lo) & np.isfinite(up) & (lo == up)
    le = ~is_budget & ~eq & np.isfinite(up)
    ge = ~is_budget & ~eq & np.isfinite(lo)
    x = cp.Variable(n, name="x")
    cons, parts = [], {}
    if eq.any():
        cons.append(A[eq] @ x == lo[eq])
        parts["eq"] = (np.flatnonzero(eq), 1.0)
    if le.any():
        cons.append(A[le] @ x <= up[le])
        parts["le"] = (np.flatnonzero(le), 1.0)
    if ge.any():
        cons.append(-A[ge] @ x <= -lo[ge])
        parts["ge"] = (np.flatnonzero(ge), -1.0)
    k = model.budget_rows.size
    rhs = cp.Parameter(k, name="budgets") if k else None
    if k:
        sign = np.where(model.budget_le, 1.0, -1.0)
        cons.append((A[model.budget_rows].multiply(sign[:, None])).tocsr() @ x <= rhs)
        parts["budget"] = (model.budget_rows, sign)
    cons += [x >= model.col_lower, x <= model.col_upper]
    prob = cp.Problem(cp.Maximize(model.c @ x + model.solver_offset), cons)
    return _Compiled(prob, x, rhs, cons, parts)


def _row_duals(model: CompactModel, comp: _Compiled) -> np.ndarray | None:
    y = np.zeros(model.A.shape[0])
    for con, (rows, sign) in zip(comp.cons, comp.parts.values(), strict=False):
        dv = con.dual_value
        if dv is None:
            return None
        y[rows] = np.asarray(dv, dtype=float).ravel() * sign
    return y


class RelaxSolver(Solver):
    """LP relaxation via cvxpy: a rigorous upper bound and a rounded, repaired architecture."""

    name = "relax"
    exact = False
    capabilities = frozenset({Capability.FINDS_FEASIBLE, Capability.PROVES_INFEASIBILITY})
    accepts = frozenset({ObjectiveKind.TABLE, ObjectiveKind.QUADRATIC})
    Options = RelaxOptions
    packages = ("cvxpy", "highspy")

    def run(self, problem: Problem, options: RelaxOptions, ctx: SolveContext) -> SolverOutput:
        t0 = time.perf_counter()
        solver = options.solver_name()
        # scaled (budget rows and objective at largest coefficient ~1, exact column fixing), so
        # the LP solver's absolute tolerances act as relative ones at every magnitude
        model = build_model(problem, scale=True)
        key = _key(model, solver)
        hit = False
        with _LOCK:
            comp = _CACHE.get(key) if options.cache else None
            if comp is not None:
                _CACHE.move_to_end(key)
                hit = True
        if comp is None:
            comp = _compile(model)
            if options.cache:
                with _LOCK:
                    _CACHE[key] = comp
                    while len(_CACHE) > _CACHE_SIZE:
                        _CACHE.popitem(last=False)
        budgets = np.array([c.budget for c in problem.constraints], dtype=float)
        lower, upper = model.with_budgets(budgets, problem)
        if comp.rhs is not None:
            comp.rhs.value = _rhs(model, lower, upper)
        build = time.perf_counter() - t0
        kw = {}
        tkw = _TIME_KW.get(solver)
        if ctx.time_limit is not None and tkw:
            kw[tkw] = max(ctx.remaining(), 1e-3)
        stats = {"lp_solver": solver, "cache_hit": hit,
                 "n_cols": model.n_cols, "n_rows": model.A.shape[0]}
        if solver == "HIGHS":
            silence_banner()  # cvxpy constructs highspy.Highs itself
        t1 = time.perf_counter()
        try:
            with _LOCK, warnings.catch_warnings():  # one solve at a time per compiled problem
                warnings.simplefilter("ignore", UserWarning)  # inaccuracy is handled below
                comp.problem.solve(solver=solver, verbose=ctx.verbose, **kw)
                status = comp.problem.status
                x = None if comp.x.value is None else np.asarray(comp.x.value, dtype=float)
                value = comp.problem.value
                if value is not None and math.isfinite(value):
                    value = model.true_objective(float(value) - model.solver_offset)
                y = _row_duals(model, comp) if x is not None else None
        except (cp.error.SolverError, ValueError) as exc:  # cvxpy: "cannot unpack invalid solution"
            term = Termination.TIME_LIMIT if ctx.out_of_time() else Termination.ERROR
            return SolverOutput(term, message=f"cvxpy solver {solver} failed: {exc}", stats=stats,
                                build_time=build, solve_time=time.perf_counter() - t1)
        stats["lp_status"] = status
        if status == cp.INFEASIBLE:
            return SolverOutput(Termination.INFEASIBLE, proven_infeasible=True,
                                message="the LP relaxation is infeasible, so are the budgets",
                                stats=stats, build_time=build, solve_time=time.perf_counter() - t1)
        if status == cp.INFEASIBLE_INACCURATE:
            return SolverOutput(Termination.ERROR, stats=stats, build_time=build,
                                solve_time=time.perf_counter() - t1,
                                message=f"cvxpy solver {solver} reports the LP relaxation "
                                        "infeasible, inaccurately: no architecture and no proof; "
                                        "use an exact backend ('milp')")
        if x is None:
            term = Termination.TIME_LIMIT if ctx.out_of_time() else Termination.ERROR
            return SolverOutput(term, message=f"cvxpy status {status}: no LP solution",
                                stats=stats, build_time=build, solve_time=time.perf_counter() - t1)
        # a rigorous bound from the duals (weak duality), in the model's maximised sense
        if y is not None:
            bound_max = model.true_objective(weak_duality_bound(
                model.c, model.A, lower, upper, model.col_lower, model.col_upper, y))
        else:
            bound_max = float(value) + 1e-6 * max(1.0, abs(float(value)))
        if status == cp.OPTIMAL_INACCURATE or not math.isfinite(bound_max):
            bound_max = max(bound_max, float(value)) if math.isfinite(bound_max) else math.inf
        stats["lp_value"] = problem.sign * float(value)
        # round, repair, polish
        arch = model.decode(np.clip(x, 0.0, 1.0))
        d, o = to_arrays(problem.space, arch)
        out = repair(problem, d, o, time_limit=max(ctx.remaining(), 0.5)
                     if ctx.time_limit is not None else 10.0)
        if out.depths is None:
            times = dict(build_time=build, solve_time=time.perf_counter() - t1)
            if out.proven_infeasible:
                return SolverOutput(Termination.INFEASIBLE, proven_infeasible=True, stats=stats,
                                    message="the budgets are jointly infeasible (proved by the "
                                            "repair MILP)", **times)
            return SolverOutput(Termination.TIME_LIMIT if ctx.out_of_time()
                                else Termination.ITERATION_LIMIT, stats=stats, **times,
                                message="the rounded LP solution could not be repaired (greedy "
                                        "moves, then a time-limited feasibility MILP); this is "
                                        "not a proof of infeasibility")
        d, o = out.depths, out.ops
        stats["repair"] = out.method.value
        moves = 0
        if options.polish and not ctx.out_of_time():
            d, o, moves = polish(problem, d, o, deadline=ctx.out_of_time)
        stats["polish_moves"] = moves
        solve_time = time.perf_counter() - t1
        arch = problem.space.architectures_from_arrays(d[None, :], o[None, :])[0]
        value_max = float(Evaluator(problem).objective(d[None, :], o[None, :])[0])
        bound = problem.sign * bound_max if math.isfinite(bound_max) else None
        tol = 1e-9 * max(1.0, abs(bound_max)) if math.isfinite(bound_max) else 0.0
        proven = math.isfinite(bound_max) and value_max >= bound_max - tol
        if proven:
            term = Termination.OPTIMAL
        elif ctx.out_of_time():
            term = Termination.TIME_LIMIT
        else:
            term = Termination.CONVERGED
        return SolverOutput(term, architecture=arch, bound=bound, proven_optimal=proven,
                            message="" if proven else "bound from the LP relaxation",
                            stats=stats, build_time=build, solve_time=solve_time)
