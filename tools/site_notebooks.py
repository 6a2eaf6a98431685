"""The lesson notebooks as the site builder reads them, and the copies it offers for download.

A notebook is refused, by name, if it is not a notebook (not JSON, not nbformat 4), if its first
cell does not open with ``# Lesson N · title``, or if any cell holds an error output: the site
shows outputs as committed, and a traceback on a lesson page is a broken lesson. The pages show
a copy without nbgrader's solution markers (:func:`for_display`); the downloads are the notebook
as committed and the students' copy from ``tools/student_version.py``.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from tools.student_version import BEGIN, END, SOLUTION_TAG, MarkupError, is_solution, student_notebook
from tools.vendor import SiteError


@dataclass(frozen=True)
class Lesson:
    path: Path
    number: int
    title: str      # "Can a neural network learn to count to 3?"
    question: str   # the "**The question:** ..." sentence(s), as Markdown
    nb: nbformat.NotebookNode = field(repr=False, compare=False)

    @property
    def page(self) -> str:
        return self.path.stem + ".html"

    @property
    def slides(self) -> str:
        return f"slides/{self.path.stem}.html"

    @property
    def notebook(self) -> str:
        return f"notebooks/{self.path.name}"

    @property
    def student_notebook(self) -> str:
        return f"notebooks/{self.path.stem}-student.ipynb"


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path``, or a SiteError that names it and says what is wrong."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except (OSError, UnicodeDecodeError) as err:
        raise SiteError(f"{path} cannot be read ({err}): check the file and build again.") from None
    except (json.JSONDecodeError, nbformat.reader.NotJSONError, nbformat.ValidationError, KeyError) as err:
        first = str(err).strip().splitlines()[0][:120]
        raise SiteError(f"{path} is not a notebook ({type(err).__name__}: {first}): restore it from git "
                        "or save it again from Jupyter, then build again.") from None
    return nb


def refuse_errors(nb: nbformat.NotebookNode, path: Path) -> None:
    """A SiteError naming the first cell that holds an error output."""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                count = cell.get("execution_count")
                raise SiteError(f"{path}: cell index {index} (In [{count if count is not None else ' '}]) "
                                f"holds an error output ({output.get('ename')}: {output.get('evalue')}); the page "
                                "would show its traceback. Fix the cell, run the notebook again, and build again.")


def read_lesson(path: Path) -> Lesson:
    """Number, title and question from the first cell: '# Lesson 1 · Title' and '**The question:** ...'."""
    nb = read_notebook(path)
    first = nb.cells[0].source if nb.cells else ""
    heading = re.match(r"#\s*Lesson\s+(\d+)\s*·\s*(.+)", first)
    if heading is None:
        raise SiteError(f"{path}: the first cell should start with '# Lesson N · title'; "
                        "give it that heading and build again.")
    refuse_errors(nb, path)
    question = re.search(r"\*\*The\s+question:\*\*\s*(.+?)(?:\n\s*\n|$)", first, re.S)
    return Lesson(path, int(heading.group(1)), heading.group(2).strip(),
                  " ".join(question.group(1).split()) if question else "", nb)


def for_display(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy for the page and the slides: nbgrader's solution markers (the lines that hold
    ``BEGIN SOLUTION`` / ``END SOLUTION``) taken out, and its solution cells tagged "solution",
    which the page's script folds under "Solution" and the slides show as fragments."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.source = re.sub(rf"^.*(?:{BEGIN}|{END}).*(?:\n|$)", "", cell.source, flags=re.M)
        if is_solution(cell) and SOLUTION_TAG not in cell.metadata.get("tags", []):
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), SOLUTION_TAG]
    return nb


def write_downloads(lesson: Lesson, site: Path) -> None:
    """The lesson's notebook as committed, and the students' copy (solutions stubbed, outputs cleared)."""
    (site / lesson.notebook).parent.mkdir(parents=True, exist_ok=True)
    (site / lesson.notebook).write_bytes(lesson.path.read_bytes())
    try:
        student = student_notebook(lesson.nb, name=lesson.path.name)
    except MarkupError as err:
        raise SiteError(f"{err}; fix the solution markers and build again.") from None
    nbformat.write(student, site / lesson.student_notebook)
