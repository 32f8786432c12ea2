"""Adversarial robustness: budgets at every magnitude, checked exactly, on every backend.

Seeded random problems (1-4 stages, 1-8 ops per block, 1-4 budgets) whose table entries and
objective live at one magnitude between 1e-9 and 1e9, with budgets placed where tolerances bite:
at the exact minimum of a resource, at an architecture's exact cost, one ulp either side of it,
and at random in between.  Every problem is small enough for exact enumeration, so the truth is
known: the feasible set is computed with exact rational arithmetic (:class:`fractions.Fraction`)
from the table entries, independently of the package's own checks.

Per backend it prints: problems run, exact budget excesses, wrong ``optimal`` (the objective is
worse than the true optimum), wrong ``infeasible`` (a feasible architecture exists), invalid
bounds (a claimed bound the true optimum beats), errors (status ``error`` or an exception), and
problems the backend documents that it does not take.  Goal: all zero.

Run::

    python benchmarks/robustness.py            # 300 problems, every available backend
    python benchmarks/robustness.py --n 50 --backends milp dp brute
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

import binas_opt as bo
from binas_opt.testing.oracle import reference_exact_costs

PLACEMENTS = ("minimum", "at_cost", "ulp_below", "ulp_above", "between")


def _stage(rng: np.random.Generator, s: int) -> bo.Stage:
    max_depth = int(rng.integers(1, 4))
    depths = sorted(set(int(d) for d in rng.integers(1, max_depth + 1, size=rng.integers(1, 4))))
    depths = sorted(set(depths) | {max_depth})
    ops = [[f"o{j}" for j in range(int(rng.integers(1, 7)))] for _ in range(max_depth)]
    return bo.Stage(depths, ops, name=f"s{s}")


def _values(rng: np.random.Generator, shape, scale: float, ties: bool) -> np.ndarray:
    if ties:  # few distinct values: exact ties everywhere
        return scale * rng.integers(1, 4, size=shape).astype(float)
    return scale * rng.uniform(0.5, 2.0, size=shape)


def _table(rng, space: bo.SearchSpace, scale: float, name: str, ties: bool) -> bo.Table:
    depth = [_values(rng, len(st.depths), scale, ties) * rng.integers(0, 2) for st in space.stages]
    op = [[_values(rng, n, scale, ties) for n in st.num_ops] for st in space.stages]
    return bo.Table(space, const=float(_values(rng, (), scale, ties)), depth=depth, op=op, name=name)




@dataclass
class Case:
    seed: int
    problem: bo.Problem
    feasible: np.ndarray          # exact feasibility of every enumerated architecture
    optimum: float | None         # objective of the best feasible architecture (None: infeasible)
    placement: str
    scale: float


def make_case(seed: int) -> Case:
    rng = np.random.default_rng(seed)
    n_stages = int(rng.integers(1, 5))
    space = bo.SearchSpace([_stage(rng, s) for s in range(n_stages)])
    while space.num_architectures > 4000:
        space = bo.SearchSpace(list(space.stages)[:-1])
    scale = float(10.0 ** rng.uniform(-9, 9))
    obj_scale = float(10.0 ** rng.uniform(-9, 9))
    ties = bool(rng.random() < 0.3)
    objective = _table(rng, space, obj_scale, "objective", ties)
    n_budgets = int(rng.integers(1, 5))
    tables = [_table(rng, space, scale * 10.0 ** rng.uniform(-1, 1), f"r{k}", ties)
              for k in range(n_budgets)]
    depths, ops = space.enumerate()
    costs = [reference_exact_costs(t, depths, ops) for t in tables]
    placement = PLACEMENTS[seed % len(PLACEMENTS)]
    pick = int(rng.integers(len(depths)))
    budgets = []
    for c in costs:
        if placement == "minimum":
            exact = min(c)
        elif placement == "between":
            lo, hi = float(min(c)), float(max(c))
            exact = Fraction(lo + (hi - lo) * rng.uniform(0.2, 0.8))
        else:
            exact = c[pick]
        b = float(exact)  # the smallest float at or above the exact value: it admits `exact`
        if Fraction(b) < exact:
            b = math.nextafter(b, math.inf)
        if placement == "ulp_below":
            b = math.nextafter(b, -math.inf)
        elif placement == "ulp_above":
            b = math.nextafter(b, math.inf)
        budgets.append(b)
    constraints = [t <= b for t, b in zip(tables, budgets, strict=True)]
    problem = bo.Problem(space, objective, constraints)
    feasible = np.ones(len(depths), dtype=bool)
    for c, b in zip(costs, budgets, strict=True):
        fb = Fraction(b)
        feasible &= np.array([x <= fb for x in c])
    values = objective.evaluate_arrays(depths, ops)
    optimum = float(values[feasible].max()) if feasible.any() else None
    return Case(seed, problem, feasible, optimum, placement, scale)


@dataclass
class Tally:
    problems: int = 0
    excess: int = 0
    wrong_optimal: int = 0
    wrong_infeasible: int = 0
    invalid_bound: int = 0
    errors: int = 0
    refused: int = 0
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)

    def note(self, what: str, case: Case, detail: str) -> None:
        if len(self.examples) < 3:
            self.examples.append(f"{what} seed={case.seed} ({case.placement}, scale "
                                 f"{case.scale:.1e}): {detail}")


def _tol(x: float) -> float:
    """Float noise allowed when comparing two evaluations of the same objective."""
    return 1e-9 * abs(x) + 1e-300


def check(backend: str, case: Case, tally: Tally, time_limit: float) -> None:
    problem = case.problem
    t0 = time.perf_counter()
    try:
        result = bo.solve(problem, backend=backend, time_limit=time_limit, seed=case.seed)
    except ValueError as exc:  # a documented refusal (dp with several budgets, size limits ...)
        if "does not accept" in str(exc) or "at most" in str(exc) or "limit" in str(exc):
            tally.refused += 1
            return
        tally.problems += 1
        tally.errors += 1
        tally.note("exception", case, repr(exc))
        return
    except Exception as exc:  # noqa: BLE001 - a benchmark counts every failure
        tally.problems += 1
        tally.errors += 1
        tally.note("exception", case, repr(exc))
        return
    finally:
        tally.seconds += time.perf_counter() - t0
    tally.problems += 1
    status = result.status.value
    if status == "error":
        tally.errors += 1
        tally.note("error", case, result.message)
    arch = result.architecture
    if arch is not None:
        depths, ops = problem.space.encoding.to_arrays([arch])
        for c in problem.constraints:
            exact = reference_exact_costs(c.table, depths, ops)[0]
            if exact > Fraction(c.budget):
                tally.excess += 1
                tally.note("excess", case, f"{c.name}: {float(exact)!r} > {c.budget!r}")
                break
    if status == "optimal" and (case.optimum is None or arch is None
                                or result.objective < case.optimum - _tol(case.optimum)):
        tally.wrong_optimal += 1
        tally.note("wrong optimal", case, f"objective {result.objective!r}, truth {case.optimum!r}")
    if status == "infeasible" and case.optimum is not None:
        tally.wrong_infeasible += 1
        tally.note("wrong infeasible", case, f"truth {case.optimum!r}; {result.message}")
    if (result.bound is not None and case.optimum is not None
            and result.bound < case.optimum - _tol(case.optimum)):
        tally.invalid_bound += 1
        tally.note("invalid bound", case, f"bound {result.bound!r} < optimum {case.optimum!r}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300, help="number of problems (default: 300)")
    ap.add_argument("--seed", type=int, default=0, help="first seed (default: 0)")
    ap.add_argument("--backends", nargs="*", default=None,
                    help="backends to run (default: every available one)")
    ap.add_argument("--time-limit", type=float, default=20.0,
                    help="seconds per solve (default: 20)")
    args = ap.parse_args(argv)
    backends = args.backends or bo.list_backends()
    cases = [make_case(s) for s in range(args.seed, args.seed + args.n)]
    n_inf = sum(c.optimum is None for c in cases)
    print(f"{len(cases)} problems ({n_inf} infeasible), magnitudes 1e-9..1e9, placements "
          f"{', '.join(PLACEMENTS)}")
    tallies = {b: Tally() for b in backends}
    for case in cases:
        for b in backends:
            check(b, case, tallies[b], args.time_limit)
    cols = ("problems", "excess", "wrong_optimal", "wrong_infeasible", "invalid_bound", "errors",
            "refused")
    print(f"{'backend':<8}" + "".join(f"{c:>17}" for c in cols) + f"{'seconds':>10}")
    bad = 0
    for b, t in tallies.items():
        print(f"{b:<8}" + "".join(f"{getattr(t, c):>17}" for c in cols) + f"{t.seconds:>10.1f}")
        bad += t.excess + t.wrong_optimal + t.wrong_infeasible + t.invalid_bound + t.errors
    for b, t in tallies.items():
        for e in t.examples:
            print(f"  [{b}] {e}")
    print("all zero" if bad == 0 else f"{bad} failures")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
