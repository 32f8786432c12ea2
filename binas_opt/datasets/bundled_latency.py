"""A CPU latency table of the paper's MobileNetV3 space, measured with ``binas-opt measure-latency``.

Example data for the docs and the CLI: it was measured on a shared, loaded 2-core cloud VM (AMD
EPYC, torch 2.13 CPU, one intra-op thread, batch 1, 224x224) with the thread's CPU time as the
clock (``--clock cpu``, robust to other processes) and glibc heap trimming off, with::

    binas-opt measure-latency -o mobilenet_v3_cpu_latency.json --threads 1 --clock cpu \
        --warmup 5 --repeats 20 --rounds 5 --validate 20

Its validation on 20 random networks (stored under ``metadata["validation"]``) gave Pearson
r = 0.98 and MAPE 15.5% (whole networks ~14% slower than the sum of their blocks at that moment).
Use it to learn the workflow, and measure your own device for real budgets
(:func:`binas_opt.models.measure_latency_table` or ``binas-opt measure-latency``).  The
conditions (device, threads, batch, input size, torch version, date, clock, unit ms) are in
:func:`mobilenet_v3_cpu_latency_metadata`.  Core module: no torch.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from binas_opt.io import from_json_dict
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table

__all__ = ["mobilenet_v3_cpu_latency", "mobilenet_v3_cpu_latency_metadata", "DATA_FILE"]

DATA_FILE = "mobilenet_v3_cpu_latency.json"


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    text = resources.files("binas_opt.datasets").joinpath("data", DATA_FILE).read_text(
        encoding="utf-8")
    return json.loads(text)


def mobilenet_v3_cpu_latency() -> Table:
    """The bundled latency :class:`~binas_opt.Table` (ms) of ``SearchSpace.mobilenet_v3()``.

    Batch 1, 224x224, one intra-op thread; fixed part (stem, first block, final 1x1 conv, pool,
    head conv and classifier) in the constant.
    """
    table = from_json_dict(_document())
    if table.space != SearchSpace.mobilenet_v3():
        raise ValueError(f"bundled {DATA_FILE} does not match SearchSpace.mobilenet_v3()")
    return table


def mobilenet_v3_cpu_latency_metadata() -> dict[str, Any]:
    """Measurement conditions and per-entry statistics of the bundled table (a copy)."""
    return json.loads(json.dumps(_document().get("metadata", {})))
