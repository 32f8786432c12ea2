"""``pareto_front``: the whole objective-vs-resource trade-off, or exact results for many budgets.

With a Table objective and a single budget the exact front comes from one pass of the ``dp``
backend's dynamic program (DESIGN 2.4); every later budget is a binary search in it.  Otherwise
(a QuadraticForm objective, or other budgets that stay fixed while one is swept) the MILP is
swept: one HiGHS model is kept in memory, only the budget row changes, and each solve is warm
started from the previous solution.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from binas_opt.model.architecture import Architecture
from binas_opt.model.problem import FEASIBILITY_RTOL, ObjectiveKind, Problem
from binas_opt.model.table import Sense
from binas_opt.solving.dispatch import finish_result, result_context
from binas_opt.solving.result import Result, SolverOutput, Termination

__all__ = ["ParetoFront", "pareto_front", "METHODS"]

logger = logging.getLogger("binas_opt")

METHODS = ("auto", "dp", "milp")


def _readonly(a, dtype=None) -> np.ndarray:
    a = np.array(a, dtype=dtype)
    a.setflags(write=False)
    return a


def _small_int(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.int64)
    hi = int(a.max()) if a.size else 0
    return a.astype(np.uint8 if hi < 256 else np.uint16 if hi < 65536 else np.int64)


@dataclass(frozen=True, eq=False)
class ParetoFront:
    """The objective-vs-resource front of a problem, stored as compact arrays.

    Point ``i`` is the architecture ``(depths[i], ops[i])`` (canonical, small integers) with
    resource value ``resources[i]`` and objective ``objective[i]``.  ``resources`` is strictly
    increasing and the objective strictly improving, so point ``i`` is optimal for every budget
    in ``[resources[i], resources[i + 1])``.  ``epsilon > 0`` marks an epsilon-dominance front:
    for every budget the best point is within ``epsilon`` of the optimum.

    Attributes
    ----------
    problem : Problem
        The problem whose constraint ``resource`` is swept (other budgets fixed).
    resource : str
    resources, objective : ndarray, shape (n,)
    depths : ndarray, shape (n, n_stages)
    ops : ndarray, shape (n, total_blocks)
    epsilon : float
    method : str
        ``"dp"``, ``"dp-epsilon"`` or ``"milp"``.
    complete : bool
        False when a MILP sweep stopped early (``max_points`` or the time limit).
    build_time : float
    stats : dict
    """

    problem: Problem
    resource: str
    resources: np.ndarray
    objective: np.ndarray
    depths: np.ndarray
    ops: np.ndarray
    epsilon: float = 0.0
    method: str = "dp"
    complete: bool = True
    build_time: float = 0.0
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.resources.size)

    @property
    def exact(self) -> bool:
        return self.epsilon == 0.0

    @property
    def unit(self) -> str | None:
        return self.problem.constraint(self.resource).table.unit

    def query(self, budget: float) -> int:
        """Index of the best point within ``budget`` (float tolerance as in
        :meth:`Problem.feasible_mask`), or -1 if none: one :func:`numpy.searchsorted`."""
        b = float(budget)
        b += FEASIBILITY_RTOL * max(1.0, abs(b))
        return int(np.searchsorted(self.resources, b, side="right")) - 1

    def query_many(self, budgets) -> np.ndarray:
        """Vectorised :meth:`query`."""
        b = np.asarray(budgets, dtype=float)
        b = b + FEASIBILITY_RTOL * np.maximum(1.0, np.abs(b))
        return np.searchsorted(self.resources, b, side="right") - 1

    def value_at(self, budgets) -> np.ndarray:
        """Best objective within each budget (NaN where none is feasible)."""
        i = self.query_many(budgets)
        return np.where(i >= 0, self.objective[np.maximum(i, 0)], np.nan)

    def architecture(self, i: int) -> Architecture:
        """The architecture of point ``i``."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"point {i} outside a front of {n} points")
        return self.problem.space.architectures_from_arrays(
            self.depths[i: i + 1 or None].astype(np.int64), self.ops[i: i + 1 or None].astype(np.int64)
        )[0]

    def best(self, budget: float) -> Architecture | None:
        """The best architecture within ``budget``, or None."""
        i = self.query(budget)
        return None if i < 0 else self.architecture(i)

    def result(self, budget: float) -> Result:
        """A full :class:`~binas_opt.Result` for ``budget``, built and checked as ``solve`` does."""
        return self._results([budget])[0]

    def _results(self, budgets: Sequence[float]) -> list[Result]:
        t0 = time.perf_counter()
        ctx = result_context(self.problem, "dp", {"method": self.method, "epsilon": self.epsilon})
        mins = self.problem.min_resources()
        out = []
        for b in budgets:
            w0 = time.perf_counter()
            prob = self.problem.with_budgets({self.resource: float(b)})
            i = self.query(b)
            stats = {"front_size": len(self), "front_build_time": self.build_time,
                     "method": self.method, "epsilon": self.epsilon}
            if i < 0:
                so = SolverOutput(Termination.INFEASIBLE, proven_infeasible=self.complete,
                                  message="no point of the front meets the budget", stats=stats)
            elif self.epsilon == 0.0:
                so = SolverOutput(Termination.OPTIMAL, self.architecture(i), proven_optimal=True,
                                  stats=stats)
            else:
                bound = float(self.objective[i]) + self.problem.sign * self.epsilon
                so = SolverOutput(Termination.CONVERGED, self.architecture(i), bound=bound,
                                  stats=stats, message=f"epsilon-dominance front "
                                  f"(within {self.epsilon:.3g} of the optimum)")
            out.append(finish_result(prob, so, ctx, wall0=w0, min_resources=mins))
        logger.debug("pareto: %d results from the front in %.3g s", len(out), time.perf_counter() - t0)
        return out

    # ------------------------------------------------------------------ io
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (the problem included, so the front is self-contained)."""
        return {
            "resource": self.resource,
            "unit": self.unit,
            "resources": self.resources.tolist(),
            "objective": self.objective.tolist(),
            "depths": self.depths.tolist(),
            "ops": self.ops.tolist(),
            "epsilon": self.epsilon,
            "method": self.method,
            "complete": self.complete,
            "build_time": self.build_time,
            "stats": _plain(self.stats),
            "problem": self.problem.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ParetoFront:
        problem = Problem.from_dict(d["problem"])
        return cls(problem, d["resource"], _readonly(d["resources"], float),
                   _readonly(d["objective"], float),
                   _readonly(_small_int(np.array(d["depths"], dtype=np.int64).reshape(
                       len(d["resources"]), problem.space.n_stages))),
                   _readonly(_small_int(np.array(d["ops"], dtype=np.int64).reshape(
                       len(d["resources"]), -1))),
                   float(d.get("epsilon", 0.0)), d.get("method", "dp"), bool(d.get("complete", True)),
                   float(d.get("build_time", 0.0)), dict(d.get("stats", {})))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)

    def save(self, path: str | os.PathLike) -> None:
        """Write the front as JSON, atomically."""
        from binas_opt.io import atomic_write_text

        atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike) -> ParetoFront:
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def table(self, max_rows: int | None = 30) -> str:
        """The front as an aligned text table (evenly spaced rows when longer than ``max_rows``)."""
        n = len(self)
        rows = np.arange(n)
        if max_rows is not None and n > max_rows:
            rows = np.unique(np.linspace(0, n - 1, max_rows).astype(np.int64))
        unit = f" [{self.unit}]" if self.unit else ""
        name = self.problem.objective.name or "objective"
        head = f"{'#':>6}  {self.resource + unit:>18}  {name:>12}  architecture"
        lines = [head, "-" * len(head)]
        for i in rows:
            a = self.architecture(int(i))
            ops = [list(r) for r in a.active_ops()]
            lines.append(f"{i:>6}  {self.resources[i]:>18.6g}  {self.objective[i]:>12.6g}  "
                         f"depths={list(a.depths)} ops={ops}")
        kind = "exact" if self.exact else f"epsilon={self.epsilon:.3g}"
        lines.append(f"{n} points ({kind}, {self.method}, built in {self.build_time * 1e3:.1f} ms)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"ParetoFront({self.resource!r}, {len(self)} points, method={self.method!r}, "
                f"epsilon={self.epsilon:g})")


def _plain(x):
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    return x


# ---------------------------------------------------------------------------- building
def _check_args(problem: Problem, resource: str, method: str):
    if not isinstance(problem, Problem):
        raise TypeError(f"pareto_front: problem must be a Problem, got {type(problem).__name__}")
    if method not in METHODS:
        raise ValueError(f"pareto_front: method must be one of {METHODS}, got {method!r}")
    names = [c.name for c in problem.constraints]
    if resource not in names:
        raise ValueError(
            f"pareto_front: resource {resource!r} is not a constraint of the problem; "
            f"constraints: {names} (add e.g. `latency <= budget` to the problem)"
        )
    if problem.constraint(resource).sense is not Sense.LE:
        raise ValueError(f"pareto_front: resource {resource!r} must be a '<=' budget")
    if problem.objective_kind is ObjectiveKind.BLACK_BOX:
        raise ValueError("pareto_front needs a Table or QuadraticForm objective (exact backends); "
                         "for a black box, call solve(..., backend='evo') per budget")
    dp_ok = problem.objective_kind is ObjectiveKind.TABLE and len(problem.constraints) == 1
    if method == "dp" and not dp_ok:
        raise ValueError(
            "pareto_front: method='dp' needs a Table objective and a single budget (the swept "
            f"one); this problem has a {problem.objective_kind.value} objective and "
            f"{len(problem.constraints)} budgets: use method='milp' or 'auto'"
        )
    return dp_ok and method != "milp"


def pareto_front(problem: Problem, resource: str = "latency", budgets: Sequence[float] | None = None,
                 *, method: str = "auto", epsilon: float = 0.0, max_points: int | None = None,
                 max_pairs: int | None = 30_000_000, fallback: str = "auto",
                 fallback_points: int = 1000, time_limit: float | None = None, seed: int = 0,
                 verbose: bool = False, milp_max_points: int = 500):
    """The trade-off between the objective and one resource.

    Parameters
    ----------
    problem : Problem
        Table or QuadraticForm objective; ``resource`` must be one of its ``<=`` budgets.  The
        other budgets stay fixed while ``resource`` is swept.
    resource : str
        Name of the swept constraint.
    budgets : sequence of float, optional
        None: return the whole front (a :class:`ParetoFront`).  Otherwise: one exact
        :class:`~binas_opt.Result` per budget, in the given order.
    method : {"auto", "dp", "milp"}
        ``auto`` uses the Pareto DP when the problem allows it (Table objective, one budget),
        else the warm-started MILP sweep.
    epsilon, max_points : optional
        Epsilon-dominance front (DP only): within ``epsilon`` of the optimum for every budget,
        or thinned to about ``max_points`` points with the guarantee reported.
    max_pairs : int or None
        Work limit of an exact DP build (candidate pairs, ~1 s for the default).
    fallback : {"auto", "milp", "epsilon", "error"}
        When the exact DP would exceed ``max_pairs``: ``auto`` builds an epsilon front of about
        ``fallback_points`` points for the whole front and solves the MILP per budget when
        budgets are given; the choice and times are in ``stats``.
    time_limit : float, optional
        Seconds for the whole call (the MILP sweep stops early and marks ``complete=False``).
    milp_max_points : int
        At most this many MILP solves for a whole front.

    Returns
    -------
    ParetoFront or list of Result
    """
    use_dp = _check_args(problem, resource, method)
    if fallback not in ("auto", "milp", "epsilon", "error"):
        raise ValueError(f"pareto_front: fallback must be auto, milp, epsilon or error, got {fallback!r}")
    if budgets is not None:
        budgets = [float(b) for b in budgets]
        bad = [b for b in budgets if not math.isfinite(b)]
        if bad:
            raise ValueError(f"pareto_front: budgets must be finite numbers, got {bad}")
        if not budgets:
            return []
    t0 = time.perf_counter()
    deadline = math.inf if time_limit is None else t0 + float(time_limit)
    if use_dp:
        from binas_opt.solvers._pareto_dp import FrontTooLarge, OutOfTime
        from binas_opt.solvers.dp import DPOptions, dp_front

        fb = fallback if fallback != "auto" else ("milp" if budgets is not None else "epsilon")
        opts = DPOptions(epsilon=float(epsilon), max_points=max_points, max_pairs=max_pairs,
                         fallback="error" if fb == "milp" else fb, fallback_points=fallback_points)
        opts.validate()
        cap = math.inf if budgets is None else max(budgets)
        try:
            dp, how = dp_front(problem, opts, resource=resource, budget=cap, deadline=deadline)
        except FrontTooLarge as exc:
            if fb == "error":
                raise ValueError(f"pareto_front: {exc}; raise max_pairs or use epsilon/max_points") from exc
            logger.warning("pareto_front: %s; solving the MILP per budget", exc)
            return _milp_results(problem, resource, budgets, time_limit, seed, verbose, t0,
                                 {"fallback": "milp", "fallback_reason": str(exc)})
        except OutOfTime as exc:
            raise TimeoutError(f"pareto_front: {exc} ({time_limit} s)") from exc
        d, o = dp.decode(np.arange(len(dp)))
        con = problem.constraint(resource)
        front = ParetoFront(
            problem, resource, _readonly(dp.cost), _readonly(problem.sign * dp.value),
            _readonly(_small_int(d)), _readonly(_small_int(o)), float(dp.epsilon),
            "dp" if how == "exact" else "dp-epsilon", True, time.perf_counter() - t0,
            {**dp.stats, "mode": how, "unit": con.table.unit},
        )
        if budgets is None:
            return front
        return front._results(budgets)
    if budgets is None:
        return _milp_front(problem, resource, deadline, seed, verbose, milp_max_points, t0)
    return _milp_results(problem, resource, budgets, time_limit, seed, verbose, t0, {})


def _session(problem: Problem, seed: int, verbose: bool):
    from binas_opt.solvers._compact import build_model
    from binas_opt.solvers.milp import HighsSession, MilpOptions

    opts = MilpOptions()
    model = build_model(problem)
    return HighsSession(model, opts, seed=seed, verbose=verbose), opts


def _milp_results(problem, resource, budgets, time_limit, seed, verbose, t0, extra) -> list[Result]:
    """One MILP solve per budget on one HiGHS model: ascending budgets, each warm started from
    the previous solution (feasible for the next, larger budget)."""
    from binas_opt.solvers.milp import solve_session
    from binas_opt.solving.backend import SolveContext

    session, opts = _session(problem, seed, verbose)
    ctx_info = result_context(problem, "milp", {"sweep": True}, seed, time_limit)
    names = [c.name for c in problem.constraints]
    k = names.index(resource)
    base = np.array([c.budget for c in problem.constraints], dtype=float)
    order = np.argsort(budgets, kind="stable")
    out: list[Result | None] = [None] * len(budgets)
    warm = None
    deadline = math.inf if time_limit is None else t0 + time_limit
    for j in order:
        w0 = time.perf_counter()
        prob = problem.with_budgets({resource: budgets[j]})
        vec = base.copy()
        vec[k] = budgets[j]
        remaining = None if time_limit is None else max(deadline - w0, 1e-3)
        ctx = SolveContext(time_limit=remaining, seed=seed, verbose=verbose, warm_start=warm)
        mins = prob.min_resources()
        if prob.constraint(resource).slack(mins[resource]) < -1e-9 * max(1.0, abs(budgets[j])):
            so = SolverOutput(Termination.INFEASIBLE, proven_infeasible=True,
                              message=f"{resource}: budget {budgets[j]:g} < smallest achievable "
                                      f"{mins[resource]:.6g}")
        else:
            so = solve_session(prob, session, opts, ctx, vec)
            so = SolverOutput(so.termination, so.architecture, so.bound, so.proven_optimal,
                              so.proven_infeasible, so.message, {**so.stats, **extra})
        r = finish_result(prob, so, ctx_info, wall0=w0, min_resources=mins)
        if r.architecture is not None:
            warm = r.architecture
        out[j] = r
    return out  # type: ignore[return-value]


def _milp_front(problem, resource, deadline, seed, verbose, max_solves, t0) -> ParetoFront:
    """The exact front by the epsilon-constraint method: solve, then lower the budget just below
    the resource of the solution found, until infeasible."""
    from binas_opt.solvers._pareto_dp import pareto_indices
    from binas_opt.solvers.milp import solve_session
    from binas_opt.solving.backend import SolveContext

    session, opts = _session(problem, seed, verbose)
    con = problem.constraint(resource)
    k = [c.name for c in problem.constraints].index(resource)
    vec = np.array([c.budget for c in problem.constraints], dtype=float)
    b = con.table.max_value()
    lowest = problem.min_resources()[resource]
    archs, res, obj = [], [], []
    complete, warm, solves = True, None, 0
    while True:
        if solves >= max_solves or time.perf_counter() >= deadline:
            complete = False
            break
        vec[k] = b
        remaining = None if not math.isfinite(deadline) else max(deadline - time.perf_counter(), 1e-3)
        ctx = SolveContext(time_limit=remaining, seed=seed, verbose=verbose, warm_start=warm)
        so = solve_session(problem.with_budgets({resource: b}), session, opts, ctx, vec)
        solves += 1
        if so.architecture is None or not so.proven_optimal:
            complete = complete and so.proven_infeasible
            break
        a = so.architecture.canonical()
        r = float(con.table(a))
        archs.append(a)
        res.append(r)
        obj.append(problem.evaluate(a))
        warm = None  # the previous solution is infeasible for the next, smaller budget
        b = r - max(1e-7 * abs(r), 1e-9)
        if b < lowest - 1e-9 * max(1.0, abs(lowest)):
            break
    res_a, obj_a = np.asarray(res, dtype=float), np.asarray(obj, dtype=float)
    keep = pareto_indices(res_a, problem.sign * obj_a) if res else np.zeros(0, dtype=np.int64)
    space = problem.space
    if keep.size:
        ai = [archs[i] for i in keep]
        d = np.asarray([a.depths for a in ai], dtype=np.int64)
        o = np.asarray([np.concatenate([np.asarray(r) for r in a.ops]) for a in ai], dtype=np.int64)
    else:
        d = np.zeros((0, space.n_stages), dtype=np.int64)
        o = np.zeros((0, int(sum(st.max_depth for st in space.stages))), dtype=np.int64)
    return ParetoFront(problem, resource, _readonly(res_a[keep]), _readonly(obj_a[keep]),
                       _readonly(_small_int(d)), _readonly(_small_int(o)), 0.0, "milp", complete,
                       time.perf_counter() - t0, {"milp_solves": solves})
