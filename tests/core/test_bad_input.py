"""Every bad input of issue 12, refused with an error that names the item (one table), plus
quiet solves and the cleanup of temporary files that interrupted saves leave behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import binas_opt as bo
from binas_opt.io.serialization import _HOST, atomic_write, clean_stale_temps
from binas_opt.testing.synthetic import random_problem

BACKENDS = bo.list_backends(True)
SPACE = bo.SearchSpace([bo.Stage((1, 2), ["a", "b"], name="first")])


def _problem():
    return random_problem(0, n_constraints=1)


def _solve(backend: str, **kwargs):
    return lambda tmp: bo.solve(_problem(), backend, **kwargs)


def _table(unit=None, name="latency"):
    return bo.Table(SPACE, op=[[[1.0, 3.0], [1.0, 1.0]]], name=name, unit=unit)


def _file(name: str, text: str | bytes):
    """A callable writing ``text`` to ``tmp/name`` and loading it."""
    def run(tmp: Path):
        path = tmp / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return bo.load(path)
    return run


def _edited(obj, name: str, edit):
    """A callable saving ``obj`` as ``tmp/name``, editing the JSON document, and loading it."""
    def run(tmp: Path):
        path = bo.save(obj, tmp / name)
        doc = json.loads(path.read_text())
        edit(doc)
        path.write_text(json.dumps(doc))
        return bo.load(path)
    return run


def _del_stage_field(doc):
    del doc["data"]["stages"][0]["depths"]


def _add_stage_key(doc):
    doc["data"]["stages"][0]["colour"] = "red"


def _del(*keys):
    def edit(doc):
        d = doc
        for k in keys[:-1]:
            d = d[k]
        del d[keys[-1]]
    return edit


def _too_big(tmp: Path):
    path = bo.save(SPACE, tmp / "big.json")
    return bo.load(path, max_bytes=10)


# (id, callable(tmp_path), expected exception, regex the message must match)
CASES = [
    # -- backend options: declared type and range, checked before any work
    ("presolve-str", _solve("milp", presolve="no"), ValueError,
     r"backend 'milp': option 'presolve' must be a bool .*got 'no'"),
    ("verbose-str", _solve("milp", verbose="no"), ValueError, r"verbose must be a bool .*got 'no'"),
    ("threads-float", _solve("milp", threads=1.5), ValueError,
     r"backend 'milp': option 'threads' must be an int >= 1 or None, got 1\.5"),
    ("threads-bool", _solve("milp", threads=True), ValueError, r"option 'threads' must be an int"),
    ("threads-zero", _solve("milp", threads=0), ValueError, r"option 'threads' .*>= 1"),
    ("rel_gap-str", _solve("milp", rel_gap="0.1"), ValueError,
     r"backend 'milp': option 'rel_gap' must be a number in \[0, 1\), got '0\.1'"),
    ("rel_gap-range", _solve("milp", rel_gap=1.5), ValueError, r"option 'rel_gap' .*\[0, 1\)"),
    ("pulp-rel_gap-str", _solve("pulp", rel_gap="0.1"), ValueError,
     r"backend 'pulp': option 'rel_gap' must be a number"),
    ("pulp-solver", _solve("pulp", solver="nope"), ValueError, r"solver 'nope' is not available"),
    ("formulation", _solve("milp", formulation="dense"), ValueError,
     r"option 'formulation' must be one of 'compact', 'naive', got 'dense'"),
    ("unknown-option", _solve("milp", thread=2), ValueError,
     r"unknown option\(s\) \['thread'\] for backend 'milp'"),
    ("dp-epsilon-nan", _solve("dp", epsilon=float("nan")), ValueError,
     r"backend 'dp': option 'epsilon' must be a number >= 0"),
    ("fw-polish-str", _solve("fw", polish="no"), ValueError,
     r"backend 'fw': option 'polish' must be a bool"),
    ("fw-preset", _solve("fw", preset="fast"), ValueError,
     r"backend 'fw': option 'preset' must be one of"),
    ("fw-step_rule", _solve("fw", step_rule="big"), ValueError, r"option 'step_rule' must be one of"),
    ("evo-population-float", _solve("evo", population=2.5), ValueError,
     r"backend 'evo': option 'population' must be an int >= 2"),
    ("evo-repair-str", _solve("evo", repair="yes"), ValueError, r"option 'repair' must be a bool"),
    ("brute-limit", _solve("brute", limit=0), ValueError,
     r"backend 'brute': option 'limit' must be an int >= 1"),
    ("relax-polish-int", _solve("relax", polish=1), ValueError,
     r"backend 'relax': option 'polish' must be a bool"),
    # -- arguments common to every backend
    ("time_limit-zero", _solve("milp", time_limit=0), ValueError, r"time_limit must be a number > 0"),
    ("time_limit-str", _solve("dp", time_limit="10"), ValueError, r"time_limit must be a number"),
    ("time_limit-nan", _solve("fw", time_limit=float("nan")), ValueError, r"time_limit .*nan"),
    ("warm_start", _solve("milp", warm_start="x"), ValueError, r"warm_start must be an Architecture"),
    *[(f"seed-negative-{b}", _solve(b, seed=-1), ValueError,
       r"^seed must be an int in \[0, 2\*\*32\), got -1$") for b in BACKENDS],
    ("seed-float", _solve("evo", seed=1.5), ValueError, r"seed must be an int .*got 1\.5"),
    ("seed-bool", _solve("fw", seed=True), ValueError, r"seed must be an int .*got True"),
    ("seed-huge", _solve("fw", seed=2**32), ValueError, r"seed must be an int in \[0, 2\*\*32\)"),
    ("pareto-seed", lambda tmp: bo.pareto_front(_problem(), _problem().constraints[0].name,
                                                seed=-1), ValueError, r"seed must be an int"),
    # -- loading: the file, the object, the field and what it holds
    ("missing-field", _edited(SPACE, "space.json", _del_stage_field), ValueError,
     r"space\.json: Stage\.from_dict: missing field 'depths' \(a list of ints\)"),
    ("missing-data", _edited(SPACE, "doc.json", _del("data")), ValueError,
     r"doc\.json: .*missing field 'data'"),
    ("missing-table-field", _edited(_table(), "table.json", _del("data", "op")), ValueError,
     r"table\.json: Table\.from_dict: missing field 'op' \(a list of"),
    ("missing-budget", _edited(_problem(), "problem.json",
                               _del("data", "constraints", 0, "budget")), ValueError,
     r"problem\.json: Problem\.from_dict: constraint: missing field 'budget' \(a number\)"),
    ("missing-status", _edited(bo.solve(_problem(), "brute"), "result.json",
                               _del("data", "status")), ValueError,
     r"result\.json: Result\.from_dict: missing field 'status'"),
    ("unknown-stage-key", _edited(SPACE, "space.json", _add_stage_key), ValueError,
     r"space\.json: Stage\.from_dict: unknown key\(s\) \['colour'\]"),
    ("directory", lambda tmp: bo.load(tmp), IsADirectoryError, r"is a directory"),
    ("missing-file", lambda tmp: bo.load(tmp / "nope.json"), FileNotFoundError,
     r"nope\.json: no such file"),
    ("corrupt", _file("broken.json", '{"format": "binas-opt",\n "data": [1, 2'), ValueError,
     r"broken\.json: malformed JSON at line 2, column \d+"),
    ("not-utf8", _file("binary.json", b"\xff\xfe\x00garbage"), ValueError,
     r"binary\.json: not a UTF-8"),
    ("not-binas", _file("other.json", "[1, 2]"), ValueError,
     r"other\.json: not a binas-opt JSON document"),
    ("size-limit", _too_big, ValueError, r"big\.json: .* larger than the load limit .*max_bytes="),
    ("front-corrupt", lambda tmp: (tmp / "front.json").write_text("{") and
     bo.ParetoFront.load(tmp / "front.json"), ValueError, r"front\.json: malformed JSON"),
    ("front-missing", lambda tmp: (tmp / "front.json").write_text("{}") and
     bo.ParetoFront.load(tmp / "front.json"), ValueError,
     r"front\.json: ParetoFront\.from_dict: missing field 'problem'"),
    # -- accepted silently before: now refused, naming the item
    ("depth-2.7", lambda tmp: bo.Stage(depths=[2.7], ops=["a"]), ValueError,
     r"depths\[0\] must be an integer, got 2\.7"),
    ("depth-bool", lambda tmp: bo.Stage(depths=[True], ops=["a"]), TypeError,
     r"depths\[0\] must be an integer"),
    ("op-label-none", lambda tmp: bo.Stage((1,), [None, 3]), TypeError,
     r"ops\[0\] must be a non-empty string .*got None"),
    ("op-label-empty", lambda tmp: bo.Stage((1,), ["a", " "]), ValueError,
     r"ops\[1\] is an empty string"),
    ("channels-negative", lambda tmp: bo.Stage((1,), ["a"], channels=-5), ValueError,
     r"channels must be >= 1, got -5"),
    ("stride-zero", lambda tmp: bo.Stage((1,), ["a"], stride=0), ValueError,
     r"stride must be >= 1, got 0"),
    ("arch-op-1.9", lambda tmp: bo.Architecture((1,), ((1.9, 0),)), ValueError,
     r"Architecture: ops\[0\]\[0\] must be an integer, got 1\.9"),
    ("arch-depth-2.5", lambda tmp: bo.Architecture((2.5,), ((0, 0),)), ValueError,
     r"Architecture: depths\[0\] must be an integer, got 2\.5"),
    ("arch-op-str", lambda tmp: bo.Architecture((1,), (("x", 0),)), TypeError,
     r"Architecture: ops\[0\]\[0\] must be an integer"),
    # -- units and budget values
    ("budget-unit-on-bare-table", lambda tmp: _table() <= bo.Budget(40, "ms"), bo.UnitError,
     r"budget on 'latency' is in 'ms' but the table has no unit"),
    ("budget-unit-on-dimensionless", lambda tmp: _table("1", "count") <= bo.Budget(4, "ms"),
     bo.UnitError, r"budget on 'count' is in 'ms' but the table is in '1'"),
    ("budget-wrong-unit", lambda tmp: _table("ms") <= bo.Budget(2, "MB"), bo.UnitError,
     r"budget on 'latency' is in 'MB' but the table is in 'ms'"),
    ("budget-str", lambda tmp: bo.Budget("40", "ms"), TypeError,
     r"Budget: value must be a real number, got '40'"),
    ("budget-bool", lambda tmp: bo.Budget(True), TypeError, r"Budget: value must be a real number"),
    ("budget-nan", lambda tmp: bo.Budget(float("nan"), "ms"), ValueError,
     r"Budget: value must be a finite number"),
    ("le-true", lambda tmp: _table("ms") <= True, TypeError,
     r"budget on 'latency': expected a real number or Budget .*got True"),
    ("le-str", lambda tmp: _table("ms") <= "40", TypeError, r"budget on 'latency'"),
    ("le-nan", lambda tmp: _table("ms") <= float("nan"), ValueError, r"budget on 'latency' is nan"),
    ("le-inf", lambda tmp: _table("ms") <= float("inf"), ValueError, r"budget on 'latency' is inf"),
]


@pytest.mark.parametrize("call, exc, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_by_name(call, exc, pattern, tmp_path):
    with pytest.raises(exc, match=pattern) as info:
        call(tmp_path)
    assert "\n" not in str(info.value)  # one line


def test_the_documented_accepting_side(tmp_path):
    """What the rules above still accept: integral floats for integers, ints as op labels,
    a dimensionless table with its unit, plain numbers on a bare table, extra top-level keys."""
    assert bo.Stage([2.0], ["a"]).depths == (2,)
    assert bo.Stage((1,), [0, 1]).ops == (("0", "1"),)
    assert bo.Architecture((1.0,), ((1.0, 0),)) == bo.Architecture((1,), ((1, 0),))
    assert (_table("1", "count") <= bo.Budget(3, "dimensionless")).budget == 3.0
    assert (_table() <= 3).budget == 3.0 and (_table() <= bo.Budget(3)).budget == 3.0
    path = bo.save(SPACE, tmp_path / "space.json")
    doc = json.loads(path.read_text())
    doc["metadata"] = {"producer": "someone else"}
    path.write_text(json.dumps(doc))
    assert bo.load(path) == SPACE
    assert bo.load(path, max_bytes=path.stat().st_size) == SPACE
    r = bo.solve(_problem(), "milp", threads=1, rel_gap=0, formulation="naive", seed=2**32 - 1)
    assert r.options["rel_gap"] == 0.0 and r.status is bo.Status.OPTIMAL


# ------------------------------------------------------------------------------ quiet solves
def test_milp_solve_prints_nothing(capfd):
    capfd.readouterr()
    p = _problem()
    bo.solve(p, "milp", verbose=False)
    bo.solve(p, "pulp", verbose=False)
    bo.pareto_front(p, p.constraints[0].name, method="milp")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_first_highs_in_a_fresh_process_prints_nothing():
    """HiGHS prints its banner when the first ``Highs`` of a process is built: a fresh process
    with a milp and a pulp solve writes nothing to its stdout or stderr."""
    script = textwrap.dedent("""
        import warnings
        warnings.simplefilter("error", DeprecationWarning)
        import binas_opt as bo
        from binas_opt.testing.synthetic import random_problem
        p = random_problem(0, n_constraints=1)
        bo.solve(p, "milp")
        for solver in ("HiGHS", "CBC"):
            try:
                bo.solve(p, "pulp", solver=solver)
            except ValueError as exc:  # that solver is not installed here
                assert "not available" in str(exc)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""


# ------------------------------------------------------------------------------ temp files
def _temp_name(target: str, host: str, pid: int) -> str:
    return f".{target}.{host}-{pid}.abcd1234.binas.tmp"


def test_interrupted_save_leaves_a_temp_that_the_next_save_removes(tmp_path):
    """A writer killed with SIGKILL mid-save leaves its temporary file; the next save into the
    folder removes it, and the target was never touched."""
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    bo.save(SPACE, tmp_path / "space.json")
    before = (tmp_path / "space.json").read_text()
    script = textwrap.dedent(f"""
        import sys, time
        from binas_opt.io.serialization import atomic_write
        def write(tmp):
            with open(tmp, "w") as f:
                f.write("half a fi")
            print("writing", flush=True)
            time.sleep(120)
        atomic_write({str(tmp_path / "space.json")!r}, write)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    orphans = list(tmp_path.glob("*.binas.tmp"))
    assert len(orphans) == 1 and f"-{proc.pid}." in orphans[0].name
    assert (tmp_path / "space.json").read_text() == before
    bo.save(SPACE, tmp_path / "other.json")  # any save into the folder
    assert not list(tmp_path.glob("*.binas.tmp"))
    assert bo.load(tmp_path / "space.json") == SPACE


def test_cleanup_spares_live_writers_and_other_hosts(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        names = {
            "dead": _temp_name("a.json", _HOST, dead.pid),
            "live": _temp_name("b.json", _HOST, live.pid),
            "mine": _temp_name("c.json", _HOST, os.getpid()),
            "other-host": _temp_name("d.json", "ffffff" if _HOST != "ffffff" else "eeeeee", 1),
            "other-host-old": _temp_name("e.json", "ffffff" if _HOST != "ffffff" else "eeeeee", 2),
            "not-ours": ".f.json.tmp",
        }
        for n in names.values():
            (tmp_path / n).write_text("partial")
        old = time.time() - 3 * 24 * 3600
        os.utime(tmp_path / names["other-host-old"], (old, old))
        removed = clean_stale_temps(tmp_path)
        assert sorted(p.name for p in removed) == sorted([names["dead"], names["other-host-old"]])
        left = {p.name for p in tmp_path.iterdir()}
        assert left == {names[k] for k in ("live", "mine", "other-host", "not-ours")}
        # a save from this process into the folder keeps the concurrent writers' files too
        atomic_write(tmp_path / "g.json", lambda tmp: Path(tmp).write_text("{}"))
        assert {names["live"], names["mine"]} <= {p.name for p in tmp_path.iterdir()}
    finally:
        live.kill()
        live.wait()
