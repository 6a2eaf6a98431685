"""Checkpoints that resume training exactly: lesson 5's hand-written dict, saved atomically and loaded safely::

    from helpers.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint

    save_checkpoint("checkpoints/run.pt", model=model, optimizer=opt, step=500, config=model.config,
                    extra={"losses": losses})
    # ... later, even after a kernel restart:
    model = CharModel(**read_checkpoint("checkpoints/run.pt")["config"])
    opt = torch.optim.Adam(model.parameters())
    checkpoint = load_checkpoint("checkpoints/run.pt", model=model, optimizer=opt)
    checkpoint["step"], checkpoint["extra"]["losses"][-1]

It saves the generators of ``random``, NumPy and torch too. The file is ``torch.save``'s bytes after
one line that holds their SHA-256; a killed save leaves the old file, and a load checks the SHA-256,
reads with ``weights_only=True`` and checks the model and optimizer before changing anything.
"""

from __future__ import annotations

import copy
import hashlib
import io
import os
import random
from _compat_pickle import IMPORT_MAPPING
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

HEADER = b"counting-to-shakespeare checkpoint, sha256 "


class CheckpointError(RuntimeError):
    """A checkpoint could not be written or read. The message says what to do."""


def save_checkpoint(path: str | os.PathLike, *, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    scheduler: Any = None, step: int = 0, config: dict | None = None,
                    extra: dict | None = None) -> Path:
    """Write model, optimizer, scheduler, step, config, extra and the generators to ``path``.

    Raises :class:`CheckpointError`, writing nothing, when a value would not load safely, the
    step is not a whole number of at least 0, or the weights are not finite."""
    path = Path(path).expanduser()
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise CheckpointError(f"step must be a whole number of at least 0 (the training step), got {step!r}")
    bad = [name for name, t in model.state_dict().items() if t.is_floating_point() and not t.isfinite().all()]
    if bad:
        raise CheckpointError(f"not saved: the model's {bad[0]} holds NaN or infinity (training diverged); "
                              "go back to your last good checkpoint and use a smaller learning rate")
    checkpoint = {"step": step, "config": dict(config or {}), "extra": dict(extra or {}),
                  "model": model.state_dict(), "rng": _rng_state(),
                  "optimizer": None if optimizer is None else optimizer.state_dict(),
                  "optimizer_kind": None if optimizer is None else type(optimizer).__name__,
                  "scheduler": None if scheduler is None else scheduler.state_dict()}
    buffer = io.BytesIO()
    try:        # write it to memory and read it back as a load would: what saves, loads
        torch.save(checkpoint, buffer)
        torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    except Exception as err:
        raise CheckpointError(f"not saved: config or extra holds a value a safe load refuses ({_first_line(err)}); "
                              "store plain numbers, strings, lists, dicts or tensors") from None
    payload = buffer.getvalue()     # the file: one line with the payload's SHA-256, then the payload
    data = HEADER + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if tmp.exists():
            tmp.unlink()
        if isinstance(err, OSError):
            raise CheckpointError(f"could not write {path} ({err.strerror or err}); the previous file, if any, "
                                  "is unchanged: choose a folder you can write to, or free some disk space") from None
        raise
    return path


def read_checkpoint(path: str | os.PathLike, map_location: str | None = "cpu") -> dict:
    """The checkpoint's dict, read safely and verified: ``read_checkpoint(path)["config"]`` builds the model."""
    path, device = Path(path).expanduser(), torch.device(map_location or "cpu")   # None: the CPU too
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}; train and save one first, or check the path")
    if not {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}.get(device.type):
        raise CheckpointError(f"there is no {device.type} device on this machine; load {path} with "
                              "map_location='cpu' (the file is fine)")
    header, _, payload = path.read_bytes().partition(b"\n")
    if not header.startswith(HEADER):
        try:
            code = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        except Exception:
            code = []
        code = [f"{IMPORT_MAPPING.get(module, module)}.{name}" for module, _, name in (g.rpartition(".") for g in code)]
        if code:        # (pickle writes Python 2's module names: 'commands.call' is subprocess.call)
            raise CheckpointError(f"{path} holds Python objects ({', '.join(code)}) that could run code when "
                                  "loaded, so it was not loaded: do not load this file; delete it unless you "
                                  "know who made it and why")
        raise CheckpointError(f"{path} is not a checkpoint saved by helpers.checkpoint (a file of your own "
                              "torch.save loads with torch.load(path, weights_only=True))")
    if header[len(HEADER):] != hashlib.sha256(payload).hexdigest().encode():
        raise CheckpointError(f"{path} is damaged or incomplete (its checksum does not match), so it was not "
                              "loaded; use an earlier checkpoint or train again")
    return torch.load(io.BytesIO(payload), map_location=device, weights_only=True)


def load_checkpoint(path: str | os.PathLike, *, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    scheduler: Any = None, restore_rng: bool = True, map_location: str | None = "cpu") -> dict:
    """Restore ``model`` (and ``optimizer``, ``scheduler``, the generators) from ``path``; return the dict.

    Everything is checked first; on a :class:`CheckpointError` nothing has changed. Leave out
    ``optimizer`` to keep a fresh one, ``restore_rng=False`` to keep the current random numbers."""
    checkpoint = read_checkpoint(path, map_location)
    mine, saved, config = model.state_dict(), checkpoint["model"], getattr(model, "config", None)
    for name in sorted(set(mine) | set(saved)):
        if name not in mine or name not in saved or mine[name].shape != saved[name].shape:
            raise CheckpointError(f"{path} was saved from another model (tensor '{name}' differs); build the model "
                                  f"from the checkpoint's config: {checkpoint['config']}")
    if isinstance(config, dict) and checkpoint["config"] and config != checkpoint["config"]:
        raise CheckpointError(f"{path} was saved from a model built as {checkpoint['config']}, not as {config}; "
                              "build it with CharModel(**checkpoint['config'])")
    for role, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None and checkpoint[role] is None:
            raise CheckpointError(f"{path} holds no {role} state; load it without {role}=")
    if optimizer is not None and checkpoint["optimizer_kind"] != type(optimizer).__name__:
        raise CheckpointError(f"{path} holds {checkpoint['optimizer_kind']} state, but this optimizer is "
                              f"{type(optimizer).__name__}; build a {checkpoint['optimizer_kind']}, or leave out "
                              "optimizer= to start afresh")
    before = [(obj, copy.deepcopy(obj.state_dict())) for obj in (model, optimizer, scheduler) if obj is not None]
    rng_before = _rng_state()
    try:
        for obj, role in ((model, "model"), (optimizer, "optimizer"), (scheduler, "scheduler")):
            if obj is not None:
                obj.load_state_dict(checkpoint[role])
        if restore_rng:
            _set_rng_state(checkpoint["rng"])
    except Exception as err:
        for obj, state in before:
            obj.load_state_dict(state)
        _set_rng_state(rng_before)
        raise CheckpointError(f"{path} could not be restored ({_first_line(err)}); nothing was changed: "
                              "build the optimizer as it was built, or leave it out") from None
    return checkpoint


def _rng_state() -> dict:
    _, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"python": random.getstate(), "torch": torch.get_rng_state(),
             "numpy": [torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state(("MT19937", keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _first_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0][:160] if lines else type(err).__name__
