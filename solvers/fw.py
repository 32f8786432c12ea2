"""The BINAS paper's block-coordinate Frank-Wolfe search (backend ``fw``).

The relaxation replaces every one-hot group of ``x = (alpha, beta)`` by a point of its simplex.
A Table (latency, params, the accuracy estimator) is bilinear in ``(alpha, beta)``:

.. math:: t(\\alpha, \\beta) = c + g^T\\beta + \\sum_{s,b,o} a_{s,b,o}\\,\\alpha_{s,b,o}\\,
          \\pi_{s,b}(\\beta), \\qquad \\pi_{s,b}(\\beta) = \\sum_{d > b} \\beta_{s,d},

so with ``beta`` fixed every budget is *linear* in ``alpha`` and vice versa.  This is why the
paper alternates blocks: each step fixes one block and solves the linear oracle

.. math:: u = \\arg\\max_{u \\in \\Delta} \\nabla_{\\text{block}} f^T u \\quad
          \\text{s.t. } A_{\\text{block}} u \\le b

over the block's product of simplices with the budget rows, then moves
``x <- x + gamma (u - x)``.  Both ``x`` and ``u`` satisfy the (linear, for this block) budgets,
so every iterate stays feasible.  With one budget the oracle is a continuous multiple-choice
knapsack solved in closed form (:mod:`._mck`); with several, HiGHS's LP.

After the iterations, the authors' *sparsify* projection (repeated vertex LPs that maximise the
overlap with the current point under the budgets, step 1) makes the point nearly one-hot; its
argmax is the architecture.  If the argmax breaks a budget it is repaired
(:func:`._repair.repair`: move decisions to their best feasible choices, with a HiGHS fallback),
so the returned architecture is always feasible.  Our default also polishes it by local search.

For a Table objective the relaxation's global optimum equals the LP relaxation of the compact
MILP (``z = alpha * pi(beta)`` maps one onto the other), which is reported as the upper bound.

Presets
-------
``preset="paper"``: the authors' settings (``search.py`` / ``block_frank_wolfe.py`` of
Alibaba-MIIL/BINAS): start at the cheapest architecture, 1000 steps, block picked at random with
p = 1/2 (beta for the first two steps), constant step 0.002 with gradient momentum 0.9,
sparsify, argmax (repaired if needed), no polish.
``preset="default"``: our best settings (see :class:`FWOptions`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from binas_opt.model.choices import Choice
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.model.table import Table
from binas_opt.solving.backend import Capability, SolveContext, Solver, option
from binas_opt.solving.result import SolverOutput, Termination

from ._highs import new_highs
from ._mck import compact_lp_bound
from ._relaxed import RelaxedProblem
from ._repair import Evaluator, best_of, decode_x, polish, repair, to_arrays

__all__ = ["FrankWolfeSolver", "FWOptions", "FWSettings", "PRESETS", "RelaxedProblem", "StepRule",
           "BlockRule", "Start"]

logger = logging.getLogger("binas_opt")


class StepRule(Choice):
    """Frank-Wolfe step size (see :class:`FWOptions`)."""

    LINE_SEARCH = "line_search"
    HARMONIC = "harmonic"
    CONSTANT = "constant"


class BlockRule(Choice):
    """Which block (alpha or beta) moves at each step."""

    RANDOM = "random"
    ALTERNATE = "alternate"


class Start(Choice):
    """The starting point of the iterations."""

    CHEAPEST = "cheapest"
    BALANCED = "balanced"


@dataclass(frozen=True)
class FWSettings:
    """Fully resolved Frank-Wolfe settings (a preset with the user's overrides applied)."""

    steps: int
    step_rule: StepRule
    gamma: float
    momentum: float
    block: BlockRule
    start: Start
    sparsify: bool
    sparsify_steps: int
    polish: bool
    restarts: int
    tol: float
    bound: bool

    def __post_init__(self) -> None:
        for name, choice in (("step_rule", StepRule), ("block", BlockRule), ("start", Start)):
            object.__setattr__(self, name, choice.parse(getattr(self, name), f"fw: {name}"))


PRESETS: dict[str, FWSettings] = {
    # Alibaba-MIIL/BINAS defaults: --bcfw_steps 1000 --max_gamma_step 0.002
    # --fixed_gamma_step True --sfw_momentum 0.9, random block, smallest_sol start, sparsify.
    "paper": FWSettings(steps=1000, step_rule="constant", gamma=0.002, momentum=0.9,
                        block="random", start="cheapest", sparsify=True, sparsify_steps=100,
                        polish=False, restarts=1, tol=0.0, bound=True),
    # ours: exact line search (harmonic 2n/(k+2n) for black boxes), alternating blocks from a
    # the cheapest start, a few restarts, sparsify, then repair and local-search polish
    "default": FWSettings(steps=300, step_rule="line_search", gamma=1.0, momentum=0.0,
                          block="alternate", start="cheapest", sparsify=True, sparsify_steps=100,
                          polish=True, restarts=4, tol=1e-9, bound=True),
}


@dataclass(frozen=True)
class FWOptions:
    """Options of the ``fw`` backend; ``None`` takes the value of the preset.

    Attributes
    ----------
    preset : {"default", "paper"}
        ``"paper"``: the authors' settings; ``"default"``: ours (best measured quality).
    steps : int
        Frank-Wolfe steps (each updates one block).
    step_rule : {"line_search", "harmonic", "constant"}
        ``line_search``: exact for Table and QuadraticForm objectives (black boxes fall back to
        ``harmonic``); ``harmonic``: ``gamma * 2n / (k + 2n)`` with ``n = 2`` as in the authors'
        code; ``constant``: ``gamma`` every step (paper: 0.002).
    gamma : float in (0, 1]
        Constant step, or the largest step of ``harmonic``.
    momentum : float in [0, 1)
        Gradient averaging ``m <- momentum m + (1 - momentum) grad`` per block (paper: 0.9).
    block : {"random", "alternate"}
        Which block moves: random with p = 1/2 (the authors' code) or alternating.
    start : {"cheapest", "balanced"}
        The cheapest architecture (with several budgets: a feasible one near the cheapest), or a
        balanced point: from it towards the uniform point as far as every budget allows.
    sparsify : bool
        Run the authors' sparsify projection before rounding.
    sparsify_steps : int
    polish : bool
        Improve the rounded architecture by feasible local search (single and paired moves).
    restarts : int
        Independent runs (the first from ``start``, the others from random feasible points);
        the best architecture is returned.
    tol : float
        Stop when the block Frank-Wolfe gap falls below ``tol * max(1, |f|)`` (0: never).
    bound : bool
        Compute the LP-relaxation upper bound (Table and QuadraticForm objectives).
    """

    # types and ranges are checked by make_options from these declarations
    preset: str = option("default", choices=PRESETS)
    steps: int | None = option(None, ge=0)
    step_rule: StepRule | None = None
    gamma: float | None = option(None, gt=0, le=1)
    momentum: float | None = option(None, ge=0, lt=1)
    block: BlockRule | None = None
    start: Start | None = None
    sparsify: bool | None = None
    sparsify_steps: int | None = option(None, ge=0)
    polish: bool | None = None
    restarts: int | None = option(None, ge=1)
    tol: float | None = option(None, ge=0)
    bound: bool | None = None

    def settings(self) -> FWSettings:
        base = PRESETS[self.preset]
        over = {f.name: getattr(self, f.name) for f in fields(self)
                if f.name != "preset" and getattr(self, f.name) is not None}
        return replace(base, **over)


# ---------------------------------------------------------------------- starts
def _cheapest_arch(problem: Problem, rp: RelaxedProblem, ctx: SolveContext):
    """A feasible architecture near the cheapest (None, proven) when the budgets are infeasible."""
    space = problem.space
    if rp.n_cons == 0:
        depths = np.array([st.depths[0] for st in space.stages], dtype=np.int64)
        return depths, np.zeros(rp.n_blocks, dtype=np.int64), False
    ev = Evaluator(problem)
    w = 1.0 / ev.scale
    combo = Table(space, 0.0, (rp.G[rp.con_rows] * w[:, None]).sum(axis=0),
                  (rp.V[rp.con_rows] * w[:, None]).sum(axis=0))
    _, arch = combo.extreme("min")
    d, o = to_arrays(space, arch)
    out = repair(problem, d, o, time_limit=_left(ctx, 10.0))
    if out.depths is None:
        return None, None, out.proven_infeasible
    return out.depths, out.ops, False


def _left(ctx: SolveContext, cap: float) -> float:
    r = ctx.remaining()
    return cap if not math.isfinite(r) else max(min(r, cap), 0.05)


def _one_hot(rp: RelaxedProblem, depths, ops):
    x = rp.space.encoding.one_hot(depths, ops)[0]
    return x[: rp.n_alpha], x[rp.n_alpha:]


def _balanced(rp: RelaxedProblem, alpha0, beta0):
    """From a feasible point towards the uniform point, as far as every budget allows.

    Along the segment every table is a quadratic in the step ``t`` (bilinear in alpha, beta);
    the largest ``t`` in [0, 1] keeping every budget on ``[0, t]`` is found from its roots.
    """
    ua = 1.0 / rp.alpha_layout.sizes[rp.alpha_layout.group]
    ub = 1.0 / rp.beta_layout.sizes[rp.beta_layout.group]
    if rp.n_cons == 0:
        return ua, ub

    def at(t):
        return rp.resources(alpha0 + t * (ua - alpha0), beta0 + t * (ub - beta0))

    r0, rh, r1 = at(0.0), at(0.5), at(1.0)
    # r(t) = r0 + l t + q t^2
    q = 2 * (r1 - 2 * rh + r0)
    lin = r1 - r0 - q
    t_max = 1.0
    for k in range(rp.n_cons):
        # the first crossing of r(t) = budget in (0, 1] (r(0) <= budget at a feasible start)
        if abs(q[k]) > 1e-15:
            roots = np.roots([q[k], lin[k], r0[k] - rp.budgets[k]])
        elif abs(lin[k]) > 1e-15:
            roots = np.array([(rp.budgets[k] - r0[k]) / lin[k]])
        else:
            roots = np.array([])
        roots = np.real(roots[np.abs(np.imag(roots)) < 1e-12])
        roots = roots[(roots > 1e-12) & (roots <= 1)]
        if roots.size:
            t_max = min(t_max, float(roots.min()))
    t = t_max * (1 - 1e-9)
    a, b = alpha0 + t * (ua - alpha0), beta0 + t * (ub - beta0)
    if (rp.resources(a, b) > rp.budgets + 1e-9 * np.maximum(1, np.abs(rp.budgets))).any():
        return alpha0, beta0
    return a, b


def _random_start(rp: RelaxedProblem, problem: Problem, rng, base):
    """A random feasible point: a random architecture repaired, mixed with the base point."""
    arch = problem.space.sample(rng)
    d, o = to_arrays(problem.space, arch)
    out = repair(problem, d, o, fallback=False)
    if out.depths is None:
        return base
    a, b = _one_hot(rp, out.depths, out.ops)
    return _balanced(rp, a, b)


# ---------------------------------------------------------------------- the iteration
@dataclass
class _Run:
    alpha: np.ndarray
    beta: np.ndarray
    steps: int = 0
    gap: float = math.inf
    stopped_by_clock: bool = False


def _step_size(s: FWSettings, k: int, rule: StepRule, g_d: float, q: float | None) -> float:
    if rule is StepRule.CONSTANT:
        return s.gamma
    if rule is StepRule.HARMONIC or q is None:
        n = 2
        return s.gamma * 2 * n / (k + 2 * n)
    # exact line search of t g_d + t^2 q on [0, 1]
    if q < 0:
        return float(min(1.0, max(0.0, -g_d / (2 * q))))
    return 1.0 if g_d + q > 0 else 0.0


def _block_gap(rp: RelaxedProblem, which, alpha, beta, grad, highs) -> float:
    ga, gb = grad
    g = ga if which == "alpha" else gb
    cur = alpha if which == "alpha" else beta
    o = rp.oracle(which, g, alpha, beta, highs)
    if not o.feasible:
        return 0.0
    return max(0.0, float(g @ (o.u - cur)))


def _iterate(rp: RelaxedProblem, s: FWSettings, run: _Run, rng, ctx: SolveContext, highs):
    """Block-coordinate Frank-Wolfe from ``run.alpha, run.beta`` (in place)."""
    rule = s.step_rule
    if rule is StepRule.LINE_SEARCH and rp.kind is ObjectiveKind.BLACK_BOX:
        rule = StepRule.HARMONIC
    buf: dict = {}  # running averages of the direction, per block (momentum)
    gaps = {"alpha": math.inf, "beta": math.inf}
    alpha, beta = run.alpha, run.beta
    for k in range(s.steps):
        if ctx.out_of_time():
            run.stopped_by_clock = True
            break
        if s.block is BlockRule.ALTERNATE:
            which = "beta" if k % 2 == 0 else "alpha"
        else:  # the authors' bcfw_step: alpha with p = 1/2 once k > 1
            which = "alpha" if (rng.random() < 0.5 and k > 1) else "beta"
        g, direction, o = rp.direction_oracle(which, alpha, beta, s.momentum, buf, highs)
        run.steps = k + 1
        if not o.feasible:  # float noise on an exactly tight budget: skip this block
            continue
        cur = alpha if which == "alpha" else beta
        d = o.u - cur
        g_d = float(g @ d)
        gaps[which] = max(0.0, g_d) if direction is g else gaps[which]
        q = rp.curvature(which, d) if rule is StepRule.LINE_SEARCH else None
        t = _step_size(s, k, rule, g_d, q)
        if t > 0:
            cur += t * d
            other = "beta" if which == "alpha" else "alpha"
            gaps[other] = math.inf
        if s.tol > 0 and s.momentum == 0:
            scale = max(1.0, abs(rp.objective(alpha, beta)))
            if gaps["alpha"] <= s.tol * scale and gaps["beta"] <= s.tol * scale:
                break
    grad = rp.gradient(alpha, beta)
    run.gap = (_block_gap(rp, "alpha", alpha, beta, grad, highs)
               + _block_gap(rp, "beta", alpha, beta, grad, highs))
    return run


def _sparsify(rp: RelaxedProblem, alpha, beta, steps: int, ctx: SolveContext, highs):
    """The authors' sparsify: alternating vertex LPs maximising overlap with the start point."""
    imp_a, imp_b = alpha.copy(), beta.copy()
    a, b = alpha.copy(), beta.copy()
    same = {"alpha": False, "beta": False}
    for k in range(steps):
        if ctx.out_of_time():
            break
        which = "beta" if k % 2 == 0 else "alpha"
        c = imp_a if which == "alpha" else imp_b
        o = rp.oracle(which, c, a, b, highs)
        if not o.feasible:
            same[which] = True
        else:
            cur = a if which == "alpha" else b
            same[which] = bool(np.allclose(cur, o.u, atol=1e-12))
            cur[:] = o.u
        if same["alpha"] and same["beta"]:
            break
    return a, b


# ---------------------------------------------------------------------- the backend
class FrankWolfeSolver(Solver):
    """Block-coordinate Frank-Wolfe on the bilinear relaxation (the BINAS paper's search)."""

    name = "fw"
    exact = False
    accepts = frozenset(ObjectiveKind)
    Options = FWOptions
    capabilities = frozenset({Capability.WARM_START, Capability.FINDS_FEASIBLE,
                              Capability.PROVES_INFEASIBILITY})
    packages = ("highspy",)

    @classmethod
    def refusal(cls, problem: Problem, options: FWOptions) -> str | None:
        """Also refuses black boxes without a gradient (not torch modules)."""
        reason = super().refusal(problem, options)
        if reason is None and problem.objective_kind is ObjectiveKind.BLACK_BOX \
                and not problem.objective.differentiable:
            reason = ("backend 'fw' needs a differentiable objective: a Table, a QuadraticForm "
                      "or a torch module (BlackBox.gradient_x)")
        return reason

    def run(self, problem: Problem, options: FWOptions, ctx: SolveContext) -> SolverOutput:
        t0 = time.perf_counter()
        s = options.settings()
        kind = problem.objective_kind
        rp = RelaxedProblem(problem)
        rng = np.random.default_rng(ctx.seed)
        highs = new_highs()
        stats: dict = {"settings": asdict(s)}
        d0, o0, proven = _cheapest_arch(problem, rp, ctx)
        if d0 is None:
            if proven:
                return SolverOutput(Termination.INFEASIBLE, proven_infeasible=True, stats=stats,
                                    message="no feasible start: the budgets are jointly "
                                            "infeasible (proved by the repair MILP)",
                                    solve_time=time.perf_counter() - t0)
            term = Termination.TIME_LIMIT if ctx.out_of_time() else Termination.ITERATION_LIMIT
            return SolverOutput(term, stats=stats, solve_time=time.perf_counter() - t0,
                                message="no feasible starting architecture found: the repair "
                                        "(greedy moves, then a feasibility MILP of at most 10 s) "
                                        "gave up; this is not a proof of infeasibility")
        a0, b0 = _one_hot(rp, d0, o0)
        if s.start is Start.BALANCED:
            a0, b0 = _balanced(rp, a0, b0)
        candidates = [(d0, o0)]
        if ctx.warm_start is not None:  # a user's architecture competes with the rounded ones
            candidates.append(to_arrays(problem.space, ctx.warm_start))
        total_steps, best_relaxed, gaps, clock = 0, -math.inf, [], False
        for r in range(s.restarts):
            if r > 0 and ctx.out_of_time():
                break
            if r == 0:
                alpha, beta = a0.copy(), b0.copy()
            else:
                alpha, beta = (x.copy() for x in _random_start(rp, problem, rng, (a0, b0)))
            run = _iterate(rp, s, _Run(alpha, beta), rng, ctx, highs)
            total_steps += run.steps
            gaps.append(run.gap)
            clock |= run.stopped_by_clock
            relaxed = rp.objective(run.alpha, run.beta)
            best_relaxed = max(best_relaxed, relaxed)
            candidates.append(decode_x(problem.space, run.alpha, run.beta))
            if s.sparsify and s.sparsify_steps > 0:
                sa, sb = _sparsify(rp, run.alpha, run.beta, s.sparsify_steps, ctx, highs)
                candidates.append(decode_x(problem.space, sa, sb))
        # discretise: repair every candidate, keep the best feasible, polish it
        fixed = []
        for d, o in candidates:
            out = repair(problem, d, o, fallback=False)
            if out.depths is not None:
                fixed.append((out.depths, out.ops))
        # polish every distinct repaired candidate (local optima differ), keep the best
        uniq = {(d.tobytes(), o.tobytes()): (d, o) for d, o in fixed}
        fixed = list(uniq.values())
        moves = 0
        if s.polish:
            polished = []
            for d, o in fixed:
                if ctx.out_of_time():
                    break
                d2, o2, m = polish(problem, d, o, deadline=ctx.out_of_time)
                polished.append((d2, o2))
                moves += m
            fixed += polished
        best = best_of(problem, fixed)
        if best is None:  # greedy repair failed everywhere (several budgets): MILP fallback
            out = repair(problem, *candidates[-1], time_limit=_left(ctx, 10.0))
            if out.depths is not None:
                best = (out.depths, out.ops)
                if s.polish and not ctx.out_of_time():
                    d, o, m = polish(problem, *best, deadline=ctx.out_of_time)
                    best, moves = (d, o), moves + m
        if best is None:
            return SolverOutput(Termination.TIME_LIMIT if clock else Termination.ITERATION_LIMIT,
                                message="no feasible architecture after repair (not a proof of "
                                        "infeasibility)",
                                stats=stats, solve_time=time.perf_counter() - t0)
        bound = None
        if s.bound and kind is not ObjectiveKind.BLACK_BOX and not ctx.out_of_time():
            from ._compact import build_model

            b, _ = compact_lp_bound(build_model(problem))
            if math.isfinite(b):
                bound = problem.sign * b
                stats["upper_bound"] = bound
        arch = problem.space.architectures_from_arrays(best[0][None, :], best[1][None, :])[0]
        value = Evaluator(problem).objective(best[0][None, :], best[1][None, :])[0]
        # value is maximised (sign applied); so is sign * bound
        proven = bound is not None and value >= problem.sign * bound - 1e-9 * max(1.0, abs(bound))
        stats.update({
            "steps": total_steps,
            "fw_gap": float(min(gaps)) if gaps else None,
            "relaxed_objective": problem.sign * best_relaxed if gaps else None,
            "polish_moves": moves, "restarts_run": len(gaps),
        })
        if bound is not None:
            stats["gap_to_bound"] = max(0.0, problem.sign * bound - value)
        clock = clock or ctx.out_of_time()  # anything cut short by the clock counts
        if proven:
            term = Termination.OPTIMAL
        elif clock:
            term = Termination.TIME_LIMIT
        elif total_steps >= s.steps * len(gaps):
            term = Termination.ITERATION_LIMIT
        else:
            term = Termination.CONVERGED
        return SolverOutput(term, architecture=arch, bound=bound, proven_optimal=proven,
                            message="" if not clock else "stopped by the time limit",
                            stats=stats, solve_time=time.perf_counter() - t0)
