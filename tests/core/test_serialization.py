import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import binas_opt as bo
from binas_opt.testing.synthetic import random_problem


def roundtrip(obj, tmp_path):
    path = bo.save(obj, tmp_path / "obj.json")
    json.loads(path.read_text())  # plain JSON, no pickle
    return bo.load(path)


def test_space_table_form_problem_round_trip(tmp_path):
    for objective in ("table", "quadratic"):
        p = random_problem(11, objective=objective, n_constraints=2)
        back = roundtrip(p, tmp_path)
        assert back.space == p.space and back.sense == p.sense
        assert back.objective.equals(p.objective)
        assert [c.table.equals(d.table) and c.budget == d.budget
                for c, d in zip(back.constraints, p.constraints, strict=True)] == [True, True]
        assert roundtrip(p.space, tmp_path) == p.space
        assert roundtrip(p.objective, tmp_path).equals(p.objective)
    paper = bo.SearchSpace.mobilenet_v3()
    assert roundtrip(paper, tmp_path) == paper and roundtrip(paper, tmp_path).fixed == paper.fixed


def test_result_and_architecture_round_trip(tmp_path):
    p = random_problem(12, n_constraints=2)
    r = bo.solve(p, "milp")
    back = roundtrip(r, tmp_path)
    assert back == r
    assert roundtrip(r.architecture, tmp_path) == r.architecture
    inf = bo.solve(random_problem(13, budget_mode="infeasible"), "milp")
    assert roundtrip(inf, tmp_path) == inf


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    target.write_text("old")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr("binas_opt.io.serialization.os.replace", boom)
    with pytest.raises(RuntimeError):
        bo.save(bo.SearchSpace([bo.Stage((1,), ["a"])]), target)
    assert target.read_text() == "old"
    assert [f.name for f in tmp_path.iterdir()] == ["r.json"]


def test_load_rejects_foreign_json(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="not a binas-opt JSON"):
        bo.load(path)
    with pytest.raises(TypeError, match="cannot serialise"):
        bo.save(np.zeros(3), tmp_path / "y.json")


def test_result_from_dict_refuses_unknown_keys():
    r = bo.solve(random_problem(12, n_constraints=1), "milp")
    d = r.to_dict()
    assert bo.Result.from_dict(d) == r
    assert bo.Result.from_dict(d).sense is bo.ObjectiveSense(r.sense)
    with pytest.raises(ValueError, match=r"Result.from_dict: unknown key\(s\) \['objectiv', 'zz'\]"):
        bo.Result.from_dict({**d, "objectiv": 1.0, "zz": 0})
    with pytest.raises(ValueError, match="Result.from_dict: status must be one of"):
        bo.Result.from_dict({**d, "status": "solved"})
    with pytest.raises(ValueError, match="Result.from_dict: sense must be one of 'max', 'min'"):
        bo.Result.from_dict({**d, "sense": "maximise"})


def test_to_plain_gives_plain_json():
    @dataclass
    class Point:
        x: float
        tag: bo.Status

    arch = bo.Architecture((1,), ((0,),))
    value = {1: (np.int64(3), np.float32(0.5), np.bool_(True)), "nan": float("nan"),
             "inf": np.float64(np.inf), "arr": np.arange(3), "enum": bo.ObjectiveSense.MIN,
             "arch": arch, "point": Point(2.0, bo.Status.OPTIMAL), "path": Path("a/b"),
             "none": None, "text": "t"}
    plain = bo.io.to_plain(value)
    assert plain == {"1": [3, 0.5, True], "nan": None, "inf": None, "arr": [0, 1, 2],
                     "enum": "min", "arch": arch.to_dict(), "point": {"x": 2.0, "tag": "optimal"},
                     "path": "a/b", "none": None, "text": "t"}
    assert type(plain["enum"]) is str and type(plain["1"][0]) is int
    assert type(plain["1"][2]) is bool
    json.dumps(plain, allow_nan=False)


def test_envelope_ignores_extra_top_level_keys(tmp_path):
    space = bo.SearchSpace([bo.Stage((1,), ["a"])])
    doc = {**bo.io.to_json_dict(space), "metadata": {"device": "cpu"}}
    assert bo.io.from_json_dict(doc) == space
    with pytest.raises(ValueError, match="newer than"):
        bo.io.from_json_dict({**doc, "version": bo.io.FORMAT_VERSION + 1})


def test_model_readers_refuse_unknown_keys():
    p = random_problem(11, objective="quadratic", n_constraints=1)
    d = p.to_dict()
    with pytest.raises(ValueError, match=r"Problem.from_dict: unknown key\(s\) \['budgets'\]"):
        bo.Problem.from_dict({**d, "budgets": {}})
    bad_con = {**d, "constraints": [{**d["constraints"][0], "unit": "ms"}]}
    with pytest.raises(ValueError, match=r"Problem.from_dict: constraint: unknown key\(s\) \['unit'\]"):
        bo.Problem.from_dict(bad_con)
    with pytest.raises(ValueError, match=r"QuadraticForm.from_dict: unknown key\(s\) \['q'\]"):
        bo.QuadraticForm.from_dict({**p.objective.to_dict(), "q": 0}, p.space)
    table = p.constraints[0].table
    with pytest.raises(ValueError, match=r"Table.from_dict: unknown key\(s\) \['cost'\]"):
        bo.Table.from_dict({**table.to_dict(), "cost": 1}, p.space)
    with pytest.raises(ValueError, match=r"Architecture.from_dict: unknown key\(s\) \['depth'\]"):
        bo.Architecture.from_dict({"depths": [1], "ops": [[0]], "depth": [1]})
