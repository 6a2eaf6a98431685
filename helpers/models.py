"""The character-level language model used from lesson 5 on.

Lesson 2 wrote it out (embedding, RNN, linear head); this version also lets you choose the
recurrent cell and carry the hidden state between calls::

    >>> import torch
    >>> from helpers.models import CharModel, detach_state
    >>> model = CharModel(vocab_size=65, hidden=256, cell="gru")
    >>> x = torch.zeros(2, 10, dtype=torch.long)     # (batch, time) token ids
    >>> logits, state = model(x)
    >>> logits.shape
    torch.Size([2, 10, 65])
    >>> logits, state = model(x, detach_state(state))   # truncated BPTT: carry, but cut the graph
    >>> rebuilt = CharModel(**model.config)                # the same architecture, fresh weights
    >>> [p.shape for p in rebuilt.parameters()] == [p.shape for p in model.parameters()]
    True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class CharModel(nn.Module):
    """embedding -> recurrent cell (``"rnn"``, ``"gru"`` or ``"lstm"``) -> linear head. ``dropout`` zeroes
    that fraction of the embedding's and the cell's outputs (and between ``layers``) while training:
    one mask per stream, kept over the window (a mask per character cost a CPU 10-15% of a step)."""

    def __init__(self, vocab_size: int, embed: int = 32, hidden: int = 128, cell: str = "gru",
                 layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if min(vocab_size, embed, hidden, layers) < 1:
            raise ValueError("vocab_size, embed, hidden and layers must all be at least 1")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be at least 0 and below 1, got {dropout!r}")
        self.config: dict[str, Any] = {"vocab_size": vocab_size, "embed": embed, "hidden": hidden,
                                       "cell": cell, "layers": layers, "dropout": dropout}
        self.embed = nn.Embedding(vocab_size, embed)
        self.rnn = CELLS[cell](embed, hidden, num_layers=layers, batch_first=True,
                               dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        out, state = self.rnn(self.drop(self.embed(x)), state)
        return self.head(self.drop(out)), state

    def drop(self, z: torch.Tensor) -> torch.Tensor:
        keep = 1 - self.config["dropout"]
        return z * z.new_empty(z.shape[0], 1, z.shape[2]).bernoulli_(keep) / keep if self.training and keep < 1 else z


def detach_state(state: State | None) -> State | None:
    """The same hidden state, cut from the graph that computed it (an LSTM's is a pair)."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return None if state is None else state.detach()


@contextmanager
def evaluating(model: nn.Module) -> Iterator[None]:
    """Eval mode (no dropout) and no gradients for the block; then ``model`` is back in the mode it was in."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)
