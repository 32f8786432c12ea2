"""The optimisation problem: a space, an objective, resource constraints and a sense."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from binas_opt.model.architecture import Architecture
from binas_opt.model.blackbox import BlackBox
from binas_opt.model.quadratic import QuadraticForm
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Constraint, Table

__all__ = ["Problem", "ObjectiveKind", "FEASIBILITY_RTOL"]

#: Relative tolerance of the budget check, only to absorb floating-point summation order.
FEASIBILITY_RTOL = 1e-9


class ObjectiveKind(StrEnum):
    """Algebraic structure of an objective, which decides which backends accept it."""

    TABLE = "table"
    QUADRATIC = "quadratic"
    BLACK_BOX = "black_box"


Objective = Table | QuadraticForm | BlackBox


def _kind(obj: Objective) -> ObjectiveKind:
    if isinstance(obj, Table):
        return ObjectiveKind.TABLE
    if isinstance(obj, QuadraticForm):
        return ObjectiveKind.QUADRATIC
    return ObjectiveKind.BLACK_BOX


@dataclass(frozen=True, eq=False, init=False)
class Problem:
    """``max`` (or ``min``) ``objective(arch)`` subject to every constraint.

    Parameters
    ----------
    space : SearchSpace
    objective : Table, QuadraticForm, BlackBox, torch.nn.Module or callable
        A module or callable is wrapped in :class:`~binas_opt.BlackBox`.
    constraints : sequence of Constraint
        E.g. ``[latency <= 40, params <= 5e6]``; names must be unique.
    sense : {"max", "min"}
    """

    space: SearchSpace
    objective: Objective
    constraints: tuple[Constraint, ...]
    sense: str

    def __init__(self, space, objective, constraints: Sequence[Constraint] = (), sense: str = "max"):
        if not isinstance(space, SearchSpace):
            raise TypeError(f"Problem: space must be a SearchSpace, got {type(space).__name__}")
        if not isinstance(objective, (Table, QuadraticForm, BlackBox)):
            if not callable(objective):
                raise TypeError(
                    "Problem: objective must be a Table, QuadraticForm, BlackBox, torch module "
                    f"or callable, got {type(objective).__name__}"
                )
            objective = BlackBox(space, objective)
        if objective.space != space:
            raise ValueError("Problem: the objective was built for a different search space")
        if sense not in ("max", "min"):
            raise ValueError(f"Problem: sense must be 'max' or 'min', got {sense!r}")
        if isinstance(constraints, Constraint):
            constraints = [constraints]
        constraints = tuple(constraints)
        seen: set[str] = set()
        for i, c in enumerate(constraints):
            if not isinstance(c, Constraint):
                raise TypeError(
                    f"Problem: constraints[{i}] is {type(c).__name__}; write e.g. `latency <= 40`"
                )
            if c.table.space != space:
                raise ValueError(f"Problem: constraint {c.name!r} uses a different search space")
            if c.name in seen:
                raise ValueError(
                    f"Problem: two constraints are named {c.name!r}; give the tables distinct names"
                )
            seen.add(c.name)
        object.__setattr__(self, "space", space)
        object.__setattr__(self, "objective", objective)
        object.__setattr__(self, "constraints", constraints)
        object.__setattr__(self, "sense", sense)

    # ---------------------------------------------------------------- views
    @property
    def objective_kind(self) -> ObjectiveKind:
        return _kind(self.objective)

    @property
    def sign(self) -> float:
        """+1 for ``max``, -1 for ``min``: ``sign * objective`` is maximised."""
        return 1.0 if self.sense == "max" else -1.0

    @property
    def budgets(self) -> dict[str, float]:
        return {c.name: c.budget for c in self.constraints}

    def constraint(self, name: str) -> Constraint:
        for c in self.constraints:
            if c.name == name:
                return c
        raise ValueError(
            f"no constraint named {name!r}; the problem has {[c.name for c in self.constraints]}"
        )

    def with_budgets(self, budgets: Mapping[str, Any]) -> Problem:
        """A copy with some budgets changed, e.g. ``problem.with_budgets({"latency": 30})``."""
        names = {c.name for c in self.constraints}
        unknown = set(budgets) - names
        if unknown:
            raise ValueError(f"unknown budget name(s) {sorted(unknown)}; valid: {sorted(names)}")
        cons = [c.with_budget(budgets[c.name]) if c.name in budgets else c for c in self.constraints]
        return Problem(self.space, self.objective, cons, self.sense)

    def with_constraints(self, constraints: Sequence[Constraint]) -> Problem:
        return Problem(self.space, self.objective, constraints, self.sense)

    # ---------------------------------------------------------------- evaluation
    def evaluate(self, arch: Architecture) -> float:
        return float(self.objective(arch))

    def resources(self, arch: Architecture) -> dict[str, float]:
        """Value of every constrained table on ``arch``."""
        return {c.name: float(c.table(arch)) for c in self.constraints}

    def resource_matrix(self, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
        """``(n, n_constraints)`` values of the constrained tables (vectorised)."""
        if not self.constraints:
            return np.zeros((len(depths), 0))
        return np.stack([c.table.evaluate_arrays(depths, ops) for c in self.constraints], axis=1)

    def feasible_mask(self, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
        """Which rows satisfy every constraint (up to :data:`FEASIBILITY_RTOL`)."""
        vals = self.resource_matrix(depths, ops)
        if vals.shape[1] == 0:
            return np.ones(len(depths), dtype=bool)
        le = np.array([c.sense == "<=" for c in self.constraints])
        b = np.array([c.budget for c in self.constraints])
        tol = FEASIBILITY_RTOL * np.maximum(1.0, np.abs(b))
        ok = np.where(le, vals <= b + tol, vals >= b - tol)
        return ok.all(axis=1)

    def violations(self, arch: Architecture) -> dict[str, float]:
        """Constraints broken by ``arch``, with the amount by which each is exceeded."""
        out = {}
        for c in self.constraints:
            v = float(c.table(arch))
            excess = -c.slack(v)
            if excess > FEASIBILITY_RTOL * max(1.0, abs(c.budget)):
                out[c.name] = excess
        return out

    def is_feasible(self, arch: Architecture) -> bool:
        return not self.violations(arch)

    def min_resources(self) -> dict[str, float]:
        """Exact smallest achievable value of every ``<=`` resource (largest for ``>=``)."""
        return {
            c.name: c.table.min_value() if c.sense == "<=" else c.table.max_value()
            for c in self.constraints
        }

    # ---------------------------------------------------------------- io
    def to_dict(self) -> dict[str, Any]:
        obj = self.objective
        if isinstance(obj, BlackBox):
            raise TypeError("a problem with a black-box objective cannot be serialised to JSON")
        return {
            "space": self.space.to_dict(),
            "objective": {"kind": self.objective_kind.value, **obj.to_dict()},
            "constraints": [
                {"table": c.table.to_dict(), "budget": c.budget, "sense": c.sense.value}
                for c in self.constraints
            ],
            "sense": self.sense,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Problem:
        space = SearchSpace.from_dict(d["space"])
        o = dict(d["objective"])
        kind = ObjectiveKind(o.pop("kind"))
        if kind is ObjectiveKind.TABLE:
            objective = Table.from_dict(o, space)
        elif kind is ObjectiveKind.QUADRATIC:
            objective = QuadraticForm.from_dict(o, space)
        else:
            raise ValueError("a black-box objective cannot be read from JSON")
        cons = [
            Constraint(Table.from_dict(c["table"], space), c["budget"], c.get("sense", "<="))
            for c in d.get("constraints", [])
        ]
        return cls(space, objective, cons, d.get("sense", "max"))

    def __repr__(self) -> str:
        cons = ", ".join(repr(c) for c in self.constraints)
        return (f"Problem({self.sense} {self.objective.name or 'objective'} "
                f"[{self.objective_kind.value}], constraints=[{cons}], space={self.space!r})")
