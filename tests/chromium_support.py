"""What the two browser tests share: Debian's Chromium driven by Playwright, and when to skip.

``COURSE_BROWSER_TESTS=required`` (set by ``.ci/run``) or ``=all`` turns a missing browser or
Playwright into a failure; otherwise the tests skip, saying why. ``COURSE_CHROMIUM`` overrides
the browser's path. Never ``playwright install``: it downloads another browser.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
MODE = os.environ.get("COURSE_BROWSER_TESTS", "")  # "", "required" (fail without Chromium) or "all"
REQUIRED = MODE in ("required", "all")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def skip_or_fail(message: str) -> None:
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def launch_chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright; closed afterwards."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium not found at {CHROMIUM}: install Debian's package with "
                     "`sudo apt-get install chromium` (not `playwright install`)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is missing: `.venv/bin/pip install playwright`")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
