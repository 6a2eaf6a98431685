import os
import random

import numpy as np
import pytest
import torch

from helpers.lesson import QUICK_ENV, budget, quick_mode, seed_everything, start_lesson


def test_start_lesson_sets_threads_and_says_the_mode(capsys, monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv(QUICK_ENV, "1")
        start_lesson()
        assert torch.get_num_threads() == 1, "quick mode: one thread, the tests run a lesson per core"
        assert "running in quick mode (torch" in capsys.readouterr().out
        monkeypatch.setenv(QUICK_ENV, "0")
        start_lesson()
        assert torch.get_num_threads() == min(4, os.cpu_count() or 1)
        assert "running in full mode (torch" in capsys.readouterr().out
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
