"""Lesson 7's model on tiny Shakespeare: quality per minute, throughput, and a naive baseline.

    python -m benchmarks.shakespeare            # 1, 3 and 5 minutes of training (about 10 min)
    python -m benchmarks.shakespeare --quick    # one 30-second run

Each budget is its own run with the schedule spread over that budget (what you would get if
you trained for exactly that long), from the same initial weights, with lesson 7's settings:
GRU with 256 hidden units, embedding 64, 32 streams, windows of 64, Adam with a linear decay,
clipping at 1. The naive baseline feeds one character at a time with batch size 1 at the same
hidden size, a backward pass and an optimizer step per character.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from helpers.lesson import start_lesson
from helpers.models import CharModel, detach_state
from helpers.seeding import seed_everything
from helpers.tbptt import evaluate, train_tbptt
from helpers.text import StreamBatches, Vocab, load_shakespeare

LR = 0.007          # lesson 7's finder: the sweep's lowest point (about 0.067) divided by 10
BATCH, WINDOW = 32, 64


def data() -> tuple[Vocab, torch.Tensor, torch.Tensor]:
    shakespeare = load_shakespeare()
    return shakespeare.vocab, shakespeare.train, shakespeare.val


def model(vocab: Vocab) -> CharModel:
    seed_everything(0)
    return CharModel(len(vocab), embed=64, hidden=256, cell="gru")


def budget_run(seconds: float) -> dict:
    vocab, train, val = data()
    net = model(vocab)
    history = train_tbptt(net, StreamBatches(train, BATCH, WINDOW), torch.optim.Adam(net.parameters()),
                          lr=LR, seconds=seconds, progress=False)
    return {"seconds": seconds, "steps": len(history.losses), "chars_per_second": history.chars_per_second,
            "val_loss": evaluate(net, val)}


def naive_chars_per_second(chars: int = 400) -> float:
    """Training throughput of a loop that feeds one character at a time, batch size 1."""
    vocab, train, _ = data()
    net = model(vocab)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    state = None
    start = time.perf_counter()
    for i in range(chars):
        logits, state = net(train[i:i + 1][None], detach_state(state))
        loss = F.cross_entropy(logits[0], train[i + 1:i + 2])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return chars / (time.perf_counter() - start)


def run(quick: bool) -> dict:
    budgets = [30] if quick else [60, 180, 300]
    runs = [budget_run(s) for s in budgets]
    naive = [naive_chars_per_second() for _ in range(5)]  # about a second each: median of 5
    best = max(r["chars_per_second"] for r in runs)
    return {"runs": runs, "naive_chars_per_second": statistics.median(naive),
            "naive_spread": [min(naive), max(naive)], "batched_vs_naive": best / statistics.median(naive)}


def report(result: dict) -> str:
    lines = ["| training time | steps | characters/s | validation loss |", "| --- | --- | --- | --- |"]
    for r in result["runs"]:
        lines.append(f"| {r['seconds']:.0f} s | {r['steps']} | {r['chars_per_second']:,.0f} | {r['val_loss']:.3f} |")
    lo, hi = result.get("naive_spread", [result["naive_chars_per_second"]] * 2)
    lines.append(f"\nnaive loop (one character, batch 1): {result['naive_chars_per_second']:,.0f} characters/s "
                 f"(median of 5, spread {lo:,.0f}-{hi:,.0f}); batched training is "
                 f"{result['batched_vs_naive']:.0f}x faster")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one 30-second run instead of 1, 3 and 5 minutes")
    args = parser.parse_args()
    start_lesson()
    print(report(run(args.quick)))
