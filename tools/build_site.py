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
The notebooks are not run: the pages show the outputs they were committed with.

No page loads anything from another site. The scripts the pages need (require.js, the
widgets' HTML manager, MathJax for lesson 4's formulas) come from the npm registry once,
pinned by version and SHA-256, cached in ``build/vendor/`` and copied into ``_site/assets/``.
Offline, put the tarballs (names below) in that folder by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import re
import shutil
import sys
import tarfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import mistune
import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "_site"
CACHE = ROOT / "build" / "vendor"
TEMPLATES = Path(__file__).resolve().parent / "site_templates"
COURSE = "Counting to Shakespeare"


@dataclass(frozen=True)
class Vendored:
    """An npm tarball, pinned, and the files the site takes from it (globs under ``package/``)."""

    name: str
    version: str
    sha256: str
    files: tuple[str, ...]
    dest: str  # folder under assets/

    @property
    def url(self) -> str:
        return f"https://registry.npmjs.org/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"

    @property
    def filename(self) -> str:
        return f"{self.name.replace('@', '').replace('/', '-')}-{self.version}.tgz"


# @jupyter-widgets/html-manager 1.0.15 renders the models of ipywidgets 8.1.9 (controls 2.0.0, base 2.0.0)
VENDORED = (
    Vendored("@jupyter-widgets/html-manager", "1.0.15",
             "2b9d65cb7913e1c7d671757a10008b32c9c2448d4429513371e55c07d6107638",
             ("dist/embed-amd.js", "dist/*.woff2", "dist/*.woff", "dist/*.ttf", "dist/*.eot"), "html-manager"),
    Vendored("requirejs", "2.3.8", "777158e89275e16bd51aec3ef714fbcb5dc45789e7078659933bc814916d7dec",
             ("require.js",), "requirejs"),
    Vendored("mathjax", "3.2.2", "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09",
             ("es5/tex-chtml-full.js", "es5/output/chtml/fonts/woff-v2/*.woff"), "mathjax"),
)
REQUIRE_JS = "assets/requirejs/require.js"
WIDGETS_JS = "assets/html-manager/embed-amd.js"
MATHJAX_JS = "assets/mathjax/tex-chtml-full.js"


class SiteError(RuntimeError):
    """The site cannot be built (a download failed, a checksum differs, a notebook is missing)."""


@dataclass(frozen=True)
class Lesson:
    path: Path
    number: int
    title: str      # "Can a neural network learn to count to 3?"
    question: str   # the "**The question:** ..." sentence(s), as Markdown

    @property
    def page(self) -> str:
        return self.path.stem + ".html"


def fetch_vendored(package: Vendored, cache: Path = CACHE) -> Path:
    """The package's tarball from the cache, downloaded and verified first if it is not there."""
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / package.filename
    if not target.exists():
        print(f"downloading {package.name} {package.version} from the npm registry", file=sys.stderr)
        tmp = target.with_suffix(".part")
        try:
            with urllib.request.urlopen(package.url, timeout=60) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise SiteError(f"could not download {package.name} {package.version} from {package.url}: {err}. "
                            f"Offline? Save that file as {target} and build again.") from err
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        if digest != package.sha256:
            tmp.unlink()
            raise SiteError(f"the download from {package.url} has SHA-256 {digest}, not the pinned "
                            f"{package.sha256} of {package.name} {package.version}; nothing was kept.")
        tmp.replace(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    if digest != package.sha256:
        raise SiteError(f"{target} has SHA-256 {digest}, not the pinned {package.sha256} of {package.name} "
                        f"{package.version}: the file is damaged or not that release. Delete it and build again.")
    return target


def install_assets(site: Path, cache: Path = CACHE) -> None:
    """Copy the pinned scripts (and their fonts) into ``site/assets/``, and the site's CSS."""
    assets = site / "assets"
    for package in VENDORED:
        tarball = fetch_vendored(package, cache)
        dest = assets / package.dest
        with tarfile.open(tarball) as tar:
            for member in tar.getmembers():
                inner = member.name.removeprefix("package/")
                if not member.isfile() or not any(Path(inner).match(pattern) for pattern in package.files):
                    continue
                # keep the layout below the first pattern's folder (MathJax finds its fonts relative to itself)
                base = package.files[0].rsplit("/", 1)[0] + "/" if "/" in package.files[0] else ""
                relative = inner.removeprefix(base)
                (dest / relative).parent.mkdir(parents=True, exist_ok=True)
                (dest / relative).write_bytes(tar.extractfile(member).read())
    shutil.copy(TEMPLATES / "site.css", assets / "site.css")


def read_lesson(path: Path) -> Lesson:
    """Number, title and question from the first cell: '# Lesson 1 · Title' and '**The question:** ...'."""
    first = nbformat.read(path, as_version=4).cells[0].source
    heading = re.match(r"#\s*Lesson\s+(\d+)\s*·\s*(.+)", first)
    if heading is None:
        raise SiteError(f"{path.name}: the first cell should start with '# Lesson N · title'")
    question = re.search(r"\*\*The\s+question:\*\*\s*(.+?)(?:\n\s*\n|$)", first, re.S)
    return Lesson(path, int(heading.group(1)), heading.group(2).strip(),
                  " ".join(question.group(1).split()) if question else "")


def _exporter() -> HTMLExporter:
    exporter = HTMLExporter(template_name="lab", extra_template_paths=[str(TEMPLATES)])
    exporter.template_file = "lesson.html.j2"
    exporter.require_js_url = REQUIRE_JS
    exporter.widget_renderer_url = WIDGETS_JS
    exporter.mathjax_url = MATHJAX_JS
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
    nb = nbformat.read(lesson.path, as_version=4)
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
    """Build the site into ``out`` (a previous build there is replaced; a folder holding anything
    else is refused); ``only`` picks lessons by number prefix ("01").

    Returns the pages written, index first.
    """
    paths = sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise SiteError(f"no lesson notebooks (NN_name.ipynb) in {notebooks}")
    lessons = [read_lesson(path) for path in paths]
    if out.exists() and any(out.iterdir()):
        if not ((out / "index.html").is_file() and (out / "assets").is_dir()):
            raise SiteError(f"{out} holds other files, not a site built here: choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    install_assets(out, cache)
    pages = [build_index(lessons, out)]
    exporter = _exporter()
    for i, lesson in enumerate(lessons):
        if only is None or any(lesson.path.name.startswith(prefix) for prefix in only):
            pages.append(build_lesson(lessons, i, out, exporter))
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default: {OUT.name}/)")
    parser.add_argument("--only", nargs="+", metavar="NN", help="only these lessons, by number: 01 03")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        pages = build(args.out, only=args.only)
    except SiteError as err:
        print(f"build_site: {err}", file=sys.stderr)
        return 1
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"wrote {len(pages)} pages to {args.out} ({size / 1e6:.1f} MB with assets) "
          f"in {time.perf_counter() - start:.1f} s; open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
