"""PyTorch side of binas-opt: blocks, supernet, child export, counting, latency tables.

Needs the ``torch`` extra (``pip install binas-opt[torch]``).  Installed as
``binas_opt.models``.
"""

from .blocks import (
    ConvBnAct,
    DepthwiseSeparable,
    Head,
    InvertedResidual,
    SqueezeExcite,
    make_divisible,
)
from .child import ChildNet, build_child, build_from_string
from .counting import count_macs, count_params
from .latency import LatencyMeasurement, load_latency, measure_latency, measure_latency_table
from .latency_validation import LatencyValidation, validate_latency
from .supernet import ElasticInvertedResidual, Supernet, recalibrate_bn
from .timing import LatencyEntry, MeasurementConditions, tune_malloc

__all__ = [
    "ChildNet", "ConvBnAct", "DepthwiseSeparable", "ElasticInvertedResidual", "Head",
    "InvertedResidual", "LatencyEntry", "LatencyMeasurement", "LatencyValidation",
    "MeasurementConditions", "SqueezeExcite", "Supernet", "build_child", "build_from_string",
    "count_macs", "count_params", "load_latency", "make_divisible", "measure_latency",
    "measure_latency_table", "recalibrate_bn", "tune_malloc", "validate_latency",
]
