"""Accuracy predictors fitted on sampled (architecture, accuracy) pairs, and their evaluation.

Three closed-form predictors (numpy only), all ridge regressions on features of the one-hot
encoding ``x = (alpha, beta)``:

* **additive** (:func:`fit_additive`): a :class:`~binas_opt.Table`, i.e. a constant plus one value
  per depth option and one per op of an active block (the structure of BINAS's estimator, but
  fitted instead of measured).  Uses :func:`~binas_opt.fit_table`.
* **bilinear** (:func:`fit_bilinear`): the paper's fitted bilinear predictor
  :math:`c + p^T x + \\alpha^T Q \\beta` with every ``alpha x beta`` product a feature,
  returned as a :class:`~binas_opt.QuadraticForm`.
* **quadratic** (:func:`fit_quadratic`): :math:`c + p^T x + \\sum_{i<j} W_{ij} x_i x_j` with all
  pairwise products of ``x`` (the paper's fitted quadratic predictor).

The bilinear and quadratic fits are solved in their dual (kernel) form, which is exact and cheap
when there are fewer samples than features: with binary rows and ``s = x \\cdot x'`` the feature
inner products are ``s + (alpha.alpha')(beta.beta')`` (bilinear) and ``s + (s^2 - s)/2``
(quadratic), and the primal weights are recovered as ``p = X^T a`` and ``W = X^T diag(a) X``
(upper triangle).  ``ridge="auto"`` chooses the penalty by exact leave-one-out cross-validation
over a log grid.

**Inactive blocks.**  ``alpha`` covers inactive blocks too, and the bilinear and quadratic forms
see their op indices, which do not change the network.  Samples usually carry op 0 there
(canonical architectures), so a fitted form would learn a spurious weight for "op 0 of an
inactive block", which a solver then exploits.  By default (``inactive="random"``) the fits redraw
the op of every inactive block uniformly (seeded): the accuracy is unchanged, and the form learns
that those choices do not matter.

:func:`evaluate_predictor` scores any predictor on held-out pairs: Kendall tau, Spearman,
Pearson and mean squared error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.stats

from binas_opt.estimation.fitting import Gauge, as_arrays, design_matrix, fit_table
from binas_opt.model.choices import Choice
from binas_opt.model.quadratic import QuadraticForm
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table

__all__ = [
    "fit_additive", "fit_bilinear", "fit_quadratic", "fit_predictor", "evaluate_predictor",
    "PredictorScore", "randomize_inactive", "encode_arrays", "PredictorKind", "InactiveOps",
]

log = logging.getLogger("binas_opt")


class PredictorKind(Choice):
    """The fitted predictors of :func:`fit_predictor`."""

    ADDITIVE = "additive"  #: :func:`fit_additive`
    BILINEAR = "bilinear"  #: :func:`fit_bilinear`
    QUADRATIC = "quadratic"  #: :func:`fit_quadratic`


class InactiveOps(Choice):
    """What the bilinear and quadratic fits see as the ops of inactive blocks (module docstring)."""

    RANDOM = "random"  #: redrawn uniformly (seeded)
    AS_GIVEN = "as_given"  #: the op indices of the samples


_RIDGE_GRID = np.logspace(-6, 3, 28)


# ---------------------------------------------------------------------------------- helpers
def encode_arrays(space: SearchSpace, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
    """Dense 0/1 rows ``x = (alpha, beta)`` of a ``(depths, ops)`` pair (vectorised)."""
    return space.encoding.one_hot(depths, ops)


def randomize_inactive(space: SearchSpace, depths: np.ndarray, ops: np.ndarray,
                       rng: np.random.Generator | int | None = 0) -> np.ndarray:
    """A copy of ``ops`` with the op of every inactive block drawn uniformly at random."""
    return space.encoding.randomize_inactive(depths, ops, rng)


def _targets(y, n: int, where: str) -> np.ndarray:
    y = np.asarray(y, dtype=float).ravel()
    if y.size != n:
        raise ValueError(f"{where}: {n} architectures but {y.size} accuracies")
    if n < 2:
        raise ValueError(f"{where}: need at least 2 samples, got {n}")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise ValueError(f"{where}: accuracies[{int(bad[0])}] is {y[bad[0]]} (must be finite)")
    return y


def _check_ridge(ridge, where: str) -> float | None:
    if isinstance(ridge, str):
        if ridge != "auto":
            raise ValueError(f"{where}: ridge must be a number >= 0 or 'auto', got {ridge!r}")
        return None
    r = float(ridge)
    if not np.isfinite(r) or r < 0:
        raise ValueError(f"{where}: ridge must be a number >= 0 or 'auto', got {ridge!r}")
    return r


@dataclass(frozen=True)
class _DualFit:
    coef: np.ndarray  # centred dual coefficients (sum to 0)
    const: float
    ridge: float
    loo_mse: float


def _kernel_ridge(y: np.ndarray, ridge: float | None, *, kernel=None,
                  features: Callable[[], np.ndarray] | None = None,
                  n_features: int | None = None) -> _DualFit:
    """Ridge regression with an unpenalised intercept, in dual form.

    Minimises ``||y - c - Phi w||^2 + ridge ||w||^2`` with ``w = Phi^T a``.  Works from the
    kernel ``K = Phi Phi^T`` (eigendecomposition of the centred kernel, ``O(n^3)``) or, when
    there are fewer features than samples, from the explicit features (SVD of the centred
    feature matrix, ``O(n p^2)``); both give the same ``a``.  ``ridge=None`` picks the penalty
    (relative to the mean centred kernel diagonal) that minimises the exact leave-one-out error.
    """
    n = len(y)
    ybar = float(y.mean())
    yc = y - ybar
    if features is not None and n_features is not None and n_features < n:
        phi = features()
        phic = phi - phi.mean(axis=0)
        u, sv, _ = np.linalg.svd(phic, full_matrices=False)
        evals, evecs = sv**2, u

        def k_times(a):
            return phi @ (phi.T @ a)
    else:
        if kernel is None:
            phi = features()
            kernel = phi @ phi.T
        k = kernel
        kc = k - k.mean(axis=0)[None, :] - k.mean(axis=1)[:, None] + k.mean()
        evals, evecs = np.linalg.eigh((kc + kc.T) / 2)

        def k_times(a):
            return k @ a
    evals = np.clip(evals, 0.0, None)
    scale = max(float(evals.sum()) / n, 1e-300)
    uty = evecs.T @ yc
    tol = max(n, evals.size) * np.finfo(float).eps * max(float(evals.max(initial=0.0)), 1e-300)
    keep = evals > tol

    def solve(lam: float):
        f = np.zeros(evals.size)
        f[keep] = 1.0 / (evals[keep] + lam)
        a = evecs @ (f * uty)
        shrink = np.where(keep, evals * f, 0.0)
        fitted = evecs @ (shrink * uty)
        lev = np.einsum("ij,j,ij->i", evecs, shrink, evecs) + 1.0 / n
        with np.errstate(divide="ignore", invalid="ignore"):
            loo = (yc - fitted) / (1.0 - lev)
        loo_mse = float(np.mean(loo**2)) if np.all(lev < 1 - 1e-10) else np.inf
        return a, loo_mse

    if ridge is None:
        best = None
        for lam in _RIDGE_GRID * scale:
            a, loo = solve(lam)
            if best is None or loo < best[2]:
                best = (a, lam, loo)
        a, lam, loo = best
    else:
        lam = ridge
        a, loo = solve(lam)
    a = a - a.mean()  # a lies in the centred space already; remove rounding
    const = ybar - float(np.mean(k_times(a)))
    return _DualFit(a, const, float(lam), loo)


def _prepare(space, architectures, accuracies, inactive, seed, where):
    if not isinstance(space, SearchSpace):
        raise TypeError(f"{where}: space must be a SearchSpace, got {type(space).__name__}")
    inactive = InactiveOps.parse(inactive, f"{where}: inactive")
    depths, ops = as_arrays(space, architectures)
    y = _targets(accuracies, len(depths), where)
    if inactive is InactiveOps.RANDOM:
        ops = randomize_inactive(space, depths, ops, seed)
    return depths, ops, y


# ---------------------------------------------------------------------------------- fits
def fit_additive(space: SearchSpace, architectures, accuracies, ridge: float | str = "auto", *,
                 name: str = "accuracy", unit: str | None = "%",
                 gauge: Gauge | str = Gauge.MEAN) -> Table:
    """Additive predictor: a Table fitted by (ridge) least squares.

    Parameters
    ----------
    space : SearchSpace
    architectures : sequence of Architecture, or ``(depths, ops)`` arrays
    accuracies : array-like
    ridge : float or "auto"
        Penalty on depth and op entries; ``"auto"`` picks it by leave-one-out cross-validation.
    name, unit : str
    gauge : Gauge or {"mean", "min"}
        Representation of the table (see :mod:`binas_opt.estimation.fitting`); ``"mean"`` makes every
        op's value its contribution relative to the block's average.

    Returns
    -------
    Table
    """
    where = "fit_additive"
    r = _check_ridge(ridge, where)
    depths, ops = as_arrays(space, architectures)
    y = _targets(accuracies, len(depths), where)
    if r is None:
        d = design_matrix(space, depths, ops)
        r = _kernel_ridge(y, None, features=d.toarray, n_features=d.shape[1]).ridge
    return fit_table(space, (depths, ops), y, ridge=r, gauge=gauge, name=name, unit=unit).table


def fit_bilinear(space: SearchSpace, architectures, accuracies, ridge: float | str = "auto", *,
                 same_stage: bool = False, inactive: InactiveOps | str = InactiveOps.RANDOM,
                 seed: int = 0,
                 name: str = "accuracy", unit: str | None = "%") -> QuadraticForm:
    """The paper's fitted bilinear predictor ``c + p.x + alpha^T Q beta`` (closed form).

    Parameters
    ----------
    same_stage : bool
        Only products of an op with a depth option of its own stage (a Table's structure plus
        a linear term on inactive blocks); default all ``alpha x beta`` products, as the paper.
    inactive : InactiveOps or {"random", "as_given"}
        See the module docstring.
    seed : int
        Seed of the inactive-op redraw.

    Returns
    -------
    QuadraticForm
        ``W`` non-zero only in the ``alpha x beta`` block.
    """
    where = "fit_bilinear"
    r = _check_ridge(ridge, where)
    depths, ops, y = _prepare(space, architectures, accuracies, inactive, seed, where)
    x = encode_arrays(space, depths, ops)
    na = space.n_alpha
    a_, b_ = x[:, :na], x[:, na:]
    enc = space.encoding
    pair_mask = (enc.alpha_stage[:, None] == enc.beta_stage[None, :]
                 if same_stage else np.ones((na, space.n_beta), dtype=bool))

    def features():
        prod = (a_[:, :, None] * b_[:, None, :])[:, pair_mask]
        return np.hstack([x, prod])

    fit = _kernel_ridge(y, r, features=features, n_features=x.shape[1] + int(pair_mask.sum()))
    log.debug("fit_bilinear: ridge %.3g, LOO MSE %.4g", fit.ridge, fit.loo_mse)
    q = a_.T @ (fit.coef[:, None] * b_)
    if same_stage:
        q = q * pair_mask
    w = sp.bmat([[None, sp.csr_matrix(q)], [sp.csr_matrix((space.n_beta, na)), None]]).tocsr()
    return QuadraticForm(space, fit.const, x.T @ fit.coef, w, name=name, unit=unit)


def fit_quadratic(space: SearchSpace, architectures, accuracies, ridge: float | str = "auto", *,
                  inactive: InactiveOps | str = InactiveOps.RANDOM, seed: int = 0,
                  name: str = "accuracy",
                  unit: str | None = "%") -> QuadraticForm:
    """The paper's fitted quadratic predictor ``c + p.x + sum_{i<j} W_ij x_i x_j`` (closed form).

    Every pairwise product of ``x = (alpha, beta)`` is a feature (products of two choices of the
    same block or stage are always 0 and get weight 0).  See :func:`fit_bilinear` for the
    parameters.

    Returns
    -------
    QuadraticForm
        ``W`` strictly upper triangular.
    """
    where = "fit_quadratic"
    r = _check_ridge(ridge, where)
    depths, ops, y = _prepare(space, architectures, accuracies, inactive, seed, where)
    x = encode_arrays(space, depths, ops)
    iu = np.triu_indices(space.n_vars, 1)

    def features():
        return np.hstack([x, x[:, iu[0]] * x[:, iu[1]]])

    fit = _kernel_ridge(y, r, features=features, n_features=space.n_vars + iu[0].size)
    log.debug("fit_quadratic: ridge %.3g, LOO MSE %.4g", fit.ridge, fit.loo_mse)
    w = sp.triu(sp.csr_matrix(x.T @ (fit.coef[:, None] * x)), k=1)
    return QuadraticForm(space, fit.const, x.T @ fit.coef, w, name=name, unit=unit)


def fit_predictor(kind: PredictorKind | str, space: SearchSpace, architectures, accuracies,
                  **kwargs):
    """Dispatch to :func:`fit_additive`, :func:`fit_bilinear` or :func:`fit_quadratic`
    (``kind``: a :class:`PredictorKind`)."""
    fns = {PredictorKind.ADDITIVE: fit_additive, PredictorKind.BILINEAR: fit_bilinear,
           PredictorKind.QUADRATIC: fit_quadratic}
    return fns[PredictorKind.parse(kind, "fit_predictor: kind")](space, architectures, accuracies,
                                                                 **kwargs)


# ---------------------------------------------------------------------------------- scores
@dataclass(frozen=True)
class PredictorScore:
    """Ranking and regression quality of a predictor on held-out pairs."""

    kendall_tau: float
    spearman: float
    pearson: float
    mse: float
    n: int

    def __str__(self) -> str:
        return (f"tau={self.kendall_tau:.3f} spearman={self.spearman:.3f} "
                f"pearson={self.pearson:.3f} mse={self.mse:.4g} (n={self.n})")


def _predict(pred, architectures) -> np.ndarray:
    is_pair = (isinstance(architectures, tuple) and len(architectures) == 2
               and isinstance(architectures[0], np.ndarray))
    if hasattr(pred, "evaluate_arrays") and is_pair:
        return np.asarray(pred.evaluate_arrays(*architectures), dtype=float)
    if is_pair and hasattr(pred, "space"):
        architectures = pred.space.architectures_from_arrays(*architectures)
    if hasattr(pred, "evaluate"):
        return np.asarray(pred.evaluate(list(architectures)), dtype=float)
    if hasattr(pred, "predict"):
        return np.asarray(pred.predict(architectures), dtype=float)
    if hasattr(pred, "parameters") and hasattr(pred, "forward"):
        raise TypeError("evaluate_predictor: wrap a torch module as binas_opt.BlackBox(space, "
                        "module) so that architectures can be encoded")
    if callable(pred):
        return np.asarray(pred(architectures), dtype=float)
    raise TypeError(
        f"evaluate_predictor: pred must have evaluate(archs) (Table, QuadraticForm, BlackBox) or "
        f"be callable, got {type(pred).__name__}"
    )


def evaluate_predictor(pred: Table | QuadraticForm | Callable, architectures,
                       accuracies) -> PredictorScore:
    """Kendall tau, Spearman, Pearson and MSE of ``pred`` against true accuracies.

    Parameters
    ----------
    pred : Table, QuadraticForm, BlackBox, TableFit or callable
        Anything with ``evaluate(archs)``, or a callable mapping the architectures to scores.
    architectures : sequence of Architecture, or ``(depths, ops)`` arrays
    accuracies : array-like

    Returns
    -------
    PredictorScore
        Correlations are NaN when the predictions (or accuracies) are constant.
    """
    y = np.asarray(accuracies, dtype=float).ravel()
    p = _predict(pred, architectures).ravel()
    if p.size != y.size:
        raise ValueError(f"evaluate_predictor: {p.size} predictions but {y.size} accuracies")
    if y.size < 2:
        raise ValueError("evaluate_predictor: need at least 2 architectures")
    if not np.all(np.isfinite(p)):
        raise ValueError("evaluate_predictor: the predictor returned a non-finite value")
    const = np.ptp(p) == 0 or np.ptp(y) == 0
    nan = float("nan")
    return PredictorScore(
        kendall_tau=nan if const else float(scipy.stats.kendalltau(p, y).statistic),
        spearman=nan if const else float(scipy.stats.spearmanr(p, y).statistic),
        pearson=nan if const else float(scipy.stats.pearsonr(p, y).statistic),
        mse=float(np.mean((p - y) ** 2)),
        n=int(y.size),
    )
