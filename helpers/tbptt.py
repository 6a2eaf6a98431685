"""Train a character model with truncated backpropagation through time (lessons 6 and 7).

The loop is the one written out in lessons 3 and 6: take the next window of every stream,
run the model from the carried hidden state, detach that state, step the optimizer.
On top: a learning-rate schedule (warm-up, then linear decay to zero), gradient clipping,
the divergence guard, a validation pass every so often, and a progress bar::

    >>> from helpers.tbptt import evaluate, train_tbptt
    >>> history = train_tbptt(model, batches, opt, steps=2000, lr=3e-3, val_data=val)
    >>> history.val[-1]          # (step, seconds, validation loss)
    >>> evaluate(model, val)     # nats per character on a held-out tensor of ids

Give ``seconds`` instead of ``steps`` to train for a fixed wall-clock time: the schedule then
runs on elapsed time rather than on the step count.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from helpers.budget import quick_mode
from helpers.models import detach_state
from helpers.text import StreamBatches
from helpers.training import DivergenceGuard, check_lr


@dataclass
class History:
    """What a training run recorded: the loss of every step and each validation."""

    losses: list[float] = field(default_factory=list)
    val: list[tuple[int, float, float]] = field(default_factory=list)
    seconds: float = 0.0
    chars: int = 0

    @property
    def chars_per_second(self) -> float:
        return self.chars / self.seconds if self.seconds else math.nan


@torch.no_grad()
def evaluate(model: nn.Module, data: torch.Tensor, batch: int = 32, window: int = 256) -> float:
    """Average cross-entropy (nats per character) of ``model`` on ``data``, read as
    ``batch`` contiguous streams with the hidden state carried across windows."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    length = len(data) // batch
    streams = data[: length * batch].view(batch, length).to(device)
    state, total, count = None, 0.0, 0
    for start in range(0, length - 1, window):
        x = streams[:, start:min(start + window, length - 1)]
        y = streams[:, start + 1:start + 1 + x.shape[1]]
        logits, state = model(x, state)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
        count += y.numel()
    model.train(was_training)
    return total / count


def schedule(progress: float, warmup: float = 0.02) -> float:
    """Learning-rate multiplier at ``progress`` (0 to 1) of training: a linear warm-up over
    the first ``warmup`` fraction, then a straight line down to zero."""
    if progress < warmup:
        return (progress + 1e-3) / warmup
    return max(0.0, (1 - progress) / (1 - warmup))


def train_tbptt(
    model: nn.Module,
    batches: StreamBatches,
    optimizer: torch.optim.Optimizer,
    *,
    lr: float,
    steps: int | None = None,
    seconds: float | None = None,
    clip: float = 1.0,
    decay: bool = True,
    val_data: torch.Tensor | None = None,
    evals: int = 10,
    on_eval: Callable[[int, float, float], None] | None = None,
    progress: bool | None = None,
) -> History:
    """Train for ``steps`` windows or ``seconds`` of wall-clock time (exactly one of them).

    ``decay=False`` keeps the learning rate constant (no warm-up, no decay).
    Validates ``evals`` times, evenly spread, when ``val_data`` is given, and calls
    ``on_eval(step, seconds, val_loss)`` each time. Raises ``DivergedError`` if the loss
    becomes NaN or blows up. ``progress`` defaults to a bar in full mode, none in quick mode.
    """
    lr = check_lr(lr)
    if (steps is None) == (seconds is None):
        raise ValueError("give exactly one of steps= or seconds=")
    if steps is not None and steps < 1 or seconds is not None and seconds <= 0:
        raise ValueError("steps and seconds must be positive")
    device = next(model.parameters()).device
    guard = DivergenceGuard(lr)
    history = History()
    bar = _progress_bar(steps, seconds, progress)
    state, step, start = None, 0, time.perf_counter()
    next_eval = 1 / evals

    def fraction_done() -> float:
        return step / steps if steps is not None else (time.perf_counter() - start) / seconds

    model.train()
    while True:
        done = fraction_done()
        if done >= 1:
            break
        for group in optimizer.param_groups:
            group["lr"] = lr * schedule(done) if decay else lr
        x, y = batches.next()
        if batches.new_epoch:
            state = None
        logits, state = model(x.to(device), detach_state(state))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.to(device).reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        history.losses.append(guard.check(loss.item()))
        history.chars += x.numel()
        step += 1
        bar.update(1 if steps is not None else time.perf_counter() - start - bar.n)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
        if val_data is not None and fraction_done() >= next_eval - 1e-9:
            history.seconds = time.perf_counter() - start
            val = evaluate(model, val_data)
            history.val.append((step, history.seconds, val))
            if on_eval is not None:
                on_eval(step, history.seconds, val)
            next_eval += 1 / evals
            start = time.perf_counter() - history.seconds   # evaluation time is not training time
    history.seconds = time.perf_counter() - start
    bar.close()
    return history


def _progress_bar(steps: int | None, seconds: float | None, progress: bool | None):
    from tqdm.auto import tqdm

    if progress is None:          # default: a bar in full mode, unless TQDM_DISABLE is set
        progress = not quick_mode() and not os.environ.get("TQDM_DISABLE")
    if steps is not None:
        return tqdm(total=steps, disable=not progress, unit="step")
    return tqdm(total=round(seconds), disable=not progress, unit="s",
                bar_format="{l_bar}{bar}| {n:.0f}/{total} s")
