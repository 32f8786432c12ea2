"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package (IDX files, no torchvision).

The package installs ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz`` under
``/usr/share/datasets/fashion-mnist``.  The folder can be changed with ``root=`` or the
``BINAS_FASHION_MNIST`` environment variable (``root=`` wins).

Splits are deterministic: the validation set is a seeded random subset of the 60,000 training
images (disjoint from the training split); the test split is the official 10,000 test images.
"""

from __future__ import annotations

import gzip
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

__all__ = [
    "DEFAULT_ROOT", "ENV_VAR", "APT_PACKAGE", "DatasetNotFoundError", "FashionMNIST",
    "FashionMNISTSplits", "Loaders", "read_idx", "load_fashion_mnist", "fashion_mnist_splits",
    "fashion_mnist_loaders", "CLASSES", "MEAN", "STD",
]

logger = logging.getLogger("binas_opt")

DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist"
ENV_VAR = "BINAS_FASHION_MNIST"
APT_PACKAGE = "dataset-fashion-mnist"
#: Pixel mean and standard deviation of the 60,000 training images (scaled to [0, 1]).
MEAN, STD = 0.2860, 0.3530
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot")
_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


_CACHE: dict[tuple, FashionMNIST] = {}


class DatasetNotFoundError(FileNotFoundError):
    """The Fashion-MNIST IDX files are not where they were looked for."""


def _resolve_root(root: str | os.PathLike | None) -> Path:
    if root is not None:
        return Path(root)
    return Path(os.environ.get(ENV_VAR) or DEFAULT_ROOT)


def _find(root: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        p = root / name
        if p.is_file():
            return p
    return None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzip-compressed or not) into a numpy array.

    The format: two zero bytes, a type byte (0x08 = uint8, ...), the number of dimensions, then
    one big-endian uint32 per dimension and the data in C order.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    kind, ndim = raw[2], raw[3]
    if kind not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX data type 0x{kind:02x}")
    header = 4 + 4 * ndim
    shape = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[kind])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"{path}: IDX header says shape {shape} ({expected} bytes) but the file has "
            f"{len(raw)} bytes (truncated or corrupt)"
        )
    out = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return out.astype(dtype.newbyteorder("="))


@dataclass(frozen=True, eq=False)
class FashionMNIST:
    """The raw arrays: uint8 images ``(n, 28, 28)`` and int64 labels ``(n,)``."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    root: Path


def load_fashion_mnist(root: str | os.PathLike | None = None) -> FashionMNIST:
    """Read the four IDX files from ``root`` (default: ``$BINAS_FASHION_MNIST`` or
    ``/usr/share/datasets/fashion-mnist``).

    Raises
    ------
    DatasetNotFoundError
        When a file is missing; the message names the folder, the missing files and the Debian
        package that provides them (``apt-get install dataset-fashion-mnist``).
    """
    folder = _resolve_root(root)
    found = {key: _find(folder, stem) for key, stem in _FILES.items()}
    missing = [f"{_FILES[k]}.gz" for k, p in found.items() if p is None]
    if missing:
        raise DatasetNotFoundError(
            f"Fashion-MNIST not found in {folder}: missing {', '.join(missing)}. Install Debian's "
            f"package with `apt-get install {APT_PACKAGE}` (it puts the files in {DEFAULT_ROOT}), "
            f"or point root= (or the {ENV_VAR} environment variable) at a folder holding the four "
            "IDX files."
        )
    key = tuple((str(p.resolve()), p.stat().st_mtime_ns, p.stat().st_size) for p in found.values())
    if key in _CACHE:
        return _CACHE[key]
    arrays = {k: read_idx(p) for k, p in found.items()}
    for split in ("train", "test"):
        x, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(
                f"{folder}: {split} images have shape {x.shape} and labels {y.shape}; expected "
                "(n, rows, cols) and (n,)"
            )
    out = FashionMNIST(
        train_images=arrays["train_images"],
        train_labels=arrays["train_labels"].astype(np.int64),
        test_images=arrays["test_images"],
        test_labels=arrays["test_labels"].astype(np.int64),
        root=folder,
    )
    for a in (out.train_images, out.train_labels, out.test_images, out.test_labels):
        a.setflags(write=False)
    _CACHE.clear()  # keep one dataset in memory at most
    _CACHE[key] = out
    return out


@dataclass(frozen=True, eq=False)
class FashionMNISTSplits:
    """Normalised float tensors ``(n, 1, 28, 28)`` and int64 labels for each split."""

    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]
    seed: int


def _to_tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    x = (x - MEAN) / STD
    return x, torch.from_numpy(labels)


def _subset_size(value: int | float | None, n: int, name: str) -> int:
    if value is None:
        return n
    if isinstance(value, float) and 0 < value <= 1:
        return max(1, int(round(value * n)))
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1:
        return min(int(value), n)
    raise ValueError(f"{name} must be a count >= 1 or a fraction in (0, 1], got {value!r}")


def fashion_mnist_splits(
    root: str | os.PathLike | None = None,
    *,
    val_size: int = 10_000,
    seed: int = 0,
    train_subset: int | float | None = None,
    val_subset: int | float | None = None,
    test_subset: int | float | None = None,
) -> FashionMNISTSplits:
    """Deterministic train / validation / test splits.

    The validation images are ``val_size`` training images chosen by a permutation seeded with
    ``seed``; the rest form the training split.  ``*_subset`` (a count or a fraction) keeps a
    seeded random subset of a split, for fast settings; the same arguments always give the same
    images.
    """
    data = load_fashion_mnist(root)
    n = len(data.train_labels)
    if not 0 < int(val_size) < n:
        raise ValueError(f"val_size must be in [1, {n - 1}], got {val_size!r}")
    rng = np.random.default_rng([int(seed), 0xF45])
    perm = rng.permutation(n)
    val_idx, train_idx = perm[: int(val_size)], perm[int(val_size):]
    test_idx = np.arange(len(data.test_labels))
    picks = []
    for name, idx, sub in (("train_subset", train_idx, train_subset),
                           ("val_subset", val_idx, val_subset),
                           ("test_subset", test_idx, test_subset)):
        k = _subset_size(sub, len(idx), name)
        if k < len(idx):
            idx = np.sort(rng.choice(idx, size=k, replace=False))
        picks.append(idx)
    tr, va, te = picks
    return FashionMNISTSplits(
        train=_to_tensors(data.train_images[tr], data.train_labels[tr]),
        val=_to_tensors(data.train_images[va], data.train_labels[va]),
        test=_to_tensors(data.test_images[te], data.test_labels[te]),
        seed=int(seed),
    )


@dataclass(frozen=True, eq=False)
class Loaders:
    """Train (shuffled, seeded), validation and test (in order) data loaders."""

    train: DataLoader
    val: DataLoader
    test: DataLoader
    splits: FashionMNISTSplits


def fashion_mnist_loaders(
    root: str | os.PathLike | None = None,
    *,
    batch_size: int = 128,
    eval_batch_size: int = 500,
    val_size: int = 10_000,
    seed: int = 0,
    train_subset: int | float | None = None,
    val_subset: int | float | None = None,
    test_subset: int | float | None = None,
    num_workers: int = 0,
    drop_last: bool = True,
) -> Loaders:
    """Data loaders over :func:`fashion_mnist_splits`.

    The training loader shuffles with its own ``torch.Generator`` seeded from ``seed``, so its
    order does not depend on the global torch RNG (the same seed gives the same batches).
    """
    splits = fashion_mnist_splits(root, val_size=val_size, seed=seed, train_subset=train_subset,
                                  val_subset=val_subset, test_subset=test_subset)
    if batch_size < 1 or eval_batch_size < 1:
        raise ValueError(f"batch sizes must be >= 1, got {batch_size} and {eval_batch_size}")
    gen = torch.Generator().manual_seed(int(seed))
    train = DataLoader(TensorDataset(*splits.train), batch_size=batch_size, shuffle=True,
                       generator=gen, num_workers=num_workers,
                       drop_last=drop_last and len(splits.train[1]) >= batch_size)
    val = DataLoader(TensorDataset(*splits.val), batch_size=eval_batch_size, shuffle=False,
                     num_workers=num_workers)
    test = DataLoader(TensorDataset(*splits.test), batch_size=eval_batch_size, shuffle=False,
                      num_workers=num_workers)
    logger.info("Fashion-MNIST splits: train %d, val %d, test %d", len(splits.train[1]),
                len(splits.val[1]), len(splits.test[1]))
    return Loaders(train=train, val=val, test=test, splits=splits)
