import numpy as np
import pytest

import binas_opt as bo
from binas_opt.testing.synthetic import random_problem


def test_unknown_backend_lists_valid():
    with pytest.raises(ValueError, match=r"unknown backend 'cplex'.*'milp'"):
        bo.solve(random_problem(0), backend="cplex")


def test_black_box_refused_by_algebraic_backends():
    p = random_problem(1)
    bb = bo.Problem(p.space, lambda x: x.sum(axis=1), p.constraints)
    assert bb.objective_kind is bo.ObjectiveKind.BLACK_BOX
    with pytest.raises(ValueError, match=r"does not accept a black_box objective; backends that do: .*brute"):
        bo.solve(bb, "milp")
    r = bo.solve(bb, "brute")
    assert r.status is bo.Status.OPTIMAL and bb.is_feasible(r.architecture)


def test_registry_register_and_errors():
    class Cheapest(bo.Solver):
        name = "cheapest"

        def run(self, problem, options, ctx):
            _, arch = problem.constraints[0].table.extreme("min")
            return bo.SolverOutput(bo.Termination.CONVERGED, architecture=arch)

    bo.register_backend("cheapest", Cheapest, overwrite=True)
    assert "cheapest" in bo.list_backends()
    r = bo.solve(random_problem(2, budget_mode="random"), "cheapest")
    assert r.status is bo.Status.FEASIBLE and r.bound is None
    with pytest.raises(ValueError, match="already registered"):
        bo.register_backend("cheapest", Cheapest)
    with pytest.raises(TypeError, match="not a Solver"):
        bo.register_backend("bad", int, overwrite=True)


def test_backend_returning_infeasible_architecture_is_an_error():
    class Liar(bo.Solver):
        name = "liar"

        def run(self, problem, options, ctx):
            _, arch = problem.constraints[0].table.extreme("max")
            return bo.SolverOutput(bo.Termination.OPTIMAL, architecture=arch, proven_optimal=True)

    bo.register_backend("liar", Liar, overwrite=True)
    p = random_problem(3, budget_mode="tight")
    r = bo.solve(p, "liar")
    if p.is_feasible(p.constraints[0].table.extreme("max")[1]):
        pytest.skip("the most expensive architecture happens to be feasible")
    assert r.status is bo.Status.ERROR and r.architecture is None and "exceeds" in r.message


def test_status_messages_say_what_to_do():
    assert "min_resources" in bo.Status.INFEASIBLE.message
    assert "time_limit" in bo.Status.TIME_LIMIT.message
    assert {s.value for s in bo.Status} >= {"optimal", "feasible", "infeasible", "time_limit", "error"}


def test_import_is_light():
    import subprocess
    import sys

    code = ("import sys, binas_opt; bad=[m for m in ('torch','cvxpy','highspy','pulp','matplotlib') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_same_seed_same_result():
    p = random_problem(4, n_constraints=2)
    a, b = bo.solve(p, "milp", seed=3), bo.solve(p, "milp", seed=3)
    assert a.architecture == b.architecture and a.objective == b.objective
    assert np.isfinite(a.objective)
