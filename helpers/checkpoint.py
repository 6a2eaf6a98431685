"""Checkpoints that resume training exactly: model, optimizer, scheduler, step and RNGs.

    from helpers.checkpoint import load_checkpoint, peek_checkpoint, save_checkpoint
    save_checkpoint("checkpoints/run.pt", model=model, optimizer=opt, step=step,
                    config={"hidden": 64}, extra={"losses": losses})
    # ... later, even after a kernel restart:
    info = peek_checkpoint("checkpoints/run.pt")      # no model needed to read the config
    model = CharModel(**info.config)
    opt = torch.optim.Adam(model.parameters())
    info = load_checkpoint("checkpoints/run.pt", model=model, optimizer=opt)
    info.step, info.config                             # (500, {'hidden': 64})

What a save promises:

* **Atomic.** It writes a temporary file ``.NAME.XXXXXXXX.tmp`` in the same folder and renames
  it over the old checkpoint, so a crash or a kill in the middle never leaves half a file where
  a good checkpoint was. A temporary file that a killed save left behind (one not touched for a
  minute) is removed by the next save of the same checkpoint.
* **What saves, loads.** ``config``, ``extra`` and the optimizer's and scheduler's state are
  checked before anything is written. Values with an obvious plain equivalent are converted:
  NumPy numbers become Python numbers, NumPy arrays become tensors (arrays of strings become
  lists), paths become strings. Anything else that the safe load below would refuse (a
  ``Vocab``, a dataclass, a ``range``, ...) is refused with a :class:`CheckpointError` that
  names its key and type, and nothing is written.
* **No garbage over a good file.** Weights that contain NaN or infinity are refused (the
  previous checkpoint is kept) unless ``allow_nonfinite=True``; loading such a file warns.
* **A checksum.** The file stores a SHA-256 digest of its contents (every tensor's bytes, every
  number and string); a load recomputes it, so a file damaged after it was written is refused.
* **Ordinary files.** New files get the permissions that the umask gives (0644 with umask
  022); saving over a checkpoint keeps that file's permissions. ``~`` means the home folder.

What a load promises:

* **Safe.** It reads with ``torch.load(..., weights_only=True)``, which never runs code from the
  file.
* **All or nothing.** It checks the model (every tensor's name and shape), the optimizer (the
  same kind, over the same parameters in the same order), the scheduler (the same kind) before
  changing anything; if restoring a piece still fails, everything is put back as it was.
* **Exact.** It restores the random number generators of ``random``, NumPy and torch, so that a
  resumed run continues bit for bit as if it had never stopped (on the same machine).

Files written by the first version of this module (format version 1, no checksum, no record
of the optimizer's and scheduler's kinds) still load, with the checks they allow.
"""

from __future__ import annotations

import copy
import hashlib
import operator
import os
import pickle
import random
import re
import stat
import tempfile
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from helpers.data import new_file_mode

FORMAT = "counting-to-shakespeare/checkpoint"
VERSION = 2
STALE_SECONDS = 60
"""A temporary file of a save untouched for this long belongs to a save that was killed."""

_PLAIN_SCALARS = (type(None), bool, int, float, complex, str, bytes, bytearray, torch.dtype, torch.device,
                  torch.Size)
_PLAIN_HINT = (
    "Store plain values instead: numbers, strings, lists, dicts or tensors (for a dataclass, "
    "dataclasses.asdict(value); for a Vocab, ''.join(vocab.chars))"
)
_PER_PARAMETER_STATE = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer", "square_avg", "sum")
_KIND_SETTINGS = {"betas", "amsgrad", "momentum", "dampening", "nesterov", "alpha", "centered", "lr_decay",
                  "initial_accumulator_value", "rho", "lambd", "t0", "etas", "step_sizes", "momentum_decay",
                  "max_iter", "history_size", "line_search_fn"}
"""Settings that only some kinds of optimizer have: in a version-1 file, one this optimizer lacks
shows that the state is another kind's (schedulers add settings too, so not every key counts)."""


class CheckpointError(RuntimeError):
    """A checkpoint could not be written or read. The message says what to do."""


class CheckpointWarning(UserWarning):
    """A checkpoint loaded, but something in it deserves attention (NaN weights, for example)."""


@dataclass
class CheckpointInfo:
    """What :func:`load_checkpoint` or :func:`peek_checkpoint` found besides the state itself."""

    step: int
    config: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def save_checkpoint(
    path: str | os.PathLike,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any | None = None,
    step: int = 0,
    config: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    allow_nonfinite: bool = False,
) -> Path:
    """Write everything needed to resume training to ``path``, atomically; return the path.

    ``config`` describes how to rebuild the model (sizes, cell type); ``extra`` holds small
    values such as the loss history (numbers, strings, lists, dicts, tensors; NumPy values and
    paths are converted, other objects refused: see the module's docstring).

        save_checkpoint("checkpoints/run.pt", model=model, optimizer=opt, step=500,
                        config=model.config, extra={"losses": history.losses})
        PosixPath('checkpoints/run.pt')

    Raises :class:`CheckpointError`, writing nothing, when ``path`` is a folder or lies under a
    file, when a value cannot be stored, or when the weights hold NaN or infinity (pass
    ``allow_nonfinite=True`` to save those anyway).
    """
    path = _path_to_save(path)
    previous = f"{path} still holds the previous checkpoint" if path.is_file() else "there is no file at " + str(path)
    try:
        step = _whole_number(step)
    except TypeError:
        raise CheckpointError(f"step must be a whole number (the training step), got {step!r}") from None
    try:
        payload = {
            "format": FORMAT,
            "version": VERSION,
            "step": step,
            "config": _plain(_mapping(config, "config"), "config"),
            "extra": _plain(_mapping(extra, "extra"), "extra"),
            "model": model.state_dict(),
            "optimizer": None if optimizer is None else _plain(optimizer.state_dict(), "the optimizer's state"),
            "optimizer_class": None if optimizer is None else _class_name(optimizer),
            "optimizer_params": None if optimizer is None else _parameter_table(optimizer, model),
            "scheduler": None if scheduler is None else _plain(scheduler.state_dict(), "the scheduler's state"),
            "scheduler_class": None if scheduler is None else _class_name(scheduler),
            "rng": _rng_state(),
        }
    except CheckpointError as err:
        raise CheckpointError(f"cannot save {path}: {err}. Nothing was written: {previous}.") from None
    if not allow_nonfinite:
        bad = _first_nonfinite(payload["model"])
        if bad:
            raise CheckpointError(
                f"cannot save {path}: {bad}, so training has diverged and these weights are useless. "
                f"Nothing was written: {previous}. Go back to your last good checkpoint and train with a "
                "smaller learning rate, or pass allow_nonfinite=True to save these weights anyway"
            )
    payload["sha256"] = _digest(payload)
    _write_atomically(payload, path, previous)
    return path


def load_checkpoint(
    path: str | os.PathLike,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any | None = None,
    restore_rng: bool = True,
    map_location: str | torch.device | None = "cpu",
) -> CheckpointInfo:
    """Restore ``model`` (and ``optimizer``, ``scheduler``, RNGs) from ``path`` in place.

        info = load_checkpoint("checkpoints/run.pt", model=model, optimizer=opt)
        info.step, info.extra["losses"][-1]

    Everything is checked before anything changes; on a :class:`CheckpointError` the model,
    optimizer, scheduler and generators are exactly as they were. Leave out ``optimizer`` to
    keep a fresh optimizer, ``restore_rng=False`` to keep the current random numbers.
    """
    path = Path(path).expanduser()
    payload = read_checkpoint(path, map_location=map_location)
    _check_model_matches(payload["model"], model, path)
    if optimizer is not None:
        _check_optimizer_matches(payload, optimizer, model, path)
    if scheduler is not None:
        _check_scheduler_matches(payload, scheduler, path)
    if restore_rng and not isinstance(payload.get("rng"), dict):
        raise CheckpointError(f"{path} holds no random number generator state; load it with restore_rng=False")
    bad = _first_nonfinite(payload["model"])
    if bad:
        warnings.warn(f"{path}: {bad}: it was saved from a run that had diverged; use an earlier checkpoint",
                      CheckpointWarning, stacklevel=2)
    _restore_all_or_nothing(payload, path, model, optimizer, scheduler, restore_rng)
    return CheckpointInfo(payload["step"], payload["config"], payload["extra"])


def peek_checkpoint(path: str | os.PathLike) -> CheckpointInfo:
    """Step, config and extra of a checkpoint, read and verified, without building a model.

        info = peek_checkpoint("checkpoints/run.pt")
        model = CharModel(**info.config)
        load_checkpoint("checkpoints/run.pt", model=model)
    """
    payload = read_checkpoint(path)
    return CheckpointInfo(payload["step"], payload["config"], payload["extra"])


def read_checkpoint(path: str | os.PathLike, map_location: str | torch.device | None = "cpu") -> dict:
    """The checkpoint's contents as a dict, checked to be an undamaged course checkpoint."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file; give the path of the .pt file in it")
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; train and save one first, or check the path")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except PermissionError as err:
        raise CheckpointError(
            f"cannot read {path} ({err.strerror or err}); check its permissions (chmod u+r)"
        ) from None
    except pickle.UnpicklingError as err:
        refused = re.search(r"GLOBAL (\S+) was not an allowed global", _plain_text(err))
        if refused:
            raise CheckpointError(_refused_type_message(path, refused.group(1))) from None
        raise CheckpointError(_unreadable_message(path, err)) from None
    except Exception as err:  # noqa: BLE001 (damaged bytes fail anywhere in torch: KeyError, EOFError, ...)
        raise CheckpointError(_unreadable_message(path, err)) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a torch file but not a checkpoint saved by helpers.checkpoint")
    version = payload.get("version")
    if type(version) is not int or version < 1:
        raise CheckpointError(f"{path} has an unknown checkpoint format version {version!r}: it is damaged; "
                              "use an earlier checkpoint")
    if version > VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {version}, but this course reads versions 1 to {VERSION}: "
            "it was saved by a newer version of the course; update the course (git pull) to read it"
        )
    if version >= 2 and not (isinstance(payload.get("sha256"), str) and payload["sha256"] == _digest_or_none(payload)):
        raise CheckpointError(
            f"{path} was damaged after it was written: its checksum does not match its contents, so it was "
            "not loaded. Use an earlier checkpoint, or train again"
        )
    _check_layout(payload, path)
    return payload


# --- saving -----------------------------------------------------------------------------------


def _path_to_save(path: str | os.PathLike) -> Path:
    path = Path(path).expanduser()
    if path.is_dir():
        raise CheckpointError(
            f"cannot save to {path}: it is a folder; give a file name in it, for example {path / 'checkpoint.pt'}"
        )
    for folder in path.parents:
        if folder.exists():
            if not folder.is_dir():
                raise CheckpointError(f"cannot save {path}: {folder} is a file, not a folder; choose another path")
            break
    return path


def _write_atomically(payload: dict, path: Path, previous: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CheckpointError(
            f"cannot create the folder {path.parent} ({err.strerror or err}); choose a folder you can write to"
        ) from None
    _remove_stale_temporaries(path)
    mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else new_file_mode()
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise CheckpointError(
            f"cannot write in {path.parent} ({err.strerror or err}); choose a folder you can write to"
        ) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except Exception as err:
        tmp.unlink(missing_ok=True)
        raise CheckpointError(
            f"could not write {path} ({type(err).__name__}: {_first_line(err)}). Nothing was written: {previous}. "
            "If the disk is full, free some space or save to another folder"
        ) from err
    except BaseException:  # an interrupted kernel: leave no temporary file, then stop as asked
        tmp.unlink(missing_ok=True)
        raise


def _remove_stale_temporaries(path: Path) -> None:
    """Delete this checkpoint's temporary files that a killed save left (untouched for a minute)."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")
    cutoff = time.time() - STALE_SECONDS
    try:
        candidates = [p for p in path.parent.iterdir() if pattern.fullmatch(p.name)]
    except OSError:
        return
    for leftover in candidates:
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass  # someone else removed it, or it is not ours to remove: the save goes on


def _mapping(value: Mapping[str, Any] | None, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise CheckpointError(f"{name} must be a dict, got a {type(value).__name__}")
    return dict(value)


def _plain(value: Any, where: str) -> Any:
    """``value`` with NumPy values and paths converted, checked to load with weights_only=True."""
    if isinstance(value, torch.Tensor) or type(value) in _PLAIN_SCALARS:
        return value
    if isinstance(value, np.generic):
        return _plain(value.item(), where)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biufc":
            return torch.from_numpy(np.array(value, dtype=value.dtype.newbyteorder("="), order="C"))
        return _plain(value.tolist(), where)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        items = ((_plain(k, f"a key of {where}"), _plain(v, f"{where}[{k!r}]")) for k, v in value.items())
        return OrderedDict(items) if type(value) is OrderedDict else dict(items)
    if type(value) in (list, tuple, set):
        return type(value)(_plain(v, f"{where}[{i}]") for i, v in enumerate(value))
    raise CheckpointError(
        f"{where} is a {type(value).__name__}, which a checkpoint cannot hold (the safe load, "
        f"torch.load with weights_only=True, would refuse it). {_PLAIN_HINT}"
    )


def _whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("a bool is not a step")
    return operator.index(value)


def _class_name(obj: object) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _parameter_table(optimizer: torch.optim.Optimizer, model: nn.Module) -> list[list[tuple]]:
    """Per parameter group, each parameter's name in ``model`` (None if not in it) and shape."""
    names = {id(p): name for name, p in model.named_parameters()}
    return [[(names.get(id(p)), tuple(p.shape)) for p in group["params"]] for group in optimizer.param_groups]


def _first_nonfinite(tensors: Mapping[str, torch.Tensor]) -> str:
    for name, t in tensors.items():
        if isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex()) and not bool(t.isfinite().all()):
            what = "NaN" if bool(t.isnan().any()) else "infinite values"
            return f"model tensor '{name}' contains {what}"
    return ""


def _digest(payload: dict) -> str:
    """SHA-256 of the payload's contents (not of its file), so it survives a save and a load."""
    h = hashlib.sha256()
    _feed(h, {k: v for k, v in payload.items() if k != "sha256"})
    return h.hexdigest()


def _digest_or_none(payload: dict) -> str | None:
    """The digest of a loaded payload, or None if damage made it something that cannot be hashed."""
    try:
        return _digest(payload)
    except Exception:  # noqa: BLE001 (a damaged file may hold any tensor or value torch can load)
        return None


def _feed(h: Any, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if t.layout != torch.strided:
            t = t.to_dense()
        t = t.cpu().resolve_conj().resolve_neg().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}:".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, Mapping):
        h.update(b"D%d:" % len(value))
        for k, v in value.items():
            _feed(h, k)
            _feed(h, v)
    elif isinstance(value, (list, tuple)):
        h.update(b"L%d:" % len(value))
        for v in value:
            _feed(h, v)
    elif isinstance(value, set):  # iteration order changes between processes: hash in a fixed order
        parts = []
        for v in value:
            part = hashlib.sha256()
            _feed(part, v)
            parts.append(part.digest())
        h.update(b"S%d:" % len(parts) + b"".join(sorted(parts)))
    else:
        text = f"{type(value).__name__}:{value!r}".encode()
        h.update(b"V%d:" % len(text) + text)


# --- loading ----------------------------------------------------------------------------------


def _plain_text(err: BaseException) -> str:
    """The exception's message without terminal escape codes."""
    return re.sub(r"\x1b\[[0-9;]*m", "", str(err))


def _first_line(err: BaseException) -> str:
    text = _plain_text(err)
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or len(lines[0]) > 160:
        return type(err).__name__
    return lines[0].rstrip(".")


def _unreadable_message(path: Path, err: BaseException) -> str:
    return (
        f"{path} is not a readable checkpoint (truncated, damaged or another kind of file: {_first_line(err)}); "
        "use an earlier checkpoint or train again"
    )


def _refused_type_message(path: Path, type_name: str) -> str:
    return (
        f"{path} does not load safely: it holds a Python object of type {type_name}. Checkpoints are read "
        "with torch.load(weights_only=True), which refuses such objects because loading arbitrary objects "
        "could run code; nothing was loaded or changed. This does not mean the file is harmful: files saved "
        "by older versions of save_checkpoint can hold NumPy numbers or paths. If you trust the file (you "
        f"saved it yourself), allow that type while loading, with torch.serialization.safe_globals([{type_name}]) "
        "around the call (add each further type that the next attempt names), then save it again: "
        "save_checkpoint now stores such values as plain numbers and strings."
    )


def _check_layout(payload: dict, path: Path) -> None:
    expected = {"step": int, "config": dict, "extra": dict, "model": dict}
    for key, kind in expected.items():
        if not isinstance(payload.get(key), kind) or isinstance(payload.get(key), bool):
            raise CheckpointError(f"{path} is damaged: its '{key}' is missing or not a {kind.__name__}; "
                                  "use an earlier checkpoint")
    for key in ("optimizer", "scheduler"):
        if payload.get(key) is not None and not isinstance(payload[key], dict):
            raise CheckpointError(f"{path} is damaged: its '{key}' state is not a dict; use an earlier checkpoint")
    if not all(isinstance(t, torch.Tensor) for t in payload["model"].values()):
        raise CheckpointError(f"{path} is damaged: its model state holds something other than tensors")


def _check_model_matches(saved: dict, model: nn.Module, path: Path) -> None:
    expected = model.state_dict()
    for name, tensor in expected.items():
        if name not in saved:
            raise CheckpointError(f"{path} has no tensor '{name}': it was saved from a different model")
        if tuple(saved[name].shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"{path}: tensor '{name}' has shape {tuple(saved[name].shape)} in the checkpoint but "
                f"{tuple(tensor.shape)} in this model; build the model with the checkpoint's config"
            )
    unexpected = sorted(set(saved) - set(expected))
    if unexpected:
        raise CheckpointError(
            f"{path} has tensor '{unexpected[0]}' that this model lacks: it was saved from a different model"
        )


def _short(name: str, other: str) -> str:
    short, other_short = name.rsplit(".", 1)[-1], other.rsplit(".", 1)[-1]
    return name if short == other_short else short


def _saved_state_of_this_kind(payload: dict, obj: Any, role: str, path: Path) -> Any:
    """The file's ``role`` state ("optimizer" or "scheduler"), refused when it holds none, or
    the state of another kind than ``obj`` (one kind's state cannot drive another)."""
    saved = payload.get(role)
    if saved is None:
        article = "an" if role[0] in "aeiou" else "a"
        raise CheckpointError(f"{path} holds no {role} state; load it without {article} {role}")
    here, saved_class = _class_name(obj), payload.get(f"{role}_class")
    if saved_class and saved_class != here:
        raise CheckpointError(
            f"{path} holds {_short(saved_class, here)} state, but this {role} is {_short(here, saved_class)}: "
            f"one kind's state cannot drive another. Build the same kind ({_short(saved_class, here)}; its "
            f"settings are restored from the file), or leave out {role}= to start this {role} afresh"
        )
    return saved


def _check_optimizer_matches(payload: dict, optimizer: torch.optim.Optimizer, model: nn.Module,
                             path: Path) -> None:
    saved = _saved_state_of_this_kind(payload, optimizer, "optimizer", path)
    saved_class = payload.get("optimizer_class")
    kind = type(optimizer).__name__
    groups = saved.get("param_groups")
    if not isinstance(groups, list) or not all(isinstance(g, dict) and isinstance(g.get("params"), list)
                                               for g in groups):
        raise CheckpointError(f"{path} is damaged: its optimizer state has no parameter groups")
    if len(groups) != len(optimizer.param_groups):
        raise CheckpointError(
            f"{path} holds optimizer state for {len(groups)} parameter group(s), this optimizer has "
            f"{len(optimizer.param_groups)}; build the optimizer with the same groups as when it was saved"
        )
    for i, (group, ours) in enumerate(zip(groups, optimizer.param_groups, strict=True)):
        if len(group["params"]) != len(ours["params"]):
            raise CheckpointError(
                f"{path} holds optimizer state for {len(group['params'])} parameters (group {i}), this optimizer "
                f"has {len(ours['params'])}; build it over the same parameters as when it was saved, usually "
                f"torch.optim.{kind}(model.parameters())"
            )
        foreign = sorted((set(group) - set(ours)) & _KIND_SETTINGS)
        if not saved_class and foreign:
            raise CheckpointError(
                f"{path} holds the state of another kind of optimizer (with the settings {', '.join(foreign)}), "
                f"but this optimizer is {kind}; build the kind it was saved from, or leave out optimizer="
            )
    _check_parameter_order(payload, saved, optimizer, model, path)


def _check_parameter_order(payload: dict, saved: dict, optimizer: torch.optim.Optimizer, model: nn.Module,
                           path: Path) -> None:
    def describe(name: str | None, shape: tuple) -> str:
        return f"'{name}' {tuple(shape)}" if name else f"a parameter of shape {tuple(shape)} outside the model"

    def refuse(i: int, j: int, theirs: str, ours: str) -> CheckpointError:
        return CheckpointError(
            f"{path}: the optimizer's parameters are in another order, or are other parameters, than when it "
            f"was saved: parameter {j} of group {i} is {theirs} in the checkpoint but {ours} here. Build the "
            f"optimizer as it was built, usually torch.optim.{type(optimizer).__name__}(model.parameters())"
        )

    here = _parameter_table(optimizer, model)
    table = payload.get("optimizer_params")
    if table is not None:
        for i, (theirs, ours) in enumerate(zip(table, here, strict=False)):
            for j, ((name, shape), (our_name, our_shape)) in enumerate(zip(theirs, ours, strict=False)):
                if (name and our_name and name != our_name) or tuple(shape) != tuple(our_shape):
                    raise refuse(i, j, describe(name, shape), describe(our_name, our_shape))
    index = {}
    for i, group in enumerate(saved["param_groups"]):
        for j, key in enumerate(group["params"]):
            index[key] = (i, j)
    for key, state in saved.get("state", {}).items():
        if key not in index or not isinstance(state, dict):
            continue
        i, j = index[key]
        name, shape = here[i][j]
        for entry in _PER_PARAMETER_STATE:
            value = state.get(entry)
            if isinstance(value, torch.Tensor) and tuple(value.shape) != tuple(shape):
                raise refuse(i, j, f"a parameter of shape {tuple(value.shape)}", describe(name, shape))


def _check_scheduler_matches(payload: dict, scheduler: Any, path: Path) -> None:
    saved = _saved_state_of_this_kind(payload, scheduler, "scheduler", path)
    saved_class = payload.get("scheduler_class")
    foreign = sorted(set(saved) - set(scheduler.state_dict()))
    if not saved_class and foreign:
        raise CheckpointError(
            f"{path} holds the state of another kind of scheduler (with {', '.join(foreign)}), but this "
            f"scheduler is {type(scheduler).__name__}; build the kind it was saved from, or leave out scheduler="
        )


def _restore_all_or_nothing(payload: dict, path: Path, model: nn.Module, optimizer: torch.optim.Optimizer | None,
                            scheduler: Any | None, restore_rng: bool) -> None:
    """Restore every piece; if one fails, put back the pieces already restored, then raise."""
    model_before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    pieces: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        ("model", lambda: model.load_state_dict(payload["model"]), lambda: model.load_state_dict(model_before)),
    ]
    if optimizer is not None:
        optimizer_before = copy.deepcopy(optimizer.state_dict())
        pieces.append(("optimizer", lambda: optimizer.load_state_dict(payload["optimizer"]),
                       lambda: optimizer.load_state_dict(optimizer_before)))
    if scheduler is not None:
        scheduler_before = copy.deepcopy(scheduler.state_dict())
        pieces.append(("scheduler", lambda: scheduler.load_state_dict(payload["scheduler"]),
                       lambda: scheduler.load_state_dict(scheduler_before)))
    if restore_rng:
        pieces += _rng_pieces(payload["rng"])
    undo: list[Callable[[], Any]] = [pieces[0][2]]  # the model's copy is undone even if it stops halfway
    current = "model"
    try:
        for current, restore, put_back in pieces:
            restore()
            if current != "model":
                undo.append(put_back)
    except BaseException as err:
        for put_back in reversed(undo):
            put_back()
        if not isinstance(err, Exception):
            raise
        hint = ("load it with restore_rng=False to restore everything else" if "generator" in current
                else "use an earlier checkpoint")
        raise CheckpointError(
            f"{path}: restoring the {current} failed ({type(err).__name__}: {_first_line(err)}); nothing was "
            f"changed (model, optimizer, scheduler and random generators are as they were). To go on, {hint}"
        ) from err


def _rng_state() -> dict[str, Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached), "kind": kind},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _rng_pieces(state: dict[str, Any]) -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    """(name, restore, put back) for each generator, so a failure can undo the ones before it."""

    def python() -> None:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))

    def numpy() -> None:
        n = state["numpy"]
        keys = n["keys"].numpy().astype(np.uint32)
        np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached"]))

    python_before, numpy_before, torch_before = random.getstate(), np.random.get_state(), torch.get_rng_state()
    pieces = [
        ("Python random generator", python, lambda: random.setstate(python_before)),
        ("NumPy random generator", numpy, lambda: np.random.set_state(numpy_before)),
        ("torch random generator", lambda: torch.set_rng_state(state["torch"]),
         lambda: torch.set_rng_state(torch_before)),
    ]
    if "cuda" in state and torch.cuda.is_available():
        cuda_before = torch.cuda.get_rng_state_all()
        pieces.append(("CUDA random generators", lambda: torch.cuda.set_rng_state_all(state["cuda"]),
                       lambda: torch.cuda.set_rng_state_all(cuda_before)))
    return pieces

