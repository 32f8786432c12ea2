"""Seeded random Table problems for the exact-backend agreement tests (dp, milp, pulp, brute).

Half of them use small integer tables, which produce many exact ties in cost and value and
budgets that are exactly tight; the other half use floats.
"""

from __future__ import annotations

import numpy as np

import binas_opt as bo


def random_space(rng: np.random.Generator) -> bo.SearchSpace:
    stages = []
    for _ in range(int(rng.integers(1, 4))):
        depths = sorted(rng.choice([1, 2, 3], size=int(rng.integers(1, 3)), replace=False).tolist())
        n_ops = [int(rng.integers(1, 4)) for _ in range(max(depths))]
        stages.append(bo.Stage(depths, [[f"o{i}" for i in range(n)] for n in n_ops]))
    return bo.SearchSpace(stages)


def random_problem(seed: int, sense: str = "max") -> bo.Problem:
    """A random problem with one latency budget somewhere inside the achievable range."""
    rng = np.random.default_rng(seed)
    space = random_space(rng)
    integer = seed % 2 == 0

    def draw(n, lo, hi):
        return rng.integers(lo, hi, n).astype(float) if integer else rng.uniform(lo, hi, n)

    acc = bo.Table(space, const=float(draw(1, 0, 5)[0]), depth=draw(space.n_beta, -2, 4),
                   op=draw(space.n_alpha, -2, 5), name="acc", unit="%")
    lat = bo.Table(space, const=float(draw(1, 0, 3)[0]), depth=draw(space.n_beta, 0, 3),
                   op=draw(space.n_alpha, 0, 5), name="latency", unit="ms")
    lo, hi = lat.min_value(), lat.max_value()
    budget = lo + float(rng.uniform(0.0, 1.0)) * (hi - lo)
    return bo.Problem(space, acc, [lat <= budget], sense=sense)


def brute_front(problem: bo.Problem):
    """Exact front by enumeration: (costs, signed values) of the non-dominated points."""
    from binas_opt.solvers._pareto_dp import pareto_indices

    depths, ops = problem.space.enumerate()
    cost = problem.constraints[0].table.evaluate_arrays(depths, ops)
    value = problem.sign * problem.objective.evaluate_arrays(depths, ops)
    k = pareto_indices(cost, value)
    return cost, value, cost[k], value[k]
