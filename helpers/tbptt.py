"""Train a character model with truncated backpropagation through time (lessons 6 and 7).

Lesson 6 writes the loop out; this is the same loop with the pieces a long run needs: a
learning-rate schedule (warm-up, then a straight line down to zero), gradient clipping, the
divergence guard, a validation every so often, and a progress bar::

    from helpers.tbptt import evaluate, tbptt_step, train_tbptt

    history = train_tbptt(model, batches, opt, lr=3e-3, steps=2000, val_data=val)
    history.val[-1].loss          # the last validation: .step, .seconds, .loss
    evaluate(model, val)          # nats per character on a held-out tensor of ids

    loss, state, grad_norm = tbptt_step(model, opt, x, y, state)   # one window, by hand

Give ``seconds=`` instead of ``steps=`` to train for a fixed wall-clock time (validation time
is not counted): the schedule then runs on elapsed time. Nothing is lost when a run stops
early: after an interrupt (the stop button) ``train_tbptt`` returns the history so far and the
model keeps its weights; after a divergence the model and optimizer are put back as they were
at the last validation, and the error carries the history (``err.partial_history``).
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from helpers.budget import quick_mode
from helpers.models import State, detach_state
from helpers.text import StreamBatches, cut_streams
from helpers.training import DivergedError, DivergenceGuard, check_clip, check_lr, check_steps


@dataclass(frozen=True)
class Validation:
    """One validation during training: after ``step`` steps and ``seconds`` of training."""

    step: int
    seconds: float
    loss: float


@dataclass
class History:
    """What a training run recorded: the loss of every step and each validation."""

    losses: list[float] = field(default_factory=list)
    val: list[Validation] = field(default_factory=list)
    seconds: float = 0.0
    chars: int = 0
    interrupted: bool = False

    @property
    def chars_per_second(self) -> float:
        return self.chars / self.seconds if self.seconds else math.nan

    @property
    def final_val(self) -> float:
        """The last validation loss (NaN if there was none)."""
        return self.val[-1].loss if self.val else math.nan


class StepResult(NamedTuple):
    loss: float
    state: State
    grad_norm: float


def tbptt_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               state: State | None, *, clip: float | None = 1.0) -> StepResult:
    """One step of truncated BPTT on a window: run the model on ``x`` from the carried
    ``state``, backpropagate the loss against ``y``, clip the gradient, update the weights.

    Returns the loss, the new state (to carry into the next window) and the gradient's norm
    before clipping.
    """
    logits, state = model(x, detach_state(state))   # detach: the gradient stops at the window's edge
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    grad_norm = nn.utils.clip_grad_norm_(model.parameters(), clip or math.inf)
    optimizer.step()
    return StepResult(loss.item(), state, grad_norm.item())


class TrainingBudget:
    """How long to train: ``steps`` steps or ``seconds`` of wall-clock time (exactly one).

    ``fraction(step)`` says how much of the budget is used (0 to 1); time spent inside
    ``with budget.paused():`` (validation, say) does not count.
    """

    def __init__(self, *, steps: int | None = None, seconds: float | None = None) -> None:
        if (steps is None) == (seconds is None):
            raise ValueError("give exactly one of steps= or seconds=")
        if steps is not None:
            steps = check_steps(steps)
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                    or not math.isfinite(seconds) or seconds <= 0):
            raise ValueError(f"seconds must be a positive number, got {seconds!r}")
        self.steps, self.seconds = steps, seconds
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def fraction(self, step: int) -> float:
        return step / self.steps if self.steps is not None else self.elapsed() / self.seconds

    @contextmanager
    def paused(self) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.start += time.perf_counter() - began


def train_tbptt(
    model: nn.Module,
    batches: StreamBatches,
    optimizer: torch.optim.Optimizer,
    *,
    lr: float,
    steps: int | None = None,
    seconds: float | None = None,
    clip: float | None = 1.0,
    decay: bool = True,
    carry: bool = True,
    val_data: torch.Tensor | None = None,
    evals: int = 10,
    on_eval: Callable[[Validation], None] | None = None,
    before_step: Callable[[int], None] | None = None,
    on_step: Callable[[History, float], None] | None = None,
    progress: bool | None = None,
) -> History:
    """Train for ``steps`` windows or ``seconds`` of training time (exactly one of them).

    ``decay=False`` keeps the learning rate constant; ``clip=None`` (or 0) turns clipping off;
    ``carry=False`` starts every window from a zero state instead of the carried one.
    Validates ``evals`` times, evenly spread, when ``val_data`` is given, and calls
    ``on_eval(validation)`` each time; ``before_step(step)`` is called before every step
    (0, 1, ...), for example to take a sample of the model as it is; ``on_step(history, done)``
    after every step, with the share of the budget done (a live plot: ``helpers.live``; its
    time does not count as training time). Raises ``DivergedError`` if the loss becomes NaN or
    blows up. ``progress`` defaults to a bar in full mode, none in quick mode.
    """
    lr, clip = check_lr(lr), check_clip(clip)
    budget = TrainingBudget(steps=steps, seconds=seconds)
    evals = check_steps(evals, "evals")
    device = next(model.parameters()).device
    guard, history = DivergenceGuard(lr), History()
    state, step, next_eval = None, 0, 1 / evals
    last_good = _snapshot(model, optimizer, step)
    bar = _progress_bar(progress)
    model.train()
    try:
        while (done := budget.fraction(step)) < 1:
            if before_step is not None:
                before_step(step)
            for group in optimizer.param_groups:
                group["lr"] = lr * schedule(done) if decay else lr
            x, y = batches.next()
            if batches.new_epoch or not carry:   # back at the start of the text: nothing to carry
                state = None
            loss, state, _ = tbptt_step(model, optimizer, x.to(device), y.to(device), state, clip=clip)
            history.losses.append(guard.check(loss))
            history.chars += x.numel()
            step += 1
            bar.update(min(100, round(100 * budget.fraction(step))) - bar.n)
            if on_step is not None:
                with budget.paused():
                    on_step(history, min(1.0, budget.fraction(step)))
            if budget.fraction(step) >= next_eval - 1e-9:
                next_eval += 1 / evals
                with budget.paused():         # validation time is not training time
                    bar.set_postfix(step=step, loss=f"{loss:.3f}")
                    if all(p.isfinite().all() for p in model.parameters()):
                        last_good = _snapshot(model, optimizer, step)
                    if val_data is not None:
                        history.val.append(Validation(step, budget.elapsed(), evaluate(model, val_data)))
                        if on_eval is not None:
                            on_eval(history.val[-1])
    except DivergedError as err:
        _restore(model, optimizer, last_good)
        err.partial_history = history
        err.args = (f"{err}. The model and the optimizer were put back as they were at step "
                    f"{last_good[0]}; err.partial_history holds the {len(history.losses)} losses and "
                    f"{len(history.val)} validations so far",)
        raise
    except KeyboardInterrupt:
        history.interrupted = True
        print(f"Interrupted at step {step}: the model keeps its weights from that step, and the "
              f"history holds its {len(history.losses)} losses and {len(history.val)} validations.")
    finally:
        history.seconds = budget.elapsed()
        bar.close()
    return history


@torch.no_grad()
def evaluate(model: nn.Module, data: torch.Tensor, batch: int = 32, window: int = 256) -> float:
    """Average cross-entropy (nats per character) of ``model`` on ``data``, read as
    ``batch`` contiguous streams with the hidden state carried across windows."""
    was_training = model.training
    model.eval()
    try:
        streams = cut_streams(data, batch).to(next(model.parameters()).device)
        length = streams.shape[1]
        state, total, count = None, 0.0, 0
        for start in range(0, length - 1, window):      # every character but the last is an input
            x = streams[:, start:min(start + window, length - 1)]
            y = streams[:, start + 1:start + 1 + x.shape[1]]
            logits, state = model(x, state)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
            count += y.numel()
    finally:
        model.train(was_training)
    return total / count


def schedule(progress: float, warmup: float = 0.02) -> float:
    """Learning-rate multiplier at ``progress`` (0 to 1) of training: a linear warm-up over
    the first ``warmup`` fraction, then a straight line down to zero."""
    if progress < warmup:
        return (progress + 1e-3) / warmup
    return max(0.0, (1 - progress) / (1 - warmup))


def _snapshot(model: nn.Module, optimizer: torch.optim.Optimizer, step: int) -> tuple[int, dict, dict]:
    return step, copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict())


def _restore(model: nn.Module, optimizer: torch.optim.Optimizer, snapshot: tuple[int, dict, dict]) -> None:
    _, weights, optimizer_state = snapshot
    model.load_state_dict(weights)
    optimizer.load_state_dict(optimizer_state)


def _progress_bar(progress: bool | None):
    from tqdm.auto import tqdm

    if progress is None:          # default: a bar in full mode, unless TQDM_DISABLE is set
        progress = not quick_mode() and not os.environ.get("TQDM_DISABLE")
    return tqdm(total=100, disable=not progress, unit="%", bar_format="{l_bar}{bar}| {n}% {postfix}")
