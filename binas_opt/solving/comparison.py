"""``compare()``: run several backends on the same problem (and budgets) side by side.

Every row holds the status, the objective, the backend's own bound, the gap to the *best bound
known in the run* (the tightest valid bound any backend proved for that budget; an exact
backend's optimum is such a bound), feasibility re-checked here from the tables, and the time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from binas_opt.model.choices import ObjectiveSense
from binas_opt.model.problem import Problem
from binas_opt.solving.dispatch import solve
from binas_opt.solving.result import Result, Status

__all__ = ["CompareRow", "CompareTable", "compare", "format_rows"]


@dataclass(frozen=True)
class CompareRow:
    """One backend on one budget setting.

    ``gap_to_best`` is ``|best_bound - objective| / max(|objective|, 1e-10)`` with
    ``best_bound`` the tightest bound proven by any backend of the run for these budgets; None
    when no bound is known or the row has no solution.  ``feasible`` is re-checked from the
    resource tables (None without an architecture).
    """

    backend: str
    budgets: dict[str, float]
    status: Status
    objective: float | None
    bound: float | None
    best_bound: float | None
    gap_to_best: float | None
    feasible: bool | None
    resources: dict[str, float]
    time: float
    message: str = ""
    result: Result | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "result"}
        d["status"] = self.status.value
        return d


def _budget_label(budgets: dict[str, float]) -> str:
    return ", ".join(f"{k}<={v:.6g}" for k, v in budgets.items())


def format_rows(rows: Sequence[CompareRow]) -> str:
    """Rows as an aligned text table."""
    head = ["budgets", "backend", "status", "objective", "bound", "gap_to_best", "feasible",
            "time [s]"]

    def f(x, spec=".6g"):
        return "-" if x is None else format(x, spec)

    body = [[_budget_label(r.budgets), r.backend, r.status.value, f(r.objective), f(r.bound),
             f(r.gap_to_best, ".2e"), "-" if r.feasible is None else ("yes" if r.feasible else "NO"),
             f"{r.time:.3f}"] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    out = [line, "-" * len(line)]
    out += ["  ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)) for b in body]
    return "\n".join(out)


class CompareTable(tuple):
    """A tuple of :class:`CompareRow` that prints as an aligned table."""

    def __str__(self) -> str:
        return format_rows(self)

    def to_dicts(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self]


def compare(problem: Problem, backends: Sequence[str] = ("milp", "dp"),
            budgets: Sequence[float | dict[str, float]] | None = None, *,
            resource: str | None = None, options: dict[str, dict] | None = None,
            **common: Any) -> CompareTable:
    """Run every backend on the problem, for every budget setting.

    Parameters
    ----------
    problem : Problem
    backends : sequence of str
        Backend names; ones that refuse the problem (objective kind, number of budgets) get a
        row with status ``error`` and the reason.
    budgets : sequence, optional
        Budget settings: numbers (applied to ``resource``, default the first constraint) or
        dicts ``{name: budget}``.  None: the problem's own budgets.
    options : dict, optional
        Per-backend options, e.g. ``{"pulp": {"solver": "CBC"}}``.
    **common
        Passed to every :func:`~binas_opt.solve` call (``time_limit``, ``seed``, ...).

    Returns
    -------
    CompareTable
        Rows grouped by budget setting, in the order of ``backends``.
    """
    if isinstance(backends, str):
        backends = [backends]
    options = options or {}
    unknown = set(options) - set(backends)
    if unknown:
        raise ValueError(f"compare: options given for {sorted(unknown)}, not in backends {list(backends)}")
    settings = _settings(problem, budgets, resource)
    rows: list[CompareRow] = []
    for setting in settings:
        prob = problem.with_budgets(setting) if setting else problem
        results: list[tuple[str, Result | None, float, str]] = []
        for name in backends:
            t0 = time.perf_counter()
            try:
                r = solve(prob, backend=name, **{**common, **options.get(name, {})})
                results.append((name, r, time.perf_counter() - t0, r.message))
            except ValueError as exc:
                results.append((name, None, time.perf_counter() - t0, str(exc)))
        best = _best_bound(prob, [r for _, r, _, _ in results if r is not None])
        for name, r, dt, msg in results:
            rows.append(_row(prob, name, r, dt, msg, best))
    return CompareTable(rows)


def _settings(problem: Problem, budgets, resource) -> list[dict[str, float]]:
    if budgets is None:
        return [problem.budgets]
    out = []
    for b in budgets:
        if isinstance(b, dict):
            out.append({**problem.budgets, **{k: float(v) for k, v in b.items()}})
            continue
        if not problem.constraints:
            raise ValueError("compare: numeric budgets need a constrained problem")
        name = resource or problem.constraints[0].name
        problem.constraint(name)  # raises with the valid names
        out.append({**problem.budgets, name: float(b)})
    return out


def _best_bound(problem: Problem, results: list[Result]) -> float | None:
    """Tightest valid bound in the problem's sense (``min`` over upper bounds for ``max``)."""
    bounds = [r.bound for r in results if r.bound is not None and math.isfinite(r.bound)
              and r.status is not Status.ERROR]
    bounds += [r.objective for r in results if r.status is Status.OPTIMAL and r.objective is not None]
    if not bounds:
        return None
    return min(bounds) if problem.sense is ObjectiveSense.MAX else max(bounds)


def _row(problem: Problem, name: str, r: Result | None, dt: float, msg: str,
         best: float | None) -> CompareRow:
    if r is None:
        return CompareRow(name, problem.budgets, Status.ERROR, None, None, best, None, None, {},
                          dt, msg)
    feasible = None
    resources: dict[str, float] = {}
    if r.architecture is not None:
        feasible = problem.is_feasible(r.architecture)  # from the tables, not the backend
        resources = problem.resources(r.architecture)
    gap = None
    if best is not None and r.objective is not None:
        gap = max(0.0, problem.sign * (best - r.objective)) / max(abs(r.objective), 1e-10)
    return CompareRow(name, problem.budgets, r.status, r.objective, r.bound, best, gap, feasible,
                      resources, r.wall_time, msg, r)
