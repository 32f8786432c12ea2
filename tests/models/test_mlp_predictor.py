"""The MLP baseline predictor: training, determinism, use as a black-box objective."""

import numpy as np
import pytest

import binas_opt as bo
from binas_opt.estimation.predictors import evaluate_predictor

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from binas_opt.models.mlp_predictor import MLPPredictor, fit_mlp_predictor  # noqa: E402


def _data():
    space = bo.SearchSpace([bo.Stage((1, 2, 3), ["a", "b", "c"]), bo.Stage((2, 3), ["x", "y"]),
                            bo.Stage((1, 2), ["u", "v", "w"])])
    rng = np.random.default_rng(0)
    truth = bo.Table(space, 90.0, rng.uniform(0, 1, space.n_beta),
                     rng.uniform(0, 2, space.n_alpha), name="accuracy", unit="%")
    return space, truth


@pytest.mark.slow
def test_mlp_learns_an_additive_truth_and_is_seeded():
    space, truth = _data()
    train, test = space.sample(1, n=200), space.sample(2, n=300)
    model = fit_mlp_predictor(space, train, truth.evaluate(train), epochs=80, seed=3)
    assert isinstance(model, MLPPredictor) and not model.training
    box = bo.BlackBox(space, model)
    score = evaluate_predictor(box, test, truth.evaluate(test))
    assert score.kendall_tau > 0.8
    # output in accuracy units, one value per row, fractional inputs accepted
    out = model(torch.full((4, space.n_vars), 0.3))
    assert out.shape == (4,)
    again = fit_mlp_predictor(space, train, truth.evaluate(train), epochs=80, seed=3)
    other = fit_mlp_predictor(space, train, truth.evaluate(train), epochs=80, seed=4)
    x = torch.as_tensor(space.encode_x(test), dtype=torch.float32)
    with torch.no_grad():
        assert torch.equal(model(x), again(x))
        assert not torch.equal(model(x), other(x))


@pytest.mark.slow
def test_mlp_as_blackbox_objective():
    space, truth = _data()
    train = space.sample(5, n=120)
    box = fit_mlp_predictor(space, train, truth.evaluate(train), epochs=60, seed=0,
                            blackbox=True, hidden=(16,))
    assert isinstance(box, bo.BlackBox) and box.differentiable
    grad = box.gradient_x(np.full(space.n_vars, 0.5))
    assert grad.shape == (space.n_vars,) and np.all(np.isfinite(grad))
    cost = bo.Table(space, 0.0, op=np.ones(space.n_alpha), name="latency", unit="ms")
    problem = bo.Problem(space, box, [cost <= 5])
    exact = bo.solve(problem, backend="brute")
    assert exact.status == "optimal" and cost(exact.architecture) <= 5
    assert exact.objective == pytest.approx(box(exact.architecture), rel=1e-6)
    for backend in ("fw", "evo"):
        if backend not in bo.list_backends():
            continue
        r = bo.solve(problem, backend=backend, seed=0, time_limit=2.0)
        assert r.status in ("optimal", "feasible") and r.architecture is not None
        assert cost(r.architecture) <= 5
        assert r.objective <= exact.objective + 1e-6


def test_mlp_validation():
    space, truth = _data()
    archs = space.sample(0, n=10)
    with pytest.raises(ValueError, match="epochs"):
        fit_mlp_predictor(space, archs, truth.evaluate(archs), epochs=0)
    with pytest.raises(ValueError, match="10 architectures but 9"):
        fit_mlp_predictor(space, archs, truth.evaluate(archs)[:-1])
    with pytest.raises(ValueError, match="features"):
        MLPPredictor(5)(torch.zeros(2, 6))
