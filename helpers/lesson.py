"""The first cell of every lesson: quick or full mode, the seed, where tensors live.

    from helpers.lesson import budget, seed_everything, start_lesson

    device = start_lesson()                  # lessons 1-6: the CPU; prints the mode and the threads
    device = start_lesson(device="auto")     # lesson 7: a GPU when there is one
    steps = budget(full=3000, quick=300)     # 300 under pytest, 3000 in class
    g = seed_everything(42)                  # random, NumPy and torch; and a torch.Generator

A person gets *full mode*; the tests set ``COURSE_QUICK=1`` (``conftest.py``), which nbval's kernels
inherit. ``COURSE_DEVICE=cpu`` (or ``cuda``, ``mps``) overrides lesson 7's choice of device.
"""

from __future__ import annotations

import os
import random
from typing import TypeVar

import numpy as np
import torch

QUICK_ENV, DEVICE_ENV = "COURSE_QUICK", "COURSE_DEVICE"
AVAILABLE = {"cpu": lambda: True, "cuda": torch.cuda.is_available, "mps": torch.backends.mps.is_available}
T = TypeVar("T")


def quick_mode() -> bool:
    """True when ``COURSE_QUICK`` is set to 1/true/yes/on (case-insensitive)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def budget(*, full: T, quick: T) -> T:
    """``quick`` in quick mode, ``full`` otherwise."""
    return quick if quick_mode() else full


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's ``random``, NumPy's global generator and torch; return a seeded ``torch.Generator``.

    >>> seed_everything(42).initial_seed()
    42
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (code that calls np.random.* directly)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def start_lesson(*, device: str = "cpu") -> torch.device:
    """Pick the device (``"cpu"``, ``"auto"``, ``"cuda"``, ``"mps"``), set torch's CPU threads to the
    cores, at most 4 (more only add overhead for these models), print the mode."""
    chosen = pick_device(None if device == "auto" else device)
    torch.set_num_threads(min(4, os.cpu_count() or 1))
    mode = "quick" if quick_mode() else "full"
    print(f"running in {mode} mode on {chosen} (torch {torch.__version__}, {torch.get_num_threads()} threads)")
    return chosen


def pick_device(prefer: str | None = None) -> torch.device:
    """``prefer`` (or ``$COURSE_DEVICE``) if given, else the best device present: cuda, mps, cpu."""
    wanted = prefer or os.environ.get(DEVICE_ENV)
    if not wanted:
        return torch.device(next(kind for kind in ("cuda", "mps", "cpu") if AVAILABLE[kind]()))
    kind = str(wanted).split(":")[0]
    if kind not in AVAILABLE or not AVAILABLE[kind]():
        raise ValueError(f"device {wanted!r} is not available here: choose one of "
                         f"{[k for k in AVAILABLE if AVAILABLE[k]()]}, or unset {DEVICE_ENV}")
    return torch.device(wanted)
