"""Characters to numbers and back, batches for truncated BPTT, and sampling with a prompt.

    from helpers.text import StreamBatches, Vocab, load_shakespeare, sample

    vocab = Vocab.from_text(text)                  # every distinct character, sorted
    data = vocab.encode(text)                      # 1-D tensor of token ids
    batches = StreamBatches(data, batch=64, window=128)
    x, y = batches.next()                          # (64, 128) each; y is x shifted by one
    sample(model, vocab, "ROMEO:", length=200, temperature=0.8)

    shakespeare = load_shakespeare()               # lessons 6 and 7: text, vocab, train, val
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

from helpers.data import load_text


class Vocab:
    """A character vocabulary: ``encode`` a string to ids, ``decode`` ids to a string."""

    def __init__(self, chars: Iterable[str]):
        self.chars = list(chars)
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("a vocabulary lists each character once")
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def unknown(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that are not in the vocabulary, in order."""
        return list(dict.fromkeys(c for c in text if c not in self.stoi))

    def encode(self, text: str) -> torch.Tensor:
        """Token ids of ``text``; ValueError naming every character the vocabulary lacks."""
        missing = self.unknown(text)
        if missing:
            shown = ", ".join(repr(c) for c in missing)
            raise ValueError(
                f"the text contains {len(missing)} character(s) the model has never seen: {shown}. "
                f"Use only these {len(self)} characters: {''.join(self.chars)!r}"
            )
        return torch.tensor([self.stoi[c] for c in text], dtype=torch.long)

    def decode(self, ids: Iterable[int] | torch.Tensor) -> str:
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return "".join(self.chars[i] for i in ids)


def cut_streams(data: torch.Tensor, batch: int) -> torch.Tensor:
    """``data`` cut into ``batch`` equally long rows, in order (the few ids left over at the end
    are dropped): row ``i`` is the ``i``-th stretch of the text. Lesson 6 writes this out.

    >>> cut_streams(torch.arange(10), 3)
    tensor([[0, 1, 2],
            [3, 4, 5],
            [6, 7, 8]])
    """
    length = len(data) // batch
    return data[: length * batch].view(batch, length)


class StreamBatches:
    """Windows of ``batch`` parallel, contiguous streams through ``data``, in order.

    The data is cut into ``batch`` equal streams (rows); call ``k`` returns columns
    ``[k*window, (k+1)*window)`` as inputs and the same shifted by one as targets. Row ``i``
    of one window continues exactly where row ``i`` of the previous window ended, so a
    recurrent model can carry its hidden state from window to window. At the end of the
    streams it starts again from the beginning (``new_epoch`` tells the caller to reset its
    state). Built by slicing one tensor: no Python loop over characters.
    """

    def __init__(self, data: torch.Tensor, batch: int, window: int):
        if data.dim() != 1:
            raise ValueError(f"data must be a 1-D tensor of token ids, got shape {tuple(data.shape)}")
        if batch < 1 or window < 1:
            raise ValueError(f"batch and window must be positive, got {batch} and {window}")
        if len(data) // batch < window + 1:
            raise ValueError(f"{len(data)} tokens are too few for {batch} streams of window {window}")
        self.streams = cut_streams(data, batch)
        length = self.streams.shape[1]
        self.window = window
        self.windows_per_epoch = (length - 1) // window
        self.position = 0
        self.new_epoch = True

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next (inputs, targets) pair, each of shape (batch, window)."""
        if self.position >= self.windows_per_epoch:
            self.position = 0
        self.new_epoch = self.position == 0
        start = self.position * self.window
        self.position += 1
        chunk = self.streams[:, start:start + self.window + 1]
        return chunk[:, :-1], chunk[:, 1:]

    def state_dict(self) -> dict[str, int]:
        return {"position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.position = int(state["position"])


@torch.no_grad()
def sample(
    model: nn.Module,
    vocab: Vocab,
    prompt: str,
    length: int = 200,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> str:
    """Continue ``prompt`` by ``length`` characters drawn from the model, one at a time.

    ``temperature`` divides the scores before the softmax: below 1 is safer, above 1 wilder.
    ``model(x, state)`` must return ``(logits, state)`` (as :class:`helpers.models.CharModel`).
    The model is put back in the mode it was in (training or eval), even if sampling is
    interrupted.
    """
    if not prompt:
        raise ValueError("the prompt must contain at least one character")
    if not temperature > 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    ids = vocab.encode(prompt)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        logits, state = model(ids[None].to(device))
        out = []
        for _ in range(length):
            probs = torch.softmax(logits[0, -1].float().cpu() / temperature, dim=0)
            ix = int(torch.multinomial(probs, 1, generator=generator))
            out.append(ix)
            logits, state = model(torch.tensor([[ix]], device=device), state)
    finally:
        model.train(was_training)
    return prompt + vocab.decode(out)


@dataclass(frozen=True)
class TextData:
    """A text, its vocabulary, and its ids split into a training and a validation part."""

    text: str
    vocab: Vocab
    train: torch.Tensor
    val: torch.Tensor


def load_shakespeare(train_fraction: float = 0.9) -> TextData:
    """Tiny Shakespeare encoded character by character: the first ``train_fraction`` of the
    text for training, the rest for validation (nanoGPT's split, so the figures compare)."""
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be between 0 and 1, got {train_fraction!r}")
    text = load_text("tinyshakespeare")
    vocab = Vocab.from_text(text)
    ids = vocab.encode(text)
    n_train = int(train_fraction * len(ids))
    return TextData(text, vocab, ids[:n_train], ids[n_train:])
