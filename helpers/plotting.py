"""Loss curves, drawn one way in every lesson: figures from :func:`new_axes`, curves from :func:`plot_losses`::

    from helpers.plotting import new_axes, plot_losses

    ax = plot_losses({"SGD": sgd_losses, "Adam": adam_losses}, title="Counting to 3")
    ax = plot_losses({"training": history.losses}, smooth=50)           # moving average of 50
    ax = plot_losses({"validation": (val_steps, val_losses)}, marker="o")  # your own x values
    fig, (left, right) = new_axes(ncols=2)                               # two panels side by side
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator


def new_axes(ncols: int = 1, *, height: float = 3.6) -> tuple[Figure, Any]:
    """A figure of the course's size with ``ncols`` panels side by side, grid on; returns
    ``(fig, ax)`` for one panel and ``(fig, axes)`` for several, like ``plt.subplots``."""
    fig, axes = plt.subplots(1, ncols, figsize=(6.4 if ncols == 1 else 5.2 * ncols, height), layout="constrained")
    for ax in np.atleast_1d(axes):
        ax.grid(True, which="both", alpha=0.3)
    return fig, axes


def moving_average(values: Sequence[float], n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, means)``: the mean of each ``n`` consecutive values, at the index of the last.

    >>> moving_average([1.0, 2.0, 3.0, 4.0], 2)
    (array([1, 2, 3]), array([1.5, 2.5, 3.5]))
    """
    if len(values) < n:
        return np.arange(0), np.zeros(0)
    return np.arange(n - 1, len(values)), np.convolve(np.asarray(values, dtype=float), np.ones(n) / n, mode="valid")


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """The figure as PNG bytes (on its own white background), then closed.

    >>> figure_png(new_axes()[0])[:4]
    b'\\x89PNG'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    plt.close(fig)
    return buffer.getvalue()


def plot_losses(curves: Mapping[str, Sequence[float] | tuple], *, ax: Axes | None = None, smooth: int = 1,
                title: str = "", xlabel: str = "step", ylabel: str = "loss", log: bool = True,
                marker: str | None = None) -> Axes:
    """One line per named curve (a sequence of losses, or a pair ``(xs, ys)``), on a log scale unless
    ``log=False``; ``smooth=n`` draws the moving average over ``n`` points. Returns the axes."""
    if ax is None:
        _, ax = new_axes()
    for label, curve in curves.items():
        xs, ys = curve if isinstance(curve, tuple) and len(curve) == 2 else (range(len(curve)), curve)
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        if smooth > 1:
            steps, ys = moving_average(ys, smooth)
            xs = xs[steps]
        ax.plot(xs, ys, label=label, linewidth=1.5, marker=marker)
    if log:   # ticks that read as numbers at every size (tick_label)
        ax.set_yscale("log")
        low, high = ax.get_ylim()
        if high / low < 10:  # less than a decade: label the minor ticks too, or there are none
            ax.yaxis.set_minor_locator(LogLocator(subs="all"))
            ax.yaxis.set_minor_formatter(FuncFormatter(tick_label))
        ax.yaxis.set_major_formatter(FuncFormatter(tick_label))
    ax.set(title=title, xlabel=xlabel, ylabel=f"loss (mean of {smooth})" if smooth > 1 and ylabel == "loss" else ylabel)
    if len(curves) > 1:
        ax.legend()
    return ax


def tick_label(value: float, _position: object = None) -> str:
    """A tick label with its significant digits at any size: plain while short, a power of ten beyond.

    >>> [tick_label(v) for v in (0.002, 2.5, 300, 1000, 3e-5, 1e-18, 1e4)]
    ['0.002', '2.5', '300', '1000', '$3{\\\\times}10^{-5}$', '$10^{-18}$', '$10^{4}$']
    """
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.4g}"
    exponent = math.floor(math.log10(abs(value)) + 1e-9)
    mantissa = round(value / 10**exponent, 2)
    return f"$10^{{{exponent}}}$" if mantissa == 1 else f"${mantissa:g}{{\\times}}10^{{{exponent}}}$"
