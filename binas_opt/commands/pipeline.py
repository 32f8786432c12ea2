"""``binas-opt pipeline``: the end-to-end BINAS pipeline on Fashion-MNIST (needs torch)."""

from __future__ import annotations

import argparse

NAME = "pipeline"
HELP = ("end to end on Fashion-MNIST: train a supernet, measure contributions and the CPU "
        "latency table, solve 3 budgets, export, fine-tune, report predicted vs measured")


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="binas_pipeline",
                        help="output folder (report.json, checkpoint, caches; resumable)")
    parser.add_argument("--tiny", action="store_true",
                        help="tiny settings (tiny space, ~1000 images, a few steps): a smoke test")
    parser.add_argument("--root", default=None, help="Fashion-MNIST folder "
                        "(default $BINAS_FASHION_MNIST or /usr/share/datasets/fashion-mnist)")
    parser.add_argument("--epochs", type=int, default=None, help="multipath epochs")
    parser.add_argument("--heaviest-epochs", type=int, default=None)
    parser.add_argument("--train-subset", type=int, default=None, help="training images")
    parser.add_argument("--max-steps-per-epoch", type=int, default=None)
    parser.add_argument("--n-samples", type=int, default=None,
                        help="contexts per decision for the contributions")
    parser.add_argument("--reference", choices=["uniform", "smallest"], default=None)
    parser.add_argument("--budgets", type=_floats, default=None, metavar="MS,MS,MS",
                        help="latency budgets in ms (default: 3 between the table's min and max)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    try:
        from binas_opt.models.pipeline import PipelineConfig, run_pipeline
    except ImportError as exc:  # torch missing
        raise ValueError(f"the pipeline needs PyTorch (pip install binas-opt[torch]): {exc}") from exc

    cfg = PipelineConfig.tiny() if args.tiny else PipelineConfig()
    changes = {
        "root": args.root, "epochs": args.epochs, "heaviest_epochs": args.heaviest_epochs,
        "train_subset": args.train_subset, "max_steps_per_epoch": args.max_steps_per_epoch,
        "n_samples": args.n_samples, "reference": args.reference, "budgets": args.budgets,
        "threads": args.threads,
    }
    cfg = replace(cfg, seed=args.seed, **{k: v for k, v in changes.items() if v is not None})
    report = run_pipeline(cfg, args.out, progress=not args.no_progress)
    print(report.summary())
    print(f"report: {args.out}/report.json")
    return 0
