"""The course's web site, tested offline in a real browser.

The site is built from the committed notebooks (``tools.build_site``) into a temporary folder
and served by a local ``http.server`` thread on 127.0.0.1. Headless Chromium (Playwright)
opens every page with every request to another address blocked and recorded: a page that
asks for a script (or anything) from outside fails the test, as does any page error or
console error. On lessons 1 to 3 the test moves the learning-rate slider with the keyboard,
without a kernel, to a notch where training fails and to one where it works, and checks that
the plot (its bytes, not only its ``src``) and the readout switch to the runs saved there.
Every lesson page must show its plots, lesson 4 its formulas (MathJax, served by the site),
and the index must link to all seven lessons. Screenshots go to ``tests/artifacts/``.

Chromium comes from Debian's package, as in ``test_browser.py`` (same ``COURSE_BROWSER_TESTS``
switch: without Chromium the test skips unless it is ``required`` or ``all``).
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path

import pytest
from chromium_support import launch_chromium, skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
LESSONS = ["01_count_to_3", "02_learning_rates", "03_sine_wave", "04_rnn_from_scratch", "05_optimizer_state",
           "06_bptt", "07_shakespeare"]
WORKED = r"^lr = [\d.]+: loss [\d.e-]+ → [\d.e-]+ after 500 steps"  # finished, no guard's stop
# the slider's moves on each lesson: (label of the notch, what its saved readout must say)
MOVES = {
    "01_count_to_3": [("100", r"\b0 of 8 reached"), ("1", r"\b8 of 8 reached")],
    "02_learning_rates": [("9.17", r"\bdiverged\b"), ("0.0917", WORKED)],
    "03_sine_wave": [("1", r"\bdiverged\b"), ("0.00562", WORKED)],
}
DIGEST_JS = """async img => {
  const bytes = await (await fetch(img.src)).arrayBuffer();
  const hash = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(hash), b => b.toString(16).padStart(2, "0")).join("");
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built from the committed notebooks and served on 127.0.0.1; yields its base URL."""
    from tools.build_site import SiteError, build

    out = tmp_path_factory.mktemp("site")
    try:
        build(out)
    except SiteError as err:  # offline without the cached scripts
        skip_or_fail(str(err))
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        context = chromium.new_context(viewport={"width": 1300, "height": 1000})
        yield context
        context.close()


class Visit:
    """A page opened with every request outside the local server blocked, and its errors kept."""

    def __init__(self, context, base: str, path: str) -> None:
        self.base, self.outside, self.errors = base, [], []
        self.page = context.new_page()
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


def test_index_links_every_lesson(browser, site):
    visit = Visit(browser, site, "index.html")
    try:
        links = visit.page.locator("table.lessons a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert links == [f"{name}.html" for name in LESSONS]
        questions = visit.page.locator("table.lessons td:nth-child(3)").all_text_contents()
        assert len(questions) == 7 and all(len(q) > 20 for q in questions), "each lesson's question is listed"
        visit.check_clean()
    finally:
        visit.page.close()


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_page_shows_its_plots_contents_and_neighbours(browser, site, name):
    visit = Visit(browser, site, f"{name}.html")
    page = visit.page
    try:
        page.wait_for_load_state("load")
        visit.check_clean()  # the scripts are in by now: none from outside
        assert page.locator(".jp-OutputArea-output img").count() > 0, "the lesson's plots are on the page"
        toc = page.locator(".site-sidebar .toc a")
        assert toc.count() >= 5, "a table of contents from the headings"
        first_target = toc.first.get_attribute("href")
        assert page.locator(f"[id='{first_target[1:]}']").count() == 1, "contents links point at headings"
        i = LESSONS.index(name)
        pager = page.locator(".pager").first
        if i > 0:
            assert pager.locator("a[rel=prev]").get_attribute("href") == f"{LESSONS[i - 1]}.html"
        if i + 1 < len(LESSONS):
            assert pager.locator("a[rel=next]").get_attribute("href") == f"{LESSONS[i + 1]}.html"
        assert page.locator("a[href$='.ipynb']").count() == 0, "links between lessons point at pages"
        if name == "04_rnn_from_scratch":
            page.locator("mjx-container").first.wait_for(timeout=15_000)  # formulas typeset by the site's MathJax
        if name in MOVES:
            _move_the_slider(page, name)
        visit.check_clean()
    except Exception:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"site-{name}-failed.png"))
        raise
    finally:
        page.close()


def _move_the_slider(page, name: str) -> None:
    """Keyboard moves of the learning-rate slider switch plot and readout to each notch's saved run."""
    explorer = page.locator(".widget-vbox:has(.noUi-handle):has(img.widget-image)").first
    explorer.wait_for(timeout=20_000)  # the widgets' manager has rendered the saved state
    explorer.scroll_into_view_if_needed()
    handle = explorer.locator(".noUi-handle").first  # the first slider is the learning rate
    label = explorer.locator(".widget-readout").first
    readout = explorer.locator(".widget-html").first
    image = explorer.locator("img.widget-image").first
    texts, digests = {readout.text_content()}, {_digest(image)}
    assert "lr = " in readout.text_content()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"site-{name}-start.png"))
    for target, expected in MOVES[name]:
        before_src = image.get_attribute("src")
        handle.focus()
        for _ in range(40):  # one notch per key press
            now = label.text_content()
            if now == target:
                break
            handle.press("ArrowRight" if float(target) > float(now) else "ArrowLeft")
        assert label.text_content() == target, f"the slider never reached {target}"
        text = readout.text_content()
        assert text.startswith(f"lr = {target}:"), f"the readout shows another notch: {text!r}"
        assert re.search(expected, text), f"at lr = {target} the readout should match {expected!r}: {text!r}"
        assert image.get_attribute("src") != before_src, "the plot was swapped"
        digest = _digest(image)
        assert text not in texts and digest not in digests, f"at lr = {target} the page shows another notch's run"
        texts.add(text)
        digests.add(digest)
        page.screenshot(path=str(ARTIFACTS / f"site-{name}-lr-{target}.png"))


def _digest(image) -> str:
    image.wait_for()
    return image.evaluate(DIGEST_JS)
