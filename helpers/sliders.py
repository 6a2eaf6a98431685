"""A learning-rate slider that re-trains a model and redraws its loss curve.

A lesson writes its training loop as a generator that yields one loss per step and always
starts from the same initial weights::

    def train(lr: float, steps: int, optimizer: str = "SGD"):
        model = copy.deepcopy(initial_model)
        opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr)
        for step in range(steps):
            loss = ...
            ...
            yield loss.item()
        return "an optional note for the readout"     # e.g. "7 of 8 starts reached 0.1"

    from helpers.sliders import LRExplorer
    explorer = LRExplorer(train, lr=0.1, steps=200, options={"optimizer": ["SGD", "Adam"]})
    explorer.show()          # sliders, a live loss plot and a readout

Moving a slider re-trains (on release, not while dragging); results are cached per
setting, so moving back is instant. The readout says how the run ended, in significant
digits: the loss it reached, or why it stopped (a loss that became NaN or infinite, the
message of a :class:`~helpers.training.DivergedError` raised by the lesson's guard, an
interrupt, an error). The learning-rate notches are a fixed fraction of a power of ten
counted from the starting rate, so the starting rate, 10x more and 10x less are all on the
slider. A rate outside the slider's range is a ValueError, never silently capped. Extra
choices become drop-downs: ``options={"optimizer": ["SGD", "Adam"]}`` calls
``train(lr, steps, optimizer=...)``; a drop-down starts at the default of ``train``'s
keyword when that is among the choices.

Each notch of the learning-rate slider has a plot and a readout of its own, in two
``Stack`` widgets whose ``selected_index`` follows the slider's ``index`` through a
``jslink``: the link lives in the browser, so it works on a static web page too. In full
mode :meth:`LRExplorer.show` also trains once at every notch (the starting steps and
drop-downs) and saves each plot, with the starting rate's curve in grey, into the widget
state; a page made from the notebook then switches between the saved runs without a
kernel. In a running notebook the slider re-trains live as before and writes into the
current notch's plot and readout. Quick mode (the tests) precomputes nothing.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from helpers.budget import quick_mode
from helpers.plotting import figure_png, new_axes, plot_losses
from helpers.training import DivergedError, check_lr, check_steps

TrainFn = Callable[..., Iterator[float]]

# The optimizers the sliders offer by name (lesson 1 introduces them; lesson 2 imports this).
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam}


@dataclass
class RunResult:
    """The losses of one training run and how it ended.

    ``stopped`` is None for a run that finished, else a one-line reason (why the loss was
    judged to diverge, an interrupt, an error); ``diverged_at`` is the step where the guard
    stopped it. ``note`` is the line the training function returned, if any.
    """

    lr: float
    losses: list[float] = field(default_factory=list)
    diverged_at: int | None = None
    stopped: str | None = None
    note: str = ""

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def interrupted(self) -> bool:
        return self.stopped is not None and not self.diverged

    @property
    def final(self) -> float:
        return self.losses[-1] if self.losses else math.nan

    def readout(self) -> str:
        """One line for a person: how the run ended, losses in significant digits."""
        head = f"lr = {self.lr:.3g}: "
        if self.losses:
            path = (f"loss {self.losses[0]:.3g} → {self.final:.3g} after {len(self.losses)} steps "
                    f"(highest {max(self.losses):.3g})")
        else:
            path = "no steps completed"
        if self.stopped is not None:
            text = f"{head}{self.stopped}; {path}"
        else:
            text = head + path
        return f"{text}; {self.note}" if self.note else text


def _divergence_reason(err: DivergedError) -> str:
    """The guard's own words, without its advice: 'diverged at step 3: the loss became 7.8, ...'."""
    return f"{err.reason} ({err.cause})" if err.cause else err.reason


def run_training(
    train: TrainFn,
    lr: float,
    steps: int,
    *,
    on_progress: Callable[[RunResult], None] | None = None,
    every: int = 0,
    **options: Any,
) -> RunResult:
    """Run ``train(lr, steps, **options)`` to the end, or until it stops; return a RunResult.

    A loss that is not finite, or a DivergedError from the loop, ends the run as diverged.
    An interrupt (the notebook's stop button, Ctrl-C) ends it too: the result keeps the losses
    so far and says it was interrupted. ``on_progress(result)`` is called every ``every``
    steps (0: never) for live plots. Raises ValueError for a learning rate that is not
    positive and finite, or steps < 1.
    """
    lr, steps = check_lr(lr), check_steps(steps)
    result = RunResult(lr)
    losses = train(lr, steps, **options)
    try:
        while True:
            try:
                loss = float(next(losses))
            except StopIteration as done:
                if isinstance(done.value, str):
                    result.note = done.value
                break
            if not math.isfinite(loss):
                result.diverged_at = len(result.losses)
                result.stopped = f"diverged at step {result.diverged_at}: the loss became {loss}"
                break
            result.losses.append(loss)
            if on_progress is not None and every and len(result.losses) % every == 0:
                on_progress(result)
    except DivergedError as err:
        result.diverged_at = err.step
        result.stopped = _divergence_reason(err)
    except KeyboardInterrupt:
        result.stopped = f"interrupted at step {len(result.losses)} (the losses so far are kept)"
    finally:
        close = getattr(losses, "close", None)
        if close is not None:
            close()
    return result


def lr_notches(lr: float, exponents: tuple[float, float], notch: float) -> list[float]:
    """The learning rates on the slider: ``lr`` itself and every ``notch`` (in powers of ten)
    from it, within ``10**exponents[0]`` to ``10**exponents[1]``, in increasing order.

    >>> lr_notches(0.1, (-2, 0), 0.5)
    [0.01, 0.03162277660168379, 0.1, 0.31622776601683794, 1.0]
    """
    anchor = math.log10(lr)
    below = math.floor((anchor - exponents[0]) / notch + 1e-9)
    above = math.floor((exponents[1] - anchor) / notch + 1e-9)
    return [lr if k == 0 else 10 ** (anchor + k * notch) for k in range(-below, above + 1)]


def _labels(rates: Sequence[float]) -> list[str]:
    """Short labels ("0.1", "0.178", "3.16"), with more digits only if two would read the same."""
    for digits in (3, 4, 6, 9):
        labels = [f"{rate:.{digits}g}" for rate in rates]
        if len(set(labels)) == len(labels):
            return labels
    return [repr(rate) for rate in rates]


class LRExplorer:
    """Learning-rate slider (log-scale notches), steps slider, optional drop-downs, live loss plot.

    ``plots`` and ``readouts`` hold one Image and one HTML per notch; ``plot`` and ``readout``
    are those of the notch the slider is at.
    """

    def __init__(
        self,
        train: TrainFn,
        *,
        lr: float = 0.1,
        lr_exponents: tuple[float, float] = (-4.0, 1.0),
        notch: float = 0.25,
        steps: int = 200,
        steps_range: tuple[int, int, int] = (10, 1000, 10),
        options: Mapping[str, Sequence[Any]] | None = None,
        title: str = "",
        ylim: tuple[float, float] | None = None,
        live_every: int = 0,
    ) -> None:
        import ipywidgets as w

        lr = check_lr(lr)
        low, high = lr_exponents
        if not 10 ** low <= lr <= 10 ** high:
            raise ValueError(f"the starting learning rate {lr:g} is outside the slider's range "
                             f"10^{low:g} to 10^{high:g}")
        if not steps_range[0] <= steps <= steps_range[1]:
            raise ValueError(f"steps={steps} is outside the slider's range {steps_range[:2]}")
        self.train = train
        self.title = title
        self.ylim = ylim
        self.live_every = live_every
        self.cache: dict[tuple, RunResult] = {}
        self.previous: RunResult | None = None
        self.result: RunResult | None = None
        self.notches: list[float] = lr_notches(lr, lr_exponents, notch)
        slider_style = {"description_width": "initial"}
        layout = w.Layout(width="420px")
        self.lr_slider = w.SelectionSlider(
            options=list(zip(_labels(self.notches), self.notches, strict=True)), value=lr,
            description="learning rate", continuous_update=False, style=slider_style, layout=layout,
        )
        self.steps_slider = w.IntSlider(
            value=steps, min=steps_range[0], max=steps_range[1], step=steps_range[2],
            description="steps", continuous_update=False, style=slider_style, layout=layout,
        )
        defaults = _keyword_defaults(train)
        self.dropdowns = {
            name: w.Dropdown(options=list(values), description=name, style=slider_style,
                             value=defaults[name] if defaults.get(name) in list(values) else values[0])
            for name, values in (options or {}).items()
        }
        # one readout and one plot per notch; the browser shows the slider's (a jslink, no kernel needed)
        self.readouts = [w.HTML() for _ in self.notches]
        self.plots = [w.Image(format="png", layout=w.Layout(width="640px")) for _ in self.notches]
        index = self.lr_slider.index
        self.readout_stack = w.Stack(children=self.readouts, selected_index=index)
        self.plot_stack = w.Stack(children=self.plots, selected_index=index)
        self.links = [w.jslink((self.lr_slider, "index"), (stack, "selected_index"))
                      for stack in (self.readout_stack, self.plot_stack)]
        self.status = w.HTML()  # progress while show() saves the runs at every notch
        self._live_plot = self.plot
        controls = [self.lr_slider, self.steps_slider, *self.dropdowns.values()]
        for control in controls:
            control.observe(lambda _change: self.update(), names="value")
        self.widget = w.VBox([*controls, self.readout_stack, self.plot_stack, self.status])

    @property
    def lr_range(self) -> tuple[float, float]:
        return self.notches[0], self.notches[-1]

    @property
    def readout(self):
        """The readout (an HTML widget) of the notch the slider is at."""
        return self.readouts[self.lr_slider.index]

    @property
    def plot(self):
        """The plot (an Image widget) of the notch the slider is at."""
        return self.plots[self.lr_slider.index]

    def choices(self) -> dict[str, Any]:
        return {name: d.value for name, d in self.dropdowns.items()}

    def run(self, lr: float, steps: int, **options: Any) -> RunResult:
        """Train once (or fetch the cached result) for this setting."""
        return self._run(lr, steps, options, live=True)

    def _run(self, lr: float, steps: int, options: Mapping[str, Any], live: bool) -> RunResult:
        lr = check_lr(lr)
        low, high = self.lr_range
        if not low * (1 - 1e-9) <= lr <= high * (1 + 1e-9):
            raise ValueError(f"learning rate {lr:g} is outside the slider's range {low:.3g} to {high:.3g}")
        key = (round(math.log10(lr), 6), steps, *sorted(options.items()))
        if key not in self.cache:
            result = run_training(self.train, lr, steps, on_progress=self._draw_live if live else None,
                                  every=self.live_every if live else 0, **options)
            if result.interrupted:
                return result  # not cached: the same setting trains again next time
            self.cache[key] = result
        return self.cache[key]

    def update(self) -> RunResult:
        """Train for the current slider values and redraw; returns the run's result."""
        readout = self.readout
        self._live_plot = self.plot
        readout.value = "<i>training…</i>"
        try:
            result = self.run(self.lr_slider.value, self.steps_slider.value, **self.choices())
        except BaseException as err:
            readout.value = f"<b>stopped by an error: {type(err).__name__}: {err}</b>"
            raise
        if self.result is not None and self.result is not result:
            self.previous = self.result
        self.result = result
        self._live_plot.value = self._render(result, self.previous)
        readout.value = f"<b>{result.readout()}</b>"
        return result

    def show(self, precompute: bool | None = None) -> RunResult:
        """Display the widget and run the current setting once (also works under nbval).

        ``precompute`` (default: in full mode, not in quick mode) then trains at every other
        notch too and saves the plots and readouts, so a web page made from the notebook has them.
        """
        from IPython.display import display

        display(self.widget)
        result = self.update()
        if (not quick_mode()) if precompute is None else precompute:
            self.precompute()
        return result

    def precompute(self) -> int:
        """Train at every notch with the current steps and drop-downs, and put each run's plot
        (the current rate's curve in grey beside it) and readout at its notch.

        Returns how many notches hold a run. The slider's own notch keeps what it shows; an
        interrupt stops here, leaving the remaining notches empty. It trains on one CPU thread:
        the slider lessons' models are too small to gain from more, and on a busy machine
        torch's threads mostly wait for each other (lesson 1's run took 40x longer on two threads).
        """
        here = self.lr_slider.index
        reference = self.result
        steps, options = self.steps_slider.value, self.choices()
        done = 0
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for index, lr in enumerate(self.notches):
                if index == here:
                    done += 1
                    continue
                self.status.value = (f"<i>saving the run at every learning rate for the web page: {lr:.3g} "
                                     f"({index + 1} of {len(self.notches)})…</i>")
                result = self._run(lr, steps, options, live=False)
                if result.interrupted:
                    break
                self.plots[index].value = self._render(result, reference, label="starting rate")
                self.readouts[index].value = f"<b>{result.readout()}</b>"
                done += 1
        finally:
            torch.set_num_threads(threads)
            self.status.value = ""
        return done

    def _draw_live(self, partial: RunResult) -> None:
        self._live_plot.value = self._render(partial)

    def _render(self, result: RunResult, reference: RunResult | None = None, label: str = "previous") -> bytes:
        """The loss curve of ``result`` (and of ``reference`` in grey) as PNG bytes."""
        fig, ax = new_axes()
        curves = {}
        grey = f"{label}: lr = {reference.lr:.3g}" if reference is not None else ""
        if reference is not None and reference is not result and reference.losses:
            curves[grey] = reference.losses
        if result.losses:
            curves[f"lr = {result.lr:.3g}"] = result.losses
        positive = all(v > 0 for c in curves.values() for v in c)
        plot_losses(curves, ax=ax, title=self.title, log=bool(curves) and positive)
        for line in ax.lines:
            line.set(color="0.7", linewidth=1) if line.get_label() == grey else line.set(color="C0", linewidth=1.8)
        if result.diverged:
            ax.axvline(result.diverged_at, color="C3", linestyle="--", label="stopped: diverged")
        if self.ylim:
            ax.set_ylim(*self.ylim)
        if ax.lines:
            ax.legend(loc="upper right")
        return figure_png(fig)


def _keyword_defaults(train: TrainFn) -> dict[str, Any]:
    try:
        parameters = inspect.signature(train).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}
