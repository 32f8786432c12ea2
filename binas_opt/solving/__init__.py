"""Solving a problem: :func:`solve`, the :class:`Result`, the backend contract and registry, and
the drivers built on them (``compare``, ``pareto_front``, ``solve_budgets``; imported on first
use)."""

from binas_opt.solving.backend import (
    Capability,
    FrontPoints,
    NoOptions,
    SolveContext,
    Solver,
    WorkLimitExceeded,
)
from binas_opt.solving.dispatch import backends_accepting, make_result, solve
from binas_opt.solving.registry import (
    backend_info,
    backends_with,
    get_backend,
    list_backends,
    register_backend,
    unregister_backend,
)
from binas_opt.solving.result import Result, SolverOutput, Status, Termination

__all__ = ["Capability", "FrontPoints", "NoOptions", "Result", "SolveContext", "Solver",
           "SolverOutput", "Status", "Termination", "WorkLimitExceeded", "backend_info",
           "backends_accepting", "backends_with", "get_backend", "list_backends", "make_result",
           "register_backend", "solve", "unregister_backend"]
