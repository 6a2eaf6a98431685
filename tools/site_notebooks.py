"""The lesson notebooks as the site builder reads them.

A notebook is refused, by name, if it is not a notebook (not JSON, not nbformat 4), if its first
cell does not open with ``# Lesson N · title``, or if any cell holds an error output: the site
shows outputs as committed, and a traceback on a lesson page is a broken lesson.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

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
