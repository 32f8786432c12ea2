"""The backend registry; backends are imported on first use, so ``import binas_opt`` stays light."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

from binas_opt.solving.backend import Capability, Solver

__all__ = ["BackendSpec", "register_backend", "list_backends", "get_backend", "backend_info",
           "backends_with", "unregister_backend"]


@dataclass(frozen=True)
class BackendSpec:
    """Where a backend lives (``"module:Class"`` or the class itself) and what it needs."""

    name: str
    target: str | type
    requires: tuple[str, ...] = ()
    summary: str = ""

    def is_available(self) -> bool:
        if not isinstance(self.target, str):
            return all(importlib.util.find_spec(r) is not None for r in self.requires)
        module = self.target.split(":")[0]
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        return found and all(importlib.util.find_spec(r) is not None for r in self.requires)

    def load(self) -> type[Solver]:
        if not isinstance(self.target, str):
            return self.target
        module, attr = self.target.split(":")
        cls = getattr(importlib.import_module(module), attr)
        if not (isinstance(cls, type) and issubclass(cls, Solver)):
            raise TypeError(f"backend {self.name!r}: {self.target} is not a Solver subclass")
        return cls


_REGISTRY: dict[str, BackendSpec] = {}


def register_backend(name: str, target: str | type, requires=(), summary: str = "",
                     overwrite: bool = False) -> None:
    """Register a backend under ``name``.

    Parameters
    ----------
    name : str
    target : str or type
        A :class:`~binas_opt.Solver` subclass, or ``"package.module:ClassName"`` to import lazily.
    requires : sequence of str
        Importable modules the backend needs (checked by :func:`list_backends`).
    overwrite : bool
        Replace an existing registration instead of raising.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("register_backend: name must be a non-empty string")
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"backend {name!r} is already registered; pass overwrite=True to replace")
    if isinstance(target, type) and not issubclass(target, Solver):
        raise TypeError(f"register_backend: {target!r} is not a Solver subclass")
    _REGISTRY[name] = BackendSpec(name, target, tuple(requires), summary)


def unregister_backend(name: str) -> None:
    """Remove the backend registered as ``name`` (e.g. one a test registered)."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown backend {name!r}; valid backends: {list_backends(False)}")
    del _REGISTRY[name]


def list_backends(available_only: bool = True) -> list[str]:
    """Names of registered backends (only those importable here when ``available_only``)."""
    return [n for n, s in _REGISTRY.items() if not available_only or s.is_available()]


def backend_info(name: str) -> BackendSpec:
    if name not in _REGISTRY:
        raise ValueError(f"unknown backend {name!r}; valid backends: {list_backends(False)}")
    return _REGISTRY[name]


def get_backend(name: str) -> type[Solver]:
    """The Solver class registered as ``name`` (imported now if needed)."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown backend {name!r}; valid backends: {list_backends(False)}")
    return _REGISTRY[name].load()


def backends_with(capability: Capability | str) -> list[str]:
    """Available backends that declare ``capability`` (:meth:`Solver.has`), in registration
    order.  Loads each available backend's class."""
    cap = Capability.parse(capability, "capability")
    return [n for n in list_backends(True) if get_backend(n).has(cap)]


_BUILTIN = [
    ("milp", "binas_opt.solvers.milp:MilpSolver", ("highspy",), "exact compact MILP via HiGHS"),
    ("pulp", "binas_opt.solvers.pulp:PulpSolver", ("pulp",), "exact compact MILP via PuLP"),
    ("dp", "binas_opt.solvers.dp:DPSolver", (), "exact Pareto dynamic programming"),
    ("fw", "binas_opt.solvers.fw:FrankWolfeSolver", (), "block-coordinate Frank-Wolfe (paper)"),
    ("relax", "binas_opt.solvers.relax:RelaxSolver", ("cvxpy",), "LP relaxation via cvxpy"),
    ("evo", "binas_opt.solvers.evo:EvolutionSolver", (), "evolutionary baseline (paper)"),
    ("brute", "binas_opt.solvers.brute:BruteForceSolver", (), "enumeration (test oracle)"),
]
for _n, _t, _r, _s in _BUILTIN:
    register_backend(_n, _t, _r, _s)
