"""Guards for training loops: settings that make sense, a loss that stays finite.

    from helpers.training import DivergenceGuard, check_clip, check_lr, check_steps
    lr = check_lr(0.1)                       # ValueError for 0, -1, nan, inf
    clip = check_clip(1.0)                   # None or 0 turn clipping off; -1, nan refused
    steps = check_steps(500)                 # a positive int: not 0, 2.5 or True
    guard = DivergenceGuard(lr)
    for step in range(steps):
        loss = ...
        guard.check(loss.item())             # DivergedError if nan/inf or blown up

The error says at which step the loss diverged and that the learning rate is the likely
cause (or the cause the caller names); ``guard.history`` (and the error's ``history``) keep
every loss up to that point, as plain floats.
"""

from __future__ import annotations

import math
import numbers
from typing import Any


class DivergedError(ArithmeticError):
    """The loss became NaN or infinite, or blew up. ``step``, ``loss``, ``lr``, ``cause``, the
    ``history`` of losses up to that point and the ``reason`` (the message without its advice)
    are kept on the exception.

    ``cause`` replaces the usual hint about the learning rate when the caller knows better::

        raise DivergedError(12, math.nan, lr=0.1, cause="clip=-1 is the cause: use a positive clip")
    """

    def __init__(
        self,
        step: int,
        loss: float,
        lr: float | None = None,
        history: list[float] | None = None,
        why: str = "",
        cause: str | None = None,
    ):
        self.step, self.loss, self.lr, self.cause = step, float(loss), lr, cause
        self.history = [float(h) for h in history or []]
        self.reason = f"diverged at step {step}: the loss became {self.loss:.4g}{why}"   # without the advice
        if cause:
            hint = cause
        elif lr:
            hint = f"the learning rate {lr:g} is the likely cause: try one 10x smaller"
        else:
            hint = "a learning rate that is too large is the usual cause: try one 10x smaller"
        super().__init__(f"training {self.reason}; {hint}")


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


def check_clip(clip: float | None) -> float | None:
    """The gradient-clipping norm as a float, or None when clipping is off (``None``, 0, False).

        >>> check_clip(1.0), check_clip(None), check_clip(0)
        (1.0, None, None)

    A negative clip would make ``clip_grad_norm_`` flip every gradient (training goes uphill),
    and NaN would turn every gradient into NaN: both raise ValueError, as do non-numbers.
    """
    if clip is None or clip is False:
        return None
    if isinstance(clip, bool) or not isinstance(clip, numbers.Real):
        raise ValueError(
            f"clip must be a number (the largest gradient norm allowed, for example 1.0) or None to turn "
            f"clipping off, got {clip!r}"
        )
    value = float(clip)
    if value == 0:
        return None
    if not math.isfinite(value):
        raise ValueError(
            f"clip must be a positive finite number (for example 1.0), or None to turn clipping off; got {clip!r}"
        )
    if value < 0:
        raise ValueError(
            f"clip must not be negative, got {clip!r}: clipping to a negative norm flips every gradient, so "
            "training goes uphill; use a positive number such as 1.0, or None to turn clipping off"
        )
    return value


def check_steps(steps: int, name: str = "steps") -> int:
    """``steps`` as an int if it is a positive whole number; ValueError otherwise.

        >>> check_steps(500), check_steps(10, "evals")
        (500, 10)

    Floats (even ``100.0``) and bools are refused: write ``int(...)`` where you mean a count.
    """
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        hint = "; use int(...) to turn a float into a count" if isinstance(steps, float) else ""
        raise ValueError(f"{name} must be a positive whole number (an int such as 100), got {steps!r}{hint}")
    return int(steps)


def loss_to_float(loss: Any) -> float:
    """A loss as a plain float: a Python number, a NumPy number or a one-element tensor.

    Keeping floats rather than tensors means a history never holds on to autograd graphs.
    """
    shape = getattr(loss, "shape", ())
    if math.prod(shape) != 1:
        raise ValueError(
            f"the loss must be one number, got one of shape {tuple(shape)}: reduce it first (for example "
            "loss.mean()) and pass loss.item()"
        )
    if hasattr(loss, "detach"):
        loss = loss.detach()
    try:
        return float(loss)
    except (TypeError, ValueError):
        raise ValueError(f"the loss must be a number, got {loss!r}") from None


def rose_too_far(value: float, reference: float, factor: float, scale: float = 0.0) -> bool:
    """Whether ``value`` has blown up relative to ``reference`` by ``factor``.

    For a positive reference that is simply ``value > factor * reference``. For a negative one
    (losses such as a negative log-likelihood can be below 0) it means rising above it by more
    than ``factor - 1`` times its size: with factor 4, from -1 to above +2. A reference of 0
    has no size, so ``scale`` (a typical size of the values) stands in; with no scale yet,
    nothing counts as blown up.

        >>> rose_too_far(4.5, 1.0, 4), rose_too_far(-0.9, -1.0, 4), rose_too_far(2.5, -1.0, 4)
        (True, False, True)
    """
    if reference > 0:
        return value > factor * reference
    size = abs(reference) or abs(scale)
    return size > 0 and value - reference > (factor - 1) * size


def check_loss(loss: Any, step: int, lr: float | None = None, history: list[float] | None = None) -> float:
    """Return ``loss`` as a float if finite; raise :class:`DivergedError` naming the step otherwise."""
    value = loss_to_float(loss)
    if not math.isfinite(value):
        raise DivergedError(step, value, lr, history)
    return value


class DivergenceGuard:
    """Watches the losses of one training run and stops it when it diverges.

    Diverged means the loss is NaN or infinite, or (after the first step) blown up relative to
    the first loss (see :func:`rose_too_far`): above ``blowup`` times a positive start, or risen
    by more than ``blowup - 1`` times the size of a negative start. When the run starts at
    exactly 0, the first nonzero loss sets the size. ``blowup=math.inf`` checks only for NaN/inf.
    ``check`` accepts floats and one-element tensors and keeps floats.
    """

    def __init__(self, lr: float | None = None, blowup: float = 4.0):
        if isinstance(blowup, bool) or not isinstance(blowup, numbers.Real) or not blowup > 1:
            raise ValueError(f"blowup must be a number greater than 1, got {blowup!r}")
        self.lr = None if lr is None else check_lr(lr)
        self.blowup = float(blowup)
        self.history: list[float] = []
        self.scale = 0.0

    def check(self, loss: Any) -> float:
        """Record ``loss`` (as a float); raise :class:`DivergedError` if the run diverged."""
        step = len(self.history)
        value = check_loss(loss, step, self.lr, self.history)
        if self.history:
            start = self.history[0]
            if rose_too_far(value, start, self.blowup, self.scale):
                if start > 0:
                    why = f", more than {self.blowup:g}x its starting value {start:.4g}"
                elif start < 0:
                    why = f": it rose by more than {self.blowup - 1:g}x the size of its starting value {start:.4g}"
                else:
                    why = (f": it rose from 0 by more than {self.blowup - 1:g}x the size of its first nonzero "
                           f"value {self.scale:.4g}")
                raise DivergedError(step, value, self.lr, self.history, why)
        if not self.scale:
            self.scale = abs(value)
        self.history.append(value)
        return value
