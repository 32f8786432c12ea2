"""Synthetic but realistic problem data for benchmarks, examples and tests.

Three kinds of accuracy/latency pairs, as used to stress solvers:

``"realistic"``
    Latency grows with kernel, expansion and squeeze-excite (for MBConv labels; random positive
    otherwise) and with stage width; accuracy contributions grow with latency with diminishing
    returns (square root) plus noise, and deeper stages pay off more.
``"uncorrelated"``
    Accuracy contributions independent of latency.
``"correlated"``
    Accuracy almost proportional to latency (relative noise 1e-4): the hardest case for Pareto
    fronts, which then contain a large share of all architectures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from binas_opt.mbconv.arch_def import MBConvOp
from binas_opt.model.choices import Choice
from binas_opt.model.exact import round_up
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table

__all__ = ["SyntheticData", "synthetic_tables", "synthetic_problem", "random_problem", "TableKind",
           "BudgetMode"]


class TableKind(Choice):
    """The kinds of synthetic tables (see the module docstring)."""

    REALISTIC = "realistic"
    UNCORRELATED = "uncorrelated"
    CORRELATED = "correlated"


class BudgetMode(Choice):
    """Where :func:`random_problem` puts its budgets."""

    RANDOM = "random"  #: uniform in the resource's range
    TIGHT = "tight"  #: the first at its minimum, the others at their maximum
    INFEASIBLE = "infeasible"  #: every budget just below its minimum
    LOOSE = "loose"  #: every budget at its maximum


@dataclass(frozen=True)
class SyntheticData:
    """An accuracy Table (percent) and resource Tables: latency (ms), params, energy (mJ)."""

    accuracy: Table
    latency: Table
    params: Table
    energy: Table


def _op_cost(label: str, rng: np.random.Generator) -> float:
    try:
        op = MBConvOp.from_label(label)
    except ValueError:
        return float(rng.uniform(0.5, 2.0))
    return op.expansion / 3.0 * (op.kernel / 3.0) ** 1.3 * (1.15 if op.se_ratio else 1.0)


def synthetic_tables(space: SearchSpace, kind: TableKind | str = TableKind.REALISTIC,
                     seed: int = 0) -> SyntheticData:
    """Random tables of the given ``kind`` (:class:`TableKind`, see the module docstring) for
    any space."""
    kind = TableKind.parse(kind, "synthetic_tables: kind")
    rng = np.random.default_rng(seed)
    idx = space.index
    n_s = space.n_stages
    stage_scale = 1.0 + np.arange(n_s) / max(1, n_s - 1)  # later stages are wider
    shape = np.array([_op_cost(lab, rng) for lab in space.alpha_labels])
    lat = 1.5 * shape * stage_scale[idx.alpha_stage] * rng.lognormal(0.0, 0.08, space.n_alpha)
    params = 2e4 * shape * stage_scale[idx.alpha_stage] ** 2 * rng.lognormal(0.0, 0.05, space.n_alpha)
    energy = 0.6 * lat * rng.lognormal(0.0, 0.15, space.n_alpha)
    depth_lat = 0.05 * rng.random(space.n_beta)
    const_lat = 5.0
    if kind is TableKind.REALISTIC:
        gain = 0.4 * (0.6 + 0.8 * idx.alpha_stage / max(1, n_s - 1))
        acc = gain * np.sqrt(lat) + rng.normal(0.0, 0.08, space.n_alpha)
        depth_acc = 0.3 * (idx.beta_depth - 1) * (1 + idx.beta_stage / max(1, n_s - 1)) * rng.uniform(
            0.5, 1.0, space.n_beta)
    elif kind is TableKind.UNCORRELATED:
        acc = rng.uniform(0.0, 1.0, space.n_alpha)
        depth_acc = rng.uniform(0.0, 0.5, space.n_beta)
    else:
        acc = 0.3 * lat * (1.0 + rng.normal(0.0, 1e-4, space.n_alpha))
        depth_acc = 0.3 * depth_lat * (1.0 + rng.normal(0.0, 1e-4, space.n_beta))
    return SyntheticData(
        accuracy=Table(space, 60.0, depth_acc, acc, name="accuracy", unit="%"),
        latency=Table(space, const_lat, depth_lat, lat, name="latency", unit="ms"),
        params=Table(space, 1e6, np.zeros(space.n_beta), params, name="params", unit="params"),
        energy=Table(space, 3.0, 0.6 * depth_lat, energy, name="energy", unit="mJ"),
    )


def synthetic_problem(space: SearchSpace | None = None, kind: TableKind | str = TableKind.REALISTIC,
                      seed: int = 0,
                      latency_fraction: float = 0.5, resources=("latency",)) -> Problem:
    """A max-accuracy problem with budgets at ``latency_fraction`` of each resource's range.

    Parameters
    ----------
    space : SearchSpace, optional
        Default: :meth:`SearchSpace.mobilenet_v3`.
    resources : sequence of str
        Which of ``"latency"``, ``"params"``, ``"energy"`` get a budget.
    """
    space = space or SearchSpace.mobilenet_v3()
    data = synthetic_tables(space, kind, seed)
    cons = []
    for name in resources:
        t = getattr(data, name)
        lo, hi = t.min_value(), t.max_value()
        cons.append(t <= lo + latency_fraction * (hi - lo))
    return Problem(space, data.accuracy, cons)


def random_problem(seed: int, objective: ObjectiveKind | str = ObjectiveKind.TABLE,
                   n_constraints: int = 1, max_stages: int = 3, max_ops: int = 3,
                   ties: bool = False, budget_mode: BudgetMode | str = BudgetMode.RANDOM) -> Problem:
    """A small random problem for tests and solver comparisons (brute force can check it).

    Parameters
    ----------
    seed : int
    objective : ObjectiveKind or {"table", "quadratic"}
    n_constraints : int
        Number of resource budgets (non-negative integer-valued tables when ``ties``).
    ties : bool
        Use small integer values so that many architectures tie.
    budget_mode : BudgetMode or {"random", "tight", "infeasible", "loose"}
        ``tight`` sets the first budget exactly at its resource's minimum and the others at
        their maximum (feasible, with no slack); ``infeasible`` puts every budget just below its
        minimum; ``loose`` at the maximum.
    """
    from binas_opt.model.quadratic import QuadraticForm
    from binas_opt.model.space import Stage

    objective = ObjectiveKind.parse(objective, "random_problem: objective")
    if objective is ObjectiveKind.BLACK_BOX:
        raise ValueError("random_problem: objective must be 'table' or 'quadratic', got 'black_box'")
    budget_mode = BudgetMode.parse(budget_mode, "random_problem: budget_mode")
    rng = np.random.default_rng(seed)
    stages = []
    for s in range(int(rng.integers(1, max_stages + 1))):
        depths = sorted(rng.choice([1, 2, 3], size=int(rng.integers(1, 3)), replace=False))
        n_ops = [int(rng.integers(1, max_ops + 1)) for _ in range(max(depths))]
        stages.append(Stage(depths, [[f"op{o}" for o in range(n)] for n in n_ops], name=f"s{s}"))
    space = SearchSpace(stages)

    def values(n, nonneg):
        if ties:
            return rng.integers(0 if nonneg else -2, 4, size=n).astype(float)
        return rng.uniform(0, 5, size=n) if nonneg else rng.normal(size=n)

    def table(name, nonneg):
        return Table(space, float(rng.uniform(0, 2)), values(space.n_beta, nonneg),
                     values(space.n_alpha, nonneg), name=name)

    if objective is ObjectiveKind.TABLE:
        obj = table("accuracy", False)
    else:
        n = space.n_vars
        w = values(n * n, False).reshape(n, n) * (rng.random((n, n)) < 0.3)
        obj = QuadraticForm(space, 0.0, values(n, False), w, name="accuracy")
    cons = []
    for k in range(n_constraints):
        t = table(f"r{k}", True)
        # rounded up from the exact extremes, so that budgets set to them hold exactly
        lo, hi = round_up(t.exact_extreme()), round_up(t.exact_extreme(upper=True))
        budget = {BudgetMode.RANDOM: rng.uniform(lo, hi), BudgetMode.TIGHT: lo if k == 0 else hi,
                  BudgetMode.LOOSE: hi, BudgetMode.INFEASIBLE: lo - 0.5}[budget_mode]
        cons.append(t <= budget)
    return Problem(space, obj, cons, sense=str(rng.choice(["max", "min"])))
