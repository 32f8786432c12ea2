"""binas-opt: hardware-aware neural architecture search as exact mathematical optimisation.

State a search space, an accuracy estimator and resource tables with budgets, then call
:func:`solve` with any backend.  See https://arxiv.org/abs/2110.12399 for BINAS.
"""

from binas_opt.architecture import Architecture
from binas_opt.backend import NoOptions, SolveContext, Solver
from binas_opt.blackbox import BlackBox
from binas_opt.io import load, save
from binas_opt.problem import FEASIBILITY_RTOL, ObjectiveKind, Problem
from binas_opt.quadratic import QuadraticForm
from binas_opt.registry import backend_info, get_backend, list_backends, register_backend
from binas_opt.result import Result, SolverOutput, Status, Termination
from binas_opt.solving import backends_accepting, solve
from binas_opt.space import FixedPart, SearchSpace, Stage
from binas_opt.table import Constraint, Sense, Table
from binas_opt.units import Budget, UnitError

__version__ = "0.1.0"

# Names defined in modules that import more (matplotlib, yaml) or are large: loaded on first use.
_LAZY = {
    "pareto_front": "binas_opt.pareto", "ParetoFront": "binas_opt.pareto",
    "compare": "binas_opt.comparison", "CompareRow": "binas_opt.comparison",
    "explain": "binas_opt.explanation", "Explanation": "binas_opt.explanation",
    "plot_contributions": "binas_opt.plotting", "plot_pareto": "binas_opt.plotting",
    "plot_compare": "binas_opt.plotting",
    "params_table": "binas_opt.resources", "macs_table": "binas_opt.resources",
    "fit_table": "binas_opt.fitting", "TableFit": "binas_opt.fitting",
    "read_ofa_yaml": "binas_opt.lut", "read_fbnet_json": "binas_opt.lut",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'binas_opt' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "Architecture", "BlackBox", "Budget", "Constraint", "FEASIBILITY_RTOL", "FixedPart",
    "NoOptions", "ObjectiveKind", "Problem", "QuadraticForm", "Result", "SearchSpace", "Sense",
    "SolveContext", "Solver", "SolverOutput", "Stage", "Status", "Table", "Termination",
    "UnitError", "backend_info", "backends_accepting", "get_backend", "list_backends", "load",
    "register_backend", "save", "solve", *_LAZY,
]
