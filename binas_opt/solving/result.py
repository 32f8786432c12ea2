"""Solver results: what was found (status, architecture, objective, bound, gap) and why the
solver stopped (termination), kept apart as in Pyomo's and MathOpt's result objects."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from binas_opt.io.serialization import reject_unknown_keys, require, to_plain
from binas_opt.model.architecture import Architecture
from binas_opt.model.choices import Choice, ObjectiveSense

__all__ = ["Status", "Termination", "Result", "SolverOutput"]


class Status(Choice):
    """What the result holds (never more than was proved).

    ========================  ==================================================================
    ``optimal``               an architecture, proven optimal
    ``feasible``              an architecture that meets every budget, without a proof of
                              optimality (heuristic, time or gap limit; see ``termination``)
    ``infeasible``            proof that no architecture meets the budgets: the exact minimum
                              of a resource exceeds its budget, or an exact backend's proof
    ``no_solution``           no architecture found and no proof of infeasibility (a heuristic
                              that found nothing, a run stopped by a limit)
    ``error``                 the backend failed; ``result.message`` says how
    ========================  ==================================================================
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"
    ERROR = "error"

    @property
    def message(self) -> str:
        """What the status means and what to do about it."""
        return _STATUS_MESSAGES[self]

    @property
    def has_solution(self) -> bool:
        """True for ``optimal`` and ``feasible``: the result carries an architecture."""
        return self in (Status.OPTIMAL, Status.FEASIBLE)


_STATUS_MESSAGES = {
    Status.OPTIMAL: "Proven optimal: no architecture within the budgets scores better "
                    "(up to the relative gap tolerance).",
    Status.FEASIBLE: "A feasible architecture without a proof of optimality; compare "
                     "result.bound, or use an exact backend ('milp', 'dp') for a proof.",
    Status.INFEASIBLE: "Proven infeasible: no architecture meets every budget. "
                       "result.min_resources gives the smallest achievable value of each "
                       "resource: relax a budget to at least that value.",
    Status.NO_SOLUTION: "No architecture was found, and this is not a proof of infeasibility "
                        "(see result.termination and result.message): raise time_limit, "
                        "change the backend's options, or use an exact backend ('milp', 'dp').",
    Status.ERROR: "The backend failed; see result.message.",
}


class Termination(Choice):
    """Why the solver stopped (``termination.message`` says what it means and what to do)."""

    OPTIMAL = "optimal"
    GAP_LIMIT = "gap_limit"
    TIME_LIMIT = "time_limit"
    ITERATION_LIMIT = "iteration_limit"
    CONVERGED = "converged"
    INFEASIBLE = "infeasible"
    ERROR = "error"

    @property
    def message(self) -> str:
        """What the termination means and what to do about it."""
        return _TERMINATION_MESSAGES[self]


_TERMINATION_MESSAGES = {
    Termination.OPTIMAL: "The backend proved its architecture optimal.",
    Termination.GAP_LIMIT: "Stopped at the requested optimality gap (rel_gap/abs_gap): the "
                           "architecture is within that gap of the optimum; set the gap to 0 "
                           "for a proof of optimality.",
    Termination.TIME_LIMIT: "Stopped by the time limit: the architecture, if any, is the best "
                            "found and result.gap bounds how far from optimal it can be; raise "
                            "time_limit to go further.",
    Termination.ITERATION_LIMIT: "Stopped after its iteration, generation or sampling limit: "
                                 "raise the backend's limit (e.g. steps, generations, "
                                 "max_attempts) to search further.",
    Termination.CONVERGED: "The heuristic converged (no further improvement); the result has "
                           "no proof of optimality: try other seeds or an exact backend.",
    Termination.INFEASIBLE: "The backend proved that no architecture meets every budget.",
    Termination.ERROR: "The backend failed or could not vouch for its answer; see "
                       "result.message.",
}


@dataclass(frozen=True)
class SolverOutput:
    """What a backend's :meth:`~binas_opt.Solver.run` hands back; :func:`~binas_opt.solve`
    checks it and turns it into a :class:`Result`.

    The claims are checked when the object is built (a ``ValueError`` names the broken rule):

    * ``proven_optimal`` if and only if ``termination`` is ``OPTIMAL``, and only with an
      ``architecture``;
    * ``proven_infeasible`` if and only if ``termination`` is ``INFEASIBLE``, and only without
      an ``architecture``;
    * ``termination`` ``ERROR`` needs a ``message``.

    Attributes
    ----------
    termination : Termination
        Why the backend stopped.
    architecture : Architecture or None
        The best architecture found (it must meet every budget), or None.
    bound : float or None
        A valid bound on the optimum in the problem's sense (upper for ``max``), or None.
    proven_optimal, proven_infeasible : bool
        Only with a proof (an exact method, a dual bound met, an exact infeasibility proof).
    message : str
        What happened, in words; required for ``ERROR``, wanted whenever nothing was found.
    solve_time, build_time : float
        Seconds spent solving and building models (0: :func:`~binas_opt.solve` times ``run``).
    stats : dict
        Backend-specific numbers (nodes, iterations, ...), plain JSON types.
    """

    termination: Termination
    architecture: Architecture | None = None
    bound: float | None = None
    proven_optimal: bool = False
    proven_infeasible: bool = False
    message: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    solve_time: float = 0.0
    build_time: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "termination", Termination.parse(self.termination, "termination"))
        t = self.termination
        if self.proven_optimal != (t is Termination.OPTIMAL):
            raise ValueError(f"SolverOutput: termination {t.value!r} with proven_optimal="
                             f"{self.proven_optimal}; 'optimal' goes with proven_optimal=True only")
        if self.proven_optimal and self.architecture is None:
            raise ValueError("SolverOutput: proven_optimal=True needs an architecture")
        if self.proven_infeasible != (t is Termination.INFEASIBLE):
            raise ValueError(f"SolverOutput: termination {t.value!r} with proven_infeasible="
                             f"{self.proven_infeasible}; 'infeasible' goes with "
                             "proven_infeasible=True only (a search that found nothing is not "
                             "a proof: use the termination that stopped it)")
        if self.proven_infeasible and self.architecture is not None:
            raise ValueError("SolverOutput: proven_infeasible=True with an architecture")
        if t is Termination.ERROR and not self.message:
            raise ValueError("SolverOutput: termination 'error' needs a message saying what failed")
        for name in ("solve_time", "build_time"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and v >= 0):
                raise ValueError(f"SolverOutput: {name} must be a number of seconds >= 0, got {v!r}")


@dataclass(frozen=True)
class Result:
    """The outcome of :func:`~binas_opt.solve`.

    Attributes
    ----------
    status : Status
        What was found; ``status.message`` says what it means and what to do.
    termination : Termination
        Why the solver stopped (``termination.message``): a time-limited run with an
        architecture is ``feasible`` with termination ``time_limit``; without one,
        ``no_solution`` with termination ``time_limit``.
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
        What happened, in words; never empty unless the status is ``optimal``.
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
    sense: ObjectiveSense = ObjectiveSense.MAX
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
        if self.message and self.status is not Status.OPTIMAL:
            lines.append(f"note: {self.message}")
        lines.append(f"time: {self.wall_time * 1e3:.1f} ms")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (:func:`binas_opt.io.to_plain`); non-finite numbers become None."""
        return to_plain({f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Result:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        ValueError
            Naming any key that is not a field of Result, or a bad status, termination or
            sense.
        """
        where = "Result.from_dict"
        reject_unknown_keys(d, (f.name for f in fields(cls)), where)
        d = dict(d)
        d["status"] = Status.parse(require(d, "status", where, "a status string"),
                                   "Result.from_dict: status")
        d["termination"] = Termination.parse(require(d, "termination", where, "a termination string"),
                                             "Result.from_dict: termination")
        if "sense" in d:
            d["sense"] = ObjectiveSense.parse(d["sense"], "Result.from_dict: sense")
        if d.get("architecture") is not None:
            d["architecture"] = Architecture.from_dict(d["architecture"])
        return cls(**d)

