"""benchmarks/shakespeare.py's own arithmetic: recipe choice, FLOP count, the tuning slice, averaging, report."""

import copy
import math

import torch

from benchmarks import shakespeare
from helpers.models import CharModel
from helpers.text import load_shakespeare

TINY = {**shakespeare.BASE, "hidden": 8, "embed": 4, "dropout": 0.0, "lr": 0.01, "batch": 4, "window": 8}


def test_each_budget_gets_the_recipe_of_the_longest_budget_that_fits():
    r = shakespeare.RECIPES
    assert shakespeare.recipe_for(30) is r[min(r)], "below every budget: the shortest's recipe"
    assert [shakespeare.recipe_for(b) is r[b] for b in r] == [True] * len(r)
    assert shakespeare.recipe_for(299) is r[180] and shakespeare.recipe_for(3600) is r[max(r)]


def test_flops_are_twice_the_weights_of_each_matrix_forward_and_three_times_that_to_train():
    for cell in ("lstm", "gru"):
        recipe = {**TINY, "cell": cell, "hidden": 24, "embed": 6}
        model = CharModel(65, embed=6, hidden=24, cell=cell)
        matrices = sum(p.numel() for name, p in model.named_parameters() if p.dim() == 2 and "embed" not in name)
        assert shakespeare.flops_per_char(recipe, 65) == 3 * 2 * matrices


def test_the_tuning_slice_is_training_text_and_as_long_as_the_validation_text():
    data = load_shakespeare()
    _, fit, held = shakespeare.texts(tune=True)
    assert torch.equal(torch.cat([fit, held]), data.train), "tuning never reads the validation text"
    assert len(held) == len(data.val)
    assert torch.equal(shakespeare.texts(tune=False)[2], data.val)


def test_averaging_takes_the_mean_of_the_last_steps_weights(monkeypatch):
    seen, evaluated = [], []
    real_train = shakespeare.train_tbptt

    def recording_train(model, *args, on_step, **kwargs):
        def hook(history, done):
            on_step(history, done)
            seen.append(copy.deepcopy(model.state_dict()))
        return real_train(model, *args, on_step=hook, **kwargs)

    monkeypatch.setattr(shakespeare, "train_tbptt", recording_train)
    monkeypatch.setattr(shakespeare, "evaluate", lambda model, data: 0.0)
    monkeypatch.setattr(shakespeare, "evaluate_windows",
                        lambda model, data, windows: evaluated.append(copy.deepcopy(model.state_dict())) or 1.0)
    result = shakespeare.train_run({**TINY, "average": 0.75}, steps=4, tune=True)
    assert len(seen) == 4 and result["last_weights"] == 1.0
    last, averaged = evaluated
    for name, value in averaged.items():
        assert torch.equal(last[name], seen[3][name]), "first the last weights"
        mean = (seen[1][name] + seen[2][name] + seen[3][name]) / 3
        assert torch.allclose(value, mean), "then the mean over the last 3 steps of 4"
    assert not torch.equal(seen[2]["head.weight"], seen[3]["head.weight"])


def test_the_report_states_both_protocols_the_factor_and_the_moonshot():
    def run(budget, windows):
        return {"budget": budget, "recipe": shakespeare.recipe_for(budget), "steps": 1000, "seconds": 100.0,
                "factor": 1.2, "chars_per_second": 40_000.0, "share_of_peak": 0.71, "gflops": 120.0,
                "peak_gflops": 169.0, "loss": windows - 0.02, "loss_windows": windows}
    result = {"runs": [run(300, 1.46), run(600, 1.43)], "naive_chars_per_second": 1000.0,
              "naive_spread": [900.0, 1100.0], "batched_vs_naive": 40.0}
    text = shakespeare.report(result)
    assert "| 5 min |" in text and "| 1.20 | 120 s |" in text and "71% (120 of 169 GFLOP/s)" in text
    assert "more time never hurts: yes" in text
    assert "1.460 nats/char against 1.4697 (met" in text and "1.430 nats/char against 1.42 (missed" in text
    result["runs"][1]["loss_windows"] = 1.47
    assert "more time never hurts: NO" in shakespeare.report(result)
    assert math.isclose(shakespeare.LN2, math.log(2))
