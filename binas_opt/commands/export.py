"""``binas-opt export``: the chosen architecture as a stand-alone PyTorch network file."""

from __future__ import annotations

import argparse
from pathlib import Path

from binas_opt.commands._common import (
    SPACE_NAMES,
    CLIError,
    format_architecture,
    load_object,
    load_space,
    space_label,
)

NAME = "export"
HELP = "write the architecture of a result (binas-opt solve --json) as a PyTorch network file"
DESCRIPTION = HELP + """.

Formats, by the suffix of --output:
  .pt2  a torch.export program: torch.export.load(path).module() runs it without binas-opt
  .pt   {"arch_def", "space", "state_dict"} for torch.load(path, weights_only=True); rebuild with
        binas_opt.models.build_child(space, arch) and load_state_dict
With --supernet the network inherits the supernet's weights (BatchNorm statistics included:
recalibrate or fine-tune on your data before use, binas_opt.models.recalibrate_bn); without it
the weights are freshly initialised (for timing, or training from scratch).  Needs torch and a
MobileNetV3-style space (stages with channels).

example:
  binas-opt export result.json --space latency.json -o child.pt2"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("result", help="a Result JSON (binas-opt solve --json)")
    parser.add_argument("--space", required=True,
                        help="the search space: " + ", ".join(SPACE_NAMES)
                             + ", or any binas-opt JSON holding one (problem, table)")
    parser.add_argument("-o", "--output", required=True, metavar="PATH",
                        help="output file, .pt2 (torch.export) or .pt (weights + arch_def)")
    parser.add_argument("--supernet", default=None, metavar="CHECKPOINT",
                        help="inherit weights from this supernet checkpoint (.pt of "
                             "train_supernet or a state dict; default: fresh weights)")
    parser.add_argument("--seed", type=int, default=0, help="seed of fresh weights")


def load_result_arch(path: str, space):
    """The architecture of a Result JSON, validated against ``space``."""
    from binas_opt.solving.result import Result

    result = load_object(path, "result")
    if not isinstance(result, Result):
        raise CLIError(f"result {path}: holds a {type(result).__name__}, not a Result")
    if result.architecture is None:
        raise CLIError(f"result {path}: status {result.status.value}, no architecture to use")
    try:
        arch = space.validate(result.architecture, f"result {path}: architecture")
    except (ValueError, TypeError) as exc:
        raise CLIError(f"{exc} (is --space the space the problem was solved on?)") from None
    return result, arch


def build_network(space, arch, supernet_path: str | None, seed: int):
    """The child network (fresh weights from ``seed``, or inherited from a supernet)."""
    import torch

    from binas_opt.models import Supernet, build_child

    if space.fixed is None or any(st.channels is None for st in space.stages):
        raise CLIError(f"space {space_label(space)} is not MobileNetV3-style (stages with "
                       "channels): there is no network to build")
    torch.manual_seed(seed)
    if supernet_path is None:
        return build_child(space, arch)
    try:
        state = torch.load(supernet_path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CLIError(f"--supernet {supernet_path}: no such file") from None
    except (RuntimeError, OSError, ValueError) as exc:
        raise CLIError(f"--supernet {supernet_path}: not a torch checkpoint: {exc}") from None
    net = Supernet(space)
    try:
        net.load_state_dict(state["model"] if isinstance(state, dict) and "model" in state
                            else state)
    except (RuntimeError, TypeError, KeyError) as exc:
        msg = " ".join(str(exc).split())[:200]
        raise CLIError(f"--supernet {supernet_path}: does not fit this space: {msg}") from None
    return build_child(space, arch, net)


def run(args: argparse.Namespace) -> int:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch missing
        raise CLIError(f"export needs PyTorch (pip install binas-opt[torch]): {exc}") from None

    out = Path(args.output)
    if out.suffix not in (".pt2", ".pt"):
        raise CLIError(f"--output {out}: use a .pt2 (torch.export) or .pt (state dict) file name")
    space = load_space(args.space)
    _, arch = load_result_arch(args.result, space)
    net = build_network(space, arch, args.supernet, args.seed).eval()
    size = space.fixed.input_size
    x = torch.zeros(1, space.fixed.in_channels, size, size)
    from binas_opt.io import atomic_write

    if out.suffix == ".pt2":
        import io

        program = torch.export.export(net, (x,))
        buf = io.BytesIO()
        torch.export.save(program, buf)
        atomic_write(out, lambda tmp: Path(tmp).write_bytes(buf.getvalue()))
    else:
        doc = {"arch_def": arch.to_string(space), "space": space.to_dict(),
               "state_dict": net.state_dict()}
        atomic_write(out, lambda tmp: torch.save(doc, tmp))
    n_params = sum(p.numel() for p in net.parameters())
    print(f"network of {space_label(space)} ({n_params:,} parameters, input "
          f"{tuple(x.shape)}), weights {'from ' + args.supernet if args.supernet else 'fresh'}:")
    print(format_architecture(space, arch))
    print(f"wrote {out}")
    return 0

