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
status ``infeasible`` and a message saying that this is not a proof.

Same seed, same result: one ``numpy.random.Generator`` drives every draw.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.solving.backend import SolveContext, Solver
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
        with the shared repair (default True); otherwise stop with status ``infeasible``.
    patience : int or None
        Stop after this many generations without improvement (None: run every generation).
    """

    population: int = 100
    generations: int = 500
    parent_ratio: float = 0.25
    mutation_ratio: float = 0.5
    mutate_prob: float = 0.1
    max_attempts: int = 50
    repair: bool = True
    patience: int | None = None

    def validate(self) -> None:
        def is_int(v):
            return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

        if not is_int(self.population) or self.population < 2:
            raise ValueError(f"evo: population must be an int >= 2, got {self.population!r}")
        if not is_int(self.generations) or self.generations < 0:
            raise ValueError(f"evo: generations must be an int >= 0, got {self.generations!r}")
        if not 0 < self.parent_ratio <= 1:
            raise ValueError(f"evo: parent_ratio must be in (0, 1], got {self.parent_ratio!r}")
        if not 0 <= self.mutation_ratio <= 1:
            raise ValueError(f"evo: mutation_ratio must be in [0, 1], got {self.mutation_ratio!r}")
        if not 0 <= self.mutate_prob <= 1:
            raise ValueError(f"evo: mutate_prob must be in [0, 1], got {self.mutate_prob!r}")
        if not is_int(self.max_attempts) or self.max_attempts < 1:
            raise ValueError(f"evo: max_attempts must be an int >= 1, got {self.max_attempts!r}")
        if not isinstance(self.repair, bool):
            raise ValueError(f"evo: repair must be a bool, got {self.repair!r}")
        if self.patience is not None and (not is_int(self.patience) or self.patience < 1):
            raise ValueError(f"evo: patience must be None or an int >= 1, got {self.patience!r}")


class _Genes:
    """Uniform draws of decisions: ops of every block and depths of every stage."""

    def __init__(self, problem: Problem):
        space = problem.space
        self.n_ops = np.array([n for st in space.stages for n in st.num_ops], dtype=np.int64)
        self.depth_opts = [np.asarray(st.depths, dtype=np.int64) for st in space.stages]
        max_d = max(len(d) for d in self.depth_opts)
        self.depth_table = np.array([np.pad(d, (0, max_d - len(d)), mode="edge")
                                     for d in self.depth_opts])
        self.n_depths = np.array([len(d) for d in self.depth_opts], dtype=np.int64)
        self.n_blocks = self.n_ops.size
        self.n_stages = len(self.depth_opts)

    def random(self, rng: np.random.Generator, n: int):
        u_ops = rng.random((n, self.n_blocks))
        u_dep = rng.random((n, self.n_stages))
        ops = np.floor(u_ops * self.n_ops[None, :]).astype(np.int64)
        di = np.floor(u_dep * self.n_depths[None, :]).astype(np.int64)
        depths = self.depth_table[np.arange(self.n_stages)[None, :], di]
        return depths, ops


class EvolutionSolver(Solver):
    """The authors' evolutionary search, feasible-only, with bounded rejection sampling."""

    name = "evo"
    exact = False
    accepts = frozenset(ObjectiveKind)
    Options = EvoOptions

    def run(self, problem: Problem, options: EvoOptions, ctx: SolveContext) -> SolverOutput:
        t0 = time.perf_counter()
        rng = np.random.default_rng(ctx.seed)
        ev = Evaluator(problem)
        genes = _Genes(problem)
        pop_n = int(options.population)
        n_par = max(1, int(round(options.parent_ratio * pop_n)))
        n_mut = int(round(options.mutation_ratio * pop_n))
        stats: dict = {"rejected": 0}

        def feasible(D, O):
            return ev.feasible(ev.resources(D, O))

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
            D, O = genes.random(rng, pop_n)
            drawn += pop_n
            ok = feasible(D, O)
            take = np.flatnonzero(ok)[: pop_n - have]
            found_d.append(D[take])
            found_o.append(O[take])
            have += take.size
        stats["initial_draws"] = drawn
        if have < pop_n and options.repair and not ctx.out_of_time():
            # fill the rest with repaired random samples (greedy repair; MILP fallback once)
            D, O = genes.random(rng, pop_n - have)
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
                            stats={"solve_time": time.perf_counter() - t0, **stats})
                    continue
                found_d.append(out.depths[None, :])
                found_o.append(out.ops[None, :])
                have += 1
            stats["repaired"] = True
        if have == 0:
            term = Termination.TIME_LIMIT if ctx.out_of_time() else Termination.INFEASIBLE
            return SolverOutput(
                term, stats={"solve_time": time.perf_counter() - t0, **stats},
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
        stats.update({"solve_time": time.perf_counter() - t0, "generations": gens,
                      "evaluations": int(pop_n + gens * pop_n)})
        if clock:
            return SolverOutput(Termination.TIME_LIMIT, architecture=arch, stats=stats,
                                message="stopped by the time limit")
        term = Termination.ITERATION_LIMIT if gens == options.generations else \
            Termination.CONVERGED
        return SolverOutput(term, architecture=arch, stats=stats)

    @staticmethod
    def _children(rng, genes: _Genes, ev: Evaluator, options: EvoOptions, PD, PO, pa, pb, stats):
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
                rd, ro = genes.random(rng, m)
                mask_o = rng.random(base_o.shape) < options.mutate_prob
                mask_d = rng.random(base_d.shape) < options.mutate_prob
            else:
                rd, ro = PD[pb[todo]], PO[pb[todo]]
                mask_o = rng.random(base_o.shape) < 0.5
                mask_d = rng.random(base_d.shape) < 0.5
            nd = np.where(mask_d, rd, base_d)
            no = np.where(mask_o, ro, base_o)
            ok = ev.feasible(ev.resources(nd, no))
            CD[todo[ok]], CO[todo[ok]] = nd[ok], no[ok]
            stats["rejected"] += int((~ok).sum())
            todo = todo[~ok]
        return CD, CO
