import math

import pytest
import torch
from torch import nn

from helpers.lr_finder import lr_sweep


def regression(seed=0, batch=16):
    """Linear regression with noise, trained on minibatches (as the lessons train).
    Gradient descent is stable for lr < 2 / (largest eigenvalue of the loss's Hessian),
    the known limit we check the finder against."""
    g = torch.Generator().manual_seed(seed)
    f64 = torch.float64
    X = torch.randn(200, 3, generator=g, dtype=f64) * torch.tensor([1.0, 2.0, 0.5], dtype=f64)
    y = X @ torch.tensor([1.0, -2.0, 0.5], dtype=f64) + 0.1 * torch.randn(200, generator=g, dtype=f64)
    model = nn.Linear(3, 1, bias=False).double()
    nn.init.zeros_(model.weight)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def loss_fn():
        return ((model(X).squeeze(1) - y) ** 2).mean()

    def step(lr):
        ix = torch.randint(0, len(X), (batch,), generator=g)
        loss = ((model(X[ix]).squeeze(1) - y[ix]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    hessian = 2 * X.T @ X / len(X)
    limit = 2 / torch.linalg.eigvalsh(hessian).max().item()
    return model, opt, step, loss_fn, limit


@pytest.mark.parametrize("seed", range(5))
def test_suggestion_lands_inside_the_stable_range_and_learns(seed):
    model, opt, step, loss_fn, limit = regression(seed)
    sweep = lr_sweep(step, model, opt, start=1e-4, end=10, steps=120)
    suggestion = sweep.suggestion()
    assert limit / 30 < suggestion < limit, (suggestion, limit)
    before = loss_fn().item()
    for group in opt.param_groups:
        group["lr"] = suggestion
    for _ in range(50):
        step(suggestion)
    assert loss_fn().item() < before / 10


def test_stops_early_once_the_loss_explodes():
    model, opt, step, _, limit = regression()
    sweep = lr_sweep(step, model, opt, start=1e-4, end=1e3, steps=200)
    assert sweep.stopped_early and len(sweep.lrs) < 200
    assert sweep.lrs[-1] > limit, "it stopped only after passing the stable limit"


def test_restores_model_optimizer_and_rng_exactly():
    model = nn.RNN(4, 8, batch_first=True)
    head = nn.Linear(8, 2)
    params = [*model.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)
    x = torch.randn(5, 7, 4)
    wrapper = nn.ModuleList([model, head])

    def step(lr):
        out, _ = model(x)
        loss = head(out).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(3):  # give Adam some state worth losing
        step(1e-3)
    weights = {k: v.clone() for k, v in wrapper.state_dict().items()}
    state = opt.state_dict()
    moments = {i: {k: v.clone() for k, v in s.items()} for i, s in state["state"].items()}
    torch.manual_seed(123)
    expected_next_random = torch.rand(3)
    torch.manual_seed(123)
    lr_sweep(step, wrapper, opt, start=1e-3, end=1.0, steps=20)
    assert all(torch.equal(weights[k], v) for k, v in wrapper.state_dict().items())
    after = opt.state_dict()
    assert after["param_groups"][0]["lr"] == 1e-3
    for i, s in after["state"].items():
        assert all(torch.equal(moments[i][k], v) for k, v in s.items())
    assert torch.equal(torch.rand(3), expected_next_random), "the RNG is put back too"


def test_deterministic_under_a_seed():
    def run():
        torch.manual_seed(0)
        model = nn.Linear(3, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        g = torch.Generator().manual_seed(1)

        def step(lr):
            x = torch.randn(16, 3, generator=g)
            loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.item()

        return lr_sweep(step, model, opt, steps=50).losses

    assert run() == run()


@pytest.mark.parametrize("kwargs", [{"start": 1.0, "end": 0.1}, {"start": 0.1, "end": 0.1}, {"start": -1.0},
                                    {"start": 0.0}, {"end": math.nan}, {"steps": 1}, {"smoothing": 1.0},
                                    {"stop_factor": 1.0}, {"stop_factor": math.nan}])
def test_bad_arguments_are_explained(kwargs):
    with pytest.raises(ValueError, match="lr_sweep needs 0 < start < end, steps >= 2"):
        lr_sweep(lambda lr: 1.0, nn.Linear(1, 1), **kwargs)


def test_a_step_that_returns_nan_from_the_start_is_explained():
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match="first step.*gave a loss of nan.*check that one training step"):
        lr_sweep(lambda lr: math.nan, model, steps=10)


def test_a_nan_later_is_a_divergence_not_an_error():
    model = nn.Linear(1, 1)
    losses = iter([1.0, 0.9, 0.8, math.nan, 0.1])
    sweep = lr_sweep(lambda lr: next(losses), model, steps=5, smoothing=0.0)
    assert sweep.stopped_early and sweep.losses == [1.0, 0.9, 0.8]


def test_a_sweep_whose_lowest_point_is_at_its_start_gives_no_suggestion_below_it():
    model = nn.Linear(1, 1)
    losses = iter([1.0, math.nan])
    one_point = lr_sweep(lambda lr: next(losses), model, start=1e-3, end=1.0, steps=10)
    assert one_point.lrs == [1e-3]
    with pytest.raises(ValueError, match=r"lowest at lr=0.001, too close to the sweep's start.*start=1e-05"):
        one_point.suggestion()
    rising = lr_sweep(lambda lr: 1.0 + lr, model, start=1e-2, end=1.0, steps=10, smoothing=0.0)
    with pytest.raises(ValueError, match=r"too close to the sweep's start \(0.01\).*start=0.0001"):
        rising.suggestion()
    assert rising.suggestion(backoff=1) == 0.01


@pytest.mark.parametrize("backoff", [math.nan, math.inf, 0.5, -3])
def test_bad_backoff_is_explained(backoff):
    model, opt, step, _, _ = regression()
    sweep = lr_sweep(step, model, opt, start=1e-4, end=10, steps=60)
    with pytest.raises(ValueError, match="backoff"):
        sweep.suggestion(backoff)
