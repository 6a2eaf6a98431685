"""Choose where tensors live: a GPU when one is present, the CPU otherwise.

    >>> from helpers.device import pick_device
    >>> device = pick_device()   # cuda, then mps (Apple), then cpu
    >>> model = model.to(device)

Set ``COURSE_DEVICE=cpu`` (or ``cuda``, ``mps``) to override the choice.
"""

from __future__ import annotations

import os

import torch

DEVICE_ENV = "COURSE_DEVICE"


def pick_device(prefer: str | None = None) -> torch.device:
    """Return ``prefer`` (or ``$COURSE_DEVICE``) if given, else the best available device."""
    wanted = prefer or os.environ.get(DEVICE_ENV) or None
    if wanted:
        kind = torch.device(wanted).type
        available = {
            "cpu": True,
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
        }
        if not available.get(kind, False):
            raise ValueError(
                f"device {wanted!r} was asked for but is not available here; "
                f"unset {DEVICE_ENV} or choose 'cpu'"
            )
        return torch.device(wanted)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
