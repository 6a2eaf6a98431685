"""Each lesson's slides, tested offline in Chromium the way a presenter uses them.

The deck (``slides/NN_name.html``, built with the site, see ``site_support.py``) is opened with
every outside request blocked. The test pages through it with the Right arrow key alone, one
press at a time, and checks that every slide and sub-slide is shown and every fragment (each
exercise and its solution) appears, in order, until the last. On the slide that holds the
learning-rate slider (lessons 1 to 3) it moves the slider with the keyboard to a notch where
training fails and one where it works, checks that plot, readout and announcement switch (and
that the keys moved the slider, not the slides), then presses Esc and pages on. The deck must
link back to its page, every figure must have a real alt text, and axe-core must find no serious
or critical violation, both on the deck as presented and with all its slides laid out one below
the other (reveal.js hides all but the current one, and axe checks only what is shown).

A slow site check (about 3 s a deck, 7 s for lesson 1's): it runs with
``COURSE_BROWSER_TESTS=required`` (``.ci/run``) or ``all`` and skips otherwise.
"""

from __future__ import annotations

import pytest
from chromium_support import SLOW, Visit, browser_context
from site_support import LESSONS, MOVES, axe_violations, bad_alt_texts, move_the_slider, served_site

STATE_JS = """() => {
  const leaves = [...document.querySelectorAll(".reveal .slides section:not(.stack)")];
  const present = document.querySelector(".reveal .slides section.present:not(.stack)");
  return {slide: leaves.indexOf(present), shown: present.querySelectorAll(".fragment.visible").length,
          fragments: present.querySelectorAll(".fragment").length,
          slider: !!present.querySelector(".noUi-handle")};
}"""
# every slide shown, one below the other, fragments visible: what axe can then check in one run
LAID_OUT_CSS = """
html, body, .reveal, .reveal .slides, .reveal .slides section { position: static !important; height: auto !important;
  max-height: none !important; overflow: visible !important; transform: none !important; zoom: 1 !important; }
.reveal .slides section, .reveal .slides .fragment { display: block !important; visibility: visible !important;
  opacity: 1 !important; }
.reveal * { transition: none !important; animation: none !important; }
.reveal .backgrounds, .reveal .controls, .reveal .progress, .reveal .slide-number { display: none !important; }
"""
SHOW_ALL_JS = """() => document.querySelectorAll(".reveal .slides section").forEach(section => {
  section.removeAttribute("hidden"); section.removeAttribute("aria-hidden"); })"""
pytestmark = SLOW


@pytest.fixture(scope="module")
def browser():
    with browser_context(1280, 720) as context:
        yield context


@pytest.mark.parametrize("name", LESSONS)
def test_slides_page_through_with_the_keyboard(browser, name):
    base, _ = served_site()
    visit = Visit(browser, base, f"slides/{name}.html")
    page = visit.page
    try:
        page.locator(".reveal.ready").wait_for(timeout=20_000)
        assert page.locator(".site-slides-nav a").get_attribute("href") == f"../{name}.html", "a link to the page"
        leaves = page.locator(".reveal .slides section:not(.stack)").count()
        fragments = page.locator(".reveal .slides .fragment").count()
        assert leaves >= 10 and page.locator(".reveal .slides > section").count() >= 5, "sections and sub-slides"
        states = page.locator("script[type='application/vnd.jupyter.widget-state+json']").count()
        assert states == 1 or name not in MOVES and states == 0, "the notebook's widget state, once"
        assert page.locator(".reveal .slides > section:has(h2[id='Exercises']) .fragment").count() >= 3, \
            "the exercises' solutions (and the exercises that fit) are fragments"
        assert axe_violations(page) == [], "the first slide, as presented"
        visits, moved = [page.evaluate(STATE_JS)], False
        while True:
            state = visits[-1]
            if state["slider"] and name in MOVES and not moved:
                move_the_slider(page, name, scope=".reveal section.present", shot="slides")
                assert page.evaluate(STATE_JS) == state, "keys on the slider move the slider, not the slides"
                page.keyboard.press("Escape")  # hands the keys back to the slides
                moved = True
            page.keyboard.press("ArrowRight")
            after = page.evaluate(STATE_JS)
            if after == state:
                break
            assert after["slide"] == state["slide"] + 1 and after["shown"] == 0 or \
                after["slide"] == state["slide"] and after["shown"] == state["shown"] + 1, f"in order: {after}"
            visits.append(after)
        assert moved or name not in MOVES, "the slider's slide was reached"
        assert [v["slide"] for v in visits if v["shown"] == 0] == list(range(leaves)), "every slide, in order"
        with_fragments = {v["slide"] for v in visits if v["fragments"]}
        assert sum(v["shown"] == v["fragments"] > 0 for v in visits) == len(with_fragments), "all of them shown"
        assert len(visits) == leaves + fragments, "every fragment appeared, one key press each"
        assert page.evaluate(STATE_JS)["slide"] == leaves - 1, "the last slide is the end"
        page.add_style_tag(content=LAID_OUT_CSS)
        page.evaluate(SHOW_ALL_JS)
        assert bad_alt_texts(page, ".reveal") == [], "every figure says what it shows"
        assert axe_violations(page, ".reveal") == [], "all slides laid out: no serious or critical violation"
        visit.check_clean()
    except Exception:
        visit.screenshot(f"slides-{name}-failed.png")
        raise
    finally:
        page.close()
