"""How latency is timed, and the conditions every latency number depends on.

:func:`time_module` times forward passes with :class:`torch.utils.benchmark.Timer` (wall clock,
synchronising CUDA) or the calling thread's CPU time; :class:`LatencyEntry` keeps robust
statistics of the repeats; :class:`MeasurementConditions` records device, threads, batch,
input size, clock, statistic and versions, so that a table is only reused, resumed or compared
under the conditions it was measured under.  :func:`tune_malloc` keeps glibc from returning
memory to the OS between passes.
"""

from __future__ import annotations

import logging
import platform
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import torch
from torch import nn

from binas_opt.model.choices import Choice

from ._checks import positive_int

__all__ = ["Clock", "Statistic", "MeasurementConditions", "LatencyEntry", "time_module",
           "tune_malloc", "DEFAULT_WARMUP", "DEFAULT_REPEATS"]

logger = logging.getLogger("binas_opt")

DEFAULT_WARMUP = 10
DEFAULT_REPEATS = 30


class Clock(Choice):
    """What a timed repeat measures."""

    WALL = "wall"  # wall-clock time (synchronises CUDA)
    CPU = "cpu"    # CPU time of the calling thread: needs device "cpu" and one thread


class Statistic(Choice):
    """The value kept from the repeats of an entry."""

    MEDIAN = "median"
    MIN = "min"


@dataclass(frozen=True)
class MeasurementConditions:
    """Everything a latency number depends on (``date`` is informative, not compared).

    ``clock`` and ``statistic`` accept their enum or its string.
    """

    device: str
    device_name: str
    torch_version: str
    threads: int
    batch_size: int
    input_size: int
    warmup: int
    repeats: int
    number: int
    clock: Clock = Clock.WALL
    malloc_tuned: bool = False
    statistic: Statistic = Statistic.MEDIAN
    unit: str = "ms"
    date: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "clock", Clock.parse(self.clock, "MeasurementConditions: clock"))
        object.__setattr__(self, "statistic",
                           Statistic.parse(self.statistic, "MeasurementConditions: statistic"))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "clock": self.clock.value, "statistic": self.statistic.value}

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

    def value(self, statistic: str | Statistic) -> float:
        """The entry's ``"median"`` or ``"min"``."""
        if Statistic.parse(statistic, "LatencyEntry.value: statistic") is Statistic.MEDIAN:
            return self.median
        return self.min

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LatencyEntry:
        return cls(**d)


# ---------------------------------------------------------------------- conditions
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


def measurement_conditions(device, batch_size, input_size, threads, warmup, repeats, number,
                           clock, statistic, tune) -> tuple[torch.device, MeasurementConditions]:
    """Check the timing arguments; the device and the conditions they give (dated now).

    ``tune`` calls :func:`tune_malloc` first.  Every bad argument is a ``ValueError`` naming it.
    """
    dev = _resolve_device(device)
    clock = Clock.parse(clock, "clock")
    statistic = Statistic.parse(statistic, "statistic")
    tuned = tune_malloc() if tune else _MALLOC_TUNED[0]
    batch_size = positive_int(batch_size, "batch_size")
    input_size = positive_int(input_size, "input_size")
    warmup = positive_int(warmup, "warmup", minimum=0)
    repeats = positive_int(repeats, "repeats")
    number = positive_int(number, "number")
    threads = torch.get_num_threads() if threads is None else positive_int(threads, "threads")
    if clock is Clock.CPU and (dev.type != "cpu" or threads != 1):
        raise ValueError("clock='cpu' (thread CPU time) needs device='cpu' and threads=1: "
                         "with more threads, or on a GPU, the calling thread's CPU time is "
                         "not the latency")
    return dev, MeasurementConditions(
        device=str(dev), device_name=_device_name(dev), torch_version=torch.__version__,
        threads=threads, batch_size=batch_size, input_size=input_size, warmup=warmup,
        repeats=repeats, number=number, clock=clock, malloc_tuned=tuned, statistic=statistic,
        unit="ms", date=datetime.now(UTC).isoformat(timespec="seconds"),
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


def time_module(module: nn.Module, x: torch.Tensor, *, warmup: int, repeats: int,
                number: int = 1, threads: int = 1, clock: str | Clock = Clock.WALL) -> np.ndarray:
    """Seconds per forward pass of ``module(x)``: one value per repeat (mean of ``number`` runs).

    Runs in eval mode under :func:`torch.inference_mode` with
    :class:`torch.utils.benchmark.Timer` (``num_threads=threads``; its default wall clock
    synchronises CUDA).  ``clock="cpu"`` times with the calling thread's CPU time
    (:func:`time.thread_time`) instead: with one intra-op thread all the work runs in the
    calling thread, so this is the latency without the time the OS gave to other processes,
    which is what makes measurements on a shared, loaded machine repeatable.
    """
    from torch.utils.benchmark import Timer

    clock = Clock.parse(clock, "time_module: clock")
    module.eval()
    kw = {"timer": time.thread_time} if clock is Clock.CPU else {}
    timer = Timer(stmt="m(x)", globals={"m": module, "x": x}, num_threads=int(threads), **kw)
    with torch.inference_mode():
        if warmup:
            timer.timeit(int(warmup))
        return np.array([timer.timeit(int(number)).mean for _ in range(int(repeats))])
