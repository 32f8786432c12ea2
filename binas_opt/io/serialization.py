"""JSON serialisation of spaces, tables, forms, problems, architectures and results.

Files are written atomically (a temporary file in the same folder, then ``os.replace``), so an
interrupted write never leaves half a file.  No pickle anywhere.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from binas_opt.model.architecture import Architecture
from binas_opt.model.problem import Problem
from binas_opt.model.quadratic import QuadraticForm
from binas_opt.model.space import SearchSpace
from binas_opt.model.table import Table
from binas_opt.solving.result import Result

__all__ = ["to_json_dict", "from_json_dict", "save", "load", "atomic_write", "atomic_write_text",
           "FORMAT_VERSION"]

FORMAT_VERSION = 1
_WITH_SPACE = {"Table": Table, "QuadraticForm": QuadraticForm}
_PLAIN = {"SearchSpace": SearchSpace, "Problem": Problem, "Result": Result,
          "Architecture": Architecture}


def to_json_dict(obj: Any) -> dict[str, Any]:
    """A tagged, JSON-ready dict for any serialisable object of the package."""
    kind = type(obj).__name__
    if kind in _WITH_SPACE:
        return {"format": "binas-opt", "version": FORMAT_VERSION, "type": kind,
                "space": obj.space.to_dict(), "data": obj.to_dict()}
    if kind in _PLAIN:
        return {"format": "binas-opt", "version": FORMAT_VERSION, "type": kind, "data": obj.to_dict()}
    raise TypeError(f"cannot serialise {kind}; serialisable types: {sorted({**_WITH_SPACE, **_PLAIN})}")


def from_json_dict(d: dict[str, Any]) -> Any:
    """Inverse of :func:`to_json_dict`."""
    if not isinstance(d, dict) or d.get("format") != "binas-opt":
        raise ValueError("not a binas-opt JSON document (missing 'format': 'binas-opt')")
    if d.get("version", 0) > FORMAT_VERSION:
        raise ValueError(f"file format version {d['version']} is newer than this package's {FORMAT_VERSION}")
    kind = d.get("type")
    if kind in _WITH_SPACE:
        return _WITH_SPACE[kind].from_dict(d["data"], SearchSpace.from_dict(d["space"]))
    if kind in _PLAIN:
        return _PLAIN[kind].from_dict(d["data"])
    raise ValueError(f"unknown object type {kind!r} in binas-opt JSON")


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Create ``path`` atomically: ``write(tmp)`` fills a temporary file in the same folder,
    which then replaces ``path`` (``os.replace``); on any error the temporary file is removed
    and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file normal permissions
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    return atomic_write(path, write)


def save(obj: Any, path: str | os.PathLike) -> Path:
    """Save a space, table, form, problem, architecture or result as JSON (atomically)."""
    return atomic_write_text(path, json.dumps(to_json_dict(obj), indent=1, allow_nan=False))


def load(path: str | os.PathLike) -> Any:
    """Load an object written by :func:`save`."""
    with open(path, encoding="utf-8") as f:
        return from_json_dict(json.load(f))
