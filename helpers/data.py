"""The course's datasets: downloaded once, checked, cached under ``data/``.

    from helpers.data import load_text
    text = load_text("tinyshakespeare")     # 1,115,394 characters
    names = load_text("names").split()      # 32,033 names

``load_text`` reads the cached copy when its SHA-256 matches; otherwise it downloads the
file from its public address, verifies the checksum and writes the cache atomically (a
temporary file renamed into place, so an interrupted download never leaves half a file),
with the permissions the umask gives (0644 with umask 022). A cached file that cannot be
read, or a folder where the file should be, is reported as a :class:`DataError` that says
what to do; nothing the user put there is deleted.

The cache folder is ``data/`` at the top of the course, or the folder named by the
environment variable ``COURSE_DATA_DIR`` (tests and CI point it at read-only copies).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

DATA_DIR_ENV = "COURSE_DATA_DIR"
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Dataset:
    """One downloadable text file and what it must hash to."""

    filename: str
    url: str
    size: int
    sha256: str
    description: str


DATASETS: dict[str, Dataset] = {
    "tinyshakespeare": Dataset(
        filename="tinyshakespeare.txt",
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        size=1_115_394,
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        description="40,000 lines of Shakespeare's plays, 65 distinct characters",
    ),
    "names": Dataset(
        filename="names.txt",
        url="https://raw.githubusercontent.com/karpathy/makemore/master/names.txt",
        size=228_145,
        sha256="0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
        description="32,033 common US baby names of 2018, one per line, lowercase a-z",
    ),
}


class DataError(RuntimeError):
    """A dataset could not be found, downloaded or verified. The message says what to do."""


def data_dir() -> Path:
    """The cache folder: ``$COURSE_DATA_DIR`` if set, else ``data/`` in the course."""
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured).expanduser() if configured else DEFAULT_DATA_DIR


def new_file_mode() -> int:
    """Permission bits a new file gets from the umask: ``0o644`` with umask ``022``.

    Read from ``/proc/self/status`` where there is one (setting the umask to read it back
    would briefly change it for every thread of the process).

        >>> oct(new_file_mode())
        '0o644'
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_path(name: str, *, download: bool = True) -> Path:
    """Path of a verified local copy of dataset ``name``, downloading it if needed."""
    if name not in DATASETS:
        known = ", ".join(sorted(DATASETS))
        raise ValueError(f"unknown dataset {name!r}; the course has: {known}")
    ds = DATASETS[name]
    folder = data_dir()
    path = folder / ds.filename
    try:
        exists = path.exists()
        if exists and not path.is_file():
            raise DataError(
                f"{path} is {'a folder' if path.is_dir() else 'something other than a file'}, not the file "
                f"{ds.filename}; move it away or rename it, then run "
                "again to download the file (or put the file there)"
            )
        matches = exists and sha256_of(path) == ds.sha256
    except OSError as exc:
        raise DataError(
            f"cannot read {path} ({exc.strerror or exc}); make it and its folder readable "
            f"(chmod u+r {path}, chmod u+rx {folder}), or set {DATA_DIR_ENV} to another folder"
        ) from None
    if matches:
        return path
    if exists:
        problem = (
            f"{path} is damaged or a different file (its SHA-256 does not match); "
            f"delete it and run again to download a fresh copy"
        )
    else:
        problem = f"{ds.filename} is not in {folder}"
    if not download:
        raise DataError(f"{problem}. {_manual_hint(ds, folder)}")
    if exists:
        raise DataError(problem)
    return _download(ds, folder)


def load_text(name: str, *, download: bool = True) -> str:
    """The text of dataset ``name`` (``"tinyshakespeare"`` or ``"names"``), verified."""
    path = dataset_path(name, download=download)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror or exc}); make it readable (chmod u+r {path})") from None


def _manual_hint(ds: Dataset, folder: Path) -> str:
    return (
        f"To work offline, download {ds.url} on a machine with internet, save it as "
        f"{folder / ds.filename} (or in the folder named by ${DATA_DIR_ENV}), and run again."
    )


def _download(ds: Dataset, folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{ds.filename}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise DataError(
            f"cannot write to the data folder {folder} ({exc.strerror}); "
            f"set {DATA_DIR_ENV} to a writable folder"
        ) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _fetch(ds, out, folder)
        got = sha256_of(tmp)
        if got != ds.sha256:
            raise DataError(
                f"downloaded {ds.url} but its SHA-256 is {got}, not {ds.sha256}; "
                f"the file was discarded. The source may have changed or the download was "
                f"corrupted: try again, or fetch it by hand. {_manual_hint(ds, folder)}"
            )
        final = folder / ds.filename
        os.chmod(tmp, new_file_mode())
        os.replace(tmp, final)
        return final
    finally:
        tmp.unlink(missing_ok=True)


def _fetch(ds: Dataset, out: BinaryIO, folder: Path) -> None:
    try:
        from tqdm.auto import tqdm

        with urllib.request.urlopen(ds.url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or ds.size)
            with tqdm(total=total, unit="B", unit_scale=True, desc=ds.filename) as bar:
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(
            f"could not download {ds.filename} ({reason}). {_manual_hint(ds, folder)}"
        ) from None
