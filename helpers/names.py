"""The names dataset, split and encoded the same way in every lesson that uses it.

Lesson 2 writes the encoding out by hand and checks it against :func:`encode_names`; the
lessons after it use these functions::

    from helpers.names import load_name_tensors, load_names, names_loss

    names = load_names()                     # shuffled with a fixed seed, split 80/10/10
    len(names.train), names.chars[:3]        # (25626, ['.', 'a', 'b'])
    data = load_name_tensors()               # the same split as torch tensors, padded to 16
    data.X_train.shape                       # torch.Size([25626, 16])
    loss = names_loss(model, data.X_val, data.Y_val)   # model(X) -> (logits, state)

Token 0 is ``.``: it starts every input row and ends every target row. Target positions past
the end of a name are ``-1`` (padding, ignored by the loss).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers.data import load_text

END = "."
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


def load_names(seed: int = 42, train: float = 0.8, val: float = 0.1) -> Names:
    """All 32,033 names, shuffled by ``seed`` and split into train/val/test fractions."""
    if not (0 < train < 1 and 0 <= val < 1 and train + val <= 1):
        raise ValueError(f"train={train} and val={val} must be fractions that add up to at most 1")
    words = load_text("names").split()
    order = np.random.default_rng(seed).permutation(len(words))
    words = [words[i] for i in order]
    n_train, n_val = int(train * len(words)), int(val * len(words))
    chars = [END, *sorted(set("".join(words)))]
    return Names(words[:n_train], words[n_train:n_train + n_val], words[n_train + n_val:], chars)


def encode_names(
    names: list[str], stoi: dict[str, int], length: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``X`` (start token, then the letters) and targets ``Y`` (the letters, then the
    end token, then ``-1`` padding), both of shape ``(len(names), length)``.

    ``length`` defaults to the longest name plus one.
    """
    length = length or max(len(w) for w in names) + 1
    X = np.zeros((len(names), length), dtype=np.int64)
    Y = np.full((len(names), length), PAD, dtype=np.int64)
    for row, name in enumerate(names):
        if len(name) + 1 > length:
            raise ValueError(f"name {name!r} needs {len(name) + 1} positions, more than length={length}")
        try:
            ix = [stoi[c] for c in name]
        except KeyError as err:
            bad = err.args[0]
            raise ValueError(f"name {name!r} has a character {bad!r} outside the vocabulary") from None
        X[row, 1:len(ix) + 1] = ix
        Y[row, :len(ix)] = ix
        Y[row, len(ix)] = 0
    return X, Y


@dataclass(frozen=True)
class NameTensors:
    """The training and validation names as padded torch tensors (see :func:`encode_names`)."""

    names: Names
    X_train: torch.Tensor
    Y_train: torch.Tensor
    X_val: torch.Tensor
    Y_val: torch.Tensor

    @property
    def vocab_size(self) -> int:
        return len(self.names.chars)


def load_name_tensors(seed: int = 42) -> NameTensors:
    """:func:`load_names` with its training and validation names encoded as int64 tensors of
    shape ``(names, longest name + 1)``."""
    names = load_names(seed)
    length = names.longest + 1
    X_train, Y_train = map(torch.from_numpy, encode_names(names.train, names.stoi, length))
    X_val, Y_val = map(torch.from_numpy, encode_names(names.val, names.stoi, length))
    return NameTensors(names, X_train, Y_train, X_val, Y_val)


def names_loss(model: nn.Module, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of ``model`` on the rows of ``X`` against ``Y``, padding ignored.

    ``model(X)`` returns ``(logits, state)`` with logits of shape ``(names, length, vocab)``.
    """
    logits, _ = model(X)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1), ignore_index=PAD)
