"""JSON serialisation of spaces, tables, forms, problems, architectures and results.

One path to plain JSON: every ``to_dict`` of the package and every report written to disk goes
through :func:`to_plain`.  Files are written atomically (a temporary file in the same folder,
then ``os.replace``), so an interrupted write never leaves half a file.  No pickle anywhere.

**Temporary files.**  A temporary file is named ``.<target>.<host>-<pid>.<random>.binas.tmp``
(the writer's host tag and process id).  A write killed before it could clean up (SIGKILL, power
loss) leaves one behind; the next :func:`atomic_write` into the same folder removes every such
file whose process is no longer alive on this host, and any that is more than a day old (a
file of another host, or of a reused process id).  A concurrent writer's file is never touched.

**Reading.**  :func:`load` (and :func:`read_json`) refuse a missing file, a directory, a file
larger than ``max_bytes`` (default :data:`MAX_LOAD_BYTES`, 64 MiB, checked with ``os.stat``
before reading), malformed JSON (with line and column) and a document missing a field
(:func:`require`), always with the file's path in the message.

**Documents.**  :func:`to_json_dict` wraps an object in a tagged envelope ``{"format":
"binas-opt", "version", "type", "data"}`` (plus ``"space"`` for tables and forms).

**Unknown keys.**  The envelope is open: a producer may add top-level keys (the latency tables
of :mod:`binas_opt.models.latency` add ``"metadata"``), and :func:`from_json_dict` ignores them.
An object's own dict is closed: its ``from_dict`` refuses a key it does not know with a
``ValueError`` naming it (:func:`reject_unknown_keys`), so a typo or a file from a newer
package is never silently dropped.  A change of an object's keys increments
:data:`FORMAT_VERSION`, and a document of a newer version is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["to_json_dict", "from_json_dict", "save", "load", "read_json", "atomic_write",
           "atomic_write_text", "to_plain", "reject_unknown_keys", "require", "FORMAT_VERSION",
           "MAX_LOAD_BYTES", "clean_stale_temps"]

FORMAT_VERSION = 1

#: Default largest file :func:`load` reads (bytes); pass ``max_bytes`` to raise it.
MAX_LOAD_BYTES = 64 * 2**20


def to_plain(obj: Any) -> Any:
    """``obj`` as plain JSON types (for ``json.dumps(..., allow_nan=False)``).

    Mappings become dicts with string keys; lists, tuples and arrays become lists; enums their
    value; numpy scalars Python numbers; non-finite floats ``None``; paths strings; objects
    with a ``to_dict`` method (architectures, results, ...) and other dataclasses their fields.
    Anything else is returned as it is.
    """
    if isinstance(obj, Enum):
        return to_plain(obj.value)
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, Mapping):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_plain(obj.tolist())
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if callable(getattr(obj, "to_dict", None)):
        return to_plain(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    return obj


def reject_unknown_keys(d: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    """Raise ``ValueError`` naming the keys of ``d`` that are not in ``known``.

    Parameters
    ----------
    d : mapping
        The dict being read.
    known : iterable of str
        The keys the reader understands.
    where : str
        The reader, for the message (e.g. ``"Result.from_dict"``).
    """
    known = set(known)
    if not isinstance(d, Mapping):
        raise ValueError(f"{where}: expected an object (a JSON dict), got {type(d).__name__}")
    unknown = sorted(str(k) for k in d if k not in known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known keys: {sorted(known)}")


def require(d: Mapping[str, Any], key: str, where: str, kind: str) -> Any:
    """``d[key]``, or a ``ValueError`` naming the reader, the missing field and what it holds.

    Parameters
    ----------
    d : mapping
        The dict being read.
    key : str
        The required field.
    where : str
        The reader, for the message (e.g. ``"Stage.from_dict"``).
    kind : str
        What the field holds, e.g. ``"a list of ints"``.

    Examples
    --------
    >>> require({"ops": ["a"]}, "depths", "Stage.from_dict", "a list of ints")
    Traceback (most recent call last):
    ...
    ValueError: Stage.from_dict: missing field 'depths' (a list of ints)
    """
    if not isinstance(d, Mapping):
        raise ValueError(f"{where}: expected an object (a JSON dict) with field {key!r}, got "
                         f"{type(d).__name__}")
    if key not in d:
        raise ValueError(f"{where}: missing field {key!r} ({kind})")
    return d[key]


def _registry() -> tuple[dict[str, type], dict[str, type]]:
    """Serialisable types: ``(needing a space, self-contained)``; imported on first use so
    that every module of the package can import this one."""
    from binas_opt.model.architecture import Architecture
    from binas_opt.model.problem import Problem
    from binas_opt.model.quadratic import QuadraticForm
    from binas_opt.model.space import SearchSpace
    from binas_opt.model.table import Table
    from binas_opt.solving.result import Result

    return ({"Table": Table, "QuadraticForm": QuadraticForm},
            {"SearchSpace": SearchSpace, "Problem": Problem, "Result": Result,
             "Architecture": Architecture})


def to_json_dict(obj: Any) -> dict[str, Any]:
    """A tagged, JSON-ready dict for any serialisable object of the package."""
    with_space, plain = _registry()
    kind = type(obj).__name__
    if kind in with_space:
        return {"format": "binas-opt", "version": FORMAT_VERSION, "type": kind,
                "space": obj.space.to_dict(), "data": obj.to_dict()}
    if kind in plain:
        return {"format": "binas-opt", "version": FORMAT_VERSION, "type": kind, "data": obj.to_dict()}
    raise TypeError(f"cannot serialise {kind}; serialisable types: {sorted({**with_space, **plain})}")


def from_json_dict(d: dict[str, Any]) -> Any:
    """Inverse of :func:`to_json_dict` (extra top-level keys are ignored, see the module
    docstring)."""
    from binas_opt.model.space import SearchSpace

    if not isinstance(d, dict) or d.get("format") != "binas-opt":
        raise ValueError("not a binas-opt JSON document (missing 'format': 'binas-opt')")
    if d.get("version", 0) > FORMAT_VERSION:
        raise ValueError(f"file format version {d['version']} is newer than this package's {FORMAT_VERSION}")
    with_space, plain = _registry()
    kind = d.get("type")
    where = f"binas-opt {kind} document"
    if kind in with_space:
        space = SearchSpace.from_dict(require(d, "space", where, "the search space object"))
        return with_space[kind].from_dict(require(d, "data", where, f"the {kind} object"), space)
    if kind in plain:
        return plain[kind].from_dict(require(d, "data", where, f"the {kind} object"))
    raise ValueError(f"unknown object type {kind!r} in binas-opt JSON")


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Create ``path`` atomically: ``write(tmp)`` fills a temporary file in the same folder,
    which then replaces ``path`` (``os.replace``); on any error the temporary file is removed
    and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_HOST}-{os.getpid()}.",
                               suffix=_TMP_SUFFIX)
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


_TMP_SUFFIX = ".binas.tmp"
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]
_TMP_RE = re.compile(r"^\..+\.([0-9a-f]{6})-(\d+)\.[A-Za-z0-9_]+" + re.escape(_TMP_SUFFIX) + "$")
#: Seconds after which a temporary file is removed even if its writer may be alive.
STALE_TEMP_AGE = 24 * 3600.0


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # exists (another user's) or cannot tell: keep the file
    return True


def clean_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that interrupted :func:`atomic_write` calls left in
    ``folder`` (see the module docstring); returns the removed paths.  Never raises."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for e in entries:
        m = _TMP_RE.match(e.name)
        if m is None:
            continue
        try:
            old = now - e.stat(follow_symlinks=False).st_mtime > STALE_TEMP_AGE
            if old or (m.group(1) == _HOST and not _pid_alive(int(m.group(2)))):
                os.unlink(e.path)
                removed.append(Path(e.path))
        except OSError:  # gone already (another cleaner), or not ours to remove
            continue
    return removed


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


def read_json(path: str | os.PathLike, reader: Callable[[Any], Any] | None = None, *,
              max_bytes: int | None = None) -> Any:
    """Read the JSON file ``path`` and pass the document to ``reader`` (if given), with every
    error naming the file.

    Parameters
    ----------
    path : path-like
    reader : callable, optional
        Turns the document into an object (e.g. :func:`from_json_dict`); its ``ValueError``,
        ``TypeError`` and ``KeyError`` are raised again as ``ValueError`` prefixed with the path.
    max_bytes : int or None
        Largest file read (default :data:`MAX_LOAD_BYTES`); ``float("inf")`` for no limit.
        Checked with ``os.stat`` before reading.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        The path does not exist or is a directory (the message names it).
    ValueError
        Too large, not UTF-8, malformed JSON (line and column), or a bad document.
    """
    path = Path(path)
    limit = MAX_LOAD_BYTES if max_bytes is None else max_bytes
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"{path}: is a directory, not a JSON file")
    if st.st_size > limit:
        raise ValueError(f"{path}: {st.st_size:,} bytes is larger than the load limit of "
                         f"{limit:,} bytes; pass max_bytes= (e.g. load(path, max_bytes="
                         f"{st.st_size}) or max_bytes=float('inf')) to read it")
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text (JSON) file") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: "
                         f"{exc.msg}") from None
    if reader is None:
        return doc
    try:
        return reader(doc)
    except KeyError as exc:
        raise ValueError(f"{path}: missing field {exc}") from exc
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


def load(path: str | os.PathLike, *, max_bytes: int | None = None) -> Any:
    """Load an object written by :func:`save`.

    Parameters
    ----------
    path : path-like
    max_bytes : int, optional
        Refuse larger files (default :data:`MAX_LOAD_BYTES`, 64 MiB); raise it for a bigger
        file, or pass ``float("inf")`` for no limit.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, ValueError
        Naming the file (and the object and field, or the line and column); see
        :func:`read_json`.
    """
    return read_json(path, from_json_dict, max_bytes=max_bytes)
