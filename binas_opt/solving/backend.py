"""The interface every backend implements, and option validation shared by all of them."""

from __future__ import annotations

import abc
import dataclasses
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from binas_opt.model.architecture import Architecture
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.solving.result import SolverOutput

__all__ = ["Solver", "SolveContext", "NoOptions", "make_options"]


@dataclass(frozen=True)
class NoOptions:
    """A backend without options of its own."""


@dataclass(frozen=True)
class SolveContext:
    """Arguments common to every backend, fixed for one call of :func:`~binas_opt.solve`."""

    time_limit: float | None = None
    seed: int = 0
    verbose: bool = False
    warm_start: Architecture | None = None
    start: float = dataclasses.field(default_factory=time.perf_counter)

    @property
    def deadline(self) -> float:
        return float("inf") if self.time_limit is None else self.start + self.time_limit

    def remaining(self) -> float:
        """Seconds left before the time limit (``inf`` without one)."""
        return self.deadline - time.perf_counter()

    def out_of_time(self) -> bool:
        return time.perf_counter() >= self.deadline


def make_options(options_cls: type, given: dict[str, Any], backend: str):
    """Build a backend's frozen options dataclass, rejecting unknown names.

    Raises
    ------
    ValueError
        Naming the unknown option and listing the valid ones.
    """
    valid = [f.name for f in dataclasses.fields(options_cls)]
    unknown = sorted(set(given) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown option(s) {unknown} for backend {backend!r}; valid options: "
            f"{valid or 'none'} (plus time_limit, seed, verbose, warm_start)"
        )
    try:
        opts = options_cls(**given)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"backend {backend!r}: {exc}") from exc
    check = getattr(opts, "validate", None)
    if check is not None:
        check()
    return opts


class Solver(abc.ABC):
    """A backend: a small object with a name, what it accepts, options, and :meth:`run`.

    Subclasses set the class variables and implement :meth:`run`, which returns a
    :class:`~binas_opt.SolverOutput`; :func:`~binas_opt.solve` validates the input before and
    checks budgets, evaluates the objective and builds the :class:`~binas_opt.Result` after.
    """

    name: ClassVar[str]
    exact: ClassVar[bool] = False
    accepts: ClassVar[frozenset[ObjectiveKind]] = frozenset(ObjectiveKind)
    max_constraints: ClassVar[int | None] = None
    Options: ClassVar[type] = NoOptions
    #: Distributions whose versions are recorded in every result of this backend.
    packages: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    def run(self, problem: Problem, options: Any, ctx: SolveContext) -> SolverOutput:
        """Solve ``problem``; never print, log to ``logging.getLogger("binas_opt")``."""
