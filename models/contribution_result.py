"""The measured accuracy estimator: raw accuracies of every decision turned into Tables.

:func:`contribution_tables` computes the base accuracy, the depth and op contributions and
their standard errors from the per-context accuracies of every decision (see
:mod:`binas_opt.models.contributions` for the estimator); :class:`ContributionResult` holds
them with the settings they were measured under and reads and writes them as JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from binas_opt.io import atomic_write_text
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table

from .decisions import Decision, DecisionKind, Reference

__all__ = ["ContributionResult", "contribution_tables"]


@dataclass(frozen=True, eq=False)
class ContributionResult:
    """Measured accuracy contributions.

    Attributes
    ----------
    table : Table
        The estimator (percent top-1), paper layout: ``const`` the base accuracy, ``depth`` the
        Delta beta, ``op`` the Delta alpha.
    stderr : Table
        Standard error of every entry, same layout.
    n_samples, eval_batches, calib_batches : int
        Contexts per decision; validation and BatchNorm batches per sub-network.
    images_per_eval : int
        Validation images per evaluated sub-network (first evaluation's count).
    reference, bn : str
    seed : int
    evaluations : int
        Sub-network evaluations behind the table (cached ones included).
    measured : int
        Evaluations run by this call (the rest came from the cache).
    wall_time : float
        Seconds spent by this call.
    world_size : int
        Processes that shared the evaluations.
    accuracies : dict
        Raw accuracies, ``key -> (n_options, n_samples)`` array, per decision.
    """

    table: Table
    stderr: Table
    n_samples: int
    eval_batches: int
    calib_batches: int
    images_per_eval: int
    reference: str
    bn: str
    seed: int
    evaluations: int
    measured: int
    wall_time: float
    world_size: int = 1
    accuracies: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def base_accuracy(self) -> float:
        """The table's constant: the estimated accuracy of the base (percent)."""
        return self.table.const

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "binas-opt-contributions", "version": 1,
            "space": self.table.space.to_dict(),
            "table": self.table.to_dict(), "stderr": self.stderr.to_dict(),
            "n_samples": self.n_samples, "eval_batches": self.eval_batches,
            "calib_batches": self.calib_batches, "images_per_eval": self.images_per_eval,
            "reference": self.reference, "bn": self.bn, "seed": self.seed,
            "evaluations": self.evaluations, "measured": self.measured,
            "wall_time": self.wall_time, "world_size": self.world_size,
            "accuracies": {k: v.tolist() for k, v in self.accuracies.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContributionResult:
        space = SearchSpace.from_dict(d["space"])
        kw = {k: d[k] for k in ("n_samples", "eval_batches", "calib_batches", "images_per_eval",
                                "reference", "bn", "seed", "evaluations", "measured",
                                "wall_time", "world_size")}
        return cls(table=Table.from_dict(d["table"], space),
                   stderr=Table.from_dict(d["stderr"], space),
                   accuracies={k: np.asarray(v, dtype=float)
                               for k, v in d.get("accuracies", {}).items()}, **kw)

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_dict` as JSON, atomically."""
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | os.PathLike) -> ContributionResult:
        """Read a file written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))


def _stderr(diff: np.ndarray) -> np.ndarray:
    """Standard error of the mean over the last axis (zero with fewer than two samples)."""
    n = diff.shape[-1]
    if n < 2:
        return np.zeros(diff.shape[:-1])
    return diff.std(axis=-1, ddof=1) / np.sqrt(n)


def contribution_tables(space: SearchSpace, decs: list[Decision], acc: dict[str, np.ndarray],
                        reference: str | Reference, small_ops: np.ndarray,
                        small_depths: np.ndarray) -> tuple[Table, Table]:
    """The estimator and its standard errors from the raw accuracies of every decision.

    Parameters
    ----------
    space : SearchSpace
    decs : list of Decision
        :func:`~binas_opt.models.decisions.decisions` of ``space`` (base first).
    acc : dict
        ``decision.key -> (n_options, n_samples)`` accuracies (percent), options of one
        sample measured in the same context.
    reference : {"uniform", "smallest"}
    small_ops, small_depths : numpy.ndarray
        The smallest network (flat op per block, depth per stage): the reference options of
        ``"smallest"``.

    Returns
    -------
    (Table, Table)
        The accuracy table (unit ``"%"``) and the standard error of every entry.
    """
    reference = Reference.parse(reference, "contribution_tables: reference")
    idx = space.index
    depth_v, depth_se = np.zeros(space.n_beta), np.zeros(space.n_beta)
    op_v, op_se = np.zeros(space.n_alpha), np.zeros(space.n_alpha)
    off = space.encoding.stage_block_ptr
    # The constant pools every evaluation of the base network(s): the base samples, and in
    # every depth decision the evaluations that are base draws too -- all options of a uniform
    # context (the depth is uniform, so their mean is an unbiased E_U[Acc]) or the smallest
    # depth option of the smallest reference (which is the smallest network itself).
    units, weights = [acc["base"][0]], [np.ones(acc["base"].shape[1])]
    for dec in decs[1:]:
        if dec.kind is not DecisionKind.DEPTH:
            continue
        a = acc[dec.key]
        if reference is Reference.UNIFORM:
            units.append(a.mean(axis=0))
            weights.append(np.full(a.shape[1], float(a.shape[0])))
        else:
            ref = space.stages[dec.stage].depths.index(int(small_depths[dec.stage]))
            units.append(a[ref])
            weights.append(np.ones(a.shape[1]))
    u, w = np.concatenate(units), np.concatenate(weights)
    const = float(np.sum(w * u) / np.sum(w))
    # standard error of a weighted mean of independent units (sandwich form)
    const_se = float(np.sqrt(np.sum(w ** 2 * (u - const) ** 2) * len(u) / max(len(u) - 1, 1))
                     / np.sum(w)) if len(u) > 1 else 0.0
    for dec in decs[1:]:
        a = acc[dec.key]  # (options, samples)
        if reference is Reference.UNIFORM:
            diff = a - a.mean(axis=0, keepdims=True)
        else:
            if dec.kind is DecisionKind.DEPTH:
                ref = space.stages[dec.stage].depths.index(int(small_depths[dec.stage]))
            else:
                ref = int(small_ops[off[dec.stage] + dec.block])
            diff = a - a[ref][None, :]
        val, se = diff.mean(axis=1), _stderr(diff)
        if dec.kind is DecisionKind.DEPTH:
            o = int(idx.beta_offset[dec.stage])
            depth_v[o:o + len(val)], depth_se[o:o + len(val)] = val, se
        else:
            o = int(idx.alpha_offset[dec.stage, dec.block])
            op_v[o:o + len(val)], op_se[o:o + len(val)] = val, se
    table = Table(space, const=const, depth=depth_v, op=op_v, name="accuracy", unit="%")
    stderr = Table(space, const=const_se, depth=depth_se, op=op_se, name="accuracy_stderr",
                   unit="%")
    return table, stderr

