"""This machine's speed, measured in the benchmark's own run: the matrix-product peak and the
course's speed factor.

The factor is ``../shared/tools/machine_speed.py``'s measurement (a float32 matrix product, a
GRU 256 and an LSTM 384 training step, each against the reference machine, their geometric
mean), with shorter timing windows so that it can be taken beside every run: a time measured
here x the factor = the reference machine's time. The peak is the best of a few matrix products,
the most arithmetic the machine's CPU threads can do per second.
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

REFERENCE = {"sgemm GFLOP/s": 150.0, "GRU 256 chars/s": 40_000.0, "LSTM 384 chars/s": 26_000.0}


def _rate(work, amount: float, seconds: float) -> float:
    for _ in range(3):
        work()
    start, k = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        work()
        k += 1
    return amount * k / (time.perf_counter() - start)


def matmul_gflops(n: int = 1024, seconds: float = 1.0) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    return _rate(lambda: a @ b, 2 * n**3 / 1e9, seconds)


def matmul_peak() -> float:
    """GFLOP/s: the best of float32 matrix products of three sizes."""
    return max(matmul_gflops(n) for n in (512, 1024, 2048))


def rnn_chars_per_second(cell: str, hidden: int, batch: int, window: int = 64, seconds: float = 3.0) -> float:
    """One training step (Adam, clipping at 1) of ``cell`` on random characters, as machine_speed.py times it."""
    torch.manual_seed(0)
    emb, rnn, head = nn.Embedding(65, 64), getattr(nn, cell)(64, hidden, batch_first=True), nn.Linear(hidden, 65)
    params = [*emb.parameters(), *rnn.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, 1e-3)
    x, y = torch.randint(0, 65, (batch, window)), torch.randint(0, 65, (batch, window))

    def step() -> None:
        out, _ = rnn(emb(x))
        loss = nn.functional.cross_entropy(head(out).reshape(-1, 65), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    return _rate(step, batch * window, seconds)


def speed_factor() -> dict:
    """The factor and its three parts (about 10 seconds)."""
    here = {"sgemm GFLOP/s": matmul_gflops(1024, 2.0), "GRU 256 chars/s": rnn_chars_per_second("GRU", 256, 32),
            "LSTM 384 chars/s": rnn_chars_per_second("LSTM", 384, 64)}
    ratios = {name: value / REFERENCE[name] for name, value in here.items()}
    return {"factor": math.exp(sum(map(math.log, ratios.values())) / len(ratios)), "ratios": ratios}
