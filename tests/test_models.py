import pytest
import torch

from helpers.models import CharModel, detach_state


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_shapes_state_and_config(cell):
    model = CharModel(vocab_size=11, embed=4, hidden=6, cell=cell, layers=2)
    x = torch.randint(0, 11, (3, 5))
    logits, state = model(x)
    assert logits.shape == (3, 5, 11)
    logits2, _ = model(x[:, :1], detach_state(state))
    assert logits2.shape == (3, 1, 11)
    for s in state if isinstance(state, tuple) else (state,):
        assert s.shape == (2, 3, 6)
    clone = CharModel(**model.config)
    assert [p.shape for p in clone.parameters()] == [p.shape for p in model.parameters()]


def test_detach_state_cuts_the_graph():
    model = CharModel(vocab_size=5, hidden=3, cell="lstm")
    _, state = model(torch.zeros(1, 2, dtype=torch.long))
    assert all(s.requires_grad for s in state)
    assert not any(s.requires_grad for s in detach_state(state)) and detach_state(None) is None


def test_bad_configuration_is_explained():
    with pytest.raises(ValueError, match="cell must be one of"):
        CharModel(5, cell="transformer")
    with pytest.raises(ValueError, match="at least 1"):
        CharModel(5, hidden=0)


def test_dropout_acts_while_training_only_and_old_configs_still_build():
    torch.manual_seed(0)
    model = CharModel(vocab_size=10, embed=8, hidden=16, cell="lstm", dropout=0.5)
    x = torch.randint(0, 10, (2, 12))
    model.train()
    assert not torch.equal(model(x)[0], model(x)[0]), "training: a fresh dropout mask each call"
    z = model.drop(torch.ones(2, 12, 8))
    assert set(z.unique().tolist()) == {0.0, 2.0}, "kept units are scaled by 1 / (1 - dropout)"
    assert torch.equal(z, z[:, :1].expand_as(z)), "one mask per stream, the same at every position"
    assert not torch.equal(z[0], z[1]), "each stream its own mask"
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0]), "eval: no dropout, the same output"
    old_config = {k: v for k, v in model.config.items() if k != "dropout"}    # saved before dropout existed
    assert CharModel(**old_config).config["dropout"] == 0.0
    with pytest.raises(ValueError, match="dropout"):
        CharModel(vocab_size=10, dropout=1.0)
