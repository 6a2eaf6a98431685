"""Lesson 7's own ``sample`` (the lesson writes it out; its cell defines it and nothing else), run on
small models: it continues the prompt, repeats with a seeded generator, refuses what would
otherwise pass silently, and leaves the model in training mode even when interrupted."""

import functools
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from helpers.models import CharModel, evaluating
from helpers.text import Vocab

LESSON = Path(__file__).resolve().parent.parent / "notebooks" / "07_shakespeare.ipynb"
TEXT = "to be, or not to be: that is the question.\n" * 40


@functools.cache
def lesson_sample():
    sources = ["".join(c["source"]) for c in json.loads(LESSON.read_text())["cells"] if c["cell_type"] == "code"]
    source = next(s for s in sources if "def sample(" in s)
    namespace = {"torch": torch, "nn": nn, "Vocab": Vocab, "evaluating": evaluating, "device": torch.device("cpu")}
    exec(source, namespace)
    return namespace["sample"]


def test_sample_continues_the_prompt_and_repeats_with_a_seed():
    sample, vocab = lesson_sample(), Vocab(sorted(set(TEXT)))
    torch.manual_seed(0)
    model = CharModel(len(vocab), embed=8, hidden=16, cell="gru")

    def draw(length=50):
        return sample(model, vocab, "to be", length, temperature=0.8, generator=torch.Generator().manual_seed(1))

    out = draw()
    assert out.startswith("to be") and len(out) == 55 and vocab.encode(out).shape == (55,)
    assert out == draw(), "seeded sampling repeats"
    assert draw(0) == "to be"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"prompt": "Q"}, "never seen: 'Q'"), ({"temperature": 0}, "positive temperature"),
    ({"prompt": ""}, "at least one character"), ({"length": -5}, "length of 0 or more"), ({"length": 2.5}, "length"),
    ({"length": True}, "length"),
])
def test_sample_refuses_bad_arguments(kwargs, message):
    sample, vocab = lesson_sample(), Vocab(sorted(set(TEXT)))
    model = CharModel(len(vocab), embed=4, hidden=8)
    with pytest.raises(ValueError, match=message):
        sample(model, vocab, **{"prompt": "to", **kwargs})


def test_sample_with_another_models_vocabulary_says_so():
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="scores 65 characters but the vocabulary has 3"):
        lesson_sample()(CharModel(65, embed=4, hidden=8), Vocab("abc"), "ab", length=20)
    with pytest.raises(ValueError, match="scores 3 characters but the vocabulary has 5"):
        lesson_sample()(CharModel(3, embed=4, hidden=8), Vocab("abcde"), "ab", length=20)


class Counting(nn.Module):
    """Scores 5 for one id and -5 for the others: at the last position, (the last input + the number of
    calls so far) mod the vocabulary; the count travels in the state. Earlier positions score id 0."""

    def __init__(self, vocab_size):
        super().__init__()
        self.vocab_size = vocab_size

    def forward(self, x, state=None):
        calls = 1 if state is None else state + 1
        logits = torch.full((1, x.shape[1], self.vocab_size), -5.0)
        logits[0, :-1, 0] = 5.0
        logits[0, -1, (int(x[0, -1]) + calls) % self.vocab_size] = 5.0
        return logits, calls


def followed(prompt_last: int, drawn: list[int], size: int = 5) -> list[bool]:
    """For each draw, whether it is the id Counting scores highest (an independent replay of its rule)."""
    previous = [prompt_last, *drawn[:-1]]
    return [d == (p + k + 1) % size for k, (p, d) in enumerate(zip(previous, drawn, strict=True))]


def test_the_temperature_sharpens_or_flattens_the_scores_of_the_last_position_with_the_state_carried():
    sample, vocab = lesson_sample(), Vocab("abcde")
    cold = sample(Counting(5), vocab, "ab", 40, temperature=0.01, generator=torch.Generator().manual_seed(0))
    assert all(followed(1, vocab.encode(cold[2:]).tolist())), "a low temperature draws the top score every time"
    hot = sample(Counting(5), vocab, "ab", 400, temperature=100.0, generator=torch.Generator().manual_seed(0))
    share = sum(followed(1, vocab.encode(hot[2:]).tolist())) / 400
    assert 0.1 < share < 0.35, f"a high temperature draws nearly uniformly (1 in 5), got {share:.2f}"


class Interrupting(nn.Module):
    """A model in the shape sample() expects, interrupted (Ctrl-C) on its third call."""

    def __init__(self, vocab_size):
        super().__init__()
        self.head = nn.Linear(1, vocab_size)
        self.calls, self.modes = 0, []

    def forward(self, x, state=None):
        self.calls += 1
        self.modes.append(self.training)
        if self.calls == 3:
            raise KeyboardInterrupt
        return self.head(x[..., None].float()), state


def test_sample_interrupted_puts_the_model_back_in_training_mode():
    model = Interrupting(3)
    with pytest.raises(KeyboardInterrupt):
        lesson_sample()(model, Vocab("abc"), "ab", length=10)
    assert model.modes == [False] * 3, "it samples in eval mode (no dropout)"
    assert model.training, "an interrupted sample must not leave the model in eval mode"
