"""The site's output folder: built beside it, swapped in only when complete, never someone else's.

A build writes into a fresh temporary folder next to ``out`` (same file system, so the swap is
two renames); if anything fails, that folder is removed and ``out`` is as it was. A finished
build leaves a marker file, ``MARKER``, that lists every file it wrote. A later build replaces
``out`` only if the marker is there and nothing beyond its list was added: a folder without it,
or with files the builder did not write, is refused and left alone. (A site from the builder
before the marker, its pages and assets and nothing else, is replaced too.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools.vendor import SiteError

MARKER = ".site-builder.json"


def _listing(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()} - {MARKER}


def _legacy(out: Path) -> bool:
    """A site from the builder before the marker: its pages, its assets and nothing else."""
    top = {p.name for p in out.iterdir()}
    assets = {p.name for p in (out / "assets").iterdir()} if (out / "assets").is_dir() else set()
    return (not (out / MARKER).exists() and {"index.html", "assets"} <= top
            and all(name in ("index.html", "assets") or re.fullmatch(r"\d\d_\w+\.html", name) for name in top)
            and assets <= {"html-manager", "requirejs", "mathjax", "site.css"})


def check_out(out: Path) -> None:
    """Refuse an ``out`` that is a file, or a folder holding anything this builder did not write."""
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out} is a file, not a folder: give --out a folder (a new one is made), "
                        "or move that file away.")
    if not out.exists() or not any(out.iterdir()):
        return
    if _legacy(out):
        return
    try:
        written = set(json.loads((out / MARKER).read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        first = sorted(_listing(out) or [p.name for p in out.iterdir()])[0]
        raise SiteError(f"{out} was not made by the site builder (no {MARKER} in it) and holds files such as "
                        f"{first}: nothing was changed there; choose another --out, or empty that folder "
                        "yourself.") from None
    extra = sorted(_listing(out) - written)
    if extra:
        shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        raise SiteError(f"{out} holds files the site builder did not write: {shown}. A rebuild replaces the "
                        f"whole folder, so move them out of {out} (or choose another --out) and build again.")


@contextmanager
def building(out: Path) -> Iterator[Path]:
    """A temporary folder to build into; on leaving without error it becomes ``out``, with its marker."""
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".building", dir=out.parent))
    try:
        yield staging
        (staging / MARKER).write_text(json.dumps({"builder": "python -m tools.build_site",
                                                  "files": sorted(_listing(staging))}, indent=1) + "\n",
                                      encoding="utf-8")
        check_out(out)  # again: something may have been put there while this build ran
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        if out.exists():
            out.rename(old)
        staging.rename(out)
        os.chmod(out, 0o755)  # mkdtemp makes it private; a site is for reading
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
