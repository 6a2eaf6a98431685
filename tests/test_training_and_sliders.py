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


def test_readout_gives_significant_digits_never_a_row_of_zeros():
    result = run_training(halving, 0.99, 10)
    assert "1e-20" in result.readout() and "0.0000" not in result.readout()


def test_readout_gives_the_guards_real_reason():
    def blows_up(lr, steps):
        guard = DivergenceGuard(lr)
        for loss in (3.35, 7.78, 14.0):
            yield guard.check(loss)

    result = run_training(blows_up, 0.5, 10)
    assert result.diverged_at == 2 and result.losses == [3.35, 7.78]
    assert "more than 4x its starting value 3.35" in result.readout()
    assert "NaN" not in result.readout()


def test_an_interrupt_keeps_the_losses_so_far():
    def interrupted(lr, steps):
        yield 1.0
        yield 0.5
        raise KeyboardInterrupt

    result = run_training(interrupted, 0.1, 10)
    assert result.losses == [1.0, 0.5] and result.interrupted and not result.diverged
    assert "interrupted at step 2" in result.readout()


def test_the_readout_says_what_happened_after_an_error():
    def broken(lr, steps):
        yield 1.0
        raise RuntimeError("shapes do not match")

    explorer = LRExplorer(broken, lr=0.1, steps=10)
    with pytest.raises(RuntimeError):
        explorer.update()
    assert "training" not in explorer.readout.value
    assert "RuntimeError: shapes do not match" in explorer.readout.value


def test_a_rate_outside_the_slider_is_an_error_not_capped():
    explorer = LRExplorer(halving, lr=0.1, steps=10, lr_exponents=(-4, 0))
    with pytest.raises(ValueError, match="outside the slider's range"):
        explorer.run(3.0, 10)
    with pytest.raises(ValueError, match="outside the slider's range"):
        LRExplorer(halving, lr=3.0, lr_exponents=(-4, 0))


def test_the_starting_rate_and_its_tenfold_neighbours_are_notches():
    explorer = LRExplorer(halving, lr=0.5155, steps=10, lr_exponents=(-5, 2))
    assert explorer.lr_slider.value == 0.5155 and explorer.notches[explorer.lr_slider.index] == 0.5155
    for target in (5.155, 0.05155):
        assert any(math.isclose(rate, target, rel_tol=1e-9) for rate in explorer.notches), f"{target} is no notch"
    ratios = [b / a for a, b in zip(explorer.notches, explorer.notches[1:], strict=False)]
    assert all(math.isclose(r, 10 ** 0.25, rel_tol=1e-6) for r in ratios), "four notches per power of ten"
    assert 1e-5 <= explorer.lr_range[0] < 1e-5 * 10 ** 0.25 and 100 / 10 ** 0.25 < explorer.lr_range[1] <= 100
    labels = explorer.lr_slider._options_labels  # what the slider's readout shows at each notch
    assert len(set(labels)) == len(labels) and f"{0.5155:.3g}" in labels and f"{5.155:.3g}" in labels


def test_each_notch_has_its_plot_and_readout_linked_in_the_browser():
    explorer = LRExplorer(halving, lr=0.1, steps=10, lr_exponents=(-4, 2))
    assert len(explorer.notches) == 25 and explorer.notches[12] == 0.1 and explorer.lr_range == (1e-4, 100.0)
    assert len(explorer.plots) == len(explorer.readouts) == 25
    linked = {(link.source[0], link.source[1], link.target[0], link.target[1]) for link in explorer.links}
    assert linked == {(explorer.lr_slider, "index", explorer.plot_stack, "selected_index"),
                      (explorer.lr_slider, "index", explorer.readout_stack, "selected_index")}
    explorer.show()  # quick mode in the tests: only the current notch is trained
    assert explorer.readout is explorer.readouts[12] and "lr = 0.1:" in explorer.readout.value
    assert [bool(plot.value) for plot in explorer.plots].count(True) == 1
    explorer.lr_slider.value = 1.0  # moving the slider in a running notebook re-trains at that notch
    assert explorer.readout is explorer.readouts[16] and "lr = 1:" in explorer.readouts[16].value
    assert "lr = 0.1:" in explorer.readouts[12].value, "the other notches keep what they show"


def test_precompute_saves_a_fresh_run_at_every_notch():
    calls = []

    def counted(lr, steps, optimizer="SGD"):
        calls.append((lr, steps, optimizer))
        yield from halving(lr, steps)
        return optimizer

    explorer = LRExplorer(counted, lr=0.1, steps=20, lr_exponents=(-2, 1), options={"optimizer": ["SGD", "Adam"]})
    explorer.dropdowns["optimizer"].value = "Adam"  # trains once: the current notch
    assert explorer.precompute() == len(explorer.notches) == 13
    assert sorted(calls) == sorted((lr, 20, "Adam") for lr in explorer.notches), "one run per notch, same settings"
    for lr, readout, plot in zip(explorer.notches, explorer.readouts, explorer.plots, strict=True):
        assert readout.value == f"<b>{run_training(counted, lr, 20, optimizer='Adam').readout()}</b>"
        assert bytes(plot.value[:4]) == b"\x89PNG"
    assert "diverged" in explorer.readouts[-1].value  # lr 10: the toy blows up
    assert explorer.status.value == "" and explorer.result.lr == 0.1, "the slider's own run stays current"
    calls.clear()
    explorer.lr_slider.value = explorer.notches[-1]
    assert calls == [] and "diverged" in explorer.readout.value, "a saved notch comes back from the cache"


def test_show_precomputes_only_in_full_mode(monkeypatch):
    monkeypatch.delenv("COURSE_QUICK", raising=False)
    explorer = LRExplorer(halving, lr=0.1, steps=10, lr_exponents=(-2, 0))
    explorer.show()
    assert all(plot.value for plot in explorer.plots) and len(explorer.plots) == 9
    monkeypatch.setenv("COURSE_QUICK", "1")
    explorer = LRExplorer(halving, lr=0.1, steps=10, lr_exponents=(-2, 0))
    explorer.show()
    assert [bool(plot.value) for plot in explorer.plots].count(True) == 1


def test_the_training_functions_note_and_defaults_reach_the_slider():
    def noted(lr, steps, hidden_size=32):
        yield from halving(lr, steps)
        return f"{hidden_size} units"

    explorer = LRExplorer(noted, lr=0.1, steps=10, options={"hidden_size": [2, 8, 32, 128]})
    assert explorer.dropdowns["hidden_size"].value == 32
    assert explorer.update().note == "32 units" and "32 units" in explorer.readout.value
