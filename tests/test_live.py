"""helpers.live: quiet in quick mode, a bounded cost in full mode, a final drawing always."""

import time

import pytest

from helpers.live import LiveLoss
from helpers.tbptt import History, Validation


class FakeHandle:
    def __init__(self) -> None:
        self.images: list = []

    def update(self, image) -> None:
        self.images.append(image)


@pytest.fixture
def shown(monkeypatch):
    """Capture what LiveLoss displays instead of printing it."""
    handles: list[FakeHandle] = []

    def fake_display(image, display_id):
        handles.append(FakeHandle())
        handles[-1].images.append(image)
        return handles[-1]

    monkeypatch.setattr("IPython.display.display", fake_display)
    return handles


def test_quick_mode_and_plain_python_draw_nothing(shown, monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
    live = LiveLoss("quiet")
    live.update([3.0, 2.0], 0.5)
    live.close()
    assert not live.enabled and shown == [] and live.draws == 0
    monkeypatch.delenv("COURSE_QUICK")
    assert not LiveLoss("outside a notebook").enabled        # pytest is no kernel


def test_redraws_are_throttled_and_the_close_draws_the_final_plot(shown):
    live = LiveLoss("throttled", min_interval=0.0, max_overhead=0.05, enabled=True)
    history = History()
    start = time.perf_counter()
    while time.perf_counter() - start < 0.8:
        history.losses.append(1.0 / (1 + len(history.losses)))
        live.track("run")(history, 0.5)
    history.val.append(Validation(len(history.losses), 0.8, 0.5))
    live.track("run")(history, 1.0)
    live.close()
    elapsed = time.perf_counter() - start
    assert len(shown) == 1 and len(shown[0].images) == live.draws + 1     # one display, redrawn in place
    assert live.draws >= 2, "it does redraw while training"
    one_draw = live.draw_seconds / live.draws
    assert live.draw_seconds <= 0.05 * elapsed + 2 * one_draw, "redraws cost at most max_overhead of the time"
    assert live.status == "" and live.runs["run"] is history


def test_bad_overhead_is_refused():
    with pytest.raises(ValueError, match="max_overhead"):
        LiveLoss(max_overhead=0)


def test_train_tbptt_calls_on_step_outside_the_time_budget(monkeypatch):
    import torch

    import helpers.tbptt
    from helpers.models import CharModel
    from helpers.tbptt import train_tbptt
    from helpers.text import StreamBatches

    clock = [0.0]             # a fake clock that only the callback moves: 100 s per call
    monkeypatch.setattr(helpers.tbptt.time, "perf_counter", lambda: clock[0])
    seen = []

    def slow_callback(history, done):
        seen.append((len(history.losses), done))
        clock[0] += 100.0

    model = CharModel(5, embed=4, hidden=8)
    data = torch.randint(0, 5, (2000,))
    history = train_tbptt(model, StreamBatches(data, 4, 8), torch.optim.Adam(model.parameters()), lr=1e-3,
                          steps=5, on_step=slow_callback, progress=False)
    assert seen == [(1, 0.2), (2, 0.4), (3, 0.6), (4, 0.8), (5, 1.0)]
    assert history.seconds == 0.0, "the callbacks took 500 s, none of it counted as training time"
