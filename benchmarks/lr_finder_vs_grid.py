"""Is the learning-rate finder's suggestion a good rate? Compare it with a grid search.

For each problem: run ``helpers.lr_finder.lr_sweep`` once; then train from the same initial
weights on the same batches at every rate of a grid (a quarter of a decade apart) for a fixed
number of steps, and take the rate with the lowest final loss. Report both rates, their
ratio, and the final loss of a run at each.

    python -m benchmarks.lr_finder_vs_grid
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers.lr_finder import lr_sweep
from helpers.models import CharModel
from helpers.names import load_names, names_loss


def regression_problem():
    """Minibatch linear regression with noise (3 inputs of different scales), SGD."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(2000, 3, generator=g) * torch.tensor([1.0, 2.0, 0.5])
    y = X @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(2000, generator=g)
    torch.manual_seed(0)
    model = nn.Linear(3, 1)

    def loss_fn(m, ix):
        return F.mse_loss(m(X[ix]).squeeze(1), y[ix])

    def final(m):
        with torch.no_grad():
            return F.mse_loss(m(X).squeeze(1), y).item()

    return "linear regression, SGD", model, loss_fn, final, len(X), 16, 200, (1e-4, 1.0)


def names_problem():
    """Lesson 2's character RNN on names, SGD."""
    names = load_names()
    (X_train, Y_train), (X_val, Y_val) = names.tensors("train"), names.tensors("val")
    torch.manual_seed(0)
    model = CharModel(len(names.chars), embed=16, hidden=64, cell="rnn")

    def final(net):
        with torch.no_grad():
            return names_loss(net, X_val, Y_val).item()

    return ("names character RNN, SGD", model, lambda net, ix: names_loss(net, X_train[ix], Y_train[ix]),
            final, len(X_train), 32, 300, (1e-3, 30.0))


def train(initial, loss_fn, final, n, batch, steps, lr) -> float:
    model = copy.deepcopy(initial)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        loss = loss_fn(model, torch.randint(0, n, (batch,), generator=g))
        if not math.isfinite(loss.item()):
            return math.inf
        opt.zero_grad()
        loss.backward()
        opt.step()
    value = final(model)
    return value if math.isfinite(value) else math.inf


def compare(problem) -> dict:
    name, initial, loss_fn, final, n, batch, steps, (lo, hi) = problem
    model = copy.deepcopy(initial)
    opt = torch.optim.SGD(model.parameters(), lr=lo)
    g = torch.Generator().manual_seed(1)

    def step(lr: float) -> float:
        loss = loss_fn(model, torch.randint(0, n, (batch,), generator=g))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    suggestion = lr_sweep(step, model, opt, start=lo, end=hi, steps=200).suggestion()
    grid = [float(10 ** e) for e in np.arange(math.log10(lo), math.log10(hi) + 1e-9, 0.25)]
    losses = {lr: train(initial, loss_fn, final, n, batch, steps, lr) for lr in grid}
    best = min(losses, key=losses.get)
    return {"problem": name, "steps": steps, "suggestion": suggestion, "best_grid_rate": best,
            "ratio": suggestion / best,
            "loss_at_suggestion": train(initial, loss_fn, final, n, batch, steps, suggestion),
            "loss_at_best": losses[best], "grid_points": len(grid)}


def run() -> list[dict]:
    return [compare(regression_problem()), compare(names_problem())]


def report(rows: list[dict]) -> str:
    lines = ["Learning-rate finder vs grid search (final loss after the same number of steps):", "",
             "| problem | steps | suggested rate | best grid rate | ratio | loss at suggestion | loss at best |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['problem']} | {r['steps']} | {r['suggestion']:.3g} | {r['best_grid_rate']:.3g} | "
                     f"{r['ratio']:.2f} | {r['loss_at_suggestion']:.4g} | {r['loss_at_best']:.4g} |")
    return "\n".join(lines)


if __name__ == "__main__":
    torch.set_num_threads(2)
    print(report(run()))
