import numpy as np
import pytest

from helpers.data import DataError, load_text
from helpers.gradcheck import numerical_gradient, relative_error
from helpers.names import encode_names, load_names


def test_encode_names_shifts_targets_and_pads():
    stoi = {".": 0, "a": 1, "b": 2}
    X, Y = encode_names(["ab", "b"], stoi)
    assert X.tolist() == [[0, 1, 2], [0, 2, 0]]
    assert Y.tolist() == [[1, 2, 0], [2, 0, -1]]


def test_encode_names_explains_bad_input():
    with pytest.raises(ValueError, match="character 'z' outside the vocabulary"):
        encode_names(["az"], {".": 0, "a": 1})
    with pytest.raises(ValueError, match="more than length=2"):
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
    with pytest.raises(ValueError, match="fractions"):
        load_names(train=0.9, val=0.2)


def test_numerical_gradient_matches_a_known_gradient():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])

    def f():
        return float(np.sum(np.sin(x)) + x[0, 0] * x[1, 1])

    expected = np.cos(x)
    expected[0, 0] += x[1, 1]
    expected[1, 1] += x[0, 0]
    before = x.copy()
    assert relative_error(numerical_gradient(f, x), expected) < 1e-9
    assert np.array_equal(x, before), "x is restored"


def test_gradient_check_needs_float64_and_relative_error_is_scale_free():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(2, dtype=np.float32))
    a = np.array([1.0, 2.0])
    assert relative_error(a, a) == 0.0 and relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert relative_error(1000 * a, 1000 * (a + 1e-3)) == pytest.approx(relative_error(a, a + 1e-3))
