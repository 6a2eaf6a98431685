"""helpers.live: quiet in quick mode, a bounded cost in full mode, a final drawing always."""

import io
import math
import time
from types import SimpleNamespace

import matplotlib.axes
import matplotlib.image
import numpy as np
import pytest

import helpers.live
from helpers.live import LiveLoss
from helpers.tbptt import History


class FakeHandle:
    def __init__(self) -> None:
        self.images: list = []

    def update(self, image) -> None:
        self.images.append(image)


@pytest.fixture
def shown(monkeypatch):
    """Pretend to be a notebook and capture what LiveLoss displays instead of showing it."""
    handles: list[FakeHandle] = []

    def fake_display(image, display_id):
        handles.append(FakeHandle())
        handles[-1].images.append(image)
        return handles[-1]

    monkeypatch.setattr("helpers.live.display", fake_display)
    monkeypatch.setattr(helpers.live, "get_ipython", lambda: SimpleNamespace(kernel=object()))
    return handles


def test_quick_mode_and_plain_python_draw_nothing(monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
    live = LiveLoss("quiet")
    live.update([3.0, 2.0], 0.5)
    live.close()
    assert not live.enabled and live.draws == 0
    monkeypatch.delenv("COURSE_QUICK")
    assert not LiveLoss("outside a notebook").enabled        # pytest is no kernel


def test_asking_for_a_plot_outside_a_notebook_is_refused_before_training():
    with pytest.raises(ValueError, match="draws only inside a running notebook"):
        LiveLoss(enabled=True)


def test_redraws_are_throttled_and_the_close_draws_the_final_plot(shown):
    live = LiveLoss("throttled", min_interval=0.0, max_overhead=0.05, enabled=True)
    history = History()
    start = time.perf_counter()
    while time.perf_counter() - start < 0.8:
        history.losses.append(1.0 / (1 + len(history.losses)))
        live.track("run")(history, 0.5)
    history.val.append((len(history.losses), 0.5))
    live.track("run")(history, 1.0)
    live.close()
    elapsed = time.perf_counter() - start
    assert len(shown) == 1 and len(shown[0].images) == live.draws + 1     # one display, redrawn in place
    assert live.draws >= 2, "it does redraw while training"
    one_draw = live.draw_seconds / live.draws
    assert live.draw_seconds <= 0.05 * elapsed + 2 * one_draw, "redraws cost at most max_overhead of the time"
    assert live.status == "" and live.runs["run"] is history


def red_pixels(image) -> int:
    pixels = matplotlib.image.imread(io.BytesIO(image.data))
    return int(np.sum((pixels[..., 0] > 0.7) & (pixels[..., 1] < 0.35) & (pixels[..., 2] < 0.35)))


def test_a_loss_that_stops_being_finite_is_marked_and_named(shown, monkeypatch):
    titles = []
    monkeypatch.setattr("matplotlib.axes.Axes.set_title", lambda ax, text, *a, **k: titles.append(text))
    live = LiveLoss("Run", enabled=True)
    live.update([2.0 - 0.01 * i for i in range(60)] + [math.nan] * 30, 1.0)
    live.close()
    assert "training: loss not finite from step 60" in titles[-1]
    healthy = LiveLoss("Run", enabled=True)
    healthy.update([2.0 - 0.01 * i for i in range(90)], 1.0)
    healthy.close()
    assert "not finite" not in titles[-1]
    assert red_pixels(shown[0].images[-1]) > 10 * max(1, red_pixels(shown[1].images[-1])), "a red line marks it"
    blank = LiveLoss("all NaN", enabled=True)
    blank.update([math.nan] * 5, 1.0)
    blank.close()
    assert "training: loss not finite from step 0" in titles[-1]


def test_several_runs_list_their_validation_dots_once(shown, monkeypatch):
    labels = []
    real_legend = matplotlib.axes.Axes.legend

    def legend(ax, *args, **kwargs):
        labels.append([line.get_label() for line in ax.lines if not line.get_label().startswith("_")])
        return real_legend(ax, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "legend", legend)
    live = LiveLoss("Rows", enabled=True)
    for name in ("a", "b", "c"):
        run = History(losses=[2.0 - 0.01 * i for i in range(50)], val=[(25, 1.9), (50, 1.6)])
        live.track(name)(run, 1.0)
    live.close()
    assert sorted(labels[-1]) == ["a", "b", "c", "validation (each run's colour)"], labels[-1]
