"""The optimisation problem: a space, an objective, resource constraints and a sense."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from binas_opt.io.serialization import reject_unknown_keys, require
from binas_opt.model.architecture import Architecture
from binas_opt.model.blackbox import BlackBox
from binas_opt.model.choices import Choice, ObjectiveSense
from binas_opt.model.exact import round_down, round_up
from binas_opt.model.quadratic import QuadraticForm
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Constraint, Sense, Table

__all__ = ["Problem", "ObjectiveKind"]


class ObjectiveKind(Choice):
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
    sense : ObjectiveSense or {"max", "min"}
        Stored as :class:`~binas_opt.ObjectiveSense` (which compares equal to its string).
    """

    space: SearchSpace
    objective: Objective
    constraints: tuple[Constraint, ...]
    sense: ObjectiveSense

    def __init__(self, space, objective, constraints: Sequence[Constraint] = (),
                 sense: ObjectiveSense | str = ObjectiveSense.MAX):
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
        sense = ObjectiveSense.parse(sense, "Problem: sense")
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
        return self.sense.sign

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
        """Value of every constrained table on ``arch``: the exact sum of its entries,
        correctly rounded to a float (so ``resources[k] <= budget`` whenever the budget holds
        exactly, see :meth:`excess`)."""
        return {c.name: float(c.table.exact_value(arch)) for c in self.constraints}

    def resource_matrix(self, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
        """``(n, n_constraints)`` values of the constrained tables (vectorised)."""
        if not self.constraints:
            return np.zeros((len(depths), 0))
        return np.stack([c.table.evaluate_arrays(depths, ops) for c in self.constraints], axis=1)

    def feasible_mask(self, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
        """Which rows satisfy every constraint, decided exactly (:meth:`Table.within`)."""
        ok = np.ones(len(depths), dtype=bool)
        for c in self.constraints:
            ok &= c.table.within(depths, ops, c.budget, upper=c.sense is Sense.LE)
        return ok

    def excess(self, arch: Architecture) -> dict[str, Fraction]:
        """The exact amount by which ``arch`` exceeds each budget it breaks (none: feasible).

        A budget holds when the exact rational sum of the entries ``arch`` uses is at most the
        budget (at least, for ``>=``): no tolerance, at any magnitude.
        """
        out = {}
        for c in self.constraints:
            value = c.table.exact_value(arch)
            over = value - Fraction(c.budget) if c.sense is Sense.LE else Fraction(c.budget) - value
            if over > 0:
                out[c.name] = over
        return out

    def violations(self, arch: Architecture) -> dict[str, float]:
        """Constraints broken by ``arch`` (exactly, see :meth:`excess`), with the excess as a
        float rounded up (never 0 for a broken budget)."""
        return {k: max(round_up(v), math.ulp(0.0)) for k, v in self.excess(arch).items()}

    def is_feasible(self, arch: Architecture) -> bool:
        return not self.excess(arch)

    def exact_min_resources(self) -> dict[str, Fraction]:
        """Exact smallest achievable value of every ``<=`` resource (largest for ``>=``)."""
        return {c.name: c.table.exact_extreme(upper=c.sense is not Sense.LE)
                for c in self.constraints}

    def min_resources(self) -> dict[str, float]:
        """Smallest achievable value of every ``<=`` resource (largest for ``>=``), rounded
        outwards: a budget set to it is always achievable."""
        return {c.name: round_up(v) if c.sense is Sense.LE else round_down(v)
                for c, v in zip(self.constraints, self.exact_min_resources().values(), strict=True)}

    def impossible_budgets(self) -> dict[str, float]:
        """The budgets no architecture meets on its own (a proof of infeasibility), with the
        smallest achievable value of each (:meth:`min_resources`)."""
        exact = self.exact_min_resources()
        rounded = self.min_resources()
        out = {}
        for c in self.constraints:
            b = Fraction(c.budget)
            if (b < exact[c.name]) if c.sense is Sense.LE else (b > exact[c.name]):
                out[c.name] = rounded[c.name]
        return out

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
            "sense": self.sense.value,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Problem:
        where = "Problem.from_dict"
        reject_unknown_keys(d, ("space", "objective", "constraints", "sense"), where)
        space = SearchSpace.from_dict(require(d, "space", where, "the search space object"))
        o = require(d, "objective", where, "a table or quadratic-form object with 'kind'")
        kind = require(o, "kind", f"{where}: objective", "'table' or 'quadratic'")
        o = {k: v for k, v in o.items() if k != "kind"}
        kind = ObjectiveKind.parse(kind, "Problem.from_dict: objective kind")
        if kind is ObjectiveKind.TABLE:
            objective = Table.from_dict(o, space)
        elif kind is ObjectiveKind.QUADRATIC:
            objective = QuadraticForm.from_dict(o, space)
        else:
            raise ValueError("a black-box objective cannot be read from JSON")
        cons = []
        for c in d.get("constraints", []):
            cw = f"{where}: constraint"
            reject_unknown_keys(c, ("table", "budget", "sense"), cw)
            cons.append(Constraint(Table.from_dict(require(c, "table", cw, "a table object"), space),
                                   require(c, "budget", cw, "a number"), c.get("sense", "<=")))
        return cls(space, objective, cons, d.get("sense", "max"))

    def __repr__(self) -> str:
        cons = ", ".join(repr(c) for c in self.constraints)
        return (f"Problem({self.sense} {self.objective.name or 'objective'} "
                f"[{self.objective_kind.value}], constraints=[{cons}], space={self.space!r})")
