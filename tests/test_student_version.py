"""The students' notebooks (tools.student_version, issue 23): no solution survives, each stub
raises NotImplementedError where the solution passed, and everything else is kept.

The stubs are executed only for a small synthetic notebook (with ``exec``, no kernel); the
committed lessons are checked without running them.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools import student_version as sv

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def solution_cell(source: str, grade_id: str, cell_type: str = "code") -> nbformat.NotebookNode:
    make = new_code_cell if cell_type == "code" else new_markdown_cell
    return make(source, metadata={"tags": ["solution"], "nbgrader": {
        "solution": True, "grade": False, "locked": False, "task": False, "schema_version": 3,
        "grade_id": grade_id}})


def synthetic() -> nbformat.NotebookNode:
    """A lesson in miniature: set-up code, then exercises in each of the forms the markup allows."""
    setup = new_code_cell("import math\nsteps = 10", execution_count=1,
                          outputs=[new_output("stream", name="stdout", text="ready\n")])
    return new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                 "display_name": "Python 3"},
                                  "widgets": {"state": {"saved": "runs"}}}, cells=[
        new_markdown_cell("# Lesson 0 · Doubling"),
        setup,
        new_markdown_cell("## Exercises\n\n1. **Double it.** Put twice `steps` in `doubled`."),
        solution_cell("### BEGIN SOLUTION\ndoubled = 2 * steps\n### END SOLUTION\nassert doubled == 20", "x-ex1"),
        solution_cell("### BEGIN SOLUTION\nBecause two tens make twenty.\n### END SOLUTION", "x-ex1-answer",
                      "markdown"),
        new_markdown_cell("2. **Halve it.** Write `half(x)`."),
        solution_cell("def half(x):\n    ### BEGIN SOLUTION\n    return x / 2\n    ### END SOLUTION\n\n\n"
                      "assert half(steps) == 5", "x-ex2"),
        new_markdown_cell("3. **Sum it.** Add 1.5 and 2.5 exactly."),
        solution_cell("total = math.fsum([1.5, 2.5])\nassert total == 4", "x-ex3"),
        new_markdown_cell("4. **An old one.**\n\n   <details><summary>Solution</summary>\n\n"
                          "   Folded secret: multiply by seven.\n   </details>\n\nThe end."),
    ])


def solution_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Lines of the solutions (inside markers, whole marker-less solution cells, folded blocks)
    that appear nowhere else in the notebook."""
    inside, outside = set(), set()
    for cell in nb.cells:
        lines = cell.source.split("\n")
        regions = sv.solution_regions(cell.source)
        hidden = {n for begin, end in regions for n in range(begin + 1, end)}
        if sv.is_solution(cell) and not regions:
            hidden = set(range(len(lines)))
        if cell.cell_type == "markdown" and sv.DETAILS.search(cell.source):
            inside.update(line.strip() for block in sv.DETAILS.findall(cell.source) for line in block.split("\n"))
            lines = sv.DETAILS.sub("", cell.source).split("\n")
        for number, line in enumerate(lines):
            (inside if number in hidden else outside).add(line.strip())
    return {line for line in inside - outside if line and sv.BEGIN not in line and sv.END not in line}


def student_lines(nb: nbformat.NotebookNode) -> set[str]:
    return {line.strip() for cell in nb.cells for line in cell.source.split("\n")}


def run_cells(nb: nbformat.NotebookNode) -> dict[int, BaseException | None]:
    """Exec each solution code cell after the non-solution code cells before it; what each raised."""
    namespace: dict = {}
    raised = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if not sv.is_solution(cell):
            exec(compile(cell.source, f"cell {index}", "exec"), namespace)
            continue
        try:
            exec(compile(cell.source, f"cell {index}", "exec"), dict(namespace))
            raised[index] = None
        except Exception as err:  # what it raised is the result
            raised[index] = err
    return raised


def test_synthetic_solutions_pass_and_student_stubs_raise():
    teacher = synthetic()
    student = sv.student_notebook(teacher)
    assert run_cells(teacher) == {3: None, 6: None, 8: None}
    raised = run_cells(student)
    assert sorted(raised) == [3, 6, 8]
    for index, err in raised.items():
        assert type(err) is NotImplementedError, f"cell {index} raised {err!r}"


def test_synthetic_student_has_no_solution_and_keeps_the_rest():
    teacher = synthetic()
    student = sv.student_notebook(teacher)
    hidden = solution_lines(teacher)
    assert {"doubled = 2 * steps", "return x / 2", "Because two tens make twenty.",
            "total = math.fsum([1.5, 2.5])", "Folded secret: multiply by seven."} <= hidden
    assert not hidden & student_lines(student)
    cells = [cell.source for cell in student.cells]
    assert cells[3] == "# your code here\nraise NotImplementedError\nassert doubled == 20"
    assert cells[4] == "YOUR ANSWER HERE"
    assert cells[6].startswith("def half(x):\n    # your code here\n    raise NotImplementedError\n")
    assert cells[8] == sv.CODE_STUB
    assert cells[9] == "4. **An old one.**\n\nThe end."
    for index in (0, 1, 2, 5, 7):
        assert cells[index] == teacher.cells[index].source
    assert student.cells[3].metadata == teacher.cells[3].metadata
    assert all(c.outputs == [] and c.execution_count is None for c in student.cells if c.cell_type == "code")
    assert "widgets" not in student.metadata and teacher.cells[1].outputs, "the teacher's copy was changed"


@pytest.mark.parametrize(("source", "message"), [
    ("### BEGIN SOLUTION\nx = 1", "'BEGIN SOLUTION' on line 1 has no 'END SOLUTION' after it."),
    ("x = 1\n### END SOLUTION", "'END SOLUTION' on line 2 has no 'BEGIN SOLUTION' before it."),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "on line 2 opens a region inside"),
])
def test_unbalanced_markers_are_refused_naming_notebook_and_cell(tmp_path, capsys, source, message):
    nb = synthetic()
    nb.cells[6] = solution_cell(source, "x-broken")
    with pytest.raises(sv.MarkupError, match="^lesson.ipynb, cell 6: ") as caught:
        sv.student_notebook(nb, name="lesson.ipynb")
    assert message in str(caught.value)
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nb, path)
    assert sv.main([str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "lesson.ipynb, cell 6: " in err and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_committed_lessons_build_without_solutions(tmp_path):
    assert sv.main(["--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in LESSONS]
    for path in LESSONS:
        teacher = nbformat.read(path, as_version=4)
        student = nbformat.read(tmp_path / path.name, as_version=4)
        assert len(student.cells) == len(teacher.cells), path.name
        leaked = solution_lines(teacher) & student_lines(student)
        assert not leaked, f"{path.name}: solution lines left in: {sorted(leaked)[:3]}"
        for index, cell in enumerate(student.cells):
            assert "<summary>Solution" not in cell.source, f"{path.name}, cell {index}"
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name}, cell {index}"
                if sv.is_solution(cell):
                    assert "raise NotImplementedError" in cell.source, f"{path.name}, cell {index}"
                    compile(cell.source, f"{path.name}, cell {index}", "exec")


def test_same_stubs_as_nbgraders_clear_solutions():
    """With the teachers' extra installed, nbgrader's own preprocessors give the same notebook."""
    clear = pytest.importorskip("nbgrader.preprocessors", reason="nbgrader: pip install -e '.[teachers]'")
    teacher = synthetic()
    teacher.cells[9].source = "4. **An old one.**\n\nThe end."  # nbgrader does not know <details>
    theirs, resources = clear.ClearOutput().preprocess(copy.deepcopy(teacher), {})
    theirs, _ = clear.ClearSolutions(code_stub={"python": sv.CODE_STUB}).preprocess(theirs, resources)
    ours = sv.student_notebook(teacher)
    assert [c.source for c in ours.cells] == [c.source for c in theirs.cells]


def test_prose_that_quotes_a_marker_is_not_a_marker():
    quoted = "The checks after\n`### END SOLUTION` hold for any answer; so does `### BEGIN SOLUTION`."
    assert sv.solution_regions(quoted) == []
    assert sv.solution_regions("x = 1\n### BEGIN SOLUTION\ny = 2\n    ### END SOLUTION") == [(1, 3)]
