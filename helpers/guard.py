"""Guards for training loops: settings that make sense, a loss that stays finite.

    from helpers.guard import DivergenceGuard, check_lr, check_steps
    lr, steps = check_lr(0.1), check_steps(500)   # ValueError for 0, -1, nan, True, 2.5 steps
    guard = DivergenceGuard(lr)
    for step in range(steps):
        loss = ...
        guard.check(loss.item())                  # DivergedError if nan/inf or 4x the first loss
"""

from __future__ import annotations

import math
import numbers


class DivergedError(ArithmeticError):
    """The loss became NaN or infinite, or blew up: ``step``, ``loss``, ``lr``, the ``history`` of
    losses before it, and ``reason`` (the message without its advice)."""

    def __init__(self, step: int, loss: float, lr: float | None = None, history: list[float] | None = None,
                 why: str = ""):
        self.step, self.loss, self.lr, self.history = step, float(loss), lr, list(history or [])
        self.reason = f"diverged at step {step}: the loss became {self.loss:.4g}{why}"
        rate = f"the learning rate {lr:g}" if lr else "a learning rate that is too large"
        super().__init__(f"training {self.reason}; {rate} is the likely cause: try one 10x smaller")


def _positive(value, name: str, example: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
        raise ValueError(f"{name} must be a positive finite number (for example {example}), got {value!r}")
    return float(value)


def check_lr(lr: float) -> float:
    """``lr`` as a float if it is a positive finite number (not a bool), else ValueError.

    >>> check_lr(0.1)
    0.1
    """
    return _positive(lr, "the learning rate", "0.1")


def check_clip(clip: float | None) -> float | None:
    """The gradient-clipping norm, or None (clipping off); a negative clip (it would flip every
    gradient) or NaN is refused.

    >>> check_clip(1.0), check_clip(None)
    (1.0, None)
    """
    return None if clip is None else _positive(clip, "clip (or None to turn clipping off)", "1.0")


def check_steps(steps: int, name: str = "steps") -> int:
    """``steps`` as an int if it is a positive whole number (not a float, not a bool).

    >>> check_steps(500)
    500
    """
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"{name} must be a positive whole number (an int such as 100), got {steps!r}")
    return int(steps)


class DivergenceGuard:
    """Watches one run's losses: NaN, infinity, or more than ``blowup`` times the first loss raises
    :class:`DivergedError`. Every lesson's losses are positive (cross-entropy, MSE)."""

    def __init__(self, lr: float | None = None, blowup: float = 4.0):
        self.lr = None if lr is None else check_lr(lr)
        self.blowup, self.history = _positive(blowup, "blowup", "4"), []

    def check(self, loss: float) -> float:
        """Record ``loss`` (a float or a one-element tensor) as a float; raise if the run diverged."""
        value, step = float(loss.item() if hasattr(loss, "item") else loss), len(self.history)
        if not math.isfinite(value):
            raise DivergedError(step, value, self.lr, self.history)
        if self.history and value > self.blowup * self.history[0]:
            raise DivergedError(step, value, self.lr, self.history,
                                f", more than {self.blowup:g}x its starting value {self.history[0]:.4g}")
        self.history.append(value)
        return value
