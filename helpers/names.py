"""The names dataset, split and encoded the same way in every lesson that uses it (lesson 2 writes it out)::

    from helpers.names import load_names, names_loss

    names = load_names()                     # shuffled with a fixed seed, split 80/10/10
    len(names.train), names.chars[:3]        # (25626, ['.', 'a', 'b'])
    X_val, Y_val = names.tensors("val")      # as torch tensors, padded to 16
    loss = names_loss(model, X_val, Y_val)   # model(X) -> (logits, state)

Token 0 is ``.``: it starts every input row and ends every target row; target positions past the
end of a name are ``-1`` (padding, which the loss ignores).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers.data import load_text

PAD = -1


@dataclass(frozen=True)
class Names:
    """Training, validation and test names, and the vocabulary (``.`` first, then a-z)."""

    train: list[str]
    val: list[str]
    test: list[str]
    chars: list[str]

    @property
    def stoi(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}

    @property
    def longest(self) -> int:
        return max(len(w) for w in self.train + self.val + self.test)

    def tensors(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X, Y)`` of the ``"train"``, ``"val"`` or ``"test"`` names as tensors, padded to ``longest + 1``."""
        X, Y = encode_names(getattr(self, split), self.stoi, self.longest + 1)
        return torch.from_numpy(X), torch.from_numpy(Y)


def load_names(seed: int = 42) -> Names:
    """All 32,033 names, shuffled by ``seed`` and split 80/10/10 into train, val and test."""
    words = load_text("names").split()
    words = [words[i] for i in np.random.default_rng(seed).permutation(len(words))]
    n_train, n_val = int(0.8 * len(words)), int(0.1 * len(words))
    return Names(words[:n_train], words[n_train:n_train + n_val], words[n_train + n_val:],
                 [".", *sorted(set("".join(words)))])


def encode_names(names: list[str], stoi: dict[str, int], length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``X`` (start token, then the letters) and targets ``Y`` (the letters, the end token,
    then ``-1`` padding), both of shape ``(len(names), length)``; ``length``: longest name + 1.

    >>> encode_names(["ab"], {".": 0, "a": 1, "b": 2}, 4)
    (array([[0, 1, 2, 0]]), array([[ 1,  2,  0, -1]]))
    """
    length = length or max(len(w) for w in names) + 1
    X = np.zeros((len(names), length), dtype=np.int64)
    Y = np.full((len(names), length), PAD, dtype=np.int64)
    for row, name in enumerate(names):
        if len(name) + 1 > length or not set(name) <= set(stoi):
            raise ValueError(f"name {name!r} needs {len(name) + 1} positions from the vocabulary; length={length}")
        ix = [stoi[c] for c in name]
        X[row, 1:len(ix) + 1] = ix
        Y[row, :len(ix) + 1] = [*ix, 0]
    return X, Y


def names_loss(model: nn.Module, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of ``model(X)``'s logits against ``Y``, padding ignored."""
    logits, _ = model(X)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1), ignore_index=PAD)
