import pytest
import torch

from helpers.budget import QUICK_ENV, budget, mode_name, quick_mode
from helpers.lesson import pick_device, start_lesson
from helpers.seeding import seed_everything


def test_quick_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv(QUICK_ENV, "1")
    assert quick_mode() and budget(full=3000, quick=300) == 300 and mode_name() == "quick"
    monkeypatch.setenv(QUICK_ENV, "0")
    assert not quick_mode() and budget(full=3000, quick=300) == 3000 and mode_name() == "full"
    monkeypatch.delenv(QUICK_ENV)
    assert budget(full="class", quick="ci") == "class"


def test_tests_run_in_quick_mode():
    assert quick_mode(), "conftest.py must switch the test run to quick mode"


def test_seed_everything_repeats_and_returns_a_generator():
    g1 = seed_everything(7)
    a = (torch.randn(3), torch.randn(3, generator=g1))
    g2 = seed_everything(7)
    b = (torch.randn(3), torch.randn(3, generator=g2))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("bad", [-1, 1.5, "3"])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(bad)


def test_pick_device_defaults_to_something_usable(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    device = pick_device()
    assert torch.zeros(1, device=device).device.type == device.type


def test_pick_device_override(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    monkeypatch.delenv("COURSE_DEVICE")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="not available"):
            pick_device("cuda")


def test_start_lesson_sets_threads_and_says_the_mode(capsys, monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    before = torch.get_num_threads()
    try:
        assert start_lesson(threads=1) == torch.device("cpu")
        assert torch.get_num_threads() == 1
        assert "running in quick mode on cpu" in capsys.readouterr().out
        with pytest.raises(ValueError, match="threads"):
            start_lesson(threads=0)
    finally:
        torch.set_num_threads(before)
