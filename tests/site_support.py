"""What the site's browser tests share: the site built once and served on 127.0.0.1, axe-core
run in a page, the alt-text check, and the learning-rate slider moved with the keyboard.

The site is built from the committed notebooks (``tools.build_site``) into a temporary folder
once per test run. axe-core comes from the npm tarball pinned in ``tools/vendor.py`` and is
injected into the page by the test (the site does not serve it). The slider's moves are the
same on a lesson page and on its slides: to a notch where training fails and to one where it
works, checking that the readout, the plot (its bytes, not only its ``src``) and the live
region that announces the readout all switch to the run saved there.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import tempfile
import threading
from pathlib import Path

from chromium_support import ARTIFACTS, skip_or_fail

LESSONS = ["01_count_to_3", "02_learning_rates", "03_sine_wave", "04_rnn_from_scratch", "05_optimizer_state",
           "06_bptt", "07_shakespeare"]
WORKED = r"^lr = [\d.]+: (?!.*diverged)(?!.*interrupted).*loss [\d.e-]+ → [\d.e-]+ after \d+ steps"  # finished


def _notches(name: str) -> tuple[list[str], int]:
    """The learning-rate slider's notch labels in the committed notebook's widget state, and its start."""
    nb = json.loads((Path(__file__).resolve().parent.parent / "notebooks" / f"{name}.ipynb").read_text())
    models = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"].values()
    slider = next(m["state"] for m in models if m["model_name"] == "SelectionSliderModel")
    return slider["_options_labels"], slider["index"]


def _top_and_tenth(name: str) -> list[tuple[str, str]]:
    """The slider's top notch, where training diverges, and the notch 10x below the start, where it works."""
    labels, start = _notches(name)
    return [(labels[-1], r"\bdiverged\b"), (labels[start - 2], WORKED)]


# the slider's moves on each lesson: (label of the notch, what its saved readout must say)
MOVES = {
    "01_count_to_3": [("100", r"\bdiverged\b|\b0 of 8 starts reached"), ("1", r"\b8 of 8 starts reached")],
    "02_learning_rates": _top_and_tenth("02_learning_rates"),
    "03_sine_wave": _top_and_tenth("03_sine_wave"),
}
DIGEST_JS = """async img => {
  const bytes = await (await fetch(img.src)).arrayBuffer();
  const hash = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(hash), b => b.toString(16).padStart(2, "0")).join("");
}"""
AXE_RUN = """async include => {
  const result = await axe.run(include ? {include: [include]} : document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v =>
    `${v.id} (${v.impact}): ${v.help}: ` + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ")
    + (v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ""));
}"""
GENERIC_ALT = ("no description has been provided", "image", "figure", "plot", "graph", "chart", "png")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@functools.cache
def _served_site() -> tuple[str, Path] | str:
    from tools.build_site import SiteError, build

    out = Path(tempfile.mkdtemp(prefix="course-site-")) / "site"
    try:
        build(out)
    except SiteError as err:  # offline without the cached scripts
        return str(err)
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", out


def served_site() -> tuple[str, Path]:
    """(base URL, folder) of the site built once per run; skips (or fails) when it cannot be built."""
    site = _served_site()
    if isinstance(site, str):
        skip_or_fail(site)
    return site


@functools.cache
def _axe_source() -> str:
    from tools.vendor import AXE, SiteError, vendored_files

    try:
        return vendored_files(AXE)["axe.min.js"].decode()
    except SiteError as err:
        return f"//{err}"


def axe_violations(page, include: str | None = None) -> list[str]:
    """The serious and critical violations axe-core finds on the page (or in ``include``)."""
    source = _axe_source()
    if source.startswith("//"):
        skip_or_fail(source[2:])
    page.add_script_tag(content=source)
    return page.evaluate(AXE_RUN, include)


def bad_alt_texts(page, scope: str = "body") -> list[str]:
    """Images in ``scope`` whose alt text is missing, empty, generic, or shared with another image."""
    alts = page.locator(f"{scope} img").evaluate_all("images => images.map(img => img.getAttribute('alt'))")
    bad = [repr(alt) for alt in alts if not alt or len(alt) < 20 or alt.strip().lower().rstrip(".") in GENERIC_ALT
           or GENERIC_ALT[0] in alt.lower()]
    return bad + [f"{alt!r} (twice)" for alt in set(alts) if alt and alts.count(alt) > 1]


def _digest(image) -> str:
    image.wait_for()
    return image.evaluate(DIGEST_JS)


def move_the_slider(page, name: str, scope: str = "body", shot: str = "site") -> None:
    """Keyboard moves of the learning-rate slider switch plot, readout and announcement to each
    notch's saved run; the handle is named after its label. Screenshots: ``{shot}-{name}-lr-*.png``."""
    explorer = page.locator(f"{scope} .widget-vbox:has(.noUi-handle):has(img.widget-image)").first
    explorer.wait_for(timeout=20_000)  # the widgets' manager has rendered the saved state
    explorer.scroll_into_view_if_needed()
    handle = explorer.locator(".noUi-handle").first  # the first slider is the learning rate
    label, readout = explorer.locator(".widget-readout").first, explorer.locator(".widget-html").first
    image, live = explorer.locator("img.widget-image").first, page.locator(f"{scope} .site-live[role=status]").first
    assert handle.get_attribute("aria-label") == "learning rate", "the slider's handle is named after its label"
    texts, digests = {readout.text_content()}, {_digest(image)}
    assert "lr = " in readout.text_content()
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
        page.wait_for_function("([el, text]) => el.textContent.trim() === text",
                               arg=[live.element_handle(), text.strip()], timeout=5_000)
        assert handle.get_attribute("aria-valuetext") == target, "the handle's value text is the notch's label"
        assert text.strip() in (image.get_attribute("alt") or ""), "the plot's alt text follows the readout"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{shot}-{name}-lr-{target}.png"))
