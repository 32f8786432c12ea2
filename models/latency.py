"""Latency lookup tables measured on the user's own device.

:func:`measure_latency` times every *distinct* block configuration of a MobileNetV3-style space
once (in the paper's space, blocks 2-4 of a stage share a shape, so 2 x 12 configurations per
stage) plus the fixed part (stem and prefix blocks; suffix blocks, pooling, head conv and
classifier) as the table's constant, with :func:`~binas_opt.models.timing.time_module`.  Every
entry keeps its median and dispersion, and the conditions (device name, torch version,
threads, batch, input size, date, unit ms) are recorded.

Results go to a JSON cache written atomically after every entry: an interrupted measurement
resumes where it stopped, and entries are keyed by the block's shape, so one cache serves every
space measured under the same conditions.

This module is the driver.  The parts: :mod:`~binas_opt.models.timing` (timer, statistics,
conditions), :mod:`~binas_opt.models.latency_plan` (what is timed),
:mod:`~binas_opt.models.latency_cache` (resuming) and
:mod:`~binas_opt.models.latency_validation` (whole networks against the table's prediction).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from binas_opt.io import atomic_write_text, to_json_dict
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table

from . import timing
from ._checks import positive_int
from ._progress import progress_bar
from .latency_cache import read_cache, write_cache
from .latency_plan import latency_plan, require_mbconv_space
from .timing import (
    DEFAULT_REPEATS,
    DEFAULT_WARMUP,
    Clock,
    LatencyEntry,
    MeasurementConditions,
    Statistic,
    measurement_conditions,
)

__all__ = ["LatencyMeasurement", "measure_latency", "measure_latency_table", "load_latency"]

logger = logging.getLogger("binas_opt")


@dataclass(frozen=True)
class LatencyMeasurement:
    """A measured latency :class:`~binas_opt.Table` with its per-entry statistics.

    Attributes
    ----------
    table : Table
        ``const`` = fixed part (pre + post), ``op`` = block medians, depth values 0; unit ms.
    conditions : MeasurementConditions
    entries : dict
        ``key -> LatencyEntry`` for every distinct module timed.
    op_keys : tuple of str
        The entry key of every alpha entry (paper layout).
    fixed_keys : tuple of str
        Keys of the fixed modules (their medians sum to ``table.const``).
    """

    table: Table
    conditions: MeasurementConditions
    entries: dict[str, LatencyEntry] = field(repr=False)
    op_keys: tuple[str, ...] = field(repr=False)
    fixed_keys: tuple[str, ...] = ()

    def op_dispersion(self) -> np.ndarray:
        """Interquartile range (ms) of every alpha entry, aligned with ``table.op_values``."""
        return np.array([self.entries[k].iqr for k in self.op_keys])

    def metadata(self) -> dict[str, Any]:
        """The conditions, the entry keys and every entry's statistics (JSON-ready)."""
        return {**self.conditions.to_dict(), "fixed_keys": list(self.fixed_keys),
                "op_keys": list(self.op_keys),
                "entries": {k: e.to_dict() for k, e in self.entries.items()}}

    def to_json_dict(self) -> dict[str, Any]:
        """binas-opt's Table document (readable by :func:`binas_opt.load`) plus ``metadata``."""
        return {**to_json_dict(self.table), "metadata": self.metadata()}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the table and its metadata as JSON, atomically."""
        return atomic_write_text(path, json.dumps(self.to_json_dict(), indent=1,
                                                  allow_nan=False))


def load_latency(path: str | os.PathLike) -> tuple[Table, dict[str, Any]]:
    """Read a file written by :meth:`LatencyMeasurement.save`: ``(table, metadata)``."""
    from binas_opt.io import from_json_dict

    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    table = from_json_dict(doc)
    if not isinstance(table, Table):
        raise ValueError(f"{str(path)!r} holds a {type(table).__name__}, not a latency Table")
    return table, dict(doc.get("metadata", {}))


def measure_latency(space: SearchSpace, device: str = "cpu", batch_size: int = 1,
                    input_size: int | None = None, threads: int | None = None,
                    warmup: int = DEFAULT_WARMUP, repeats: int = DEFAULT_REPEATS,
                    number: int = 1, clock: str | Clock = Clock.WALL,
                    statistic: str | Statistic = Statistic.MEDIAN,
                    rounds: int = 1, tune_malloc: bool = False,
                    cache: str | os.PathLike | None = None,
                    progress: bool = True, num_classes: int | None = None,
                    in_channels: int | None = None) -> LatencyMeasurement:
    """Measure a latency table of ``space`` on ``device``; see :func:`measure_latency_table`.

    ``rounds > 1`` spreads the ``repeats`` of every entry over that many round-robin passes
    over all entries, so a slow change of machine load affects every entry alike (all modules
    stay in memory meanwhile).  ``tune_malloc=True`` calls
    :func:`~binas_opt.models.timing.tune_malloc` first (see there: without it whole networks
    page-fault where isolated blocks do not).  ``clock`` is ``"wall"`` or ``"cpu"``
    (:class:`~binas_opt.models.timing.Clock`), ``statistic`` ``"median"`` or ``"min"``
    (:class:`~binas_opt.models.timing.Statistic`).  Returns a
    :class:`LatencyMeasurement` (the table plus statistics and conditions).
    """
    require_mbconv_space(space, "measure_latency")
    input_size = space.fixed.input_size if input_size is None else input_size
    dev, cond = measurement_conditions(device, batch_size, input_size, threads, warmup,
                                       repeats, number, clock, statistic, tune_malloc)
    rounds = positive_int(rounds, "rounds")
    if rounds > cond.repeats:
        raise ValueError(f"rounds ({rounds}) must not exceed repeats ({cond.repeats})")
    jobs, op_keys = latency_plan(space, cond.input_size, num_classes, in_channels)
    path = None if cache is None else Path(cache)
    times: dict[str, list[float]] = {}
    if path is not None:
        times, cond = read_cache(path, cond)
    todo = [j for j in jobs if len(times.get(j.key, ())) < cond.repeats]
    logger.info("measure_latency: %d entries, %d cached, %d to measure on %s (%d threads)",
                len(jobs), len(jobs) - len(todo), len(todo), cond.device_name, cond.threads)
    gen = torch.Generator().manual_seed(0)
    per_round = -(-cond.repeats // rounds)
    built: dict[str, tuple[nn.Module, torch.Tensor]] = {}
    kw = {"number": cond.number, "threads": cond.threads, "clock": cond.clock}
    remaining = sum(cond.repeats - len(times.get(j.key, ())) for j in todo)
    # the timer is looked up on its module at every call, so that tests can replace it
    with progress_bar(remaining, "latency table", progress, unit="run") as bar:
        while todo:
            for job in todo:
                if job.key not in built:
                    module = job.build().to(dev).eval()
                    x = torch.randn((cond.batch_size, *job.shape), generator=gen).to(dev)
                    timing.time_module(module, x, warmup=cond.warmup, repeats=0, **kw)
                    built[job.key] = (module, x)
                module, x = built[job.key]
                have = times.setdefault(job.key, [])
                k = min(per_round, cond.repeats - len(have))
                have.extend(float(v)
                            for v in timing.time_module(module, x, warmup=0, repeats=k, **kw))
                if len(have) >= cond.repeats:
                    del built[job.key]
                if path is not None:
                    write_cache(path, cond, times)
                bar.update(k)
            todo = [j for j in todo if len(times[j.key]) < cond.repeats]
    entries = {j.key: LatencyEntry.from_times(np.asarray(times[j.key][: cond.repeats]))
               for j in jobs}
    fixed_keys = (jobs[0].key, jobs[-1].key)
    const = sum(entries[k].value(cond.statistic) for k in fixed_keys)
    op = np.array([entries[k].value(cond.statistic) for k in op_keys])
    table = Table(space, const=const, op=op, name="latency", unit="ms")
    return LatencyMeasurement(table, cond, entries, tuple(op_keys), fixed_keys)


def measure_latency_table(space: SearchSpace, device: str = "cpu", batch_size: int = 1,
                          input_size: int | None = None, threads: int | None = None,
                          warmup: int = DEFAULT_WARMUP, repeats: int = DEFAULT_REPEATS,
                          **kwargs) -> Table:
    """Latency lookup :class:`~binas_opt.Table` (ms) of ``space`` measured on ``device``.

    Every distinct block configuration (input/output channels, spatial size, stride, op,
    activation) is timed once in isolation; the fixed part (stem and prefix blocks; suffix
    blocks, global pool, head conv and classifier) is timed as the constant.

    Parameters
    ----------
    space : SearchSpace
        MobileNetV3-style space with MBConv op labels.
    device : {"cpu", "cuda", "cuda:i"}
    batch_size : int
    input_size : int, optional
        Default ``space.fixed.input_size``.
    threads : int, optional
        Intra-op threads during timing (default: ``torch.get_num_threads()``); validate and
        deploy with the same setting.
    warmup, repeats : int
        Untimed runs, then timed repeats per entry (median and IQR are kept).
    **kwargs
        ``number`` (runs per repeat), ``cache`` (JSON path: resumable), ``progress`` (tqdm bar),
        ``num_classes``, ``in_channels``; see :func:`measure_latency`.
    """
    return measure_latency(space, device, batch_size, input_size, threads, warmup, repeats,
                           **kwargs).table
