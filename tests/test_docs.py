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
    """index.rst lists the three sections (a short top bar); the user-guide section lists its
    pages (the section navigation of every user-guide page)."""
    index = (ROOT / "docs" / "index.rst").read_text(encoding="utf-8")
    for section in ("user_guide/index", "auto_examples/index", "api"):
        assert f"   {section}" in index, f"{section} is not in docs/index.rst"
    guide = (ROOT / "docs" / "user_guide" / "index.rst").read_text(encoding="utf-8")
    for page in sorted((ROOT / "docs" / "user_guide").glob("*.rst")):
        if page.stem != "index":
            assert f"   {page.stem}\n" in guide, f"{page.name} is not in docs/user_guide/index.rst"


def _code_blocks(page: Path, language: str = "python") -> list[str]:
    """The ``.. code-block:: <language>`` bodies of an rst page, dedented, in order."""
    import textwrap

    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        if lines[i].strip() == f".. code-block:: {language}":
            i += 1
            body = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("   ")):
                body.append(lines[i])
                i += 1
            blocks.append(textwrap.dedent("\n".join(body)).strip("\n"))
            continue
        i += 1
    return blocks


@pytest.mark.torch
@pytest.mark.slow
def test_own_data_page_runs(tmp_path, monkeypatch):
    """docs/user_guide/own_data.rst, block by block, on random images with tiny settings."""
    pytest.importorskip("torch")
    import numpy as np

    blocks = _code_blocks(ROOT / "docs" / "user_guide" / "own_data.rst")
    assert len(blocks) >= 6
    settings = {
        "EPOCHS, HEAVIEST_EPOCHS = 3, 1": "EPOCHS, HEAVIEST_EPOCHS = 1, 1",
        "N_SAMPLES = 8": "N_SAMPLES = 1",
        "BATCH, MAX_STEPS = 128, None": "BATCH, MAX_STEPS = 32, 2",
    }
    first = blocks[0]
    for old, new in settings.items():
        assert old in first, f"own_data.rst: the settings line {old!r} changed; update this test"
        first = first.replace(old, new)
    blocks[0] = first
    rng = np.random.default_rng(0)
    monkeypatch.chdir(tmp_path)
    np.save("images.npy", rng.normal(size=(240, 1, 16, 16)).astype(np.float32))
    np.save("labels.npy", rng.integers(0, 3, size=240))
    namespace: dict = {"__name__": "own_data"}
    smaller = {  # 2 ops per block instead of 8 and 4 sampled networks instead of 20: seconds
        "small_mbconv_space(channels=(16, 24, 32),":
            "small_mbconv_space(expansions=(3,), se=(False,), channels=(16, 24, 32),",
        "sample_accuracies(supernet, space, val, 20,": "sample_accuracies(supernet, space, val, 4,",
    }
    text = "\n".join(blocks)
    for old in smaller:
        assert old in text, f"own_data.rst: {old!r} changed; update this test"
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for i, code in enumerate(blocks):
            for old, new in smaller.items():
                code = code.replace(old, new)
            exec(compile(code, f"own_data.rst block {i}", "exec"), namespace)  # noqa: S102
    finally:
        torch.set_num_threads(threads)
    import binas_opt as bo

    assert isinstance(bo.load("accuracy.json"), bo.Table)
    assert bo.load("latency.json").unit == "ms"
    assert (tmp_path / "supernet.pt").is_file() and (tmp_path / "child_weights.pt").is_file()
    from binas_opt.cli import main

    assert main(["fit", "sampled_accuracy.csv", "--space", "space.json", "-o", "fitted.json"]) == 0


def _chromium():
    import shutil

    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)


@pytest.mark.slow
def test_check_rendered_finds_raw_tex_and_broken_images(tmp_path):
    """docs/check_rendered.py on a small hand-made build: typeset maths passes, raw TeX and a
    missing image are reported.  (CI runs it on the real build after the Sphinx build.)"""
    import importlib.util
    import shutil

    if _chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    try:
        import importlib.resources as res

        mathjax = Path(str(res.files("sphinx-mathjax-offline"))) / "static" / "mathjax"
    except (ModuleNotFoundError, TypeError):
        spec = importlib.util.find_spec("sphinx-mathjax-offline")
        if spec is None or spec.origin is None:
            pytest.skip("sphinx-mathjax-offline is not installed")
        mathjax = Path(spec.origin).parent / "static" / "mathjax"
    spec = importlib.util.spec_from_file_location("check_rendered",
                                                  ROOT / "docs" / "check_rendered.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)

    build = tmp_path / "html"
    (build / "_static").mkdir(parents=True)
    shutil.copytree(mathjax, build / "_static" / "mathjax")
    (build / "_static" / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    page = ('<!DOCTYPE html><html><head><script defer src="{js}"></script></head><body>'
            '<p>Inline <span class="math notranslate nohighlight">\\(x^2 + y\\)</span>.</p>'
            '<img src="{img}"></body></html>')
    (build / "index.html").write_text(page.format(js="_static/mathjax/tex-chtml.js",
                                                  img="_static/pic.png"))
    assert check.main([str(build)]) == 0

    (build / "bad.html").write_text(page.format(js="_static/no-mathjax-here.js",
                                                img="_static/missing.png"))
    problems = check.check_page(build, build / "bad.html",
                                check.render(_chromium(), build / "bad.html"))
    assert any("raw TeX" in p for p in problems)
    assert any("broken image _static/missing.png" in p for p in problems)
    assert check.main([str(build)]) == 1
