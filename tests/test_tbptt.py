import math

import pytest
import torch
import torch.nn.functional as F

from helpers.guard import DivergedError
from helpers.models import CharModel
from helpers.tbptt import evaluate, evaluate_windows, schedule, tbptt_step, train_tbptt
from helpers.text import StreamBatches, Vocab

TEXT = "to be, or not to be: that is the question.\n" * 40
VOCAB = Vocab(sorted(set(TEXT)))
DATA = VOCAB.encode(TEXT)


def model_and_opt(cell="gru", hidden=16, seed=0):
    torch.manual_seed(seed)
    model = CharModel(len(VOCAB), embed=8, hidden=hidden, cell=cell)
    return model, torch.optim.Adam(model.parameters())


def test_schedule_against_hand_computed_values():
    # warm-up: (p + 0.001) / 0.02; then (1 - p) / 0.98
    assert schedule(0.0) == pytest.approx(0.05) and schedule(0.019) == pytest.approx(1.0)
    assert schedule(0.02) == pytest.approx(1.0) and schedule(0.51) == pytest.approx(0.5)
    assert schedule(0.755) == pytest.approx(0.25) and schedule(1.0) == 0.0


def test_evaluate_equals_a_plain_cross_entropy_over_each_stream():
    model, _ = model_and_opt("lstm")
    data = DATA[:1003]
    length = len(data) // 4
    with torch.no_grad():   # the reference: each stream read whole, in one call, from a zero state
        streams = data[:4 * length].view(4, length)
        logits, _ = model(streams[:, :-1])
        reference = F.cross_entropy(logits.reshape(-1, len(VOCAB)), streams[:, 1:].reshape(-1)).item()
    assert evaluate(model, data, batch=4, window=37) == pytest.approx(reference, rel=1e-5)
    with pytest.raises(ValueError, match="too few to evaluate in 32 streams"):
        evaluate(model, data[:40])


def test_train_tbptt_learns_a_repeating_text():
    model, opt = model_and_opt(hidden=32)
    before = evaluate(model, DATA, batch=4, window=32)
    history = train_tbptt(model, StreamBatches(DATA, batch=8, window=32), opt, lr=0.01, steps=150,
                          val_data=DATA, evals=3)
    after = evaluate(model, DATA, batch=4, window=32)
    assert len(history.losses) == 150 and [step for step, _ in history.val] == [50, 100, 150]
    assert history.final_val == history.val[-1][1] == evaluate(model, DATA)
    assert after < before / 3, (before, after)
    assert history.chars == 150 * 8 * 32 and history.seconds > 0


def test_the_schedule_drives_the_optimizer_and_decay_false_keeps_the_rate():
    rates = {}
    for decay in (True, False):
        model, opt = model_and_opt()
        seen = []
        train_tbptt(model, StreamBatches(DATA, 4, 16), opt, lr=0.01, steps=50, decay=decay,
                    on_step=lambda history, done, opt=opt, seen=seen: seen.append(opt.param_groups[0]["lr"]))
        rates[decay] = seen
    assert rates[True] == pytest.approx([0.01 * schedule(s / 50) for s in range(50)])
    assert rates[False] == [0.01] * 50


def test_a_divergence_puts_the_last_validated_weights_back_and_keeps_the_history():
    model, opt = model_and_opt()
    seen = {}

    def poison_after_step_20(history, done):
        seen[len(history.losses)] = {k: v.clone() for k, v in model.state_dict().items()}
        if len(history.losses) == 20:
            with torch.no_grad():
                model.head.bias.fill_(math.nan)

    with pytest.raises(DivergedError) as caught:
        train_tbptt(model, StreamBatches(DATA, 4, 16), opt, lr=0.01, steps=100, evals=10, val_data=DATA,
                    on_step=poison_after_step_20)
    assert all(torch.equal(v, seen[20][k]) for k, v in model.state_dict().items()), "step 20's weights are back"
    assert len(caught.value.partial_history.losses) == 20 and len(caught.value.partial_history.val) == 2


def test_a_callback_that_raises_keeps_the_history():
    model, opt = model_and_opt()

    def broken(history, done):
        if len(history.losses) == 7:
            raise RuntimeError("a bug in the live plot")

    with pytest.raises(RuntimeError, match="live plot") as caught:
        train_tbptt(model, StreamBatches(DATA, 4, 16), opt, lr=0.01, steps=30, on_step=broken)
    assert len(caught.value.partial_history.losses) == 7


def test_an_interrupt_keeps_the_history_and_the_trained_weights(capsys):
    model, opt = model_and_opt()

    def press_stop(history, done):
        if len(history.losses) == 20:
            raise KeyboardInterrupt

    history = train_tbptt(model, StreamBatches(DATA, 4, 16), opt, lr=0.01, steps=100, on_step=press_stop)
    assert len(history.losses) == 20
    assert "Interrupted after 20 steps" in capsys.readouterr().out
    assert model.training, "the model is left ready to train on"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"clip": -1}, "clip"), ({"clip": math.nan}, "clip"), ({"evals": 0}, "evals"), ({"lr": True}, "learning rate"),
    ({"steps": 2.5}, "steps"), ({"steps": True}, "steps"), ({"other_model": True}, "other parameters"),
])
def test_train_tbptt_refuses_bad_settings_before_training(kwargs, message):
    model, _ = model_and_opt("rnn")
    before = [p.clone() for p in model.parameters()]
    params = CharModel(len(VOCAB)).parameters() if kwargs.pop("other_model", False) else model.parameters()
    with pytest.raises(ValueError, match=message):
        train_tbptt(model, StreamBatches(DATA, 4, 16), torch.optim.SGD(params), **{"lr": 0.1, "steps": 5, **kwargs})
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_tbptt_step_carries_a_detached_state_and_reports_the_gradient_norm():
    model, _ = model_and_opt("lstm")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randint(0, len(VOCAB), (2, 6))
    loss, state, norm = tbptt_step(model, opt, x, x, None, clip=1e-6)
    assert loss > 0 and norm > 1e-6 and len(state) == 2
    loss2, _, _ = tbptt_step(model, opt, x, x, state, clip=1.0)   # fails if the state were not detached
    assert loss2 > 0


def test_the_state_is_carried_across_windows_unless_the_batches_say_reset():
    seen_states = []

    class Recording(CharModel):
        def forward(self, x, state=None):
            seen_states.append(state)
            return super().forward(x, state)

    for carry in (True, False):
        seen_states.clear()
        model = Recording(len(VOCAB), embed=4, hidden=8)
        train_tbptt(model, StreamBatches(DATA, 4, 16, carry=carry), torch.optim.Adam(model.parameters()),
                    lr=0.01, steps=5)
        carried = [s is not None for s in seen_states]
        assert carried == ([False, True, True, True, True] if carry else [False] * 5), (carry, carried)


def test_evaluate_windows_equals_a_plain_cross_entropy_over_the_same_windows():
    model, _ = model_and_opt("lstm")
    starts = torch.randint(0, len(DATA) - 20, (70,), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():   # the reference: each window on its own, from a zero state
        losses = [F.cross_entropy(model(DATA[s:s + 20][None])[0][0], DATA[s + 1:s + 21], reduction="sum")
                  for s in starts.tolist()]
    assert evaluate_windows(model, DATA, window=20, windows=70, seed=3) == pytest.approx(sum(losses).item() / 1400,
                                                                                         rel=1e-5)
    assert evaluate_windows(model, DATA, window=20, windows=70, seed=4) != evaluate_windows(
        model, DATA, window=20, windows=70, seed=3), "the seed picks the windows"
    assert model.training, "the model is left in the mode it was in"
