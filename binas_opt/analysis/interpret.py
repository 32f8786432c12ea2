"""Interpretable knowledge from a contribution Table: which op features and stages matter.

An accuracy Table (BINAS's estimator, or a fitted additive predictor) states the contribution
of every op in every block.  This module

* aggregates the contributions by op feature (kernel size, expansion ratio, squeeze-excite, the
  op label itself) and by stage, and ranks them (:func:`aggregate_contributions`);
* builds a reduced search space that keeps only the best ``top_k`` ops of every block
  (:func:`restrict`), with maps between the reduced and the full space
  (:class:`RestrictedSpace`, :func:`restrict_table`);
* measures what the reduction costs: the optimum in the reduced space against the optimum in
  the full space at several budgets, both solved exactly (:func:`restriction_loss`).

**Effects.**  Within a block, an op's *relative contribution* is its value minus the mean value
of the block's ops, so blocks with different offsets are comparable.  The effect of a feature
value (say kernel 5) is the mean relative contribution over every (block, op) that has it, with
its standard deviation and count.  Labels that are not MBConv labels (``"skip"``, ``"down"``,
``"k3_e1_g2"`` parses partially) form their own group under the missing feature.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from binas_opt.model.architecture import Architecture
from binas_opt.model.space import SearchSpace, Stage
from binas_opt.model.table import Table

__all__ = [
    "Feature", "FeatureEffect", "StageEffect", "ContributionSummary", "OpFeatures",
    "op_features", "aggregate_contributions", "RestrictedSpace", "restrict", "restrict_table",
    "RestrictionRow", "RestrictionReport", "restriction_loss",
]


class Feature(StrEnum):
    """An op feature to aggregate by."""

    KERNEL = "kernel"
    EXPANSION = "expansion"
    SE = "se"
    LABEL = "label"


@dataclass(frozen=True)
class OpFeatures:
    """Features read from an op label (``None`` where the label does not state one)."""

    label: str
    kernel: int | None
    expansion: float | None
    se_ratio: float | None

    def value(self, feature: Feature) -> str:
        """The group name of this op under ``feature`` (the label itself when it is missing)."""
        if feature is Feature.LABEL:
            return self.label
        if feature is Feature.KERNEL:
            return f"k{self.kernel}" if self.kernel is not None else self.label
        if feature is Feature.EXPANSION:
            if self.expansion is None:
                return self.label
            e = self.expansion
            return f"e{int(e)}" if float(e).is_integer() else f"e{e:g}"
        if self.se_ratio is None:
            return self.label
        return f"se{self.se_ratio:g}" if self.se_ratio else "no_se"


_K_RE = re.compile(r"(?:^|_)k(\d+)(?:_|$)")
_E_RE = re.compile(r"(?:^|_)e(\d+(?:\.\d+)?)(?:_|$)")
_SE_RE = re.compile(r"(?:^|_)se(\d*\.?\d+)(?:_|$)")


def op_features(label: str) -> OpFeatures:
    """Kernel, expansion and squeeze-excite of an op label.

    MBConv labels (:class:`binas_opt.mbconv.arch_def.MBConvOp`, e.g. ``"k5_e3_se0.25"``) parse fully;
    other labels give the tokens they contain (``"k3_e1_g2"``: kernel 3, expansion 1) and
    ``None`` for the rest (``"skip"``: nothing).
    """
    from binas_opt.mbconv.arch_def import MBConvOp

    try:
        op = MBConvOp.from_label(label)
        return OpFeatures(label, op.kernel, op.expansion, op.se_ratio)
    except ValueError:
        pass
    k, e, se = _K_RE.search(label), _E_RE.search(label), _SE_RE.search(label)
    has_mbconv = k is not None and e is not None
    return OpFeatures(
        label,
        int(k.group(1)) if k else None,
        float(e.group(1)) if e else None,
        float(se.group(1)) if se else (0.0 if has_mbconv else None),
    )


@dataclass(frozen=True)
class FeatureEffect:
    """Mean relative contribution of one feature value (see the module docstring)."""

    feature: Feature
    value: str
    effect: float
    std: float
    count: int
    rank: int


@dataclass(frozen=True)
class StageEffect:
    """How much a stage's decisions can move the table.

    ``spread`` = ``best - worst`` over all of the stage's (depth, ops) choices; ``depth_gain``
    is the best value at the deepest allowed depth minus the best at the shallowest;
    ``op_spread`` the mean over the stage's blocks of (best op - worst op).
    """

    stage: int
    name: str
    best: float
    worst: float
    spread: float
    depth_gain: float
    op_spread: float
    rank: int


@dataclass(frozen=True)
class ContributionSummary:
    """Ranked aggregates of a contribution Table."""

    by_kernel: tuple[FeatureEffect, ...]
    by_expansion: tuple[FeatureEffect, ...]
    by_se: tuple[FeatureEffect, ...]
    by_label: tuple[FeatureEffect, ...]
    by_stage: tuple[StageEffect, ...]
    sense: str
    unit: str | None

    def by(self, feature: Feature | str) -> tuple[FeatureEffect, ...]:
        return getattr(self, f"by_{Feature(feature).value}")

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        lines = []
        for feat in (Feature.KERNEL, Feature.EXPANSION, Feature.SE, Feature.LABEL):
            rows = self.by(feat)
            lines.append(f"by {feat.value}:")
            lines += [f"  {r.rank:>2}. {r.value:<14} {r.effect:+.4g}{unit} (sd {r.std:.3g}, "
                      f"n={r.count})" for r in rows]
        lines.append("by stage:")
        lines += [f"  {r.rank:>2}. {r.name:<14} spread {r.spread:.4g}{unit}, depth gain "
                  f"{r.depth_gain:+.4g}, op spread {r.op_spread:.4g}" for r in self.by_stage]
        return "\n".join(lines)


def _check_sense(sense: str) -> str:
    if sense not in ("max", "min"):
        raise ValueError(f"sense must be 'max' (accuracy) or 'min' (a resource), got {sense!r}")
    return sense


def _relative(table: Table) -> np.ndarray:
    """Op values minus the mean of their block (alpha layout)."""
    space = table.space
    n_ops = np.concatenate([np.asarray(st.num_ops) for st in space.stages])
    mean = np.add.reduceat(table.op_values, space._block_offsets) / n_ops
    return table.op_values - np.repeat(mean, n_ops)


def _labels(space: SearchSpace) -> list[str]:
    idx = space.index
    return [space.stages[s].ops[b][o]
            for s, b, o in zip(idx.alpha_stage, idx.alpha_block, idx.alpha_op, strict=True)]


def _feature_effects(table: Table, feature: Feature, sense: str) -> tuple[FeatureEffect, ...]:
    rel = _relative(table)
    feats = {lab: op_features(lab) for lab in set(_labels(table.space))}
    groups = np.array([feats[lab].value(feature) for lab in _labels(table.space)])
    names, inv = np.unique(groups, return_inverse=True)
    count = np.bincount(inv, minlength=names.size)
    mean = np.bincount(inv, weights=rel, minlength=names.size) / count
    var = np.bincount(inv, weights=(rel - mean[inv]) ** 2, minlength=names.size) / count
    order = np.argsort(-mean if sense == "max" else mean, kind="stable")
    return tuple(
        FeatureEffect(feature, str(names[i]), float(mean[i]), float(np.sqrt(var[i])),
                      int(count[i]), r + 1)
        for r, i in enumerate(order)
    )


def _stage_effects(table: Table, sense: str) -> tuple[StageEffect, ...]:
    space = table.space
    rows = []
    for s, st in enumerate(space.stages):
        hi, _ = table.stage_best(s, "max")
        lo, _ = table.stage_best(s, "min")
        best, worst = (hi, lo) if sense == "max" else (lo, hi)
        spans = [np.ptp(table.op_table(s, b)) for b in range(st.max_depth)]
        rows.append((s, float(best.max() if sense == "max" else best.min()),
                     float(worst.min() if sense == "max" else worst.max()),
                     float(best[-1] - best[0]), float(np.mean(spans))))
    spread = np.array([abs(b - w) for _, b, w, _, _ in rows])
    order = np.argsort(-spread, kind="stable")
    return tuple(
        StageEffect(rows[i][0], space.stage_name(rows[i][0]), rows[i][1], rows[i][2],
                    float(spread[i]), rows[i][3], rows[i][4], r + 1)
        for r, i in enumerate(order)
    )


def aggregate_contributions(table: Table, sense: str = "max") -> ContributionSummary:
    """Aggregate and rank a contribution Table by op feature and by stage.

    Parameters
    ----------
    table : Table
        E.g. the BINAS accuracy estimator or a fitted additive predictor.
    sense : {"max", "min"}
        ``"max"`` ranks high contributions first (accuracy); ``"min"`` ranks low values first
        (latency and other resources).

    Returns
    -------
    ContributionSummary
        ``by_kernel``, ``by_expansion``, ``by_se``, ``by_label`` (ranked feature effects) and
        ``by_stage`` (stages ranked by how much their decisions can move the table).
    """
    if not isinstance(table, Table):
        raise TypeError(f"aggregate_contributions: expected a Table, got {type(table).__name__}")
    sense = _check_sense(sense)
    return ContributionSummary(
        by_kernel=_feature_effects(table, Feature.KERNEL, sense),
        by_expansion=_feature_effects(table, Feature.EXPANSION, sense),
        by_se=_feature_effects(table, Feature.SE, sense),
        by_label=_feature_effects(table, Feature.LABEL, sense),
        by_stage=_stage_effects(table, sense),
        sense=sense,
        unit=table.unit,
    )


# ---------------------------------------------------------------------------------- restrict
@dataclass(frozen=True, eq=False)
class RestrictedSpace:
    """A reduced space keeping some ops of every block, with maps to and from the full space.

    Attributes
    ----------
    space : SearchSpace
        The reduced space (same stages, depths and metadata; fewer ops per block, in their
        original order).
    full : SearchSpace
    kept : tuple of tuple of tuple of int
        ``kept[s][b]``: original op indices kept in block ``b`` of stage ``s``.
    alpha_index : ndarray
        Position in the full ``alpha`` of every reduced ``alpha`` entry.
    """

    space: SearchSpace
    full: SearchSpace
    kept: tuple[tuple[tuple[int, ...], ...], ...]
    alpha_index: np.ndarray

    @property
    def size_ratio(self) -> float:
        """Reduced over full number of architectures."""
        return self.space.num_architectures / self.full.num_architectures

    def to_full(self, arch: Architecture) -> Architecture:
        """The same network as an architecture of the full space."""
        self.space.validate(arch)
        ops = tuple(tuple(self.kept[s][b][o] for b, o in enumerate(row))
                    for s, row in enumerate(arch.ops))
        return Architecture(arch.depths, ops)

    def from_full(self, arch: Architecture) -> Architecture:
        """A full-space architecture in the reduced space; ``ValueError`` if it uses a dropped
        op in an active block (inactive blocks map to op 0)."""
        self.full.validate(arch)
        ops = []
        for s, row in enumerate(arch.ops):
            out = []
            for b, o in enumerate(row):
                if o in self.kept[s][b]:
                    out.append(self.kept[s][b].index(o))
                elif b >= arch.depths[s]:
                    out.append(0)
                else:
                    lab = self.full.stages[s].ops[b][o]
                    raise ValueError(f"{self.full.stage_name(s)} block {b} uses op {lab!r}, "
                                     "which the reduced space dropped")
            ops.append(tuple(out))
        return Architecture(arch.depths, tuple(ops))

    def ops_to_full(self, ops: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`to_full` on a flat op-index matrix ``(n, total_blocks)``."""
        pos = self.alpha_index[self.space._block_offsets[None, :] + np.asarray(ops)]
        return self.full.index.alpha_op[pos]

    def restrict_table(self, table: Table) -> Table:
        """A full-space Table on the reduced space (the kept entries)."""
        return restrict_table(table, self)

    def expand_table(self, table: Table, fill: float = 0.0) -> Table:
        """A reduced-space Table on the full space; dropped ops get ``fill``."""
        if table.space != self.space:
            raise ValueError("expand_table: the table is not over the reduced space")
        op = np.full(self.full.n_alpha, float(fill))
        op[self.alpha_index] = table.op_values
        return Table(self.full, table.const, table.depth_values, op, name=table.name,
                     unit=table.unit)


def restrict(space: SearchSpace, table: Table, top_k: int, *, sense: str = "max",
             keep_cheapest: Table | None = None) -> RestrictedSpace:
    """A reduced space with the best ``top_k`` ops of every block under ``table``.

    Parameters
    ----------
    space : SearchSpace
    table : Table
        The contributions that rank the ops (its space must be ``space``).
    top_k : int
        Ops kept per block (all of them where a block has fewer); ties keep the lower index.
    sense : {"max", "min"}
        ``"max"`` keeps the highest values (accuracy), ``"min"`` the lowest.
    keep_cheapest : Table, optional
        A resource table: also keep the cheapest op of every block under it, so the reduced
        space reaches the full space's minimum of that resource (tight budgets stay feasible).

    Returns
    -------
    RestrictedSpace
    """
    if not isinstance(table, Table) or table.space != space:
        raise ValueError("restrict: table must be a Table over the given space")
    sense = _check_sense(sense)
    if isinstance(top_k, bool) or int(top_k) != top_k or top_k < 1:
        raise ValueError(f"restrict: top_k must be an integer >= 1, got {top_k!r}")
    if keep_cheapest is not None and keep_cheapest.space != space:
        raise ValueError("restrict: keep_cheapest must be a Table over the given space")
    top_k = int(top_k)
    kept, stages = [], []
    for s, st in enumerate(space.stages):
        ks, ops = [], []
        for b in range(st.max_depth):
            vals = table.op_table(s, b)
            order = np.argsort(-vals if sense == "max" else vals, kind="stable")
            keep = set(order[:top_k].tolist())
            if keep_cheapest is not None:
                keep.add(int(np.argmin(keep_cheapest.op_table(s, b))))
            keep = tuple(sorted(keep))
            ks.append(keep)
            ops.append([st.ops[b][o] for o in keep])
        kept.append(tuple(ks))
        stages.append(Stage(st.depths, ops, name=st.name, channels=st.channels, stride=st.stride,
                            activation=st.activation))
    name = f"{space.name or 'space'}_top{top_k}"
    reduced = SearchSpace(stages, fixed=space.fixed, name=name)
    offs = space.index.alpha_offset
    alpha_index = np.array([offs[s, b] + o for s, ks in enumerate(kept)
                            for b, keep in enumerate(ks) for o in keep], dtype=np.int64)
    return RestrictedSpace(reduced, space, tuple(kept), alpha_index)


def restrict_table(table: Table, reduced: RestrictedSpace) -> Table:
    """The entries of a full-space ``table`` that the reduced space keeps, as its Table."""
    if table.space != reduced.full:
        raise ValueError("restrict_table: the table is not over the reduced space's full space")
    return Table(reduced.space, table.const, table.depth_values,
                 table.op_values[reduced.alpha_index], name=table.name, unit=table.unit)


# ---------------------------------------------------------------------------------- loss
@dataclass(frozen=True)
class RestrictionRow:
    """Optimum of the full and the reduced space at one budget.

    ``objective`` values are the table's; ``true_*`` the ground truth's (``truth``), NaN when
    no truth was given or a side is infeasible.  ``loss = full - reduced`` (for ``max``).
    """

    budgets: tuple[float, ...]
    full_status: str
    reduced_status: str
    full_objective: float
    reduced_objective: float
    loss: float
    true_full: float
    true_reduced: float
    true_loss: float
    full_architecture: Architecture | None
    reduced_architecture: Architecture | None


@dataclass(frozen=True)
class RestrictionReport:
    """:func:`restriction_loss` over several budgets."""

    reduced: RestrictedSpace
    rows: tuple[RestrictionRow, ...]

    @property
    def max_loss(self) -> float:
        vals = [r.loss for r in self.rows if np.isfinite(r.loss)]
        return float(max(vals)) if vals else float("nan")

    def __str__(self) -> str:
        lines = [f"reduced space: {self.reduced.space.num_architectures:.4g} of "
                 f"{self.reduced.full.num_architectures:.4g} architectures "
                 f"({self.reduced.size_ratio:.3g})",
                 f"{'budget':>14} {'full':>10} {'reduced':>10} {'loss':>8} {'true loss':>10}"]
        for r in self.rows:
            b = ",".join(f"{x:.4g}" for x in r.budgets)
            lines.append(f"{b:>14} {r.full_objective:10.4f} {r.reduced_objective:10.4f} "
                         f"{r.loss:8.4f} {r.true_loss:10.4f}")
        return "\n".join(lines)


def restriction_loss(
    table: Table,
    resources: Table | Sequence[Table],
    budgets: Sequence,
    top_k: int,
    *,
    sense: str = "max",
    keep_cheapest: bool = True,
    truth: Callable[[Architecture], float] | None = None,
    backend: str = "milp",
    time_limit: float | None = None,
) -> RestrictionReport:
    """How much objective the top-``k`` reduced space loses against the full space.

    For every budget both problems (``table`` subject to ``resources <= budget``) are solved
    with ``backend`` (exact by default) and their optima compared.

    Parameters
    ----------
    table : Table
        The objective and the ranking of ops (e.g. an accuracy estimator).
    resources : Table or sequence of Table
        Constrained resources (distinct names).
    budgets : sequence
        One number per budget level for a single resource, or one sequence of numbers (one per
        resource) per level.
    top_k : int
        Ops kept per block (:func:`restrict`).
    sense : {"max", "min"}
    keep_cheapest : bool
        Also keep every block's cheapest op under the first resource (see :func:`restrict`).
    truth : callable, optional
        Ground truth of an architecture of the full space (e.g. a benchmark's accuracy), to
        report the true loss too.
    backend, time_limit
        Passed to :func:`binas_opt.solve`.

    Returns
    -------
    RestrictionReport
    """
    from binas_opt.model.problem import Problem
    from binas_opt.solving.dispatch import solve

    sense = _check_sense(sense)
    res = [resources] if isinstance(resources, Table) else list(resources)
    if not res:
        raise ValueError("restriction_loss: give at least one resource table")
    levels = []
    for i, b in enumerate(budgets):
        vec = (b,) if np.ndim(b) == 0 else tuple(b)
        if len(vec) != len(res):
            raise ValueError(f"restriction_loss: budgets[{i}] has {len(vec)} values for "
                             f"{len(res)} resources")
        levels.append(tuple(float(x) for x in vec))
    reduced = restrict(table.space, table, top_k, sense=sense,
                       keep_cheapest=res[0] if keep_cheapest else None)
    red_table = restrict_table(table, reduced)
    red_res = [restrict_table(r, reduced) for r in res]
    sign = 1.0 if sense == "max" else -1.0
    nan = float("nan")
    rows = []
    for vec in levels:
        full_p = Problem(table.space, table, [r <= b for r, b in zip(res, vec, strict=True)],
                         sense=sense)
        red_p = Problem(reduced.space, red_table,
                        [r <= b for r, b in zip(red_res, vec, strict=True)], sense=sense)
        rf = solve(full_p, backend=backend, time_limit=time_limit)
        rr = solve(red_p, backend=backend, time_limit=time_limit)
        af = rf.architecture if rf.status in ("optimal", "feasible") else None
        ar = reduced.to_full(rr.architecture) if rr.status in ("optimal", "feasible") else None
        of = rf.objective if af is not None else nan
        orr = rr.objective if ar is not None else nan
        tf = float(truth(af)) if truth is not None and af is not None else nan
        tr = float(truth(ar)) if truth is not None and ar is not None else nan
        rows.append(RestrictionRow(
            budgets=vec, full_status=str(rf.status), reduced_status=str(rr.status),
            full_objective=of, reduced_objective=orr, loss=sign * (of - orr),
            true_full=tf, true_reduced=tr, true_loss=sign * (tf - tr),
            full_architecture=af, reduced_architecture=ar,
        ))
    return RestrictionReport(reduced, tuple(rows))
