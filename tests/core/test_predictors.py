"""Fitted predictors (additive, bilinear, quadratic) and evaluate_predictor."""

import numpy as np
import pytest
import scipy.sparse as sp

import binas_opt as bo
from binas_opt.estimation.predictors import (
    PredictorKind,
    PredictorScore,
    evaluate_predictor,
    fit_additive,
    fit_bilinear,
    fit_predictor,
    fit_quadratic,
    randomize_inactive,
)
from binas_opt.testing.synthetic import synthetic_tables


def _small_space():
    return bo.SearchSpace([bo.Stage((1, 2, 3), ["a", "b", "c"]), bo.Stage((2, 3), ["x", "y"]),
                           bo.Stage((1, 2), ["u", "v", "w"])])


def _split(space, n_train, seed=0):
    depths, ops = space.enumerate()
    rng = np.random.default_rng(seed)
    ops = randomize_inactive(space, depths, ops, rng)
    idx = rng.permutation(len(depths))
    tr, te = idx[:n_train], idx[n_train: n_train + 1500]
    return (depths[tr], ops[tr]), (depths[te], ops[te])


@pytest.mark.slow
def test_additive_truth_gives_tau_close_to_one():
    space = bo.SearchSpace.mobilenet_v3()
    truth = synthetic_tables(space, "realistic", seed=1).accuracy
    train, test = space.sample(0, n=300), space.sample(1, n=300)
    rng = np.random.default_rng(0)
    y = truth.evaluate(train) + rng.normal(0, 0.01, len(train))
    table = fit_additive(space, train, y)
    assert isinstance(table, bo.Table) and table.unit == "%"
    score = evaluate_predictor(table, test, truth.evaluate(test))
    assert isinstance(score, PredictorScore)
    assert score.kendall_tau > 0.97 and score.spearman > 0.99 and score.pearson > 0.99
    assert score.n == 300 and score.mse < 0.01


def test_bilinear_recovers_a_bilinear_truth():
    space = _small_space()
    rng = np.random.default_rng(2)
    n, na = space.n_vars, space.n_alpha
    w = np.zeros((n, n))
    w[:na, na:] = rng.normal(size=(na, space.n_beta))
    truth = bo.QuadraticForm(space, 1.5, rng.normal(size=n), w)
    train, test = _split(space, 400)
    form = fit_bilinear(space, train, truth.evaluate_arrays(*train), ridge=1e-10,
                        inactive="as_given")
    assert isinstance(form, bo.QuadraticForm)
    # only alpha x beta products
    wc = form.W.tocoo()
    assert np.all(wc.row < na) and np.all(wc.col >= na)
    np.testing.assert_allclose(form.evaluate_arrays(*test), truth.evaluate_arrays(*test),
                               atol=1e-6)
    assert evaluate_predictor(form, test, truth.evaluate_arrays(*test)).kendall_tau > 0.9999


@pytest.mark.slow
def test_quadratic_recovers_a_quadratic_truth():
    space = _small_space()
    rng = np.random.default_rng(3)
    n = space.n_vars
    truth = bo.QuadraticForm(space, -2.0, rng.normal(size=n),
                             sp.triu(sp.csr_matrix(rng.normal(size=(n, n))), k=1))
    train, test = _split(space, 600, seed=1)
    form = fit_quadratic(space, train, truth.evaluate_arrays(*train), ridge=1e-10,
                         inactive="as_given")
    assert sp.tril(form.W).nnz == 0
    np.testing.assert_allclose(form.evaluate_arrays(*test), truth.evaluate_arrays(*test),
                               atol=1e-6)
    # the bilinear model cannot represent alpha x alpha products: clearly worse
    bil = fit_bilinear(space, train, truth.evaluate_arrays(*train), inactive="as_given")
    assert evaluate_predictor(bil, test, truth.evaluate_arrays(*test)).mse > 1e-2


@pytest.mark.slow
def test_inactive_randomisation_makes_inactive_ops_irrelevant():
    space = _small_space()
    truth = bo.Table(space, 1.0, np.linspace(0, 1, space.n_beta), np.linspace(-1, 2, space.n_alpha))
    depths, ops = space.enumerate()
    pick = np.random.default_rng(0).choice(len(depths), 400, replace=False)
    train = (depths[pick], ops[pick])  # canonical: op 0 in every inactive block
    y = truth.evaluate_arrays(*train)
    other = randomize_inactive(space, depths, ops, 7)
    rng_y = np.ptp(truth.evaluate_arrays(depths, ops))
    for fit in (fit_bilinear, fit_quadratic):
        form = fit(space, train, y, ridge=1e-8)
        moved = np.abs(form.evaluate_arrays(depths, other) - form.evaluate_arrays(depths, ops))
        assert moved.max() < 1e-3 * rng_y, fit.__name__
        naive = fit(space, train, y, ridge=1e-8, inactive="as_given")
        moved = np.abs(naive.evaluate_arrays(depths, other) - naive.evaluate_arrays(depths, ops))
        assert moved.max() > 1e-2 * rng_y  # without it, inactive ops carry spurious weight


def test_auto_ridge_handles_noise_and_solvers_accept_forms():
    space = _small_space()
    rng = np.random.default_rng(4)
    truth = bo.Table(space, 80.0, rng.uniform(0, 1, space.n_beta),
                     rng.uniform(0, 2, space.n_alpha))
    train, test = _split(space, 60, seed=2)
    y = truth.evaluate_arrays(*train) + rng.normal(0, 0.2, 60)
    y_test = truth.evaluate_arrays(*test)
    for kind in ("additive", "bilinear", "quadratic"):
        pred = fit_predictor(kind, space, train, y)
        assert evaluate_predictor(pred, test, y_test).kendall_tau > 0.6, kind
    cost = bo.Table(space, 1.0, op=np.ones(space.n_alpha), name="latency", unit="ms")
    form = fit_quadratic(space, train, y)
    result = bo.solve(bo.Problem(space, form, [cost <= 6]), backend="milp")
    assert result.status == "optimal"
    assert result.objective == pytest.approx(form(result.architecture))
    with pytest.raises(ValueError, match="fit_predictor: kind must be one of 'additive', "
                                         "'bilinear', 'quadratic', got 'mlp'"):
        fit_predictor("mlp", space, train, y)
    same = fit_predictor(PredictorKind.QUADRATIC, space, train, y)
    assert same.equals(fit_predictor("quadratic", space, train, y))
    with pytest.raises(ValueError, match="fit_bilinear: inactive must be one of 'random', "
                                         "'as_given', got 'zero'"):
        fit_bilinear(space, train, y, inactive="zero")


def test_evaluate_predictor_inputs_and_errors():
    space = _small_space()
    archs = space.sample(0, n=30)
    y = np.arange(30.0)
    s = evaluate_predictor(lambda a: -np.arange(len(a)), archs, y)
    assert s.kendall_tau == pytest.approx(-1.0) and s.pearson == pytest.approx(-1.0)
    const = evaluate_predictor(lambda a: np.zeros(len(a)), archs, y)
    assert np.isnan(const.kendall_tau) and const.mse == pytest.approx(np.mean(y**2))
    box = bo.BlackBox(space, lambda x: x[:, 0])
    assert evaluate_predictor(box, archs, y).n == 30
    with pytest.raises(ValueError, match="30 predictions but 29"):
        evaluate_predictor(box, archs, y[:-1])
    with pytest.raises(TypeError, match="callable"):
        evaluate_predictor(3.0, archs, y)
    with pytest.raises(ValueError, match="ridge"):
        fit_quadratic(space, archs, y, ridge="gcv")
    with pytest.raises(ValueError, match=r"accuracies\[2\]"):
        fit_bilinear(space, archs, np.where(np.arange(30) == 2, np.nan, y))
