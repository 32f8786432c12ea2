"""Solver results: what was found (status, architecture, objective, bound, gap) and why the
solver stopped (termination), kept apart as in Pyomo's and MathOpt's result objects."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

from binas_opt.model.architecture import Architecture

__all__ = ["Status", "Termination", "Result", "SolverOutput"]


class Status(StrEnum):
    """What the result holds."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"
    ERROR = "error"

    @property
    def message(self) -> str:
        """What the status means and what to do about it."""
        return _STATUS_MESSAGES[self]


_STATUS_MESSAGES = {
    Status.OPTIMAL: "Proven optimal: no architecture within the budgets scores better "
                    "(up to the relative gap tolerance).",
    Status.FEASIBLE: "A feasible architecture without a proof of optimality; compare "
                     "result.bound, or use an exact backend ('milp', 'dp') for a proof.",
    Status.INFEASIBLE: "No architecture meets every budget. result.min_resources gives the "
                       "smallest achievable value of each resource: relax a budget to at least "
                       "that value.",
    Status.TIME_LIMIT: "Stopped by the time limit. If result.architecture is set it is the best "
                       "found and result.gap bounds how far from optimal it can be; raise "
                       "time_limit to prove optimality.",
    Status.ERROR: "The backend failed; see result.message.",
}


class Termination(StrEnum):
    """Why the solver stopped."""

    OPTIMAL = "optimal"
    GAP_LIMIT = "gap_limit"
    TIME_LIMIT = "time_limit"
    ITERATION_LIMIT = "iteration_limit"
    CONVERGED = "converged"
    INFEASIBLE = "infeasible"
    ERROR = "error"


@dataclass(frozen=True)
class SolverOutput:
    """What a backend hands back to :func:`~binas_opt.solve`, which turns it into a Result.

    ``architecture`` is the candidate (or None); ``proven_optimal`` only when the backend proved
    it; ``bound`` is a valid bound on the optimum in the problem's sense where one exists.
    """

    termination: Termination
    architecture: Architecture | None = None
    bound: float | None = None
    proven_optimal: bool = False
    proven_infeasible: bool = False
    message: str = ""
    stats: dict[str, Any] = field(default_factory=dict)


def _finite_or_none(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class Result:
    """The outcome of :func:`~binas_opt.solve`.

    Attributes
    ----------
    status : Status
        What was found; ``status.message`` says what it means and what to do.
    termination : Termination
        Why the solver stopped.
    architecture : Architecture or None
        Set whenever a solution exists; it satisfies every budget.
    objective : float or None
        The objective on exactly ``architecture``.
    bound : float or None
        A proven bound on the optimum (upper for ``max``), where the backend has one.
    gap : float or None
        Relative gap ``|bound - objective| / max(|objective|, 1e-10)``.
    abs_gap : float or None
        ``|bound - objective|`` in the objective's unit (e.g. accuracy points).
    resources, budgets : dict
        Value of every constrained resource on ``architecture``, and the budgets.
    min_resources : dict or None
        For an infeasible problem: the exact minimum achievable value of every resource.
    solve_time, build_time, wall_time : float
        Seconds in the solver proper, in model building, and in all of ``solve()``.
    backend, options, seed, versions
        What produced the result, for reproducibility.
    message : str
    stats : dict
        Backend-specific numbers (nodes, iterations, Frank-Wolfe gap, ...).
    """

    status: Status
    termination: Termination
    architecture: Architecture | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    abs_gap: float | None = None
    resources: dict[str, float] = field(default_factory=dict)
    budgets: dict[str, float] = field(default_factory=dict)
    min_resources: dict[str, float] | None = None
    sense: str = "max"
    solve_time: float = 0.0
    build_time: float = 0.0
    wall_time: float = 0.0
    backend: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    versions: dict[str, str] = field(default_factory=dict)
    message: str = ""
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        return self.architecture is not None

    @property
    def is_optimal(self) -> bool:
        return self.status is Status.OPTIMAL

    def summary(self) -> str:
        """A few human-readable lines."""
        lines = [f"status: {self.status.value} (stopped: {self.termination.value}) [{self.backend}]"]
        if self.objective is not None:
            b = "" if self.bound is None else f", bound {self.bound:.6g}, gap {self.gap:.3g}"
            lines.append(f"objective: {self.objective:.6g}{b}")
        for k, v in self.resources.items():
            lines.append(f"  {k}: {v:.6g} <= {self.budgets.get(k, float('nan')):.6g}")
        if self.min_resources:
            mins = ", ".join(f"{k} >= {v:.6g}" for k, v in self.min_resources.items())
            lines.append(f"smallest achievable: {mins}")
        lines.append(f"time: {self.wall_time * 1e3:.1f} ms")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["status"] = self.status.value
        d["termination"] = self.termination.value
        d["architecture"] = None if self.architecture is None else self.architecture.to_dict()
        return _jsonable(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Result:
        d = dict(d)
        d["status"] = Status(d["status"])
        d["termination"] = Termination(d["termination"])
        if d.get("architecture") is not None:
            d["architecture"] = Architecture.from_dict(d["architecture"])
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def _jsonable(x: Any) -> Any:
    """Plain JSON types (numpy scalars, tuples, enums and non-finite floats made explicit)."""
    import numpy as np

    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, StrEnum):
        return x.value
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, Architecture):
        return x.to_dict()
    if hasattr(x, "__dataclass_fields__"):
        return _jsonable(asdict(x))
    return x
