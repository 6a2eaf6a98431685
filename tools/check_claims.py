"""Every result the lessons' prose states must be one their outputs show (issue 23).

    .venv/bin/python -m tools.check_claims                               # every lesson
    .venv/bin/python -m tools.check_claims notebooks/03_sine_wave.ipynb  # some

It prints each unsupported number with its notebook, cell and sentence, and exits 1 if there is one.

**What is a claim.** In a markdown cell: a decimal with two or more significant digits (0.0325,
1.476, 2.13, 0.10; not 0.1, 3 or 1,153); a percentage or a ratio with two or more (27%, 51.1%,
5.7x, 5.7×, 43x; not 5%, 100% or 10x); any number in scientific notation (8.0e-06, 1e-15,
10⁻⁴, 3×10⁻⁴; 1e-15 claims 0.5e-15 to 1.5e-15, not an order of magnitude). Not looked at:
inline code and fenced code, ``$math$``, HTML tags, the section number that starts a heading,
version numbers (2.13.0) and dates (2024-05-01).

**What supports it**, one of:

1. An output of the same notebook (stream text, text/plain, text/html, text/markdown; not images
   or errors) shows it to the prose's rounding, that is within half a unit of its last digit:
   1.48 matches 1.476 or 1.4763 (not 1.47 or 1.4851); 27% matches 0.27, 0.268 or 26.8%; 5.7x
   matches 5.72 or 5.7; 8.0e-06 matches 7.96e-06.
2. It is a setting: a number literal with a decimal point or an exponent in one of the notebook's
   code cells has its value (``lr = 0.01`` in code lets the prose say 0.01; 0.95 lets it say 95%).
3. It is a quotation from outside the notebook, marked in one of two ways. Either its sentence
   names the source: one of the words in ``SOURCE_WORDS`` ("nanoGPT's small GPT reaches
   1.4697"; "the paper reports 27%"), a link, or a file in backticks (`` `benchmarks/log.md` ``).
   Or, for any other case, the number is wrapped as ``<span class="quote">1.4697</span>``, which
   Jupyter and the course's site render as the plain number.

A sentence is what ends at ``.``, ``!`` or ``?`` followed by a space, at a blank line, or at the
start of a list item, heading or table row.
"""

from __future__ import annotations

import argparse
import bisect
import io
import re
import sys
import tokenize
from pathlib import Path
from typing import NamedTuple

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

SOURCE_WORDS = ("nanoGPT", "paper", "blog", "post", "benchmark", "reports", "reported", "according to", "quoted")
SOURCE_WORD = re.compile(r"\b(?:" + "|".join(SOURCE_WORDS) + r")\b", re.IGNORECASE)
SOURCE_REF = re.compile(r"\]\(|https?://|`[\w./-]+\.(?:md|json|csv|txt|py|ipynb)`")  # a link, a file
QUOTE = re.compile(r'<span class="quote">(.*?)</span>', re.DOTALL)

FENCED = re.compile(r"^[ \t]*(`{3,}|~{3,}).*?^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
SKIPPED = [  # other parts of the markdown whose numbers are not claims
    re.compile(r"(`+).+?\1", re.DOTALL),  # inline code
    re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.DOTALL),  # math
    re.compile(r"<[^>\n]*>"),  # HTML tags (a link needs no rule: it names a source)
    re.compile(r"(?<=^#)#*[ \t]+(?:Lesson[ \t]+)?\d+(?:\.\d+)*", re.MULTILINE),  # section numbers
]  # dates and versions need no rule: NUMBER never matches in 2.13.0 or 01.12.2023, nor is 2024 a claim
SENTENCE_END = re.compile(r"(?<=[.!?])[*_)\"'’”]*\s+|\n[ \t]*\n|\n(?=[ \t]*(?:(?:[-*+]|\d+\.|#+)[ \t]|\|))")

SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
NUMBER = re.compile(r"""(?<![\w.,])(?:
    (?:(?P<coef>\d+(?:\.\d+)?)[ \t]?[×·][ \t]?)?10(?P<sup>[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)
  | (?P<mant>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:[eE](?P<exp>[-+−]?\d+))?(?P<unit>[ \t]?%|[x×](?!\w))?
)(?!\w|[.,]\d)""", re.VERBOSE)
OUTPUT_NUMBER = re.compile(r"(?<![\d.])(\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)(?:[eE]([-+]?\d+))?(\s?%)?")
OUTPUT_TYPES = ("text/plain", "text/html", "text/markdown")


class Violation(NamedTuple):
    notebook: str
    cell: int
    number: str
    sentence: str


class Claim(NamedTuple):
    text: str
    value: float  # a percentage as a fraction: 27% is 0.27
    half: float  # half a unit of the last digit written


class Found(NamedTuple):
    cell: int
    start: int  # where the number starts in the cell's source
    claim: Claim
    sentence: str
    support: str | None  # "output", "setting", "quotation", or None: a violation


def significant(digits: str) -> int:
    """Significant digits as written: 0.0325 has 3, 0.10 has 2, 1,153 has 4, 100 has 1."""
    digits = digits.replace(",", "")
    if "." in digits:
        return len(digits.replace(".", "").lstrip("0"))
    return len(digits.strip("0"))


def parse_claim(match: re.Match) -> Claim | None:
    """The claim a ``NUMBER`` match makes, or None for a number too round to be one."""
    if match["sup"]:
        digits, exponent = match["coef"] or "1", int(match["sup"].translate(SUPERSCRIPT))
    else:
        digits, exponent = match["mant"].replace(",", ""), int((match["exp"] or "0").replace("−", "-"))
    unit, decimals = (match["unit"] or "").strip(), len(digits.partition(".")[2])
    if not (match["sup"] or match["exp"]) and (significant(digits) < 2 or (not unit and "." not in digits)):
        return None
    scale = 10.0**exponent * (0.01 if unit == "%" else 1.0)
    return Claim(match[0], float(digits) * scale, 0.5 * 10.0**-decimals * scale)


def unfenced(source: str) -> str:
    """``source`` with its fenced code blocks blanked out (same length: blank lines end sentences)."""
    return FENCED.sub(lambda m: re.sub(r"[^\n]", " ", m[0]), source)


def masked(source: str) -> str:
    """``source`` with every skipped part overwritten by NULs (same length, newlines kept)."""
    source = unfenced(source)
    for pattern in SKIPPED:
        source = pattern.sub(lambda m: re.sub(r"[^\n]", "\x00", m[0]), source)
    return source


def sentences(source: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``source``."""
    bounds, start = [], 0
    for end in SENTENCE_END.finditer(source):
        bounds.append((start, end.start()))
        start = end.end()
    return [*bounds, (start, len(source))]


def output_values(nb: nbformat.NotebookNode) -> list[float]:
    """Every number the notebook's text outputs show, sorted; a percentage also as a fraction."""
    values = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                texts = [output.text]
            elif output.output_type in ("execute_result", "display_data"):
                texts = [output.data[kind] for kind in OUTPUT_TYPES if kind in output.data]
            else:
                continue
            for text in texts:
                text = "".join(text) if isinstance(text, list) else text
                for number, exponent, percent in OUTPUT_NUMBER.findall(text):
                    value = float(number.replace(",", "") + (f"e{exponent}" if exponent else ""))
                    values += [value, value / 100] if percent else [value]
    return sorted(values)


def code_settings(nb: nbformat.NotebookNode) -> set[float]:
    """The values of the number literals with a decimal point or an exponent in the code cells."""
    settings = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tokens = [t.string for t in tokenize.generate_tokens(io.StringIO(cell.source).readline)
                      if t.type == tokenize.NUMBER]
        except (tokenize.TokenError, SyntaxError):  # IPython syntax: read the literals plainly
            tokens = re.findall(r"(?<![\w.])\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?", cell.source)
        for token in tokens:
            if re.fullmatch(r"[\d_]*\.?[\d_]*(?:[eE][-+]?\d+)?", token) and re.search(r"[.eE]", token):
                settings.add(float(token.replace("_", "")))
    return settings


def shown(claim: Claim, values: list[float]) -> bool:
    """Whether some output value rounds to the claim as the prose wrote it."""
    slack = claim.half + 1e-9 * claim.value
    i = bisect.bisect_left(values, claim.value - slack)
    return i < len(values) and values[i] <= claim.value + slack


def is_setting(claim: Claim, settings: set[float]) -> bool:
    return any(abs(claim.value - s) <= 1e-12 * max(abs(s), 1e-300) for s in settings)


def claims(nb: nbformat.NotebookNode) -> list[Found]:
    """Every claim in ``nb``'s markdown, with what supports it."""
    values, settings, found = output_values(nb), code_settings(nb), []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        quotes = [m.span(1) for m in QUOTE.finditer(cell.source)]
        prose, text = unfenced(cell.source), masked(cell.source)
        for start, end in sentences(text):
            whole = prose[start:end]
            sourced = bool(SOURCE_WORD.search(text, start, end) or SOURCE_REF.search(whole))
            sentence = " ".join(QUOTE.sub(r"\1", whole).split())
            for match in NUMBER.finditer(text, start, end):
                if (claim := parse_claim(match)) is None:
                    continue
                quoted = sourced or any(a <= match.start() < b for a, b in quotes)
                support = ("quotation" if quoted else "output" if shown(claim, values)
                           else "setting" if is_setting(claim, settings) else None)
                found.append(Found(index, match.start(), claim, sentence, support))
    return found


def check_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> list[Violation]:
    """The claims in ``nb``'s markdown that no output, setting or named source supports."""
    return [Violation(name, f.cell, f.claim.text, f.sentence) for f in claims(nb) if f.support is None]


def check(paths: list[Path]) -> list[Violation]:
    """The unsupported claims of every notebook in ``paths``."""
    found = []
    for path in paths:
        shown_as = path.resolve().relative_to(ROOT) if path.resolve().is_relative_to(ROOT) else path
        found += check_notebook(nbformat.read(path, as_version=4), str(shown_as))
    return found


def report(violations: list[Violation]) -> str:
    """A readable report, grouped by notebook."""
    lines, notebook = [], None
    for v in violations:
        if v.notebook != notebook:
            notebook = v.notebook
            count = sum(1 for w in violations if w.notebook == notebook)
            lines.append(f"{notebook}: {count} number{'s' * (count != 1)} that no output shows")
        lines.append(f"  cell {v.cell}: {v.number}  in: {v.sentence}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: every lesson in notebooks/)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    violations = check(paths)
    if violations:
        print(report(violations))
        print(f"check_claims: {len(violations)} unsupported numbers in {len(paths)} notebooks "
              "(show them in an output, or mark them as quotations: see tools/check_claims.py)")
        return 1
    print(f"check_claims: every result stated in {len(paths)} notebooks is an output, a setting or a quotation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
