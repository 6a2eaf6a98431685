import pytest
import torch
from torch import nn

from helpers.models import CharModel
from helpers.text import StreamBatches, Vocab, cut_streams, sample

TEXT = "to be, or not to be: that is the question.\n" * 40


def test_vocab_round_trip_and_unknown_characters_named():
    vocab = Vocab.from_text(TEXT)
    assert vocab.decode(vocab.encode("not to be")) == "not to be"
    with pytest.raises(ValueError, match=r"2 character\(s\) the model has never seen: 'Z', '\?'"):
        vocab.encode("Zoo? Z")


@pytest.mark.parametrize("chars", ["aa", ["ab", "c"], ["", "a"], [1, 2]])
def test_vocab_lists_single_characters_each_once(chars):
    with pytest.raises(ValueError, match="single characters, each once"):
        Vocab(chars)


@pytest.mark.parametrize("ids", [[-1, 0], [3], torch.tensor([0, 7])])
def test_decode_refuses_ids_outside_the_vocabulary(ids):
    with pytest.raises(ValueError, match="is not in this vocabulary of 3 characters"):
        Vocab("abc").decode(ids)


def test_stream_batches_are_contiguous_shifted_and_reset_at_each_pass():
    batches = StreamBatches(torch.arange(100), batch=4, window=5)
    assert torch.equal(batches.streams, cut_streams(torch.arange(100), 4)) and batches.windows_per_epoch == 4
    x1, y1 = batches.next()
    assert batches.reset and x1.shape == y1.shape == (4, 5)
    assert torch.equal(y1, x1 + 1), "targets are the inputs shifted by one"
    x2, _ = batches.next()
    assert not batches.reset and torch.equal(x2[:, 0], x1[:, -1] + 1), "each row continues"
    for _ in range(2):
        batches.next()
    x5, _ = batches.next()
    assert batches.reset and torch.equal(x5, x1), "after a pass it starts again"
    saved = batches.state_dict()
    following = batches.next()
    batches.load_state_dict(saved)
    assert all(torch.equal(a, b) for a, b in zip(batches.next(), following, strict=True))


def test_stream_batches_without_carry_reset_at_every_window():
    batches = StreamBatches(torch.arange(100), batch=4, window=5, carry=False)
    assert [batches.next() and batches.reset for _ in range(3)] == [True, True, True]


@pytest.mark.parametrize(("data", "kwargs", "message"), [
    (torch.arange(10), {}, "cannot make 4 streams"),
    (torch.zeros(3, 3, dtype=torch.long), {}, "1-D tensor of integer"),
    (torch.arange(100.0), {}, "integer token ids, got torch.float32"),
    (torch.arange(100), {"carry": "False"}, "carry must be True or False"),
])
def test_stream_batches_bad_input(data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        StreamBatches(data, batch=4, window=5, **kwargs)


def test_sample_continues_the_prompt_and_repeats_with_a_seed():
    vocab = Vocab.from_text(TEXT)
    torch.manual_seed(0)
    model = CharModel(len(vocab), embed=8, hidden=16, cell="gru")

    def draw(length=50):
        return sample(model, vocab, "to be", length=length, temperature=0.8, generator=torch.Generator().manual_seed(1))

    out = draw()
    assert out.startswith("to be") and len(out) == 55 and vocab.encode(out).shape == (55,)
    assert out == draw(), "seeded sampling repeats"
    assert draw(0) == "to be"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"prompt": "Q"}, "never seen: 'Q'"), ({"temperature": 0}, "temperature"), ({"prompt": ""}, "at least one"),
    ({"length": -5}, "length must be a whole number"), ({"length": 2.5}, "length must be"),
])
def test_sample_refuses_bad_arguments(kwargs, message):
    vocab = Vocab.from_text(TEXT)
    model = CharModel(len(vocab), embed=4, hidden=8)
    with pytest.raises(ValueError, match=message):
        sample(model, vocab, **{"prompt": "to", **kwargs})


def test_sample_with_the_wrong_vocabulary_says_so():
    model = CharModel(65, embed=4, hidden=8)
    with pytest.raises(ValueError, match="scores 65 characters but the vocabulary has 3"):
        sample(model, Vocab("abc"), "ab", length=5)


class Interrupting(nn.Module):
    """A model in the shape sample() expects, interrupted (Ctrl-C) on its third call."""

    def __init__(self, vocab_size):
        super().__init__()
        self.head = nn.Linear(1, vocab_size)
        self.calls = 0

    def forward(self, x, state=None):
        self.calls += 1
        if self.calls == 3:
            raise KeyboardInterrupt
        return self.head(x[..., None].float()), state


def test_sample_interrupted_puts_the_model_back_in_training_mode():
    model = Interrupting(3)
    with pytest.raises(KeyboardInterrupt):
        sample(model, Vocab("abc"), "ab", length=10)
    assert model.training, "an interrupted sample must not leave the model in eval mode"
