"""Lesson 7's best recipe on tiny Shakespeare: quality per minute of CPU training.

    python -m benchmarks.shakespeare                  # 1, 3, 5 and 10 minutes (about 20 min)
    python -m benchmarks.shakespeare --budgets 60 180 # chosen budgets, in seconds
    python -m benchmarks.shakespeare --quick          # one 30-second run

Each budget is its own run, from the same initial weights, with the learning-rate schedule
spread over that budget (what you get if you train for exactly that long). Training time
excludes the final validation. The split is lesson 7's (and nanoGPT's): the first 90% of the
text to train on, the last 10% to validate, whose loss is reported in nats and bits per
character. The naive baseline feeds one character at a time with batch size 1 (lesson 7's
GRU), a backward pass and an optimizer step per character.

The recipes tried, their figures and why each was kept or dropped: ``benchmarks/shakespeare_log.md``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F

from helpers.lesson import seed_everything, start_lesson
from helpers.models import CharModel, detach_state
from helpers.tbptt import evaluate, evaluate_windows, train_tbptt
from helpers.text import StreamBatches, Vocab, load_shakespeare

# The recipe (see the performance log for how it was chosen).
RECIPE = {"cell": "lstm", "hidden": 384, "embed": 64, "dropout": 0.2, "lr": 4e-3,
          "batch": 64, "window": 64, "clip": 1.0}
BUDGETS = (60, 180, 300, 600)
LN2 = math.log(2)


def data() -> tuple[Vocab, torch.Tensor, torch.Tensor]:
    shakespeare = load_shakespeare()
    return shakespeare.vocab, shakespeare.train, shakespeare.val


def model(vocab: Vocab, recipe: dict = RECIPE) -> CharModel:
    seed_everything(0)
    return CharModel(len(vocab), embed=recipe["embed"], hidden=recipe["hidden"], cell=recipe["cell"],
                     dropout=recipe["dropout"])


def steps_per_second(recipe: dict = RECIPE, steps: int = 20) -> float:
    """This machine's training speed for the recipe, from a short warm-up run (its weights are thrown away)."""
    vocab, train, _ = data()
    net = model(vocab, recipe)
    batches = StreamBatches(train, recipe["batch"], recipe["window"])
    history = train_tbptt(net, batches, torch.optim.Adam(net.parameters()), lr=recipe["lr"], steps=steps)
    return steps / history.seconds


def budget_run(seconds: float, recipe: dict = RECIPE) -> dict:
    """Train for the steps this machine makes in ``seconds`` (measured in a warm-up), the schedule spread
    over them; the validation loss at the end."""
    vocab, train, val = data()
    steps = max(1, round(seconds * steps_per_second(recipe)))
    net = model(vocab, recipe)
    batches = StreamBatches(train, recipe["batch"], recipe["window"])
    history = train_tbptt(net, batches, torch.optim.Adam(net.parameters()), lr=recipe["lr"], steps=steps,
                          clip=recipe["clip"])
    return {"seconds": history.seconds, "steps": steps, "chars_per_second": history.chars / history.seconds,
            "val_loss": evaluate(net, val), "val_loss_windows": evaluate_windows(net, val)}


def naive_chars_per_second(chars: int = 400) -> float:
    """Training throughput of a loop that feeds one character at a time, batch size 1."""
    vocab, train, _ = data()
    seed_everything(0)
    net = CharModel(len(vocab), embed=64, hidden=256, cell="gru")
    opt = torch.optim.Adam(net.parameters(), lr=0.007)
    state = None
    start = time.perf_counter()
    for i in range(chars):
        logits, state = net(train[i:i + 1][None], detach_state(state))
        loss = F.cross_entropy(logits[0], train[i + 1:i + 2])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return chars / (time.perf_counter() - start)


def run(quick: bool = False, budgets: tuple[float, ...] | None = None) -> dict:
    budgets = budgets or ((30,) if quick else BUDGETS)
    runs = [budget_run(s) for s in budgets]
    naive = [naive_chars_per_second() for _ in range(5)]  # about a second each: median of 5
    best = max(r["chars_per_second"] for r in runs)
    return {"recipe": RECIPE, "runs": runs, "naive_chars_per_second": statistics.median(naive),
            "naive_spread": [min(naive), max(naive)], "batched_vs_naive": best / statistics.median(naive)}


def report(result: dict) -> str:
    recipe = ", ".join(f"{k} {v}" for k, v in result.get("recipe", RECIPE).items())
    lines = [f"recipe: {recipe}", "",
             "| training time | steps | characters/s | validation, state carried (nats/char) | bits/char "
             "| validation, nanoGPT's protocol (nats/char) |",
             "| --- | --- | --- | --- | --- | --- |"]
    runs = result["runs"]
    for r in runs:
        lines.append(f"| {r['seconds'] / 60:g} min | {r['steps']:,} | {r['chars_per_second']:,.0f} | "
                     f"{r['val_loss']:.3f} | {r['val_loss'] / LN2:.3f} | {r.get('val_loss_windows', math.nan):.3f} |")
    if len(runs) > 1:
        never_worse = all(b["val_loss"] <= a["val_loss"] for a, b in zip(runs, runs[1:], strict=False))
        lines.append(f"\nmore time never hurts: {'yes' if never_worse else 'NO'} "
                     f"(each budget's loss <= the shorter one's)")
    best = min(r.get("val_loss_windows", math.nan) for r in runs)
    lines.append(f"best under nanoGPT's protocol (random windows of 256 from a zero state): {best:.3f} nats/char; "
                 f"nanoGPT's small GPT on one A100, same protocol: 1.4697 ({'met' if best <= 1.4697 else 'missed'})")
    lo, hi = result.get("naive_spread", [result["naive_chars_per_second"]] * 2)
    lines.append(f"\nnaive loop (lesson 7's GRU, one character, batch 1): {result['naive_chars_per_second']:,.0f} "
                 f"characters/s (median of 5, spread {lo:,.0f}-{hi:,.0f}); batched training is "
                 f"{result['batched_vs_naive']:.0f}x faster")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one 30-second run instead of 1, 3, 5 and 10 minutes")
    parser.add_argument("--budgets", type=float, nargs="+", help="training budgets in seconds")
    args = parser.parse_args()
    start_lesson()
    print(report(run(args.quick, tuple(args.budgets) if args.budgets else None)), flush=True)
