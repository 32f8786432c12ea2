"""End to end on Fashion-MNIST: supernet, contributions, latency table, solve, export, fine-tune.

:func:`run_pipeline` runs, with the settings of a :class:`PipelineConfig`:

1. ``data``: deterministic Fashion-MNIST splits (:mod:`binas_opt.models.data`);
2. ``train_supernet``: heaviest path, then multipath with in-place distillation;
3. ``contributions``: the BINAS accuracy estimator (measured, :func:`measure_contributions`);
4. ``latency_table``: the CPU latency table of the space at 28x28, batch 1
   (:func:`binas_opt.models.latency.measure_latency_table`);
5. ``solve``: ``max accuracy s.t. latency <= budget`` for 3 budgets with ``backend="milp"``;
6. ``export``: each solution as a stand-alone network inheriting the supernet's weights
   (BatchNorm recalibrated), with its one-shot validation accuracy;
7. ``finetune``: a short fine-tuning of each child;
8. ``evaluate``: test accuracy and measured latency of each child,

and reports predicted vs measured accuracy and latency per budget and the wall time of every
step, in a JSON report written atomically (``out_dir/report.json``; the supernet checkpoint,
contribution and latency caches go to the same folder, so an interrupted run resumes).
"""

from __future__ import annotations

import json
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from binas_opt.io import atomic_write_text, save, to_plain
from binas_opt.mbconv.spaces import fashion_mnist_space
from binas_opt.model.problem import Problem
from binas_opt.solving.dispatch import solve

from .decisions import Reference
from .supernet import Sampling
from .timing import Clock

__all__ = ["PipelineConfig", "ChildReport", "PipelineReport", "run_pipeline", "STEPS"]

logger = logging.getLogger("binas_opt")

STEPS = ("data", "train_supernet", "contributions", "latency_table", "solve", "export",
         "finetune", "evaluate")


@dataclass(frozen=True)
class PipelineConfig:
    """Settings of :func:`run_pipeline`; the defaults run in minutes on 2 CPU cores.

    ``budget_fractions`` place the latency budgets between the table's minimum and maximum
    (``min + f * (max - min)``) unless ``budgets`` (ms) are given.
    """

    space: str = "fashion_mnist"
    root: str | None = None
    train_subset: int | None = 12_000
    val_subset: int = 2_000
    test_subset: int = 2_000
    batch_size: int = 128
    eval_batch_size: int = 250
    heaviest_epochs: int = 1
    epochs: int = 2
    lr: float = 0.1
    max_steps_per_epoch: int | None = None
    sampling: str = "batch"
    distill: float = 1.0
    n_samples: int = 4
    eval_batches: int = 1
    calib_batches: int = 2
    reference: str = "uniform"
    latency_warmup: int = 5
    latency_repeats: int = 15
    latency_threads: int = 1
    latency_clock: str = "cpu"
    budgets: tuple[float, ...] | None = None
    budget_fractions: tuple[float, ...] = (0.2, 0.45, 0.7)
    finetune_epochs: int = 1
    finetune_lr: float = 0.02
    finetune_steps: int | None = 40
    finetune_distill: float = 0.5
    seed: int = 0
    threads: int | None = None

    def __post_init__(self) -> None:
        # one spelling of space names: "fashion-mnist-tiny" and "fashion_mnist_tiny" are the same
        if isinstance(self.space, str):
            object.__setattr__(self, "space", self.space.strip().lower().replace("-", "_"))

    @classmethod
    def tiny(cls, **changes) -> PipelineConfig:
        """A smoke test for tests and CI (under 30 s on 2 cores): the tiny space, a few
        hundred images, a few steps.  It checks that every step runs, not what the method
        achieves: its accuracies are near chance level (10% on 10 classes)."""
        base = cls(space="fashion_mnist_tiny", train_subset=1024, val_subset=200,
                   test_subset=200, batch_size=64, eval_batch_size=100, heaviest_epochs=1,
                   epochs=1, max_steps_per_epoch=8, n_samples=2, calib_batches=1,
                   latency_warmup=2, latency_repeats=5, finetune_steps=4, threads=1)
        return replace(base, **changes)

    @classmethod
    def small(cls, **changes) -> PipelineConfig:
        """A first real run (about 8 minutes on 2 CPU cores): the full Fashion-MNIST space, 4,000
        training images, one heaviest-path and one multipath epoch, a short fine-tuning, one
        torch thread (small convolutions gain little from more, and a busy machine loses).
        Test accuracies of the chosen networks are clearly above chance (about 55% against
        10%), well below a full training run."""
        base = cls(space="fashion_mnist", train_subset=4000, val_subset=500,
                   test_subset=1000, batch_size=128, eval_batch_size=250, heaviest_epochs=1,
                   epochs=1, n_samples=2, calib_batches=2, latency_warmup=3,
                   latency_repeats=10, finetune_steps=30, threads=1)
        return replace(base, **changes)

    def validate(self) -> PipelineConfig:
        if self.space not in ("fashion_mnist", "fashion_mnist_tiny"):
            raise ValueError(f"space must be 'fashion_mnist' or 'fashion_mnist_tiny', got "
                             f"{self.space!r}")
        if self.budgets is not None and (len(self.budgets) == 0 or
                                         any(not b > 0 for b in self.budgets)):
            raise ValueError(f"budgets must be positive latencies in ms, got {self.budgets!r}")
        if self.budgets is None and any(not 0 <= f <= 1 for f in self.budget_fractions):
            raise ValueError(f"budget_fractions must be in [0, 1], got {self.budget_fractions!r}")
        Sampling.parse(self.sampling, "PipelineConfig: sampling")
        Reference.parse(self.reference, "PipelineConfig: reference")
        Clock.parse(self.latency_clock, "PipelineConfig: latency_clock")
        return self

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("budgets", "budget_fractions"):
            if d[k] is not None:
                d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PipelineConfig:
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        for k in ("budgets", "budget_fractions"):
            if d.get(k) is not None:
                d[k] = tuple(d[k])
        return cls(**d)


@dataclass(frozen=True)
class ChildReport:
    """One solved budget: what the tables predicted and what was measured."""

    budget_ms: float
    status: str
    architecture: str | None = None
    predicted_accuracy: float | None = None
    predicted_accuracy_stderr: float | None = None
    oneshot_accuracy: float | None = None
    finetuned_val_accuracy: float | None = None
    test_accuracy: float | None = None
    predicted_latency_ms: float | None = None
    measured_latency_ms: float | None = None
    params: int | None = None
    solve_time: float | None = None
    message: str = ""


@dataclass(frozen=True)
class PipelineReport:
    """What :func:`run_pipeline` did; ``step_times`` are wall seconds per step."""

    config: dict[str, Any]
    children: tuple[ChildReport, ...]
    step_times: dict[str, float]
    supernet: dict[str, Any]
    contributions: dict[str, Any]
    latency: dict[str, Any]
    total_time: float
    environment: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"format": "binas-opt-pipeline-report", "version": 1, "config": self.config,
                "children": [asdict(c) for c in self.children], "step_times": self.step_times,
                "supernet": self.supernet, "contributions": self.contributions,
                "latency": self.latency, "total_time": self.total_time,
                "environment": self.environment}

    def summary(self) -> str:
        lines = ["budget(ms)  status    pred.acc  1shot.acc  test.acc  pred.lat  meas.lat"]
        for c in self.children:
            def f(v, w=8, p=2):
                return f"{v:{w}.{p}f}" if v is not None else " " * (w - 1) + "-"
            lines.append(f"{c.budget_ms:10.3f}  {c.status:8s} {f(c.predicted_accuracy)}  "
                         f"{f(c.oneshot_accuracy, 9)}  {f(c.test_accuracy)}  "
                         f"{f(c.predicted_latency_ms, 8, 3)}  {f(c.measured_latency_ms, 8, 3)}")
        lines.append("step times (s): " + ", ".join(f"{k} {v:.1f}"
                                                    for k, v in self.step_times.items()))
        lines.append(f"total {self.total_time:.1f} s")
        return "\n".join(lines)


@contextmanager
def _timed(times: dict[str, float], name: str):
    t0 = time.perf_counter()
    try:
        yield
    finally:
        times[name] = times.get(name, 0.0) + time.perf_counter() - t0
        logger.info("pipeline: %s took %.1f s", name, times[name])


def _budgets(cfg: PipelineConfig, latency) -> list[float]:
    if cfg.budgets is not None:
        return [float(b) for b in cfg.budgets]
    lo, hi = latency.min_value(), latency.max_value()
    return [float(lo + f * (hi - lo)) for f in cfg.budget_fractions]


def run_pipeline(config: PipelineConfig | None = None, out_dir: str | os.PathLike = "pipeline",
                 *, progress: bool = True) -> PipelineReport:
    """Run the end-to-end pipeline (module docstring) and write ``out_dir/report.json``.

    Parameters
    ----------
    config : PipelineConfig, optional
        Default: :class:`PipelineConfig` ().  :meth:`PipelineConfig.tiny` for a quick check.
    out_dir : path
        Report, supernet checkpoint, caches, the accuracy and latency tables (binas-opt JSON)
        and the solutions.  Re-running with the same folder and config resumes.
    progress : bool
        tqdm bars.
    """
    from .child import build_child
    from .contributions import measure_contributions
    from .data import fashion_mnist_loaders
    from .latency import measure_latency_table
    from .supernet import Supernet, recalibrate_bn
    from .timing import time_module
    from .train import evaluate_accuracy, finetune, train_supernet

    cfg = (config or PipelineConfig()).validate()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    t_all = time.perf_counter()
    old_threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        with _timed(times, "data"):
            loaders = fashion_mnist_loaders(
                cfg.root, batch_size=cfg.batch_size, eval_batch_size=cfg.eval_batch_size,
                seed=cfg.seed, train_subset=cfg.train_subset, val_subset=cfg.val_subset,
                test_subset=cfg.test_subset)
            space = fashion_mnist_space(tiny=cfg.space == "fashion_mnist_tiny")
            save(space, out / "space.json")
            calib = [b for _, b in zip(range(max(cfg.calib_batches, 2) * 4), loaders.train,
                                       strict=False)]

        with _timed(times, "train_supernet"):
            torch.manual_seed(cfg.seed)
            supernet = Supernet(space)
            tr = train_supernet(
                supernet, loaders.train, epochs=cfg.epochs, heaviest_epochs=cfg.heaviest_epochs,
                lr=cfg.lr, sampling=cfg.sampling, distill=cfg.distill,
                max_steps_per_epoch=cfg.max_steps_per_epoch, seed=cfg.seed,
                checkpoint=out / "supernet", progress=progress)

        with _timed(times, "contributions"):
            contrib = measure_contributions(
                supernet, space, loaders.val, calib_loader=calib, n_samples=cfg.n_samples,
                eval_batches=cfg.eval_batches, calib_batches=cfg.calib_batches,
                reference=cfg.reference, seed=cfg.seed, cache=out / "contributions_cache.json",
                progress=progress, distributed=False)
            contrib.save(out / "contributions.json")
            accuracy = contrib.table
            save(accuracy, out / "accuracy_table.json")

        with _timed(times, "latency_table"):
            latency = measure_latency_table(
                space, device="cpu", batch_size=1, input_size=space.fixed.input_size,
                threads=cfg.latency_threads, warmup=cfg.latency_warmup,
                repeats=cfg.latency_repeats, clock=cfg.latency_clock,
                cache=out / "latency_cache.json", progress=progress)
            save(latency, out / "latency_table.json")

        budgets = _budgets(cfg, latency)
        results = []
        with _timed(times, "solve"):
            for b in budgets:
                res = solve(Problem(space, accuracy, [latency <= b]), backend="milp",
                            seed=cfg.seed)
                results.append(res)
                save(res, out / f"solution_{len(results) - 1}.json")

        children, reports = [], []
        with _timed(times, "export"):
            for res in results:
                if res.architecture is None:
                    children.append(None)
                    continue
                child = build_child(space, res.architecture, supernet)
                recalibrate_bn(child, None, calib, len(calib))
                children.append((child, evaluate_accuracy(child, loaders.val)))

        tuned = []
        with _timed(times, "finetune"):
            teacher = None
            if cfg.finetune_distill:
                supernet.set_arch(supernet.heaviest_arch())
                recalibrate_bn(supernet, supernet.heaviest_arch(), calib, len(calib))
                teacher = supernet
            for i, item in enumerate(children):
                if item is None or cfg.finetune_epochs == 0:
                    tuned.append(None if item is None else item[0])
                    continue
                child = item[0]
                finetune(child, loaders.train, epochs=cfg.finetune_epochs, lr=cfg.finetune_lr,
                         max_steps_per_epoch=cfg.finetune_steps, teacher=teacher,
                         distill=cfg.finetune_distill if teacher is not None else 0.0,
                         seed=cfg.seed + i, progress=progress)
                tuned.append(child)
            supernet.set_arch(None)

        with _timed(times, "evaluate"):
            x1 = torch.randn(1, space.fixed.in_channels, space.fixed.input_size,
                             space.fixed.input_size)
            for b, res, item, child in zip(budgets, results, children, tuned, strict=True):
                if res.architecture is None:
                    reports.append(ChildReport(budget_ms=b, status=res.status.value,
                                               message=res.message, solve_time=res.solve_time))
                    continue
                secs = time_module(child, x1, warmup=cfg.latency_warmup,
                                   repeats=cfg.latency_repeats, threads=cfg.latency_threads,
                                   clock=cfg.latency_clock)
                reports.append(ChildReport(
                    budget_ms=b, status=res.status.value,
                    architecture=res.architecture.to_string(space),
                    predicted_accuracy=float(accuracy(res.architecture)),
                    predicted_accuracy_stderr=float(np.sqrt(_variance(contrib.stderr,
                                                                      res.architecture))),
                    oneshot_accuracy=item[1],
                    finetuned_val_accuracy=evaluate_accuracy(child, loaders.val),
                    test_accuracy=evaluate_accuracy(child, loaders.test),
                    predicted_latency_ms=float(latency(res.architecture)),
                    measured_latency_ms=float(np.median(secs) * 1e3),
                    params=int(sum(p.numel() for p in child.parameters())),
                    solve_time=res.solve_time, message=res.message,
                ))
    finally:
        torch.set_num_threads(old_threads)
    report = PipelineReport(
        config=cfg.to_dict(), children=tuple(reports), step_times=times,
        supernet={"epochs_done": tr.epochs_done, "history": list(tr.history),
                  "resumed_from": tr.resumed_from,
                  "params": int(sum(p.numel() for p in supernet.parameters()))},
        contributions={"base_accuracy": contrib.base_accuracy, "evaluations": contrib.evaluations,
                       "measured": contrib.measured, "n_samples": contrib.n_samples,
                       "reference": contrib.reference, "images_per_eval": contrib.images_per_eval,
                       "range": [accuracy.min_value(), accuracy.max_value()]},
        latency={"min_ms": latency.min_value(), "max_ms": latency.max_value(),
                 "budgets_ms": budgets, "clock": cfg.latency_clock,
                 "threads": cfg.latency_threads},
        total_time=time.perf_counter() - t_all,
        environment={"torch": torch.__version__, "threads": cfg.threads or old_threads},
    )
    atomic_write_text(out / "report.json", json.dumps(to_plain(report.to_dict()), indent=1))
    return report


def _variance(stderr_table, arch) -> float:
    """Variance of the estimate on ``arch`` if its terms were independent (a rough error bar)."""
    sq = stderr_table.replace(const=stderr_table.const ** 2,
                              depth=stderr_table.depth_values ** 2,
                              op=stderr_table.op_values ** 2)
    return max(float(sq(arch)), 0.0)
