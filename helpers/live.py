"""A loss plot that redraws while a cell trains (lessons 6 and 7), and stays behind as a plain PNG
that a saved notebook and the web site show. In quick mode, or outside a notebook, it draws nothing::

    from helpers.live import LiveLoss

    live = LiveLoss("Training")
    history = train_tbptt(model, batches, opt, lr=3e-3, steps=2000, on_step=live.update)
    live.close()                                   # the final plot, drawn once more

Several runs share one plot, a curve each: ``on_step=live.track("no decay")``; a loop of your own
calls ``live.update(losses, done)``. Redraws cost at most ``max_overhead`` of the time. A loss
that stops being finite is marked where it happened, and the title says so.
"""

from __future__ import annotations

import math
import time
from typing import Any

from IPython import get_ipython
from IPython.display import Image, display

from helpers.lesson import quick_mode
from helpers.plotting import figure_png, new_axes, plot_losses


class LiveLoss:
    """Training-loss curves (smoothed) and validation points, redrawn while training runs.
    ``enabled`` defaults to full mode inside a notebook kernel."""

    def __init__(self, title: str = "", *, smooth: int = 50, min_interval: float = 3.0,
                 max_overhead: float = 0.02, enabled: bool | None = None) -> None:
        in_notebook = getattr(get_ipython(), "kernel", None) is not None
        if enabled and not in_notebook:
            raise ValueError("LiveLoss draws only inside a running notebook; leave enabled= unset outside one")
        self.title, self.smooth, self.min_interval, self.max_overhead = title, smooth, min_interval, max_overhead
        self.enabled = (not quick_mode() and in_notebook) if enabled is None else enabled
        self.runs: dict[str, Any] = {}      # label -> the run (a History or a list), read when drawing
        self.status, self.draws, self.draw_seconds = "", 0, 0.0
        self._next_draw = time.perf_counter() + min_interval
        if self.enabled:
            self._handle = display(self._image(), display_id=True)

    def track(self, label: str):
        """A callback for one run, drawn as the curve ``label``."""
        return lambda run, done: self.update(run, done, label=label)

    def update(self, run: Any, done: float, *, label: str = "training") -> None:
        """Record a run (a ``History`` or a list of losses) and ``done`` (0 to 1); redraw if it is time."""
        if not self.enabled:
            return
        self.runs[label] = run
        self.status = f"{label}: step {len(getattr(run, 'losses', run)):,}, {done:.0%} done"
        now = time.perf_counter()
        if now >= self._next_draw:
            self._redraw()
            cost = time.perf_counter() - now
            self._next_draw = time.perf_counter() + max(self.min_interval, cost / self.max_overhead)

    def close(self) -> None:
        """Draw the final plot (without the progress line); the cell keeps it as its output."""
        if self.enabled:
            self.status = ""
            self._redraw()

    def _redraw(self) -> None:
        began = time.perf_counter()
        self._handle.update(self._image())
        self.draws += 1
        self.draw_seconds += time.perf_counter() - began

    def _image(self) -> Any:
        fig, ax = new_axes()
        notes, starts = [], []
        for label, run in self.runs.items():
            losses = list(getattr(run, "losses", run))
            bad = next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)
            if bad is not None:
                notes.append(f"{label}: loss not finite from step {bad}")
                losses = losses[:bad]
            color = None
            if losses:      # each curve smoothed over a share of its own length
                starts.append(losses[0])
                plot_losses({label: losses}, ax=ax, smooth=min(self.smooth, max(1, len(losses) // 5)), log=False)
                color = ax.lines[-1].get_color()
            if bad is not None:
                ax.axvline(bad, color="C3", linestyle="--", label=f"{label}: not finite")
            val = getattr(run, "val", None)
            if val and color:   # one legend entry for every run's dots, so the legend covers none of them
                dots = "validation" if len(self.runs) == 1 else "validation (each run's colour)"
                listed = any(line.get_label() == dots for line in ax.lines)
                ax.plot(*zip(*val, strict=True), "o", color=color, markersize=5, label="_nolegend_" if listed else dots)
        if ax.lines:
            if starts and ax.get_ylim()[1] > 1.1 * max(starts) > 0:   # a run that blew up: keep the others readable
                ax.set_ylim(top=1.1 * max(starts))
            ax.set_ylabel("training loss (moving average)")
            ax.legend(loc="best", fontsize="small")
        ax.set_title("\n".join(t for t in (self.title, self.status, *notes) if t))
        return Image(data=figure_png(fig, dpi=100), format="png")
