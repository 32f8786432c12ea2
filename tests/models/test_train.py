"""Supernet training: seeded, resumable to the bit, both sampling modes; fine-tuning."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from binas_opt.models.supernet import Supernet  # noqa: E402
from binas_opt.models.train import evaluate_accuracy, finetune, train_supernet  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from binas_opt.mbconv.spaces import fashion_mnist_space  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _loader(seed=0):
    g = torch.Generator().manual_seed(11)
    x, y = torch.randn(96, 1, 28, 28, generator=g), torch.randint(0, 10, (96,), generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


def _net():
    torch.manual_seed(0)
    return Supernet(fashion_mnist_space(tiny=True))


KW = dict(heaviest_epochs=1, epochs=2, lr=0.05, max_steps_per_epoch=2, seed=3, progress=False)


@pytest.mark.slow
def test_resume_gives_the_same_weights(tmp_path):
    ref = _net()
    r = train_supernet(ref, _loader(), **KW)
    assert r.epochs_done == 3 and [h["phase"] for h in r.history] == ["heaviest", "multipath",
                                                                       "multipath"]
    ck = tmp_path / "ck"
    net = _net()
    part = train_supernet(net, _loader(), checkpoint=ck, stop_after_epochs=2, **KW)
    assert part.epochs_done == 2
    meta = json.loads(ck.with_suffix(".json").read_text())
    assert meta["epoch"] == 2 and len(meta["history"]) == 2
    fresh = _net()  # a new process: weights come from the checkpoint
    done = train_supernet(fresh, _loader(), checkpoint=ck, **KW)
    assert done.resumed_from == 2 and done.epochs_done == 3 and len(done.history) == 3
    a, b = ref.state_dict(), fresh.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="lr"):
        train_supernet(_net(), _loader(), checkpoint=ck, **{**KW, "lr": 0.1})


def test_sample_mode_and_finetune():
    net = _net()
    r = train_supernet(net, _loader(), sampling="sample", n_paths=2,
                       **{**KW, "epochs": 1})
    assert all(torch.isfinite(torch.tensor(h["loss"])) for h in r.history)
    assert r.history[-1]["kd"] >= 0
    from binas_opt.models.child import build_child

    child = build_child(net.space, net.sample_arch(__import__("numpy").random.default_rng(0)),
                        net)
    f = finetune(child, _loader(), epochs=1, max_steps_per_epoch=2, progress=False)
    assert f.epochs_done == 1 and f.history[0]["steps"] == 2
    acc = evaluate_accuracy(child, _loader())
    assert 0.0 <= acc <= 100.0
    with pytest.raises(ValueError, match="distill"):
        finetune(child, _loader(), distill=0.5)
    with pytest.raises(ValueError, match="sampling|batch"):
        train_supernet(net, _loader(), sampling="path", **KW)
