"""Once-for-All YAML latency lookup tables (:func:`read_ofa_yaml` for one file,
:func:`read_ofa_yaml_by_resolution` for one file per input resolution).

One entry per distinct layer configuration, keyed by the layer kind and its fields, e.g.
``expanded_conv-input:56x56x30-output:28x28x40-expand:4-kernel:5-stride:2-idskip:0`` (optional
``se:0/1`` and ``hs:0/1`` fields as in OFA's MobileNetV3 tables), with
``count``/``mean``/``std`` values. Searchable blocks are the ``expanded_conv`` shapes with more
than one (expand, kernel, SE) configuration; they are chained by their shapes into stages: a
transition block (``idskip:0``, the stage's block 0) followed by repeatable blocks
(``idskip:1``, input shape = output shape; blocks 1, 2, ... of the stage share their latencies).
The depth choices are not in the file: ``depths`` gives them (default ``(2, 3, 4)`` for every
stage with repeatable blocks, ``(1,)`` for a stage with only a transition block). Every other
entry (stem ``Conv``, a fixed first block, ``Conv_1``, ``Logits``, ...) is summed into the
Table's constant. Op labels are MBConv labels (``"k5_e4"``, ``"k3_e6_se0.25"``) in the order
(expansion, kernel, SE). OFA's latency estimator reports milliseconds; the unit is a parameter
because the files do not say.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from binas_opt.io.lut import LutEntry, LutImport
from binas_opt.mbconv.arch_def import MBConvOp
from binas_opt.model.space import SearchSpace, Stage
from binas_opt.model.table import Table

__all__ = ["read_ofa_yaml", "read_ofa_yaml_by_resolution"]

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


def read_ofa_yaml(
    path: str | os.PathLike,
    space: SearchSpace | None = None,
    *,
    depths: Sequence = (2, 3, 4),
    unit: str = "ms",
    name: str = "latency",
) -> LutImport:
    """Read one Once-for-All style YAML latency lookup table.

    Parameters
    ----------
    path : path
        The YAML file (for a folder or several files, one per input resolution, use
        :func:`read_ofa_yaml_by_resolution`).
    space : SearchSpace, optional
        The space to build the Table for; validated against the file (stage count, channels and
        stride where the space states them, and every op label of every block must be in the
        file; a mismatch raises ``ValueError`` naming it).  Inferred from the file when omitted
        (see the module docstring).
    depths : sequence of int, or sequence of sequences of int
        Depth choices of the inferred space: one tuple for every stage that has repeatable
        blocks (stages with only a transition block get ``(1,)``), or one tuple per stage.
    unit, name : str
        Unit and name of the returned Tables (OFA reports milliseconds).

    Returns
    -------
    LutImport

    Examples
    --------
    >>> from binas_opt.io.ofa import read_ofa_yaml
    >>> lut = read_ofa_yaml("/work/shared/data/lut_fixtures/ofa_yaml/224_lookup_table.yaml")
    ... # doctest: +SKIP
    >>> lut.space.n_stages, lut.table.unit  # doctest: +SKIP
    (6, 'ms')
    """
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"read_ofa_yaml: {p} is a folder; read_ofa_yaml_by_resolution reads "
                         "a folder of tables")
    if not p.is_file():
        raise FileNotFoundError(f"lookup table {p} does not exist")
    return _ofa_one(p, space, depths, unit, name)


def read_ofa_yaml_by_resolution(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    space: SearchSpace | None = None,
    *,
    depths: Sequence = (2, 3, 4),
    unit: str = "ms",
    name: str = "latency",
) -> dict[int, LutImport]:
    """Read Once-for-All YAML tables of one network at several input resolutions.

    Parameters
    ----------
    paths : path or sequence of paths
        A folder (every ``*.yaml`` / ``*.yml`` in it) or a list of files.  Every file must
        state its input resolution (a stem ``Conv-input:HxWxC`` entry), at most one file per
        resolution.
    space, depths, unit, name
        As for :func:`read_ofa_yaml`.  Every file must match the space of the first one.

    Returns
    -------
    dict of int to LutImport
        Keyed by input resolution (ascending); the imports share one space.
    """
    out: dict[int, LutImport] = {}
    for p in _yaml_paths(paths):
        imp = _ofa_one(p, space, depths, unit, name)
        space = imp.space  # every file must match the first one's space
        if imp.resolution is None:
            raise ValueError(f"{p}: no stem 'Conv-input:HxWxC' entry states the input resolution")
        if imp.resolution in out:
            raise ValueError(f"{p}: a second table for resolution {imp.resolution}")
        out[imp.resolution] = imp
    return dict(sorted(out.items()))


def _yaml_paths(paths) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        p = Path(paths)
        if p.is_dir():
            files = sorted(list(p.glob("*.yaml")) + list(p.glob("*.yml")))
            if not files:
                raise FileNotFoundError(f"{p}: no .yaml lookup tables in this folder")
            return files
        paths = [p]
    files = [Path(p) for p in paths]
    if not files:
        raise ValueError("read_ofa_yaml_by_resolution: no paths given")
    for p in files:
        if not p.is_file():
            raise FileNotFoundError(f"lookup table {p} does not exist")
    return files
