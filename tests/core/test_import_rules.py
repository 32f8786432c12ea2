"""The dependency rule of DESIGN 3: the core (``binas_opt/``) imports no backend module
(``binas_opt.solvers``) and no PyTorch module (``binas_opt.models``) except through the backend
registry and declared capabilities; ``import binas_opt`` and the drivers built on ``solve`` never
load torch.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import binas_opt

CORE = Path(binas_opt.__file__).parent
FORBIDDEN = ("binas_opt.solvers", "binas_opt.models")

#: Core modules allowed to import ``binas_opt.models`` lazily (inside a function), and why:
#: CLI commands whose whole job is the PyTorch side.
ALLOWED_LAZY = {
    "commands/measure_latency.py": "binas-opt measure-latency measures a model with torch",
    "commands/pipeline.py": "binas-opt pipeline trains a supernet with torch",
    "commands/export.py": "binas-opt export builds the chosen child network with torch",
    "commands/verify.py": "binas-opt verify times the chosen child network with torch",
}


def _imports(tree: ast.AST):
    """``(module, node, at_module_level)`` for every import statement and every
    ``importlib.import_module("...")`` / ``__import__("...")`` call with a literal name."""
    top = set(map(id, getattr(tree, "body", [])))
    for node in ast.walk(tree):
        level = id(node) in top
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node, level
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node, level
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node, level
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in ("import_module", "__import__"):
                yield node.args[0].value, node, level


def _core_files():
    for path in sorted(CORE.rglob("*.py")):
        rel = path.relative_to(CORE).as_posix()
        if rel.split("/")[0] in ("solvers", "models"):  # the other two packages
            continue
        yield rel, path


def test_core_has_no_solver_or_model_imports():
    bad = []
    for rel, path in _core_files():
        for module, node, at_top in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if not module.startswith(FORBIDDEN):
                continue
            if module.startswith("binas_opt.models") and rel in ALLOWED_LAZY and not at_top:
                continue
            bad.append(f"{rel}:{node.lineno}: {module}")
    assert not bad, "core modules import backends or torch models directly:\n" + "\n".join(bad)


def test_allow_list_is_current():
    """Every allowed module exists and does import models lazily (no stale exceptions)."""
    for rel in ALLOWED_LAZY:
        tree = ast.parse((CORE / rel).read_text(encoding="utf-8"))
        mods = [(m, top) for m, _, top in _imports(tree) if m.startswith("binas_opt.models")]
        assert mods and not any(top for _, top in mods), rel


_SCRIPT = """
import json, sys
import binas_opt as bo
after_import = sorted(m for m in sys.modules if m.startswith(("binas_opt.solvers", "binas_opt.models"))
                      or m == "torch")
from binas_opt.testing.synthetic import random_problem
p = random_problem(3, n_constraints=1)
q = random_problem(4, n_constraints=2)
for backend in ("milp", "dp", "brute", "fw", "evo", "relax", "pulp"):
    bo.solve(p, backend, time_limit=5)
front = bo.pareto_front(p, resource=p.constraints[0].name)
front.results([p.constraints[0].budget])
bo.solve_budgets(p, p.constraints[0].name, [p.constraints[0].budget])
bo.solve_budgets(q, q.constraints[0].name, [q.constraints[0].budget])
bo.compare(p, ["milp", "dp", "evo"])
r = bo.solve(p, "milp")
bo.explain(p, r.architecture)
print(json.dumps({"after_import": after_import,
                  "models": sorted(m for m in sys.modules if m.startswith("binas_opt.models")),
                  "torch": "torch" in sys.modules}))
"""


@pytest.mark.slow
def test_drivers_never_import_models_or_torch():
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                         timeout=600, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["after_import"] == [], got  # `import binas_opt` loads no backend and no torch
    assert got["models"] == [] and not got["torch"], got
