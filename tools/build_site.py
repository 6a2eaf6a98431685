"""Build the course's static web site from the committed notebooks.

Usage, from the project root::

    .venv/bin/python -m tools.build_site                  # all lessons -> _site/
    .venv/bin/python -m tools.build_site --out /tmp/site  # somewhere else
    .venv/bin/python -m tools.build_site --only 01 03     # some lessons (and the index)

Then open ``_site/index.html``, or serve it: ``python -m http.server -d _site``.

Each lesson becomes one page (nbconvert's HTMLExporter, JupyterLab's look) with its prose,
code, outputs and plots, the saved state of its widgets (the learning-rate sliders of lessons
1 to 3 switch between the runs saved at each notch), a table of contents from its headings,
and links to the previous and next lesson; ``NN_name.ipynb`` links become ``NN_name.html``.
``index.html`` lists the lessons with their questions, taken from each notebook's first cell.
The notebooks are not run: the pages show the outputs they were committed with, and a
notebook holding an error output is refused (``tools/site_notebooks.py``).

No page loads anything from another site. The scripts the pages need (require.js, the
widgets' HTML manager, MathJax for lesson 4's formulas) come from the npm registry once,
pinned by version and SHA-256, cached in ``build/vendor/`` and copied into ``_site/assets/``
(``tools/vendor.py``). The site is built beside ``--out`` and swapped in when complete; a
folder this builder did not make, or one holding files it did not write, is refused
(``tools/site_output.py``).
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import time
from pathlib import Path

import mistune
from nbconvert import HTMLExporter

from tools.site_notebooks import Lesson, read_lesson
from tools.site_output import building, check_out
from tools.vendor import CACHE, SiteError, install_assets

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "_site"
TEMPLATES = Path(__file__).resolve().parent / "site_templates"
COURSE = "Counting to Shakespeare"


def _exporter() -> HTMLExporter:
    exporter = HTMLExporter(template_name="lab", extra_template_paths=[str(TEMPLATES)])
    exporter.template_file = "lesson.html.j2"
    exporter.require_js_url = "assets/requirejs/require.js"
    exporter.widget_renderer_url = "assets/html-manager/embed-amd.js"
    exporter.mathjax_url = "assets/mathjax/tex-chtml-full.js"
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    return exporter


def _lesson_links(body: str) -> str:
    """``01_count_to_3.ipynb`` (with or without a folder or an #anchor) -> ``01_count_to_3.html``."""
    return re.sub(r'href="(?:[^"#]*/)?(\d\d_\w+)\.ipynb(#[^"]*)?"', r'href="\1.html\2"', body)


def _toc(body: str) -> str:
    """A nested list of the page's headings (h1 to h3, as nbconvert gives them ids)."""
    items = []
    for level, anchor, text in re.findall(r'<h([1-3]) id="([^"]+)">(.*?)(?:<a class="anchor-link"|</h\1>)',
                                          body, re.S):
        plain = re.sub(r"<[^>]+>", "", text).strip()
        items.append(f'<li class="toc-h{level}"><a href="#{anchor}">{plain}</a></li>')
    return '<ul class="toc">' + "".join(items) + "</ul>"


def _pager(lessons: list[Lesson], i: int) -> str:
    links = []
    if i > 0:
        p = lessons[i - 1]
        links.append(f'<a rel="prev" href="{p.page}">← Lesson {p.number} · {html.escape(p.title)}</a>')
    links.append('<a href="index.html">all lessons</a>')
    if i + 1 < len(lessons):
        n = lessons[i + 1]
        links.append(f'<a rel="next" href="{n.page}">Lesson {n.number} · {html.escape(n.title)} →</a>')
    return '<nav class="pager" aria-label="lessons">' + "".join(links) + "</nav>"


def build_lesson(lessons: list[Lesson], i: int, site: Path, exporter: HTMLExporter | None = None) -> Path:
    """Write one lesson's page; returns its path."""
    lesson = lessons[i]
    nb = lesson.nb
    math = any(c.cell_type == "markdown" and "$" in c.source for c in nb.cells)
    nav = "".join(f'<li{" class=here" if j == i else ""}><a href="{other.page}">{other.number} · '
                  f'{html.escape(other.title)}</a></li>' for j, other in enumerate(lessons))
    resources = {"metadata": {"name": f"Lesson {lesson.number} · {lesson.title} · {COURSE}"},
                 "site": {"math": math, "course": COURSE, "lessons": nav, "pager": _pager(lessons, i)}}
    body, _ = (exporter or _exporter()).from_notebook_node(nb, resources=resources)
    body = _lesson_links(body).replace("<!--site-toc-->", _toc(body), 1)
    target = site / lesson.page
    target.write_text(body, encoding="utf-8")
    return target


def build_index(lessons: list[Lesson], site: Path) -> Path:
    rows = "".join(
        f'<tr><td>{lesson.number}</td><td><a href="{lesson.page}">{html.escape(lesson.title)}</a></td>'
        f"<td>{mistune.html(lesson.question).strip().removeprefix('<p>').removesuffix('</p>')}</td></tr>"
        for lesson in lessons)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{COURSE}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/site.css">
</head>
<body class="site-index">
<main>
<h1>{COURSE}</h1>
<p>A hands-on course on recurrent neural networks and learning rates, in Python and PyTorch:
from a network of 51 weights that learns to count <code>1 2 3 1 2 3</code> to one that writes
something like Shakespeare, all on a laptop CPU.</p>
<p>These pages show each lesson as it ran: prose, code, outputs and plots. The learning-rate
sliders of lessons 1 to 3 move between runs saved at each notch; to train for yourself, run the
notebooks (see the course's README).</p>
<table class="lessons">
<thead><tr><th>#</th><th>lesson</th><th>the question</th></tr></thead>
<tbody>{rows}</tbody>
</table>
</main>
</body>
</html>
"""
    target = site / "index.html"
    target.write_text(page, encoding="utf-8")
    return target


def build(out: Path = OUT, notebooks: Path = NOTEBOOKS, only: list[str] | None = None,
          cache: Path = CACHE) -> list[Path]:
    """Build the site into ``out`` (built beside it and swapped in when complete; a folder this
    builder did not make, or one holding files it did not write, is refused, see
    ``tools/site_output.py``); ``only`` picks lessons by number prefix ("01").

    Returns the pages written, index first.
    """
    check_out(out)
    paths = sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise SiteError(f"no lesson notebooks (NN_name.ipynb) in {notebooks}: give --notebooks the folder "
                        "that holds them.")
    lessons = [read_lesson(path) for path in paths]
    with building(out) as site:
        install_assets(site, cache)
        shutil.copy(TEMPLATES / "site.css", site / "assets" / "site.css")
        pages = [build_index(lessons, site)]
        exporter = _exporter()
        for i, lesson in enumerate(lessons):
            if only is None or any(lesson.path.name.startswith(prefix) for prefix in only):
                pages.append(build_lesson(lessons, i, site, exporter))
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
