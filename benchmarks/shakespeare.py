"""Lesson 7's model on tiny Shakespeare: the best loss per minute of CPU training, a recipe per budget.

    python -m benchmarks.shakespeare                   # 1, 3, 5 and 10 minutes (about 25 min)
    python -m benchmarks.shakespeare --budgets 60 180  # chosen budgets, in seconds
    python -m benchmarks.shakespeare --quick           # one 30-second run
    python -m benchmarks.shakespeare --tune 300 --steps 2500 --set dropout=0.1 lr=0.006

A budget is in seconds **on the reference machine** (speed factor 1.0): before each run the
benchmark measures this machine's speed factor and matrix-product peak (``benchmarks/machine.py``),
trains for budget / factor seconds here (the steps this machine makes in that time, measured in
a short warm-up, with the learning-rate schedule spread over them) and prints, beside the
time, the factor, the characters per second and the model's arithmetic as a share of the peak.
Each budget picks its recipe from ``RECIPES`` and starts from fresh weights.

Two losses, in nats per character, on the validation text (the last 10%, nanoGPT's split):
*ours* (``evaluate``: 32 streams, the hidden state carried, so most characters have thousands
of characters of context) and *nanoGPT's protocol* (``evaluate_windows``: random windows of 256
characters, each from a zero state, every position counted), the one to compare with nanoGPT.

``--tune`` never reads the validation text: it trains on the first 90% of the training text, for
the given steps, and reports both losses on the last 10% of it. The recipes were chosen that
way; the validation figure is measured once per recipe, by the plain run. The recipes tried and
what each bought: ``benchmarks/shakespeare_log.md``.
"""

from __future__ import annotations

import argparse
import ast
import copy
import functools
import math
import statistics
import time

import torch
import torch.nn.functional as F

from benchmarks import machine
from helpers.lesson import seed_everything, start_lesson
from helpers.models import CharModel, detach_state
from helpers.tbptt import evaluate, evaluate_windows, train_tbptt
from helpers.text import StreamBatches, load_shakespeare

# Budget (reference seconds) -> recipe, each chosen on the tuning slice (see the log). ``average``:
# the share of the last steps whose weights are averaged into the final model (0: the last weights).
BASE = {"cell": "lstm", "embed": 64, "batch": 64, "window": 64, "clip": 1.0, "average": 0.0}
RECIPES = {
    60: {**BASE, "hidden": 256, "dropout": 0.0, "lr": 0.01},     # log rows 12-14
    180: {**BASE, "hidden": 384, "dropout": 0.0, "lr": 0.01},    # rows 15-17
    300: {**BASE, "hidden": 384, "dropout": 0.1, "lr": 0.006},   # rows 20-23
    600: {**BASE, "hidden": 384, "dropout": 0.2, "lr": 0.004},   # rows 24-26
}
BUDGETS = tuple(RECIPES)
WINDOWS = {False: 4096, True: 1024}   # nanoGPT's protocol: windows for +-0.005; tuning compares paired windows
LN2 = math.log(2)


def recipe_for(seconds: float) -> dict:
    """The recipe of the longest listed budget that fits in ``seconds`` (the shortest's below them all)."""
    fits = [b for b in RECIPES if b <= seconds]
    return RECIPES[max(fits) if fits else min(RECIPES)]


def flops_per_char(recipe: dict, vocab_size: int = 65) -> float:
    """Matrix arithmetic of one training character: the LSTM's four gates over input and state, the head;
    the backward pass twice the forward's. (GRU: three gates.)"""
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[recipe["cell"]]
    forward = 2 * (gates * recipe["hidden"] * (recipe["embed"] + recipe["hidden"]) + recipe["hidden"] * vocab_size)
    return 3 * forward


@functools.cache     # read, checked and encoded once per process, not once per budget and warm-up
def texts(tune: bool) -> tuple[int, torch.Tensor, torch.Tensor]:
    """(vocabulary size, text to train on, text to measure on): the validation text, or with ``tune``
    the last 10% of the training text (the rest to train on)."""
    data = load_shakespeare()
    if not tune:
        return len(data.vocab), data.train, data.val
    cut = len(data.train) - len(data.val)
    return len(data.vocab), data.train[:cut], data.train[cut:]


def fresh_model(vocab_size: int, recipe: dict) -> CharModel:
    seed_everything(0)
    return CharModel(vocab_size, embed=recipe["embed"], hidden=recipe["hidden"], cell=recipe["cell"],
                     dropout=recipe["dropout"])


def steps_per_second(recipe: dict, train: torch.Tensor, vocab_size: int, steps: int = 20) -> float:
    """This machine's training speed for the recipe, from a short warm-up run (its weights are thrown away)."""
    net = fresh_model(vocab_size, recipe)
    batches = StreamBatches(train, recipe["batch"], recipe["window"])
    history = train_tbptt(net, batches, torch.optim.Adam(net.parameters()), lr=recipe["lr"], steps=steps)
    return steps / history.seconds


def train_run(recipe: dict, steps: int, tune: bool = False) -> dict:
    """Train ``recipe`` for ``steps`` from fresh weights; its speed and both losses (see the module's doc)."""
    vocab_size, train, held = texts(tune)
    net = fresh_model(vocab_size, recipe)
    batches = StreamBatches(train, recipe["batch"], recipe["window"])
    average, seen = None, 0

    def on_step(history, done: float) -> None:  # a running mean of the weights over the last steps
        nonlocal average, seen
        if done > 1 - recipe["average"]:
            seen += 1
            weights = net.state_dict()
            average = copy.deepcopy(weights) if average is None else average
            for name, value in weights.items():
                average[name] += (value - average[name]) / seen

    history = train_tbptt(net, batches, torch.optim.Adam(net.parameters()), lr=recipe["lr"], steps=steps,
                          clip=recipe["clip"], on_step=on_step)
    result = {"steps": steps, "seconds": history.seconds, "chars_per_second": history.chars / history.seconds,
              "gflops": history.chars * flops_per_char(recipe, vocab_size) / history.seconds / 1e9,
              "last_weights": evaluate_windows(net, held, windows=WINDOWS[tune]) if average else None}
    if average:
        net.load_state_dict(average)
    return {**result, "loss": evaluate(net, held), "loss_windows": evaluate_windows(net, held, windows=WINDOWS[tune])}


def budget_run(seconds: float, recipe: dict | None = None) -> dict:
    """Train for ``seconds`` of the reference machine: budget / factor here, the schedule spread over it."""
    recipe = recipe or recipe_for(seconds)
    speed, peak = machine.speed_factor(), machine.matmul_peak()
    vocab_size, train, _ = texts(tune=False)
    steps = max(1, round(seconds / speed["factor"] * steps_per_second(recipe, train, vocab_size)))
    run = train_run(recipe, steps)
    return {"budget": seconds, "recipe": recipe, **speed, "peak_gflops": peak, **run,
            "share_of_peak": run["gflops"] / peak}


def naive_chars_per_second(chars: int = 400) -> float:
    """Training throughput of a loop that feeds one character at a time, batch size 1 (lesson 7's GRU)."""
    vocab_size, train, _ = texts(tune=False)
    seed_everything(0)
    net = CharModel(vocab_size, embed=64, hidden=256, cell="gru")
    opt = torch.optim.Adam(net.parameters(), lr=0.007)
    state, start = None, time.perf_counter()
    for i in range(chars):
        logits, state = net(train[i:i + 1][None], detach_state(state))
        loss = F.cross_entropy(logits[0], train[i + 1:i + 2])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return chars / (time.perf_counter() - start)


def run(quick: bool = False, budgets: tuple[float, ...] | None = None) -> dict:
    runs = [budget_run(s) for s in (budgets or ((30,) if quick else BUDGETS))]
    naive = [naive_chars_per_second() for _ in range(5)]  # about a second each: median of 5
    best = max(r["chars_per_second"] for r in runs)
    return {"runs": runs, "naive_chars_per_second": statistics.median(naive),
            "naive_spread": [min(naive), max(naive)], "batched_vs_naive": best / statistics.median(naive)}


def describe(recipe: dict) -> str:
    text = (f"{recipe['cell'].upper()} {recipe['hidden']}, dropout {recipe['dropout']:g}, {recipe['batch']} "
            f"streams of {recipe['window']}, Adam {recipe['lr']:g}")
    return text + (f", last {recipe['average']:.0%} averaged" if recipe["average"] else "")


def report(result: dict) -> str:
    lines = ["| budget (reference) | recipe | steps | training here | speed factor | reference time "
             "| characters/s | share of the matrix peak | validation, ours | validation, nanoGPT's protocol |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    runs = result["runs"]
    for r in runs:
        lines.append(f"| {r['budget'] / 60:g} min | {describe(r['recipe'])} | {r['steps']:,} | {r['seconds']:.0f} s "
                     f"| {r['factor']:.2f} | {r['seconds'] * r['factor']:.0f} s | {r['chars_per_second']:,.0f} "
                     f"| {r['share_of_peak']:.0%} ({r['gflops']:.0f} of {r['peak_gflops']:.0f} GFLOP/s) "
                     f"| {r['loss']:.3f} | **{r['loss_windows']:.3f}** |")
    if len(runs) > 1:
        never_worse = all(b["loss_windows"] <= a["loss_windows"] for a, b in zip(runs, runs[1:], strict=False))
        lines.append(f"\nmore time never hurts: {'yes' if never_worse else 'NO'} (under nanoGPT's protocol, "
                     "each budget's loss <= the shorter one's)")
    for goal, minutes in ((1.4697, 5), (1.42, 10)):
        done = [r for r in runs if r["budget"] <= minutes * 60]
        best = min((r["loss_windows"] for r in done), default=math.nan)
        lines.append(f"within {minutes} reference minutes, nanoGPT's protocol: {best:.3f} nats/char against "
                     f"{goal} ({'met' if best <= goal else 'missed'}; nanoGPT's small GPT on one A100: 1.4697)")
    lo, hi = result["naive_spread"]
    lines.append(f"\nnaive loop (lesson 7's GRU, one character, batch 1): {result['naive_chars_per_second']:,.0f} "
                 f"characters/s (median of 5, spread {lo:,.0f}-{hi:,.0f}); batched training is "
                 f"{result['batched_vs_naive']:.0f}x faster")
    return "\n".join(lines)


def tune_report(recipe: dict, r: dict) -> str:
    line = (f"tuning slice, {describe(recipe)}, {r['steps']:,} steps ({r['seconds']:.0f} s, "
            f"{r['chars_per_second']:,.0f} characters/s): ours {r['loss']:.3f}, "
            f"nanoGPT's protocol {r['loss_windows']:.3f}")
    return line + (f" (last weights, not averaged: {r['last_weights']:.3f})" if r["last_weights"] else "")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one 30-second run instead of 1, 3, 5 and 10 minutes")
    parser.add_argument("--budgets", type=float, nargs="+", help="training budgets in reference seconds")
    parser.add_argument("--tune", type=float, metavar="BUDGET", help="train the recipe for BUDGET on the tuning "
                        "slice for --steps steps (no validation text)")
    parser.add_argument("--steps", type=int, help="steps for --tune")
    parser.add_argument("--threads", type=int, help="torch threads (two tuning runs side by side: 1 each)")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="change the recipe for --tune")
    args = parser.parse_args()
    start_lesson()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.tune is None:
        print(report(run(args.quick, tuple(args.budgets) if args.budgets else None)), flush=True)
    else:
        if not args.steps:
            parser.error("--tune needs --steps: tuning runs are compared by steps, not seconds")
        changes = dict(item.split("=", 1) for item in args.set)
        recipe = {**recipe_for(args.tune), **{k: ast.literal_eval(v) if k != "cell" else v for k, v in changes.items()}}
        print(tune_report(recipe, train_run(recipe, args.steps, tune=True)), flush=True)
