"""An MLP accuracy predictor on the one-hot encoding, the regression baseline of the paper.

The module maps rows ``x = (alpha, beta)`` (float tensors, possibly fractional) to one score per
row in the units of the training accuracies, so it can be the objective of the ``fw`` (autograd
gradients on the relaxed encoding), ``evo`` and ``brute`` backends through
:class:`binas_opt.BlackBox`::

    model = fit_mlp_predictor(space, archs, accs, seed=0)
    result = bo.solve(bo.Problem(space, bo.BlackBox(space, model), [latency <= 30]),
                      backend="evo")
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from binas_opt.estimation.fitting import as_arrays
from binas_opt.estimation.predictors import encode_arrays, randomize_inactive
from binas_opt.model.blackbox import BlackBox
from binas_opt.model.space import SearchSpace

__all__ = ["MLPPredictor", "fit_mlp_predictor"]

log = logging.getLogger("binas_opt")


class MLPPredictor(nn.Module):
    """A small multilayer perceptron ``x -> score``.

    Parameters
    ----------
    n_inputs : int
        Length of ``x`` (``space.n_vars``).
    hidden : sequence of int
        Widths of the hidden layers (ReLU).
    y_mean, y_std : float
        Output scaling: the network is trained on standardised targets and its output is
        ``y_mean + y_std * net(x)``.
    """

    def __init__(self, n_inputs: int, hidden: Sequence[int] = (64, 64), y_mean: float = 0.0,
                 y_std: float = 1.0):
        super().__init__()
        if n_inputs < 1:
            raise ValueError(f"MLPPredictor: n_inputs must be >= 1, got {n_inputs}")
        widths = [int(n_inputs), *(int(h) for h in hidden)]
        if any(w < 1 for w in widths[1:]):
            raise ValueError(f"MLPPredictor: hidden widths must be >= 1, got {list(hidden)}")
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], 1))
        self.net = nn.Sequential(*layers)
        self.register_buffer("y_mean", torch.tensor(float(y_mean)))
        self.register_buffer("y_std", torch.tensor(float(y_std)))

    @property
    def n_inputs(self) -> int:
        return self.net[0].in_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 1:
            x = x.unsqueeze(0)
        if x.shape[-1] != self.n_inputs:
            raise ValueError(
                f"MLPPredictor: input has {x.shape[-1]} features, expected {self.n_inputs}"
            )
        return self.y_mean + self.y_std * self.net(x).squeeze(-1)


def fit_mlp_predictor(
    space: SearchSpace,
    architectures,
    accuracies,
    *,
    hidden: Sequence[int] = (64, 64),
    epochs: int = 300,
    batch_size: int = 32,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    seed: int = 0,
    inactive: str = "random",
    blackbox: bool = False,
    threads: int | None = 1,
) -> MLPPredictor | BlackBox:
    """Train an :class:`MLPPredictor` with Adam on (architecture, accuracy) pairs.

    Parameters
    ----------
    space : SearchSpace
    architectures : sequence of Architecture, or ``(depths, ops)`` arrays
    accuracies : array-like
    hidden : sequence of int
        Hidden layer widths.
    epochs, batch_size, lr, weight_decay
        Adam on the mean squared error of standardised targets (``weight_decay`` is an L2
        penalty).
    seed : int
        Seeds the initialisation, the batch order and the inactive-op redraw; the global torch
        random state is left untouched.  Same inputs and seed give the same module (on CPU).
    inactive : {"random", "as_given"}
        Redraw the op of inactive blocks at random in every epoch (the accuracy does not depend
        on it), so the MLP learns to ignore them; see :mod:`binas_opt.estimation.predictors`.
    blackbox : bool
        Return ``BlackBox(space, model, name="accuracy")`` instead of the module.
    threads : int or None
        Torch intra-op threads while training (restored afterwards).  A small MLP trains
        fastest on one thread (several times faster than on two busy cores); ``None`` leaves
        torch's setting alone.

    Returns
    -------
    MLPPredictor or BlackBox
        The module is in eval mode.
    """
    if not isinstance(space, SearchSpace):
        raise TypeError(f"fit_mlp_predictor: space must be a SearchSpace, got {type(space).__name__}")
    if inactive not in ("random", "as_given"):
        raise ValueError(f"fit_mlp_predictor: inactive must be 'random' or 'as_given', got "
                         f"{inactive!r}")
    for what, v in (("epochs", epochs), ("batch_size", batch_size)):
        if int(v) < 1:
            raise ValueError(f"fit_mlp_predictor: {what} must be >= 1, got {v}")
    if not lr > 0:
        raise ValueError(f"fit_mlp_predictor: lr must be > 0, got {lr}")
    depths, ops = as_arrays(space, architectures)
    y = np.asarray(accuracies, dtype=float).ravel()
    if y.size != len(depths):
        raise ValueError(f"fit_mlp_predictor: {len(depths)} architectures but {y.size} accuracies")
    if y.size < 2 or not np.all(np.isfinite(y)):
        raise ValueError("fit_mlp_predictor: need at least 2 finite accuracies")
    y_mean, y_std = float(y.mean()), float(y.std()) or 1.0
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(int(seed))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = MLPPredictor(space.n_vars, hidden, y_mean, y_std)
    target = torch.as_tensor((y - y_mean) / y_std, dtype=torch.float32)
    prev_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    try:
        loss = _train(model, space, depths, ops, target, inactive, int(epochs),
                      min(int(batch_size), len(y)), lr, weight_decay, rng, gen)
    finally:
        torch.set_num_threads(prev_threads)
    model.eval()
    log.debug("fit_mlp_predictor: final training loss %.4g", loss)
    if blackbox:
        return BlackBox(space, model, name="accuracy", unit="%")
    return model


def _train(model, space, depths, ops, target, inactive, epochs, bs, lr, weight_decay, rng, gen):
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    n = len(target)
    model.train()
    x_fixed = torch.as_tensor(encode_arrays(space, depths, ops), dtype=torch.float32)
    loss = torch.zeros(())
    for _ in range(epochs):
        if inactive == "random":
            x_all = torch.as_tensor(
                encode_arrays(space, depths, randomize_inactive(space, depths, ops, rng)),
                dtype=torch.float32)
        else:
            x_all = x_fixed
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, bs):
            idx = perm[i: i + bs]
            opt.zero_grad()
            loss = torch.mean((model.net(x_all[idx]).squeeze(-1) - target[idx]) ** 2)
            loss.backward()
            opt.step()
    return float(loss.detach())
