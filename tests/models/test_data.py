"""Fashion-MNIST loader: IDX parsing, missing-data error, deterministic splits."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from binas_opt.models import data  # noqa: E402

pytestmark = pytest.mark.torch


def _write_idx(path, arr: np.ndarray, kind: int = 0x08, compress: bool = True) -> None:
    header = bytes([0, 0, kind, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    raw = header + arr.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)


@pytest.fixture
def fake_root(tmp_path):
    rng = np.random.default_rng(0)
    n_train, n_test = 60, 20
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz",
               rng.integers(0, 256, (n_train, 28, 28)))
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.arange(n_train) % 10)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (n_test, 28, 28)))
    # an uncompressed file is read too
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(n_test) % 10, compress=False)
    return tmp_path


def test_missing_dataset_names_the_apt_package(tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    with pytest.raises(data.DatasetNotFoundError) as exc:
        data.load_fashion_mnist(tmp_path)
    msg = str(exc.value)
    assert "apt-get install dataset-fashion-mnist" in msg
    assert str(tmp_path) in msg and "train-images-idx3-ubyte.gz" in msg
    assert isinstance(exc.value, FileNotFoundError)


def test_env_var_points_at_the_folder(tmp_path, fake_root, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(data.ENV_VAR, str(empty))
    with pytest.raises(data.DatasetNotFoundError, match="empty"):
        data.load_fashion_mnist()
    monkeypatch.setenv(data.ENV_VAR, str(fake_root))
    ds = data.load_fashion_mnist()
    assert ds.train_images.shape == (60, 28, 28) and ds.test_labels.shape == (20,)


def test_read_idx_roundtrip_and_corruption(tmp_path):
    arr = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.gz", arr)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "a.gz"), arr)
    raw = gzip.open(tmp_path / "a.gz").read()
    (tmp_path / "short").write_bytes(raw[:-3])
    with pytest.raises(ValueError, match="truncated"):
        data.read_idx(tmp_path / "short")
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01" + raw[4:])
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(tmp_path / "bad")


def test_splits_are_deterministic_and_disjoint(fake_root):
    a = data.fashion_mnist_splits(fake_root, val_size=10, seed=3)
    b = data.fashion_mnist_splits(fake_root, val_size=10, seed=3)
    c = data.fashion_mnist_splits(fake_root, val_size=10, seed=4)
    assert a.train[0].shape == (50, 1, 28, 28) and a.val[0].shape == (10, 1, 28, 28)
    assert a.test[0].shape == (20, 1, 28, 28)
    for x, y in zip(a.val + a.train, b.val + b.train, strict=True):
        assert torch.equal(x, y)
    assert not torch.equal(a.val[0], c.val[0])
    # validation and training images come from disjoint training indices
    flat_tr = {bytes(v.numpy().tobytes()) for v in a.train[0]}
    assert not any(bytes(v.numpy().tobytes()) in flat_tr for v in a.val[0])
    sub = data.fashion_mnist_splits(fake_root, val_size=10, seed=3, train_subset=0.5,
                                    test_subset=5)
    assert len(sub.train[1]) == 25 and len(sub.test[1]) == 5
    assert torch.equal(sub.val[0], a.val[0])


def test_loaders_shuffle_with_their_own_seed(fake_root):
    la = data.fashion_mnist_loaders(fake_root, batch_size=8, val_size=10, seed=1)
    torch.manual_seed(123)
    xa = [y for _, y in la.train]
    lb = data.fashion_mnist_loaders(fake_root, batch_size=8, val_size=10, seed=1)
    torch.manual_seed(999)
    xb = [y for _, y in lb.train]
    assert all(torch.equal(p, q) for p, q in zip(xa, xb, strict=True))
    assert sum(len(y) for y in xa) == 48  # drop_last
    with pytest.raises(ValueError, match="train_subset"):
        data.fashion_mnist_splits(fake_root, val_size=10, train_subset=0)


def test_real_dataset_if_installed(monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    try:
        ds = data.load_fashion_mnist()
    except data.DatasetNotFoundError:
        pytest.skip("dataset-fashion-mnist is not installed")
    assert ds.train_images.shape == (60000, 28, 28) and ds.test_images.shape == (10000, 28, 28)
    assert set(np.unique(ds.train_labels)) == set(range(10))
    assert np.bincount(ds.test_labels).tolist() == [1000] * 10
