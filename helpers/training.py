"""Guards for training loops: a learning rate that makes sense, a loss that stays finite.

    >>> from helpers.training import DivergenceGuard, check_lr
    >>> lr = check_lr(0.1)                       # ValueError for 0, -1, nan, inf
    >>> guard = DivergenceGuard(lr)
    >>> for step in range(steps):
    ...     loss = ...
    ...     guard.check(loss.item())             # DivergedError if nan/inf or blown up

The error says at which step the loss diverged and that the learning rate is the likely
cause; ``guard.history`` (and the error's ``history``) keep every loss up to that point.
"""

from __future__ import annotations

import math


class DivergedError(ArithmeticError):
    """The loss became NaN or infinite. ``step``, ``loss``, ``lr`` and the ``history`` of
    losses up to that point are kept on the exception."""

    def __init__(
        self,
        step: int,
        loss: float,
        lr: float | None = None,
        history: list[float] | None = None,
        why: str = "",
    ):
        self.step, self.loss, self.lr = step, loss, lr
        self.history = list(history or [])
        hint = f"the learning rate {lr:g} is the likely cause: try one 10x smaller" if lr else (
            "a learning rate that is too large is the usual cause: try one 10x smaller"
        )
        super().__init__(f"training diverged at step {step}: the loss became {loss:.4g}{why}; {hint}")


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


class DivergenceGuard:
    """Watches the losses of one training run and stops it when it diverges.

    Diverged means the loss is NaN or infinite, or (after the first step) larger than
    ``blowup`` times the first loss: a run that far above where it started is not learning.
    """

    def __init__(self, lr: float | None = None, blowup: float = 4.0):
        if blowup <= 1:
            raise ValueError(f"blowup must be greater than 1, got {blowup}")
        self.lr = None if lr is None else check_lr(lr)
        self.blowup = blowup
        self.history: list[float] = []

    def check(self, loss: float) -> float:
        """Record ``loss``; raise :class:`DivergedError` if the run diverged."""
        step = len(self.history)
        check_loss(loss, step, self.lr, self.history)
        if self.history and loss > self.blowup * self.history[0]:
            why = f", more than {self.blowup:g}x its starting value {self.history[0]:.4g}"
            raise DivergedError(step, loss, self.lr, self.history, why)
        self.history.append(loss)
        return loss
