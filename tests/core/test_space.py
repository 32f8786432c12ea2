import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import binas_opt as bo

GOLDEN = Path(__file__).resolve().parents[3] / "shared" / "data" / "golden" / "arch_strings.json"


@pytest.fixture(scope="module")
def paper():
    return bo.SearchSpace.mobilenet_v3()


def test_paper_space_sizes(paper):
    assert paper.n_alpha == 240 and paper.n_beta == 15
    assert paper.num_architectures == 22608**5
    assert [s.channels for s in paper.stages] == [24, 40, 80, 112, 192]
    assert [s.stride for s in paper.stages] == [2, 2, 2, 1, 2]
    assert all(s.depths == (2, 3, 4) and s.num_ops == (12,) * 4 for s in paper.stages)


def test_paper_op_order_matches_authors(paper):
    ops = paper.stages[0].ops[0]
    for i_e, e in enumerate((3, 4, 6)):
        for i_k, k in enumerate((3, 5)):
            for i_se, se in enumerate(("", "_se0.25")):
                assert ops[4 * i_e + 2 * i_k + i_se] == f"k{k}_e{e}{se}"


def test_encode_decode_identity_on_canonical(paper):
    rng = np.random.default_rng(0)
    for arch in paper.sample(rng, n=200):
        alpha, beta = paper.encode(arch)
        assert alpha.sum() == 20 and beta.sum() == 5
        assert paper.decode(alpha, beta) == arch.canonical()


def test_table_equals_bilinear_form(paper):
    rng = np.random.default_rng(1)
    t = bo.Table(paper, 3.0, [rng.random(3) for _ in range(5)], [rng.random((4, 12)) for _ in range(5)])
    c, pa, pb, q = t.to_bilinear()
    for arch in paper.sample(rng, n=50):
        a, b = paper.encode(arch)
        assert t(arch) == pytest.approx(c + pa @ a + pb @ b + a @ (q @ b), abs=1e-12)


@pytest.mark.skipif(not GOLDEN.exists(), reason="shared data folder not present")
def test_arch_strings_round_trip(paper):
    strings = json.loads(GOLDEN.read_text())
    n = 0
    for group in strings.values():
        for name, s in group.items():
            arch = bo.Architecture.from_string(s, paper)
            assert arch.to_string(paper) == s, name
            n += 1
    assert n == 12


def test_arch_string_rejects_foreign_ops(paper):
    s = bo.SearchSpace.mobilenet_v3().stages and bo.Architecture((2,) * 5, ((0,) * 4,) * 5).to_string(paper)
    with pytest.raises(ValueError, match="k7_e3"):
        bo.Architecture.from_string(s.replace("ir_r1_k3_s2_e3_c24_nre", "ir_r1_k7_s2_e3_c24_nre"), paper)


def test_graph_paths_are_depth_choices():
    space = bo.SearchSpace([bo.Stage((1, 3), ["a", "b"]), bo.Stage((2,), ["c"])])
    g = space.graph()
    assert nx.is_directed_acyclic_graph(g)
    paths = list(nx.all_simple_paths(g, "stem", "head"))
    assert len(paths) == 2  # depth 1 or 3 in the first stage
    assert g.nodes["s0b1"]["optional"] and not g.nodes["s0b0"]["optional"]


def test_enumerate_counts_and_uniqueness():
    space = bo.SearchSpace([bo.Stage((1, 2), [["a", "b", "c"], ["a", "b"]]), bo.Stage((2, 3), ["x", "y"])])
    depths, ops = space.enumerate()
    assert len(depths) == space.num_architectures == (3 + 6) * (4 + 8)
    assert len({(tuple(d), tuple(o)) for d, o in zip(depths, ops, strict=True)}) == len(depths)
    with pytest.raises(ValueError, match="enumeration limit"):
        space.enumerate(limit=10)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(depths=(), ops=["a"]), "depths is empty"),
        (dict(depths=(0, 1), ops=["a"]), ">= 1"),
        (dict(depths=(1, 1), ops=["a"]), "duplicates"),
        (dict(depths=(1,), ops=[]), "empty"),
        (dict(depths=(1, 2), ops=[["a"]]), "per-block"),
        (dict(depths=(1,), ops=["a", "a"]), "duplicate op labels"),
    ],
)
def test_stage_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bo.Stage(**kwargs)


def test_validate_names_offending_block():
    space = bo.SearchSpace([bo.Stage((1, 2), ["a", "b"], name="first")])
    with pytest.raises(ValueError, match="first block 1"):
        space.validate(bo.Architecture((2,), ((0, 5),)))
    with pytest.raises(ValueError, match="depth 3"):
        space.validate(bo.Architecture((3,), ((0, 0),)))
    with pytest.raises(ValueError, match="decode: alpha has length"):
        space.decode(np.zeros(3), np.zeros(2))


def test_repr_of_astronomically_large_spaces():
    from binas_opt.model.space import format_count

    space = bo.SearchSpace([bo.Stage((8,), [f"o{i}" for i in range(48)])] * 40)
    assert "architectures=9.936e+537" in repr(space)
    acc = bo.Table(space, name="acc")
    assert "SearchSpace" in repr(bo.Problem(space, acc)) or repr(bo.Problem(space, acc))
    assert format_count(12) == "12" and format_count(10**538) == "1e+538"
