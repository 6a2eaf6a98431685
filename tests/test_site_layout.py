"""How the site lays a lesson out, without a browser: the slides cut from the notebook's
structure (``tools/slides.py``) and the figures' alt texts (``tools/figures.py``), on the
committed lessons, read into memory and never written back.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tools.figures import add_alt_text, describe
from tools.site_notebooks import for_display
from tools.slides import SLIDE_LINES, height, slideshow
from tools.student_version import is_solution

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _kinds(deck: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.metadata["slideshow"]["slide_type"], cell.source) for cell in deck.cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_slides_follow_the_lessons_structure(path):
    nb = nbformat.read(path, as_version=4)
    assert not any("slideshow" in cell.metadata for cell in nb.cells), "the committed notebook holds no slide layout"
    before = nbformat.writes(nb)
    deck = slideshow(nb)
    assert nbformat.writes(nb) == before, "the notebook itself is left as it was"
    kinds = _kinds(deck)
    assert kinds[0][0] == "slide" and kinds[0][1].startswith("# Lesson")
    headings = re.findall(r"^## .+", "\n".join(c.source for c in nb.cells if c.cell_type == "markdown"), re.M)
    starts = [source.splitlines()[0] for kind, source in kinds if kind == "slide"]
    assert starts[1:] == headings, "each ## section, and only those, starts a slide"
    exercises = next(i for i, (_, source) in enumerate(kinds) if source.startswith("## Exercises"))
    after = kinds[exercises + 1:]
    solutions = [kind for (kind, source), cell in zip(after, deck.cells[exercises + 1:], strict=True)
                 if source.startswith("**Solution") or is_solution(cell)]
    assert solutions and set(solutions) == {"fragment"}, "every solution (folded or nbgrader's) is a fragment"
    items = [kind for kind, source in after if re.match(r"\d+\. ", source)]
    assert len(items) >= 3 and set(items) <= {"fragment", "subslide"}, "an exercise too, unless it needs a new slide"
    assert not any("<details>" in source for _, source in after), "a solution's fold is gone on the slides"
    for cell in deck.cells:  # a sub-slide holds what fits on it, unless one cell is taller by itself
        assert cell.metadata["slideshow"]["slide_type"] != "-" or height(cell) <= SLIDE_LINES


def test_a_long_cell_gets_a_sub_slide_and_its_output_the_next():
    nb = nbformat.v4.new_notebook()
    long_code = "\n".join(f"x{i} = {i}" for i in range(SLIDE_LINES + 5))
    stream = nbformat.v4.new_output("stream", text="\n".join(map(str, range(10))))
    nb.cells = [nbformat.v4.new_markdown_cell("## A section"), nbformat.v4.new_code_cell("a = 1"),
                nbformat.v4.new_code_cell(long_code, outputs=[stream]), nbformat.v4.new_markdown_cell("### More"),
                nbformat.v4.new_markdown_cell("text")]
    kinds = [kind for kind, _ in _kinds(slideshow(nb))]
    assert kinds == ["slide", "-", "subslide", "subslide", "subslide", "-"]
    assert slideshow(nb).cells[3].metadata["transient"] == {"remove_source": True}, "the output, without its code"


def test_a_cell_with_two_sections_and_exercises_is_split():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
        "## Recap\n\n* one\n\n## Exercises\n\n1. **First.** Do it.\n\n   <details><summary>Solution</summary>\n\n"
        "   Done.\n   ```python\n   x = 1\n   ```\n   </details>\n\n2. **Second.** Again.\n")]
    assert _kinds(slideshow(nb)) == [("slide", "## Recap\n\n* one"), ("slide", "## Exercises"),
                                     ("fragment", "1. **First.** Do it."),
                                     ("fragment", "**Solution.**\n\nDone.\n```python\nx = 1\n```"),
                                     ("fragment", "2. **Second.** Again.")]


def test_nbgrader_solution_cells_are_fragments_after_their_exercise():
    nb = nbformat.v4.new_notebook()
    solution = {"nbgrader": {"solution": True, "grade_id": "ex1"}}
    nb.cells = [nbformat.v4.new_markdown_cell("## Exercises"), nbformat.v4.new_markdown_cell("1. **First.** Do it."),
                nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", metadata=solution),
                nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\nBecause.\n### END SOLUTION", metadata=solution),
                nbformat.v4.new_markdown_cell("2. **Second.**"), nbformat.v4.new_markdown_cell("## Next")]
    assert [kind for kind, _ in _kinds(slideshow(nb))] == ["slide", "fragment", "fragment", "fragment", "fragment",
                                                         "slide"]


def test_the_pages_show_solutions_without_nbgraders_markers():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 0\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION",
                                          metadata={"nbgrader": {"solution": True}})]
    shown = for_display(nb)
    assert shown.cells[0].source == "x = 0\nx = 1\n" and shown.cells[0].metadata["tags"] == ["solution"]
    assert "BEGIN SOLUTION" in nb.cells[0].source, "the notebook itself keeps them"


def test_alt_text_comes_from_the_code_and_the_heading():
    code = ('# the three rates, from the same start\nax = plot_losses({"SGD": a, f"Adam, lr = {lr}": b}, '
            'xlabel="step", title="Two optimizers")\nplt.show()')
    assert describe(code, "6 · The same loop with `torch.optim`") == (
        "Plot: “Two optimizers” (x axis: step). The three rates, from the same start. Lines: SGD; Adam, lr = …. "
        "In the section “6 · The same loop with torch.optim”.")
    two = 'for t in ("a", "b"):\n    fig, ax = new_axes()\n    ax.set_title(f"run {t}")\n    plt.show()'
    assert [describe(two, "H", i, 2) for i in (0, 1)] == ["Plot: “run …”. Figure 1 of 2. In the section “H”.",
                                                          "Plot: “run …”. Figure 2 of 2. In the section “H”."]
    assert describe("sweep.plot()", "", printed="lowest point at 0.3") == "Plot. The cell prints: lowest point at 0.3."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_of_a_lesson_gets_its_own_alt_text(path):
    nb = nbformat.read(path, as_version=4)
    figures = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert add_alt_text(nb) == len(figures) > 0
    alts = [o.metadata["image/png"]["alt"] for o in figures]
    assert all(len(alt) > 40 and "section" in alt for alt in alts)
    assert len(set(alts)) == len(alts), "no two figures of a lesson share a description"
