"""One call that seeds every random number generator a lesson touches.

    >>> import torch
    >>> from helpers.seeding import seed_everything
    >>> g = seed_everything(42)          # seeds random, numpy and torch
    >>> x = torch.randn(3, generator=g)  # and hands back a torch generator to pass around
    >>> torch.equal(x, torch.randn(3, generator=seed_everything(42)))
    True
"""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's ``random``, NumPy's global generator and torch; return a seeded
    ``torch.Generator`` for code that takes one explicitly."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (code that calls np.random.* directly)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
