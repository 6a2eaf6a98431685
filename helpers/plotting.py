"""Loss curves, drawn one way in every lesson.

Every figure in the course comes from :func:`new_axes` (one size, one grid style), and every
loss curve from :func:`plot_losses`::

    from helpers.plotting import new_axes, plot_losses

    ax = plot_losses({"SGD": sgd_losses, "Adam": adam_losses}, title="Counting to 3")
    ax = plot_losses({"training": history.losses}, smooth=50)           # moving average of 50
    ax = plot_losses({"validation": (val_steps, val_losses)}, marker="o")  # your own x values
    fig, (left, right) = new_axes(ncols=2)                               # two panels side by side

A curve is either a sequence of losses (plotted against its index: the step) or a pair
``(xs, ys)``. ``smooth=n`` replaces each curve by its moving average over ``n`` points,
drawn at the step that ends each window (lesson 2 explains why a running mean of a noisy
loss says more than the raw curve).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, ScalarFormatter

WIDTH, HEIGHT = 6.4, 3.6
Curve = Sequence[float] | tuple[Sequence[float], Sequence[float]]


def new_axes(ncols: int = 1, *, height: float = HEIGHT) -> tuple[Figure, Any]:
    """A figure of the course's size with ``ncols`` panels side by side, grid on.

    Returns ``(fig, ax)`` for one panel and ``(fig, axes)`` for several, like ``plt.subplots``.
    """
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    fig, axes = plt.subplots(1, ncols, figsize=(WIDTH if ncols == 1 else 5.2 * ncols, height),
                             layout="constrained")
    for ax in np.atleast_1d(axes):
        ax.grid(True, which="both", alpha=0.3)
    return fig, axes


def moving_average(values: Sequence[float], n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, means)``: the mean of each run of ``n`` consecutive values, placed at the index
    of the window's last value. ``n=1`` returns the values unchanged.

    >>> moving_average([1.0, 2.0, 3.0, 4.0], 2)
    (array([1, 2, 3]), array([1.5, 2.5, 3.5]))
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"the moving average needs a window of at least 1 point, got {n!r}")
    values = np.asarray(values, dtype=float)
    if len(values) < n:
        return np.arange(0), np.zeros(0)
    means = np.convolve(values, np.ones(n) / n, mode="valid")
    return np.arange(n - 1, len(values)), means


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """The figure as PNG bytes, then closed (for widgets and plots redrawn in place).

    >>> fig, _ = new_axes()
    >>> figure_png(fig)[:4]
    b'\\x89PNG'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def plot_losses(
    curves: Mapping[str, Curve],
    *,
    ax: Axes | None = None,
    smooth: int = 1,
    title: str = "",
    xlabel: str = "step",
    ylabel: str = "loss",
    log: bool = True,
    marker: str | None = None,
) -> Axes:
    """One line per named curve; returns the axes so a lesson can add to them.

    ``log=True`` puts the loss on a log scale (losses shrink by orders of magnitude); ticks are
    written as plain numbers (2, 2.5, 3), never as ``2.4×10⁰``.
    """
    if ax is None:
        _, ax = new_axes()
    for label, curve in curves.items():
        if isinstance(curve, tuple) and len(curve) == 2:
            xs, ys = np.asarray(curve[0], dtype=float), np.asarray(curve[1], dtype=float)
            if smooth > 1:
                idx, ys = moving_average(ys, smooth)
                xs = xs[idx]
        else:
            xs, ys = moving_average(curve, smooth) if smooth > 1 else (np.arange(len(curve)), curve)
        ax.plot(xs, ys, label=label, linewidth=1.5, marker=marker)
    if log:
        use_log_scale(ax)
    if smooth > 1 and ylabel == "loss":
        ylabel = f"loss (mean of {smooth})"
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(True, which="both", alpha=0.3)
    if len(curves) > 1:
        ax.legend()
    return ax


def use_log_scale(ax: Axes) -> None:
    """A log-scale y axis whose tick labels are plain numbers (``2``, ``2.5``, ``0.01``)."""
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    if high / low < 10:  # less than a decade: label the minor ticks too, or there are none
        ax.yaxis.set_minor_locator(LogLocator(subs="all"))
        minor = ScalarFormatter(useOffset=False)
        minor.set_scientific(False)
        ax.yaxis.set_minor_formatter(minor)
    major = ScalarFormatter(useOffset=False)
    major.set_scientific(False)
    ax.yaxis.set_major_formatter(major)
