"""The BINAS paper's evolutionary baseline (backend ``evo``), vectorised over the population.

It follows the authors' ``EvolutionFinder`` (Alibaba-MIIL/BINAS ``nas/src/optim/evo_algo.py``,
itself Once-for-All's): a population of 100 feasible architectures; every generation keeps the
best 25% as parents and breeds 100 children, half by mutation (every decision re-drawn uniformly
with probability 0.1) and half by uniform crossover of two random parents (every decision from
either parent with probability 1/2); the next parents are the best of parents and children; 500
generations.  A *decision* (gene) is the op of a block (inactive blocks too, as in the authors'
one-hot groups) or the depth of a stage.

Only feasible architectures enter the population.  The authors draw each child again until it is
feasible, which never ends when the budgets are tight (the endless loop users meet in OFA's
search).  Here every draw is a vectorised batch, repeated at most ``max_attempts`` times; a child
still infeasible after that is replaced by a copy of its (feasible) parent.  If no random
architecture meets the budgets, ``repair`` (default) makes random samples feasible
(:func:`._repair.repair`, which also proves joint infeasibility); without it the run ends with
status ``no_solution`` (termination ``iteration_limit``) and a message saying that this is not a
proof.

Same seed, same result: one ``numpy.random.Generator`` drives every draw.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from binas_opt.model.encoding import Encoding
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.solving.backend import Capability, SolveContext, Solver, option
from binas_opt.solving.result import SolverOutput, Termination

from ._repair import Evaluator, repair, to_arrays

__all__ = ["EvolutionSolver", "EvoOptions"]

logger = logging.getLogger("binas_opt")


@dataclass(frozen=True)
class EvoOptions:
    """Options of the ``evo`` backend (defaults: the authors' settings).

    population : int
        Population size (100).
    generations : int
        Number of generations (500).
    parent_ratio : float in (0, 1]
        Share of the population kept as parents (0.25).
    mutation_ratio : float in [0, 1]
        Share of children made by mutation, the rest by crossover (0.5).
    mutate_prob : float in [0, 1]
        Probability that a mutation re-draws each decision (0.1).
    max_attempts : int
        Bound on the rejection-sampling rounds for the initial population and for every batch of
        children (each round redraws all still-infeasible ones at once).
    repair : bool
        When random sampling finds too few feasible architectures, make random samples feasible
        with the shared repair (default True); otherwise stop with status ``no_solution``.
    patience : int or None
        Stop after this many generations without improvement (None: run every generation).
    """

    population: int = option(100, ge=2)
    generations: int = option(500, ge=0)
    parent_ratio: float = option(0.25, gt=0, le=1)
    mutation_ratio: float = option(0.5, ge=0, le=1)
    mutate_prob: float = option(0.1, ge=0, le=1)
    max_attempts: int = option(50, ge=1)
    repair: bool = True
    patience: int | None = option(None, ge=1)


class EvolutionSolver(Solver):
    """The authors' evolutionary search, feasible-only, with bounded rejection sampling."""

    name = "evo"
    exact = False
    accepts = frozenset(ObjectiveKind)
    Options = EvoOptions
    #: with the default ``repair=True``; without it, a search that samples nothing feasible
    #: ends with ``no_solution``
    capabilities = frozenset({Capability.WARM_START, Capability.FINDS_FEASIBLE,
                              Capability.PROVES_INFEASIBILITY})

    def run(self, problem: Problem, options: EvoOptions, ctx: SolveContext) -> SolverOutput:
        t0 = time.perf_counter()
        rng = np.random.default_rng(ctx.seed)
        ev = Evaluator(problem)
        genes = problem.space.encoding  # uniform draws of every decision
        pop_n = int(options.population)
        n_par = max(1, int(round(options.parent_ratio * pop_n)))
        n_mut = int(round(options.mutation_ratio * pop_n))
        stats: dict = {"rejected": 0}

        def feasible(D, O):
            return ev.feasible(D, O)

        # ---- initial population: bounded rejection sampling ----------------------------
        found_d, found_o, drawn = [], [], 0
        have = 0
        if ctx.warm_start is not None:
            d, o = to_arrays(problem.space, ctx.warm_start)
            if feasible(d[None, :], o[None, :])[0]:
                found_d.append(d[None, :])
                found_o.append(o[None, :])
                have = 1
        for _ in range(options.max_attempts):
            if have >= pop_n or ctx.out_of_time():
                break
            D, O = genes.sample(rng, pop_n, inactive="random")
            drawn += pop_n
            ok = feasible(D, O)
            take = np.flatnonzero(ok)[: pop_n - have]
            found_d.append(D[take])
            found_o.append(O[take])
            have += take.size
        stats["initial_draws"] = drawn
        if have < pop_n and options.repair and not ctx.out_of_time():
            # fill the rest with repaired random samples (greedy repair; MILP fallback once)
            D, O = genes.sample(rng, pop_n - have, inactive="random")
            for i in range(len(D)):
                if ctx.out_of_time():
                    break
                out = repair(problem, D[i], O[i], fallback=(have == 0),
                             time_limit=max(ctx.remaining(), 1.0)
                             if ctx.time_limit is not None else 30.0)
                if out.depths is None:
                    if out.proven_infeasible:
                        return SolverOutput(
                            Termination.INFEASIBLE, proven_infeasible=True,
                            message="the budgets are jointly infeasible (proved while repairing)",
                            stats=stats, solve_time=time.perf_counter() - t0)
                    continue
                found_d.append(out.depths[None, :])
                found_o.append(out.ops[None, :])
                have += 1
            stats["repaired"] = True
        if have == 0:
            # nothing found is not a proof: the sampling limit (or the clock) stopped the search
            term = Termination.TIME_LIMIT if ctx.out_of_time() else Termination.ITERATION_LIMIT
            return SolverOutput(
                term, stats=stats, solve_time=time.perf_counter() - t0,
                message=(f"no feasible architecture among {drawn} random samples "
                         f"({options.max_attempts} rejection rounds); this is not a proof of "
                         "infeasibility: use repair=True or an exact backend"))
        D = np.concatenate(found_d)[:pop_n]
        O = np.concatenate(found_o)[:pop_n]
        fit = ev.objective(D, O)
        best_i = int(np.argmax(fit))
        best = (D[best_i].copy(), O[best_i].copy(), fit[best_i])
        gens, stale, clock = 0, 0, False

        # ---- generations ------------------------------------------------------------------
        for _g in range(options.generations):
            if ctx.out_of_time():
                clock = True
                break
            order = np.argsort(-fit, kind="stable")[:n_par]
            PD, PO, pfit = D[order], O[order], fit[order]
            n_par_now = len(order)
            # mutation children
            pm = rng.integers(n_par_now, size=n_mut)
            CD1, CO1 = self._children(rng, genes, ev, options, PD, PO, pm, None, stats)
            # crossover children
            n_x = pop_n - n_mut
            p1 = rng.integers(n_par_now, size=n_x)
            p2 = rng.integers(n_par_now, size=n_x)
            CD2, CO2 = self._children(rng, genes, ev, options, PD, PO, p1, p2, stats)
            CD, CO = np.concatenate([CD1, CD2]), np.concatenate([CO1, CO2])
            cfit = ev.objective(CD, CO)
            D, O = np.concatenate([PD, CD]), np.concatenate([PO, CO])
            fit = np.concatenate([pfit, cfit])
            gens += 1
            i = int(np.argmax(fit))
            if fit[i] > best[2]:
                best, stale = (D[i].copy(), O[i].copy(), fit[i]), 0
            else:
                stale += 1
            if options.patience is not None and stale >= options.patience:
                break
        arch = problem.space.architectures_from_arrays(best[0][None, :], best[1][None, :])[0]
        stats.update({"generations": gens, "evaluations": int(pop_n + gens * pop_n)})
        elapsed = time.perf_counter() - t0
        if clock:
            return SolverOutput(Termination.TIME_LIMIT, architecture=arch, stats=stats,
                                message="stopped by the time limit", solve_time=elapsed)
        term = Termination.ITERATION_LIMIT if gens == options.generations else \
            Termination.CONVERGED
        return SolverOutput(term, architecture=arch, stats=stats, solve_time=elapsed)

    @staticmethod
    def _children(rng, genes: Encoding, ev: Evaluator, options: EvoOptions, PD, PO, pa, pb, stats):
        """Children of parents ``pa`` (mutation) or ``pa`` x ``pb`` (crossover), feasible only.

        Infeasible children are drawn again, all at once, at most ``max_attempts`` times; those
        still infeasible become copies of their first parent.
        """
        n = pa.size
        CD, CO = PD[pa].copy(), PO[pa].copy()
        todo = np.arange(n)
        for _ in range(options.max_attempts):
            if todo.size == 0:
                break
            m = todo.size
            base_d, base_o = PD[pa[todo]], PO[pa[todo]]
            if pb is None:
                rd, ro = genes.sample(rng, m, inactive="random")
                mask_o = rng.random(base_o.shape) < options.mutate_prob
                mask_d = rng.random(base_d.shape) < options.mutate_prob
            else:
                rd, ro = PD[pb[todo]], PO[pb[todo]]
                mask_o = rng.random(base_o.shape) < 0.5
                mask_d = rng.random(base_d.shape) < 0.5
            nd = np.where(mask_d, rd, base_d)
            no = np.where(mask_o, ro, base_o)
            ok = ev.feasible(nd, no)
            CD[todo[ok]], CO[todo[ok]] = nd[ok], no[ok]
            stats["rejected"] += int((~ok).sum())
            todo = todo[~ok]
        return CD, CO
