"""The resumable cache of a latency measurement.

A JSON file, written atomically after every timed entry, holding the measurement conditions and
the raw times (seconds) of every entry key: an interrupted measurement resumes where it stopped,
and a cache measured under other conditions is refused with the differences named.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from binas_opt.io import atomic_write_text

from .timing import LatencyEntry, MeasurementConditions

__all__ = ["CACHE_FORMAT"]

CACHE_FORMAT = "binas-opt-latency-cache"
_CACHE_VERSION = 2


def read_cache(path: Path, cond: MeasurementConditions
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


def write_cache(path: Path, cond: MeasurementConditions, times: dict[str, list[float]]) -> None:
    """Write the raw times (and the statistics of the complete entries) atomically."""
    done = {k: LatencyEntry.from_times(np.asarray(v)).to_dict()
            for k, v in times.items() if len(v) >= cond.repeats}
    doc = {"format": CACHE_FORMAT, "version": _CACHE_VERSION, "conditions": cond.to_dict(),
           "times": times, "entries": done}
    atomic_write_text(path, json.dumps(doc, indent=1, allow_nan=False))
