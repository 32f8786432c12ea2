"""Creating HiGHS instances without printing.

HiGHS writes a "Running HiGHS ..." banner to the process's standard output the first time a
``highspy.Highs`` is constructed, before any option can be set.  Backends never print, so the
first construction in a process happens here with file descriptor 1 pointed at ``os.devnull``.
"""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["new_highs", "silence_banner"]

_DONE = False
_LOCK = threading.Lock()


def silence_banner() -> None:
    """Construct one throw-away ``highspy.Highs`` with stdout silenced (once per process), so
    that later constructions, also inside cvxpy or PuLP, print nothing."""
    global _DONE
    if _DONE:
        return
    with _LOCK:
        if _DONE:
            return
        import highspy

        try:
            sys.stdout.flush()
            saved = os.dup(1)
        except (OSError, ValueError):  # no usable fd 1: nothing would be shown anyway
            highspy.Highs()
            _DONE = True
            return
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                try:
                    highspy.Highs()
                finally:
                    os.dup2(saved, 1)
        finally:
            os.close(saved)
        _DONE = True


def new_highs(verbose: bool = False):
    """A ``highspy.Highs`` with logging off (on when ``verbose``), and no banner."""
    import highspy

    silence_banner()
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(verbose))
    h.setOptionValue("log_to_console", bool(verbose))
    return h
