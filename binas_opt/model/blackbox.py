"""Black-box objectives: any function of the encoding, e.g. a torch MLP predictor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from binas_opt.model.architecture import Architecture
from binas_opt.model.space import SearchSpace

__all__ = ["BlackBox"]


def _is_torch_module(obj: Any) -> bool:
    return callable(obj) and hasattr(obj, "parameters") and hasattr(obj, "forward")


@dataclass(frozen=True, eq=False)
class BlackBox:
    """An objective known only through evaluations of ``fn`` on encoded architectures.

    Parameters
    ----------
    space : SearchSpace
    fn : callable or torch.nn.Module
        Maps a float array of shape ``(n, n_alpha + n_beta)`` (rows ``x = (alpha, beta)``) to
        ``n`` scores.  A torch module gets a float32 tensor and is differentiable, so the
        Frank-Wolfe backend can use autograd on the relaxed encoding.
    name, unit : str, optional
    """

    space: SearchSpace
    fn: Callable[[Any], Any]
    name: str | None = "objective"
    unit: str | None = None

    @property
    def is_torch(self) -> bool:
        return _is_torch_module(self.fn)

    @property
    def differentiable(self) -> bool:
        return self.is_torch

    def evaluate_x(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=float))
        if self.is_torch:
            import torch

            p = next(iter(self.fn.parameters()), None)
            dtype = p.dtype if p is not None else torch.float32
            device = p.device if p is not None else "cpu"
            with torch.no_grad():
                out = self.fn(torch.as_tensor(x, dtype=dtype, device=device))
            y = out.detach().cpu().double().numpy()
        else:
            y = np.asarray(self.fn(x), dtype=float)
        y = y.reshape(-1)
        if y.size != x.shape[0]:
            raise ValueError(
                f"objective {self.name!r} returned {y.size} values for {x.shape[0]} inputs"
            )
        if not np.all(np.isfinite(y)):
            raise ValueError(f"objective {self.name!r} returned a non-finite value")
        return y

    def gradient_x(self, x: np.ndarray) -> np.ndarray:
        """Gradient at one point by autograd (torch modules only)."""
        if not self.is_torch:
            raise TypeError(f"objective {self.name!r} is not differentiable (not a torch module)")
        import torch

        p = next(iter(self.fn.parameters()), None)
        dtype = p.dtype if p is not None else torch.float32
        t = torch.as_tensor(np.asarray(x, dtype=float).reshape(1, -1), dtype=dtype).requires_grad_(True)
        self.fn(t).sum().backward()
        return t.grad.detach().double().numpy().ravel()

    def __call__(self, arch: Architecture) -> float:
        self.space.validate(arch)
        return float(self.evaluate([arch])[0])

    def evaluate(self, archs: Sequence[Architecture]) -> np.ndarray:
        return self.evaluate_x(self.space.encode_x(archs))

    def evaluate_arrays(self, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
        return self.evaluate_x(self.space.encoding.one_hot(depths, ops))
