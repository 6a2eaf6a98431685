"""Each lesson as a reveal.js deck, laid out from the notebook's structure at build time.

:func:`slideshow` takes a lesson notebook (in memory; the committed one is never touched) and
returns a copy cut into slides: every ``#``/``##`` section starts a slide, a ``###`` a sub-slide
below it, and a cell that would overflow the slide it joins starts a sub-slide of its own
(heights are estimated from lines of text and the pixel size of images); a code cell too tall
for one slide shows its code, then its output on the next. In the "Exercises" section each
exercise (a numbered item) and each solution (a cell marked as one for nbgrader, see
``tools/student_version.py``, or a folded ``<details>`` block, which loses its fold: the fragment
is what hides it) is a fragment, shown one key press after the other. Markdown cells that hold
several sections or exercises are split first. nbconvert's SlidesExporter then writes the
deck with the site's template (``site_templates/slides.html.j2``), which carries the notebook's
widget state and the widgets' HTML manager, so the learning-rate sliders work on the slides.
"""

from __future__ import annotations

import base64
import copy
import itertools
import math
import re
import textwrap

import nbformat
from nbconvert import SlidesExporter

from tools.student_version import is_solution

SLIDE_LINES = 21            # lines of 20 px text that fit below a slide's heading (1280 x 720)
LINE_PX = 30                # one line's height, for images
WIDGET_LINES = 19           # a slider with its plot and readout
EXERCISES = re.compile(r"^##\s+Exercises?\b", re.I)
ITEM = re.compile(r"^\d+\.\s", re.M)
DETAILS = re.compile(r"^[ \t]*<details>\s*<summary>(.*?)</summary>\s*\n(.*?)^[ \t]*</details>[ \t]*\n?",
                     re.S | re.M | re.I)


def _sections(source: str) -> list[str]:
    """A markdown cell's text cut before each ``#``/``##`` heading (outside fenced code)."""
    parts, fenced = [[]], False
    for line in source.splitlines(keepends=True):
        fenced ^= line.lstrip().startswith("```")
        if not fenced and re.match(r"#{1,2}\s", line) and any(s.strip() for s in parts[-1]):
            parts.append([])
        parts[-1].append(line)
    return ["".join(p).strip("\n") for p in parts if "".join(p).strip()]


def _items(section: str) -> list[tuple[str, str]]:
    """Markdown cut before each numbered item (``1. ...`` at the line's start), each item's folded
    solution (``<details>``) taken out of it as a piece of its own: (role, markdown)."""
    starts = [0] + [m.start() for m in ITEM.finditer(section) if m.start() > 0]
    parts = []
    for start, end in zip(starts, starts[1:] + [len(section)], strict=True):
        item = section[start:end]
        parts.append(("text", DETAILS.sub("", item).strip()))
        parts += [("solution", f"**{m.group(1).strip().rstrip('.')}.**\n\n{textwrap.dedent(m.group(2)).strip()}")
                  for m in DETAILS.finditer(item)]
    return [(role, text) for role, text in parts if text]


def _split(cell: nbformat.NotebookNode) -> list[tuple[str, nbformat.NotebookNode]]:
    """A cell as the pieces the slides show: (role, cell), the role "solution" or "text"."""
    role = "solution" if is_solution(cell) else "text"
    if cell.cell_type == "code" and cell.source.strip() and cell.get("outputs") and height(cell) > SLIDE_LINES:
        code, output = copy.deepcopy(cell), copy.deepcopy(cell)   # too tall for one slide: code, then output
        code.outputs = []
        output.metadata["transient"] = {"remove_source": True}
        if "id" in cell:
            output.id = f"{cell.id}-output"[:64]
        return [(role, code), (role, output)]
    if cell.cell_type != "markdown" or role == "solution":
        return [(role, cell)]
    pieces = []
    for section in _sections(cell.source):
        for part_role, text in _items(section) if EXERCISES.match(section) or ITEM.match(section) else \
                [("text", section)]:
            piece = copy.deepcopy(cell)
            piece.source = text
            if "id" in cell:
                piece.id = f"{cell.id}-{len(pieces)}"[:64]
            pieces.append((part_role, piece))
    return pieces


def _png_lines(data: str) -> float:
    """Lines of text an image takes: its height in pixels, scaled to fit the slide's width."""
    head = base64.b64decode(data.replace("\n", "")[:32])  # the signature and the IHDR chunk's size
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return height * min(1.0, 1100 / max(width, 1)) / LINE_PX


def height(cell: nbformat.NotebookNode) -> float:
    """A rough height of a cell on a slide, in lines of text."""
    def text_lines(text: str, width: int) -> float:
        return sum(math.ceil(len(line) / width) if line.strip() else 0.5 for line in text.splitlines())

    if cell.cell_type == "markdown":
        return text_lines(cell.source, 95) + 1.5 * len(re.findall(r"^#", cell.source, re.M))
    lines = text_lines(cell.source, 90) + 1 if cell.source.strip() else 0
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if output.get("output_type") == "stream":
            lines += text_lines(output.get("text", ""), 100)
        elif "application/vnd.jupyter.widget-view+json" in data:
            lines += WIDGET_LINES
        elif "image/png" in data:
            lines += _png_lines(data["image/png"])
        elif "text/plain" in data:
            lines += text_lines(data["text/plain"], 100)
    return lines


def slideshow(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with ``metadata.slideshow.slide_type`` set on every cell (see the module's text)."""
    deck = copy.deepcopy(nb)
    pieces = [piece for cell in deck.cells for piece in _split(cell)]
    deck.cells, used, exercises = [], math.inf, False
    for i, (role, cell) in enumerate(pieces):
        size, heading = height(cell), cell.cell_type == "markdown" and re.match(r"#{1,2}\s", cell.source)
        if heading:
            exercises = bool(EXERCISES.match(cell.source))
        if exercises and role == "text" and cell.cell_type == "markdown" and ITEM.match(cell.source):
            role = "exercise"
        # an exercise needs room for its solutions too: they are never sent to a sub-slide of their own
        needed = size + sum(height(c) for _, c in itertools.takewhile(lambda p: p[0] == "solution", pieces[i + 1:]))
        if not cell.source.strip() and not cell.get("outputs"):
            kind = "skip"
        elif heading:
            kind = "slide"
        elif role == "solution":
            kind = "fragment"
        elif cell.cell_type == "markdown" and re.match(r"###\s", cell.source) or used + needed > SLIDE_LINES:
            kind = "subslide"
        else:
            kind = "fragment" if role == "exercise" else "-"
        used = size if kind in ("slide", "subslide") else used + (size if kind != "skip" else 0)
        cell.metadata["slideshow"] = {"slide_type": kind}
        deck.cells.append(cell)
    if deck.cells:
        deck.cells[0].metadata["slideshow"] = {"slide_type": "slide"}
    return deck


def slides_exporter(templates: str, assets: str) -> SlidesExporter:
    """nbconvert's SlidesExporter with the site's template, scripts from ``assets``, 1280 x 720 slides."""
    exporter = SlidesExporter(extra_template_paths=[templates])
    exporter.template_file = "slides.html.j2"
    exporter.reveal_url_prefix = f"{assets}/reveal"
    exporter.reveal_theme, exporter.reveal_transition, exporter.reveal_number = "white", "fade", "c/t"
    exporter.reveal_width, exporter.reveal_height = "1280", "720"
    exporter.require_js_url = f"{assets}/requirejs/require.js"
    exporter.widget_renderer_url = f"{assets}/html-manager/embed-amd.js"
    exporter.mathjax_url = f"{assets}/mathjax/tex-chtml-full.js"
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    return exporter
