"""The web site's copy of a slider: one saved run at every learning-rate notch (lessons 1 to 3).

A static page has no kernel to re-train, so in full mode a lesson calls, after ``show()``::

    from tools.notches import save_every_notch
    explorer.show()
    save_every_notch(explorer)     # full mode: trains once per notch; quick mode: nothing

Each notch's plot (with the starting rate's curve in grey) and readout go into the widgets that
the slider's ``jslink`` switches between, so the notebook's saved widget state holds them all.
It trains on one CPU thread: these models are too small to gain from more, and on a busy
machine torch's threads mostly wait for each other.
"""

from __future__ import annotations

import torch

from helpers.lesson import quick_mode
from helpers.sliders import LRExplorer


def save_every_notch(explorer: LRExplorer) -> int:
    """Train at every notch with the current steps and drop-downs; return how many notches hold
    a run. A run that raises is written into its notch's readout, and the others still run."""
    if quick_mode():
        return 0
    reference, here = explorer.result, explorer.lr_slider.index
    steps = explorer.steps_slider.value
    options = {name: d.value for name, d in explorer.dropdowns.items()}
    threads, done = torch.get_num_threads(), 0
    torch.set_num_threads(1)
    try:
        for index, lr in enumerate(explorer.notches):
            explorer.status.value = f"<i>saving a run at every learning rate for the web page: {lr:.3g} " \
                                    f"({index + 1} of {len(explorer.notches)})…</i>"
            if index != here:
                try:
                    result = explorer.run(lr, steps, **options)
                except Exception as err:
                    failed = f"the run failed ({type(err).__name__}: {err})"
                    explorer.readouts[index].value = f"<b>lr = {lr:.3g}: {failed}</b>"
                    continue
                if result.stopped and result.diverged_at is None:
                    break                 # interrupted: the remaining notches stay empty
                explorer.plots[index].value = explorer.render(result, reference, label="starting rate")
                explorer.readouts[index].value = f"<b>{result.readout()}</b>"
            done += 1
    finally:
        torch.set_num_threads(threads)
        explorer.status.value = ""
    return done
