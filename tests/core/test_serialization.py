import json

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
