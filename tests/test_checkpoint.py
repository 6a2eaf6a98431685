import os
import pickle
import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from helpers import checkpoint
from helpers.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from helpers.seeding import seed_everything
from helpers.text import Vocab


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
        if sched is not None:
            sched.step()
        losses.append(loss.item())
    return losses


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_round_trip_restores_model_optimizer_scheduler_and_config(tmp_path):
    model, opt, sched = make()
    train(model, opt, sched, 7)
    save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt, scheduler=sched, step=7,
                    config={"hidden": 8}, extra={"losses": [1.0, 0.5]})
    fresh, fresh_opt, fresh_sched = make(seed=1)
    info = load_checkpoint(tmp_path / "c.pt", model=fresh, optimizer=fresh_opt, scheduler=fresh_sched)
    assert (info.step, info.config, info.extra) == (7, {"hidden": 8}, {"losses": [1.0, 0.5]})
    assert same(model.state_dict(), fresh.state_dict())
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


# torch fails on damaged bytes in many ways (EOFError, KeyError, UnpicklingError, RuntimeError...):
# a few chosen inputs that reach each of them all become one CheckpointError
NOISE = {
    "empty": b"",
    "text": b"hello, this is not a checkpoint\n",
    "zip header only": b"PK\x03\x04" + bytes(60),
    "random bytes": random.Random(0).randbytes(4096),
    "pickle header, then noise": b"\x80\x02" + random.Random(1).randbytes(4094),
    "pickle protocol 2, then noise": b"\x80\x02" + random.Random(12).randbytes(4094),
}


@pytest.mark.parametrize("name", NOISE)
def test_damaged_or_foreign_bytes(tmp_path, name):
    path = tmp_path / "noise.pt"
    path.write_bytes(NOISE[name])
    model = Tiny()
    before = weights(model)
    with pytest.raises(CheckpointError, match="not a readable checkpoint|does not load safely"):
        load_checkpoint(path, model=model)
    assert same(before, model.state_dict())


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
    with pytest.raises(CheckpointError, match="format version 99.*newer version of the course"):
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


# --- what saves must load ---------------------------------------------------------------------


def test_numpy_values_and_paths_are_converted_on_save_so_the_file_loads(tmp_path):
    model, opt, _ = make()
    opt.param_groups[0]["lr"] = np.float64(0.01)  # a rate picked from np.logspace
    extra = {"losses": [np.float64(1.5), np.float32(0.5)], "steps": np.int64(3), "best": np.bool_(True),
             "curve": np.arange(3.0), "names": np.array(["ab", "c"]), "nested": {"when": (np.int32(2),)}}
    path = save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt,
                           config={"data": Path("data") / "names.txt"}, extra=extra)
    info = load_checkpoint(path, model=Tiny(), optimizer=torch.optim.Adam(Tiny().parameters()))
    assert info.config == {"data": str(Path("data") / "names.txt")}
    assert info.extra["losses"] == [1.5, 0.5] and type(info.extra["losses"][0]) is float
    assert info.extra["steps"] == 3 and type(info.extra["steps"]) is int
    assert info.extra["best"] is True and info.extra["nested"] == {"when": (2,)}
    assert torch.equal(info.extra["curve"], torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64))
    assert info.extra["names"] == ["ab", "c"]


@dataclass
class History:
    losses: list


@pytest.mark.parametrize("value, where", [
    (Vocab("abc"), r"extra\['vocab'\] is a Vocab"),
    ([1.0, History([1.0])], r"extra\['vocab'\]\[1\] is a History"),
    (range(3), r"extra\['vocab'\] is a range"),
])
def test_values_a_checkpoint_cannot_hold_are_refused_on_save_naming_the_key(tmp_path, value, where):
    model, _, _ = make()
    path = save_checkpoint(tmp_path / "c.pt", model=model, step=1)
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match=rf"{where}.*numbers, strings, lists, dicts or tensors"):
        save_checkpoint(path, model=model, step=2, extra={"vocab": value})
    assert path.read_bytes() == before, "nothing was written; the previous checkpoint is kept"


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_file_with_a_type_a_safe_load_refuses_gets_a_clean_message(tmp_path):
    model, _, _ = make()
    path = tmp_path / "old.pt"  # what save_checkpoint wrote before it converted NumPy values
    torch.save({"format": checkpoint.FORMAT, "version": 1, "step": 1, "config": {}, "model": model.state_dict(),
                "extra": {"losses": [np.float64(1.5)]}, "optimizer": None, "scheduler": None}, path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, model=Tiny())
    message = str(err.value)
    assert "\x1b" not in message, "no terminal escape codes"
    assert "numpy" in message and "safe_globals" in message, "names the type and what to do"
    assert "does not mean the file is harmful" in message and "hidden in the file" not in message
    assert message.endswith("."), "no sentence cut in half"


# --- all or nothing ---------------------------------------------------------------------------


def test_a_load_that_fails_on_the_optimizer_changes_nothing(tmp_path):
    model, opt, sched = make()
    train(model, opt, sched, 2)
    path = save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt)
    fresh = Tiny()
    before = weights(fresh)
    only_the_head = torch.optim.Adam(fresh.head.parameters())
    with pytest.raises(CheckpointError, match="optimizer"):
        load_checkpoint(path, model=fresh, optimizer=only_the_head)
    assert same(before, fresh.state_dict()), "the model's weights are untouched"


def test_a_load_that_fails_on_the_last_piece_puts_everything_back(tmp_path, monkeypatch):
    model, opt, sched = make()
    train(model, opt, sched, 2)
    path = save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt, scheduler=sched)
    fresh, fresh_opt, fresh_sched = make(seed=3)
    train(fresh, fresh_opt, fresh_sched, 1)
    before = weights(fresh), {k: v.clone() for k, v in fresh_opt.state[fresh.head.bias].items()}
    sched_before = dict(fresh_sched.state_dict())
    torch.manual_seed(5)
    expected_random = torch.rand(2)
    torch.manual_seed(5)

    def broken(state):
        raise RuntimeError("this machine cannot take that RNG state")

    monkeypatch.setattr(torch, "set_rng_state", broken)
    with pytest.raises(CheckpointError, match="nothing was changed"):
        load_checkpoint(path, model=fresh, optimizer=fresh_opt, scheduler=fresh_sched)
    monkeypatch.undo()
    assert same(before[0], fresh.state_dict())
    assert same(before[1], fresh_opt.state[fresh.head.bias])
    assert fresh_sched.state_dict() == sched_before
    assert torch.equal(torch.rand(2), expected_random)


# --- the optimizer and scheduler must match ---------------------------------------------------


def test_an_optimizer_of_another_kind_is_refused_naming_both(tmp_path):
    model, opt, sched = make()
    train(model, opt, sched, 2)
    path = save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt, scheduler=sched)
    fresh = Tiny()
    before = weights(fresh)
    sgd = torch.optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(CheckpointError, match="holds Adam state.*this optimizer is SGD"):
        load_checkpoint(path, model=fresh, optimizer=sgd)
    adamw = torch.optim.AdamW(fresh.parameters(), weight_decay=0.1)
    with pytest.raises(CheckpointError, match="holds Adam state.*this optimizer is AdamW"):
        load_checkpoint(path, model=fresh, optimizer=adamw)
    assert adamw.param_groups[0]["weight_decay"] == 0.1
    assert same(before, fresh.state_dict())


def test_a_scheduler_of_another_kind_is_refused_naming_both(tmp_path):
    model, opt, sched = make()
    path = save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt, scheduler=sched)
    fresh = Tiny()
    fresh_opt = torch.optim.Adam(fresh.parameters())
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(fresh_opt, T_max=10)
    with pytest.raises(CheckpointError, match="holds StepLR state.*this scheduler is CosineAnnealingLR"):
        load_checkpoint(path, model=fresh, optimizer=fresh_opt, scheduler=cosine)
    assert cosine.T_max == 10 and not hasattr(cosine, "step_size")


def test_an_optimizer_over_the_parameters_in_another_order_is_refused(tmp_path):
    model, opt, sched = make()
    train(model, opt, sched, 2)
    path = save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt)
    fresh = Tiny()
    backwards = torch.optim.Adam(list(fresh.parameters())[::-1])
    with pytest.raises(CheckpointError, match="order.*'rnn.weight_ih_l0'.*'head.bias'"):
        load_checkpoint(path, model=fresh, optimizer=backwards)


# --- integrity --------------------------------------------------------------------------------


def test_a_flipped_bit_in_the_weights_is_caught_by_the_checksum(tmp_path):
    model, opt, _ = make()
    path = save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt)
    data = bytearray(path.read_bytes())
    at = bytes(data).find(model.head.weight.detach().numpy().tobytes())
    assert at > 0
    data[at + 5] ^= 0x10
    path.write_bytes(bytes(data))
    fresh = Tiny()
    before = weights(fresh)
    with pytest.raises(CheckpointError, match="damaged after it was written.*checksum.*earlier checkpoint"):
        load_checkpoint(path, model=fresh)
    assert same(before, fresh.state_dict())


def test_single_bit_flips_anywhere_either_fail_or_change_nothing(tmp_path):
    model, opt, sched = make()
    train(model, opt, sched, 1)
    path = save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt, step=3, extra={"loss": 1.25})
    good = path.read_bytes()
    expected = weights(model), {k: v.clone() for k, v in opt.state[model.head.bias].items()}
    silent = []
    for at in range(3, len(good), 127):
        damaged = bytearray(good)
        damaged[at] ^= 1 << (at % 8)
        path.write_bytes(bytes(damaged))
        fresh = Tiny()
        fresh_opt = torch.optim.Adam(fresh.parameters())
        try:
            info = load_checkpoint(path, model=fresh, optimizer=fresh_opt, restore_rng=False)
        except CheckpointError:
            continue
        if not (same(expected[0], fresh.state_dict()) and same(expected[1], fresh_opt.state[fresh.head.bias])
                and (info.step, info.extra) == (3, {"loss": 1.25})):
            silent.append(at)
    assert not silent, f"bit flips at bytes {silent} loaded with changed contents"


def test_nan_weights_are_refused_on_save_and_warned_about_on_load(tmp_path):
    model, _, _ = make()
    path = save_checkpoint(tmp_path / "c.pt", model=model, step=1)
    before = path.read_bytes()
    with torch.no_grad():
        model.head.bias[1] = float("nan")
    with pytest.raises(CheckpointError, match="'head.bias' contains NaN.*previous checkpoint.*allow_nonfinite=True"):
        save_checkpoint(path, model=model, step=2)
    assert path.read_bytes() == before
    save_checkpoint(path, model=model, step=2, allow_nonfinite=True)
    with pytest.warns(checkpoint.CheckpointWarning, match="'head.bias' contains NaN"):
        load_checkpoint(path, model=Tiny())


# --- leftovers, permissions and paths ---------------------------------------------------------


def test_a_save_removes_temporary_files_left_by_killed_saves(tmp_path):
    model, _, _ = make()
    stale = tmp_path / ".c.pt.k1ll3d00.tmp"
    stale.write_bytes(b"PK half a file")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    fresh = tmp_path / ".c.pt.wr1t1ng0.tmp"   # possibly a save in progress elsewhere: kept
    fresh.write_bytes(b"PK")
    other = tmp_path / ".other.pt.k1ll3d00.tmp"  # another checkpoint's: not ours to judge
    other.write_bytes(b"PK")
    os.utime(other, (an_hour_ago, an_hour_ago))
    save_checkpoint(tmp_path / "c.pt", model=model)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".c.pt.wr1t1ng0.tmp", ".other.pt.k1ll3d00.tmp", "c.pt"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_checkpoint_is_created_with_the_umask(tmp_path, umask, mode):
    model, _, _ = make()
    old = os.umask(umask)
    try:
        path = save_checkpoint(tmp_path / "c.pt", model=model)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == mode


def test_saving_over_a_checkpoint_keeps_its_permissions(tmp_path):
    model, _, _ = make()
    path = save_checkpoint(tmp_path / "c.pt", model=model)
    path.chmod(0o640)
    save_checkpoint(path, model=model)
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_tilde_means_the_home_folder(tmp_path, monkeypatch):
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    model, _, _ = make()
    path = save_checkpoint("~/runs/c.pt", model=model, step=4)
    assert path == home / "runs" / "c.pt" and path.is_file() and not any(work.iterdir())
    assert load_checkpoint("~/runs/c.pt", model=Tiny()).step == 4


def test_saving_onto_a_folder_or_under_a_file_says_what_to_do(tmp_path):
    model, _, _ = make()
    (tmp_path / "runs").mkdir()
    with pytest.raises(CheckpointError, match="is a folder.*give a file name.*runs/checkpoint.pt"):
        save_checkpoint(tmp_path / "runs", model=model)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="notes.txt is a file, not a folder.*choose another path"):
        save_checkpoint(tmp_path / "notes.txt" / "c.pt", model=model)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    with pytest.raises(CheckpointError, match="is a folder, not a checkpoint file"):
        load_checkpoint(tmp_path / "runs", model=model)


# --- reading without a model ------------------------------------------------------------------


def test_peek_reads_step_config_and_extra_without_a_model(tmp_path):
    model, opt, _ = make()
    path = save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt, step=12, config={"hidden": 8},
                           extra={"val": 1.5})
    info = checkpoint.peek_checkpoint(path)
    assert (info.step, info.config, info.extra) == (12, {"hidden": 8}, {"val": 1.5})
    rebuilt = Tiny(**info.config)
    assert load_checkpoint(path, model=rebuilt).step == 12
    data = bytearray(path.read_bytes())
    data[bytes(data).find(model.head.weight.detach().numpy().tobytes()) + 2] ^= 4
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        checkpoint.peek_checkpoint(path)


def test_a_checkpoint_of_version_1_still_loads(tmp_path):
    model, opt, sched = make()
    train(model, opt, sched, 2)
    path = tmp_path / "v1.pt"  # the layout that the first version of save_checkpoint wrote
    torch.save({"format": checkpoint.FORMAT, "version": 1, "step": 2, "config": {"hidden": 8}, "extra": {},
                "model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": None,
                "rng": checkpoint._rng_state()}, path)
    fresh = Tiny()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = load_checkpoint(path, model=fresh, optimizer=torch.optim.Adam(fresh.parameters()))
    assert info.step == 2 and same(weights(model), fresh.state_dict())
    with pytest.raises(CheckpointError, match="this optimizer is SGD"):
        load_checkpoint(path, model=fresh, optimizer=torch.optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9))
