"""The first cell of every lesson: where tensors live, how many threads, which mode.

    from helpers.lesson import start_lesson

    device = start_lesson()                 # lessons 1-6: small models, the CPU
    device = start_lesson(device="auto")    # lesson 7: a GPU when there is one

It prints one line such as ``running in full mode on cpu (torch 2.13.0, 2 threads)``.
Set ``COURSE_DEVICE=cpu`` (or ``cuda``, ``mps``) to override lesson 7's automatic choice.
"""

from __future__ import annotations

import os

import torch

from helpers.budget import mode_name

DEVICE_ENV = "COURSE_DEVICE"
MAX_THREADS = 4  # the lessons' models are small: more threads than this only add overhead


def start_lesson(*, device: str = "cpu", threads: int | None = None) -> torch.device:
    """Pick the device (``"cpu"``, ``"auto"`` or a name), set torch's CPU threads (default:
    the cores, at most 4), print the mode, and return the device."""
    chosen = pick_device(None if device == "auto" else device)
    cores = os.cpu_count() or 1
    threads = min(MAX_THREADS, cores) if threads is None else threads
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    torch.set_num_threads(threads)
    print(f"running in {mode_name()} mode on {chosen} (torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads)")
    return chosen


def pick_device(prefer: str | None = None) -> torch.device:
    """Return ``prefer`` (or ``$COURSE_DEVICE``) if given, else the best device present
    (cuda, then mps, then cpu). A device that is asked for but absent is a ValueError."""
    wanted = prefer or os.environ.get(DEVICE_ENV) or None
    if wanted:
        kind = torch.device(wanted).type
        available = {
            "cpu": True,
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
        }
        if not available.get(kind, False):
            raise ValueError(
                f"device {wanted!r} was asked for but is not available here; "
                f"unset {DEVICE_ENV} or choose 'cpu'"
            )
        return torch.device(wanted)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
