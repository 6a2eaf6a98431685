import pytest
import torch

from helpers.models import CharModel
from helpers.tbptt import TrainingBudget, Validation, evaluate, schedule, tbptt_step, train_tbptt
from helpers.text import StreamBatches, Vocab, cut_streams, sample
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
                          val_data=data, evals=3, on_eval=seen.append, progress=False)
    after = evaluate(model, data, batch=4, window=32)
    assert len(history.losses) == 150 and len(history.val) == 3 == len(seen)
    assert [v.step for v in history.val] == [50, 100, 150] and isinstance(seen[0], Validation)
    assert history.final_val == history.val[-1].loss == seen[-1].loss
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
    with pytest.raises(DivergedError, match="diverged at step") as caught:
        train_tbptt(model, StreamBatches(data, 8, 32), opt, lr=1e4, steps=200, clip=0, progress=False)
    assert all(torch.isfinite(p).all() for p in model.parameters()), "the last finite weights are back"
    assert "put back as they were at step 0" in str(caught.value)
    assert caught.value.partial_history.losses, "the losses before the divergence are kept"


def _repeating_text_run(**kwargs):
    vocab = Vocab.from_text(TEXT)
    data = vocab.encode(TEXT)
    torch.manual_seed(0)
    model = CharModel(len(vocab), embed=8, hidden=16, cell="gru")
    opt = torch.optim.Adam(model.parameters())
    return model, train_tbptt(model, StreamBatches(data, 4, 16), opt, lr=0.01, progress=False,
                              val_data=data, **kwargs)


def test_an_interrupt_keeps_the_history_and_the_trained_weights(capsys):
    calls = []

    def press_stop(validation):
        calls.append(validation)
        if len(calls) == 2:
            raise KeyboardInterrupt

    model, history = _repeating_text_run(steps=100, evals=10, on_eval=press_stop)
    assert history.interrupted and len(history.losses) == 20 and len(history.val) == 2
    assert "Interrupted at step 20" in capsys.readouterr().out
    assert model.training, "the model is left ready to train on"


def test_divergence_restores_the_last_validated_weights():
    vocab = Vocab.from_text(TEXT)
    data = vocab.encode(TEXT)
    torch.manual_seed(0)
    model = CharModel(len(vocab), embed=8, hidden=16, cell="gru")
    opt = torch.optim.Adam(model.parameters())
    seen = {}

    def poison_after_second_eval(validation):
        seen[validation.step] = {k: v.clone() for k, v in model.state_dict().items()}
        if validation.step == 20:
            with torch.no_grad():
                model.head.bias.fill_(float("nan"))

    with pytest.raises(DivergedError) as caught:
        train_tbptt(model, StreamBatches(data, 4, 16), opt, lr=0.01, steps=100, evals=10,
                    val_data=data, on_eval=poison_after_second_eval, progress=False)
    assert "as they were at step 20" in str(caught.value)
    assert all(torch.equal(v, seen[20][k]) for k, v in model.state_dict().items())
    assert len(caught.value.partial_history.val) == 2


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"clip": -1}, "clip"), ({"clip": float("nan")}, "clip"), ({"evals": 0}, "evals"),
    ({"steps": 2.5}, "steps"), ({"steps": True}, "steps"), ({"seconds": float("inf"), "steps": None}, "seconds"),
])
def test_train_tbptt_refuses_bad_settings_before_training(kwargs, message):
    vocab = Vocab.from_text(TEXT)
    model = CharModel(len(vocab), embed=4, hidden=8, cell="rnn")
    before = [p.clone() for p in model.parameters()]
    settings = {"steps": 5, **kwargs}
    with pytest.raises(ValueError, match=message):
        train_tbptt(model, StreamBatches(vocab.encode(TEXT), 4, 16), torch.optim.SGD(model.parameters()),
                    lr=0.1, progress=False, **settings)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_tbptt_step_carries_a_detached_state_and_reports_the_gradient_norm():
    torch.manual_seed(0)
    model = CharModel(5, embed=4, hidden=8, cell="lstm")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randint(0, 5, (2, 6))
    loss, state, norm = tbptt_step(model, opt, x, x, None, clip=1e-6)
    assert loss > 0 and norm > 1e-6 and len(state) == 2
    loss2, _, _ = tbptt_step(model, opt, x, x, state, clip=1.0)   # fails if the state were not detached
    assert loss2 > 0


def test_training_budget_pauses_the_clock():
    budget = TrainingBudget(seconds=10.0)
    with budget.paused():
        time_inside = budget.elapsed()
    assert budget.elapsed() < time_inside + 0.05 and budget.fraction(0) < 0.01
    assert TrainingBudget(steps=4).fraction(1) == 0.25


def test_evaluate_reads_the_streams_stream_batches_trains_on():
    data = torch.arange(103)
    assert torch.equal(cut_streams(data, 4), StreamBatches(data, 4, 5).streams)


def test_before_step_sees_every_step_and_carry_false_starts_each_window_afresh():
    vocab = Vocab.from_text(TEXT)
    data = vocab.encode(TEXT)
    seen_steps, seen_states = [], []

    class Recording(CharModel):
        def forward(self, x, state=None):
            seen_states.append(state)
            return super().forward(x, state)

    for carry in (True, False):
        seen_states.clear()
        torch.manual_seed(0)
        model = Recording(len(vocab), embed=4, hidden=8, cell="gru")
        train_tbptt(model, StreamBatches(data, 4, 16), torch.optim.Adam(model.parameters()), lr=0.01, steps=5,
                    carry=carry, before_step=seen_steps.append, progress=False)
        carried = [s is not None for s in seen_states]
        assert carried == ([False, True, True, True, True] if carry else [False] * 5), (carry, carried)
    assert seen_steps == [0, 1, 2, 3, 4] * 2
