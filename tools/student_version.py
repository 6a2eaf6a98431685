"""The students' notebooks: every solution stubbed out, every output cleared (issue 23).

    .venv/bin/python -m tools.student_version                  # all lessons -> _student/
    .venv/bin/python -m tools.student_version --out /tmp/st    # somewhere else
    .venv/bin/python -m tools.student_version notebooks/03_sine_wave.ipynb

The markup is nbgrader's, so the same notebooks also work with ``nbgrader generate_assignment``:

* In a code cell, the lines from one containing ``BEGIN SOLUTION`` to one containing
  ``END SOLUTION`` (written ``### BEGIN SOLUTION`` / ``### END SOLUTION``) become the stub
  ``# your code here`` / ``raise NotImplementedError``, indented like the BEGIN line; the code
  outside the markers stays. In a markdown cell the region becomes ``YOUR ANSWER HERE``.
* A solution cell (nbgrader metadata ``"solution": true``, or the cell tag ``solution``) without
  markers is replaced whole by the stub.
* A ``<details><summary>Solution</summary>...</details>`` block left in markdown is removed.
* Outputs and execution counts are cleared (nbconvert's ``ClearOutputPreprocessor``, which
  nbgrader's ``ClearOutput`` is), and so is the saved widget state that belonged to them.

A BEGIN without its END, an END without its BEGIN or a BEGIN inside a region is refused, naming
the notebook and the cell. The stubbing is written out here (following nbgrader's
``ClearSolutions``, which misses a lone END) so that the site builder and the tests need nothing
beyond the course's requirements; ``tests/test_student_version.py`` compares the two when
nbgrader is installed (``pip install -e '.[teachers]'``).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "_student"

BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
CODE_STUB = "# your code here\nraise NotImplementedError"
TEXT_STUB = "YOUR ANSWER HERE"
SOLUTION_TAG = "solution"
DETAILS = re.compile(r"[ \t]*<details>\s*<summary>[^<]*solution[^<]*</summary>.*?</details>[ \t]*",
                     re.IGNORECASE | re.DOTALL)


class MarkupError(ValueError):
    """A solution region whose BEGIN and END markers do not pair up."""


def is_solution(cell: nbformat.NotebookNode) -> bool:
    """True for a cell marked as a solution, by nbgrader's metadata or by the ``solution`` tag."""
    metadata = cell.get("metadata", {})
    return bool(metadata.get("nbgrader", {}).get("solution")) or SOLUTION_TAG in metadata.get("tags", [])


def solution_regions(source: str, where: str = "this cell") -> list[tuple[int, int]]:
    """The (BEGIN, END) line numbers of each solution region, 0-based; refuses unbalanced markers."""
    regions, begin = [], None
    for number, line in enumerate(source.split("\n")):
        line = line.lstrip()[:40] if line.lstrip().startswith("#") else ""   # a marker starts its line: prose
        if BEGIN in line:                                                      # that quotes one is not one
            if begin is not None:
                raise MarkupError(f"{where}: '{BEGIN}' on line {number + 1} opens a region inside the one "
                                  f"opened on line {begin + 1}; close that one first with '{END}'.")
            begin = number
        elif END in line:
            if begin is None:
                raise MarkupError(f"{where}: '{END}' on line {number + 1} has no '{BEGIN}' before it.")
            regions.append((begin, number))
            begin = None
    if begin is not None:
        raise MarkupError(f"{where}: '{BEGIN}' on line {begin + 1} has no '{END}' after it.")
    return regions


def stub_solutions(source: str, stub: str, where: str = "this cell") -> tuple[str, bool]:
    """``source`` with each solution region replaced by ``stub``; and whether there was one."""
    lines = source.split("\n")
    regions = solution_regions(source, where)
    for begin, end in reversed(regions):
        indent = re.match(r"\s*", lines[begin]).group(0)
        lines[begin:end + 1] = [indent + line for line in stub.split("\n")]
    return "\n".join(lines), bool(regions)


def drop_details(source: str) -> str:
    """Markdown without its folded ``<details><summary>Solution</summary>`` blocks."""
    if not DETAILS.search(source):
        return source
    text = DETAILS.sub("", source)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def student_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A copy of ``nb`` for students: solutions stubbed, outputs and widget state cleared.

    ``name`` only goes into the message of a ``MarkupError``.
    """
    nb = copy.deepcopy(nb)
    nb, _ = ClearOutputPreprocessor().preprocess(nb, {})
    nb.metadata.pop("widgets", None)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type not in ("code", "markdown"):
            continue
        stub = CODE_STUB if cell.cell_type == "code" else TEXT_STUB
        source, replaced = stub_solutions(cell.source, stub, f"{name}, cell {index}")
        if not replaced and is_solution(cell):
            source = stub
        if cell.cell_type == "markdown":
            source = drop_details(source)
            if is_solution(cell) or replaced:
                cell.pop("attachments", None)
        cell.source = source
    return nb


def write_student_versions(notebooks: list[Path], out: Path) -> list[Path]:
    """Write one student notebook per lesson into ``out``; returns their paths.

    Every notebook is checked before anything is written, so a markup error leaves ``out`` as it was.
    """
    students = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        shown = path.resolve().relative_to(ROOT) if path.resolve().is_relative_to(ROOT) else path
        students.append((out / path.name, student_notebook(nb, name=str(shown))))
    out.mkdir(parents=True, exist_ok=True)
    for target, nb in students:
        nbformat.write(nb, target)
    return [target for target, _ in students]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: every lesson in notebooks/)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default: {OUT.name}/)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    try:
        written = write_student_versions(notebooks, args.out)
    except MarkupError as err:
        print(f"student_version: {err}", file=sys.stderr)
        return 1
    print(f"student_version: wrote {len(written)} student notebooks to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
