"""Validation of a latency table: predicted against measured latency of whole networks.

:func:`validate_latency` builds random (or given) whole networks, times them under the table's
conditions and compares them with the table's prediction (Pearson r, MAPE, max error, fitted
slope and intercept; :func:`binas_opt.analysis.plotting.plot_latency_validation` draws it): the
answer to "why is predicted 72 ms but measured 265 ms?" (different threads, batch or device; a
table missing the head; or an additive model that does not hold on that device).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from binas_opt.model.architecture import Architecture
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table
from binas_opt.model.units import convert

from . import timing
from ._checks import positive_int
from ._progress import progress_bar
from .child import build_child
from .latency_plan import require_mbconv_space
from .timing import (
    DEFAULT_REPEATS,
    DEFAULT_WARMUP,
    Clock,
    LatencyEntry,
    MeasurementConditions,
    Statistic,
    measurement_conditions,
)

__all__ = ["LatencyValidation", "validate_latency"]


@dataclass(frozen=True)
class LatencyValidation:
    """Predicted vs measured latency of whole networks (ms)."""

    architectures: tuple[Architecture, ...] = field(repr=False)
    predicted: np.ndarray = field(repr=False)
    measured: np.ndarray = field(repr=False)
    measured_iqr: np.ndarray = field(repr=False)
    pearson_r: float
    mape: float
    max_abs_error: float
    max_rel_error: float
    slope: float
    intercept: float
    conditions: MeasurementConditions = field(repr=False)

    @property
    def errors(self) -> np.ndarray:
        """``predicted - measured`` per network (ms)."""
        return self.predicted - self.measured

    def summary(self) -> str:
        """One line: the networks, the conditions and every statistic."""
        return (f"{len(self.measured)} networks on {self.conditions.device_name} "
                f"({self.conditions.threads} threads, batch {self.conditions.batch_size}, "
                f"{self.conditions.input_size}px): Pearson r = {self.pearson_r:.4f}, "
                f"MAPE = {self.mape:.2f}%, max error = {self.max_abs_error:.3f} ms "
                f"({self.max_rel_error:.1f}%), measured ~ {self.slope:.3f} * predicted "
                f"{self.intercept:+.3f} ms")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every array as a list, the conditions as a dict."""
        return {
            "architectures": [a.to_dict() for a in self.architectures],
            "predicted": self.predicted.tolist(), "measured": self.measured.tolist(),
            "measured_iqr": self.measured_iqr.tolist(), "pearson_r": self.pearson_r,
            "mape": self.mape, "max_abs_error": self.max_abs_error,
            "max_rel_error": self.max_rel_error, "slope": self.slope,
            "intercept": self.intercept, "conditions": self.conditions.to_dict(),
        }

    def plot(self, ax=None, path: str | os.PathLike | None = None):
        """Scatter of measured vs predicted with the identity and the fitted line.

        Draws with :func:`binas_opt.analysis.plotting.plot_latency_validation` into ``ax`` (a
        new figure when None), saves the figure to ``path`` when given, and returns the axes.
        """
        from binas_opt.analysis.plotting import plot_latency_validation

        fig = plot_latency_validation(self, ax=ax)
        if path is not None:
            fig.savefig(path, dpi=120, bbox_inches="tight")
        return fig.axes[0] if ax is None else ax


def validate_latency(space: SearchSpace, table: Table, n: int = 20, seed: int = 0, *,
                     device: str = "cpu", batch_size: int = 1, input_size: int | None = None,
                     threads: int | None = None, warmup: int = DEFAULT_WARMUP,
                     repeats: int = DEFAULT_REPEATS, number: int = 1,
                     clock: str | Clock = Clock.WALL,
                     statistic: str | Statistic = Statistic.MEDIAN, tune_malloc: bool = False,
                     architectures: Sequence[Architecture] | None = None,
                     plot: str | os.PathLike | None = None,
                     progress: bool = True) -> LatencyValidation:
    """Measure ``n`` random whole networks and compare with ``table``'s prediction.

    Use the same ``device``, ``batch_size``, ``input_size``, ``threads``, ``clock`` and
    ``tune_malloc`` as the table was measured with.  ``architectures`` replaces the random
    sample; ``plot`` saves a scatter plot.

    Returns
    -------
    LatencyValidation
        Per-network predicted and measured medians, Pearson r, MAPE (%), max absolute (ms) and
        relative (%) error, and the least-squares line ``measured = slope * predicted +
        intercept``.
    """
    require_mbconv_space(space, "validate_latency")
    if not isinstance(table, Table):
        raise TypeError(f"validate_latency: table must be a Table, got {type(table).__name__}")
    if table.space != space:
        raise ValueError("validate_latency: the table was built for a different search space "
                         f"({table.space!r}) than the one given ({space!r})")
    scale = convert(1.0, table.unit, "ms", what=f"table {table.name!r}")
    if architectures is None:
        n = positive_int(n, "n", minimum=2)
        archs = space.sample(np.random.default_rng(seed), n)
    else:
        archs = [space.validate(a) for a in architectures]
        if len(archs) < 2:
            raise ValueError("validate_latency: give at least 2 architectures")
    input_size = space.fixed.input_size if input_size is None else input_size
    dev, cond = measurement_conditions(device, batch_size, input_size, threads, warmup,
                                       repeats, number, clock, statistic, tune_malloc)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn((cond.batch_size, space.fixed.in_channels, cond.input_size,
                     cond.input_size), generator=gen).to(dev)
    nets = [build_child(space, a).to(dev).eval() for a in archs]
    kw = {"number": cond.number, "threads": cond.threads, "clock": cond.clock}
    times = np.zeros((len(nets), cond.repeats))
    # round-robin over the networks, so a change of machine load hits all of them alike
    with progress_bar(cond.repeats * len(nets), "validate latency", progress, unit="run") as bar:
        for net in nets:
            timing.time_module(net, x, warmup=cond.warmup, repeats=1, **kw)
        for r in range(cond.repeats):
            for i, net in enumerate(nets):
                times[i, r] = timing.time_module(net, x, warmup=0, repeats=1, **kw)[0]
                bar.update(1)
    stats = [LatencyEntry.from_times(t) for t in times]
    meas = np.array([e.value(cond.statistic) for e in stats])
    iqr = [e.iqr for e in stats]
    pred = table.evaluate(archs) * scale
    rel = np.abs(pred - meas) / meas
    r = float(np.corrcoef(pred, meas)[0, 1]) if np.ptp(pred) > 0 and np.ptp(meas) > 0 else 0.0
    slope, intercept = np.polyfit(pred, meas, 1) if np.ptp(pred) > 0 else (np.nan, np.nan)
    out = LatencyValidation(
        tuple(archs), pred, meas, np.array(iqr), r, float(100 * rel.mean()),
        float(np.abs(pred - meas).max()), float(100 * rel.max()), float(slope),
        float(intercept), cond)
    if plot is not None:
        out.plot(path=plot)
    return out
