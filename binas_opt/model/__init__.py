"""The modelling language: search spaces and their encoding, architectures, tables and forms,
units and budgets, and the :class:`~binas_opt.model.problem.Problem` that joins them."""

from binas_opt.model.architecture import Architecture
from binas_opt.model.blackbox import BlackBox
from binas_opt.model.choices import Choice, ObjectiveSense
from binas_opt.model.encoding import Encoding, GroupKind
from binas_opt.model.problem import ObjectiveKind, Problem
from binas_opt.model.quadratic import QuadraticForm
from binas_opt.model.space import FixedPart, SearchSpace, Stage
from binas_opt.model.table import Constraint, Sense, Table
from binas_opt.model.units import Budget, UnitError

__all__ = ["Architecture", "BlackBox", "Budget", "Choice", "Constraint", "Encoding", "FixedPart",
           "GroupKind", "ObjectiveKind", "ObjectiveSense", "Problem", "QuadraticForm",
           "SearchSpace", "Sense", "Stage", "Table", "UnitError"]
