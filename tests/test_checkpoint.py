import os
import random
import struct
import subprocess
import zipfile

import numpy as np
import pytest
import torch

from helpers.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from helpers.models import CharModel
from helpers.text import Vocab


def trained(seed=0, dropout=0.0, steps=3):
    torch.manual_seed(seed)
    model = CharModel(7, embed=4, hidden=8, dropout=dropout)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(steps):
        x = torch.randint(0, 7, (2, 5))
        loss = model(x)[0].logsumexp(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model, opt, sched


def same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_a_resumed_run_continues_bit_for_bit(tmp_path):
    model, opt, sched = trained()
    path = save_checkpoint(tmp_path / "run.pt", model=model, optimizer=opt, scheduler=sched, step=3,
                           config=model.config, extra={"losses": [2.5, 2.1]})
    later = (torch.rand(3).tolist(), random.random(), np.random.rand())   # what the original run draws next
    torch.manual_seed(99)
    fresh, _, _ = trained(seed=1, steps=0)
    fresh_opt = torch.optim.Adam(fresh.parameters(), lr=0.01)
    fresh_sched = torch.optim.lr_scheduler.StepLR(fresh_opt, step_size=2, gamma=0.5)
    checkpoint = load_checkpoint(path, model=fresh, optimizer=fresh_opt, scheduler=fresh_sched)
    assert checkpoint["step"] == 3 and checkpoint["extra"] == {"losses": [2.5, 2.1]}
    assert same_weights(fresh, model) and fresh_sched.state_dict() == sched.state_dict()
    assert str(fresh_opt.state_dict()) == str(opt.state_dict())
    assert (torch.rand(3).tolist(), random.random(), np.random.rand()) == later, "generators restored"


def test_a_killed_save_leaves_the_old_file(tmp_path, monkeypatch):
    model, opt, _ = trained()
    path = save_checkpoint(tmp_path / "run.pt", model=model, step=1)
    before = path.read_bytes()

    def killed(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model=model, optimizer=opt, step=2)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["run.pt"], "no half file, no temporary left"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"extra": {"vocab": Vocab("ab")}}, "a value a safe load refuses"),
    ({"extra": {"n": np.float64(1.5)}}, "a value a safe load refuses"),
    ({"step": -1}, "step must be a whole number of at least 0"), ({"step": 2.5}, "step must be"),
])
def test_what_would_not_load_is_refused_at_save_time_writing_nothing(tmp_path, kwargs, message):
    model, _, _ = trained()
    path = save_checkpoint(tmp_path / "run.pt", model=model, step=1)
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match=message):
        save_checkpoint(path, model=model, **kwargs)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["run.pt"]


def test_nan_weights_are_not_saved(tmp_path):
    model, _, _ = trained()
    with torch.no_grad():
        model.head.bias[0] = float("nan")
    with pytest.raises(CheckpointError, match="head.bias holds NaN"):
        save_checkpoint(tmp_path / "run.pt", model=model)
    assert not (tmp_path / "run.pt").exists()


class RunsCode:
    def __init__(self, function, marker):
        self.function, self.marker = function, marker

    def __reduce__(self):
        command = f"open({str(self.marker)!r}, 'w')"
        return {"system": (os.system, (f"touch {self.marker}",)), "exec": (exec, (command,)),
                "call": (subprocess.call, (["touch", str(self.marker)],))}[self.function]


@pytest.mark.parametrize(("function", "named"), [("system", "posix.system"), ("exec", "builtins.exec"),
                                                 ("call", "subprocess.call")])
def test_a_file_that_would_run_code_is_refused_and_nothing_runs(tmp_path, function, named):
    marker = tmp_path / "ran"
    torch.save({"model": RunsCode(function, marker)}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match=rf"\({named}\) that could run code.*do not load this file") as err:
        read_checkpoint(tmp_path / "evil.pt")
    assert not marker.exists() and "safe_globals" not in str(err.value)


def test_damaged_truncated_and_foreign_files_are_refused(tmp_path):
    model, opt, _ = trained()
    path = save_checkpoint(tmp_path / "run.pt", model=model, optimizer=opt)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:          # flip one byte inside the largest tensor's bytes
        entry = max((i for i in archive.infolist() if "/data/" in i.filename), key=lambda info: info.file_size)
    name_length, extra_length = struct.unpack("<HH", data[entry.header_offset + 26:entry.header_offset + 30])
    data[entry.header_offset + 30 + name_length + extra_length + 10] ^= 0xFF
    (tmp_path / "flipped.pt").write_bytes(data)
    with pytest.raises(CheckpointError, match="damaged or incomplete"):
        read_checkpoint(tmp_path / "flipped.pt")
    (tmp_path / "cut.pt").write_bytes(path.read_bytes()[:3000])
    with pytest.raises(CheckpointError, match="damaged or incomplete"):
        read_checkpoint(tmp_path / "cut.pt")
    torch.save({"model": model.state_dict()}, tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match="not a checkpoint saved by helpers.checkpoint"):
        read_checkpoint(tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match="no checkpoint file at"):
        read_checkpoint(tmp_path / "missing.pt")


def refused_and_unchanged(path, model, **kwargs):
    """Load must raise CheckpointError and change neither the model nor torch's generator."""
    weights = [p.clone() for p in model.parameters()]
    rng = torch.get_rng_state()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, model=model, **kwargs)
    assert all(torch.equal(a, b) for a, b in zip(weights, model.parameters(), strict=True))
    assert torch.equal(rng, torch.get_rng_state())
    return str(err.value)


def test_a_model_built_differently_is_refused(tmp_path):
    model, _, _ = trained(dropout=0.3)
    path = save_checkpoint(tmp_path / "run.pt", model=model, config=model.config)
    same_shapes, _, _ = trained(seed=1, dropout=0.0, steps=0)
    message = refused_and_unchanged(path, same_shapes)
    assert "'dropout': 0.3" in message and "not as {" in message and "'dropout': 0.0" in message
    smaller = CharModel(7, embed=4, hidden=6)
    assert "saved from another model (tensor 'head.weight' differs)" in refused_and_unchanged(path, smaller)


def test_another_optimizer_kind_or_a_missing_state_is_refused(tmp_path):
    model, opt, _ = trained()
    path = save_checkpoint(tmp_path / "run.pt", model=model, optimizer=opt, config=model.config)
    fresh, _, _ = trained(seed=1, steps=0)
    message = refused_and_unchanged(path, fresh, optimizer=torch.optim.SGD(fresh.parameters(), lr=0.1))
    assert "holds Adam state, but this optimizer is SGD" in message
    bare = save_checkpoint(tmp_path / "bare.pt", model=model, config=model.config)
    fresh_adam = torch.optim.Adam(fresh.parameters())
    assert "holds no optimizer state" in refused_and_unchanged(bare, fresh, optimizer=fresh_adam)


def test_a_load_that_fails_halfway_puts_everything_back(tmp_path):
    model, opt, _ = trained()
    path = save_checkpoint(tmp_path / "run.pt", model=model, optimizer=opt, config=model.config)
    fresh, _, _ = trained(seed=1, steps=0)
    groups = [{"params": [p]} for p in fresh.parameters()]        # same kind, other groups: torch refuses late
    message = refused_and_unchanged(path, fresh, optimizer=torch.optim.Adam(groups))
    assert "nothing was changed" in message


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_missing_device_is_named_and_the_file_called_fine(tmp_path):
    model, _, _ = trained()
    path = save_checkpoint(tmp_path / "run.pt", model=model)
    with pytest.raises(CheckpointError, match="no cuda device on this machine; load .* map_location='cpu' \\(the file"):
        load_checkpoint(path, model=model, map_location="cuda")
    assert load_checkpoint(path, model=model, map_location=None)["step"] == 0, "None loads on the CPU"
