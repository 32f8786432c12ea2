"""Latency lookup tables measured on the user's own device, and their validation.

:func:`measure_latency` times every *distinct* block configuration of a MobileNetV3-style space
once (in the paper's space, blocks 2-4 of a stage share a shape, so 2 x 12 configurations per
stage) plus the fixed part (stem and prefix blocks; suffix blocks, pooling, head conv and
classifier) as the table's constant, with :class:`torch.utils.benchmark.Timer` (which
synchronises the accelerator on CUDA).  Every entry keeps its median and dispersion, and the
conditions (device name, torch version, threads, batch, input size, date, unit ms) are recorded.

Results go to a JSON cache written atomically after every entry: an interrupted measurement
resumes where it stopped, and entries are keyed by the block's shape, so one cache serves every
space measured under the same conditions.

:func:`validate_latency` measures whole random networks and compares them with the table's
prediction (Pearson r, MAPE, max error, fitted slope/intercept, optional plot): the answer to
"why is predicted 72 ms but measured 265 ms?" (different threads, batch or device; a table
missing the head; or an additive model that does not hold on that device).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from binas_opt.io import atomic_write_text, to_json_dict
from binas_opt.mbconv.arch_def import BlockDef, MBConvOp
from binas_opt.mbconv.counts import conv_out_size
from binas_opt.model.architecture import Architecture
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table
from binas_opt.model.units import convert

from .blocks import ConvBnAct, Head, InvertedResidual, chain_blocks
from .child import build_child

__all__ = [
    "MeasurementConditions",
    "LatencyEntry",
    "LatencyMeasurement",
    "LatencyValidation",
    "measure_latency",
    "measure_latency_table",
    "validate_latency",
    "time_module",
    "tune_malloc",
    "load_latency",
    "CACHE_FORMAT",
]

logger = logging.getLogger("binas_opt")

CACHE_FORMAT = "binas-opt-latency-cache"
_CACHE_VERSION = 2
DEFAULT_WARMUP = 10
DEFAULT_REPEATS = 30
CLOCKS = ("wall", "cpu")
STATISTICS = ("median", "min")


# ---------------------------------------------------------------------- conditions & entries
@dataclass(frozen=True)
class MeasurementConditions:
    """Everything a latency number depends on (``date`` is informative, not compared)."""

    device: str
    device_name: str
    torch_version: str
    threads: int
    batch_size: int
    input_size: int
    warmup: int
    repeats: int
    number: int
    clock: str = "wall"
    malloc_tuned: bool = False
    statistic: str = "median"
    unit: str = "ms"
    date: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MeasurementConditions:
        return cls(**d)

    def differences(self, other: MeasurementConditions) -> list[str]:
        """Fields that change raw times (not the date or statistic) and differ, as ``"a: x != y"``."""
        a, b = self.to_dict(), other.to_dict()
        return [f"{k}: {a[k]!r} != {b[k]!r}" for k in a
                if k not in ("date", "statistic") and a[k] != b[k]]


@dataclass(frozen=True)
class LatencyEntry:
    """Robust statistics of one timed module, in milliseconds per forward pass."""

    median: float
    iqr: float
    mean: float
    std: float
    min: float
    max: float
    n: int

    @classmethod
    def from_times(cls, seconds: np.ndarray) -> LatencyEntry:
        ms = np.asarray(seconds, dtype=float) * 1e3
        if ms.size == 0 or not np.all(np.isfinite(ms)) or np.any(ms < 0):
            raise ValueError(f"timer returned invalid times {ms!r}")
        q1, q3 = np.percentile(ms, [25, 75])
        return cls(float(np.median(ms)), float(q3 - q1), float(ms.mean()), float(ms.std()),
                   float(ms.min()), float(ms.max()), int(ms.size))

    def value(self, statistic: str) -> float:
        """The entry's ``"median"`` or ``"min"``."""
        return self.median if statistic == "median" else self.min

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LatencyEntry:
        return cls(**d)


# ---------------------------------------------------------------------- argument checks
def _positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _resolve_device(device: str | torch.device) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'cpu' or 'cuda[:i]', got {device!r}") from exc
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda[:i]', got {device!r}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but torch.cuda.is_available() is False")
    return dev


def _device_name(dev: torch.device) -> str:
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def _conditions(device, batch_size, input_size, threads, warmup, repeats, number, clock,
                statistic, tune):
    dev = _resolve_device(device)
    tuned = _tune_malloc() if tune else _MALLOC_TUNED[0]
    batch_size = _positive_int(batch_size, "batch_size")
    input_size = _positive_int(input_size, "input_size")
    warmup = _positive_int(warmup, "warmup", minimum=0)
    repeats = _positive_int(repeats, "repeats")
    number = _positive_int(number, "number")
    threads = torch.get_num_threads() if threads is None else _positive_int(threads, "threads")
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}, got {statistic!r}")
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {CLOCKS}, got {clock!r}")
    if clock == "cpu" and (dev.type != "cpu" or threads != 1):
        raise ValueError("clock='cpu' (thread CPU time) needs device='cpu' and threads=1: "
                         "with more threads, or on a GPU, the calling thread's CPU time is "
                         "not the latency")
    return dev, MeasurementConditions(
        device=str(dev), device_name=_device_name(dev), torch_version=torch.__version__,
        threads=threads, batch_size=batch_size, input_size=input_size, warmup=warmup,
        repeats=repeats, number=number, clock=clock, malloc_tuned=tuned, statistic=statistic,
        unit="ms",
        date=datetime.now(UTC).isoformat(timespec="seconds"),
    )


# ---------------------------------------------------------------------- the timer
_MALLOC_TUNED = [False]


def tune_malloc() -> bool:
    """Keep freed memory in glibc's heap instead of returning it to the OS (process-wide).

    By default glibc trims the heap and serves large buffers with ``mmap``, so a network whose
    activations are freed and re-allocated every forward pass page-faults (and zeroes) tens of
    megabytes per pass, while a single block timed in isolation does not: whole networks then
    run up to 2x slower than the sum of their blocks, depending on the architecture.  This
    calls ``mallopt`` (trim threshold 2 GiB, mmap threshold 32 MiB, top pad 256 MiB), the
    in-process equivalent of ``MALLOC_TRIM_THRESHOLD_``/``MALLOC_MMAP_THRESHOLD_``; deploy
    with the same setting (or jemalloc/tcmalloc) for the table to describe your latency.
    Returns ``True`` when applied (glibc only; elsewhere nothing happens and it returns
    ``False``).
    """
    if _MALLOC_TUNED[0]:
        return True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        ok = (libc.mallopt(-1, 2**31 - 1) == 1 and libc.mallopt(-2, 256 * 2**20) == 1
              and libc.mallopt(-3, 32 * 2**20) == 1)
    except (OSError, AttributeError):
        ok = False
    _MALLOC_TUNED[0] = bool(ok)
    if not ok:
        logger.warning("tune_malloc: mallopt is not available; whole networks may page-fault")
    return _MALLOC_TUNED[0]


_tune_malloc = tune_malloc


def time_module(module: nn.Module, x: torch.Tensor, *, warmup: int, repeats: int,
                number: int = 1, threads: int = 1, clock: str = "wall") -> np.ndarray:
    """Seconds per forward pass of ``module(x)``: one value per repeat (mean of ``number`` runs).

    Runs in eval mode under :func:`torch.inference_mode` with
    :class:`torch.utils.benchmark.Timer` (``num_threads=threads``; its default wall clock
    synchronises CUDA).  ``clock="cpu"`` times with the calling thread's CPU time
    (:func:`time.thread_time`) instead: with one intra-op thread all the work runs in the
    calling thread, so this is the latency without the time the OS gave to other processes,
    which is what makes measurements on a shared, loaded machine repeatable.
    """
    from torch.utils.benchmark import Timer

    module.eval()
    kw = {"timer": time.thread_time} if clock == "cpu" else {}
    timer = Timer(stmt="m(x)", globals={"m": module, "x": x}, num_threads=int(threads), **kw)
    with torch.inference_mode():
        if warmup:
            timer.timeit(int(warmup))
        return np.array([timer.timeit(int(number)).mean for _ in range(int(repeats))])


# ---------------------------------------------------------------------- the measurement plan
@dataclass(frozen=True)
class _Job:
    key: str
    build: Callable[[], nn.Module]
    shape: tuple[int, int, int]  # (C, H, W) of the input


def _require_mbconv(space: SearchSpace, what: str) -> None:
    if not isinstance(space, SearchSpace):
        raise TypeError(f"{what}: space must be a SearchSpace, got {type(space).__name__}")
    if space.fixed is None or any(st.channels is None for st in space.stages):
        raise ValueError(f"{what}: needs a MobileNetV3-style space (stages with channels and a "
                         "FixedPart), e.g. SearchSpace.mobilenet_v3()")


class _Pre(nn.Module):
    def __init__(self, stem: nn.Module, blocks: Sequence[nn.Module]):
        super().__init__()
        self.stem, self.blocks = stem, nn.Sequential(*blocks)

    def forward(self, x):
        return self.blocks(self.stem(x))


class _Post(nn.Module):
    def __init__(self, blocks: Sequence[nn.Module], head: nn.Module):
        super().__init__()
        self.blocks, self.head = nn.Sequential(*blocks), head

    def forward(self, x):
        return self.head(self.blocks(x))


def _plan(space: SearchSpace, input_size: int, num_classes: int | None,
          in_channels: int | None) -> tuple[list[_Job], list[str]]:
    """Fixed jobs (pre, post) and the job key of every alpha entry (blocks in flat order)."""
    fx = space.fixed
    c_img = fx.in_channels if in_channels is None else int(in_channels)
    ncls = fx.num_classes if num_classes is None else int(num_classes)
    pre_defs = [BlockDef.parse(s) for s in fx.prefix]
    suf_defs = [BlockDef.parse(s) for s in fx.suffix]

    def build_pre():
        mods, _ = chain_blocks(pre_defs, fx.stem_channels)
        return _Pre(ConvBnAct(c_img, fx.stem_channels, 3, fx.stem_stride, "hswish"), mods)

    h = conv_out_size(input_size, fx.stem_stride)
    c = fx.stem_channels
    for bd in pre_defs:
        c, h = bd.channels, conv_out_size(h, bd.stride)
    pre_key = (f"fixed_pre|in{c_img}|h{input_size}|stem{fx.stem_channels}s{fx.stem_stride}|"
               + ",".join(fx.prefix))
    jobs = [_Job(pre_key, build_pre, (c_img, input_size, input_size))]
    op_keys: list[str] = []
    seen: dict[str, _Job] = {}
    for s, st in enumerate(space.stages):
        for b in range(st.max_depth):
            stride = st.stride if b == 0 else 1
            for label in st.ops[b]:
                try:
                    op = MBConvOp.from_label(label)
                except ValueError as exc:
                    raise ValueError(f"{space.stage_name(s)} block {b}: {exc}") from None
                key = f"ir|in{c}|out{st.channels}|h{h}|s{stride}|{op.label}|{st.activation}"
                op_keys.append(key)
                if key not in seen:
                    args = (c, st.channels, op.kernel, stride, op.expansion, st.activation,
                            op.se_ratio)
                    seen[key] = _Job(key, lambda a=args: InvertedResidual(*a), (c, h, h))
            if b == 0:
                c, h = st.channels, conv_out_size(h, stride)
    c_post, h_post = c, h

    def build_post():
        mods, cc = chain_blocks(suf_defs, c_post)
        return _Post(mods, Head(cc, fx.head_features, ncls))

    post_key = (f"fixed_post|in{c_post}|h{h_post}|" + ",".join(fx.suffix)
                + f"|head{fx.head_features}|classes{ncls}")
    jobs += list(seen.values()) + [_Job(post_key, build_post, (c_post, h_post, h_post))]
    return jobs, op_keys


# ---------------------------------------------------------------------- cache
def _read_cache(path: Path, cond: MeasurementConditions
                ) -> tuple[dict[str, list[float]], MeasurementConditions]:
    """Raw times (seconds) per key in the cache at ``path``, and the conditions to keep."""
    if not path.exists():
        return {}, cond
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"latency cache {str(path)!r} is not readable JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != CACHE_FORMAT:
        raise ValueError(f"{str(path)!r} is not a latency cache (format {CACHE_FORMAT!r})")
    if doc.get("version") != _CACHE_VERSION:
        raise ValueError(f"latency cache {str(path)!r} has version {doc.get('version')}, "
                         f"this package reads version {_CACHE_VERSION}")
    old = MeasurementConditions.from_dict(doc["conditions"])
    diff = old.differences(cond)
    if diff:
        raise ValueError(
            f"latency cache {str(path)!r} was measured under other conditions ("
            + "; ".join(diff) + "); use another cache file or delete this one")
    times = {k: [float(v) for v in vals] for k, vals in doc.get("times", {}).items()}
    return times, replace(cond, date=old.date or cond.date)


def _write_cache(path: Path, cond: MeasurementConditions, times: dict[str, list[float]]):
    done = {k: LatencyEntry.from_times(np.asarray(v)).to_dict()
            for k, v in times.items() if len(v) >= cond.repeats}
    doc = {"format": CACHE_FORMAT, "version": _CACHE_VERSION, "conditions": cond.to_dict(),
           "times": times, "entries": done}
    atomic_write_text(path, json.dumps(doc, indent=1, allow_nan=False))


# ---------------------------------------------------------------------- results
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


# ---------------------------------------------------------------------- measurement
def measure_latency(space: SearchSpace, device: str = "cpu", batch_size: int = 1,
                    input_size: int | None = None, threads: int | None = None,
                    warmup: int = DEFAULT_WARMUP, repeats: int = DEFAULT_REPEATS,
                    number: int = 1, clock: str = "wall", statistic: str = "median",
                    rounds: int = 1, tune_malloc: bool = False,
                    cache: str | os.PathLike | None = None,
                    progress: bool = True, num_classes: int | None = None,
                    in_channels: int | None = None) -> LatencyMeasurement:
    """Measure a latency table of ``space`` on ``device``; see :func:`measure_latency_table`.

    ``rounds > 1`` spreads the ``repeats`` of every entry over that many round-robin passes
    over all entries, so a slow change of machine load affects every entry alike (all modules
    stay in memory meanwhile).  ``tune_malloc=True`` calls :func:`tune_malloc` first (see
    there: without it whole networks page-fault where isolated blocks do not).  Returns a
    :class:`LatencyMeasurement` (the table plus statistics and conditions).
    """
    _require_mbconv(space, "measure_latency")
    input_size = space.fixed.input_size if input_size is None else input_size
    dev, cond = _conditions(device, batch_size, input_size, threads, warmup, repeats, number,
                            clock, statistic, tune_malloc)
    rounds = _positive_int(rounds, "rounds")
    if rounds > cond.repeats:
        raise ValueError(f"rounds ({rounds}) must not exceed repeats ({cond.repeats})")
    jobs, op_keys = _plan(space, cond.input_size, num_classes, in_channels)
    path = None if cache is None else Path(cache)
    times: dict[str, list[float]] = {}
    if path is not None:
        times, cond = _read_cache(path, cond)
    todo = [j for j in jobs if len(times.get(j.key, ())) < cond.repeats]
    logger.info("measure_latency: %d entries, %d cached, %d to measure on %s (%d threads)",
                len(jobs), len(jobs) - len(todo), len(todo), cond.device_name, cond.threads)
    from tqdm.auto import tqdm

    gen = torch.Generator().manual_seed(0)
    per_round = -(-cond.repeats // rounds)
    built: dict[str, tuple[nn.Module, torch.Tensor]] = {}
    kw = {"number": cond.number, "threads": cond.threads, "clock": cond.clock}
    remaining = sum(cond.repeats - len(times.get(j.key, ())) for j in todo)
    with tqdm(total=remaining, desc="latency table", unit="run", disable=not progress) as bar:
        while todo:
            for job in todo:
                if job.key not in built:
                    module = job.build().to(dev).eval()
                    x = torch.randn((cond.batch_size, *job.shape), generator=gen).to(dev)
                    time_module(module, x, warmup=cond.warmup, repeats=0, **kw)
                    built[job.key] = (module, x)
                module, x = built[job.key]
                have = times.setdefault(job.key, [])
                k = min(per_round, cond.repeats - len(have))
                have.extend(float(v) for v in time_module(module, x, warmup=0, repeats=k, **kw))
                if len(have) >= cond.repeats:
                    del built[job.key]
                if path is not None:
                    _write_cache(path, cond, times)
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


# ---------------------------------------------------------------------- validation
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
        return (f"{len(self.measured)} networks on {self.conditions.device_name} "
                f"({self.conditions.threads} threads, batch {self.conditions.batch_size}, "
                f"{self.conditions.input_size}px): Pearson r = {self.pearson_r:.4f}, "
                f"MAPE = {self.mape:.2f}%, max error = {self.max_abs_error:.3f} ms "
                f"({self.max_rel_error:.1f}%), measured ~ {self.slope:.3f} * predicted "
                f"{self.intercept:+.3f} ms")

    def to_dict(self) -> dict[str, Any]:
        return {
            "architectures": [a.to_dict() for a in self.architectures],
            "predicted": self.predicted.tolist(), "measured": self.measured.tolist(),
            "measured_iqr": self.measured_iqr.tolist(), "pearson_r": self.pearson_r,
            "mape": self.mape, "max_abs_error": self.max_abs_error,
            "max_rel_error": self.max_rel_error, "slope": self.slope,
            "intercept": self.intercept, "conditions": self.conditions.to_dict(),
        }

    def plot(self, ax=None, path: str | os.PathLike | None = None):
        """Scatter of measured vs predicted with the identity and the fitted line."""
        import matplotlib

        if ax is None and path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig = None
        if ax is None:
            fig, ax = plt.subplots(figsize=(4.5, 4.5))
        lo = float(min(self.predicted.min(), self.measured.min()))
        hi = float(max(self.predicted.max(), self.measured.max()))
        ax.errorbar(self.predicted, self.measured, yerr=self.measured_iqr / 2, fmt="o", ms=4,
                    label="networks")
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="measured = predicted")
        ax.plot([lo, hi], [self.slope * lo + self.intercept, self.slope * hi + self.intercept],
                "r-", lw=1, label=f"fit: {self.slope:.2f}x {self.intercept:+.2f}")
        ax.set_xlabel("predicted latency (ms)")
        ax.set_ylabel("measured latency (ms)")
        ax.set_title(f"r = {self.pearson_r:.3f}, MAPE = {self.mape:.1f}%")
        ax.legend(fontsize=8)
        if path is not None:
            (fig or ax.figure).savefig(path, dpi=120, bbox_inches="tight")
        return ax


def validate_latency(space: SearchSpace, table: Table, n: int = 20, seed: int = 0, *,
                     device: str = "cpu", batch_size: int = 1, input_size: int | None = None,
                     threads: int | None = None, warmup: int = DEFAULT_WARMUP,
                     repeats: int = DEFAULT_REPEATS, number: int = 1, clock: str = "wall",
                     statistic: str = "median", tune_malloc: bool = False,
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
    _require_mbconv(space, "validate_latency")
    if not isinstance(table, Table):
        raise TypeError(f"validate_latency: table must be a Table, got {type(table).__name__}")
    if table.space != space:
        raise ValueError("validate_latency: the table was built for a different search space "
                         f"({table.space!r}) than the one given ({space!r})")
    scale = convert(1.0, table.unit, "ms", what=f"table {table.name!r}")
    if architectures is None:
        n = _positive_int(n, "n", minimum=2)
        archs = space.sample(np.random.default_rng(seed), n)
    else:
        archs = [space.validate(a) for a in architectures]
        if len(archs) < 2:
            raise ValueError("validate_latency: give at least 2 architectures")
    input_size = space.fixed.input_size if input_size is None else input_size
    dev, cond = _conditions(device, batch_size, input_size, threads, warmup, repeats, number,
                            clock, statistic, tune_malloc)
    from tqdm.auto import tqdm

    gen = torch.Generator().manual_seed(seed)
    x = torch.randn((cond.batch_size, space.fixed.in_channels, cond.input_size,
                     cond.input_size), generator=gen).to(dev)
    nets = [build_child(space, a).to(dev).eval() for a in archs]
    kw = {"number": cond.number, "threads": cond.threads, "clock": cond.clock}
    times = np.zeros((len(nets), cond.repeats))
    # round-robin over the networks, so a change of machine load hits all of them alike
    with tqdm(total=cond.repeats * len(nets), desc="validate latency", unit="run",
              disable=not progress) as bar:
        for net in nets:
            time_module(net, x, warmup=cond.warmup, repeats=1, **kw)
        for r in range(cond.repeats):
            for i, net in enumerate(nets):
                times[i, r] = time_module(net, x, warmup=0, repeats=1, **kw)[0]
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
