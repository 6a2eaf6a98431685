import math

from helpers.sliders import LRExplorer, run_training
from tools.notches import save_every_notch


def halving(lr, steps, optimizer="SGD"):
    loss = 1.0
    for _ in range(steps):
        loss *= 1 - lr
        yield abs(loss) if lr < 2 else math.inf
    return optimizer


def test_every_notch_gets_a_fresh_run_with_the_current_settings(monkeypatch):
    monkeypatch.delenv("COURSE_QUICK")
    calls = []

    def counted(lr, steps, optimizer="SGD"):
        calls.append((lr, steps, optimizer))
        return (yield from halving(lr, steps, optimizer))

    explorer = LRExplorer(counted, lr=0.1, steps=20, lr_exponents=(-2, 1), options={"optimizer": ["SGD", "Adam"]})
    explorer.dropdowns["optimizer"].value = "Adam"  # trains once: the current notch
    assert save_every_notch(explorer) == len(explorer.notches) == 7
    assert sorted(calls) == sorted((lr, 20, "Adam") for lr in explorer.notches), "one run per notch, same settings"
    for lr, readout, plot in zip(explorer.notches, explorer.readouts, explorer.plots, strict=True):
        assert readout.value == f"<b>{run_training(halving, lr, 20, optimizer='Adam').readout()}</b>"
        assert bytes(plot.value[:4]) == b"\x89PNG"
    assert "diverged" in explorer.readouts[-1].value  # lr 10: the toy blows up
    assert explorer.status.value == "" and explorer.result.lr == 0.1, "the slider's own run stays current"
    calls.clear()
    explorer.lr_slider.value = explorer.notches[-1]
    assert calls == [] and "diverged" in explorer.readouts[-1].value, "a saved notch comes back from the cache"


def test_a_notch_whose_run_fails_says_so_and_the_others_still_run(monkeypatch):
    monkeypatch.delenv("COURSE_QUICK")

    def broken_above_one(lr, steps):
        if lr > 1.5:
            raise RuntimeError("shapes do not match")
        yield from halving(lr, steps)

    explorer = LRExplorer(broken_above_one, lr=0.1, steps=10, lr_exponents=(-2, 1))
    explorer.show()
    assert save_every_notch(explorer) == 5, "3.16 and 10 fail"
    assert "lr = 3.16: the run failed (RuntimeError: shapes do not match)" in explorer.readouts[5].value
    assert "lr = 0.01:" in explorer.readouts[0].value and explorer.plots[0].value


def test_an_interrupt_stops_saving_and_quick_mode_saves_nothing(monkeypatch):
    def interrupted_at_one(lr, steps):
        if lr > 0.5:
            raise KeyboardInterrupt
        yield from halving(lr, steps)

    explorer = LRExplorer(interrupted_at_one, lr=0.1, steps=10, lr_exponents=(-2, 1))
    assert save_every_notch(explorer) == 0 and not any(p.value for p in explorer.plots), "quick mode: nothing"
    monkeypatch.delenv("COURSE_QUICK")
    assert save_every_notch(explorer) == 4 and not explorer.plots[4].value and not explorer.plots[6].value


def test_every_saved_plot_is_the_run_its_readout_describes(monkeypatch):
    monkeypatch.delenv("COURSE_QUICK")
    explorer = LRExplorer(halving, lr=0.1, steps=10, lr_exponents=(-2, 1), live_every=1)
    explorer.show()
    explorer.run(10.0, 10)            # a lesson's own run at the top notch, as lesson 1 makes one
    save_every_notch(explorer)
    for index, lr in enumerate(explorer.notches):
        result = explorer.run(lr, 10)
        assert explorer.readouts[index].value == f"<b>{result.readout()}</b>"
        reference = None if index == explorer.lr_slider.index else explorer.result
        expected = explorer.render(result, reference, label="starting rate" if reference else "previous")
        assert explorer.plots[index].value == expected, f"notch {lr:.3g} shows another run's plot"
