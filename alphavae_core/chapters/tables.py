"""Tables for the page: typeset HTML for the browser, plain text for a terminal.

pandas escapes HTML in its tables, so a regulariser's typeset name (``plotting.HTML_NAMES``) would
show its tags. A chapter builds its cells itself, once with the HTML names and once with the plain
ones, and :class:`Table` carries both: Jupyter shows the HTML, a terminal (and the text form that
notebook tests compare) the plain text. :func:`details` folds long detail under a one-line summary.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

NBSP = "\u00a0"


@dataclass(frozen=True)
class Table:
    """A table (or tables) as HTML for the page and as plain text."""

    html: str
    text: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def whole(text: str) -> str:
    """``text`` that does not break across lines at its spaces ("15.2 ± 0.1" stays on one line)."""
    return text.replace(" ", NBSP)


def nowrap(markup: str) -> str:
    """HTML that does not break across lines (a name like "t-JS*" would break at its hyphen)."""
    return f'<span style="white-space:nowrap">{markup}</span>'


def html_table(frame: pd.DataFrame, index: bool = True) -> str:
    """``frame`` as an HTML table whose cells and headers are inserted as they are (already HTML).

    The index (named by ``frame.index.name``) becomes the first column. Two-level columns give two
    header rows, the upper one spanning the columns it groups."""
    two = isinstance(frame.columns, pd.MultiIndex)
    corner = [frame.index.name or ""] if index else []
    if two:
        groups: list[tuple[str, int]] = []
        for top in frame.columns.get_level_values(0):
            if groups and groups[-1][0] == top:
                groups[-1] = (top, groups[-1][1] + 1)
            else:
                groups.append((top, 1))
        upper = "".join(f'<th colspan="{n}" style="text-align:center">{top}</th>' for top, n in groups)
        lower = "".join(f"<th>{c}</th>" for c in frame.columns.get_level_values(1))
        first = f'<th rowspan="2">{corner[0]}</th>' if index else ""
        head = f"<tr>{first}{upper}</tr><tr>{lower}</tr>"
    else:
        head = "<tr>" + "".join(f"<th>{c}</th>" for c in [*corner, *frame.columns]) + "</tr>"
    body = []
    for key, row in frame.iterrows():
        lead = f"<th>{key}</th>" if index else ""
        body.append("<tr>" + lead + "".join(f"<td>{v}</td>" for v in row) + "</tr>")
    return f'<table class="dataframe"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


def details(summary: str, body: str) -> str:
    """``body`` (HTML) folded under a one-line ``summary`` the reader clicks to open."""
    return f"<details><summary>{html.escape(summary)}</summary>{body}</details>"


def note(text: str) -> str:
    """A short paragraph (HTML) under a table: what its numbers are."""
    return f'<p style="font-size:0.9em;margin:0.3em 0 0.8em">{text}</p>'
