"""``binas-opt pipeline``: the end-to-end BINAS pipeline on Fashion-MNIST (needs torch)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from binas_opt.commands._common import CLIError

NAME = "pipeline"
HELP = ("end to end on Fashion-MNIST: train a supernet, measure contributions and the CPU "
        "latency table, solve 3 budgets, export, fine-tune, report predicted vs measured")
DESCRIPTION = HELP + """.

presets (measured on a shared 2-core VM):
  --tiny    smoke test, under 30 s: checks that every step runs; its accuracies are near
            chance level (10% on 10 classes) and say nothing about the method
  --small   a first real run, about 8 minutes: the full Fashion-MNIST space, 4,000 training
            images; test accuracies of the chosen networks about 55% (chance: 10%)
  (none)    the default settings (12,000 images, 3 epochs): longer
Options given explicitly override the preset.  The output folder holds report.json, the supernet
checkpoint, the tables (accuracy_table.json, latency_table.json), the solutions and resumable
caches: running again with the same folder and settings resumes."""

DEFAULT_OUT = "binas_pipeline"


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                        help="output folder: report.json, checkpoint, tables, caches (resumable)")
    preset = parser.add_mutually_exclusive_group()
    preset.add_argument("--tiny", action="store_true",
                        help="smoke test (under 30 s on 2 cores; accuracies near chance level)")
    preset.add_argument("--small", action="store_true",
                        help="first real run (about 8 min on 2 cores; accuracy clearly above "
                             "chance)")
    parser.add_argument("--root", default=None, metavar="FOLDER",
                        help="Fashion-MNIST folder (default: $BINAS_FASHION_MNIST or "
                             "/usr/share/datasets/fashion-mnist)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="multipath supernet epochs (default: the preset's)")
    parser.add_argument("--heaviest-epochs", type=int, default=None,
                        help="epochs training the heaviest path first (default: the preset's)")
    parser.add_argument("--train-subset", type=int, default=None,
                        help="training images used (default: the preset's)")
    parser.add_argument("--max-steps-per-epoch", type=int, default=None,
                        help="cap on the steps of an epoch (default: the preset's)")
    parser.add_argument("--n-samples", type=int, default=None,
                        help="contexts per decision for the contributions (default: the preset's)")
    parser.add_argument("--reference", choices=["uniform", "smallest"], default=None,
                        help="reference of the contributions: uniformly sampled networks or the "
                             "smallest one (default: the preset's)")
    parser.add_argument("--budgets", type=_floats, default=None, metavar="MS,MS,MS",
                        help="latency budgets in ms (default: 3 between the table's min and max)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: 1 with --tiny and --small, else torch's "
                             "current setting)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of data splits, weights, sampling and solving")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _preset(args):
    from binas_opt.models.pipeline import PipelineConfig

    if args.tiny:
        return "tiny", PipelineConfig.tiny()
    if args.small:
        return "small", PipelineConfig.small()
    return "default", PipelineConfig()


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    try:
        from binas_opt.models.data import DatasetNotFoundError
        from binas_opt.models.pipeline import run_pipeline
    except ImportError as exc:  # torch missing
        raise CLIError(f"the pipeline needs PyTorch (pip install binas-opt[torch]): {exc}") from exc

    name, cfg = _preset(args)
    changes = {
        "root": args.root, "epochs": args.epochs, "heaviest_epochs": args.heaviest_epochs,
        "train_subset": args.train_subset, "max_steps_per_epoch": args.max_steps_per_epoch,
        "n_samples": args.n_samples, "reference": args.reference, "budgets": args.budgets,
        "threads": args.threads,
    }
    cfg = replace(cfg, seed=args.seed, **{k: v for k, v in changes.items() if v is not None})
    out = Path(args.out)
    print(f"pipeline ({name} settings, space {cfg.space.replace('_', '-')}): writing to "
          f"{out.resolve()}", flush=True)
    if name == "tiny":
        print("note: --tiny is a smoke test (a few training steps): it checks that every step "
              "runs; expect accuracies near chance level (10% on 10 classes). Use --small for a "
              "first real result.", flush=True)
    try:
        report = run_pipeline(cfg, out, progress=not args.no_progress)
    except DatasetNotFoundError as exc:
        from binas_opt.models import data

        head = str(exc).split(" Install ")[0].rstrip(".")
        raise CLIError(
            f"{head}. Install Debian's package with `apt-get install "
            f"{getattr(data, 'APT_PACKAGE', 'dataset-fashion-mnist')}`, or give --root FOLDER "
            f"(or set {getattr(data, 'ENV_VAR', 'BINAS_FASHION_MNIST')}) naming a folder that "
            "holds the four IDX files") from None
    print(report.summary())
    if name == "tiny":
        print("(smoke test: accuracies near 10% are expected, see the note above)")
    print(f"report: {out / 'report.json'}")
    sys.stdout.flush()
    return 0
