"""Build the course's static web site from the committed notebooks.

Usage, from the project root::

    .venv/bin/python -m tools.build_site                  # all lessons -> _site/
    .venv/bin/python -m tools.build_site --out /tmp/site  # somewhere else
    .venv/bin/python -m tools.build_site --only 01 03     # some lessons (and the index)

Then open ``_site/index.html``, or serve it: ``python -m http.server -d _site``.

Each lesson becomes one page (nbconvert's HTMLExporter, JupyterLab's look, its dark theme when
the reader's system asks for one) with its prose, code, outputs and plots (each with alt text
from the notebook, see ``tools/figures.py``), the saved state of its widgets (the learning-rate
sliders of lessons 1 to 3 switch between the runs saved at each notch), a table of contents from
its headings, links to the previous and next lesson, to its slides and to its notebook to
download, as run and as the students' copy; ``NN_name.ipynb`` links become ``NN_name.html``.
Each lesson is also a reveal.js deck, ``slides/NN_name.html`` (``tools/slides.py``), with the
same working sliders. ``index.html`` lists the lessons with their questions, taken from each
notebook's first cell. The notebooks are not run: the pages show the outputs they were
committed with, and a notebook holding an error output is refused.

No page loads anything from another site: the scripts come from npm tarballs pinned by SHA-256
(``tools/vendor.py``). The site is built beside ``--out`` and swapped in when complete; a folder
this builder did not make, or one holding files it did not write, is refused
(``tools/site_output.py``).
"""

from __future__ import annotations

import argparse
import functools
import html
import re
import shutil
import sys
import time
from pathlib import Path

import mistune
from nbconvert import HTMLExporter
from nbconvert.filters import clean_html

from tools.figures import add_alt_text
from tools.site_notebooks import Lesson, for_display, read_lesson, write_downloads
from tools.site_output import building, check_out
from tools.slides import slides_exporter, slideshow
from tools.vendor import CACHE, SiteError, install_assets

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "_site"
TEMPLATES = Path(__file__).resolve().parent / "site_templates"
COURSE = "Counting to Shakespeare"
# the page and the slides highlight and clean the same code cells: clean each once (most of the build's time)
CLEAN_HTML = functools.lru_cache(maxsize=4096)(clean_html)


def _exporter() -> HTMLExporter:
    exporter = HTMLExporter(template_name="lab", extra_template_paths=[str(TEMPLATES)])
    exporter.template_file = "lesson.html.j2"
    exporter.require_js_url = "assets/requirejs/require.js"
    exporter.widget_renderer_url = "assets/html-manager/embed-amd.js"
    exporter.mathjax_url = "assets/mathjax/tex-chtml-full.js"
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    return exporter


def _lesson_links(body: str, up: str = "") -> str:
    """``01_count_to_3.ipynb`` (with or without a folder or an #anchor) -> ``01_count_to_3.html``
    (``up``: the way from the page to the site's top, "../" for the slides); downloads stay."""
    def link(tag: re.Match) -> str:
        if re.search(r"\sdownload\b", tag.group(0)):
            return tag.group(0)
        return re.sub(r'href="(?:[^"#]*/)?(\d\d_\w+)\.ipynb(#[^"]*)?"', rf'href="{up}\1.html\2"', tag.group(0))

    return re.sub(r"<a\s[^>]*>", link, body)


def _toc(body: str) -> str:
    """A nested list of the page's headings (h1 to h3, as nbconvert gives them ids)."""
    items = []
    for level, anchor, text in re.findall(r'<h([1-3]) id="([^"]+)">(.*?)(?:<a class="anchor-link"|</h\1>)',
                                          body, re.S):
        plain = re.sub(r"<[^>]+>", "", text).strip()
        items.append(f'<li class="toc-h{level}"><a href="#{anchor}">{plain}</a></li>')
    return '<ul class="toc">' + "".join(items) + "</ul>"


def _pager(lessons: list[Lesson], i: int, label: str) -> str:
    links = []
    if i > 0:
        p = lessons[i - 1]
        links.append(f'<a rel="prev" href="{p.page}">← Lesson {p.number} · {html.escape(p.title)}</a>')
    links.append('<a href="index.html">all lessons</a>')
    if i + 1 < len(lessons):
        n = lessons[i + 1]
        links.append(f'<a rel="next" href="{n.page}">Lesson {n.number} · {html.escape(n.title)} →</a>')
    return f'<nav class="pager" aria-label="{label}">' + "".join(links) + "</nav>"


def _downloads(lesson: Lesson) -> str:
    """The sidebar's links to the lesson's slides and its two notebooks."""
    return (f'<li><a class="site-slides-link" href="{lesson.slides}">Slides, to present this lesson</a></li>'
            f'<li><a class="site-notebook" href="{lesson.notebook}" download>Notebook, as run (.ipynb)</a></li>'
            f'<li><a class="site-student" href="{lesson.student_notebook}" download>Student notebook: outputs '
            "cleared, solutions removed (.ipynb)</a></li>")


def build_lesson(lessons: list[Lesson], i: int, site: Path, exporters: tuple) -> list[Path]:
    """Write one lesson's page, its slides and its notebooks; returns the page and the slides."""
    lesson, (page_exporter, deck_exporter) = lessons[i], exporters
    nb = for_display(lesson.nb)
    add_alt_text(nb)
    name = f"Lesson {lesson.number} · {lesson.title}"
    math = any(c.cell_type == "markdown" and "$" in c.source for c in nb.cells)
    nav = "".join(f'<li{" class=here" if j == i else ""}><a href="{other.page}">{other.number} · '
                  f'{html.escape(other.title)}</a></li>' for j, other in enumerate(lessons))
    site_info = {"math": math, "course": COURSE, "lessons": nav, "downloads": _downloads(lesson),
                 "pager": _pager(lessons, i, "lessons"), "pager_end": _pager(lessons, i, "lessons, at the end"),
                 "page": lesson.page, "page_title": html.escape(f"{name}: the page")}
    body, _ = page_exporter.from_notebook_node(nb, resources={"metadata": {"name": f"{name} · {COURSE}"},
                                                              "site": site_info})
    body = _lesson_links(body).replace("<!--site-toc-->", _toc(body), 1)
    page, deck = site / lesson.page, site / lesson.slides
    page.write_text(body, encoding="utf-8")
    slides, _ = deck_exporter.from_notebook_node(slideshow(nb), resources={"metadata": {"name": name},
                                                                           "site": site_info})
    deck.parent.mkdir(exist_ok=True)
    deck.write_text(_lesson_links(slides, "../"), encoding="utf-8")
    write_downloads(lesson, site)
    return [page, deck]


def build_index(lessons: list[Lesson], site: Path) -> Path:
    rows = "".join(
        f'<tr><td>{lesson.number}</td><td><a href="{lesson.page}">{html.escape(lesson.title)}</a></td>'
        f"<td>{mistune.html(lesson.question).strip().removeprefix('<p>').removesuffix('</p>')}</td>"
        f'<td><a class="site-slides-link" href="{lesson.slides}" aria-label="slides of lesson {lesson.number}">'
        "slides</a></td></tr>"
        for lesson in lessons)
    target = site / "index.html"
    template = (TEMPLATES / "index.html").read_text(encoding="utf-8")
    target.write_text(template.format(course=COURSE, rows=rows), encoding="utf-8")
    return target


def _site_files(site: Path, exporter: HTMLExporter) -> None:
    """The site's own stylesheet and script, and JupyterLab's dark theme from nbconvert's lab template."""
    for name in ("site.css", "site.js"):
        shutil.copy(TEMPLATES / name, site / "assets" / name)
    dark = next(Path(p) / "static" / "theme-dark.css" for p in exporter.template_paths
                if (Path(p) / "static" / "theme-dark.css").is_file())
    shutil.copy(dark, site / "assets" / "theme-dark.css")


def build(out: Path = OUT, notebooks: Path = NOTEBOOKS, only: list[str] | None = None,
          cache: Path = CACHE) -> list[Path]:
    """Build the site into ``out`` (see the module's text); ``only`` picks lessons by number prefix ("01").

    Returns the pages written, index first, each lesson's page followed by its slides.
    """
    check_out(out)
    paths = sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise SiteError(f"no lesson notebooks (NN_name.ipynb) in {notebooks}: give --notebooks the folder "
                        "that holds them.")
    lessons = [read_lesson(path) for path in paths]
    with building(out) as site:
        install_assets(site, cache)
        exporters = (_exporter(), slides_exporter(str(TEMPLATES), "../assets"))
        for exporter in exporters:
            exporter.register_filter("clean_html", CLEAN_HTML)
        _site_files(site, exporters[0])
        pages = [build_index(lessons, site)]
        for i, lesson in enumerate(lessons):
            if only is None or any(lesson.path.name.startswith(prefix) for prefix in only):
                pages += build_lesson(lessons, i, site, exporters)
    return [out / page.relative_to(site) for page in pages]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default: {OUT.name}/)")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="the lessons' folder (default: notebooks/)")
    parser.add_argument("--only", nargs="+", metavar="NN", help="only these lessons, by number: 01 03")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        pages = build(args.out, args.notebooks, only=args.only)
    except SiteError as err:
        print(f"build_site: {err}", file=sys.stderr)
        return 1
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"wrote {len(pages)} pages to {args.out} ({size / 1e6:.1f} MB with assets) "
          f"in {time.perf_counter() - start:.1f} s; open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
