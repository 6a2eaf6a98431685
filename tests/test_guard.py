import math

import numpy as np
import pytest
import torch

from helpers.guard import DivergedError, DivergenceGuard, check_clip, check_lr, check_steps


def test_the_guard_stops_a_loss_that_blows_up_and_keeps_the_history():
    guard = DivergenceGuard(0.1)
    guard.check(1.0)
    guard.check(3.9)
    with pytest.raises(DivergedError, match="step 2: the loss became 4.5, more than 4x its starting value 1") as err:
        guard.check(4.5)
    assert err.value.history == [1.0, 3.9] and "learning rate 0.1 is the likely cause" in str(err.value)
    assert err.value.reason == "diverged at step 2: the loss became 4.5, more than 4x its starting value 1"


def test_the_guard_stops_nan_and_keeps_floats_not_tensors():
    weight = torch.ones(2, requires_grad=True)
    guard = DivergenceGuard(0.1)
    returned = guard.check((weight * 2).sum())
    assert type(returned) is float and type(guard.history[0]) is float
    with pytest.raises(DivergedError) as err:
        guard.check(torch.tensor(math.nan))
    assert math.isnan(err.value.loss) and err.value.step == 1


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, True, "0.1", None])
def test_check_lr_refuses_what_is_not_a_rate(bad):
    with pytest.raises(ValueError, match="the learning rate must be a positive finite number"):
        check_lr(bad)


def test_check_clip_accepts_off_or_a_positive_number():
    assert check_clip(None) is None and check_clip(1) == 1.0 and check_clip(np.float64(5.0)) == 5.0


@pytest.mark.parametrize("clip", [-1, 0, math.nan, math.inf, True, "1"])
def test_check_clip_refuses_what_would_train_wrongly(clip):
    with pytest.raises(ValueError, match=r"clip \(or None to turn clipping off\) must be a positive"):
        check_clip(clip)


def test_check_steps():
    assert check_steps(10) == 10 and type(check_steps(np.int64(10))) is int
    for bad in [0, -1, 2.5, 10.0, True, "10", None]:
        with pytest.raises(ValueError, match="steps must be a positive whole number"):
            check_steps(bad)
    with pytest.raises(ValueError, match="evals must be"):
        check_steps(0, "evals")
