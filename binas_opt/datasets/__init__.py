"""Bundled problem data: NAS-Bench-Macro (real CIFAR-10 ground truth) and a measured CPU
latency table of the paper's MobileNetV3 space."""

from binas_opt.datasets.macro import NasBenchMacro, nas_bench_macro, nas_bench_macro_space

__all__ = ["NasBenchMacro", "nas_bench_macro", "nas_bench_macro_space", "mobilenet_v3_cpu_latency"]


def __getattr__(name: str):
    if name == "mobilenet_v3_cpu_latency":
        from binas_opt.datasets.bundled_latency import mobilenet_v3_cpu_latency

        return mobilenet_v3_cpu_latency
    raise AttributeError(f"module 'binas_opt.datasets' has no attribute {name!r}")
