"""A learning-rate slider that re-trains a model and redraws its loss curve.

A lesson writes its training loop as a generator that yields one loss per step and always
starts from the same initial weights::

    def train(lr: float, steps: int):
        model = copy.deepcopy(initial_model)
        for step in range(steps):
            loss = ...
            ...
            yield loss.item()

    from helpers.sliders import LRExplorer
    explorer = LRExplorer(train, lr=0.1, steps=200)
    explorer.show()          # sliders, a live loss plot and a readout

Moving a slider re-trains (on release, not while dragging); results are cached per
setting, so moving back is instant. A loss that becomes NaN or infinite stops the run and
the readout says "diverged at step N". Extra choices (an optimizer, a hidden size) become
drop-downs: ``LRExplorer(train, options={"optimizer": ["SGD", "Adam"]})`` calls
``train(lr, steps, optimizer="SGD")``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt

from helpers.training import DivergedError, check_lr

TrainFn = Callable[..., Iterator[float]]


@dataclass
class RunResult:
    """The losses of one training run, and the step where it diverged (if it did)."""

    lr: float
    losses: list[float] = field(default_factory=list)
    diverged_at: int | None = None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def final(self) -> float:
        return self.losses[-1] if self.losses else math.nan

    def readout(self) -> str:
        """One line for a person: final loss, or where it diverged."""
        if self.diverged:
            return (f"lr = {self.lr:.3g}: diverged at step {self.diverged_at} "
                    "(the loss became NaN or infinite)")
        if not self.losses:
            return f"lr = {self.lr:.3g}: no steps"
        return (
            f"lr = {self.lr:.3g}: loss {self.losses[0]:.3f} → {self.final:.4f} "
            f"after {len(self.losses)} steps (highest {max(self.losses):.3g})"
        )


def run_training(
    train: TrainFn,
    lr: float,
    steps: int,
    *,
    on_progress: Callable[[RunResult], None] | None = None,
    every: int = 0,
    **options: Any,
) -> RunResult:
    """Run ``train(lr, steps, **options)`` to the end or until the loss stops being finite.

    ``on_progress(result)`` is called every ``every`` steps (0: never) for live plots.
    Raises ValueError for a learning rate that is not positive and finite, or steps < 1.
    """
    lr = check_lr(lr)
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    result = RunResult(lr)
    try:
        for loss in train(lr, steps, **options):
            loss = float(loss)
            if not math.isfinite(loss):
                result.diverged_at = len(result.losses)
                break
            result.losses.append(loss)
            if on_progress is not None and every and len(result.losses) % every == 0:
                on_progress(result)
    except DivergedError as exc:
        result.diverged_at = exc.step
    return result


class LRExplorer:
    """Log-scale learning-rate slider, steps slider, optional drop-downs, live loss plot."""

    def __init__(
        self,
        train: TrainFn,
        *,
        lr: float = 0.1,
        lr_exponents: tuple[float, float] = (-4.0, 1.0),
        steps: int = 200,
        steps_range: tuple[int, int, int] = (10, 1000, 10),
        options: Mapping[str, Sequence[Any]] | None = None,
        title: str = "",
        ylim: tuple[float, float] | None = None,
        live_every: int = 0,
    ) -> None:
        import ipywidgets as w

        self.train = train
        self.title = title
        self.ylim = ylim
        self.live_every = live_every
        self.cache: dict[tuple, RunResult] = {}
        self.previous: RunResult | None = None
        self.result: RunResult | None = None
        slider_style = {"description_width": "initial"}
        layout = w.Layout(width="420px")
        self.lr_slider = w.FloatLogSlider(
            value=check_lr(lr), base=10, min=lr_exponents[0], max=lr_exponents[1], step=0.25,
            description="learning rate", readout_format=".4g", continuous_update=False,
            style=slider_style, layout=layout,
        )
        self.steps_slider = w.IntSlider(
            value=steps, min=steps_range[0], max=steps_range[1], step=steps_range[2],
            description="steps", continuous_update=False, style=slider_style, layout=layout,
        )
        self.dropdowns = {
            name: w.Dropdown(options=list(values), value=values[0], description=name, style=slider_style)
            for name, values in (options or {}).items()
        }
        self.readout = w.HTML()
        self.plot = w.Output()
        controls = [self.lr_slider, self.steps_slider, *self.dropdowns.values()]
        for control in controls:
            control.observe(lambda _change: self.update(), names="value")
        self.widget = w.VBox([*controls, self.readout, self.plot])

    def choices(self) -> dict[str, Any]:
        return {name: d.value for name, d in self.dropdowns.items()}

    def run(self, lr: float, steps: int, **options: Any) -> RunResult:
        """Train once (or fetch the cached result) for this setting."""
        lr = check_lr(lr)
        key = (round(lr, 12), steps, *sorted(options.items()))
        if key not in self.cache:
            self.cache[key] = run_training(
                self.train, lr, steps, on_progress=self._draw_live,
                every=self.live_every, **options,
            )
        return self.cache[key]

    def update(self) -> RunResult:
        """Train for the current slider values and redraw; returns the run's result."""
        self.readout.value = "<i>training…</i>"
        result = self.run(self.lr_slider.value, self.steps_slider.value, **self.choices())
        if self.result is not None and self.result is not result:
            self.previous = self.result
        self.result = result
        self._draw(result)
        self.readout.value = f"<b>{result.readout()}</b>"
        return result

    def show(self) -> RunResult:
        """Display the widget and run the current setting once (also works under nbval)."""
        from IPython.display import display

        display(self.widget)
        return self.update()

    def _draw_live(self, partial: RunResult) -> None:
        self._draw(partial, live=True)

    def _draw(self, result: RunResult, live: bool = False) -> None:
        from IPython.display import clear_output

        with self.plot:
            clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(6.4, 3.4))
            if self.previous is not None and not live:
                ax.plot(self.previous.losses, color="0.7", linewidth=1,
                        label=f"previous: lr = {self.previous.lr:.3g}")
            ax.plot(result.losses, color="C0", linewidth=1.8, label=f"lr = {result.lr:.3g}")
            if result.diverged:
                ax.axvline(result.diverged_at, color="C3", linestyle="--", label="diverged")
            if result.losses and min(result.losses) > 0:
                ax.set_yscale("log")
            if self.ylim:
                ax.set_ylim(*self.ylim)
            ax.set(xlabel="step", ylabel="loss", title=self.title)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(loc="upper right")
            plt.show()
