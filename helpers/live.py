"""A loss plot that redraws while a cell trains, and stays behind as an ordinary figure.

For the long cells of lessons 6 and 7: in full mode the plot appears when training starts and
is redrawn in place every few seconds; when the cell ends, the last drawing is the cell's
output, a plain PNG that a saved notebook and the course's web site show. In quick mode (the
tests), or outside a notebook, it draws nothing at all::

    from helpers.live import LiveLoss

    live = LiveLoss("Training")
    history = train_tbptt(model, batches, opt, lr=3e-3, steps=2000, on_step=live.update)
    live.close()                                   # the final plot, drawn once more

Several runs in one cell share one plot, a curve each: pass ``on_step=live.track("no decay")``.
A loop of your own calls ``live.update(losses, done)`` with its list of losses and the share
of the work done (0 to 1).

Redrawing costs time (about 0.1 s for a PNG), so the plot is redrawn at most every
``min_interval`` seconds and never more often than keeps its cost under ``max_overhead`` of
the elapsed time; ``live.draw_seconds`` says what it cost in all. ``train_tbptt`` does not
count the redraws as training time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from helpers.budget import quick_mode
from helpers.plotting import figure_png, new_axes, plot_losses


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class LiveLoss:
    """Training-loss curves (smoothed) and validation points, redrawn while training runs.

    ``enabled`` defaults to full mode inside a notebook kernel.
    """

    def __init__(self, title: str = "", *, smooth: int = 50, min_interval: float = 3.0,
                 max_overhead: float = 0.02, enabled: bool | None = None) -> None:
        if not 0 < max_overhead < 1:
            raise ValueError(f"max_overhead must be between 0 and 1, got {max_overhead!r}")
        self.title, self.smooth = title, smooth
        self.min_interval, self.max_overhead = min_interval, max_overhead
        self.enabled = (not quick_mode() and _in_notebook()) if enabled is None else enabled
        self.runs: dict[str, Any] = {}      # label -> the run (a History or a list), read when drawing
        self.status = ""
        self.draws, self.draw_seconds = 0, 0.0
        self.started = time.perf_counter()
        self._next_draw = self.started + min_interval
        self._handle: Any = None
        if self.enabled:
            from IPython.display import display

            self._handle = display(self._image(), display_id=True)

    def track(self, label: str) -> Callable[[Any, float], None]:
        """A callback for one run, drawn as the curve ``label``."""
        def update(run: Any, done: float) -> None:
            self.update(run, done, label=label)
        return update

    def update(self, run: Any, done: float, *, label: str = "training") -> None:
        """Record a run's losses (a ``History`` or a list of floats) and ``done`` (0 to 1) of its
        budget; redraw if it is time to."""
        if not self.enabled:
            return
        self.runs[label] = run
        self.status = f"{label}: step {len(self._losses(run)):,}, {done:.0%} done"
        now = time.perf_counter()
        if now >= self._next_draw:
            self._redraw()
            cost = time.perf_counter() - now
            self._next_draw = time.perf_counter() + max(self.min_interval, cost / self.max_overhead)

    def close(self) -> None:
        """Draw the final plot (without the progress line, with every validation so far); the cell
        keeps it as its output."""
        if self.enabled:
            self.status = ""
            self._redraw()

    def _redraw(self) -> None:
        began = time.perf_counter()
        self._handle.update(self._image())
        self.draws += 1
        self.draw_seconds += time.perf_counter() - began

    @staticmethod
    def _losses(run: Any) -> Sequence[float]:
        return run.losses if hasattr(run, "losses") else run

    def _image(self) -> Any:
        from IPython.display import Image

        fig, ax = new_axes()
        curves = {label: list(self._losses(run)) for label, run in self.runs.items() if self._losses(run)}
        if curves:
            for label, losses in curves.items():      # each curve smoothed over a share of its own length
                plot_losses({label: losses}, ax=ax, smooth=min(self.smooth, max(1, len(losses) // 5)),
                            log=False, title=self.title, ylabel="loss")
            ax.set_ylabel("training loss (moving average)")
            start = max(c[0] for c in curves.values())
            if ax.get_ylim()[1] > 1.1 * start > 0:      # a run that blew up: keep the others readable
                ax.set_ylim(top=1.1 * start)
            for label, line in zip(curves, ax.lines, strict=True):
                val = getattr(self.runs[label], "val", None)
                if val:
                    ax.plot([v.step for v in val], [v.loss for v in val], "o", color=line.get_color(),
                            markersize=5, label="validation" if len(curves) == 1 else f"{label}: validation")
            ax.legend(loc="upper right")
        else:
            ax.set_title(self.title)
            ax.text(0.5, 0.5, "starting…", ha="center", va="center", transform=ax.transAxes, color="0.5")
        if self.status:
            ax.set_title(f"{self.title}\n{self.status}" if self.title else self.status)
        return Image(data=figure_png(fig), format="png")
