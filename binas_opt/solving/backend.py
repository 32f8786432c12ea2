"""The interface every backend implements (:class:`Solver`), what it declares up front
(:class:`Capability`, :meth:`Solver.refusal`), and option validation shared by all backends.

A backend is a :class:`Solver` subclass registered with :func:`~binas_opt.register_backend`.
:func:`~binas_opt.solve` drives it in this order:

1. build the backend's options (:func:`make_options`, unknown names rejected);
2. ask :meth:`Solver.refusal` whether the backend takes the problem (a ``ValueError`` listing
   the backends that do, if not);
3. answer budgets that no architecture meets on its own as ``infeasible`` without calling the
   backend (the exact minimum of each resource is known);
4. call :meth:`Solver.run` once, on a fresh instance;
5. check the :class:`~binas_opt.SolverOutput` (architecture in the space, every budget re-checked
   exactly, objective evaluated, gap computed) and build the :class:`~binas_opt.Result`.

Drivers that answer many questions at once (:func:`~binas_opt.pareto_front`,
:func:`~binas_opt.solve_budgets`) find a backend through the registry by a declared
:class:`Capability` and call the capability's method; they import no backend module.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import math
import numbers
import time
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

import numpy as np

from binas_opt.model.architecture import Architecture
from binas_opt.model.choices import Choice
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.solving.result import SolverOutput

__all__ = ["COMMON_SPECS", "Capability", "FrontPoints", "NoOptions", "SolveContext", "Solver",
           "Spec", "WorkLimitExceeded", "check_value", "default_options", "make_options", "option",
           "option_specs"]


# ------------------------------------------------------------------ option specs
#
# One mechanism checks every option of every backend, and the arguments common to all of them
# (``time_limit``, ``seed``, ``verbose``): the type comes from the dataclass annotation, the
# range from a :class:`Spec` in the field's metadata (written with :func:`option`).


@dataclass(frozen=True)
class Spec:
    """The declared type and range of one option.

    Attributes
    ----------
    type : type or None
        ``bool``, ``int``, ``float``, ``str``, a :class:`~binas_opt.model.choices.Choice` (or
        other ``Enum``) subclass, or any other class (checked with ``isinstance``); None: any
        value.  Read from the field's annotation by :func:`option_specs` when not given.
    optional : bool
        None is accepted too (annotation ``X | None``).
    ge, gt, le, lt : float, optional
        Bounds of a number.
    choices : tuple, optional
        The allowed values (for a ``str`` option with a fixed set that is not an enum).
    finite : bool
        A float must be finite (default True; NaN is always refused).

    Rules: a ``bool`` option takes only ``True``/``False`` (``"no"`` is an error); an ``int``
    option takes integers (numpy ones too) but neither floats (``1.5`` or ``2.0``) nor bools;
    a ``float`` option takes real numbers (ints too) but neither strings nor bools; an enum
    option takes a member or its value.
    """

    type: Any = None
    optional: bool = False
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple | None = None
    finite: bool = True

    def expects(self) -> str:
        """What a valid value is, in words (for error messages)."""
        t = self.type
        if t is bool:
            text = "a bool (True or False)"
        elif t is int:
            text = "an int"
        elif t is float:
            text = "a number" if self.finite else "a number (inf allowed)"
        elif t is str:
            text = "a string"
        elif isinstance(t, type) and issubclass(t, Enum):
            text = "one of " + ", ".join(repr(m.value) for m in t)
        elif isinstance(t, type):
            text = f"a {t.__name__}"
        else:
            text = "a value"
        if self.choices is not None:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        def num(x: float) -> str:
            return "2**32" if x == 2**32 else repr(x) if isinstance(x, int) else f"{x:g}"

        lo = "[" if self.ge is not None else "(" if self.gt is not None else None
        hi = "]" if self.le is not None else ")" if self.lt is not None else None
        low = self.ge if self.ge is not None else self.gt
        high = self.le if self.le is not None else self.lt
        if lo and hi:
            text += f" in {lo}{num(low)}, {num(high)}{hi}"
        elif lo:
            text += f" {'>=' if lo == '[' else '>'} {num(low)}"
        elif hi:
            text += f" {'<=' if hi == ']' else '<'} {num(high)}"
        if self.optional:
            text += " or None"
        return text


def option(default: Any = dataclasses.MISSING, *, ge: float | None = None,
           gt: float | None = None, le: float | None = None, lt: float | None = None,
           choices: Iterable | None = None, finite: bool = True, **field_kwargs: Any) -> Any:
    """A dataclass field of a backend's Options carrying its range (:class:`Spec`).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class MyOptions:
    ...     rel_gap: float = option(0.0, ge=0, lt=1)
    ...     threads: int | None = option(None, ge=1)
    >>> make_options(MyOptions, {"threads": 1.5}, "mine")
    Traceback (most recent call last):
    ...
    ValueError: backend 'mine': option 'threads' must be an int >= 1 or None, got 1.5
    """
    spec = Spec(ge=ge, gt=gt, le=le, lt=lt, finite=finite,
                choices=None if choices is None else tuple(choices))
    meta = {**field_kwargs.pop("metadata", {}), SPEC_KEY: spec}
    return dataclasses.field(default=default, metadata=meta, **field_kwargs)


SPEC_KEY = "binas_opt.spec"


def _from_annotation(tp: Any) -> tuple[Any, bool]:
    """``(type, optional)`` of an annotation; type None when it is not a plain class."""
    optional = False
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        tp = args[0] if len(args) == 1 else None
    if tp is typing.Any or not isinstance(tp, type):
        tp = None
    return tp, optional


@functools.cache
def option_specs(options_cls: type) -> dict[str, Spec]:
    """Every field of an Options dataclass with its :class:`Spec` (type and optionality from
    the annotation, range from :func:`option` metadata)."""
    try:
        hints = typing.get_type_hints(options_cls)
    except Exception:  # an annotation that cannot be resolved: check ranges only
        hints = {}
    out = {}
    for f in dataclasses.fields(options_cls):
        spec = f.metadata.get(SPEC_KEY, Spec())
        tp, optional = _from_annotation(hints.get(f.name, typing.Any))
        if spec.type is None:
            spec = dataclasses.replace(spec, type=tp, optional=spec.optional or optional)
        out[f.name] = spec
    return out


def check_value(value: Any, spec: Spec, what: str) -> Any:
    """``value`` checked against ``spec`` (and normalised: numpy scalars to Python ones, a
    float option's int to float, an enum's string to its member).

    Raises
    ------
    ValueError
        ``"<what> must be <spec.expects()>, got <value>"``.
    """
    given = value

    def bad() -> ValueError:
        return ValueError(f"{what} must be {spec.expects()}, got {given!r}")

    if value is None:
        if spec.optional:
            return None
        raise bad()
    t = spec.type
    if t is bool:
        if not isinstance(value, (bool, np.bool_)):
            raise bad()
        value = bool(value)
    elif t is int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise bad()
        value = int(value)
    elif t is float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise bad()
        value = float(value)
        if math.isnan(value) or (spec.finite and math.isinf(value)):
            raise bad()
    elif isinstance(t, type) and issubclass(t, Enum):
        try:
            value = t(value)
        except ValueError:
            raise bad() from None
    elif isinstance(t, type):
        if not isinstance(value, t):
            raise bad()
    if spec.choices is not None and value not in spec.choices:
        raise bad()
    if any(b is not None for b in (spec.ge, spec.gt, spec.le, spec.lt)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise bad()
        if ((spec.ge is not None and not value >= spec.ge)
                or (spec.gt is not None and not value > spec.gt)
                or (spec.le is not None and not value <= spec.le)
                or (spec.lt is not None and not value < spec.lt)):
            raise bad()
    return value


#: The arguments every backend takes through :func:`~binas_opt.solve` (and the drivers),
#: checked by :class:`SolveContext` with the same rules as the options.
COMMON_SPECS: dict[str, Spec] = {
    "time_limit": Spec(float, optional=True, gt=0),
    "seed": Spec(int, ge=0, lt=2**32),
    "verbose": Spec(bool),
}


@dataclass(frozen=True)
class NoOptions:
    """A backend without options of its own."""


@dataclass(frozen=True)
class SolveContext:
    """Arguments common to every backend, fixed for one call of :func:`~binas_opt.solve`.

    Attributes
    ----------
    time_limit : float or None
        Seconds for the whole call; :attr:`deadline` is the absolute clock time.
    seed : int
        Seed every random choice of the backend from this (same seed, same result).
    verbose : bool
        Let the underlying solver log its progress (through logging, never print).
    warm_start : Architecture or None
        A validated starting architecture (it may break a budget).
    start : float
        ``time.perf_counter()`` when the call started.
    """

    time_limit: float | None = None
    seed: int = 0
    verbose: bool = False
    warm_start: Architecture | None = None
    start: float = dataclasses.field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        for name, spec in COMMON_SPECS.items():
            value = getattr(self, name)
            object.__setattr__(self, name, check_value(value, spec, name))
        if self.warm_start is not None and not isinstance(self.warm_start, Architecture):
            raise ValueError(f"warm_start must be an Architecture or None, got "
                             f"{type(self.warm_start).__name__}")

    @property
    def deadline(self) -> float:
        """``time.perf_counter()`` value at which the time limit runs out (``inf`` without)."""
        return float("inf") if self.time_limit is None else self.start + self.time_limit

    def remaining(self) -> float:
        """Seconds left before the time limit (``inf`` without one)."""
        return self.deadline - time.perf_counter()

    def out_of_time(self) -> bool:
        return time.perf_counter() >= self.deadline


class Capability(Choice):
    """What a backend can do beyond :meth:`Solver.run`, declared in ``Solver.capabilities``.

    A capability that names a method (:attr:`method`) obliges the backend to implement it;
    drivers find backends by capability through the registry
    (:func:`~binas_opt.solving.registry.backends_with`).
    """

    #: ``front(problem, resource, options, ctx, *, budget=inf, max_solves=None) -> FrontPoints``:
    #: the objective-vs-``resource`` Pareto front (other budgets fixed), for
    #: :func:`~binas_opt.pareto_front`.
    PARETO_FRONT = "pareto_front"
    #: ``sweep(problem, resource, budgets, options, ctx) -> list[SolverOutput]``: one output per
    #: budget of ``resource`` (all achievable), reusing one model, for
    #: :func:`~binas_opt.solve_budgets`.
    BUDGET_SWEEP = "budget_sweep"
    #: ``run`` uses ``ctx.warm_start``: the result is at least as good as a feasible warm start.
    WARM_START = "warm_start"
    #: Without a time limit, ``run`` finds a feasible architecture whenever one exists
    #: (implied by ``exact``).
    FINDS_FEASIBLE = "finds_feasible"
    #: Without a time limit, ``run`` proves infeasibility (``proven_infeasible``) whenever no
    #: architecture meets the budgets (implied by ``exact``).
    PROVES_INFEASIBILITY = "proves_infeasibility"

    @property
    def method(self) -> str | None:
        """The method a backend declaring this capability must implement (None: only ``run``)."""
        return {"pareto_front": "front", "budget_sweep": "sweep"}.get(self.value)


class WorkLimitExceeded(RuntimeError):
    """A capability method stopped because it would exceed a work limit given in its options
    (e.g. the ``dp`` backend's ``max_pairs``); the message says which and what to do."""


@dataclass(frozen=True)
class FrontPoints:
    """What :data:`Capability.PARETO_FRONT`'s ``front`` returns: points of a Pareto front.

    Point ``i`` is the architecture ``(depths[i], ops[i])`` (canonical: inactive ops 0), with
    ``resources[i]`` strictly increasing and ``objective[i]`` (in the problem's sense, not
    signed) strictly improving.  ``epsilon > 0``: every budget's best point is within
    ``epsilon`` of the optimum.

    Attributes
    ----------
    resources, objective : ndarray, shape (n,)
    depths : ndarray, shape (n, n_stages)
    ops : ndarray, shape (n, total_blocks)
    epsilon : float
    complete : bool
        False when the build stopped early (``max_solves`` or the deadline): budgets below
        ``resources[0]`` are then unexplored, not infeasible.
    method : str
        How the front was built, e.g. ``"dp"``, ``"dp-epsilon"``, ``"milp"``.
    stats : dict
    """

    resources: np.ndarray
    objective: np.ndarray
    depths: np.ndarray
    ops: np.ndarray
    epsilon: float = 0.0
    complete: bool = True
    method: str = ""
    stats: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        n = np.asarray(self.resources).shape[0]
        for name in ("objective", "depths", "ops"):
            if np.asarray(getattr(self, name)).shape[0] != n:
                raise ValueError(f"FrontPoints: {name} has {np.asarray(getattr(self, name)).shape[0]} "
                                 f"rows, resources {n}")
        if not (self.epsilon >= 0 and math.isfinite(self.epsilon)):
            raise ValueError(f"FrontPoints: epsilon must be finite and >= 0, got {self.epsilon!r}")


def make_options(options_cls: type, given: dict[str, Any], backend: str):
    """Build a backend's frozen options dataclass, rejecting unknown names and checking every
    given value against its declared type and range (:func:`option_specs`) before anything
    else runs; then the dataclass's own ``validate()`` (checks across options) if it has one.

    Raises
    ------
    ValueError
        Naming the backend and the unknown option (listing the valid ones), or the option
        whose value does not fit and what it expects.
    """
    valid = [f.name for f in dataclasses.fields(options_cls)]
    unknown = sorted(set(given) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown option(s) {unknown} for backend {backend!r}; valid options: "
            f"{valid or 'none'} (plus time_limit, seed, verbose, warm_start)"
        )
    specs = option_specs(options_cls)
    given = {name: check_value(value, specs[name], f"backend {backend!r}: option {name!r}")
             if name in specs else value for name, value in given.items()}
    try:
        opts = options_cls(**given)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"backend {backend!r}: {exc}") from exc
    check = getattr(opts, "validate", None)
    if check is not None:
        check()
    return opts


class Solver(abc.ABC):
    """A backend: a name, what it accepts and can do, its options, and :meth:`run`.

    Subclass it, set the class variables (the attributes below), implement :meth:`run`, and
    register the class with
    :func:`~binas_opt.register_backend`; check it with
    :func:`binas_opt.testing.conformance.check_backend`.

    Attributes
    ----------
    name : str
        The registry name.
    exact : bool
        True only if :meth:`run` proves optimality (or infeasibility) whenever it is not
        stopped by the time limit.  Implies :data:`Capability.FINDS_FEASIBLE` and
        :data:`Capability.PROVES_INFEASIBILITY`.
    accepts : frozenset of ObjectiveKind
        Objective kinds :meth:`run` handles (default: every kind).
    max_constraints : int or None
        Most budgets :meth:`run` handles (None: any number).
    Options : type
        A frozen dataclass of the backend's options with defaults; :class:`NoOptions` if none.
        Every field's type is its annotation (``bool``, ``int``, ``float``, ``str``, an enum,
        ``X | None``) and its range is given with :func:`option` (``rel_gap: float =
        option(0.0, ge=0, lt=1)``); :func:`make_options` checks both before any work.  An
        optional ``validate()`` method (raising ``ValueError``) checks options together.
    capabilities : frozenset of Capability
        What the backend can do beyond :meth:`run`; a capability with a
        :attr:`Capability.method` needs that method (checked when the class is defined).
    packages : tuple of str
        Distributions whose versions are recorded in every result of this backend.

    Refusals are declared up front, never discovered inside :meth:`run`: everything the
    backend does not take must make :meth:`refusal` return a reason (the default one checks
    ``accepts`` and ``max_constraints``; override it for more, e.g. a size limit).
    """

    name: ClassVar[str]
    exact: ClassVar[bool] = False
    accepts: ClassVar[frozenset[ObjectiveKind]] = frozenset(ObjectiveKind)
    max_constraints: ClassVar[int | None] = None
    Options: ClassVar[type] = NoOptions
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    packages: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        caps = frozenset(Capability.parse(c, f"{cls.__name__}.capabilities")
                         for c in cls.capabilities)
        cls.capabilities = caps
        for cap in caps:
            if cap.method is not None and not callable(getattr(cls, cap.method, None)):
                raise TypeError(f"{cls.__name__} declares {cap.value!r} but has no "
                                f"{cap.method}() method")

    @classmethod
    def has(cls, capability: Capability | str) -> bool:
        """Whether the backend declares ``capability`` (``exact`` implies ``FINDS_FEASIBLE``
        and ``PROVES_INFEASIBILITY``)."""
        cap = Capability.parse(capability, "capability")
        implied = {Capability.FINDS_FEASIBLE, Capability.PROVES_INFEASIBILITY} if cls.exact else set()
        return cap in cls.capabilities or cap in implied

    @classmethod
    def refusal(cls, problem: Problem, options: Any) -> str | None:
        """Why this backend does not take ``problem`` with ``options``, or None if it does.

        Called by :func:`~binas_opt.solve` before :meth:`run` (and by the conformance suite,
        which checks that every refused problem raises a clear ``ValueError``).  The default
        checks :attr:`accepts` and :attr:`max_constraints`; override it (calling ``super()``)
        to declare more, such as a size limit.  It must be cheap and must not solve anything.

        Returns
        -------
        str or None
            A sentence naming the backend and the reason, e.g. ``"backend 'dp' handles at most
            1 budget(s), the problem has 2"``.
        """
        kind = problem.objective_kind
        if kind not in cls.accepts:
            return f"backend {cls.name!r} does not accept a {kind.value} objective"
        n = len(problem.constraints)
        if cls.max_constraints is not None and n > cls.max_constraints:
            return (f"backend {cls.name!r} handles at most {cls.max_constraints} budget(s), "
                    f"the problem has {n}")
        return None

    @abc.abstractmethod
    def run(self, problem: Problem, options: Any, ctx: SolveContext) -> SolverOutput:
        """Solve ``problem``.

        Called once per :func:`~binas_opt.solve`, on a fresh instance, only for problems that
        :meth:`refusal` accepted and whose budgets are each achievable on their own.

        Parameters
        ----------
        problem : Problem
            Validated; ``problem.sign * objective`` is maximised.
        options : Options
            The backend's validated options dataclass.
        ctx : SolveContext
            Time limit (check :meth:`SolveContext.out_of_time` and stop near the deadline),
            seed (derive every random choice from it), verbosity, warm start.

        Returns
        -------
        SolverOutput
            The best architecture found, or None.  Invariants (checked by ``SolverOutput`` and
            by :func:`~binas_opt.solve`, and tested by the conformance suite):

            * the architecture meets every budget exactly (:meth:`Problem.is_feasible`):
              re-check after any floating-point model and never return one that does not;
            * ``proven_optimal`` / termination ``OPTIMAL`` only with a proof;
            * ``proven_infeasible`` / termination ``INFEASIBLE`` only with a proof; a search
              that found nothing returns ``architecture=None`` with the termination that
              stopped it (``TIME_LIMIT``, ``ITERATION_LIMIT``, ``CONVERGED``) and a message:
              the user sees ``no_solution``;
            * termination ``ERROR`` with a message when the backend failed;
            * ``bound`` only if it is a valid bound on the optimum;
            * ``solve_time`` and ``build_time`` as fields, not in ``stats``;
            * same inputs and seed give the same output.

        Notes
        -----
        Never print: log to ``logging.getLogger("binas_opt")``.  Raise ``ValueError`` only for
        bad input that :meth:`refusal` could not see; never for a refusal.
        """


def default_options(solver_cls: type[Solver], given: dict[str, Any] | None = None,
                    name: str | None = None):
    """``solver_cls``'s options built from ``given`` (defaults for the rest), validated."""
    return make_options(solver_cls.Options, dict(given or {}), name or solver_cls.name)
