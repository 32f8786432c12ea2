"""The encoding of a space (binas_opt.model.encoding) against plain loops over stages and blocks."""

import numpy as np
import pytest
import scipy.sparse as sp

import binas_opt as bo
from binas_opt.model.encoding import Encoding, EncodingIndex, GroupKind


def random_space(seed: int) -> bo.SearchSpace:
    """A space with 1-4 stages, random depth sets and a different op count per block."""
    rng = np.random.default_rng(seed)
    stages = []
    for s in range(int(rng.integers(1, 5))):
        depths = sorted(int(d) for d in rng.choice([1, 2, 3, 4], int(rng.integers(1, 4)), False))
        ops = [[f"s{s}b{b}o{o}" for o in range(int(rng.integers(1, 7)))]
               for b in range(max(depths))]
        stages.append(bo.Stage(depths, ops))
    return bo.SearchSpace(stages)


SPACES = [random_space(seed) for seed in range(12)] + [bo.SearchSpace.mobilenet_v3()]


def loops(space: bo.SearchSpace):
    """The index maps written as plain loops (the reference)."""
    a_stage, a_block, a_op, a_flat, b_stage, b_depth, blk = [], [], [], [], [], [], []
    flat = 0
    for s, st in enumerate(space.stages):
        for b, n in enumerate(st.num_ops):
            for o in range(n):
                a_stage.append(s)
                a_block.append(b)
                a_op.append(o)
                a_flat.append(flat)
            blk.append((s, b))
            flat += 1
        for d in st.depths:
            b_stage.append(s)
            b_depth.append(d)
    return a_stage, a_block, a_op, a_flat, b_stage, b_depth, blk


@pytest.mark.parametrize("space", SPACES)
def test_index_maps_agree_with_loops(space):
    enc = space.encoding
    a_stage, a_block, a_op, a_flat, b_stage, b_depth, blk = loops(space)
    assert enc.alpha_stage.tolist() == a_stage
    assert enc.alpha_block.tolist() == a_block
    assert enc.alpha_op.tolist() == a_op
    assert enc.block_of_alpha.tolist() == a_flat
    assert enc.beta_stage.tolist() == b_stage
    assert enc.beta_depth.tolist() == b_depth
    assert list(zip(enc.block_stage.tolist(), enc.block_position.tolist(), strict=True)) == blk
    assert enc.block_num_ops.tolist() == [n for st in space.stages for n in st.num_ops]
    assert (enc.n_alpha, enc.n_beta, enc.n_blocks) == (len(a_op), len(b_depth), len(blk))
    for k, (s, b) in enumerate(blk):
        assert enc.alpha_ptr[k] == a_flat.index(k) == enc.alpha_offset[s, b]
        assert enc.stage_block_ptr[s] + b == k
    for j, (s, d) in enumerate(zip(b_stage, b_depth, strict=True)):
        assert enc.depth_lookup[s, d] == j
        assert enc.beta_option[j] == space.stages[s].depths.index(d)
        assert enc.beta_offset[s] == b_stage.index(s)
    assert (enc.depth_lookup >= 0).sum() == enc.n_beta
    for k, (s, b) in enumerate(blk):
        for j, (s2, d) in enumerate(zip(b_stage, b_depth, strict=True)):
            assert enc.activity[k, j] == (s2 == s and d > b)
    rows, cols = enc.alpha_beta_pattern
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == {
        (i, j) for i in range(enc.n_alpha) for j in range(enc.n_beta)
        if b_stage[j] == a_stage[i] and b_depth[j] > a_block[i]}


@pytest.mark.parametrize("space", SPACES)
def test_groups_partition_x(space):
    enc = space.encoding
    assert enc.n_groups == enc.n_blocks + enc.n_stages
    assert enc.group_kind == (GroupKind.BLOCK_OP,) * enc.n_blocks + (GroupKind.STAGE_DEPTH,) * enc.n_stages
    assert enc.group_ptr[0] == 0 and enc.group_ptr[-1] == enc.n_vars == space.n_vars
    assert np.array_equal(enc.group_of_x[: enc.n_alpha], enc.block_of_alpha)
    assert np.array_equal(enc.group_of_x[enc.n_alpha:], enc.n_blocks + enc.beta_stage)
    assert np.array_equal(np.bincount(enc.group_of_x), np.diff(enc.group_ptr))


def test_space_owns_one_encoding():
    space = random_space(3)
    assert space.encoding is space.index is space.encoding
    assert EncodingIndex is Encoding
    assert isinstance(space.encoding, Encoding)
    with pytest.raises(ValueError):
        space.encoding.alpha_op[0] = 5  # shared arrays are read-only


@pytest.mark.parametrize("space", SPACES)
def test_round_trips(space):
    enc = space.encoding
    archs = space.sample(0, n=50)
    depths, ops = enc.to_arrays(archs)
    assert depths.shape == (50, space.n_stages) and ops.shape == (50, enc.n_blocks)
    assert enc.to_architectures(depths, ops) == archs
    assert enc.architecture(depths[3], ops[3]) == archs[3]
    d3, o3 = enc.arrays(archs[3])
    assert np.array_equal(d3, depths[3]) and np.array_equal(o3, ops[3])
    x = enc.one_hot(depths, ops)
    assert np.array_equal(x, space.encode_x(archs))
    assert np.array_equal(enc.one_hot(depths, ops, sparse=True).toarray(), x)
    assert sp.issparse(enc.one_hot(depths, ops, sparse=True))
    # exactly one entry per group
    sums = np.add.reduceat(x, enc.group_ptr[:-1], axis=1)
    assert np.array_equal(sums, np.ones_like(sums))
    d2, o2 = enc.decode_x(x)
    assert np.array_equal(d2, depths) and np.array_equal(o2, ops)
    d2, o2 = enc.decode(x[:, : enc.n_alpha], x[:, enc.n_alpha:])
    assert np.array_equal(d2, depths) and np.array_equal(o2, ops)
    for a in archs[:5]:
        alpha, beta = space.encode(a)
        assert space.decode(alpha, beta) == a
    ai, bi = enc.indices(depths, ops)
    assert np.array_equal(np.nonzero(x)[1].reshape(50, -1), np.hstack([ai, enc.n_alpha + bi]))
    empty = enc.to_arrays([])
    assert empty[0].shape == (0, space.n_stages) and empty[1].shape == (0, enc.n_blocks)


@pytest.mark.parametrize("space", SPACES)
def test_batched_argmax_decode_of_fractional_points(space):
    enc = space.encoding
    rng = np.random.default_rng(1)
    x = rng.random((7, enc.n_vars))
    x[:, ::3] = np.round(x[:, ::3], 1)  # some ties
    x[0] = 0.5  # all ties: lowest index everywhere
    depths, ops = enc.decode(x[:, : enc.n_alpha], x[:, enc.n_alpha:])
    for i in range(len(x)):
        for k in range(enc.n_blocks):
            seg = x[i, enc.alpha_ptr[k]: enc.alpha_ptr[k + 1]]
            assert ops[i, k] == int(np.argmax(seg))
        for s, st in enumerate(space.stages):
            seg = x[i, enc.n_alpha + enc.beta_ptr[s]: enc.n_alpha + enc.beta_ptr[s + 1]]
            assert depths[i, s] == st.depths[int(np.argmax(seg))]
        d1, o1 = enc.decode(x[i, : enc.n_alpha], x[i, enc.n_alpha:])
        assert d1.shape == (space.n_stages,)
        assert np.array_equal(d1, depths[i]) and np.array_equal(o1, ops[i])
        assert space.decode(x[i, : enc.n_alpha], x[i, enc.n_alpha:]) == \
            enc.architecture(depths[i], ops[i])
    assert np.array_equal(ops[0], np.zeros(enc.n_blocks))
    assert np.array_equal(depths[0], [st.depths[0] for st in space.stages])
    with pytest.raises(ValueError, match="expected"):
        enc.decode(x[0, : enc.n_alpha - 1], x[0, enc.n_alpha:])


@pytest.mark.parametrize("space", SPACES)
def test_active_mask(space):
    enc = space.encoding
    depths, _ = enc.sample(2, 20)
    mask = enc.active_mask(depths)
    for i in range(len(depths)):
        expect = [b < depths[i, s] for s, st in enumerate(space.stages) for b in range(st.max_depth)]
        assert mask[i].tolist() == expect
    assert np.array_equal(enc.active_mask(depths[0]), mask[:1])


def test_sampling_is_deterministic_and_canonical():
    space = random_space(5)
    enc = space.encoding
    d1, o1 = enc.sample(7, 100)
    d2, o2 = enc.sample(np.random.default_rng(7), 100)
    assert np.array_equal(d1, d2) and np.array_equal(o1, o2)
    assert not np.any(o1[~enc.active_mask(d1)])  # inactive blocks: op 0
    assert space.sample(7, n=100) == enc.to_architectures(d1, o1)
    assert space.sample(7) == enc.to_architectures(*enc.sample(7, 1))[0]
    assert all(a == a.canonical() for a in space.sample(7, n=100))
    for a in space.sample(3, n=100):
        space.validate(a)
    with pytest.raises(ValueError, match="inactive"):
        enc.sample(0, 3, inactive="all")


def test_sampling_draws_stage_by_stage_then_block_by_block():
    """The documented draw order: ``n`` depth draws per stage, then ``n`` op draws per block.

    The contribution measurement and the supernet's path sampling rely on it (resumed caches
    and checkpoints replay the same contexts)."""
    for seed in range(6):
        space = random_space(seed)
        enc = space.encoding
        rng = np.random.default_rng(seed)
        depths = np.stack([np.asarray(st.depths)[rng.integers(len(st.depths), size=4)]
                           for st in space.stages], axis=1)
        ops = np.stack([rng.integers(k, size=4) for st in space.stages for k in st.num_ops],
                       axis=1)
        d, o = enc.sample(np.random.default_rng(seed), 4, inactive="random")
        assert np.array_equal(d, depths) and np.array_equal(o, ops)


def test_sampling_distribution():
    space = random_space(9)
    enc = space.encoding
    n = 40_000
    depths, ops = enc.sample(0, n, inactive="random")
    for s, st in enumerate(space.stages):
        freq = np.array([(depths[:, s] == d).mean() for d in st.depths])
        assert np.allclose(freq, 1 / len(st.depths), atol=0.015)
    for k, m in enumerate(enc.block_num_ops):
        freq = np.bincount(ops[:, k], minlength=m) / n
        assert freq.size == m and np.allclose(freq, 1 / m, atol=0.015)
    # canonical: active blocks uniform, inactive 0
    depths, ops = enc.sample(1, n)
    act = enc.active_mask(depths)
    for k, m in enumerate(enc.block_num_ops):
        if act[:, k].any():
            freq = np.bincount(ops[act[:, k], k], minlength=m) / act[:, k].sum()
            assert np.allclose(freq, 1 / m, atol=0.03)


def test_randomize_inactive_keeps_active_blocks():
    space = random_space(4)
    enc = space.encoding
    depths, ops = enc.sample(0, 500)
    r = enc.randomize_inactive(depths, ops, 1)
    act = enc.active_mask(depths)
    assert np.array_equal(r[act], ops[act])
    assert (r[~act] > 0).any() or not (~act).any() or enc.block_num_ops.max() == 1
    assert np.array_equal(enc.randomize_inactive(depths, ops, 1), r)


SMALL = [s for s in (random_space(seed) for seed in range(40)) if s.encoding.count("all") <= 20_000]


@pytest.mark.parametrize("space", SMALL[:8])
def test_enumeration(space):
    enc = space.encoding
    depths, ops = enc.enumerate()
    assert len(depths) == enc.count() == space.num_architectures
    archs = enc.to_architectures(depths, ops)
    assert len(set(archs)) == len(archs)
    assert all(a == a.canonical() for a in archs)
    d_all, o_all = enc.enumerate(inactive="all")
    assert len(d_all) == enc.count("all")
    assert len({(tuple(d), tuple(o)) for d, o in zip(d_all, o_all, strict=True)}) == len(d_all)
    canon = np.where(enc.active_mask(d_all), o_all, 0)
    assert len({(tuple(d), tuple(o)) for d, o in zip(d_all, canon, strict=True)}) == len(depths)
    with pytest.raises(ValueError, match="enumeration limit"):
        enc.enumerate(limit=len(depths) - 1)


def test_errors():
    space = random_space(2)
    enc = space.encoding
    bad = bo.Architecture([1] * (space.n_stages + 1), [[0]] * (space.n_stages + 1))
    with pytest.raises(ValueError, match="architectures\\[0\\]"):
        enc.to_arrays([bad])
    with pytest.raises(ValueError):
        Encoding(((1, 2),), ((3,),))  # two blocks needed
