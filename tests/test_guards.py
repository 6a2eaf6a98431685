import math

import numpy as np
import pytest
import torch
from torch import nn

from helpers import training
from helpers.text import Vocab, sample
from helpers.training import DivergedError, DivergenceGuard, check_loss


def test_the_guard_still_stops_a_positive_loss_that_blows_up():
    guard = DivergenceGuard(0.1)
    guard.check(1.0)
    guard.check(3.9)
    with pytest.raises(DivergedError, match="more than 4x its starting value 1"):
        guard.check(4.5)


def test_no_false_alarm_when_the_loss_starts_at_zero():
    guard = DivergenceGuard(0.1)
    for loss in [0.0, 0.1, 0.2, 0.05]:
        guard.check(loss)
    with pytest.raises(DivergedError, match="step 4"):
        guard.check(1.0)  # 0.1 (the first nonzero loss) sets the scale: more than 0 + 3 x 0.1


def test_no_false_alarm_on_negative_losses():
    guard = DivergenceGuard(0.1)
    for loss in [-1.0, -0.9, -1.5, -3.0, 1.9]:
        guard.check(loss)
    with pytest.raises(DivergedError, match=r"rose by more than 3x the size of its starting value -1"):
        guard.check(2.5)


def test_the_guard_keeps_floats_not_tensors():
    weight = torch.ones(2, requires_grad=True)
    guard = DivergenceGuard(0.1)
    returned = guard.check((weight * 2).sum())
    assert type(returned) is float and type(guard.history[0]) is float
    assert type(check_loss(torch.tensor(0.5), 0)) is float and type(check_loss(np.float32(0.5), 0)) is float
    with pytest.raises(ValueError, match="one number.*shape \\(2,\\).*loss.item\\(\\)"):
        guard.check(weight * 2)
    with pytest.raises(DivergedError) as err:
        guard.check(torch.tensor(math.nan))
    assert all(type(h) is float for h in err.value.history) and math.isnan(err.value.loss)


def test_a_diverged_error_can_name_another_cause():
    err = DivergedError(3, math.nan, 0.1, [1.0], cause="clip=-1 is the cause: give a positive clip such as 1.0")
    assert "clip=-1 is the cause" in str(err) and "learning rate" not in str(err)
    assert err.cause.startswith("clip=-1") and err.step == 3
    assert "learning rate 0.1 is the likely cause" in str(DivergedError(3, math.nan, 0.1))


@pytest.mark.parametrize("clip, expected", [(None, None), (0, None), (0.0, None), (False, None), (1, 1.0),
                                            (0.25, 0.25), (np.float64(5.0), 5.0)])
def test_check_clip_accepts_off_or_a_positive_number(clip, expected):
    assert training.check_clip(clip) == expected


@pytest.mark.parametrize("clip, message", [(-1, "negative.*uphill"), (math.nan, "positive finite"),
                                           (math.inf, "positive finite"), (True, "a number"), ("1", "a number")])
def test_check_clip_refuses_what_would_train_wrongly(clip, message):
    with pytest.raises(ValueError, match=f"clip.*{message}"):
        training.check_clip(clip)


def test_check_steps():
    assert training.check_steps(10) == 10 and type(training.check_steps(np.int64(10))) is int
    for bad in [0, -1, 2.5, 10.0, True, "10", None]:
        with pytest.raises(ValueError, match="steps must be a positive whole number"):
            training.check_steps(bad)
    with pytest.raises(ValueError, match="evals must be"):
        training.check_steps(0, "evals")


class Echo(nn.Module):
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
    vocab = Vocab("abc")
    model = Echo(len(vocab))
    with pytest.raises(KeyboardInterrupt):
        sample(model, vocab, "ab", length=10)
    assert model.training, "an interrupted sample must not leave the model in eval mode"
