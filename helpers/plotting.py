"""Loss curves, drawn the same way in every lesson.

    >>> from helpers.plotting import plot_losses
    >>> ax = plot_losses({"SGD": sgd_losses, "Adam": adam_losses}, title="Counting to 3")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes


def plot_losses(
    curves: Mapping[str, Sequence[float]],
    *,
    ax: Axes | None = None,
    title: str = "",
    xlabel: str = "step",
    ylabel: str = "loss",
    log: bool = True,
) -> Axes:
    """One line per named curve of losses; log scale on y by default (losses shrink by
    orders of magnitude, and a log axis shows each order equally)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, losses in curves.items():
        ax.plot(range(len(losses)), losses, label=label, linewidth=1.5)
    if log:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(True, which="both", alpha=0.3)
    if len(curves) > 1:
        ax.legend()
    return ax
