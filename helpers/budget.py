"""Quick mode and full mode.

A person running a notebook gets *full mode*: the budgets meant for class. The test suite
sets the environment variable ``COURSE_QUICK=1`` (see ``conftest.py`` at the top of the course), which the
Jupyter kernels started by nbval inherit, and every notebook shrinks its budgets::

    from helpers.budget import budget
    steps = budget(full=3000, quick=300)

Quick mode still trains for real: it is smaller, not fake.
"""

from __future__ import annotations

import os
from typing import TypeVar

QUICK_ENV = "COURSE_QUICK"

T = TypeVar("T")


def quick_mode() -> bool:
    """True when ``COURSE_QUICK`` is set to 1/true/yes (case-insensitive)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def budget(*, full: T, quick: T) -> T:
    """Return ``quick`` in quick mode and ``full`` otherwise.

    >>> budget(full=3000, quick=300) in (3000, 300)
    True
    """
    return quick if quick_mode() else full


def mode_name() -> str:
    """``"quick"`` or ``"full"``, for printing at the top of a notebook."""
    return "quick" if quick_mode() else "full"
