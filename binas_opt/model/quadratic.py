"""General quadratic objectives over ``x = (alpha, beta)``: fitted bilinear / quadratic predictors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from binas_opt.io.serialization import reject_unknown_keys, require
from binas_opt.model.architecture import Architecture
from binas_opt.model.space import SearchSpace

__all__ = ["QuadraticForm"]


@dataclass(frozen=True, eq=False, init=False)
class QuadraticForm:
    """:math:`f(x) = c + p^T x + x^T W x` over the one-hot ``x = (alpha, beta)``.

    ``alpha`` covers inactive blocks too, so their op indices are decisions for such a form (the
    paper's fitted predictors see them).

    Parameters
    ----------
    space : SearchSpace
    const : float
    p : array, length ``n_alpha + n_beta``
    W : square matrix, dense or scipy.sparse
    name, unit : str, optional
    """

    space: SearchSpace
    const: float
    p: np.ndarray
    W: sp.csr_matrix
    name: str | None
    unit: str | None

    def __init__(self, space, const, p, W, name=None, unit=None):
        if not isinstance(space, SearchSpace):
            raise TypeError(f"QuadraticForm: space must be a SearchSpace, got {type(space).__name__}")
        n = space.n_vars
        p = np.asarray(p, dtype=float).ravel()
        if p.size != n:
            raise ValueError(f"QuadraticForm: p has length {p.size}, expected n_alpha + n_beta = {n}")
        w = sp.csr_matrix(W, dtype=float) if sp.issparse(W) else sp.csr_matrix(np.asarray(W, dtype=float))
        if w.shape != (n, n):
            raise ValueError(f"QuadraticForm: W has shape {w.shape}, expected ({n}, {n})")
        w.sum_duplicates()
        w.eliminate_zeros()
        const = float(const)
        for what, vals in (("const", np.array([const])), ("p", p), ("W", w.data)):
            bad = np.flatnonzero(~np.isfinite(vals))
            if bad.size:
                raise ValueError(f"QuadraticForm: {what} has a non-finite entry at {int(bad[0])}")
        p.setflags(write=False)
        object.__setattr__(self, "space", space)
        object.__setattr__(self, "const", const)
        object.__setattr__(self, "p", p)
        object.__setattr__(self, "W", w)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "unit", unit)

    def upper_triangular(self) -> sp.coo_matrix:
        """``W + W^T`` folded onto its upper triangle, with the diagonal kept once.

        For binary ``x`` the form equals ``c + (p + diag) . x + sum_{i<j} U_ij x_i x_j``.
        """
        w = self.W.tocoo()
        sym = sp.coo_matrix(
            (np.concatenate([w.data, w.data]),
             (np.concatenate([w.row, w.col]), np.concatenate([w.col, w.row]))),
            shape=w.shape,
        ).tocsr()
        return sp.triu(sym, k=1).tocoo()

    def linear_part(self) -> np.ndarray:
        """``p + diag(W)`` (for binary ``x``, ``x_i^2 = x_i``)."""
        return self.p + self.W.diagonal()

    def __call__(self, arch: Architecture) -> float:
        self.space.validate(arch)
        return float(self.evaluate([arch])[0])

    def evaluate(self, archs: Sequence[Architecture]) -> np.ndarray:
        return self.evaluate_arrays(*self.space.encoding.to_arrays(archs))

    def evaluate_arrays(self, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
        enc = self.space.encoding
        x = enc.one_hot(depths, ops, sparse=True)
        quad = np.asarray((x @ self.W).multiply(x).sum(axis=1)).ravel()
        return self.const + self.p[enc.x_indices(depths, ops)].sum(axis=1) + quad

    def evaluate_x(self, x: np.ndarray) -> np.ndarray:
        """The form on (possibly fractional) rows of ``x``."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        return self.const + x @ self.p + np.einsum("ij,ij->i", np.asarray((self.W @ x.T).T), x)

    def gradient_x(self, x: np.ndarray) -> np.ndarray:
        """Gradient ``p + (W + W^T) x`` at one point ``x``."""
        x = np.asarray(x, dtype=float).ravel()
        return self.p + self.W @ x + self.W.T @ x

    def to_dict(self) -> dict[str, Any]:
        w = self.W.tocoo()
        return {
            "const": self.const, "p": self.p.tolist(),
            "W": {"row": w.row.tolist(), "col": w.col.tolist(), "data": w.data.tolist()},
            "name": self.name, "unit": self.unit,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], space: SearchSpace) -> QuadraticForm:
        where = "QuadraticForm.from_dict"
        reject_unknown_keys(d, ("const", "p", "W", "name", "unit"), where)
        n = space.n_vars
        wd = require(d, "W", where, "an object with lists 'row', 'col', 'data'")
        reject_unknown_keys(wd, ("row", "col", "data"), f"{where}: W")
        w = sp.coo_matrix((require(wd, "data", f"{where}: W", "a list of numbers"),
                           (require(wd, "row", f"{where}: W", "a list of ints"),
                            require(wd, "col", f"{where}: W", "a list of ints"))), shape=(n, n))
        return cls(space, require(d, "const", where, "a number"),
                   require(d, "p", where, "a list of numbers"), w,
                   name=d.get("name"), unit=d.get("unit"))

    def equals(self, other) -> bool:
        return (
            isinstance(other, QuadraticForm) and other.space == self.space
            and other.const == self.const and np.array_equal(other.p, self.p)
            and (other.W != self.W).nnz == 0 and other.name == self.name
        )

    def __repr__(self) -> str:
        return f"QuadraticForm(name={self.name!r}, nnz(W)={self.W.nnz}, n={self.space.n_vars})"
