import pickle
import random

import numpy as np
import pytest
import torch
from torch import nn

from helpers import checkpoint
from helpers.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from helpers.seeding import seed_everything


class Tiny(nn.Module):
    def __init__(self, hidden=8):
        super().__init__()
        self.rnn = nn.GRU(3, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 3)

    def forward(self, x):
        return self.head(self.rnn(x)[0])


def make(hidden=8, seed=0):
    torch.manual_seed(seed)
    model = Tiny(hidden)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
    return model, opt, sched


def train(model, opt, sched, steps):
    """Training that draws from every RNG a resumed run must restore."""
    losses = []
    for _ in range(steps):
        x = torch.randn(4, 6, 3) + random.random() + float(np.random.rand())
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


def test_round_trip_restores_model_optimizer_scheduler_and_config(tmp_path):
    model, opt, sched = make()
    train(model, opt, sched, 7)
    save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt, scheduler=sched, step=7,
                    config={"hidden": 8}, extra={"losses": [1.0, 0.5]})
    fresh, fresh_opt, fresh_sched = make(seed=1)
    info = load_checkpoint(tmp_path / "c.pt", model=fresh, optimizer=fresh_opt, scheduler=fresh_sched)
    assert (info.step, info.config, info.extra) == (7, {"hidden": 8}, {"losses": [1.0, 0.5]})
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), fresh.state_dict().values(),
                                                 strict=True))
    assert fresh_sched.get_last_lr() == sched.get_last_lr()
    for p, q in zip(opt.state.values(), fresh_opt.state.values(), strict=True):
        assert all(torch.equal(p[k], q[k]) for k in p)


def test_resume_is_exact(tmp_path):
    seed_everything(3)
    model, opt, sched = make()
    first = train(model, opt, sched, 5)
    save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt, scheduler=sched, step=5)
    uninterrupted = train(model, opt, sched, 5)
    final = [p.detach().clone() for p in model.parameters()]

    seed_everything(99)  # a "new session" with other random numbers
    resumed_model, resumed_opt, resumed_sched = make(seed=42)
    load_checkpoint(tmp_path / "c.pt", model=resumed_model, optimizer=resumed_opt,
                    scheduler=resumed_sched)
    resumed = train(resumed_model, resumed_opt, resumed_sched, 5)
    assert resumed == uninterrupted and len(first) == 5
    assert all(torch.equal(a, b) for a, b in zip(final, resumed_model.parameters(), strict=True))


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at .*train and save one first"):
        load_checkpoint(tmp_path / "nope.pt", model=Tiny())


def test_truncated_file(tmp_path):
    model, opt, _ = make()
    path = save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a readable checkpoint.*truncated"):
        load_checkpoint(path, model=model)


@pytest.mark.parametrize("seed", range(50))
def test_random_bytes(tmp_path, seed):
    # torch fails on noise in many ways (EOFError, KeyError, UnpicklingError...): all become one message
    path = tmp_path / "noise.pt"
    path.write_bytes(random.Random(seed).randbytes(4096))
    with pytest.raises(CheckpointError, match="not a readable checkpoint|not plain tensors"):
        load_checkpoint(path, model=Tiny())


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_after_a_pickle_header(tmp_path, seed):
    path = tmp_path / "noise.pt"
    path.write_bytes(b"\x80\x02" + random.Random(seed).randbytes(4094))  # looks like a legacy torch file
    with pytest.raises(CheckpointError, match="not a readable checkpoint|not plain tensors"):
        load_checkpoint(path, model=Tiny())


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))  # would create a file if ever unpickled


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": checkpoint.FORMAT, "version": 1, "model": Exploit(str(marker))}, path)
    plain = tmp_path / "evil.pkl"
    plain.write_bytes(pickle.dumps(Exploit(str(marker))))
    for p in (path, plain):
        with pytest.raises(CheckpointError, match="could run code|not a readable"):
            load_checkpoint(p, model=Tiny())
    assert not marker.exists(), "the file's code must never run"


def test_a_checkpoint_of_a_different_model_names_the_tensor(tmp_path):
    model, _, _ = make(hidden=8)
    path = save_checkpoint(tmp_path / "c.pt", model=model)
    with pytest.raises(CheckpointError, match=r"tensor 'rnn.weight_ih_l0' has shape \(24, 3\).*\(48, 3\)"):
        load_checkpoint(path, model=Tiny(hidden=16))
    with pytest.raises(CheckpointError, match="no tensor '0.weight'.*different model"):
        load_checkpoint(path, model=nn.Sequential(nn.Linear(3, 3)))


def test_a_torch_file_that_is_not_a_checkpoint_and_a_future_version(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a checkpoint saved by helpers.checkpoint"):
        read_checkpoint(tmp_path / "other.pt")
    torch.save({"format": checkpoint.FORMAT, "version": 99}, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="format version 99.*reads version 1"):
        read_checkpoint(tmp_path / "future.pt")


def test_a_kill_during_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    model, opt, sched = make()
    path = save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt, step=1)
    before = path.read_bytes()
    train(model, opt, sched, 3)

    def dies_halfway(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a zip file")
        raise KeyboardInterrupt  # the kernel is interrupted mid-write

    monkeypatch.setattr(torch, "save", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model=model, optimizer=opt, step=4)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"], "no temporary file is left behind"
    monkeypatch.undo()
    assert load_checkpoint(path, model=Tiny(), restore_rng=False).step == 1


def test_loading_optimizer_state_that_was_not_saved(tmp_path):
    model, opt, _ = make()
    path = save_checkpoint(tmp_path / "c.pt", model=model)
    with pytest.raises(CheckpointError, match="no optimizer state"):
        load_checkpoint(path, model=model, optimizer=opt)
