"""Truncated backpropagation through time: lesson 6 writes the loop out, lesson 7's main run again
inline; ``train_tbptt`` is that loop for the short runs that compare settings (ablation, races)::

    from helpers.tbptt import evaluate, tbptt_step, train_tbptt

    history = train_tbptt(model, batches, opt, lr=3e-3, steps=2000, val_data=val)
    history.val[-1]               # the last validation: (step, loss)
    evaluate(model, val)          # nats per character on a held-out tensor of ids, the state carried
    evaluate_windows(model, val)  # nanoGPT's protocol: random windows of 256, each from a zero state
    loss, state, grad_norm = tbptt_step(model, opt, x, y, state)   # one window, by hand
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from helpers.guard import DivergedError, DivergenceGuard, check_clip, check_lr, check_steps
from helpers.models import State, detach_state, evaluating
from helpers.text import StreamBatches, cut_streams


@dataclass
class History:
    """What a run recorded: every step's loss, each validation as ``(step, loss)``, its time."""

    losses: list[float] = field(default_factory=list)
    val: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0
    chars: int = 0

    @property
    def final_val(self) -> float:
        """The last validation loss (NaN if there was none)."""
        return self.val[-1][1] if self.val else math.nan


def tbptt_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               state: State | None, *, clip: float | None = 1.0) -> tuple[float, State, float]:
    """One step on a window: forward from the carried ``state``, the loss against ``y``, backward, clip,
    update. Returns the loss, the new state and the gradient's norm before clipping."""
    logits, state = model(x, detach_state(state))   # detach: the gradient stops at the window's edge
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    grad_norm = nn.utils.clip_grad_norm_(model.parameters(), clip or math.inf)
    optimizer.step()
    return loss.item(), state, grad_norm.item()


def train_tbptt(model: nn.Module, batches: StreamBatches, optimizer: torch.optim.Optimizer, *, lr: float,
                steps: int, clip: float | None = 1.0, decay: bool = True, val_data: torch.Tensor | None = None,
                evals: int = 10, on_step=None) -> History:
    """Train for ``steps`` windows at ``lr`` (with warm-up and linear decay unless ``decay=False``),
    validating ``evals`` times, evenly spread, on ``val_data``. ``on_step(history, done)`` runs
    after every step (a live plot). A stop returns the history so far; a DivergedError (NaN or a
    blow-up) puts back the last validation's weights; any error carries ``err.partial_history``."""
    lr, clip, steps, evals = check_lr(lr), check_clip(clip), check_steps(steps), check_steps(evals, "evals")
    if {id(p) for g in optimizer.param_groups for p in g["params"]} != {id(p) for p in model.parameters()}:
        raise ValueError("the optimizer was built over other parameters than this model's; build it with "
                         "torch.optim.Adam(model.parameters())")
    device, guard, history, state = next(model.parameters()).device, DivergenceGuard(lr), History(), None
    last_good, started = copy.deepcopy((model.state_dict(), optimizer.state_dict())), time.perf_counter()
    try:
        for step in range(steps):
            for group in optimizer.param_groups:
                group["lr"] = lr * schedule(step / steps) if decay else lr
            x, y = batches.next()
            loss, state, _ = tbptt_step(model, optimizer, x.to(device), y.to(device),
                                        None if batches.reset else state, clip=clip)
            history.losses.append(guard.check(loss))
            history.chars += x.numel()
            if (step + 1) * evals // steps > step * evals // steps:    # evals times, the last at the end
                last_good = copy.deepcopy((model.state_dict(), optimizer.state_dict()))
                if val_data is not None:
                    history.val.append((step + 1, evaluate(model, val_data)))
            if on_step is not None:
                on_step(history, (step + 1) / steps)
    except KeyboardInterrupt:
        print(f"Interrupted after {len(history.losses)} steps: the model keeps its weights, the history its losses.")
    except Exception as err:
        if isinstance(err, DivergedError):
            model.load_state_dict(last_good[0])
            optimizer.load_state_dict(last_good[1])
        err.partial_history = history
        raise
    finally:
        history.seconds = time.perf_counter() - started
    return history


def evaluate(model: nn.Module, data: torch.Tensor, batch: int = 32, window: int = 256) -> float:
    """Average cross-entropy (nats per character) of ``model`` on ``data``, read as ``batch``
    contiguous streams with the hidden state carried across windows."""
    if len(data) < 2 * batch:
        raise ValueError(f"{len(data)} characters are too few to evaluate in {batch} streams; give at least "
                         f"{2 * batch}, or a smaller batch=")
    with evaluating(model):
        streams = cut_streams(data, batch).to(next(model.parameters()).device)
        state, total = None, 0.0
        for start in range(0, streams.shape[1] - 1, window):      # every character but the last is an input
            x = streams[:, start:start + window][:, :streams.shape[1] - 1 - start]
            y = streams[:, start + 1:start + 1 + x.shape[1]]
            logits, state = model(x, state)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
    return total / (batch * (streams.shape[1] - 1))


def evaluate_windows(model: nn.Module, data: torch.Tensor, window: int = 256, windows: int = 4096,
                     seed: int = 0) -> float:
    """nanoGPT's protocol: the mean cross-entropy over ``windows`` random windows of ``window``
    characters of ``data``, each read from a zero state, every position counted (``seed`` fixes them)."""
    starts = torch.randint(0, len(data) - window, (windows,), generator=torch.Generator().manual_seed(seed))
    device, total = next(model.parameters()).device, 0.0
    with evaluating(model):
        for chunk in starts.split(64):                   # 64 windows per call, as nanoGPT's batches
            text = data[chunk[:, None] + torch.arange(window + 1)].to(device)
            logits, _ = model(text[:, :-1])
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), text[:, 1:].reshape(-1),
                                     reduction="sum").item()
    return total / (windows * window)


def schedule(progress: float, warmup: float = 0.02) -> float:
    """Learning-rate multiplier at ``progress`` (0 to 1): a linear warm-up over the first ``warmup``, then down to 0.

    >>> schedule(0.0), schedule(0.51), schedule(1.0)
    (0.05, 0.5, 0.0)
    """
    if progress < warmup:
        return (progress + 1e-3) / warmup
    return max(0.0, (1 - progress) / (1 - warmup))
