"""binas-opt: hardware-aware neural architecture search as exact mathematical optimisation.

State a search space, an accuracy estimator and resource tables with budgets, then call
:func:`solve` with any backend.  See https://arxiv.org/abs/2110.12399 for BINAS.
"""

from binas_opt.io import load, save
from binas_opt.model import (
    Architecture,
    BlackBox,
    Budget,
    Constraint,
    FixedPart,
    ObjectiveKind,
    ObjectiveSense,
    Problem,
    QuadraticForm,
    SearchSpace,
    Sense,
    Stage,
    Table,
    UnitError,
)
from binas_opt.solving import (
    Capability,
    NoOptions,
    Result,
    SolveContext,
    Solver,
    SolverOutput,
    Status,
    Termination,
    backend_info,
    backends_accepting,
    backends_with,
    get_backend,
    list_backends,
    register_backend,
    solve,
    unregister_backend,
)

__version__ = "0.1.0"

# Names defined in modules that import more (matplotlib, yaml) or are large: loaded on first use.
_LAZY = {
    "pareto_front": "binas_opt.solving.pareto", "ParetoFront": "binas_opt.solving.pareto",
    "solve_budgets": "binas_opt.solving.pareto",
    "compare": "binas_opt.solving.comparison", "CompareRow": "binas_opt.solving.comparison",
    "explain": "binas_opt.analysis.explanation", "Explanation": "binas_opt.analysis.explanation",
    "plot_contributions": "binas_opt.analysis.plotting", "plot_pareto": "binas_opt.analysis.plotting",
    "plot_compare": "binas_opt.analysis.plotting",
    "params_table": "binas_opt.mbconv.counts", "macs_table": "binas_opt.mbconv.counts",
    "fit_table": "binas_opt.estimation.fitting", "TableFit": "binas_opt.estimation.fitting",
    "read_ofa_yaml": "binas_opt.io.ofa", "read_ofa_yaml_by_resolution": "binas_opt.io.ofa",
    "read_fbnet_json": "binas_opt.io.fbnet",
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
    "Architecture", "BlackBox", "Budget", "Capability", "Constraint",
    "FixedPart",
    "NoOptions", "ObjectiveKind", "ObjectiveSense", "Problem", "QuadraticForm", "Result",
    "SearchSpace", "Sense",
    "SolveContext", "Solver", "SolverOutput", "Stage", "Status", "Table", "Termination",
    "UnitError", "backend_info", "backends_accepting", "backends_with", "get_backend",
    "list_backends", "load", "register_backend", "save", "solve", "unregister_backend", *_LAZY,
]
