"""FBNet JSON latency lookup tables (:func:`read_fbnet_json`).

As written by FBNet lookup-table generators: a list with one entry per layer of the super-net,
``null`` for fixed layers (stem conv, BatchNorm, head, pooling, classifier; the file carries no
latency for them, so the constant is 0 unless ``const`` is given) and a list of latencies for
each searchable layer, in FBNet's op order ``k3_e1, k3_e1_g2, k3_e3, k3_e6, k5_e1, k5_e1_g2,
k5_e3, k5_e6, skip`` (``g2``: grouped 1x1 convs). Layers that change the channel count or stride
have no ``skip`` (8 values).

*Mapping of FBNet's skip.* FBNet has no depth choice: any layer may be replaced by an identity,
anywhere in a stage, so skip cannot be expressed as a stage depth (which only drops trailing
blocks). Each searchable layer is therefore a one-block stage with depths ``{1}``, and
``"skip"`` is an ordinary op label of that block whose latency is the file's last value. The
resulting space has one stage per layer (22 for FBNet), and a Table over it is exact.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from binas_opt.io.lut import LutImport
from binas_opt.model.space import SearchSpace, Stage
from binas_opt.model.table import Table

__all__ = ["read_fbnet_json", "fbnet_space", "FBNET_OPS", "FBNET_STAGES"]

#: FBNet's op choices, in the order of its lookup tables.
FBNET_OPS = ("k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6", "skip")
#: FBNet's searchable stages: (output channels, stride of the first layer, number of layers).
FBNET_STAGES = ((16, 1, 1), (24, 2, 4), (32, 2, 4), (64, 2, 4), (112, 1, 4), (184, 2, 4),
                (352, 1, 1))


def fbnet_space(num_ops: Sequence[int] | None = None, labels: Sequence[str] = FBNET_OPS,
                stages: Sequence[tuple[int, int, int]] = FBNET_STAGES) -> SearchSpace:
    """FBNet's space as one-block stages with depth ``{1}`` (see the module docstring).

    Parameters
    ----------
    num_ops : sequence of int, optional
        Number of ops of every layer (the first ``num_ops[i]`` of ``labels``).  Default: all
        labels for every layer (as in HW-NAS-Bench / HELP, where skip is allowed everywhere).
    labels : sequence of str
        Op labels in the lookup-table order.
    stages : sequence of (channels, stride, layers)
        FBNet's macro structure, used for the names, channels and strides of the layers.
    """
    meta = [(c, s if j == 0 else 1, f"tbs{i}_{j}")
            for i, (c, s, n) in enumerate(stages) for j in range(n)]
    if num_ops is None:
        num_ops = [len(labels)] * len(meta)
    num_ops = [int(k) for k in num_ops]
    if len(num_ops) != len(meta):
        raise ValueError(f"num_ops has {len(num_ops)} layers, the FBNet structure has {len(meta)}")
    for i, k in enumerate(num_ops):
        if not 1 <= k <= len(labels):
            raise ValueError(f"num_ops[{i}] = {k}, expected 1..{len(labels)}")
    return SearchSpace(
        [Stage((1,), list(labels[:k]), name=nm, channels=c, stride=s, activation="relu")
         for k, (c, s, nm) in zip(num_ops, meta, strict=True)],
        name="fbnet",
    )


def read_fbnet_json(
    path,
    space: SearchSpace | None = None,
    *,
    labels: Sequence[str] = FBNET_OPS,
    const: float = 0.0,
    unit: str = "us",
    name: str = "latency",
) -> LutImport:
    """Read an FBNet-style JSON lookup table (one list of latencies per searchable layer).

    Parameters
    ----------
    path : path
        The JSON file: a list with ``null`` for fixed layers and a list of latencies (in the
        order of ``labels``; a layer may list fewer, e.g. no ``skip``) per searchable layer.
    space : SearchSpace, optional
        Validated against the file: one stage per searchable layer, each with depths ``{1}`` and
        op labels found among that layer's labels.  Inferred (:func:`fbnet_space`) when omitted.
    labels : sequence of str
        Op labels in the file's order (FBNet's by default).
    const : float
        Latency of the fixed layers, which the file does not give.
    unit, name : str
        The Table's unit (FBNet tables are in microseconds) and name.

    Returns
    -------
    LutImport
        ``std`` is ``None`` (the format has no dispersion).
    """
    path = Path(path)
    where = str(path)
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, dict):  # some generators wrap the list
        for k in ("lookup_table", "latency", "table"):
            if isinstance(data.get(k), list):
                data = data[k]
                break
    if not isinstance(data, list):
        raise ValueError(f"{where}: expected a JSON list (null for fixed layers, a list of "
                         "latencies per searchable layer)")
    layers = []
    for i, v in enumerate(data):
        if v is None:
            continue
        if not isinstance(v, list) or not v:
            raise ValueError(f"{where}: entry {i} is {type(v).__name__}, expected null or a list "
                             "of latencies")
        arr = np.asarray(v, dtype=float)
        if arr.size > len(labels):
            raise ValueError(f"{where}: entry {i} has {arr.size} latencies but only {len(labels)} "
                             "op labels are known")
        bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
        if bad.size:
            raise ValueError(f"{where}: entry {i} op {labels[bad[0]]!r} has latency "
                             f"{arr[bad[0]]} (must be finite and >= 0)")
        layers.append((i, arr))
    if not layers:
        raise ValueError(f"{where}: no searchable layers (every entry is null)")
    if space is None:
        n = len(layers)
        if n == sum(k for _, _, k in FBNET_STAGES):
            space = fbnet_space([a.size for _, a in layers], labels)
        else:
            space = SearchSpace([Stage((1,), list(labels[: a.size]), name=f"layer{j}")
                                 for j, (_, a) in enumerate(layers)], name="fbnet")
    elif not isinstance(space, SearchSpace):
        raise TypeError(f"space must be a SearchSpace, got {type(space).__name__}")
    if space.n_stages != len(layers):
        raise ValueError(f"{where}: the file has {len(layers)} searchable layers, the space has "
                         f"{space.n_stages} stages (one per layer expected)")
    op_vals = []
    for s, (st, (i, arr)) in enumerate(zip(space.stages, layers, strict=True)):
        if st.depths != (1,):
            raise ValueError(f"{where}: {space.stage_name(s)} has depths {st.depths}; FBNet "
                             "layers are one-block stages with depths (1,)")
        have = list(labels[: arr.size])
        missing = [lab for lab in st.ops[0] if lab not in have]
        if missing:
            raise ValueError(f"{where}: {space.stage_name(s)} op {missing[0]!r} is not in the "
                             f"file's layer (entry {i}), which has {have}")
        op_vals.append(arr[[have.index(lab) for lab in st.ops[0]]])
    table = Table(space, float(const), op=np.concatenate(op_vals), name=name, unit=unit)
    return LutImport(space, table, None, (), None, where)
