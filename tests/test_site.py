"""The course's web site, tested offline in a real browser.

The site is built from the committed notebooks (``tools.build_site``) into a temporary folder
and served by a local ``http.server`` thread on 127.0.0.1 (``site_support.py``). Headless
Chromium (Playwright) opens every page with every request to another address blocked and
recorded: a page that asks for a script (or anything) from outside fails the test, as does any
page error or console error. On lessons 1 to 3 the test moves the learning-rate slider with
the keyboard, without a kernel, to a notch where training fails and to one where it works, and
checks that the plot (its bytes, not only its ``src``), the readout and the announcement of
the live region switch to the runs saved there. Every lesson page must show its plots, each
with an alt text that is neither empty nor generic nor another figure's, lesson 4 its formulas
(MathJax, served by the site), and links to its slides and to its two notebooks, which the site
serves (the students' copy without outputs or solutions). The index must link to all seven
lessons and their slides. axe-core must find no serious or critical violation on the index
and on every lesson page, and on lesson 1's page in dark mode, where the page must be dark and
every figure on its own opaque white background. Screenshots go to ``tests/artifacts/``.

Chromium comes from Debian's package, as in ``test_browser.py`` (same ``COURSE_BROWSER_TESTS``
switch). The whole module is a slow site check: it runs with ``COURSE_BROWSER_TESTS=required``
(set by ``.ci/run``) or ``all`` and skips otherwise, keeping the default ``pytest`` in its budget
(building the site and these pages took about 30 s of it).
"""

from __future__ import annotations

import io
import json
import urllib.request

import pytest
from chromium_support import SLOW, Visit, browser_context
from site_support import LESSONS, MOVES, axe_violations, bad_alt_texts, move_the_slider, served_site

pytestmark = SLOW

UNFOLDED_SOLUTIONS = """() => Array.from(document.querySelectorAll(".jp-Cell")).filter(cell =>
  (cell.matches(".celltag_solution") || cell.querySelector(".celltag_solution"))
  && !cell.closest("details.site-solution:not([open])")).length"""


@pytest.fixture(scope="module")
def site():
    """The base URL of the site, built from the committed notebooks and served on 127.0.0.1."""
    return served_site()[0]


@pytest.fixture(scope="module")
def browser():
    with browser_context(1300, 1000) as context:
        yield context


def test_index_links_every_lesson_and_its_slides(browser, site):
    visit = Visit(browser, site, "index.html")
    try:
        links = visit.page.locator("table.lessons a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert links == [f"{kind}{name}.html" for name in LESSONS for kind in ("", "slides/")]
        questions = visit.page.locator("table.lessons td:nth-child(3)").all_text_contents()
        assert len(questions) == 7 and all(len(q) > 20 for q in questions), "each lesson's question is listed"
        assert axe_violations(visit.page) == []
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
        assert page.locator("main a[href$='.ipynb']").count() == 0, "links between lessons point at pages"
        if name == "04_rnn_from_scratch":
            page.locator("mjx-container").first.wait_for(timeout=15_000)  # formulas typeset by the site's MathJax
        if name in MOVES:
            move_the_slider(page, name)
        else:
            page.wait_for_timeout(300)  # lesson 7's sampler: drawn by the widgets' manager, then checked
        assert bad_alt_texts(page) == [], "every figure says what it shows"
        assert page.evaluate(UNFOLDED_SOLUTIONS) == 0, "each solution cell is folded under Solution"
        assert "BEGIN SOLUTION" not in page.locator("main").inner_text(), "nbgrader's markers are not shown"
        _check_downloads(page, site, name)
        visit.check_clean()
    except Exception:
        visit.screenshot(f"site-{name}-failed.png")
        raise
    finally:
        page.close()


def _check_downloads(page, site: str, name: str) -> None:
    """The page links its slides and both notebooks, served by the site; the students' has no outputs."""
    links = page.locator(".site-get a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert links == [f"slides/{name}.html", f"notebooks/{name}.ipynb", f"notebooks/{name}-student.ipynb"]
    full, student = (json.load(urllib.request.urlopen(f"{site}/{link}")) for link in links[1:])
    assert any(cell.get("outputs") for cell in full["cells"]), "the notebook as run keeps its outputs"
    assert not any(cell.get("outputs") for cell in student["cells"]), "the students' copy has none"
    assert "<summary>Solution" not in json.dumps(student) and "widgets" not in student["metadata"]
    assert "BEGIN SOLUTION" not in json.dumps(student), "nbgrader's solutions are stubbed"


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_page_has_no_serious_accessibility_violation(browser, site, name):
    visit = Visit(browser, site, f"{name}.html")
    try:
        visit.page.locator(".jp-OutputArea-output img").first.wait_for()
        visit.page.wait_for_load_state("load")
        visit.page.wait_for_timeout(300)  # the widgets' manager draws the sliders after the load
        assert axe_violations(visit.page) == [], "no serious or critical accessibility violation"
        visit.check_clean()
    finally:
        visit.page.close()


def test_dark_mode_keeps_figures_on_white_and_text_legible(browser, site):
    from PIL import Image

    context = browser.browser.new_context(viewport={"width": 1300, "height": 1000}, color_scheme="dark")
    visit = Visit(context, site, f"{LESSONS[0]}.html")
    page = visit.page
    try:
        page.locator("img.widget-image").first.wait_for(timeout=20_000)
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert sum(map(int, background[4:-1].split(",")[:3])) < 3 * 60, f"the page is dark: {background}"
        found = page.locator(".jp-RenderedImage img, img.widget-image")
        # a slider's Stack shows one notch's plot; the others are hidden until the slider moves there
        figures = [found.nth(i) for i in range(found.count()) if found.nth(i).is_visible()]
        assert len(figures) >= 4
        for i, figure in enumerate(figures):
            shot = Image.open(io.BytesIO(figure.screenshot())).convert("RGB")
            corners = [shot.getpixel((x, y)) for x in (1, shot.width - 2) for y in (1, shot.height - 2)]
            assert all(min(pixel) >= 235 for pixel in corners), f"figure {i} is not on white in dark mode: {corners}"
        page.locator(".jp-RenderedImage img").first.scroll_into_view_if_needed()
        visit.screenshot("site-dark-mode.png")
        assert axe_violations(page) == [], "dark mode: text contrast and everything else held"
        visit.check_clean()
    finally:
        context.close()
