"""``pareto_front``: the whole objective-vs-resource trade-off, or exact results for many budgets.

With a Table objective and a single budget the exact front comes from one pass of the ``dp``
backend's dynamic program (DESIGN 2.4); every later budget is a binary search in it.  Otherwise
(a QuadraticForm objective, or other budgets that stay fixed while one is swept) the MILP is
swept: one HiGHS model is kept in memory, only the budget row changes, and each solve is warm
started from the previous solution.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from binas_opt.io.serialization import to_plain
from binas_opt.model.architecture import Architecture
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.model.table import Sense
from binas_opt.solving.backend import (
    Capability,
    FrontPoints,
    SolveContext,
    WorkLimitExceeded,
    make_options,
)
from binas_opt.solving.dispatch import make_result
from binas_opt.solving.registry import get_backend, list_backends
from binas_opt.solving.result import Result, SolverOutput, Termination

__all__ = ["ParetoFront", "pareto_front", "solve_budgets", "METHODS", "FALLBACKS"]

logger = logging.getLogger("binas_opt")

#: Built-in methods; any backend declaring the capability works too (``method=<its name>``).
METHODS = ("auto", "dp", "milp")
FALLBACKS = ("auto", "milp", "epsilon", "error")
#: ``method="auto"`` tries these first (one-pass DP, then the MILP), then any other capable backend.
_PREFERRED = ("dp", "milp")


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
        """Index of the best point within ``budget``, or -1 if none: one
        :func:`numpy.searchsorted`, with points within float noise of the budget decided
        exactly (budgets are exact, as in :meth:`Problem.is_feasible`)."""
        b = float(budget)
        tol = self._noise
        i = int(np.searchsorted(self.resources, b + tol, side="right")) - 1
        return self._exact_down(i, b, tol) if i >= 0 and self.resources[i] > b - tol else i

    def query_many(self, budgets) -> np.ndarray:
        """Vectorised :meth:`query`."""
        b = np.atleast_1d(np.asarray(budgets, dtype=float))
        tol = self._noise
        idx = np.searchsorted(self.resources, b + tol, side="right") - 1
        for k in np.flatnonzero((idx >= 0) & (self.resources[np.maximum(idx, 0)] > b - tol)):
            idx[k] = self._exact_down(int(idx[k]), float(b[k]), tol)
        return idx

    @property
    def _noise(self) -> float:
        """A rigorous bound on the float error of any point's resource
        (:meth:`Table.sum_error_bound`): points farther than it from a budget are decided by
        the float, the others exactly."""
        return self.problem.constraint(self.resource).table.sum_error_bound()

    def _exact_down(self, i: int, b: float, tol: float) -> int:
        """Step down from point ``i`` while its resource, checked exactly, exceeds ``b``."""
        table = self.problem.constraint(self.resource).table
        while i >= 0 and self.resources[i] > b - tol and not table.within(
                self.depths[i: i + 1].astype(np.int64), self.ops[i: i + 1].astype(np.int64), b)[0]:
            i -= 1
        return i

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
        return self.results([budget])[0]

    @property
    def backend(self) -> str:
        """The backend that built the front."""
        return str(self.stats.get("backend", self.method.partition("-")[0]))

    def results(self, budgets: Sequence[float]) -> list[Result]:
        """One :class:`~binas_opt.Result` per budget of :attr:`resource`, read off the front and
        checked as :func:`~binas_opt.solve` checks a backend's answer.

        ``optimal`` on an exact front; ``feasible`` (with ``bound``) on an epsilon front;
        ``infeasible`` below the smallest point of a complete front; ``no_solution`` below the
        smallest point of an incomplete one (not explored, not a proof).
        """
        t0 = time.perf_counter()
        mins = self.problem.min_resources()
        opts = {"method": self.method, "epsilon": self.epsilon}
        stopped = str(self.stats.get("stopped_by", ""))
        out = []
        for b in budgets:
            w0 = time.perf_counter()
            prob = self.problem.with_budgets({self.resource: float(b)})
            i = self.query(b)
            stats = {"front_size": len(self), "front_build_time": self.build_time,
                     "method": self.method, "epsilon": self.epsilon}
            if i < 0 and self.complete:
                so = SolverOutput(Termination.INFEASIBLE, proven_infeasible=True, stats=stats,
                                  message=f"no architecture meets the budget: the smallest "
                                          f"{self.resource} on the exact front is "
                                          f"{self.resources[0] if len(self) else math.inf:.6g}")
            elif i < 0:
                term = Termination.TIME_LIMIT if stopped == "time_limit" else \
                    Termination.ITERATION_LIMIT
                so = SolverOutput(term, stats=stats,
                                  message=f"the front stopped early ({stopped or 'incomplete'}) "
                                          "above this budget: no architecture known, and this is "
                                          "not a proof of infeasibility; call solve() for it")
            elif self.epsilon == 0.0:
                so = SolverOutput(Termination.OPTIMAL, self.architecture(i), proven_optimal=True,
                                  stats=stats)
            else:
                bound = float(self.objective[i]) + self.problem.sign * self.epsilon
                so = SolverOutput(Termination.CONVERGED, self.architecture(i), bound=bound,
                                  stats=stats, message=f"epsilon-dominance front "
                                  f"(within {self.epsilon:.3g} of the optimum)")
            out.append(make_result(prob, so, self.backend, options=opts, wall0=w0,
                                   min_resources=mins))
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
            "stats": to_plain(self.stats),
            "problem": self.problem.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ParetoFront:
        from binas_opt.io.serialization import require

        where = "ParetoFront.from_dict"
        for key, kind in (("problem", "the problem object"), ("resource", "a constraint name"),
                          ("resources", "a list of numbers"), ("objective", "a list of numbers"),
                          ("depths", "a list of per-point depth lists"),
                          ("ops", "a list of per-point op-index lists")):
            require(d, key, where, kind)
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
    def load(cls, path: str | os.PathLike, *, max_bytes: int | None = None) -> ParetoFront:
        """Read a front written by :meth:`save` (errors name the file; ``max_bytes`` as in
        :func:`binas_opt.io.load`)."""
        from binas_opt.io.serialization import read_json

        return read_json(path, cls.from_dict, max_bytes=max_bytes)

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


# ---------------------------------------------------------------------------- building
def _check_args(problem: Problem, resource: str, method: str, fallback: str, who: str) -> None:
    if not isinstance(problem, Problem):
        raise TypeError(f"{who}: problem must be a Problem, got {type(problem).__name__}")
    if not isinstance(method, str):
        raise ValueError(f"{who}: method must be a string, got {method!r}")
    if fallback not in FALLBACKS:
        raise ValueError(f"{who}: fallback must be one of {FALLBACKS}, got {fallback!r}")
    names = [c.name for c in problem.constraints]
    if resource not in names:
        raise ValueError(
            f"{who}: resource {resource!r} is not a constraint of the problem; "
            f"constraints: {names} (add e.g. `latency <= budget` to the problem)"
        )
    if problem.constraint(resource).sense is not Sense.LE:
        raise ValueError(f"{who}: resource {resource!r} must be a '<=' budget")
    if problem.objective_kind is ObjectiveKind.BLACK_BOX:
        raise ValueError(f"{who} needs a Table or QuadraticForm objective (exact backends); "
                         "for a black box, call solve(..., backend='evo') per budget")


def _declares(name: str, capabilities: Sequence[Capability]) -> bool:
    cls = get_backend(name)
    return any(cls.has(c) for c in capabilities)


def _candidates() -> list[str]:
    """Available backends, the preferred ones first (only loaded when asked about)."""
    found = list_backends(True)
    return [n for n in _PREFERRED if n in found] + [n for n in found if n not in _PREFERRED]


def _takes(name: str, problem: Problem) -> bool:
    cls = get_backend(name)
    return cls.refusal(problem, cls.Options()) is None


def _choose(problem: Problem, method: str, capabilities: Sequence[Capability], who: str) -> str:
    """The backend for ``method``: the named one (which must declare one of ``capabilities``
    and take the problem) or, for ``auto``, the first capable one that takes it (backends are
    loaded one by one, the preferred first, so a usual call imports only ``dp`` or ``milp``)."""
    wanted = [c.value for c in capabilities]
    if method == "auto":
        for name in _candidates():
            if _declares(name, capabilities) and _takes(name, problem):
                return name
        raise ValueError(f"{who}: no available backend declaring {wanted} takes this problem "
                         f"(capable backends: {[n for n in _candidates() if _declares(n, capabilities)]})")
    if method not in list_backends(True) or not _declares(method, capabilities):
        capable = [n for n in _candidates() if _declares(n, capabilities)]
        raise ValueError(f"{who}: method must be 'auto' or a backend declaring {wanted}: "
                         f"{capable}; got {method!r}")
    cls = get_backend(method)
    reason = cls.refusal(problem, cls.Options())
    if reason is not None:
        others = [n for n in _candidates() if n != method and _declares(n, capabilities)
                  and _takes(n, problem)]
        alt = " or ".join(f"method={n!r}" for n in others) or "no other method"
        raise ValueError(f"{who}: {reason}; use {alt} or 'auto'")
    return method


def _options(name: str, named: dict[str, Any], extra: dict[str, Any] | None, who: str):
    """The backend's options from ``pareto_front``'s named arguments (those its Options has;
    a non-default value it lacks is an error) and ``options`` (passed as they are)."""
    cls = get_backend(name)
    fields = {f.name for f in dataclasses.fields(cls.Options)}
    given = {}
    for k, (value, default) in named.items():
        if k in fields:
            given[k] = value
        elif value != default and k != "fallback":  # the fallback only matters where it exists
            raise ValueError(f"{who}: {k}={value!r} is not an option of the {name!r} backend "
                             f"(its options: {sorted(fields)})")
    return make_options(cls.Options, {**given, **(extra or {})}, name)


def _to_front(problem: Problem, resource: str, name: str, pts: FrontPoints, t0: float,
              extra_stats: dict | None = None) -> ParetoFront:
    con = problem.constraint(resource)
    return ParetoFront(
        problem, resource, _readonly(pts.resources, float), _readonly(pts.objective, float),
        _readonly(_small_int(np.asarray(pts.depths))), _readonly(_small_int(np.asarray(pts.ops))),
        float(pts.epsilon), pts.method or name, bool(pts.complete), time.perf_counter() - t0,
        {**pts.stats, "backend": name, "unit": con.table.unit, **(extra_stats or {})},
    )


def _front_of(problem: Problem, resource: str, name: str, opts, ctx: SolveContext, *,
              budget: float = math.inf, max_solves: int | None = None) -> FrontPoints:
    return get_backend(name)().front(problem, resource, opts, ctx, budget=budget,
                                     max_solves=max_solves)


def pareto_front(problem: Problem, resource: str = "latency", budgets: None = None, *,
                 method: str = "auto", epsilon: float = 0.0, max_points: int | None = None,
                 max_pairs: int | None = 30_000_000, fallback: str = "auto",
                 fallback_points: int = 1000, time_limit: float | None = None, seed: int = 0,
                 verbose: bool = False, milp_max_points: int = 500,
                 options: dict[str, Any] | None = None) -> ParetoFront:
    """The whole trade-off between the objective and one resource, as a :class:`ParetoFront`.

    For one :class:`~binas_opt.Result` per budget use :func:`solve_budgets`.

    Parameters
    ----------
    problem : Problem
        Table or QuadraticForm objective; ``resource`` must be one of its ``<=`` budgets.  The
        other budgets stay fixed while ``resource`` is swept.
    resource : str
        Name of the swept constraint.
    budgets : None
        Not supported any more (the per-budget sweep is :func:`solve_budgets`); kept so that
        old calls fail with a clear message.
    method : str
        ``"auto"`` (the one-pass Pareto DP of the ``dp`` backend when it takes the problem: a
        Table objective and one budget; else the epsilon-constraint MILP sweep of ``milp``), or
        the name of any backend declaring :data:`~binas_opt.Capability.PARETO_FRONT`.
    epsilon, max_points : optional
        Epsilon-dominance front (``dp`` only): within ``epsilon`` of the optimum for every
        budget, or thinned to about ``max_points`` points with the guarantee reported.
    max_pairs : int or None
        Work limit of an exact DP build (candidate pairs, ~1 s for the default).
    fallback : {"auto", "milp", "epsilon", "error"}
        When the exact DP would exceed ``max_pairs``: ``auto``/``epsilon`` build an epsilon
        front of about ``fallback_points`` points (``stats["mode"] == "fallback"``), ``milp``
        the exact front by the MILP sweep, ``error`` raises ``ValueError``.
    time_limit : float, optional
        Seconds for the whole call: the DP raises ``TimeoutError``, the MILP sweep stops early
        and marks ``complete=False``.
    milp_max_points : int
        At most this many MILP solves for the front.
    options : dict, optional
        Further options of the chosen backend (e.g. ``{"threads": 2}`` for ``milp``).

    Returns
    -------
    ParetoFront
    """
    who = "pareto_front"
    if budgets is not None:
        raise TypeError("pareto_front returns the whole front and takes no budgets; for one "
                        "Result per budget call bo.solve_budgets(problem, resource, budgets), or "
                        "query the front: pareto_front(problem, resource).results(budgets)")
    _check_args(problem, resource, method, fallback, who)
    name = _choose(problem, method, [Capability.PARETO_FRONT], who)
    t0 = time.perf_counter()
    ctx = SolveContext(time_limit=time_limit, seed=seed, verbose=verbose, start=t0)
    fb = "epsilon" if fallback == "auto" else fallback
    named = {"epsilon": (float(epsilon), 0.0), "max_points": (max_points, None),
             "max_pairs": (max_pairs, 30_000_000),
             "fallback": ("epsilon" if fb == "epsilon" else "error", "error"),
             "fallback_points": (fallback_points, 1000)}
    opts = _options(name, named, options, who)
    try:
        pts = _front_of(problem, resource, name, opts, ctx, max_solves=milp_max_points)
    except WorkLimitExceeded as exc:
        if fb == "error":
            raise ValueError(f"{who}: {exc}; raise max_pairs or use epsilon/max_points") from exc
        milp = _choose(problem, "milp" if "milp" in list_backends(True) else "auto",
                       [Capability.PARETO_FRONT], who)
        logger.warning("%s: %s; building the front with %r instead", who, exc, milp)
        mopts = _options(milp, {}, None, who)
        pts = _front_of(problem, resource, milp, mopts, ctx, max_solves=milp_max_points)
        return _to_front(problem, resource, milp, pts, t0,
                         {"fallback": milp, "fallback_reason": str(exc)})
    except TimeoutError as exc:
        raise TimeoutError(f"{who}: {exc} ({time_limit} s)") from exc
    return _to_front(problem, resource, name, pts, t0)


def solve_budgets(problem: Problem, resource: str, budgets: Sequence[float], *,
                  method: str = "auto", epsilon: float = 0.0, max_points: int | None = None,
                  max_pairs: int | None = 30_000_000, fallback: str = "auto",
                  fallback_points: int = 1000, time_limit: float | None = None, seed: int = 0,
                  verbose: bool = False, options: dict[str, Any] | None = None) -> list[Result]:
    """One exact :class:`~binas_opt.Result` per budget of ``resource`` (the other budgets
    fixed), in the given order, much faster than one :func:`~binas_opt.solve` per budget.

    With a Table objective and one budget the ``dp`` backend's front is built once (up to the
    largest budget) and every budget is a binary search in it; otherwise one MILP model is
    re-solved per budget, in ascending order, each warm started from the previous solution.

    Parameters
    ----------
    problem : Problem
        Table or QuadraticForm objective; ``resource`` must be one of its ``<=`` budgets.
    resource : str
    budgets : sequence of float
        Finite budgets of ``resource``.
    method : str
        ``"auto"``, or the name of a backend declaring
        :data:`~binas_opt.Capability.BUDGET_SWEEP` (e.g. ``"milp"``) or
        :data:`~binas_opt.Capability.PARETO_FRONT` (e.g. ``"dp"``).
    epsilon, max_points, max_pairs, fallback_points
        As in :func:`pareto_front` (``dp`` only).
    fallback : {"auto", "milp", "epsilon", "error"}
        When the exact DP would exceed ``max_pairs``: ``auto``/``milp`` solve the MILP per
        budget (exact; the choice is in ``stats``), ``epsilon`` answers from an epsilon front
        (status ``feasible`` with a bound), ``error`` raises ``ValueError``.
    time_limit : float, optional
        Seconds for the whole call.
    options : dict, optional
        Further options of the chosen backend.

    Returns
    -------
    list of Result
        ``optimal`` (or ``feasible`` from an epsilon front), ``infeasible`` with proof, or
        ``no_solution`` / ``error`` with the reason.
    """
    who = "solve_budgets"
    _check_args(problem, resource, method, fallback, who)
    budgets = [float(b) for b in budgets]
    bad = [b for b in budgets if not math.isfinite(b)]
    if bad:
        raise ValueError(f"{who}: budgets must be finite numbers, got {bad}")
    if not budgets:
        return []
    caps = [Capability.PARETO_FRONT, Capability.BUDGET_SWEEP]
    name = _choose(problem, method, caps, who)
    t0 = time.perf_counter()
    ctx = SolveContext(time_limit=time_limit, seed=seed, verbose=verbose, start=t0)
    cls = get_backend(name)
    fb = "milp" if fallback == "auto" else fallback
    if not cls.has(Capability.BUDGET_SWEEP):  # read the answers off a front built once
        named = {"epsilon": (float(epsilon), 0.0), "max_points": (max_points, None),
                 "max_pairs": (max_pairs, 30_000_000),
                 "fallback": ("epsilon" if fb == "epsilon" else "error", "error"),
                 "fallback_points": (fallback_points, 1000)}
        opts = _options(name, named, options, who)
        try:
            pts = _front_of(problem, resource, name, opts, ctx, budget=max(budgets))
        except WorkLimitExceeded as exc:
            if fb == "error":
                raise ValueError(f"{who}: {exc}; raise max_pairs or use epsilon/max_points") \
                    from exc
            sweep = _choose(problem, "auto", [Capability.BUDGET_SWEEP], who)
            logger.warning("%s: %s; solving the %s model per budget", who, exc, sweep)
            return _sweep(problem, resource, budgets, sweep, _options(sweep, {}, None, who), ctx,
                          {"fallback": sweep, "fallback_reason": str(exc)})
        except TimeoutError as exc:
            raise TimeoutError(f"{who}: {exc} ({time_limit} s)") from exc
        return _to_front(problem, resource, name, pts, t0).results(budgets)
    named = {"epsilon": (float(epsilon), 0.0), "max_points": (max_points, None)}
    return _sweep(problem, resource, budgets, name, _options(name, named, options, who), ctx, {})


def _sweep(problem: Problem, resource: str, budgets: list[float], name: str, opts,
           ctx: SolveContext, extra: dict) -> list[Result]:
    """Budgets no architecture meets are answered ``infeasible`` here (exact minimum); the rest
    go to the backend's :meth:`sweep`, in one call."""
    mins = problem.min_resources()
    out: list[Result | None] = [None] * len(budgets)
    todo = []
    options = {**dataclasses.asdict(opts), "sweep": True}
    for j, b in enumerate(budgets):
        prob = problem.with_budgets({resource: b})
        impossible = prob.impossible_budgets()
        if impossible:
            w0 = time.perf_counter()
            msg = "; ".join(f"{k}: budget {prob.budgets[k]:g} < smallest achievable {v:.6g}"
                            for k, v in impossible.items())
            so = SolverOutput(Termination.INFEASIBLE, proven_infeasible=True, message=msg,
                              stats=dict(extra))
            out[j] = make_result(prob, so, name, options=options, seed=ctx.seed,
                                 time_limit=ctx.time_limit, wall0=w0, min_resources=mins)
        else:
            todo.append(j)
    if todo:
        outputs = get_backend(name)().sweep(problem, resource, [budgets[j] for j in todo], opts,
                                            ctx)
        if len(outputs) != len(todo):
            raise RuntimeError(f"backend {name!r}: sweep returned {len(outputs)} outputs for "
                               f"{len(todo)} budgets")
        for j, so in zip(todo, outputs, strict=True):
            so = dataclasses.replace(so, stats={**so.stats, **extra})
            w0 = time.perf_counter() - so.solve_time - so.build_time
            out[j] = make_result(problem.with_budgets({resource: budgets[j]}), so, name,
                                 options=options, seed=ctx.seed, time_limit=ctx.time_limit,
                                 wall0=w0, min_resources=mins)
    return out  # type: ignore[return-value]
