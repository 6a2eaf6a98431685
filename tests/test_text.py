import pytest
import torch

from helpers.text import StreamBatches, Vocab, cut_streams

TEXT = "to be, or not to be: that is the question.\n" * 40


def test_vocab_round_trip_and_unknown_characters_named():
    vocab = Vocab(sorted(set(TEXT)))
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
