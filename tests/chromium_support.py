"""What the browser tests share: Debian's Chromium driven by Playwright, when to skip, and a
page visited with every request outside the local server blocked.

``COURSE_BROWSER_TESTS=required`` (set by ``.ci/run``) or ``=all`` turns a missing browser or
Playwright into a failure, and runs the slow site checks too (:data:`SLOW`); otherwise the
tests skip, saying why. ``COURSE_CHROMIUM`` overrides the browser's path. Never
``playwright install``: it downloads another browser.
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
SLOW = pytest.mark.skipif(not REQUIRED, reason="a slow site check: COURSE_BROWSER_TESTS=required (or all) runs it")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


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


@contextmanager
def browser_context(width: int, height: int) -> Iterator[Any]:
    """A browser context (one window of that size) of a freshly launched Chromium; closed afterwards."""
    with launch_chromium() as chromium:
        context = chromium.new_context(viewport={"width": width, "height": height})
        try:
            yield context
        finally:
            context.close()


class Visit:
    """A page opened with every request outside the local server blocked, and its errors kept."""

    def __init__(self, context, base: str, path: str) -> None:
        self.base, self.outside, self.errors = base, [], []
        self.page = context.new_page()
        self.page.set_default_timeout(10_000)
        self.page.route("**/*", self._route)
        self.page.on("pageerror", lambda err: self.errors.append(f"page error: {err}"))
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text}"))
        self.page.goto(f"{base}/{path}")

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.base + "/"):
            route.continue_()
        else:
            self.outside.append(f"{route.request.resource_type} {url}")
            route.abort()

    def check_clean(self) -> None:
        assert not self.outside, f"the page asked for things outside the site: {self.outside}"
        assert not self.errors, f"the page reported errors: {self.errors}"

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name))

