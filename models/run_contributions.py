"""Launch script: measure accuracy contributions, on one process or data-parallel.

One process::

    python -m binas_opt.models.run_contributions --space fashion_mnist \\
        --supernet supernet.pt --out contributions.json

N processes on one machine (gloo on CPU, nccl when CUDA is present; results are identical)::

    torchrun --nproc_per_node=N -m binas_opt.models.run_contributions --space fashion_mnist \\
        --supernet supernet.pt --out contributions.json

Several machines: the usual ``torchrun --nnodes=... --rdzv-endpoint=...`` arguments.  Rank 0
writes ``--out`` (and the ``--cache``); every rank must be able to read ``--supernet`` and the
data.  ``--mode samples`` measures the one-shot accuracies of ``--n-archs`` random
sub-networks instead (:func:`~binas_opt.models.sampled_accuracies.sample_accuracies`).
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    from .decisions import Reference
    from .subnet_evaluation import BNMode

    p = argparse.ArgumentParser(prog="python -m binas_opt.models.run_contributions",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--space", default="fashion_mnist",
                   type=lambda s: s.strip().lower().replace("-", "_"),  # fashion-mnist-tiny too
                   choices=["fashion_mnist", "fashion_mnist_tiny"],
                   help="the search space (binas_opt.mbconv.spaces.fashion_mnist_space); "
                        "fashion-mnist-tiny and fashion_mnist_tiny are the same")
    p.add_argument("--supernet", default=None,
                   help="supernet weights: a train_supernet checkpoint (.pt) or a state dict; "
                        "default: random weights from --init-seed")
    p.add_argument("--init-seed", type=int, default=0, help="seed of random initial weights")
    p.add_argument("--data", default="fashion-mnist", choices=["fashion-mnist", "synthetic"])
    p.add_argument("--root", default=None, help="Fashion-MNIST folder")
    p.add_argument("--val-subset", type=int, default=2000, help="validation images used")
    p.add_argument("--calib-subset", type=int, default=2048,
                   help="training images in the BatchNorm calibration pool")
    p.add_argument("--batch-size", type=int, default=250, help="evaluation batch size")
    p.add_argument("--calib-batch-size", type=int, default=128)
    p.add_argument("--mode", default="contributions", choices=["contributions", "samples"])
    p.add_argument("--n-samples", type=int, default=8, help="contexts per decision")
    p.add_argument("--n-archs", type=int, default=100, help="--mode samples: sub-networks")
    p.add_argument("--eval-batches", type=int, default=1)
    p.add_argument("--calib-batches", type=int, default=2)
    p.add_argument("--reference", default="uniform", choices=[m.value for m in Reference])
    p.add_argument("--bn", default="recalibrate", choices=[m.value for m in BNMode])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", default=None, help="resumable JSON cache of raw counts")
    p.add_argument("--out", required=True, help="output JSON (written by rank 0)")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads per process")
    p.add_argument("--no-progress", action="store_true")
    return p


def _synthetic(n: int, batch: int, seed: int):
    import torch

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return [(x[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    from binas_opt.mbconv.spaces import fashion_mnist_space

    from .contributions import measure_contributions
    from .distributed import dist_info
    from .sampled_accuracies import sample_accuracies
    from .supernet import Supernet

    if args.threads:
        torch.set_num_threads(args.threads)
    d = dist_info(None)
    space = fashion_mnist_space(tiny=args.space == "fashion_mnist_tiny")
    torch.manual_seed(args.init_seed)
    net = Supernet(space)
    if args.supernet:
        state = torch.load(args.supernet, map_location="cpu", weights_only=True)
        net.load_state_dict(state["model"] if "model" in state else state)
    if d.backend == "nccl":
        net = net.to(d.device())
    if args.data == "synthetic":
        val = _synthetic(args.val_subset, args.batch_size, 1)
        calib = _synthetic(args.calib_subset, args.calib_batch_size, 2)
    else:
        from .data import fashion_mnist_loaders

        loaders = fashion_mnist_loaders(args.root, batch_size=args.calib_batch_size,
                                        eval_batch_size=args.batch_size,
                                        train_subset=args.calib_subset,
                                        val_subset=args.val_subset, test_subset=1)
        val, calib = loaders.val, loaders.train
    progress = not args.no_progress
    if args.mode == "contributions":
        res = measure_contributions(
            net, space, val, calib_loader=calib, n_samples=args.n_samples,
            eval_batches=args.eval_batches, calib_batches=args.calib_batches,
            reference=args.reference, bn=args.bn, seed=args.seed, cache=args.cache,
            progress=progress)
        doc = res.to_dict()
    else:
        res = sample_accuracies(net, space, val, args.n_archs, calib_loader=calib,
                                calib_batches=args.calib_batches, bn=args.bn, seed=args.seed,
                                progress=progress)
        doc = res.to_dict()
    if d.rank == 0:
        from binas_opt.io import atomic_write_text

        doc["world_size"] = d.world
        atomic_write_text(args.out, json.dumps(doc, indent=1))
    if d.active:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
