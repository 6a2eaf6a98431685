"""Checkpoints that resume training exactly: model, optimizer, scheduler, step and RNGs.

    >>> from helpers.checkpoint import load_checkpoint, save_checkpoint
    >>> save_checkpoint("checkpoints/run.pt", model=model, optimizer=opt, step=step,
    ...                 config={"hidden": 64})
    >>> # ... later, even after a kernel restart, into freshly built objects:
    >>> info = load_checkpoint("checkpoints/run.pt", model=model, optimizer=opt)
    >>> info.step, info.config
    (500, {'hidden': 64})

Saving writes a temporary file in the same folder and renames it over the old one, so a crash
or a kill in the middle never leaves half a file where a good checkpoint was. Loading uses
``torch.load(..., weights_only=True)``, which never runs code from the file, checks the format
version and that every tensor's name and shape matches the model (naming the first that
does not), and restores the random number generators of ``random``, NumPy and torch, so that
a resumed run continues bit for bit as if it had never stopped (on the same machine).
"""

from __future__ import annotations

import os
import pickle
import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

FORMAT = "counting-to-shakespeare/checkpoint"
VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint could not be written or read. The message says what to do."""


@dataclass
class CheckpointInfo:
    """What :func:`load_checkpoint` found besides the state it restored."""

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
    config: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write everything needed to resume training to ``path``, atomically.

    ``config`` describes how to rebuild the model (sizes, cell type); ``extra`` holds small
    values such as the loss history (lists of numbers, strings, tensors).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "step": int(step),
        "config": dict(config or {}),
        "extra": dict(extra or {}),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": _rng_state(),
    }
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
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
    """Restore ``model`` (and ``optimizer``, ``scheduler``, RNGs) from ``path`` in place."""
    payload = read_checkpoint(path, map_location=map_location)
    _check_model_matches(payload["model"], model, path)
    model.load_state_dict(payload["model"])
    if optimizer is not None:
        if payload["optimizer"] is None:
            raise CheckpointError(f"{path} holds no optimizer state; load it without an optimizer")
        try:
            optimizer.load_state_dict(payload["optimizer"])
        except (ValueError, KeyError) as err:
            raise CheckpointError(
                f"{path}: the optimizer state does not fit this optimizer ({err}); "
                "build the same optimizer over the same parameters as when it was saved"
            ) from None
    if scheduler is not None:
        if payload["scheduler"] is None:
            raise CheckpointError(f"{path} holds no scheduler state; load it without a scheduler")
        scheduler.load_state_dict(payload["scheduler"])
    if restore_rng:
        _set_rng_state(payload["rng"])
    return CheckpointInfo(payload["step"], payload["config"], payload["extra"])


def read_checkpoint(path: str | os.PathLike, map_location: str | torch.device | None = "cpu") -> dict:
    """The checkpoint's contents as a dict, checked to be a course checkpoint of this version."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; train and save one first, or check the path")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"{path} contains objects that are not plain tensors and numbers, so it was not loaded "
            f"(loading it could run code hidden in the file). Only load checkpoints you saved "
            f"with save_checkpoint. Detail: {str(err).splitlines()[0]}"
        ) from None
    except Exception as err:  # noqa: BLE001 (damaged bytes fail anywhere in torch: KeyError, EOFError, ...)
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated, damaged or another kind of file: "
            f"{str(err).splitlines()[0] if str(err) else type(err).__name__}); "
            "use an earlier checkpoint or train again"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a torch file but not a checkpoint saved by helpers.checkpoint")
    if payload.get("version") != VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {payload.get('version')}, this course reads "
            f"version {VERSION}; save it again with this version of the course"
        )
    return payload


def _check_model_matches(saved: dict, model: nn.Module, path: str | os.PathLike) -> None:
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


def _set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
