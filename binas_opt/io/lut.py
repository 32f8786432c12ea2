"""Importers for latency lookup tables written by other NAS projects.

Two formats are read into a :class:`~binas_opt.Table` over a matching
:class:`~binas_opt.SearchSpace` (inferred from the file, or given and validated against it):

**Once-for-All YAML** (:func:`read_ofa_yaml`).  One entry per distinct layer configuration,
keyed by the layer kind and its fields, e.g.
``expanded_conv-input:56x56x30-output:28x28x40-expand:4-kernel:5-stride:2-idskip:0`` (optional
``se:0/1`` and ``hs:0/1`` fields as in OFA's MobileNetV3 tables), with ``count``/``mean``/``std``
values.  Searchable blocks are the ``expanded_conv`` shapes with more than one (expand, kernel,
SE) configuration; they are chained by their shapes into stages: a transition block
(``idskip:0``, the stage's block 0) followed by repeatable blocks (``idskip:1``, input shape =
output shape; blocks 1, 2, ... of the stage share their latencies).  The depth choices are not in
the file: ``depths`` gives them (default ``(2, 3, 4)`` for every stage with repeatable blocks,
``(1,)`` for a stage with only a transition block).  Every other entry (stem ``Conv``, a fixed
first block, ``Conv_1``, ``Logits``, ...) is summed into the Table's constant.  Op labels are
MBConv labels (``"k5_e4"``, ``"k3_e6_se0.25"``) in the order (expansion, kernel, SE).  OFA's
latency estimator reports milliseconds; the unit is a parameter because the files do not say.

**FBNet JSON** (:func:`read_fbnet_json`), as written by FBNet lookup-table generators: a list
with one entry per layer of the super-net, ``null`` for fixed layers (stem conv, BatchNorm,
head, pooling, classifier; the file carries no latency for them, so the constant is 0 unless
``const`` is given) and a list of latencies for each searchable layer, in FBNet's op order
``k3_e1, k3_e1_g2, k3_e3, k3_e6, k5_e1, k5_e1_g2, k5_e3, k5_e6, skip`` (``g2``: grouped 1x1
convs).  Layers that change the channel count or stride have no ``skip`` (8 values).

*Mapping of FBNet's skip.*  FBNet has no depth choice: any layer may be replaced by an identity,
anywhere in a stage, so skip cannot be expressed as a stage depth (which only drops trailing
blocks).  Each searchable layer is therefore a one-block stage with depths ``{1}``, and
``"skip"`` is an ordinary op label of that block whose latency is the file's last value.  The
resulting space has one stage per layer (22 for FBNet), and a Table over it is exact.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from binas_opt.mbconv.arch_def import MBConvOp
from binas_opt.model.space import SearchSpace, Stage
from binas_opt.model.table import Table

__all__ = ["LutImport", "LutEntry", "read_ofa_yaml", "read_fbnet_json", "fbnet_space",
           "FBNET_OPS", "FBNET_STAGES"]

log = logging.getLogger("binas_opt")

#: FBNet's op choices, in the order of its lookup tables.
FBNET_OPS = ("k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6", "skip")
#: FBNet's searchable stages: (output channels, stride of the first layer, number of layers).
FBNET_STAGES = ((16, 1, 1), (24, 2, 4), (32, 2, 4), (64, 2, 4), (112, 1, 4), (184, 2, 4),
                (352, 1, 1))


@dataclass(frozen=True)
class LutEntry:
    """A fixed (non-searchable) entry of a lookup table, summed into the constant."""

    key: str
    mean: float
    std: float
    count: int


@dataclass(frozen=True, eq=False)
class LutImport:
    """An imported lookup table.

    Attributes
    ----------
    space : SearchSpace
        The space the table is over (inferred, or the one given).
    table : Table
        Mean latency per entry; the constant is the sum of the fixed entries.
    std : Table or None
        Standard deviation of each entry (the constant is the square root of the summed
        variances of the fixed entries, assuming independence).  ``None`` for formats without it.
    fixed : tuple of LutEntry
        The entries summed into the constant.
    resolution : int or None
        Input resolution, when the file states it.
    source : str
        The file read.
    """

    space: SearchSpace
    table: Table
    std: Table | None
    fixed: tuple[LutEntry, ...]
    resolution: int | None
    source: str


# ---------------------------------------------------------------------------------- OFA YAML
_SHAPE_RE = re.compile(r"^\d+(x\d+)*$")


@dataclass(frozen=True)
class _OfaKey:
    kind: str
    input: tuple[int, ...]
    output: tuple[int, ...]
    expand: float | None
    kernel: int | None
    stride: int | None
    idskip: int | None
    se: int
    hs: int | None

    @property
    def group(self) -> tuple:
        return (self.input, self.output, self.stride, self.idskip)

    @property
    def label(self) -> str:
        return MBConvOp(int(self.kernel), float(self.expand), 0.25 if self.se else 0.0).label

    @property
    def order(self) -> tuple:
        return (self.expand, self.kernel, self.se)


def _parse_ofa_key(key: str, where: str) -> _OfaKey:
    parts = str(key).split("-")
    fields: dict[str, str] = {}
    for tok in parts[1:]:
        name, sep, value = tok.partition(":")
        if not sep:
            raise ValueError(f"{where}: key {key!r}: field {tok!r} is not 'name:value'")
        fields[name] = value

    def shape(name: str) -> tuple[int, ...]:
        v = fields.get(name)
        if v is None or not _SHAPE_RE.match(v):
            raise ValueError(f"{where}: key {key!r}: missing or malformed {name!r} shape")
        return tuple(int(x) for x in v.split("x"))

    def num(name: str, cast):
        v = fields.get(name)
        try:
            return None if v is None else cast(v)
        except ValueError as exc:
            raise ValueError(f"{where}: key {key!r}: field {name!r} is {v!r}") from exc

    k = _OfaKey(
        kind=parts[0], input=shape("input"), output=shape("output"),
        expand=num("expand", float), kernel=num("kernel", int), stride=num("stride", int),
        idskip=num("idskip", int), se=num("se", int) or 0, hs=num("hs", int),
    )
    if k.kind == "expanded_conv" and None in (k.expand, k.kernel, k.stride, k.idskip):
        raise ValueError(
            f"{where}: key {key!r}: an expanded_conv needs expand, kernel, stride and idskip"
        )
    return k


def _entry_values(value, key: str, where: str) -> tuple[float, float, int]:
    if isinstance(value, dict):
        if "mean" not in value:
            raise ValueError(f"{where}: entry {key!r} has no 'mean' (got {sorted(value)})")
        mean, std, count = value["mean"], value.get("std", 0.0), value.get("count", 1)
    else:
        mean, std, count = value, 0.0, 1
    try:
        mean, std, count = float(mean), float(std), int(count)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: entry {key!r} has a non-numeric value {value!r}") from exc
    if not np.isfinite(mean) or mean < 0 or not np.isfinite(std) or std < 0:
        raise ValueError(
            f"{where}: entry {key!r} has mean {mean}, std {std} (must be finite and >= 0)"
        )
    return mean, std, count


@dataclass(frozen=True)
class _OfaStage:
    first: tuple  # group key of the transition block
    repeat: tuple | None  # group key of the repeatable blocks
    channels: int
    stride: int
    hswish: bool


def _chain_ofa(groups: dict[tuple, dict[str, tuple]], where: str) -> list[_OfaStage]:
    """Order the searchable groups into stages by following tensor shapes."""
    trans = {g: v for g, v in groups.items() if g[3] == 0}
    reps = {g: v for g, v in groups.items() if g[3] != 0}
    by_input = {}
    for g in trans:
        if g[0] in by_input:
            raise ValueError(
                f"{where}: two searchable transition blocks read input shape "
                f"{'x'.join(map(str, g[0]))}; cannot order the stages"
            )
        by_input[g[0]] = g
    rep_by_shape = {g[0]: g for g in reps if g[0] == g[1]}
    produced = {g[1] for g in trans}
    starts = [g for g in trans if g[0] not in produced]
    if len(starts) != 1:
        raise ValueError(
            f"{where}: cannot find where the searchable blocks start ({len(starts)} candidate "
            "transition blocks); the file does not describe a chain of stages"
        )
    out, used, cur = [], set(), starts[0]
    while cur is not None and cur not in used:
        used.add(cur)
        rep = rep_by_shape.get(cur[1])
        if rep is not None:
            used.add(rep)
        keys = [k for v in (groups[cur], groups.get(rep, {})) for _, k in v.values()]
        hs = [k.hs for k in keys if k.hs is not None]
        out.append(_OfaStage(cur, rep, cur[1][-1], int(cur[2]), bool(hs) and all(hs)))
        cur = by_input.get(cur[1])
    unused = [g for g in groups if g not in used]
    if unused:
        g = unused[0]
        raise ValueError(
            f"{where}: searchable block input {'x'.join(map(str, g[0]))} -> output "
            f"{'x'.join(map(str, g[1]))} (stride {g[2]}, idskip {g[3]}) is not on the chain of "
            "stages"
        )
    return out


def _ofa_depths(depths, stages: list[_OfaStage], where: str) -> list[tuple[int, ...]]:
    if depths and all(isinstance(d, (int, np.integer)) for d in depths):
        return [tuple(depths) if st.repeat is not None else (1,) for st in stages]
    depths = [tuple(int(x) for x in d) for d in depths]
    if len(depths) != len(stages):
        raise ValueError(
            f"{where}: depths gives {len(depths)} stages, the file has {len(stages)}"
        )
    for s, (d, st) in enumerate(zip(depths, stages, strict=True)):
        if max(d) > 1 and st.repeat is None:
            raise ValueError(
                f"{where}: depths[{s}] = {d} but stage {s} has no repeatable (idskip:1) block"
            )
    return depths


def _read_yaml(path: Path) -> dict:
    import yaml

    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path}: expected a YAML mapping of layer keys to latencies")
    return data


def _ofa_one(path: Path, space: SearchSpace | None, depths, unit: str, name: str) -> LutImport:
    where = str(path)
    data = _read_yaml(path)
    groups: dict[tuple, dict[str, tuple]] = {}
    other: list[tuple[str, _OfaKey]] = []
    values: dict[str, tuple[float, float, int]] = {}
    resolution = None
    for key, value in data.items():
        k = _parse_ofa_key(key, where)
        values[key] = _entry_values(value, key, where)
        if k.kind == "expanded_conv":
            grp = groups.setdefault(k.group, {})
            if k.label in grp:
                raise ValueError(f"{where}: entries {grp[k.label][0]!r} and {key!r} duplicate op "
                                 f"{k.label!r}")
            grp[k.label] = (key, k)
        else:
            other.append((key, k))
        if k.kind == "Conv" and len(k.input) == 3 and resolution is None:
            resolution = int(k.input[0])
    searchable = {g: v for g, v in groups.items() if len(v) > 1}
    fixed_keys = [key for key, _ in other] + [
        key for g, v in groups.items() if g not in searchable for key, _ in v.values()
    ]
    if not searchable:
        raise ValueError(f"{where}: no searchable blocks (expanded_conv shapes with several "
                         "configurations)")
    stages = _chain_ofa(searchable, where)

    def labels(g):
        return [lab for lab, _ in sorted(searchable[g].items(), key=lambda kv: kv[1][1].order)]

    if space is None:
        stage_depths = _ofa_depths(depths, stages, where)
        built = []
        for s, (st, d) in enumerate(zip(stages, stage_depths, strict=True)):
            first = labels(st.first)
            ops = [first] + ([labels(st.repeat)] * (max(d) - 1) if max(d) > 1 else [])
            built.append(Stage(d, ops if any(o != first for o in ops) else first,
                               name=f"s{s}_c{st.channels}", channels=st.channels,
                               stride=st.stride, activation="hswish" if st.hswish else "relu"))
        space = SearchSpace(built, name="ofa_lut")
    else:
        _validate_ofa_space(space, stages, searchable, where)

    mean_op, std_op = [], []
    for st, sst in zip(space.stages, stages, strict=True):
        for b in range(st.max_depth):
            grp = searchable[sst.first if b == 0 else sst.repeat]
            keys = [grp[lab][0] for lab in st.ops[b]]
            mean_op.append([values[k][0] for k in keys])
            std_op.append([values[k][1] for k in keys])
    fixed = tuple(LutEntry(k, *values[k]) for k in fixed_keys)
    const = float(sum(e.mean for e in fixed))
    const_std = float(np.sqrt(sum(e.std**2 for e in fixed)))
    flat_mean = np.concatenate([np.asarray(v) for v in mean_op])
    flat_std = np.concatenate([np.asarray(v) for v in std_op])
    table = Table(space, const, op=flat_mean, name=name, unit=unit)
    std = Table(space, const_std, op=flat_std, name=f"{name}_std", unit=unit)
    return LutImport(space, table, std, fixed, resolution, where)


def _validate_ofa_space(space: SearchSpace, stages: list[_OfaStage], groups, where: str) -> None:
    if not isinstance(space, SearchSpace):
        raise TypeError(f"space must be a SearchSpace, got {type(space).__name__}")
    if space.n_stages != len(stages):
        raise ValueError(
            f"{where}: the file has {len(stages)} searchable stages, the space has {space.n_stages}"
        )
    for s, (st, fst) in enumerate(zip(space.stages, stages, strict=True)):
        sname = space.stage_name(s)
        if st.channels is not None and st.channels != fst.channels:
            raise ValueError(f"{where}: {sname} has {st.channels} channels, the file's stage {s} "
                             f"has {fst.channels}")
        if st.channels is not None and st.stride != fst.stride:
            raise ValueError(f"{where}: {sname} has stride {st.stride}, the file's stage {s} has "
                             f"{fst.stride}")
        if st.max_depth > 1 and fst.repeat is None:
            raise ValueError(f"{where}: {sname} allows depth {st.max_depth} but the file's stage "
                             f"{s} has no repeatable (idskip:1) block")
        for b in range(st.max_depth):
            grp = groups[fst.first if b == 0 else fst.repeat]
            missing = [lab for lab in st.ops[b] if lab not in grp]
            if missing:
                raise ValueError(
                    f"{where}: {sname} block {b} op {missing[0]!r} is not in the file; it has "
                    f"{sorted(grp)}"
                )


def _paths(path_or_paths) -> list[Path]:
    if isinstance(path_or_paths, (str, os.PathLike)):
        p = Path(path_or_paths)
        if p.is_dir():
            files = sorted(list(p.glob("*.yaml")) + list(p.glob("*.yml")))
            if not files:
                raise FileNotFoundError(f"{p}: no .yaml lookup tables in this folder")
            return files
        if not p.exists():
            raise FileNotFoundError(f"lookup table {p} does not exist")
        return [p]
    paths = [Path(p) for p in path_or_paths]
    if not paths:
        raise ValueError("read_ofa_yaml: no paths given")
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"lookup table {p} does not exist")
    return paths


def read_ofa_yaml(
    path_or_paths,
    space: SearchSpace | None = None,
    *,
    depths: Sequence = (2, 3, 4),
    resolution: int | None = None,
    unit: str = "ms",
    name: str = "latency",
) -> LutImport | dict[int, LutImport]:
    """Read Once-for-All style YAML latency lookup tables.

    Parameters
    ----------
    path_or_paths : path, folder or sequence of paths
        One YAML file, a folder of them (``*.yaml``), or a list of files (e.g. one per input
        resolution).
    space : SearchSpace, optional
        The space to build the Table for; validated against the file (stage count, channels and
        stride where the space states them, and every op label of every block must be in the
        file; a mismatch raises ``ValueError`` naming it).  Inferred from the file when omitted
        (see the module docstring).
    depths : sequence of int, or sequence of sequences of int
        Depth choices of the inferred space: one tuple for every stage that has repeatable
        blocks (stages with only a transition block get ``(1,)``), or one tuple per stage.
    resolution : int, optional
        With several files, return only the one of this input resolution.
    unit, name : str
        Unit and name of the returned Tables (OFA reports milliseconds).

    Returns
    -------
    LutImport, or dict of int to LutImport
        One import for one file (or when ``resolution`` is given); otherwise a dict keyed by
        input resolution whose imports share one space.

    Examples
    --------
    >>> from binas_opt.io.lut import read_ofa_yaml
    >>> lut = read_ofa_yaml("/work/shared/data/lut_fixtures/ofa_yaml/224_lookup_table.yaml")
    ... # doctest: +SKIP
    >>> lut.space.n_stages, lut.table.unit  # doctest: +SKIP
    (6, 'ms')
    """
    paths = _paths(path_or_paths)
    if len(paths) == 1:
        return _ofa_one(paths[0], space, depths, unit, name)
    out: dict[int, LutImport] = {}
    for p in paths:
        imp = _ofa_one(p, space, depths, unit, name)
        space = imp.space  # every file must match the first one's space
        if imp.resolution is None:
            raise ValueError(f"{p}: no stem 'Conv-input:HxWxC' entry states the input resolution")
        if imp.resolution in out:
            raise ValueError(f"{p}: a second table for resolution {imp.resolution}")
        out[imp.resolution] = imp
    if resolution is not None:
        if resolution not in out:
            raise ValueError(f"no table for resolution {resolution}; found {sorted(out)}")
        return out[resolution]
    return dict(sorted(out.items()))


# ---------------------------------------------------------------------------------- FBNet JSON
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
