"""Docstring examples of every module of binas_opt, binas_opt.solvers and binas_opt.models run
as doctests, and so do the ``>>>`` examples of the user guide (docs/user_guide/*.rst).

Modules of ``binas_opt.models`` (and any module that imports torch) are skipped only when torch
is not installed.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
HAS_TORCH = importlib.util.find_spec("torch") is not None


def _walk(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
        names.append(info.name)
    return names


def _module_names() -> list[str]:
    names = [n for n in _walk("binas_opt")
             if not n.startswith(("binas_opt.solvers", "binas_opt.models"))]
    names += _walk("binas_opt.solvers")
    if HAS_TORCH:
        names += _walk("binas_opt.models")
    return sorted(set(names))


@pytest.mark.parametrize("name", _module_names())
def test_module_doctests(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == "torch" and not HAS_TORCH:
            pytest.skip(f"{name} needs torch")
        raise
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctests of {name} failed"


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "docs" / "user_guide").glob("*.rst")))
def test_user_guide_doctests(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = ROOT / "docs" / "user_guide" / page
    result = doctest.testfile(str(path), module_relative=False, optionflags=FLAGS,
                              verbose=False, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctests of {page} failed"
