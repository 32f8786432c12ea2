"""Sphinx configuration of the binas-opt documentation.

Build (warnings are errors, the gallery examples execute)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
    # or: make -C docs html

``BINAS_FAST_EXAMPLES=1`` makes every gallery example shrink its own settings (CI sets it); the
published documentation is built without it, i.e. with the full settings.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on build machines; sphinx-gallery scrapes the figures

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # import the working tree even without `pip install -e .`
sys.path.insert(0, str(HERE / "_ext"))  # binas_gallery: the gallery's figure scraper

import binas_opt  # noqa: E402

# -- project ---------------------------------------------------------------------------------------
project = "binas-opt"
author = "binas-opt developers"
copyright = "binas-opt developers"
release = binas_opt.__version__
version = ".".join(release.split(".")[:2])

# -- extensions ------------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # serves a bundled MathJax 3: maths renders with no network
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "examples", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints",
                    "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip",
                    "auto_examples/*.json", "auto_examples/*.md5", "auto_examples/*.codeobj.json"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
nitpicky = False
default_role = "py:obj"

# -- autodoc / autosummary / numpydoc --------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"          # numpydoc sections carry the types
autodoc_mock_imports: list[str] = []
numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False

# -- intersphinx -----------------------------------------------------------------------------------
# The issue asks for links to numpy, scipy, torch, cvxpy and networkx.  Their objects.inv
# inventories would have to be downloaded, and the build must not touch the network, so no
# inventory is vendored and the mapping is deliberately empty: references to those projects
# render as plain text.  To enable the links on a machine with network access, fill in e.g.
#   intersphinx_mapping = {"numpy": ("https://numpy.org/doc/stable/", None), ...}
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
intersphinx_disabled_reftypes = ["*"]

# -- math ------------------------------------------------------------------------------------------
# MathJax 3 is copied into _static by sphinx-mathjax-offline and loaded from there: the pages
# render their maths without network access (checked by docs/check_rendered.py).
mathjax3_config = {"tex": {"macros": {"R": r"\mathbb{R}"}}}

# -- sphinx-gallery --------------------------------------------------------------------------------
FAST = os.environ.get("BINAS_FAST_EXAMPLES", "0") not in ("", "0")
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",     # execute every example (all are named plot_*.py)
    "ignore_pattern": r"/_",           # helper modules starting with an underscore are not examples
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    # figures built with the Figure API by binas_opt's plotting functions, then pyplot's
    "image_scrapers": ("binas_gallery.figure_scraper", "matplotlib"),
    "abort_on_example_error": False,   # report every failing example, then fail the build
    "only_warn_on_example_error": False,
    "show_memory": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "reset_modules": ("matplotlib",),
    "plot_gallery": "True",
    "write_computation_times": True,
}

# Silence a harmless matplotlib warning about the non-interactive backend in examples.
warnings.filterwarnings("ignore", category=UserWarning,
                        message="Matplotlib is currently using agg, which is a non-GUI backend")
warnings.filterwarnings("ignore", category=UserWarning,
                        message="FigureCanvasAgg is non-interactive, and thus cannot be shown")

# -- HTML ------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"binas-opt {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    # the top bar holds the three sections of index.rst's toctree (User guide, Examples, API
    # reference): one row at 1400 px; a section's pages are in its left sidebar
    "header_links_before_dropdown": 4,
    "navbar_align": "left",
    "navbar_end": ["theme-switcher"],
    "show_nav_level": 1,
    "navigation_depth": 2,
    "icon_links": [],
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# every page of a section shows the section's pages ("Section Navigation") on the left
html_sidebars = {"**": ["sidebar-nav-bs"], "index": []}
html_show_sourcelink = False
html_context = {"default_mode": "light"}
