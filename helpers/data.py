"""The course's datasets: downloaded once, checked, cached under ``data/``.

    from helpers.data import load_text
    text = load_text("tinyshakespeare")     # 1,115,394 characters
    names = load_text("names").split()      # 32,033 names

An interrupted download never leaves half a file; a damaged copy is a :class:`DataError` that says
what to do, and is not deleted. ``COURSE_DATA_DIR`` names another cache folder (tests and CI).
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

DATA_DIR_ENV = "COURSE_DATA_DIR"
BASE = "https://raw.githubusercontent.com/karpathy"
# name: (file, address, SHA-256)
DATASETS = {
    "tinyshakespeare": ("tinyshakespeare.txt", f"{BASE}/char-rnn/master/data/tinyshakespeare/input.txt",
                        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),
    "names": ("names.txt", f"{BASE}/makemore/master/names.txt",
              "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"),
}


class DataError(RuntimeError):
    """A dataset could not be found, downloaded or verified. The message says what to do."""


def load_text(name: str) -> str:
    """The text of dataset ``name`` (``"tinyshakespeare"`` or ``"names"``), verified."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; the course has: {', '.join(sorted(DATASETS))}")
    filename, url, digest = DATASETS[name]
    configured = os.environ.get(DATA_DIR_ENV)       # the cache: $COURSE_DATA_DIR, else data/ in the course
    folder = Path(configured).expanduser() if configured else Path(__file__).resolve().parent.parent / "data"
    path = folder / filename
    offline = (f"To work offline, save {url} as {path} (or in the folder named by ${DATA_DIR_ENV}) "
               "and run again.")
    if path.exists():
        try:
            data = path.read_bytes()
        except OSError as err:
            raise DataError(f"cannot read {path} ({err.strerror or err}): if it is a folder, move it away; otherwise "
                            f"make it readable (chmod u+r), or set {DATA_DIR_ENV} to another folder") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise DataError(f"{path} is damaged or a different file (its SHA-256 does not match); delete it "
                            "and run again to download a fresh copy")
        return data.decode("utf-8")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            data = response.read()
    except OSError as err:
        raise DataError(f"could not download {filename} ({getattr(err, 'reason', err)}). {offline}") from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise DataError(f"downloaded {url} but its SHA-256 is not the one the course expects, so it was not "
                        f"kept: try again, or fetch it by hand. {offline}")
    tmp = path.with_name(f".{filename}.{os.getpid()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)       # an ordinary file: the permissions the umask gives
        os.replace(tmp, path)
    except OSError as err:
        if tmp.exists():
            tmp.unlink()
        raise DataError(f"cannot write to {path.parent} ({err.strerror or err}); set {DATA_DIR_ENV} to a "
                        "folder you can write to") from None
    return data.decode("utf-8")
