"""Numbers in the prose must be shown by an output (tools.check_claims, issue 23).

Synthetic notebooks check each rule both ways; a copy of a committed lesson shows that changing
its prose, or its output under unchanged prose, is caught. The committed lessons themselves are
checked too, as an expected failure until their prose and outputs agree.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools import check_claims as cc

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))

GOOD_PROSE = [
    "# Lesson 9 · Rounding\n\n## 2.5 · A numbered section",
    "The loss ends at 1.48 nats (2.13 bits), 27% of where it started. The big model is 5.7x slower,\n"
    "and its MSE is 8.0e-06, about 8×10⁻⁶.",
    "We train at 0.025, the rate in the code cell. `print(9.876)` and $0.5772$ are code and math.\n\n"
    "```python\nx = 4.321\n```\n\nIn 2024-05-01's torch 2.13.0, nanoGPT's small GPT reaches 1.4697 nats per "
    "character; the diary saw <span class=\"quote\">3.35</span>.",
]
GOOD_OUTPUT = "loss 1.4763 (2.1299 bits)\nshare 0.268\nslower by 5.72\nmse 7.96e-06\n"


def notebook(prose: list[str] = GOOD_PROSE, output: str = GOOD_OUTPUT, code: str = "lr = 0.025"):
    cell = new_code_cell(code, outputs=[new_output("stream", name="stdout", text=output)])
    return new_notebook(cells=[*(new_markdown_cell(text) for text in prose), cell])


def flagged(prose: str, output: str = "", code: str = "") -> list[str]:
    """The numbers of ``prose`` that the checker reports."""
    return [v.number for v in cc.check_notebook(notebook([prose], output, code))]


def test_good_notebook_passes():
    assert cc.check_notebook(notebook()) == []


def test_prose_changed_to_a_number_no_output_shows():
    prose = list(GOOD_PROSE)
    prose[1] = prose[1].replace("1.48", "1.52")
    assert cc.check_notebook(notebook(prose), "lesson.ipynb") == [cc.Violation(
        "lesson.ipynb", 1, "1.52", "The loss ends at 1.52 nats (2.13 bits), 27% of where it started.")]


def test_output_changed_under_unchanged_prose():
    assert [v.number for v in cc.check_notebook(notebook(output=GOOD_OUTPUT.replace("1.4763", "1.4912")))] == ["1.48"]
    assert [v.number for v in cc.check_notebook(notebook(output=GOOD_OUTPUT.replace("0.268", "0.31")))] == ["27%"]


@pytest.mark.parametrize(("prose", "output", "ok"), [
    ("1.48", "1.476", True), ("1.48", "1.4763", True), ("1.48", "1.47", False), ("1.48", "1.4851", False),
    ("1.476", "1.48", False), ("0.0325", "0.03249", True), ("0.10", "0.1", True), ("0.10", "0.2", False),
    ("27%", "0.27", True), ("27%", "26.8%", True), ("27%", "0.268", True), ("27%", "0.29", False),
    ("27%", "27 steps", False), ("51.1%", "0.5108", True),
    ("5.7x", "5.72", True), ("5.7×", "5.7", True), ("5.7x", "5.8", False), ("43x", "42.6", True),
    ("8.0e-06", "7.96e-06", True), ("8.0e-06", "8.1e-06", False), ("1e-15", "1.2e-15", True),
    ("1e-15", "3.1e-16", False), ("10⁻⁴", "0.0001", True), ("3×10⁻⁴", "0.0003", True), ("3×10⁻⁴", "4e-4", False),
])
def test_rounding_the_prose_uses(prose, output, ok):
    assert flagged(f"It ends at {prose} here.", output) == ([] if ok else [prose])


@pytest.mark.parametrize("number", ["0.1", "3", "1,153", "5%", "100%", "10x", "1000x"])
def test_round_numbers_are_not_claims(number):
    assert flagged(f"It ends at {number} here.") == []


@pytest.mark.parametrize(("skipped", "plain"), [
    ("Set `lr = 1.234` first.", "Set lr = 1.234 first."),
    ("Run\n\n```python\nx = 1.234\n```\n", "Run\n\nx = 1.234\n"),
    ("Run\n\n~~~\nx = 1.234\n~~~\n", "Run\n\nx = 1.234\n"),
    ("The constant $\\gamma = 0.5772$ appears.", "The constant gamma = 0.5772 appears."),
    ("## 2.5 · The section", "Section 2.5 · The section."),
    ("See [the log](results/run-1.234.md).", "See the log of run 1.234."),
    ('A plot <img src="fig-1.25.png"> here.', "A plot fig-1.25.png here."),
    ("Made with torch 2.13.0 on 01.12.2023.", "Made with torch 2.13 on 01.12."),
    ("nanoGPT's model reaches 1.4697.", "Our model reaches 1.4697."),
    ("The paper reports 27% fewer errors.", "We measured 27% fewer errors."),
    ("The log (`benchmarks/log.md`) says 1.444.", "The log (`benchmarks/log`) says 1.444."),
    ('The diary saw <span class="quote">3.35</span>.', "The diary saw <b>3.35</b>."),
])
def test_each_skip_rule_matters(skipped, plain):
    assert flagged(skipped) == []
    assert flagged(plain) != []


def test_the_sentence_reported_is_prose_only():
    nb = notebook(["Run:\n\n```python\nx = 1\n```\nIt ends at **1.476** `nats`.\n\n| a | 2.25 |\n| b | 3.75 |"],
                  output="")
    assert [(v.number, v.sentence) for v in cc.check_notebook(nb)] == [
        ("1.476", "It ends at **1.476** `nats`."), ("2.25", "| a | 2.25 |"), ("3.75", "| b | 3.75 |")]


def test_a_source_word_counts_only_in_its_own_sentence():
    assert flagged("We read nanoGPT. Our model reaches 1.4697 nats.") == ["1.4697"]


@pytest.mark.parametrize(("prose", "code", "ok"), [
    ("Train at 0.025.", "lr = 0.025", True), ("Train at 0.025.", "lr = 2.5e-2", True),
    ("Train at 0.026.", "lr = 0.025", False), ("Decay at 95%.", "at = 0.95", True),
    ("Clip at 2.0.", "clip = 2", False), ("Clip at 2.0.", "clip = 2.0  # 3.75 in a comment", True),
    ("Not 3.75.", "clip = 2.0  # 3.75 in a comment", False), ("Not 3.75.", "print('3.75')", False),
])
def test_a_setting_in_the_code_is_not_a_claim(prose, code, ok):
    assert flagged(prose, code=code) == ([] if ok else [re.search(r"[\d.]+%?(?=\.$)", prose)[0]])


def test_outputs_count_but_images_and_errors_do_not():
    nb = notebook(["It ends at 1.476 here."], output="")
    nb.cells[-1].outputs = [new_output("error", ename="E", evalue="1.476", traceback=["1.476"]),
                            new_output("display_data", data={"image/png": "1.476", "text/plain": "<Figure>"})]
    assert [v.number for v in cc.check_notebook(nb)] == ["1.476"]
    nb.cells[-1].outputs.append(new_output("execute_result", data={"text/html": "<td>1.4761</td>"}))
    assert cc.check_notebook(nb) == []


def test_cli_exits_1_with_a_report(tmp_path, capsys):
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(notebook(), good)
    nbformat.write(notebook(output=GOOD_OUTPUT.replace("1.4763", "1.4912")), bad)
    assert cc.main([str(good)]) == 0
    assert cc.main([str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: 1 number that no output shows\n  cell 1: 1.48  in: The loss ends at 1.48 nats" in out
    assert "1 unsupported numbers in 2 notebooks" in out


def test_a_committed_lesson_fails_once_its_prose_or_output_changes():
    def only_shown(nb):  # the claims only an output supports
        return [f for f in cc.claims(nb) if f.support == "output" and not cc.is_setting(f.claim, cc.code_settings(nb))]

    path = next(p for p in LESSONS if only_shown(nbformat.read(p, as_version=4)))
    nb = nbformat.read(path, as_version=4)
    found = only_shown(nb)[0]
    cell = nb.cells[found.cell]
    at = (found.cell, found.claim.text)

    changed = nbformat.from_dict(nb)  # the prose now says a number that no output shows
    source = cell.source
    changed.cells[found.cell].source = source[:found.start] + "987.6543" + source[found.start + len(found.claim.text):]
    assert (found.cell, "987.6543") in {(v.cell, v.number) for v in cc.check_notebook(changed)}

    def other(m: re.Match) -> str:  # every output number that showed the claim, moved away
        value = float(m[1].replace(",", "") + (f"e{m[2]}" if m[2] else ""))
        near = cc.shown(found.claim, [value]) or (m[3] and cc.shown(found.claim, [value / 100]))
        return "987.6543" if near else m[0]

    for code in nb.cells:
        for output in code.get("outputs", []):
            if output.output_type == "stream":
                output.text = cc.OUTPUT_NUMBER.sub(other, output.text)
            for kind in cc.OUTPUT_TYPES if "data" in output else ():
                if kind in output.data:
                    output.data[kind] = cc.OUTPUT_NUMBER.sub(other, "".join(output.data[kind]))
    assert at in {(v.cell, v.number) for v in cc.check_notebook(nb)}, path.name


def test_committed_lessons_state_only_what_their_outputs_show():
    violations = cc.check(LESSONS)
    assert not violations, cc.report(violations)
