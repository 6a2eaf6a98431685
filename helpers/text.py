"""Characters to numbers and back, and batches for truncated BPTT (lessons 6 and 7).

    from helpers.text import StreamBatches, Vocab, load_shakespeare

    vocab = Vocab(sorted(set(text)))               # every distinct character, once
    data = vocab.encode(text)                      # 1-D tensor of token ids
    batches = StreamBatches(data, batch=64, window=128)
    x, y = batches.next()                          # (64, 128) each; y is x shifted by one

    shakespeare = load_shakespeare()               # lessons 6 and 7: text, vocab, train, val
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

from helpers.data import load_text


class Vocab:
    """A character vocabulary: ``encode`` a string to ids, ``decode`` ids to a string."""

    def __init__(self, chars: Iterable[str]):
        self.chars = list(chars)
        if not all(isinstance(c, str) and len(c) == 1 for c in self.chars) or len(set(self.chars)) < len(self.chars):
            raise ValueError("a vocabulary lists single characters, each once: pass a string such as 'abc'")
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        """Token ids of ``text``; ValueError naming every character the vocabulary lacks."""
        missing = list(dict.fromkeys(c for c in text if c not in self.stoi))
        if missing:
            raise ValueError(f"the text contains {len(missing)} character(s) the model has never seen: "
                             f"{', '.join(map(repr, missing))}. Use only these: {''.join(self.chars)!r}")
        return torch.tensor([self.stoi[c] for c in text], dtype=torch.long)

    def decode(self, ids: Iterable[int] | torch.Tensor) -> str:
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        bad = [i for i in ids if not 0 <= i < len(self)]
        if bad:
            raise ValueError(f"id {bad[0]} is not in this vocabulary of {len(self)} characters (ids 0 to "
                             f"{len(self) - 1}); was it made by a model with another vocabulary?")
        return "".join(self.chars[i] for i in ids)


def cut_streams(data: torch.Tensor, batch: int) -> torch.Tensor:
    """``data`` cut into ``batch`` equally long rows, in order, dropping the few ids left over (lesson 6 writes it out).

    >>> cut_streams(torch.arange(10), 3)
    tensor([[0, 1, 2],
            [3, 4, 5],
            [6, 7, 8]])
    """
    length = len(data) // batch
    return data[: length * batch].view(batch, length)


class StreamBatches:
    """Windows of ``batch`` parallel, contiguous streams through ``data``: row ``i`` of a window goes
    on from row ``i`` of the one before, so a model can carry its state. ``reset`` says when it must
    not: at the start of each pass through the text, and at every window with ``carry=False``."""

    def __init__(self, data: torch.Tensor, batch: int, window: int, carry: bool = True):
        if data.dim() != 1 or data.is_floating_point() or data.is_complex():
            raise ValueError(f"data must be a 1-D tensor of integer token ids, got {data.dtype} of shape "
                             f"{tuple(data.shape)}: encode the text with Vocab.encode")
        if not isinstance(carry, bool):
            raise ValueError(f"carry must be True or False, got {carry!r}")
        if batch < 1 or window < 1 or len(data) // batch < window + 1:
            raise ValueError(f"{len(data)} tokens cannot make {batch} streams of windows of {window} (each "
                             "stream needs more than one window): use fewer streams or a shorter window")
        self.streams, self.window, self.carry = cut_streams(data, batch), window, carry
        self.windows_per_epoch = (self.streams.shape[1] - 1) // window
        self.position, self.reset = 0, True

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next (inputs, targets) pair, each of shape (batch, window)."""
        self.position %= self.windows_per_epoch
        self.reset = self.position == 0 or not self.carry
        start = self.position * self.window
        self.position += 1
        chunk = self.streams[:, start:start + self.window + 1]
        return chunk[:, :-1], chunk[:, 1:]

    def state_dict(self) -> dict[str, int]:
        return {"position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.position = int(state["position"])


@dataclass(frozen=True)
class TextData:
    """A text, its vocabulary, and its ids split into a training and a validation part."""

    text: str
    vocab: Vocab
    train: torch.Tensor
    val: torch.Tensor


def load_shakespeare() -> TextData:
    """Tiny Shakespeare encoded character by character: the first 90% of the text for training,
    the rest for validation (nanoGPT's split, so the figures compare)."""
    text = load_text("tinyshakespeare")
    vocab = Vocab(sorted(set(text)))
    ids, n_train = vocab.encode(text), int(0.9 * len(text))
    return TextData(text, vocab, ids[:n_train], ids[n_train:])
