"""Figures: contributions heatmap, Pareto front, backend comparison, latency validation.

matplotlib is optional and imported inside each function; figures are built with the
object-oriented :class:`matplotlib.figure.Figure` API (safe without a display, never
``pyplot.show()``) and returned to the caller (``fig.savefig(path)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from binas_opt.model.choices import Choice

__all__ = ["plot_contributions", "plot_pareto", "plot_compare", "plot_latency_validation",
           "CompareMetric"]


class CompareMetric(Choice):
    """What :func:`plot_compare` draws per backend (a field of
    :class:`~binas_opt.CompareRow`)."""

    OBJECTIVE = "objective"
    TIME = "time"  #: seconds, on a log scale
    GAP_TO_BEST = "gap_to_best"


def _figure(**kw):
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - exercised only without matplotlib
        raise ImportError("plotting needs matplotlib: pip install 'binas-opt[plot]'") from exc
    return Figure(**kw)


def plot_contributions(table, reference: str = "uniform", ref_cost=None, title: str | None = None):
    """Heatmap of every choice's contribution, per stage, block and op, plus depth per stage.

    Parameters
    ----------
    table : Table or Explanation
        A Table: every op of every block relative to the reference (see
        :func:`binas_opt.analysis.explanation.table_contributions`).  An Explanation: the contributions of
        its architecture's decisions (objective).
    reference : {"uniform", "cheapest"}
    ref_cost : Table, optional
        The resource defining "cheapest".

    Returns
    -------
    matplotlib.figure.Figure
        Left: rows are (stage, block), columns ops; right: depth contributions per stage (one
        bar per allowed depth), so e.g. "depth pays off more in deeper stages" can be read off.
    """
    from binas_opt.analysis.explanation import Explanation, table_contributions

    if isinstance(table, Explanation):
        return _plot_explanation(table, title)
    space = table.space
    ref, depth, op = table_contributions(table, reference, ref_cost)
    width = max(m.shape[1] for m in op)
    rows = np.vstack([np.pad(m, ((0, 0), (0, width - m.shape[1])), constant_values=np.nan)
                      for m in op])
    row_labels = [f"{space.stage_name(s)} b{b}" for s, m in enumerate(op) for b in range(m.shape[0])]
    fig = _figure(figsize=(11, max(4, 0.28 * len(row_labels) + 1.5)), layout="constrained")
    ax, ax2 = fig.subplots(1, 2, width_ratios=[3, 1.3])
    lim = np.nanmax(np.abs(rows)) if np.isfinite(rows).any() else 1.0
    im = ax.imshow(rows, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=7)
    first = space.stages[0]
    if all(st.ops[b] == first.ops[0] for st in space.stages for b in range(st.max_depth)):
        ax.set_xticks(range(len(first.ops[0])), first.ops[0], rotation=60, ha="right", fontsize=7)
    else:
        ax.set_xlabel("op index")
    fig.colorbar(im, ax=ax, label=f"contribution [{table.unit or ''}]")
    ax.set_title(f"{table.name or 'table'}: op contributions vs {reference} (ref {ref:.4g})")
    # depth panel: grouped bars per stage
    n_d = max(len(st.depths) for st in space.stages)
    x = np.arange(space.n_stages)
    w = 0.8 / n_d
    for i in range(n_d):
        vals = [depth[s][i] if i < len(depth[s]) else np.nan for s in range(space.n_stages)]
        labs = {space.stages[s].depths[i] for s in range(space.n_stages) if i < len(depth[s])}
        ax2.bar(x + (i - (n_d - 1) / 2) * w, vals, w,
                label=f"depth {'/'.join(map(str, sorted(labs)))}")
    ax2.axhline(0, color="k", lw=0.6)
    ax2.set_xticks(x, [space.stage_name(s) for s in range(space.n_stages)], rotation=45, fontsize=7)
    ax2.set_title("depth contributions")
    ax2.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    return fig


def _plot_explanation(expl, title):
    o = expl.objective
    fig = _figure(figsize=(9, 4), layout="constrained")
    ax, ax2 = fig.subplots(1, 2, width_ratios=[2, 1])
    lim = np.nanmax(np.abs(o.op)) if np.isfinite(o.op).any() else 1.0
    im = ax.imshow(o.op, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_xlabel("block")
    ax.set_ylabel("stage")
    for s, labs in enumerate(expl.labels):
        for b, lab in enumerate(labs):
            ax.text(b, s, lab, ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=ax, label=o.unit or "")
    ax.set_title(f"{o.name} = {o.total:.4g}: op contributions vs {expl.reference}")
    ax2.bar(range(o.depth.size), o.depth)
    ax2.axhline(0, color="k", lw=0.6)
    ax2.set_xlabel("stage")
    ax2.set_title("depth contributions")
    if title:
        fig.suptitle(title)
    return fig


def plot_pareto(front, results: Sequence | None = None, ax=None, label: str | None = None):
    """The front as a staircase (objective vs resource), with optional solved Results marked.

    Parameters
    ----------
    front : ParetoFront
    results : sequence of Result, optional
        Drawn as points at (resource, objective), e.g. other backends' answers.
    ax : matplotlib Axes, optional
        Draw into it (its figure is returned).
    """
    if ax is None:
        fig = _figure(figsize=(6.5, 4.5), layout="constrained")
        ax = fig.subplots()
    else:
        fig = ax.figure
    res, obj = np.asarray(front.resources), np.asarray(front.objective)
    kind = "exact" if front.exact else f"epsilon {front.epsilon:.2g}"
    ax.step(res, obj, where="post", lw=1.2, label=label or f"front ({len(front)} points, {kind})")
    if len(front) <= 2000:
        ax.plot(res, obj, ".", ms=2)
    if results:
        pts = [(r.resources.get(front.resource), r.objective, r.backend) for r in results
               if r.architecture is not None and front.resource in r.resources]
        for backend in sorted({p[2] for p in pts}):
            xs = [p[0] for p in pts if p[2] == backend]
            ys = [p[1] for p in pts if p[2] == backend]
            ax.plot(xs, ys, "o", mfc="none", label=backend)
    unit = f" [{front.unit}]" if front.unit else ""
    ax.set_xlabel(f"{front.resource}{unit}")
    ax.set_ylabel(front.problem.objective.name or "objective")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_compare(rows, metric: CompareMetric | str = CompareMetric.OBJECTIVE):
    """Bar chart of a comparison: ``metric`` (:class:`CompareMetric`: ``objective``, ``time`` or
    ``gap_to_best``) per backend, grouped by budget setting; infeasible/refused rows are left
    empty."""
    metric = CompareMetric.parse(metric, "plot_compare: metric")
    rows = list(rows)
    backends = list(dict.fromkeys(r.backend for r in rows))
    settings = list(dict.fromkeys(tuple(sorted(r.budgets.items())) for r in rows))
    fig = _figure(figsize=(max(5, 1.2 * len(settings) * max(1, len(backends)) / 2), 4),
                  layout="constrained")
    ax = fig.subplots()
    w = 0.8 / max(1, len(backends))
    x = np.arange(len(settings))
    all_vals = []
    for i, be in enumerate(backends):
        vals = []
        for st in settings:
            r = next((r for r in rows if r.backend == be and tuple(sorted(r.budgets.items())) == st), None)
            v = None if r is None else getattr(r, metric.value)
            vals.append(np.nan if v is None else float(v))
        bars = ax.bar(x + (i - (len(backends) - 1) / 2) * w, vals, w, label=be)
        if metric is CompareMetric.OBJECTIVE:  # the values themselves: near-equal bars differ
            ax.bar_label(bars, labels=["" if np.isnan(v) else f"{v:.6g}" for v in vals],
                         fontsize=6, rotation=90, padding=2)
        all_vals += [v for v in vals if np.isfinite(v)]
    ax.set_xticks(x, [", ".join(f"{k}<={v:.4g}" for k, v in st) for st in settings],
                  rotation=20, fontsize=7)
    ylabel = metric.value + (" [s]" if metric is CompareMetric.TIME else "")
    if metric is CompareMetric.TIME:
        ax.set_yscale("log")
    elif metric is CompareMetric.OBJECTIVE and all_vals:
        # objectives of good backends differ in the 3rd digit: a bar from 0 hides that, so the
        # axis spans the values (and says so); bars keep their order and labels carry the numbers
        lo, hi = min(all_vals), max(all_vals)
        span = hi - lo if hi > lo else max(abs(hi) * 0.01, 1e-9)
        ax.set_ylim(lo - 0.6 * span, hi + 0.6 * span)
        if lo - 0.6 * span > 0 or hi + 0.6 * span < 0:
            ylabel += " (axis not from 0)"
    ax.set_ylabel(ylabel)
    # outside the axes, so the legend never covers a bar
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
              title="backend", title_fontsize=8)
    ax.set_title(f"backends compared: {metric.value}")
    return fig


def plot_latency_validation(validation, ax=None):
    """Measured vs predicted latency of whole networks, with the identity and the fitted line.

    Parameters
    ----------
    validation : LatencyValidation
        From :func:`binas_opt.models.latency_validation.validate_latency` (anything with
        ``predicted``, ``measured``, ``measured_iqr``, ``slope``, ``intercept``, ``pearson_r``
        and ``mape``).
    ax : matplotlib Axes, optional
        Draw into it (its figure is returned).

    Returns
    -------
    matplotlib.figure.Figure
        Error bars are half the interquartile range of each network's repeats.
    """
    if ax is None:
        fig = _figure(figsize=(4.5, 4.5), layout="constrained")
        ax = fig.subplots()
    else:
        fig = ax.figure
    v = validation
    lo = float(min(v.predicted.min(), v.measured.min()))
    hi = float(max(v.predicted.max(), v.measured.max()))
    ax.errorbar(v.predicted, v.measured, yerr=v.measured_iqr / 2, fmt="o", ms=4, label="networks")
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="measured = predicted")
    ax.plot([lo, hi], [v.slope * lo + v.intercept, v.slope * hi + v.intercept], "r-", lw=1,
            label=f"fit: {v.slope:.2f}x {v.intercept:+.2f}")
    ax.set_xlabel("predicted latency (ms)")
    ax.set_ylabel("measured latency (ms)")
    ax.set_title(f"r = {v.pearson_r:.3f}, MAPE = {v.mape:.1f}%")
    ax.legend(fontsize=8)
    return fig
