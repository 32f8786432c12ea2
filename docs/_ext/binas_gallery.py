"""sphinx-gallery helpers of the binas-opt docs.

:func:`figure_scraper` shows :class:`matplotlib.figure.Figure` objects that are *not* managed by
pyplot.  binas-opt's plotting functions (``plot_pareto``, ``plot_compare``,
``plot_contributions``, ``LatencyValidation.plot``) build figures with the object-oriented
``Figure`` API, which sphinx-gallery's default matplotlib scraper (it asks pyplot for open
figures) does not see.  After each code block, every such figure bound to a global variable of
the example and not shown before is saved and inserted into the page.  It runs before
the matplotlib scraper (see ``conf.py``).

Referenced by name in ``conf.py`` (``"binas_gallery.figure_scraper"``) so that the Sphinx
configuration stays picklable.
"""

from __future__ import annotations

from sphinx_gallery.scrapers import figure_rst

__all__ = ["figure_scraper"]

_SHOWN = "_binas_gallery_shown"


def _candidates(namespace):
    from matplotlib.figure import Figure

    seen = set()
    for value in list(namespace.values()):
        items = value if isinstance(value, (list, tuple)) else (value,)
        for obj in items:
            if isinstance(obj, Figure) and id(obj) not in seen:
                seen.add(id(obj))
                yield obj


def figure_scraper(block, block_vars, gallery_conf, **kwargs):
    """Save new pyplot-less figures of the example's globals; return their reST."""
    import matplotlib.pyplot as plt

    # pyplot's open figures are saved by the "matplotlib" scraper that runs after this one:
    # mark them, so that they are not shown a second time in a later block after it closed them
    for n in plt.get_fignums():
        setattr(plt.figure(n), _SHOWN, True)
    paths = []
    for fig in _candidates(block_vars["example_globals"]):
        if getattr(fig, _SHOWN, False):
            continue
        path = next(block_vars["image_path_iterator"])
        fig.savefig(path, dpi=100, bbox_inches="tight")
        setattr(fig, _SHOWN, True)
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])
