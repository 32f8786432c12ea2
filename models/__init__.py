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
from .supernet import ElasticInvertedResidual, Supernet, recalibrate_bn

__all__ = [
    "ChildNet", "ConvBnAct", "DepthwiseSeparable", "ElasticInvertedResidual", "Head",
    "InvertedResidual", "SqueezeExcite", "Supernet", "build_child", "build_from_string",
    "count_macs", "count_params", "make_divisible", "recalibrate_bn",
]
