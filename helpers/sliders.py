"""A learning-rate slider that re-trains a model and redraws its loss curve (lessons 1 to 3).

A lesson writes its training loop as a generator that yields one loss per step, from the same
initial weights every time, and may return a note for the readout; a loop over several runs
yields ``(their median, [each run's loss])`` and the plot draws each run thinly behind it::

    def train(lr: float, steps: int, optimizer: str = "SGD"):
        model = copy.deepcopy(initial_model)
        opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr)
        for step in range(steps):
            ...
            yield loss.item()
        return "7 of 8 starts reached 0.1"

    explorer = LRExplorer(train, lr=0.1, steps=200, options={"optimizer": ["SGD", "Adam"]})
    explorer.show()          # sliders, a live loss plot and a readout

Each notch has its own plot and readout, switched in the browser by a ``jslink`` (filled for the
web page by ``tools.notches``); a setting already tried comes back from the cache.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from helpers.guard import DivergedError, DivergenceGuard, check_lr, check_steps
from helpers.plotting import figure_png, new_axes, plot_losses

TrainFn = Callable[..., Iterator[float]]

# The optimizers the sliders offer by name (lesson 1 introduces them; lesson 2 imports this).
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam}


@dataclass
class RunResult:
    """The losses of one run (``runs``: each step's losses of the runs behind them, if yielded);
    ``stopped`` is None for a run that finished, else the reason; ``diverged_at`` the step where it
    diverged; ``note`` the line the training function returned."""

    lr: float
    losses: list[float] = field(default_factory=list)
    runs: list[list[float]] = field(default_factory=list)
    diverged_at: int | None = None
    stopped: str | None = None
    note: str = ""

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    def readout(self) -> str:
        """One line for a person: the note first, then how the run ended."""
        path = (f"loss {self.losses[0]:.3g} → {self.losses[-1]:.3g} after {len(self.losses)} steps "
                f"(highest {max(self.losses):.3g})") if self.losses else "no steps completed"
        return f"lr = {self.lr:.3g}: " + "; ".join(part for part in (self.note, self.stopped, path) if part)


def run_training(train: TrainFn, lr: float, steps: int, *, on_progress: Callable[[RunResult], None] | None = None,
                 every: int = 0, **options: Any) -> RunResult:
    """Run ``train(lr, steps, **options)`` to the end, or until it diverges or is interrupted;
    ``on_progress(result)`` is called every ``every`` steps (0: never), for a live plot."""
    lr, steps = check_lr(lr), check_steps(steps)
    result, guard = RunResult(lr), DivergenceGuard(lr)
    losses = train(lr, steps, **options)
    try:
        while True:
            try:
                loss = next(losses)
            except StopIteration as done:
                result.note = done.value if isinstance(done.value, str) else ""
                break
            if len(result.losses) == steps:
                raise ValueError(f"the training function yielded more than the {steps} steps asked for; "
                                 "loop over range(steps) and yield one loss per step")
            loss, runs = loss if isinstance(loss, tuple) else (loss, None)
            result.losses.append(guard.check(loss))
            if runs is not None:
                result.runs.append([float(value) for value in runs])
            if every and len(result.losses) % every == 0 and on_progress is not None:
                on_progress(result)
    except DivergedError as err:
        result.diverged_at, result.stopped = err.step, err.reason
    except KeyboardInterrupt:
        result.stopped = f"interrupted at step {len(result.losses)} (the losses so far are kept)"
    finally:
        losses.close()
    return result


def lr_notches(lr: float, exponents: tuple[float, float], notch: float) -> list[float]:
    """``lr`` and every ``notch`` powers of ten from it within ``10**exponents``, increasing.

    >>> lr_notches(0.1, (-2, 0), 0.5)
    [0.01, 0.03162277660168379, 0.1, 0.31622776601683794, 1.0]
    """
    anchor = math.log10(lr)
    below = math.floor((anchor - exponents[0]) / notch + 1e-9)
    above = math.floor((exponents[1] - anchor) / notch + 1e-9)
    return [lr if k == 0 else 10 ** (anchor + k * notch) for k in range(-below, above + 1)]


class LRExplorer:
    """Learning-rate slider (two notches per power of ten), steps slider, optional drop-downs, live loss plot;
    ``plots`` and ``readouts`` hold one Image and one HTML per notch (``lr_slider.index`` picks one)."""

    def __init__(self, train: TrainFn, *, lr: float = 0.1, lr_exponents: tuple[float, float] = (-4.0, 1.0),
                 steps: int = 200, steps_range: tuple[int, int, int] = (10, 1000, 10),
                 options: Mapping[str, Sequence[Any]] | None = None, title: str = "", live_every: int = 0) -> None:
        import ipywidgets as w

        lr = check_lr(lr)
        if not 10 ** lr_exponents[0] <= lr <= 10 ** lr_exponents[1] or not steps_range[0] <= steps <= steps_range[1]:
            raise ValueError(f"lr={lr:g} and steps={steps} must lie in the sliders' ranges, 10^{lr_exponents[0]:g} "
                             f"to 10^{lr_exponents[1]:g} and {steps_range[0]} to {steps_range[1]}")
        self.train, self.title, self.live_every = train, title, live_every
        self.cache: dict[tuple, RunResult] = {}
        self.previous: RunResult | None = None
        self.result: RunResult | None = None
        self.notches = lr_notches(lr, lr_exponents, 0.5)
        style, layout = {"description_width": "initial"}, w.Layout(width="420px")
        self.lr_slider = w.SelectionSlider(options=[(f"{r:.3g}", r) for r in self.notches], value=lr,
                                           description="learning rate", continuous_update=False, style=style,
                                           layout=layout)
        self.steps_slider = w.IntSlider(value=steps, min=steps_range[0], max=steps_range[1], step=steps_range[2],
                                        description="steps", continuous_update=False, style=style, layout=layout)
        parameters = inspect.signature(train).parameters     # a drop-down starts at train's default
        self.defaults = {name: parameters[name].default if name in parameters and parameters[name].default in values
                         else values[0] for name, values in (options or {}).items()}
        self.dropdowns = {name: w.Dropdown(options=list(values), description=name, style=style,
                                           value=self.defaults[name]) for name, values in (options or {}).items()}
        # one readout and one plot per notch; the browser shows the slider's (a jslink, no kernel needed)
        self.readouts = [w.HTML() for _ in self.notches]
        self.plots = [w.Image(format="png", layout=w.Layout(width="640px")) for _ in self.notches]
        stacks = [w.Stack(children=children, selected_index=self.lr_slider.index)
                  for children in (self.readouts, self.plots)]
        self.links = [w.jslink((self.lr_slider, "index"), (stack, "selected_index")) for stack in stacks]
        self.status = w.HTML()  # progress while tools.notches saves the runs at every notch
        controls = [self.lr_slider, self.steps_slider, *self.dropdowns.values()]
        for control in controls:
            control.observe(lambda _change: self.update(), names="value")
        self.widget = w.VBox([*controls, *stacks, self.status])

    def run(self, lr: float, steps: int, *, live: bool = False, **options: Any) -> RunResult:
        """Train once for this setting, or fetch the cached run; options left out take ``train``'s defaults."""
        lr = check_lr(lr)
        options = {**self.defaults, **options}
        key = (round(math.log10(lr), 6), steps, *sorted(options.items()))
        if key not in self.cache:
            plot = self.plots[self.lr_slider.index]
            result = run_training(self.train, lr, steps, every=self.live_every if live else 0,
                                  on_progress=lambda partial: setattr(plot, "value", self.render(partial)), **options)
            if result.stopped and result.diverged_at is None:
                return result  # interrupted: not cached, the same setting trains again next time
            self.cache[key] = result
        return self.cache[key]

    def update(self) -> RunResult:
        """Train for the current slider values and redraw this notch's plot and readout."""
        readout, plot = self.readouts[self.lr_slider.index], self.plots[self.lr_slider.index]
        readout.value = "<i>training…</i>"
        try:
            result = self.run(self.lr_slider.value, self.steps_slider.value, live=True,
                              **{name: d.value for name, d in self.dropdowns.items()})
        except BaseException as err:
            readout.value = f"<b>stopped by an error: {type(err).__name__}: {err}</b>"
            raise
        if self.result is not None and self.result is not result:
            self.previous = self.result
        self.result = result
        plot.value = self.render(result, self.previous)
        readout.value = f"<b>{result.readout()}</b>"
        return result

    def show(self) -> RunResult:
        """Display the widget and run the current setting once (also works under nbval)."""
        from IPython.display import display

        display(self.widget)
        return self.update()

    def render(self, result: RunResult, reference: RunResult | None = None, label: str = "previous") -> bytes:
        """The loss curve of ``result`` (and of ``reference`` in grey) as PNG bytes."""
        fig, ax = new_axes()
        grey = f"{label}: lr = {reference.lr:.3g}" if reference is not None else ""
        curves = {grey: reference.losses} if reference not in (None, result) and reference.losses else {}
        if result.losses:
            curves[f"lr = {result.lr:.3g}"] = result.losses
        positive = bool(curves) and all(v > 0 for c in curves.values() for v in c)
        plot_losses(curves, ax=ax, title=self.title, log=positive)
        for line in ax.lines:
            line.set(color="0.7", linewidth=1) if line.get_label() == grey else line.set(color="C0", linewidth=1.8)
        if result.runs:   # the runs behind the curve, thin (lesson 1: the 8 starts behind their median)
            ax.plot(result.runs, color="C0", linewidth=0.5, alpha=0.35)
        if result.diverged_at is not None:
            ax.axvline(result.diverged_at, color="C3", linestyle="--", label="stopped: diverged")
        if ax.lines:
            ax.legend(loc="upper right")
        return figure_png(fig, dpi=64)
