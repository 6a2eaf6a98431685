"""Find a learning rate with an exponential sweep: one training step per candidate rate.

The rate grows from ``start`` to ``end`` by the same factor at every step
(``lrs = 10 ** linspace(log10(start), log10(end), steps)``) while the model trains; the loss
after each step is recorded. Plotted against the *exponent* ``log10(lr)``, the curve has three
regions: flat (steps too small to matter), a valley (learning), and a wall (steps so big the
loss shoots up). The sweep stops early once the smoothed loss passes ``stop_factor`` times
the best seen, and afterwards puts the model, the optimizer and torch's random number
generator back exactly as they were, so training can start right after it::

    >>> from helpers.lr_finder import lr_sweep
    >>> def step(lr: float) -> float:            # one training step at this rate
    ...     loss = loss_fn(model(xb), yb)
    ...     opt.zero_grad(); loss.backward(); opt.step()
    ...     return loss.item()
    >>> sweep = lr_sweep(step, model, opt, start=1e-4, end=10, steps=200)
    >>> sweep.suggestion()                       # the rate to train with
    >>> sweep.plot()

The caller's ``step`` does the work, so models that carry a hidden state, or train with
anything other than a plain optimizer, sweep the same way. When an optimizer is given, its
``lr`` is set to each candidate before ``step`` is called.

**Suggestion rule.** Take the lowest point of the smoothed loss curve, and back off by
``backoff`` (default 3, half a decade): ``suggestion = lr_at_min / 3``. At the very lowest
point the steps are already nearly too big (the wall starts right after it); a third of
that rate is still in the valley and leaves room for the noise of real training. On
minibatch linear regression, where the stable limit is known (2 / the Hessian's largest
eigenvalue), the lowest point sits 1.2-2.2x above the limit and the suggestion at 0.4-0.75
of it (``tests/test_lr_finder.py``).

The sweep is meant for minibatch training, as in the lessons. On a noiseless full-batch
problem the stiffest directions converge early, so the loss keeps falling after the rate
has passed the stable limit and the sweep overshoots.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.axes import Axes
from torch import nn


@dataclass
class Sweep:
    """The result of :func:`lr_sweep`: the rates tried and the loss after each step."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    stopped_early: bool

    @property
    def exponents(self) -> list[float]:
        return [math.log10(lr) for lr in self.lrs]

    def best(self) -> float:
        """The rate at the lowest point of the smoothed curve."""
        return self.lrs[int(np.argmin(self.smoothed))]

    def suggestion(self, backoff: float = 3.0) -> float:
        """The suggested rate: ``best() / backoff`` (see the module's docstring)."""
        if backoff < 1:
            raise ValueError(f"backoff must be at least 1, got {backoff}")
        return self.best() / backoff

    def plot(self, ax: Axes | None = None, label: str = "", mark: bool = True) -> Axes:
        """Loss against the exponent log10(lr), raw (faint) and smoothed."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 3.6))
        line = ax.plot(self.exponents, self.smoothed, linewidth=1.8, label=label or "smoothed loss")[0]
        ax.plot(self.exponents, self.losses, color=line.get_color(), alpha=0.25, linewidth=0.8)
        if mark:
            ax.axvline(math.log10(self.suggestion()), color=line.get_color(), linestyle="--",
                       label=f"suggestion {self.suggestion():.3g}")
        ax.set(xlabel="exponent: log10(learning rate)", ylabel="loss")
        finite = [v for v in self.smoothed if math.isfinite(v)]
        ax.set_ylim(min(finite) * 0.95, min(max(finite), 2.5 * finite[0]))
        ax.grid(True, alpha=0.3)
        ax.legend()
        return ax


def lr_sweep(
    step: Callable[[float], float],
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    start: float = 1e-4,
    end: float = 10.0,
    steps: int = 100,
    smoothing: float = 0.9,
    stop_factor: float = 4.0,
) -> Sweep:
    """Sweep the learning rate exponentially from ``start`` to ``end`` over ``steps`` steps.

    ``step(lr)`` performs one training step at rate ``lr`` and returns the loss (a float).
    ``smoothing`` is the weight of the running average (0 = none). The sweep stops once the
    smoothed loss exceeds ``stop_factor`` times its lowest value, or the loss is NaN/inf.
    Model, optimizer and torch's RNG state are restored afterwards.
    """
    _check_sweep_args(start, end, steps, smoothing, stop_factor)
    saved_model = copy.deepcopy(model.state_dict())
    saved_opt = copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None
    saved_rng = torch.get_rng_state()
    lrs = np.logspace(math.log10(start), math.log10(end), steps).tolist()
    tried, losses, smoothed = [], [], []
    average, lowest, stopped = 0.0, math.inf, False
    try:
        for i, lr in enumerate(lrs):
            if optimizer is not None:
                for group in optimizer.param_groups:
                    group["lr"] = lr
            loss = float(step(lr))
            if not math.isfinite(loss):
                if i == 0:
                    raise ValueError(
                        f"the first step, at the smallest rate {lr:.3g}, returned a loss of {loss}: "
                        "the model or the loss is broken before any learning rate matters; "
                        "check that one training step works on its own first"
                    )
                stopped = True
                break
            average = smoothing * average + (1 - smoothing) * loss
            value = average / (1 - smoothing ** (i + 1)) if smoothing else loss
            tried.append(lr)
            losses.append(loss)
            smoothed.append(value)
            lowest = min(lowest, value)
            if value > stop_factor * lowest:
                stopped = True
                break
    finally:
        model.load_state_dict(saved_model)
        if optimizer is not None:
            optimizer.load_state_dict(saved_opt)
        torch.set_rng_state(saved_rng)
    return Sweep(tried, losses, smoothed, stopped)


def _check_sweep_args(start: float, end: float, steps: int, smoothing: float, stop_factor: float) -> None:
    for name, value in (("start", start), ("end", end)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive learning rate, got {value!r}")
    if start >= end:
        raise ValueError(f"start ({start:g}) must be smaller than end ({end:g}): the sweep goes upwards")
    if not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an int of at least 2 (one per candidate rate), got {steps!r}")
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing!r}")
    if stop_factor <= 1:
        raise ValueError(f"stop_factor must be greater than 1, got {stop_factor!r}")
