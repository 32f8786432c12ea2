"""The API reference (docs/api.rst) lists every public name; no Sphinx build here (fast).

Public names are a module's ``__all__`` (for ``binas_opt`` including the lazily exported names),
or, for a module without ``__all__``, the classes and functions defined in it whose names do not
start with an underscore.  Documented modules are ``binas_opt``, every public sub-module of
``binas_opt`` that has names of its own, every public module of ``binas_opt.solvers`` and
every public module of ``binas_opt.models``.  A name counts as documented when an autosummary
entry of api.rst has the same last component and resolves to the very same object (so a name
re-exported from another module is documented once, where it is defined or exported first).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api.rst"

_SKIP_SUBMODULES = {"binas_opt.commands"}  # CLI plumbing; documented through ``binas-opt --help``


def documented_entries(text: str) -> list[str]:
    """Fully qualified names of every autosummary entry, following ``currentmodule``."""
    current = None
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^\s*\.\. (?:current)?module::\s*(\S+)", line)
        if m:
            current = m.group(1)
        if re.match(r"^\s*\.\. autosummary::", line):
            indent = len(line) - len(line.lstrip())
            i += 1
            while i < len(lines):
                entry = lines[i]
                if entry.strip() and len(entry) - len(entry.lstrip()) <= indent:
                    break
                s = entry.strip()
                if s and not s.startswith(":"):
                    name = s.lstrip("~")
                    if current and not name.startswith("binas_opt"):
                        name = f"{current}.{name}"
                    out.append(name)
                i += 1
            continue
        i += 1
    return out


def resolve(dotted: str):
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for p in parts[k:]:
            obj = getattr(obj, p)
        return obj
    raise ImportError(dotted)


def public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return sorted(
        n for n, o in vars(module).items()
        if not n.startswith("_") and (inspect.isclass(o) or inspect.isfunction(o))
        and getattr(o, "__module__", None) == module.__name__
    )


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def documented_modules() -> list[str]:
    import binas_opt

    mods = ["binas_opt"]
    for info in pkgutil.iter_modules(binas_opt.__path__):
        name = f"binas_opt.{info.name}"
        if info.name.startswith("_") or name in _SKIP_SUBMODULES or info.name in ("solvers", "models"):
            continue
        mods.append(name)
    import binas_opt.solvers as solvers

    mods += [f"binas_opt.solvers.{i.name}" for i in pkgutil.iter_modules(solvers.__path__)
             if not i.name.startswith("_")]
    if _torch_available():
        import binas_opt.models as models

        mods.append("binas_opt.models")
        mods += [f"binas_opt.models.{i.name}" for i in pkgutil.iter_modules(models.__path__)
                 if not i.name.startswith("_")]
    return mods


@pytest.fixture(scope="module")
def entries() -> dict[str, object]:
    names = documented_entries(API.read_text(encoding="utf-8"))
    assert len(names) > 50, "docs/api.rst: autosummary entries not found"
    out = {}
    for n in names:
        try:
            out[n] = resolve(n)
        except (ImportError, AttributeError) as exc:
            raise AssertionError(f"docs/api.rst lists {n}, which cannot be imported: {exc}") from exc
    return out


def test_parser_reads_currentmodule():
    text = """
.. currentmodule:: binas_opt

.. autosummary::
   :toctree: generated/

   solve
   ~binas_opt.io.save

.. currentmodule:: binas_opt.solvers.milp

.. autosummary::

   MilpSolver
"""
    assert documented_entries(text) == ["binas_opt.solve", "binas_opt.io.save",
                                        "binas_opt.solvers.milp.MilpSolver"]


def test_every_entry_is_unique(entries):
    names = documented_entries(API.read_text(encoding="utf-8"))
    dup = sorted({n for n in names if names.count(n) > 1})
    assert not dup, f"docs/api.rst lists these more than once: {dup}"


@pytest.mark.parametrize("module_name", documented_modules())
def test_public_names_are_documented(module_name, entries):
    module = importlib.import_module(module_name)
    by_last: dict[str, list[object]] = {}
    for full, obj in entries.items():
        by_last.setdefault(full.rsplit(".", 1)[1], []).append(obj)
    missing = []
    for name in public_names(module):
        try:
            obj = getattr(module, name)
        except (ImportError, AttributeError) as exc:
            pytest.fail(f"{module_name}.__all__ names {name!r}, which cannot be imported: {exc}")
        if not any(o is obj for o in by_last.get(name, [])):
            missing.append(name)
    assert not missing, (
        f"public names of {module_name} missing from docs/api.rst: {missing}; add them to an "
        "autosummary block (under the right `.. currentmodule::`)"
    )


def test_top_level_all_including_lazy(entries):
    import binas_opt

    lazy = set(getattr(binas_opt, "_LAZY", {}))
    assert lazy <= set(binas_opt.__all__)
    documented = {n.rsplit(".", 1)[1] for n in entries}
    assert set(binas_opt.__all__) <= documented


def test_gallery_examples_read_the_fast_switch():
    examples = sorted((ROOT / "docs" / "examples").glob("plot_*.py"))
    assert examples, "no gallery examples"
    for path in examples:
        text = path.read_text(encoding="utf-8")
        assert "BINAS_FAST_EXAMPLES" in text, f"{path.name} ignores BINAS_FAST_EXAMPLES"
        assert text.lstrip().startswith('"""'), f"{path.name} has no sphinx-gallery header"


def test_user_guide_pages_are_in_the_toctree():
    index = (ROOT / "docs" / "index.rst").read_text(encoding="utf-8")
    for page in sorted((ROOT / "docs" / "user_guide").glob("*.rst")):
        assert f"user_guide/{page.stem}" in index, f"{page.name} is not in docs/index.rst"
