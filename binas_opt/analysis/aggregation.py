"""Interpretable knowledge from a contribution Table: which op features and stages matter.

An accuracy Table (BINAS's estimator, or a fitted additive predictor) states the contribution
of every op in every block.  :func:`aggregate_contributions` aggregates the contributions by op
feature (kernel size, expansion ratio, squeeze-excite, the op label itself) and by stage, and
ranks them.  (To reduce the space to the best ops, see :mod:`binas_opt.analysis.restriction`.)

**Effects.**  Within a block, an op's *relative contribution* is its value minus the mean value
of the block's ops, so blocks with different offsets are comparable.  The effect of a feature
value (say kernel 5) is the mean relative contribution over every (block, op) that has it, with
its standard deviation and count.  Labels that are not MBConv labels (``"skip"``, ``"down"``,
``"k3_e1_g2"`` parses partially) form their own group under the missing feature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from binas_opt.model.choices import Choice, ObjectiveSense
from binas_opt.model.table import Table

__all__ = ["Feature", "FeatureEffect", "StageEffect", "ContributionSummary", "OpFeatures",
           "op_features", "aggregate_contributions"]


class Feature(Choice):
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
    sense: ObjectiveSense
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


def _relative(table: Table) -> np.ndarray:
    """Op values minus the mean of their block (alpha layout)."""
    enc = table.space.encoding
    mean = np.add.reduceat(table.op_values, enc.alpha_ptr[:-1]) / enc.block_num_ops
    return table.op_values - mean[enc.block_of_alpha]


def _feature_effects(table: Table, feature: Feature, sense: ObjectiveSense
                     ) -> tuple[FeatureEffect, ...]:
    rel = _relative(table)
    feats = {lab: op_features(lab) for lab in set(table.space.alpha_labels)}
    groups = np.array([feats[lab].value(feature) for lab in table.space.alpha_labels])
    names, inv = np.unique(groups, return_inverse=True)
    count = np.bincount(inv, minlength=names.size)
    mean = np.bincount(inv, weights=rel, minlength=names.size) / count
    var = np.bincount(inv, weights=(rel - mean[inv]) ** 2, minlength=names.size) / count
    order = np.argsort(-sense.sign * mean, kind="stable")
    return tuple(
        FeatureEffect(feature, str(names[i]), float(mean[i]), float(np.sqrt(var[i])),
                      int(count[i]), r + 1)
        for r, i in enumerate(order)
    )


def _stage_effects(table: Table, sense: ObjectiveSense) -> tuple[StageEffect, ...]:
    space = table.space
    rows = []
    for s, st in enumerate(space.stages):
        hi, _ = table.stage_best(s, ObjectiveSense.MAX)
        lo, _ = table.stage_best(s, ObjectiveSense.MIN)
        maximise = sense is ObjectiveSense.MAX
        best, worst = (hi, lo) if maximise else (lo, hi)
        spans = [np.ptp(table.op_table(s, b)) for b in range(st.max_depth)]
        rows.append((s, float(best.max() if maximise else best.min()),
                     float(worst.min() if maximise else worst.max()),
                     float(best[-1] - best[0]), float(np.mean(spans))))
    spread = np.array([abs(b - w) for _, b, w, _, _ in rows])
    order = np.argsort(-spread, kind="stable")
    return tuple(
        StageEffect(rows[i][0], space.stage_name(rows[i][0]), rows[i][1], rows[i][2],
                    float(spread[i]), rows[i][3], rows[i][4], r + 1)
        for r, i in enumerate(order)
    )


def aggregate_contributions(table: Table, sense: ObjectiveSense | str = ObjectiveSense.MAX
                            ) -> ContributionSummary:
    """Aggregate and rank a contribution Table by op feature and by stage.

    Parameters
    ----------
    table : Table
        E.g. the BINAS accuracy estimator or a fitted additive predictor.
    sense : ObjectiveSense or {"max", "min"}
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
    sense = ObjectiveSense.parse(sense, "aggregate_contributions: sense")
    return ContributionSummary(
        by_kernel=_feature_effects(table, Feature.KERNEL, sense),
        by_expansion=_feature_effects(table, Feature.EXPANSION, sense),
        by_se=_feature_effects(table, Feature.SE, sense),
        by_label=_feature_effects(table, Feature.LABEL, sense),
        by_stage=_stage_effects(table, sense),
        sense=sense,
        unit=table.unit,
    )
