"""Alt text for every figure a lesson shows, taken from the notebook itself.

A figure's description comes from the code cell that drew it: its leading comment line, the
titles it gives its plots (``title=...``, ``set_title``, ``suptitle``, ``LiveLoss("...")``),
their axis labels, the names of its lines (``label=...``, the keys of ``plot_losses``'s dict),
and the nearest heading above it. Parts of f-strings that are computed show as "…". A cell
with several figures gives the n-th figure its n-th title when the counts match, and says
"figure n of m" otherwise. The text goes into the in-memory notebook's output metadata
(``image/png`` → ``alt``), where the page and slide templates read it; an alt text already
there is kept.
"""

from __future__ import annotations

import ast
import re

import nbformat

TITLE_CALLS = {"set_title", "suptitle", "title", "LiveLoss"}  # their first argument is a title
LABEL_CALLS = {"set_xlabel": "xlabel", "set_ylabel": "ylabel"}
MAX_LABELS = 6


def _text(node: ast.AST | None) -> str | None:
    """A string literal's text; an f-string's with "…" for what it computes; None otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(part) or "…" for part in node.values)
    return None


def _name(func: ast.AST) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _panels(code: str) -> tuple[list[str], list[str]]:
    """The titled panels (title, with its axis labels when the same call sets them) and the line labels."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return [], []
    panels, labels, axes = [], [], {}
    calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    for call in calls:
        name, keywords = _name(call.func), {k.arg: _text(k.value) for k in call.keywords if k.arg}
        title = keywords.get("title") or (_text(call.args[0]) if name in TITLE_CALLS and call.args else None)
        if name in LABEL_CALLS and call.args and _text(call.args[0]):
            axes[LABEL_CALLS[name]] = _text(call.args[0])
        axes.update({k: v for k, v in keywords.items() if k in ("xlabel", "ylabel") and v})
        if keywords.get("label"):
            labels.append(keywords["label"])
        if name == "plot_losses" and call.args and isinstance(call.args[0], ast.Dict):
            labels += [t for t in map(_text, call.args[0].keys) if t]
        if title:
            panels.append(f"“{title}”" + (f" ({_axes(**axes)})" if axes else ""))
            axes = {}
    return panels, list(dict.fromkeys(labels))[:MAX_LABELS]


def _axes(xlabel: str = "", ylabel: str = "") -> str:
    if xlabel and ylabel:
        return f"{ylabel} against {xlabel}"
    return f"x axis: {xlabel}" if xlabel else f"y axis: {ylabel}"


def _plain(markdown: str) -> str:
    return re.sub(r"[`*_]", "", markdown).strip()


def describe(code: str, heading: str, index: int = 0, count: int = 1, printed: str = "") -> str:
    """The alt text of the ``index``-th of ``count`` figures drawn by ``code`` under ``heading``;
    ``printed``, the first line the cell printed, is added when the code gives no title."""
    panels, labels = _panels(code)
    lines = code.strip().splitlines()
    comment = lines[0].lstrip("# ").strip() if lines and lines[0].startswith("#") else ""
    parts = ["Plot: " + "; ".join([panels[index]] if len(panels) == count > 1 else panels) if panels else "Plot"]
    if count > 1 and len(panels) != count:
        parts.append(f"figure {index + 1} of {count}")
    if comment and not comment.startswith("NBVAL"):
        parts.append(comment)
    if labels:
        parts.append("lines: " + "; ".join(labels))
    if printed and not panels:
        parts.append(f"the cell prints: {printed.strip()}")
    parts.append(f"in the section “{_plain(heading)}”" if heading else "")
    return ". ".join(p[:1].upper() + p[1:] for p in parts if p) + "."


def add_alt_text(nb: nbformat.NotebookNode) -> int:
    """Give every PNG output of ``nb`` (in memory) an alt text; returns how many were given one."""
    heading, given = "", 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found = re.findall(r"^#{1,6}\s+(.+?)\s*$", cell.source, re.M)
            heading = found[-1] if found else heading
            continue
        figures = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        printed = next((o.text.strip().splitlines()[0] for o in cell.get("outputs", [])
                        if o.get("output_type") == "stream" and o.get("name") == "stdout" and o.text.strip()), "")
        for i, output in enumerate(figures):
            meta = output.setdefault("metadata", {}).setdefault("image/png", {})
            if not meta.get("alt"):
                meta["alt"] = describe(cell.source, heading, i, len(figures), printed)
                given += 1
    return given
