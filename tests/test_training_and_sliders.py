import math

import pytest

from helpers.sliders import LRExplorer, run_training
from helpers.training import DivergedError, DivergenceGuard, check_loss, check_lr


def halving(lr, steps):
    """A toy 'training run': the loss shrinks by a factor (1 - lr) each step."""
    loss = 1.0
    for _ in range(steps):
        loss *= 1 - lr
        yield abs(loss) if lr < 2 else math.inf


@pytest.mark.parametrize("bad", [0, -0.1, math.nan, math.inf, "fast", None])
def test_check_lr_rejects_what_is_not_a_positive_number(bad):
    with pytest.raises(ValueError, match="learning rate"):
        check_lr(bad)


def test_check_loss_names_the_step_and_the_learning_rate():
    assert check_loss(0.5, 3, 0.1) == 0.5
    expected = "diverged at step 12.*learning rate 10 is the likely cause"
    with pytest.raises(DivergedError, match=expected) as info:
        check_loss(math.nan, 12, 10.0, history=[1.0, 5.0])
    assert info.value.history == [1.0, 5.0] and info.value.step == 12


def test_run_training_collects_losses_and_stops_at_divergence():
    ok = run_training(halving, 0.5, 4)
    assert ok.losses == [0.5, 0.25, 0.125, 0.0625] and not ok.diverged
    bad = run_training(halving, 5.0, 100)
    assert bad.diverged_at == 0 and "diverged at step 0" in bad.readout()


def test_run_training_accepts_a_diverged_error_from_the_loop():
    def raises(lr, steps):
        yield 1.0
        raise DivergedError(1, math.nan, lr)

    assert run_training(raises, 0.1, 10).diverged_at == 1


@pytest.mark.parametrize("lr", [0, -1, math.nan])
def test_slider_training_function_rejects_bad_learning_rates(lr):
    with pytest.raises(ValueError, match="positive finite"):
        run_training(halving, lr, 10)
    explorer = LRExplorer(halving, lr=0.1, steps=10)
    with pytest.raises(ValueError, match="positive finite"):
        explorer.run(lr, 10)
    with pytest.raises(ValueError, match="positive finite"):
        LRExplorer(halving, lr=lr)


def test_bad_steps_are_refused():
    with pytest.raises(ValueError, match="steps"):
        run_training(halving, 0.1, 0)


def test_moving_the_slider_retrains_and_caches():
    calls = []

    def counted(lr, steps, optimizer="SGD"):
        calls.append((lr, steps, optimizer))
        yield from halving(lr, steps)

    explorer = LRExplorer(counted, lr=0.1, steps=20, options={"optimizer": ["SGD", "Adam"]})
    first = explorer.update()
    assert "0.1" in explorer.readout.value and len(first.losses) == 20
    explorer.lr_slider.value = 1.0  # a student drags the slider
    assert explorer.result.lr == 1.0 and explorer.previous is first
    explorer.dropdowns["optimizer"].value = "Adam"
    assert calls[-1] == (1.0, 20, "Adam")
    explorer.lr_slider.value = 0.1
    explorer.dropdowns["optimizer"].value = "SGD"
    assert len(calls) == 4, "returning to a setting already seen must not re-train"
    explorer.lr_slider.value = 10.0
    assert "diverged" in explorer.readout.value


def test_divergence_guard_stops_blowups_and_keeps_the_history():
    guard = DivergenceGuard(lr=3.0, blowup=4.0)
    for loss in (3.3, 2.9, 5.0, 12.0):
        guard.check(loss)
    expected = r"step 4: the loss became 14.*4x its starting value 3.3.*3 is"
    with pytest.raises(DivergedError, match=expected) as info:
        guard.check(14.0)
    assert info.value.history == guard.history == [3.3, 2.9, 5.0, 12.0]
    with pytest.raises(DivergedError, match="step 4: the loss became nan"):
        guard.check(math.nan)
    with pytest.raises(ValueError, match="learning rate"):
        DivergenceGuard(lr=-1)
