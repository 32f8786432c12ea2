import numpy as np
import pytest

import binas_opt as bo
from binas_opt.testing.synthetic import random_problem


@pytest.fixture
def space():
    return bo.SearchSpace([bo.Stage((1, 2), ["a", "b"], name="s0"),
                           bo.Stage((2, 3), ["x", "y", "z"], name="s1")])


def rand_table(space, rng, name="t", unit=None):
    return bo.Table(space, rng.random(), [rng.random(len(s.depths)) for s in space.stages],
                    [rng.random((s.max_depth, s.num_ops[0])) for s in space.stages], name=name, unit=unit)


def test_vectorised_matches_single(space):
    rng = np.random.default_rng(0)
    t = rand_table(space, rng)
    archs = space.sample(rng, n=30)
    assert np.allclose(t.evaluate(archs), [t(a) for a in archs])
    depths, ops = space.enumerate()
    vals = t.evaluate_arrays(depths, ops)
    assert t.min_value() == pytest.approx(vals.min()) and t.max_value() == pytest.approx(vals.max())


def test_algebra_and_units(space):
    rng = np.random.default_rng(1)
    a, b = rand_table(space, rng, "lat", "ms"), rand_table(space, rng, "lat", "ms")
    arch = space.sample(rng)
    assert (a + b)(arch) == pytest.approx(a(arch) + b(arch))
    assert (a - 1)(arch) == pytest.approx(a(arch) - 1)
    assert (3 * a)(arch) == pytest.approx(3 * a(arch))
    assert (1 - a)(arch) == pytest.approx(1 - a(arch))
    c = a <= bo.Budget(0.5, "s")
    assert isinstance(c, bo.Constraint) and c.budget == pytest.approx(500.0)
    with pytest.raises(bo.UnitError, match="'J'"):
        a <= bo.Budget(1, "J")
    with pytest.raises(bo.UnitError):
        a + rand_table(space, rng, "energy", "mJ")


def test_bilinear_round_trip(space):
    rng = np.random.default_rng(2)
    t = rand_table(space, rng, "lat", "ms")
    back = bo.Table.from_bilinear(space, *t.to_bilinear(), name="lat", unit="ms")
    depths, ops = space.enumerate()
    assert np.allclose(back.evaluate_arrays(depths, ops), t.evaluate_arrays(depths, ops))
    # a form with p_alpha on an always-active block folds into that block's op values
    c, pa, pb, q = t.to_bilinear()
    pa = pa.copy()
    pa[:2] += [1.0, 2.0]
    shifted = bo.Table.from_bilinear(space, c, pa, pb, q)
    assert shifted.op_table(0, 0) == pytest.approx(t.op_table(0, 0) + [1.0, 2.0])
    # a non-additive form is refused
    q2 = q.tolil()
    q2[2, 0] = 5.0  # op 'a' of stage 0 block 1 would count while the block is inactive
    with pytest.raises(ValueError, match="block 1 of stage 0 is not additive.*QuadraticForm"):
        bo.Table.from_bilinear(space, c, np.zeros(space.n_alpha), pb, q2)
    q3 = q.tolil()
    q3[0, 3] = 1.0  # stage 0 op coupled with a stage 1 depth
    with pytest.raises(ValueError, match="another stage"):
        bo.Table.from_bilinear(space, c, np.zeros(space.n_alpha), pb, q3)


def test_to_quadratic_agrees(space):
    rng = np.random.default_rng(3)
    t = rand_table(space, rng)
    q = t.to_quadratic()
    depths, ops = space.enumerate()
    assert np.allclose(q.evaluate_arrays(depths, ops), t.evaluate_arrays(depths, ops))
    x = space.encode_x(space.sample(rng, n=5))
    assert np.allclose(q.evaluate_x(x), t.evaluate_x(x))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(depth=[[0, 1]]), "depth has 1 rows"),
        (dict(depth=[[0, 1], [0, 1, 2]]), r"depth\[1\] has 3 values"),
        (dict(op=[[[0, 1]], [[0, 1, 2]] * 3]), r"op\[0\] has 1 blocks"),
        (dict(op=[[[0, 1]] * 2, [[0, 1]] * 3]), r"op\[1\]\[0\] has 2 values"),
        (dict(op=[[[0, np.nan]] * 2, [[0, 1, 2]] * 3]), r"op\[0\]\[0\]\[1\].*'b'.*nan"),
        (dict(depth=[[0, np.inf], [0, 1]]), r"depth\[0\]\[1\]"),
        (dict(const=np.nan), "const"),
    ],
)
def test_table_rejects_bad_input(space, kwargs, match):
    with pytest.raises(ValueError, match=match):
        bo.Table(space, name="lat", **kwargs)


def test_negative_resource_cost_named(space):
    t = bo.Table(space, op=[[[0, -1.0]] * 2, [[0, 1, 2]] * 3], name="latency")
    with pytest.raises(ValueError, match=r"latency.*op\[0\]\[0\]\[1\].*-1"):
        t <= 5
    assert (t >= -3).budget == -3  # a lower bound on a signed table is fine


def test_budget_must_be_finite(space):
    t = bo.Table(space, name="latency")
    with pytest.raises(ValueError, match="latency"):
        t <= float("nan")
    with pytest.raises(TypeError, match="latency"):
        t <= "40"


def test_problem_rejects_bad_input(space):
    t = bo.Table(space, name="latency")
    other = bo.SearchSpace([bo.Stage((1,), ["a"])])
    with pytest.raises(ValueError, match="named 'latency'"):
        bo.Problem(space, t, [t <= 1, t <= 2])
    with pytest.raises(ValueError, match="different search space"):
        bo.Problem(other, t)
    with pytest.raises(ValueError, match="Problem: sense must be one of 'max', 'min', got "
                                         "'maximise'"):
        bo.Problem(space, t, sense="maximise")
    for given in ("min", bo.ObjectiveSense.MIN):
        p = bo.Problem(space, t, sense=given)
        assert p.sense is bo.ObjectiveSense.MIN and p.sense == "min" and p.sign == -1.0
    assert bo.Problem(space, t).sense is bo.ObjectiveSense.MAX
    with pytest.raises(ValueError, match="Constraint: sense must be one of '<=', '>=', got '<'"):
        bo.Constraint(t, 1.0, "<")
    with pytest.raises(ValueError, match="extreme: sense must be one of"):
        t.extreme("smallest")
    with pytest.raises(TypeError, match=r"constraints\[0\]"):
        bo.Problem(space, t, [3.0])
    with pytest.raises(ValueError, match="unknown budget name"):
        bo.Problem(space, t, [t <= 1]).with_budgets({"energy": 3})


def test_quadratic_form_evaluation_and_validation():
    p = random_problem(5, objective="quadratic")
    q, space = p.objective, p.space
    rng = np.random.default_rng(0)
    archs = space.sample(rng, n=20)
    x = space.encode_x(archs)
    w = q.W.toarray()
    expect = q.const + x @ q.p + np.einsum("ij,jk,ik->i", x, w, x)
    assert np.allclose(q.evaluate(archs), expect)
    assert np.allclose(q.evaluate_x(x), expect)
    with pytest.raises(ValueError, match="W has shape"):
        bo.QuadraticForm(space, 0.0, np.zeros(space.n_vars), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="p has length"):
        bo.QuadraticForm(space, 0.0, np.zeros(1), np.zeros((space.n_vars,) * 2))
