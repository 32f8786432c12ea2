"""The importable conformance suite (:mod:`binas_opt.testing.conformance`) on every registered,
available backend, and on a tiny third-party backend defined here, as a backend author would.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import binas_opt as bo
from binas_opt.testing import conformance
from binas_opt.testing.synthetic import random_problem

#: Over ~5 s per case on 2 cores: the evolutionary baseline runs the paper's 500 generations,
#: determinism re-runs in a subprocess, torch black boxes train nothing but import torch.
SLOW_BACKENDS = {"evo"}
SLOW_CHECKS = {"determinism", "torch_black_box"}


def _params():
    out = []
    for p in conformance.pytest_params():
        backend, check, _ = p.values
        slow = backend in SLOW_BACKENDS or check in SLOW_CHECKS
        out.append(pytest.param(*p.values, id=p.id,
                                marks=[*p.marks, *([pytest.mark.slow] if slow else [])]))
    return out


@pytest.mark.parametrize("backend, check, case", _params())
def test_conformance(backend, check, case):
    conformance.run_pytest_check(backend, check, case)


# ------------------------------------------------------------------ a third-party backend
def _rows(space, archs):
    d = np.array([a.depths for a in archs], dtype=np.int64)
    o = np.array([[v for row in a.ops for v in row] for a in archs], dtype=np.int64)
    return d, o


def _neighbours(space, d, o):
    """Every architecture one decision away (a stage depth or a block op)."""
    rows_d, rows_o, off = [], [], 0
    for s, st in enumerate(space.stages):
        for dep in st.depths:
            if dep != d[s]:
                nd = d.copy()
                nd[s] = dep
                rows_d.append(nd)
                rows_o.append(o)
        for b in range(st.max_depth):
            for k in range(st.num_ops[b]):
                if k != o[off + b]:
                    no = o.copy()
                    no[off + b] = k
                    rows_d.append(d)
                    rows_o.append(no)
        off += st.max_depth
    return np.array(rows_d), np.array(rows_o)


class GreedySolver(bo.Solver):
    """Best of 64 random samples, then steepest single-decision ascent; a heuristic that says
    ``no_solution`` when it finds nothing and never claims a proof."""

    name = "greedy"
    exact = False
    accepts = frozenset({bo.ObjectiveKind.TABLE, bo.ObjectiveKind.QUADRATIC})
    capabilities = frozenset({bo.Capability.WARM_START})

    def run(self, problem, options, ctx):
        t0 = time.perf_counter()
        space = problem.space
        archs = space.sample(np.random.default_rng(ctx.seed), 64)
        if ctx.warm_start is not None:
            archs.append(ctx.warm_start)
        D, O = _rows(space, archs)
        ok = problem.feasible_mask(D, O)
        if not ok.any():
            return bo.SolverOutput(bo.Termination.ITERATION_LIMIT, solve_time=time.perf_counter() - t0,
                                   message="no feasible architecture among 64 random samples "
                                           "(not a proof of infeasibility)")
        val = problem.sign * problem.objective.evaluate_arrays(D[ok], O[ok])
        i = int(np.argmax(val))
        d, o, best = D[ok][i], O[ok][i], val[i]
        steps, clock = 0, False
        while True:
            if ctx.out_of_time():
                clock = True
                break
            nd, no = _neighbours(space, d, o)
            fine = problem.feasible_mask(nd, no)
            if not fine.any():
                break
            v = problem.sign * problem.objective.evaluate_arrays(nd[fine], no[fine])
            j = int(np.argmax(v))
            if v[j] <= best:
                break
            d, o, best, steps = nd[fine][j], no[fine][j], v[j], steps + 1
        arch = space.architectures_from_arrays(d[None, :], o[None, :])[0]
        term = bo.Termination.TIME_LIMIT if clock or ctx.out_of_time() else bo.Termination.CONVERGED
        return bo.SolverOutput(term, architecture=arch, stats={"steps": steps},
                               solve_time=time.perf_counter() - t0,
                               message="local optimum of single-decision moves")


@pytest.fixture
def greedy():
    bo.register_backend("greedy", GreedySolver, overwrite=True)
    yield "greedy"
    bo.unregister_backend("greedy")


@pytest.mark.parametrize("backend, check, case", conformance.pytest_params(["greedy"]))
def test_third_party_backend_conforms(backend, check, case, greedy):
    conformance.run_pytest_check(backend, check, case)


def test_check_backend_report_for_a_class():
    report = conformance.check_backend(GreedySolver, checks=["declaration", "unknown_option",
                                                             "budget_below_minimum"])
    assert report.ok and len(report.passed) == 3, str(report)
    assert "greedy" not in bo.list_backends()  # registered for the run only


class Overclaiming(bo.Solver):
    """Breaks the contract: the cheapest architecture, claimed optimal."""

    name = "overclaiming"

    def run(self, problem, options, ctx):
        _, arch = problem.constraints[0].table.extreme("min")
        return bo.SolverOutput(bo.Termination.OPTIMAL, architecture=arch, proven_optimal=True)


def test_suite_catches_an_overclaiming_backend():
    report = conformance.check_backend(Overclaiming, checks=["against_brute"],
                                       raise_on_failure=False)
    assert not report.ok
    assert all(k.startswith("against_brute") for k in report.failed), str(report)
    assert any("is not a bound" in why or "optimal" in why for why in report.failed.values())
    with pytest.raises(conformance.ConformanceError):
        conformance.check_backend(Overclaiming, checks=["against_brute"])


def test_refusal_is_declared_up_front_and_lists_alternatives():
    p = random_problem(3, n_constraints=2)
    cls = bo.get_backend("dp")
    reason = cls.refusal(p, cls.Options())
    assert reason is not None and "at most 1" in reason
    with pytest.raises(ValueError, match="backends that take this problem: .*milp"):
        bo.solve(p, "dp")
    big = bo.SearchSpace.mobilenet_v3()
    q = bo.Problem(big, bo.Table(big, name="acc"), [])
    brute = bo.get_backend("brute")
    assert "limit" in brute.refusal(q, brute.Options())
    with pytest.raises(ValueError, match="enumerates at most"):
        bo.solve(q, "brute")
    assert brute.refusal(q, brute.Options(limit=10**30)) is None


def test_solver_output_cannot_overclaim():
    arch = random_problem(1).space.sample(0)
    with pytest.raises(ValueError, match="proven_optimal"):
        bo.SolverOutput(bo.Termination.OPTIMAL, architecture=arch)
    with pytest.raises(ValueError, match="needs an architecture"):
        bo.SolverOutput(bo.Termination.OPTIMAL, proven_optimal=True)
    with pytest.raises(ValueError, match="not a proof"):
        bo.SolverOutput(bo.Termination.INFEASIBLE, message="nothing found")
    with pytest.raises(ValueError, match="needs a message"):
        bo.SolverOutput(bo.Termination.ERROR)
    with pytest.raises(ValueError, match="solve_time"):
        bo.SolverOutput(bo.Termination.CONVERGED, solve_time=-1.0)


def test_capability_method_is_required():
    with pytest.raises(TypeError, match="front"):
        class NoFront(bo.Solver):  # noqa: F841
            name = "nofront"
            capabilities = frozenset({bo.Capability.PARETO_FRONT})

            def run(self, problem, options, ctx):
                raise NotImplementedError
    assert bo.backends_with("pareto_front")[:2] == ["milp", "dp"] or \
        set(bo.backends_with("pareto_front")) >= {"milp", "dp"}
