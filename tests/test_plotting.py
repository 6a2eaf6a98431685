import math

import matplotlib.pyplot as plt
import pytest

from helpers.plotting import moving_average, plot_losses, tick_label


@pytest.mark.parametrize("exponent", range(-18, 4))
@pytest.mark.parametrize("mantissa", [1, 2, 3.16, 5])
def test_every_tick_from_1e_18_to_1e3_reads_as_its_own_number(exponent, mantissa):
    value = mantissa * 10.0**exponent
    label = tick_label(value)
    assert label not in ("0", "0.0", "0.000", "0.0000"), f"{value:g} must not read as zero"
    if label.startswith("$"):        # mathtext: m×10^e, read back
        body = label.strip("$").replace("{\\times}", "*").replace("10^{", "10**(").replace("}", ")")
        assert eval(body) == pytest.approx(value, rel=0.01), (label, value)   # our own label: safe to eval
    else:
        assert float(label) == pytest.approx(value, rel=0.01), (label, value)
    assert len(label.replace("{\\times}", "x").strip("$")) <= 13, "short labels"


def test_ticks_on_a_log_axis_over_twenty_decades_are_all_distinct_and_nonzero():
    ax = plot_losses({"gradient": [10.0**-k for k in range(19)]})
    plt.gcf().canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert len(labels) >= 3 and len(set(labels)) == len(labels) and "0" not in labels
    plt.close("all")


def test_moving_average_against_plain_means():
    values = [math.sin(i) for i in range(20)]
    steps, means = moving_average(values, 5)
    assert list(steps) == list(range(4, 20))
    assert means == pytest.approx([sum(values[i - 4:i + 1]) / 5 for i in range(4, 20)])
    assert len(moving_average(values[:3], 5)[0]) == 0
