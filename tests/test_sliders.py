import math

import matplotlib.axes
import pytest

from helpers.guard import DivergedError, DivergenceGuard
from helpers.sliders import LRExplorer, run_training


def halving(lr, steps):
    """A toy 'training run': the loss shrinks by a factor (1 - lr) each step, and blows up past lr 2."""
    loss = 1.0
    for _ in range(steps):
        loss *= 1 - lr
        yield abs(loss) if lr < 2 else math.inf


def readout(explorer):
    """The readout of the notch the slider is at (the one the browser shows)."""
    return explorer.readouts[explorer.lr_slider.index]


def test_run_training_collects_losses_and_stops_at_divergence():
    ok = run_training(halving, 0.5, 4)
    assert ok.losses == [0.5, 0.25, 0.125, 0.0625] and not ok.diverged
    bad = run_training(halving, 5.0, 100)
    assert bad.diverged_at == 0 and "diverged at step 0: the loss became inf" in bad.readout()


def test_run_training_has_its_own_blow_up_check():
    def grows(lr, steps):
        for step in range(steps):
            yield 10.0 ** step

    result = run_training(grows, 0.1, 20)
    assert result.diverged_at == 1 and result.losses == [1.0] and "more than 4x" in result.stopped


def test_run_training_refuses_a_loop_that_yields_more_steps_than_asked():
    with pytest.raises(ValueError, match="yielded more than the 3 steps asked for"):
        run_training(lambda lr, steps: (yield from [1.0] * 10), 0.1, 3)


def test_run_training_accepts_a_diverged_error_from_the_loop():
    def raises(lr, steps):
        yield 1.0
        raise DivergedError(1, math.nan, lr)

    assert run_training(raises, 0.1, 10).diverged_at == 1


@pytest.mark.parametrize("lr", [0, -1, math.nan, True])
def test_bad_learning_rates_and_steps_are_refused(lr):
    with pytest.raises(ValueError, match="positive finite"):
        run_training(halving, lr, 10)
    with pytest.raises(ValueError, match="positive finite"):
        LRExplorer(halving, lr=0.1, steps=10).run(lr, 10)
    with pytest.raises(ValueError, match="steps"):
        run_training(halving, 0.1, 0)


def test_moving_the_slider_retrains_and_caches():
    calls = []

    def counted(lr, steps, optimizer="SGD"):
        calls.append((lr, steps, optimizer))
        yield from halving(lr, steps)

    explorer = LRExplorer(counted, lr=0.1, steps=20, options={"optimizer": ["SGD", "Adam"]})
    first = explorer.update()
    assert "0.1" in readout(explorer).value and len(first.losses) == 20
    explorer.lr_slider.value = 1.0  # a student drags the slider
    assert explorer.result.lr == 1.0 and explorer.previous is first
    explorer.dropdowns["optimizer"].value = "Adam"
    assert calls[-1] == (1.0, 20, "Adam")
    explorer.lr_slider.value = 0.1
    explorer.dropdowns["optimizer"].value = "SGD"
    assert len(calls) == 4, "returning to a setting already seen must not re-train"
    explorer.run(0.1, 20)
    assert len(calls) == 4, "options left out mean the drop-down's default: the same cached run"
    explorer.lr_slider.value = 10 ** 0.5
    assert "diverged" in readout(explorer).value


def test_run_never_draws_into_the_notch_the_slider_shows():
    explorer = LRExplorer(halving, lr=0.1, steps=20, lr_exponents=(-2, 1), live_every=1)
    explorer.show()
    plot = explorer.plots[explorer.lr_slider.index]
    shown = plot.value
    explorer.run(10.0, 20)
    assert plot.value == shown, "a lesson's own run() must not change the slider's picture"


def test_the_readout_puts_the_note_first_and_the_guards_reason():
    def blows_up(lr, steps):
        guard = DivergenceGuard(lr)
        for loss in (3.35, 7.78, 14.0):
            yield guard.check(loss)
        return "2 of 8 starts"

    result = run_training(blows_up, 0.5, 10)
    assert result.diverged_at == 2 and result.losses == [3.35, 7.78]
    assert "more than 4x its starting value 3.35" in result.readout()
    noted = run_training(lambda lr, steps: (yield from halving(lr, steps)) or "7 of 8 starts", 0.5, 3)
    assert noted.readout() == "lr = 0.5: 7 of 8 starts; loss 0.5 → 0.125 after 3 steps (highest 0.5)"


def test_readout_gives_significant_digits_never_a_row_of_zeros():
    result = run_training(halving, 0.99, 10)
    assert "1e-20" in result.readout() and "0.0000" not in result.readout()


def test_an_interrupt_keeps_the_losses_so_far():
    def interrupted(lr, steps):
        yield 1.0
        yield 0.5
        raise KeyboardInterrupt

    result = run_training(interrupted, 0.1, 10)
    assert result.losses == [1.0, 0.5] and not result.diverged
    assert "interrupted at step 2" in result.readout()


def test_the_readout_says_what_happened_after_an_error():
    def broken(lr, steps):
        yield 1.0
        raise RuntimeError("shapes do not match")

    explorer = LRExplorer(broken, lr=0.1, steps=10)
    with pytest.raises(RuntimeError):
        explorer.update()
    assert "RuntimeError: shapes do not match" in readout(explorer).value


def test_a_rate_outside_the_slider_trains_at_that_rate_not_capped():
    explorer = LRExplorer(halving, lr=0.1, steps=10, lr_exponents=(-4, 0))
    assert explorer.run(3.0, 10).lr == 3.0 and explorer.run(0.1, 10).lr == 0.1
    with pytest.raises(ValueError, match="must lie in the sliders' ranges"):
        LRExplorer(halving, lr=3.0, lr_exponents=(-4, 0))


def test_the_starting_rate_and_its_tenfold_neighbours_are_notches():
    explorer = LRExplorer(halving, lr=0.5155, steps=10, lr_exponents=(-5, 2))
    assert explorer.lr_slider.value == 0.5155 and explorer.notches[explorer.lr_slider.index] == 0.5155
    for target in (5.155, 0.05155):
        assert any(math.isclose(rate, target, rel_tol=1e-9) for rate in explorer.notches), f"{target} is no notch"
    ratios = [b / a for a, b in zip(explorer.notches, explorer.notches[1:], strict=False)]
    assert all(math.isclose(r, 10 ** 0.5, rel_tol=1e-6) for r in ratios), "two notches per power of ten"
    labels = explorer.lr_slider._options_labels  # what the slider's readout shows at each notch
    assert len(set(labels)) == len(labels) and f"{0.5155:.3g}" in labels and f"{5.155:.3g}" in labels


def test_each_notch_has_its_plot_and_readout_linked_in_the_browser():
    explorer = LRExplorer(halving, lr=0.1, steps=10, lr_exponents=(-4, 2))
    assert len(explorer.notches) == 13 and explorer.notches[6] == 0.1
    stacks = [child for child in explorer.widget.children if hasattr(child, "selected_index")]
    assert [stack.children for stack in stacks] == [tuple(explorer.readouts), tuple(explorer.plots)]
    linked = {(link.source[0], link.source[1], link.target[0], link.target[1]) for link in explorer.links}
    assert linked == {(explorer.lr_slider, "index", stack, "selected_index") for stack in stacks}
    explorer.show()
    assert explorer.lr_slider.index == 6 and "lr = 0.1:" in readout(explorer).value
    assert [bool(plot.value) for plot in explorer.plots].count(True) == 1
    explorer.lr_slider.value = 1.0  # moving the slider in a running notebook re-trains at that notch
    assert explorer.lr_slider.index == 8 and "lr = 1:" in explorer.readouts[8].value
    assert "lr = 0.1:" in explorer.readouts[6].value, "the other notches keep what they show"


def test_the_training_functions_defaults_reach_the_drop_downs():
    def noted(lr, steps, hidden_size=32):
        yield from halving(lr, steps)
        return f"{hidden_size} units"

    explorer = LRExplorer(noted, lr=0.1, steps=10, options={"hidden_size": [2, 8, 32, 128]})
    assert explorer.dropdowns["hidden_size"].value == 32
    assert explorer.update().note == "32 units" and "32 units" in readout(explorer).value


def test_several_runs_behind_a_median_are_kept_and_drawn_thin():
    def starts(lr, steps):
        for step in range(steps):
            values = [1.0 / (1 + step * lr * k) for k in (1, 2, 3)]
            yield sorted(values)[1], values
        return "3 of 3"

    result = run_training(starts, 0.5, 4)
    assert result.losses == [1.0, 0.5, 1 / 3, 0.25] and len(result.runs) == 4 and result.runs[1] == [2 / 3, 0.5, 0.4]
    explorer = LRExplorer(starts, lr=0.5, steps=4, steps_range=(1, 10, 1))
    lines = []
    real_plot = matplotlib.axes.Axes.plot

    def plot(ax, *args, **kwargs):
        lines.append(kwargs.get("linewidth"))
        return real_plot(ax, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matplotlib.axes.Axes, "plot", plot)
        explorer.render(result)
    assert 0.5 in lines, "the runs are drawn, thin"
