"""Solving a problem: :func:`solve`, the :class:`Result`, the backend contract and registry, and
the drivers built on them (``compare``, ``pareto_front``; imported on first use)."""

from binas_opt.solving.backend import NoOptions, SolveContext, Solver
from binas_opt.solving.dispatch import backends_accepting, solve
from binas_opt.solving.registry import backend_info, get_backend, list_backends, register_backend
from binas_opt.solving.result import Result, SolverOutput, Status, Termination

__all__ = ["NoOptions", "Result", "SolveContext", "Solver", "SolverOutput", "Status", "Termination",
           "backend_info", "backends_accepting", "get_backend", "list_backends", "register_backend",
           "solve"]
