"""The first cell of every lesson: quick or full mode, torch's threads, the seed.

    from helpers.lesson import budget, seed_everything, start_lesson

    start_lesson()                           # prints the mode and the threads
    steps = budget(full=3000, quick=300)     # 300 under pytest, 3000 in class
    g = seed_everything(42)                  # random, NumPy and torch; and a torch.Generator

A person gets *full mode*; the tests set ``COURSE_QUICK=1`` (``conftest.py``), which nbval's kernels
inherit.
"""

from __future__ import annotations

import os
import random
from typing import TypeVar

import numpy as np
import torch

QUICK_ENV = "COURSE_QUICK"
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


def start_lesson() -> None:
    """Torch's threads: one in quick mode (the tests run a lesson per core), else the cores up to 4; print the mode."""
    torch.set_num_threads(1 if quick_mode() else min(4, os.cpu_count() or 1))
    mode = "quick" if quick_mode() else "full"
    print(f"running in {mode} mode (torch {torch.__version__}, {torch.get_num_threads()} threads)")
