"""The panel card's small markdown subset as HTML: headings, lists, tables, bold, code.

No markdown library is a dependency; everything is HTML-escaped before markup is added, so a
card cannot inject HTML into the report.
"""

from __future__ import annotations

import html
import re

__all__ = ["markdown_html"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _inline(text: str) -> str:
    out = html.escape(text.strip())
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table(rows: list[str]) -> str:
    head, body = _cells(rows[0]), [_cells(r) for r in rows[2:]]
    th = "".join(f"<th>{_inline(c)}</th>" for c in head)
    trs = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body)
    return f"<table class='tbl'><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _blocks(lines: list[str]) -> list[tuple[str, list[str]]]:
    """Group lines into ``(kind, lines)`` blocks: heading, table, list, paragraph."""
    blocks: list[tuple[str, list[str]]] = []
    for line in lines:
        if not line.strip():
            blocks.append(("blank", []))
            continue
        kind = (
            "heading" if _HEADING.match(line)
            else "table" if line.lstrip().startswith("|")
            else "list" if _ITEM.match(line)
            else "para"
        )  # fmt: skip
        if blocks and blocks[-1][0] == kind and kind != "heading":
            blocks[-1][1].append(line)
        else:
            blocks.append((kind, [line]))
    return blocks


def markdown_html(text: str) -> str:
    """HTML of a markdown card (headings, ``-``/``1.`` lists, pipe tables, ``**bold**``, code).

    Parameters
    ----------
    text
        The card's markdown.

    Returns
    -------
    Escaped HTML; unknown markup stays as (escaped) text.
    """
    out = []
    for kind, lines in _blocks(text.splitlines()):
        if kind == "heading":
            hashes, title = _HEADING.match(lines[0]).groups()  # type: ignore[union-attr]
            level = min(len(hashes) + 2, 6)  # the card sits under the report's h2
            out.append(f"<h{level}>{_inline(title)}</h{level}>")
        elif kind == "table" and len(lines) >= 2 and _RULE.match(lines[1]):
            out.append(_table(lines))
        elif kind == "list":
            items = "".join(f"<li>{_inline(_ITEM.match(x).group(1))}</li>" for x in lines)  # type: ignore[union-attr]
            out.append(f"<ul>{items}</ul>")
        elif kind != "blank":
            out.append("<p>" + " ".join(_inline(x) for x in lines) + "</p>")
    return "\n".join(out)
