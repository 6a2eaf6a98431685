import pytest
import torch

from helpers.models import CharModel
from helpers.tbptt import evaluate, schedule, train_tbptt
from helpers.text import StreamBatches, Vocab, sample
from helpers.training import DivergedError

TEXT = "to be, or not to be: that is the question.\n" * 40


def test_vocab_round_trip_and_unknown_characters_named():
    vocab = Vocab.from_text(TEXT)
    assert vocab.decode(vocab.encode("not to be")) == "not to be"
    with pytest.raises(ValueError, match=r"2 character\(s\) the model has never seen: 'Z', '\?'"):
        vocab.encode("Zoo? Z")
    assert vocab.unknown("Zz") == ["Z", "z"]
    with pytest.raises(ValueError, match="each character once"):
        Vocab("aa")


def test_stream_batches_are_contiguous_and_shifted():
    data = torch.arange(100)
    batches = StreamBatches(data, batch=4, window=5)
    assert batches.streams.shape == (4, 25) and batches.windows_per_epoch == 4
    x1, y1 = batches.next()
    assert batches.new_epoch and x1.shape == y1.shape == (4, 5)
    assert torch.equal(y1, x1 + 1), "targets are the inputs shifted by one"
    x2, _ = batches.next()
    assert not batches.new_epoch and torch.equal(x2[:, 0], x1[:, -1] + 1), "each row continues"
    for _ in range(2):
        batches.next()
    x5, _ = batches.next()
    assert batches.new_epoch and torch.equal(x5, x1), "after an epoch it starts again"
    saved = batches.state_dict()
    following = batches.next()
    batches.load_state_dict(saved)
    assert all(torch.equal(a, b) for a, b in zip(batches.next(), following, strict=True))


def test_stream_batches_bad_input():
    with pytest.raises(ValueError, match="too few"):
        StreamBatches(torch.arange(10), batch=4, window=5)
    with pytest.raises(ValueError, match="1-D"):
        StreamBatches(torch.zeros(3, 3, dtype=torch.long), batch=1, window=1)


def test_sample_continues_the_prompt_with_known_characters_only():
    vocab = Vocab.from_text(TEXT)
    torch.manual_seed(0)
    model = CharModel(len(vocab), embed=8, hidden=16, cell="gru")

    def draw():
        g = torch.Generator().manual_seed(1)
        return sample(model, vocab, "to be", length=50, temperature=0.8, generator=g)

    out, again = draw(), draw()
    assert out.startswith("to be") and len(out) == 55 and not vocab.unknown(out)
    assert out == again, "seeded sampling repeats"
    with pytest.raises(ValueError, match="never seen: 'Q'"):
        sample(model, vocab, "Q", length=5)
    with pytest.raises(ValueError, match="temperature"):
        sample(model, vocab, "to", temperature=0)
    with pytest.raises(ValueError, match="at least one character"):
        sample(model, vocab, "")


def test_schedule_warms_up_then_decays_to_zero():
    assert schedule(0.0) < 0.1 and schedule(0.02) == pytest.approx(1.0)
    assert schedule(0.51) == pytest.approx(0.5, abs=0.01) and schedule(1.0) == 0.0


def test_train_tbptt_learns_a_repeating_text():
    vocab = Vocab.from_text(TEXT)
    data = vocab.encode(TEXT)
    torch.manual_seed(0)
    model = CharModel(len(vocab), embed=8, hidden=32, cell="gru")
    before = evaluate(model, data, batch=4, window=32)
    opt = torch.optim.Adam(model.parameters())
    seen = []
    history = train_tbptt(model, StreamBatches(data, batch=8, window=32), opt, lr=0.01, steps=150,
                          val_data=data, evals=3, on_eval=lambda *v: seen.append(v), progress=False)
    after = evaluate(model, data, batch=4, window=32)
    assert len(history.losses) == 150 and len(history.val) == 3 == len(seen)
    assert after < before / 3, (before, after)
    assert history.chars == 150 * 8 * 32 and history.chars_per_second > 0


def test_train_tbptt_for_a_time_budget_and_bad_arguments():
    vocab = Vocab.from_text(TEXT)
    data = vocab.encode(TEXT)
    model = CharModel(len(vocab), embed=4, hidden=8, cell="rnn")
    opt = torch.optim.Adam(model.parameters())
    history = train_tbptt(model, StreamBatches(data, 4, 16), opt, lr=0.01, seconds=0.3, progress=False)
    assert history.losses and history.seconds == pytest.approx(0.3, abs=0.2)
    with pytest.raises(ValueError, match="exactly one"):
        train_tbptt(model, StreamBatches(data, 4, 16), opt, lr=0.01, progress=False)
    with pytest.raises(ValueError, match="learning rate"):
        train_tbptt(model, StreamBatches(data, 4, 16), opt, lr=-1, steps=3, progress=False)


def test_train_tbptt_stops_on_divergence():
    vocab = Vocab.from_text(TEXT)
    data = vocab.encode(TEXT)
    torch.manual_seed(0)
    model = CharModel(len(vocab), embed=8, hidden=32, cell="rnn")
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    with pytest.raises(DivergedError, match="diverged at step"):
        train_tbptt(model, StreamBatches(data, 8, 32), opt, lr=1e4, steps=200, clip=0, progress=False)
