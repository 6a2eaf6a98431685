import os
import random

import numpy as np
import pytest
import torch

from helpers.lesson import QUICK_ENV, budget, pick_device, quick_mode, seed_everything, start_lesson


def test_pick_device_defaults_to_something_usable(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    device = pick_device()
    assert torch.zeros(1, device=device).device.type == device.type


def test_pick_device_override_and_names_it_does_not_know(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    monkeypatch.delenv("COURSE_DEVICE")
    with pytest.raises(ValueError, match=r"'gpu' is not available here: choose one of \['cpu'"):
        pick_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="not available"):
            pick_device("cuda")


def test_start_lesson_sets_threads_and_says_the_mode(capsys, monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    before = torch.get_num_threads()
    try:
        assert start_lesson() == torch.device("cpu")
        assert torch.get_num_threads() == min(4, os.cpu_count() or 1)
        assert "running in quick mode on cpu" in capsys.readouterr().out
    finally:
        torch.set_num_threads(before)

def test_quick_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv(QUICK_ENV, "1")
    assert quick_mode() and budget(full=3000, quick=300) == 300
    monkeypatch.setenv(QUICK_ENV, "0")
    assert not quick_mode() and budget(full=3000, quick=300) == 3000
    monkeypatch.delenv(QUICK_ENV)
    assert budget(full="class", quick="ci") == "class"


def test_tests_run_in_quick_mode():
    assert quick_mode(), "conftest.py must switch the test run to quick mode"




def test_seed_everything_repeats_every_generator_and_returns_one():
    def draw(g):
        return torch.randn(3).tolist(), torch.randn(3, generator=g).tolist(), random.random(), np.random.rand()  # noqa: NPY002 (the global one)

    assert draw(seed_everything(7)) == draw(seed_everything(7))
    assert draw(seed_everything(7)) != draw(seed_everything(8))


@pytest.mark.parametrize("bad", [-1, 1.5, "3"])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(bad)
