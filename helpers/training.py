"""Guards for training loops: a learning rate that makes sense, a loss that stays finite.

    >>> from helpers.training import check_lr, check_loss
    >>> lr = check_lr(0.1)                       # ValueError for 0, -1, nan, inf
    >>> for step in range(steps):
    ...     loss = ...
    ...     check_loss(loss.item(), step, lr)    # DivergedError when the loss is nan/inf
"""

from __future__ import annotations

import math


class DivergedError(ArithmeticError):
    """The loss became NaN or infinite. ``step``, ``loss``, ``lr`` and the ``history`` of
    losses up to that point are kept on the exception."""

    def __init__(self, step: int, loss: float, lr: float | None = None, history: list[float] | None = None):
        self.step, self.loss, self.lr = step, loss, lr
        self.history = list(history or [])
        hint = f"the learning rate {lr:g} is the likely cause: try one 10x smaller" if lr else (
            "a learning rate that is too large is the usual cause: try one 10x smaller"
        )
        super().__init__(f"training diverged at step {step}: the loss became {loss}; {hint}")


def check_lr(lr: float) -> float:
    """Return ``lr`` as a float if it is a positive finite number, else raise ValueError."""
    try:
        value = float(lr)
    except (TypeError, ValueError):
        raise ValueError(f"the learning rate must be a number, got {lr!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"the learning rate must be a positive finite number (for example 0.1), got {lr!r}"
        )
    return value


def check_loss(loss: float, step: int, lr: float | None = None, history: list[float] | None = None) -> float:
    """Return ``loss`` if finite; raise :class:`DivergedError` naming the step otherwise."""
    if not math.isfinite(loss):
        raise DivergedError(step, loss, lr, history)
    return loss
