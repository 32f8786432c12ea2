"""NAS-Bench-Macro (Su et al., CVPR 2021) as a binas-opt problem with ground truth.

The benchmark trains every one of the 3^8 = 6,561 encodings of an 8-layer macro space on
CIFAR-10 (choices per layer: 0 identity, 1 MBConv k3 e3, 2 MBConv k5 e6; stages of 2, 3, 3
layers).  The first layer of a stage has stride 2 and its "identity" is a 1x1 conv + BN
downsample, so it is always present; identity layers further inside a stage act as reduced depth.

Mapped to binas-opt: stage ``s`` has depths ``{1, ..., L_s}``; block 0 has ops
``("down", "k3_e3", "k5_e6")`` and the other blocks ``("k3_e3", "k5_e6")``.  An architecture's
canonical benchmark encoding puts the identity layers at the end of each stage.  FLOPs and params
are exactly additive per layer in the benchmark (checked on all 6,561 rows when loaded), so they
are exact Tables.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from binas_opt.model.architecture import Architecture
from binas_opt.model.space import SearchSpace, Stage
from binas_opt.model.table import Table

__all__ = ["NasBenchMacro", "nas_bench_macro", "nas_bench_macro_space"]

_STAGE_LAYERS = (2, 3, 3)
_OPS_FIRST = ("down", "k3_e3", "k5_e6")
_OPS_INNER = ("k3_e3", "k5_e6")


@dataclass(frozen=True, eq=False)
class NasBenchMacro:
    """The bundled benchmark as problem data.

    Attributes
    ----------
    space : SearchSpace
    flops, params : Table
        Exact resource tables (FLOPs and parameters of the benchmark's networks).
    accuracy : Table
        Additive accuracy estimator fitted by least squares on ``n_samples`` sampled
        architectures (their benchmark mean accuracy), in percent.
    samples : list of Architecture
        The architectures the estimator was fitted on.
    """

    space: SearchSpace
    flops: Table
    params: Table
    accuracy: Table
    samples: tuple[Architecture, ...]

    def true_accuracy(self, arch: Architecture) -> float:
        """Benchmark mean CIFAR-10 test accuracy (percent, 3 seeds) of ``arch``."""
        return float(true_accuracies(self.space, [arch])[0])

    def true_best(self, budgets: dict[str, float]) -> tuple[Architecture, float]:
        """The architecture with the best true accuracy within ``{"flops": .., "params": ..}``."""
        depths, ops = self.space.enumerate()
        ok = np.ones(len(depths), dtype=bool)
        for name, b in budgets.items():
            if name not in ("flops", "params"):
                raise ValueError(f"unknown budget {name!r}; NAS-Bench-Macro has 'flops' and 'params'")
            ok &= getattr(self, name).evaluate_arrays(depths, ops) <= b * (1 + 1e-12)
        if not ok.any():
            raise ValueError(f"no architecture meets {budgets}")
        acc = _truth_arrays(self.space, depths, ops)
        acc = np.where(ok, acc, -np.inf)
        i = int(np.argmax(acc))
        return self.space.architectures_from_arrays(depths[i: i + 1], ops[i: i + 1])[0], float(acc[i])


def nas_bench_macro_space() -> SearchSpace:
    """The benchmark's space in binas-opt form (3 stages of 2/3/3 layers, 3,969 architectures)."""
    stages = [
        Stage(range(1, n + 1), [_OPS_FIRST] + [_OPS_INNER] * (n - 1), name=f"stage{s}")
        for s, n in enumerate(_STAGE_LAYERS)
    ]
    return SearchSpace(stages, name="nas_bench_macro")


@cache
def _raw() -> dict[str, dict]:
    ref = resources.files("binas_opt.datasets") / "data" / "nas-bench-macro_cifar10.json.gz"
    with ref.open("rb") as f, gzip.open(f, "rt", encoding="utf-8") as g:
        return json.load(g)


@cache
def _arrays() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Encodings as an (6561, 8) int matrix (row = base-3 number) and their fields."""
    raw = _raw()
    codes = np.array(list(raw.keys()))
    enc = np.array([[int(c) for c in k] for k in codes], dtype=np.int64)
    order = np.argsort(enc @ (3 ** np.arange(7, -1, -1)))
    enc = enc[order]
    fields = {f: np.array([raw[k][f] for k in codes[order]], dtype=float)
              for f in ("mean_acc", "std", "params", "flops")}
    if len(enc) != 3 ** 8:
        raise ValueError(f"NAS-Bench-Macro file has {len(enc)} rows, expected 6561")
    return enc, fields


def encodings(space: SearchSpace, depths: np.ndarray, ops: np.ndarray) -> np.ndarray:
    """Canonical benchmark encodings (identities at the end of each stage), shape (n, 8)."""
    depths = np.asarray(depths).reshape(-1, space.n_stages)
    active = space.active_mask(depths)
    first = space.block_position == 0
    # block 0: op index is the benchmark code; inner blocks: op o -> code o + 1, inactive -> 0
    return np.where(first[None, :], ops, np.where(active, ops + 1, 0))


def _truth_arrays(space: SearchSpace, depths, ops, field: str = "mean_acc") -> np.ndarray:
    enc, fields = _arrays()
    row = encodings(space, depths, ops) @ (3 ** np.arange(7, -1, -1))
    return fields[field][row]


def true_accuracies(space: SearchSpace, archs) -> np.ndarray:
    """Benchmark mean accuracy of each architecture (vectorised)."""
    return _truth_arrays(space, *space.encoding.to_arrays(archs))


def _exact_table(space: SearchSpace, field: str, name: str, unit: str) -> Table:
    """Per-layer additive fit of FLOPs/params on all 6,561 encodings, checked to be exact."""
    enc, fields = _arrays()
    y = fields[field]
    x = np.zeros((len(enc), 24))
    x[np.arange(len(enc))[:, None], np.arange(8) * 3 + enc] = 1.0
    cols = [i for i in range(24) if i % 3 != 0]  # identity is the reference of every layer
    a = np.hstack([np.ones((len(y), 1)), x[:, cols]])
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    resid = np.abs(a @ coef - y).max()
    if resid > 1e-6 * y.max():
        raise ValueError(f"NAS-Bench-Macro {field} is not additive per layer (residual {resid})")
    per_layer = np.zeros((8, 3))
    per_layer[:, 1:] = np.rint(coef[1:]).reshape(8, 2)
    const = float(np.rint(coef[0]))
    op_rows = []
    layer = 0
    for n in _STAGE_LAYERS:
        blocks = [per_layer[layer]] + [per_layer[layer + b, 1:] for b in range(1, n)]
        op_rows.append(blocks)
        layer += n
    table = Table(space, const=const, op=op_rows, name=name, unit=unit)
    # the canonicalisation is exact only if inner layers of a stage cost the same: verify
    depths, ops = space.enumerate()
    rows = encodings(space, depths, ops) @ (3 ** np.arange(7, -1, -1))
    if not np.allclose(table.evaluate_arrays(depths, ops), y[rows], rtol=0, atol=0.5):
        raise ValueError(f"NAS-Bench-Macro {field}: table disagrees with the benchmark")
    return table


def _fit_accuracy(space: SearchSpace, samples: list[Architecture]) -> Table:
    """Least-squares additive accuracy Table on the sampled architectures."""
    from binas_opt.estimation.fitting import fit_table

    acc = true_accuracies(space, samples)
    return fit_table(space, samples, acc, name="accuracy", unit="%").table


def nas_bench_macro(n_samples: int = 100, seed: int = 0) -> NasBenchMacro:
    """The bundled NAS-Bench-Macro problem data.

    Parameters
    ----------
    n_samples : int
        Number of distinct architectures, sampled uniformly without replacement, whose
        benchmark accuracy is used to fit the additive accuracy Table.
    seed : int

    Examples
    --------
    >>> import binas_opt as bo
    >>> from binas_opt.datasets import nas_bench_macro
    >>> data = nas_bench_macro(n_samples=100, seed=0)
    >>> data.space.num_architectures
    3969
    >>> r = bo.solve(bo.Problem(data.space, data.accuracy, [data.flops <= 100e6]))
    >>> r.status.value
    'optimal'
    """
    space = nas_bench_macro_space()
    if not 1 <= n_samples <= space.num_architectures:
        raise ValueError(f"n_samples must be in [1, {space.num_architectures}], got {n_samples}")
    depths, ops = space.enumerate()
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(depths), size=n_samples, replace=False))
    samples = space.architectures_from_arrays(depths[pick], ops[pick])
    return NasBenchMacro(
        space=space,
        flops=_exact_table(space, "flops", "flops", "FLOPs"),
        params=_exact_table(space, "params", "params", "params"),
        accuracy=_fit_accuracy(space, samples),
        samples=tuple(samples),
    )
