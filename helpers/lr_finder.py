"""Find a learning rate with an exponential sweep: one training step per candidate rate.

The rate grows from ``start`` to ``end`` by the same factor at every step
(``lrs = 10 ** linspace(log10(start), log10(end), steps)``) while the model trains; the loss
after each step is recorded. Plotted against the *exponent* ``log10(lr)``, the curve has three
regions: flat (steps too small to matter), a valley (learning), and a wall (steps so big the
loss shoots up). The sweep stops early once the smoothed loss passes ``stop_factor`` times
the best seen, and afterwards puts the model, the optimizer, the parameters' gradients and
torch's random number generator back exactly as they were, so training can start right
after it::

    from helpers.lr_finder import lr_sweep
    def step(lr: float) -> float:            # one training step at this rate
        loss = loss_fn(model(xb), yb)
        opt.zero_grad(); loss.backward(); opt.step()
        return loss.item()
    sweep = lr_sweep(step, model, opt, start=1e-4, end=10, steps=200)
    sweep.suggestion()                       # the rate to train with
    sweep.plot()

The caller's ``step`` does the work, so models that carry a hidden state, or train with
anything other than a plain optimizer, sweep the same way. When an optimizer is given, its
``lr`` is set to each candidate before ``step`` is called.

**Suggestion rule.** Take the lowest point of the smoothed loss curve, and back off by
``backoff`` (default 3, half a decade): ``suggestion = lr_at_min / 3``. At the very lowest
point the steps are already nearly too big (the wall starts right after it); a third of
that rate is still in the valley and leaves room for the noise of real training. On
minibatch linear regression, where the stable limit is known (2 / the Hessian's largest
eigenvalue), the lowest point sits 1.2-2.2x above the limit and the suggestion at 0.4-0.75
of it (``tests/test_lr_finder.py``). When the lowest point is so close to the start of the
sweep that ``lr_at_min / backoff`` is a rate it never tried (or the sweep has a single
finite point), ``suggestion`` raises ValueError asking for a sweep that starts lower.

Losses may be negative (a negative log-likelihood, say): "``stop_factor`` times the best"
then means rising above the best by ``stop_factor - 1`` times its size
(:func:`helpers.training.rose_too_far`).

The sweep is meant for minibatch training, as in the lessons. On a noiseless full-batch
problem the stiffest directions converge early, so the loss keeps falling after the rate
has passed the stable limit and the sweep overshoots.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.axes import Axes
from torch import nn

from helpers.training import loss_to_float, rose_too_far


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
        """The suggested rate: ``best() / backoff`` (see the module's docstring).

            sweep.suggestion(), sweep.suggestion(backoff=10)

        ValueError when ``backoff`` is not a finite number of at least 1, or when the sweep
        cannot support a suggestion (a single finite point, or a suggestion below its start).
        """
        if isinstance(backoff, bool) or not isinstance(backoff, numbers.Real) or not 1 <= backoff < math.inf:
            raise ValueError(f"backoff must be a finite number of at least 1 (the suggestion is best() / backoff), "
                             f"got {backoff!r}")
        start = self.lrs[0]
        if len(self.lrs) < 2:
            raise ValueError(
                f"the sweep has only 1 finite point (lr={start:.3g}; the loss was not finite at the next rate), "
                f"so there is no curve to suggest a rate from; sweep again from a lower start, for example "
                f"start={start / 100:g}"
            )
        suggestion = self.best() / backoff
        if suggestion < start:
            raise ValueError(
                f"the loss was lowest at lr={self.best():.3g}, too close to the start of the sweep ({start:.3g}): "
                f"best / backoff = {suggestion:.3g} is a rate the sweep never tried. Sweep again from a lower "
                f"start, for example start={start / 100:g} (plot this sweep with sweep.plot(mark=False) to see "
                "its curve)"
            )
        return suggestion

    def plot(self, ax: Axes | None = None, label: str = "", mark: bool = True) -> Axes:
        """Loss against the exponent log10(lr), raw (faint) and smoothed."""
        from helpers.plotting import new_axes

        if ax is None:
            _, ax = new_axes()
        line = ax.plot(self.exponents, self.smoothed, linewidth=1.8, label=label or "smoothed loss")[0]
        ax.plot(self.exponents, self.losses, color=line.get_color(), alpha=0.25, linewidth=0.8)
        if mark:
            ax.axvline(math.log10(self.suggestion()), color=line.get_color(), linestyle="--",
                       label=f"suggestion {self.suggestion():.3g}")
        ax.set(xlabel="exponent: log10(learning rate)", ylabel="loss")
        finite = [v for v in self.smoothed if math.isfinite(v)]
        ax.set_ylim(min(finite) * 0.95, min(max(finite), 2.5 * finite[0]))
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

    ``step(lr)`` performs one training step at rate ``lr`` and returns the loss (a float or
    a one-element tensor). ``smoothing`` is the weight of the running average (0 = none). The
    sweep stops once the smoothed loss exceeds ``stop_factor`` times its lowest value (for
    losses at or below 0, see the module's docstring), or the loss is NaN/inf;
    ``stop_factor=math.inf`` sweeps the whole range. Model, optimizer, the gradients of the
    parameters and torch's RNG state are restored afterwards.
    """
    _check_sweep_args(start, end, steps, smoothing, stop_factor)
    saved_model = copy.deepcopy(model.state_dict())
    saved_opt = copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None
    saved_grads = _gradients(model, optimizer)
    saved_rng = torch.get_rng_state()
    lrs = np.logspace(math.log10(start), math.log10(end), steps).tolist()
    tried, losses, smoothed = [], [], []
    average, lowest, scale, stopped = 0.0, math.inf, 0.0, False
    try:
        for i, lr in enumerate(lrs):
            if optimizer is not None:
                for group in optimizer.param_groups:
                    group["lr"] = lr
            loss = loss_to_float(step(lr))
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
            scale = scale or abs(value)
            if rose_too_far(value, lowest, stop_factor, scale):
                stopped = True
                break
    finally:
        model.load_state_dict(saved_model)
        if optimizer is not None:
            optimizer.load_state_dict(saved_opt)
        for param, grad in saved_grads:
            param.grad = grad
        torch.set_rng_state(saved_rng)
    return Sweep(tried, losses, smoothed, stopped)


def _gradients(
    model: nn.Module, optimizer: torch.optim.Optimizer | None
) -> list[tuple[nn.Parameter, torch.Tensor | None]]:
    """Every parameter of the model and the optimizer with a copy of its gradient (or None)."""
    params = {id(p): p for p in model.parameters()}
    if optimizer is not None:
        params.update((id(p), p) for group in optimizer.param_groups for p in group["params"])
    return [(p, None if p.grad is None else p.grad.detach().clone()) for p in params.values()]


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_sweep_args(start: float, end: float, steps: int, smoothing: float, stop_factor: float) -> None:
    for name, value in (("start", start), ("end", end)):
        if not (_is_number(value) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive learning rate, got {value!r}")
    if start >= end:
        raise ValueError(f"start ({start:g}) must be smaller than end ({end:g}): the sweep goes upwards")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 2:
        raise ValueError(f"steps must be an int of at least 2 (one per candidate rate), got {steps!r}")
    if not (_is_number(smoothing) and 0 <= smoothing < 1):
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing!r}")
    if not (_is_number(stop_factor) and stop_factor > 1):
        raise ValueError(f"stop_factor must be a number greater than 1 (math.inf: never stop early), "
                         f"got {stop_factor!r}")
