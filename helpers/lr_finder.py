"""Find a learning rate with an exponential sweep: one training step per candidate rate.

Against the exponent ``log10(lr)`` the loss is flat, then a valley, then a wall; the sweep stops once
the smoothed loss passes ``stop_factor`` times its lowest, and puts the model, the optimizer and
torch's generator back::

    from helpers.lr_finder import lr_sweep
    def step(lr: float) -> float:            # one training step at this rate
        loss = loss_fn(model(xb), yb)
        opt.zero_grad(); loss.backward(); opt.step()
        return loss.item()
    sweep = lr_sweep(step, model, opt, start=1e-4, end=10, steps=200)
    sweep.suggestion()                       # the lowest point / 3: the rate to train with
    sweep.plot()
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

from helpers.guard import check_steps


@dataclass
class Sweep:
    """The result of :func:`lr_sweep`: the rates tried and the loss after each step."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    stopped_early: bool

    def best(self) -> float:
        """The rate at the lowest point of the smoothed curve."""
        return self.lrs[int(np.argmin(self.smoothed))]

    def suggestion(self, backoff: float = 3.0) -> float:
        """``best() / backoff``; ValueError when that is below the sweep's start (start lower)."""
        if not 1 <= backoff < math.inf:
            raise ValueError(f"backoff must be a finite number of at least 1, got {backoff!r}")
        if self.best() / backoff < self.lrs[0]:
            raise ValueError(f"the loss was lowest at lr={self.best():.3g}, too close to the sweep's start "
                             f"({self.lrs[0]:.3g}) to back off by {backoff:g}: sweep again from a lower start, "
                             f"for example start={self.lrs[0] / 100:g}")
        return self.best() / backoff

    def plot(self, ax: Axes | None = None, label: str = "", mark: bool = True) -> Axes:
        """Loss against the exponent log10(lr), raw (faint) and smoothed."""
        from helpers.plotting import new_axes

        if ax is None:
            _, ax = new_axes()
        exponents = [math.log10(lr) for lr in self.lrs]
        line = ax.plot(exponents, self.smoothed, linewidth=1.8, label=label or "smoothed loss")[0]
        ax.plot(exponents, self.losses, color=line.get_color(), alpha=0.25, linewidth=0.8)
        if mark:
            ax.axvline(math.log10(self.suggestion()), color=line.get_color(), linestyle="--",
                       label=f"suggestion {self.suggestion():.3g}")
        ax.set(xlabel="exponent: log10(learning rate)", ylabel="loss")
        ax.set_ylim(min(self.smoothed) * 0.95, min(max(self.smoothed), 2.5 * self.smoothed[0]))
        ax.legend()
        return ax


def lr_sweep(step: Callable[[float], float], model: nn.Module, optimizer: torch.optim.Optimizer | None = None, *,
             start: float = 1e-4, end: float = 10.0, steps: int = 100, smoothing: float = 0.9,
             stop_factor: float = 4.0) -> Sweep:
    """Sweep the rate from ``start`` to ``end`` over ``steps`` calls of ``step(lr)`` (which returns
    the loss); ``smoothing`` weighs the running average (0: none); ``stop_factor=math.inf`` never
    stops early. The model, the optimizer and torch's generator are restored afterwards."""
    if not (0 < start < end < math.inf and check_steps(steps) >= 2 and 0 <= smoothing < 1 and stop_factor > 1):
        raise ValueError(f"lr_sweep needs 0 < start < end, steps >= 2, 0 <= smoothing < 1 and stop_factor > 1; got "
                         f"start={start!r}, end={end!r}, steps={steps!r}, smoothing={smoothing!r}, "
                         f"stop_factor={stop_factor!r}")
    saved = copy.deepcopy((model.state_dict(), optimizer.state_dict() if optimizer else None, torch.get_rng_state()))
    tried, losses, smoothed, average = [], [], [], 0.0
    try:
        for i, lr in enumerate(np.logspace(math.log10(start), math.log10(end), steps).tolist()):
            for group in optimizer.param_groups if optimizer else []:
                group["lr"] = lr
            loss = float(step(lr))
            if not math.isfinite(loss):
                if i == 0:
                    raise ValueError(f"the first step, at the smallest rate {lr:.3g}, gave a loss of {loss}: the "
                                     "model or the loss is broken; check that one training step works on its own")
                break
            average = smoothing * average + (1 - smoothing) * loss
            tried.append(lr)
            losses.append(loss)
            smoothed.append(average / (1 - smoothing ** (i + 1)))   # corrected for starting at 0
            if smoothed[-1] > stop_factor * min(smoothed):
                break
    finally:
        model.load_state_dict(saved[0])
        if optimizer:
            optimizer.load_state_dict(saved[1])
        torch.set_rng_state(saved[2])
    return Sweep(tried, losses, smoothed, stopped_early=len(tried) < steps)
