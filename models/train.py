"""Supernet training as in BINAS / HardCoRe-NAS, scaled down; fine-tuning of exported children.

:func:`train_supernet` runs two phases:

1. **heaviest** -- the heaviest sub-network alone, with cross-entropy on the labels (the
   authors' ``--heaviest_network`` run), which gives every shared weight a good start;
2. **multipath** -- at every step the heaviest path is trained on the labels and ``n_paths``
   uniformly sampled paths (one per batch, or one per sample) are trained with in-place
   distillation from it:

   .. math:: L = CE(f_{max}(x), y) + \\sum_{p} \\big[(1 - \\gamma) CE(f_p(x), y)
             + \\gamma\\, T^2\\, KL(\\sigma(f_{max}(x)/T) \\,\\|\\, \\sigma(f_p(x)/T))\\big]

   with the teacher's logits detached (``gamma = distill``).

The learning rate follows a cosine schedule within each phase, a function of the global step,
so that training resumed from a checkpoint continues exactly: the checkpoint is written at the
end of every epoch (``<checkpoint>.pt`` holds the model and optimizer state dicts and RNG states,
``<checkpoint>.json`` the metadata and loss history, both written atomically), the shuffling of
the training loader and the path sampling are re-seeded from ``(seed, epoch)`` at every epoch,
and loading uses ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from binas_opt.io import atomic_write, atomic_write_text

from ._progress import progress_bar
from .supernet import Sampling

__all__ = ["TrainSettings", "TrainResult", "train_supernet", "finetune",
           "evaluate_accuracy", "model_device", "epoch_seed", "atomic_torch_save"]

logger = logging.getLogger("binas_opt")

_CKPT_FORMAT = "binas-opt-supernet-checkpoint"


@dataclass(frozen=True)
class TrainSettings:
    """Hyper-parameters of :func:`train_supernet` (recorded in the checkpoint)."""

    heaviest_epochs: int = 1
    epochs: int = 2
    lr: float = 0.05
    heaviest_lr: float | None = None
    momentum: float = 0.9
    weight_decay: float = 4e-5
    distill: float = 1.0
    temperature: float = 1.0
    sampling: Sampling = Sampling.BATCH
    n_paths: int = 1
    max_steps_per_epoch: int | None = None
    grad_clip: float | None = 5.0
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "sampling", Sampling.parse(self.sampling, "sampling"))

    def validate(self) -> TrainSettings:
        if self.heaviest_epochs < 0 or self.epochs < 0:
            raise ValueError(
                f"heaviest_epochs and epochs must be >= 0, got {self.heaviest_epochs} and "
                f"{self.epochs}"
            )
        if not self.lr > 0 or (self.heaviest_lr is not None and not self.heaviest_lr > 0):
            raise ValueError(f"lr must be > 0, got lr={self.lr}, heaviest_lr={self.heaviest_lr}")
        if not 0.0 <= self.distill <= 1.0:
            raise ValueError(f"distill must be in [0, 1], got {self.distill}")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.n_paths < 1:
            raise ValueError(f"n_paths must be >= 1, got {self.n_paths}")
        if self.max_steps_per_epoch is not None and self.max_steps_per_epoch < 1:
            raise ValueError(f"max_steps_per_epoch must be >= 1, got {self.max_steps_per_epoch}")
        return self

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sampling"] = self.sampling.value
        return d


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train_supernet` (or :func:`finetune`) did."""

    epochs_done: int
    history: tuple[dict[str, float], ...]
    wall_time: float
    resumed_from: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def final_loss(self) -> float | None:
        return self.history[-1]["loss"] if self.history else None


def model_device(model: nn.Module) -> torch.device:
    """Device of the first parameter (CPU for a module without parameters)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def epoch_seed(seed: int, epoch: int, stream: int = 0) -> int:
    """A 63-bit seed derived from ``(seed, epoch, stream)`` (independent streams per epoch)."""
    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(epoch), int(stream)])
    return int(ss.generate_state(2, dtype=np.uint32).astype(np.uint64).dot([1 << 31, 1]))


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file in the same folder, then ``os.replace``."""
    return atomic_write(path, lambda tmp: torch.save(obj, tmp))


def _reseed_epoch(loader, seed: int, epoch: int) -> np.random.Generator:
    torch.manual_seed(epoch_seed(seed, epoch, 1))
    gen = getattr(loader, "generator", None)
    if isinstance(gen, torch.Generator):
        gen.manual_seed(epoch_seed(seed, epoch, 2))
    return np.random.default_rng(epoch_seed(seed, epoch, 3))


def _kd_loss(student: torch.Tensor, teacher: torch.Tensor, t: float) -> torch.Tensor:
    return F.kl_div(F.log_softmax(student / t, dim=1), F.log_softmax(teacher / t, dim=1),
                    reduction="batchmean", log_target=True) * (t * t)


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def _cosine(lr: float, step: int, total: int) -> float:
    return 0.5 * lr * (1.0 + math.cos(math.pi * min(step, total) / max(total, 1)))


def _steps_per_epoch(loader, max_steps: int | None) -> int:
    n = len(loader)
    return n if max_steps is None else min(n, max_steps)


def _write_checkpoint(path: Path, supernet, optimizer, epoch: int, settings: TrainSettings,
                      history: list[dict[str, float]]) -> None:
    state = {
        "format": _CKPT_FORMAT,
        "epoch": epoch,
        "model": supernet.state_dict(),
        "optimizer": optimizer.state_dict(),
        "torch_rng": torch.get_rng_state(),
    }
    atomic_torch_save(state, path.with_suffix(".pt"))
    meta = {"format": _CKPT_FORMAT, "version": 1, "epoch": epoch, "settings": settings.to_dict(),
            "history": history, "torch": torch.__version__}
    atomic_write_text(path.with_suffix(".json"), json.dumps(meta, indent=1))


def _read_checkpoint(path: Path, settings: TrainSettings):
    pt, js = path.with_suffix(".pt"), path.with_suffix(".json")
    if not pt.is_file():
        return None
    state = torch.load(pt, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != _CKPT_FORMAT:
        raise ValueError(f"checkpoint {pt} is not a binas-opt supernet checkpoint")
    history: list[dict[str, float]] = []
    if js.is_file():
        meta = json.loads(js.read_text(encoding="utf-8"))
        saved = meta.get("settings", {})
        mine = settings.to_dict()
        diff = sorted(k for k in mine if k in saved and saved[k] != mine[k])
        if diff:
            raise ValueError(
                f"checkpoint {pt} was written with different settings ({', '.join(diff)}: "
                f"{[saved[k] for k in diff]} vs {[mine[k] for k in diff]}); use another "
                "checkpoint path or the same settings"
            )
        if int(meta.get("epoch", -1)) == int(state["epoch"]):
            history = list(meta.get("history", []))
        else:
            logger.warning("checkpoint %s: JSON metadata is from another epoch; history dropped",
                           js)
    return state, history


def train_supernet(
    supernet: nn.Module,
    loader,
    *,
    epochs: int = 2,
    heaviest_epochs: int = 1,
    lr: float = 0.05,
    heaviest_lr: float | None = None,
    momentum: float = 0.9,
    weight_decay: float = 4e-5,
    distill: float = 1.0,
    temperature: float = 1.0,
    sampling: str | Sampling = Sampling.BATCH,
    n_paths: int = 1,
    max_steps_per_epoch: int | None = None,
    grad_clip: float | None = 5.0,
    seed: int = 0,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    stop_after_epochs: int | None = None,
) -> TrainResult:
    """Train a one-shot supernet: the heaviest path first, then multipath with distillation.

    Parameters
    ----------
    supernet : binas_opt.models.supernet.Supernet
        Trained in place (on the device it is on).
    loader : iterable of (images, labels)
        The training data; a ``DataLoader`` with a ``generator`` is re-seeded every epoch.
    epochs, heaviest_epochs : int
        Epochs of the multipath phase and of the heaviest-only phase before it.
    lr, heaviest_lr : float
        Peak learning rates (cosine decay within each phase); ``heaviest_lr`` defaults to ``lr``.
    momentum, weight_decay : float
        SGD (Nesterov) settings; no weight decay on BatchNorm and biases.
    distill : float in [0, 1]
        Weight ``gamma`` of the distillation term for sampled paths (0: labels only).
    temperature : float
        Distillation temperature.
    sampling : {"batch", "sample"}
        One uniform path per batch, or one per sample (``Supernet.set_sampling("sample")``).
    n_paths : int
        Sampled paths per step in the multipath phase.
    max_steps_per_epoch : int, optional
        Cap on the steps of an epoch (fast settings).
    grad_clip : float, optional
        Clip the gradient norm.
    seed : int
        Same seed, data and settings give the same weights, with or without interruptions.
    checkpoint : path, optional
        ``<checkpoint>.pt`` / ``<checkpoint>.json``: written after every epoch, resumed from when
        present (the settings must match).
    progress : bool
        Show a tqdm progress bar.
    stop_after_epochs : int, optional
        Stop (after writing the checkpoint) once this many epochs of the run are done, as if
        interrupted; for tests and time-sliced jobs.

    Returns
    -------
    TrainResult
    """
    settings = TrainSettings(
        heaviest_epochs=heaviest_epochs, epochs=epochs, lr=lr, heaviest_lr=heaviest_lr,
        momentum=momentum, weight_decay=weight_decay, distill=distill, temperature=temperature,
        sampling=sampling, n_paths=n_paths, max_steps_per_epoch=max_steps_per_epoch,
        grad_clip=grad_clip, seed=seed,
    ).validate()
    t0 = time.perf_counter()
    device = model_device(supernet)
    optimizer = torch.optim.SGD(_param_groups(supernet, weight_decay), lr=lr, momentum=momentum,
                                nesterov=momentum > 0)
    history: list[dict[str, float]] = []
    start = 0
    ckpt = None if checkpoint is None else Path(checkpoint)
    if ckpt is not None:
        loaded = _read_checkpoint(ckpt, settings)
        if loaded is not None:
            state, history = loaded
            supernet.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            start = int(state["epoch"])
            logger.info("train_supernet: resumed from %s after epoch %d", ckpt, start)
    total_epochs = heaviest_epochs + epochs
    steps = _steps_per_epoch(loader, max_steps_per_epoch)
    heaviest = supernet.heaviest_arch()
    done_now = 0
    bar = progress_bar((total_epochs - start) * steps, "supernet", progress)
    try:
        for epoch in range(start, total_epochs):
            phase = "heaviest" if epoch < heaviest_epochs else "multipath"
            rng = _reseed_epoch(loader, seed, epoch)
            supernet.train()
            if phase == "heaviest":
                peak, e0, n_ep = (heaviest_lr or lr), 0, heaviest_epochs
            else:
                peak, e0, n_ep = lr, heaviest_epochs, epochs
            sums = {"loss": 0.0, "heaviest_ce": 0.0, "path_ce": 0.0, "kd": 0.0}
            n = 0
            for i, (x, y) in enumerate(loader):
                if i >= steps:
                    break
                x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                cur = _cosine(peak, (epoch - e0) * steps + i, n_ep * steps)
                for g in optimizer.param_groups:
                    g["lr"] = cur
                optimizer.zero_grad(set_to_none=True)
                supernet.set_arch(heaviest)
                t_logits = supernet(x)
                loss = F.cross_entropy(t_logits, y)
                sums["heaviest_ce"] += float(loss.detach())
                if phase == "multipath":
                    teacher = t_logits.detach()
                    for _ in range(n_paths):
                        if settings.sampling is Sampling.BATCH:
                            supernet.set_arch(supernet.sample_arch(rng))
                        else:
                            supernet.set_arch(None)
                            supernet.set_sampling(Sampling.SAMPLE, rng)
                        s_logits = supernet(x)
                        ce = F.cross_entropy(s_logits, y)
                        kd = _kd_loss(s_logits, teacher, temperature) if distill else ce * 0
                        loss = loss + (1.0 - distill) * ce + distill * kd
                        sums["path_ce"] += float(ce.detach()) / n_paths
                        sums["kd"] += float(kd.detach()) / n_paths
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"train_supernet: loss is {float(loss)} at epoch {epoch} step {i}; lower lr"
                    )
                loss.backward()
                if grad_clip:
                    nn.utils.clip_grad_norm_(supernet.parameters(), grad_clip)
                optimizer.step()
                sums["loss"] += float(loss.detach())
                n += 1
                bar.update(1)
                bar.set_postfix(epoch=epoch, phase=phase, loss=f"{float(loss.detach()):.3f}")
            if settings.sampling is Sampling.SAMPLE:
                supernet.set_sampling(Sampling.BATCH)
            supernet.set_arch(None)
            row = {"epoch": epoch, "phase": phase, "steps": n, "lr_end": cur if n else 0.0,
                   **{k: v / max(n, 1) for k, v in sums.items()}}
            history.append(row)
            logger.info("train_supernet: epoch %d (%s) loss %.4f", epoch, phase, row["loss"])
            if ckpt is not None:
                _write_checkpoint(ckpt, supernet, optimizer, epoch + 1, settings, history)
            done_now += 1
            if stop_after_epochs is not None and done_now >= stop_after_epochs:
                break
    finally:
        bar.close()
    supernet.eval()
    return TrainResult(epochs_done=start + done_now, history=tuple(history),
                       wall_time=time.perf_counter() - t0, resumed_from=start,
                       settings=settings.to_dict())


@torch.no_grad()
def evaluate_accuracy(model: nn.Module, loader, *, max_batches: int | None = None) -> float:
    """Top-1 accuracy in percent of ``model`` (eval mode) over ``loader``."""
    device = model_device(model)
    was_training = model.training
    model.eval()
    correct = total = 0
    for i, (x, y) in enumerate(loader):
        if max_batches is not None and i >= max_batches:
            break
        pred = model(x.to(device)).argmax(1)
        correct += int((pred == y.to(device)).sum())
        total += int(y.numel())
    model.train(was_training)
    if total == 0:
        raise ValueError("evaluate_accuracy: the loader gave no samples")
    return 100.0 * correct / total


def finetune(
    child: nn.Module,
    loader,
    *,
    epochs: int = 1,
    lr: float = 0.01,
    momentum: float = 0.9,
    weight_decay: float = 4e-5,
    teacher: nn.Module | None = None,
    distill: float = 0.0,
    temperature: float = 1.0,
    max_steps_per_epoch: int | None = None,
    seed: int = 0,
    progress: bool = True,
) -> TrainResult:
    """Briefly fine-tune an exported child network (cosine lr from ``lr`` to 0).

    With a ``teacher`` (e.g. the supernet set to its heaviest path) and ``distill > 0`` the loss
    is ``(1 - distill) * CE + distill * KD(teacher)``, as in the authors' fine-tuning recipe.
    """
    if epochs < 0 or not lr > 0 or not 0.0 <= distill <= 1.0:
        raise ValueError(f"finetune: need epochs >= 0, lr > 0, distill in [0, 1]; got "
                         f"epochs={epochs}, lr={lr}, distill={distill}")
    if distill and teacher is None:
        raise ValueError("finetune: distill > 0 needs a teacher")
    t0 = time.perf_counter()
    device = model_device(child)
    optimizer = torch.optim.SGD(_param_groups(child, weight_decay), lr=lr, momentum=momentum,
                                nesterov=momentum > 0)
    steps = _steps_per_epoch(loader, max_steps_per_epoch)
    history: list[dict[str, float]] = []
    if teacher is not None:
        teacher.eval()
    bar = progress_bar(epochs * steps, "finetune", progress)
    try:
        for epoch in range(epochs):
            _reseed_epoch(loader, seed, epoch)
            child.train()
            tot, n = 0.0, 0
            for i, (x, y) in enumerate(loader):
                if i >= steps:
                    break
                x, y = x.to(device), y.to(device)
                for g in optimizer.param_groups:
                    g["lr"] = _cosine(lr, epoch * steps + i, epochs * steps)
                optimizer.zero_grad(set_to_none=True)
                logits = child(x)
                loss = F.cross_entropy(logits, y)
                if distill:
                    with torch.no_grad():
                        t_logits = teacher(x)
                    loss = (1 - distill) * loss + distill * _kd_loss(logits, t_logits, temperature)
                loss.backward()
                optimizer.step()
                tot += float(loss.detach())
                n += 1
                bar.update(1)
            history.append({"epoch": epoch, "phase": "finetune", "steps": n,
                            "loss": tot / max(n, 1)})
    finally:
        bar.close()
    child.eval()
    return TrainResult(epochs_done=epochs, history=tuple(history),
                       wall_time=time.perf_counter() - t0,
                       settings={"epochs": epochs, "lr": lr, "distill": distill, "seed": seed})
