import pytest
import torch

from helpers.data import DataError, load_text
from helpers.models import CharModel
from helpers.names import encode_names, load_names, names_loss


def test_encode_names_shifts_targets_and_pads():
    stoi = {".": 0, "a": 1, "b": 2}
    X, Y = encode_names(["ab", "b"], stoi)
    assert X.tolist() == [[0, 1, 2], [0, 2, 0]]
    assert Y.tolist() == [[1, 2, 0], [2, 0, -1]]


def test_encode_names_explains_bad_input():
    with pytest.raises(ValueError, match="name 'az' needs 3 positions from the vocabulary"):
        encode_names(["az"], {".": 0, "a": 1})
    with pytest.raises(ValueError, match="name 'aaa' needs 4 positions from the vocabulary; length=2"):
        encode_names(["aaa"], {".": 0, "a": 1}, length=2)


def test_load_names_split_is_fixed_by_the_seed():
    try:
        a, b, other = load_names(seed=1), load_names(seed=1), load_names(seed=7)
    except DataError:
        pytest.skip("names dataset not available; set COURSE_DATA_DIR")
    assert a == b and a != other
    assert a.chars[0] == "." and len(a.chars) == 27
    everything = sorted(load_text("names").split())
    assert sorted(a.train + a.val + a.test) == everything, "a split partitions the whole list"
    assert (len(a.train), len(a.val)) == (25626, 3203)


def test_name_tensors_match_encode_names_and_the_loss_ignores_padding():
    try:
        names = load_names()
    except DataError:
        pytest.skip("names dataset not available; set COURSE_DATA_DIR")
    X_val, Y_val = names.tensors("val")
    X, Y = encode_names(names.val[:3], names.stoi, X_val.shape[1])
    assert torch.equal(X_val[:3], torch.from_numpy(X)) and torch.equal(Y_val[:3], torch.from_numpy(Y))
    assert X_val.shape[1] == names.tensors("train")[0].shape[1] == names.longest + 1, "every split padded alike"
    torch.manual_seed(0)
    model = CharModel(len(names.chars), embed=4, hidden=8, cell="rnn")
    loss = names_loss(model, X_val[:2], Y_val[:2])
    logits, _ = model(X_val[:2])
    keep = Y_val[:2] >= 0
    by_hand = -torch.log_softmax(logits, -1)[keep].gather(1, Y_val[:2][keep][:, None]).mean()
    assert torch.allclose(loss, by_hand)
