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
    with pytest.raises(ValueError, match=r"does not accept a black_box objective; backends that "
                                         r"take this problem: .*brute"):
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
    assert "not a proof" in bo.Status.NO_SOLUTION.message
    assert {s.value for s in bo.Status} == {"optimal", "feasible", "infeasible", "no_solution",
                                            "error"}
    assert "time_limit" not in {s.value for s in bo.Status}  # why it stopped: a Termination
    for t in bo.Termination:  # every termination says what it means and what to do
        assert len(t.message) > 20
    assert "time_limit" in bo.Termination.TIME_LIMIT.message


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


def _register(name, out):
    class Fixed(bo.Solver):
        def run(self, problem, options, ctx):
            return out(problem) if callable(out) else out

    Fixed.name = name
    bo.register_backend(name, Fixed, overwrite=True)
    return name


def test_found_nothing_is_no_solution_not_infeasible():
    p = random_problem(5, n_constraints=2)
    for term in (bo.Termination.ITERATION_LIMIT, bo.Termination.TIME_LIMIT,
                 bo.Termination.CONVERGED):
        name = _register("nothing", bo.SolverOutput(term))
        r = bo.solve(p, name)
        assert r.status is bo.Status.NO_SOLUTION and r.termination is term
        assert r.architecture is None and r.min_resources is None
        assert "not a proof" in r.message  # never empty, never a claim
    bo.unregister_backend("nothing")


def test_messages_never_empty_unless_optimal():
    p = random_problem(6, n_constraints=1)
    arch = bo.solve(p, "brute").architecture
    name = _register("quiet", bo.SolverOutput(bo.Termination.CONVERGED, architecture=arch))
    r = bo.solve(p, name)
    assert r.status is bo.Status.FEASIBLE and r.message == bo.Termination.CONVERGED.message
    _register("quiet", bo.SolverOutput(bo.Termination.OPTIMAL, architecture=arch,
                                       proven_optimal=True))
    assert bo.solve(p, name).status is bo.Status.OPTIMAL
    _register("quiet", bo.SolverOutput(bo.Termination.ERROR, message="boom"))
    r = bo.solve(p, name)
    assert r.status is bo.Status.ERROR and r.termination is bo.Termination.ERROR
    assert r.message == "boom"
    bo.unregister_backend("quiet")


def test_timings_are_fields_and_measured_when_missing():
    p = random_problem(7, n_constraints=1)
    r = bo.solve(p, "milp")
    assert "solve_time" not in r.stats and "build_time" not in r.stats
    assert r.solve_time > 0 and r.build_time > 0
    assert r.solve_time + r.build_time <= r.wall_time
    name = _register("untimed", lambda prob: bo.SolverOutput(
        bo.Termination.ITERATION_LIMIT, message="gave up"))
    r = bo.solve(p, name)
    assert r.solve_time > 0 and r.build_time == 0  # solve() timed run()
    bo.unregister_backend("untimed")


def test_backends_accepting_a_problem_uses_declared_refusals():
    p = random_problem(8, n_constraints=2)
    names = bo.backends_accepting(p)
    assert "milp" in names and "dp" not in names  # dp: one budget at most
    assert "dp" in bo.backends_accepting(bo.ObjectiveKind.TABLE, 1)
