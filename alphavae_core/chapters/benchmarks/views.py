"""Chapter 4's tables as a reader sees them: narrow HTML with the regularisers' names typeset.

The functions of ``tables``, ``scale`` and ``claims`` return plain DataFrames (tested, reused by
other chapters, printable in a terminal); the views here lay them out for the page: short headers
explained once in a line under the table, long tables turned so that a few columns carry many rows,
and the full detail of a long table in a ``<details>`` block that opens on a click. Every view is a
:class:`Shown`: HTML for the notebook and the book, its plain text for a terminal.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from alphavae_core.chapters.benchmarks.names import typeset
from alphavae_core.chapters.tables import Table

# Left-aligns the row labels and text columns of the chapter's tables (numbers stay right-aligned, as
# the book's stylesheet sets them); one class so that the rule touches only these tables.
_STYLE = (
    "<style>table.dataframe.avx-bench{font-size:.9em}"
    " table.dataframe.avx-bench :is(th[scope=row], .avx-text){text-align:left}"
    " table.dataframe.avx-bench th[scope=row]{font-weight:normal;white-space:nowrap}"
    " table.dataframe.avx-bench td:not(.avx-text){white-space:nowrap}"
    " table.dataframe.avx-bench.avx-wrap th[scope=row]{white-space:normal}"
    " table.dataframe.avx-bench.avx-wrap td{white-space:nowrap}"
    " @media (max-width:600px){table.dataframe.avx-bench th[scope=row]{white-space:normal}}"
    " .avx-bench-note{font-size:.9em;margin:.3em 0 .8em}"
    " details.avx-bench-more>summary{cursor:pointer;margin:.4em 0}</style>"
)


# A table for the page with its plain-text form: the chapters' one table type.
Shown = Table


_CODE = re.compile(r"`([^`]+)`")


def render(text: str) -> str:
    """Plain text as HTML: escaped, regulariser names typeset, ```code``` in ``<code>``."""
    return _CODE.sub(r"<code>\1</code>", typeset(text))


def _cell(value: Any) -> str:
    """One cell as HTML: numbers as printed by ``:g`` (the tables round them first), NaN as a dash."""
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:g}"
    return render(str(value))


def _header_rows(columns: pd.Index, n_index: int, corner: str = "", text: set = frozenset()) -> list[str]:
    """The ``<thead>`` rows; a two-level header spans each group of equal top-level labels. ``corner``
    names the row labels (last header row); headers of ``text`` columns are left-aligned as they are."""
    levels = columns.nlevels
    corner_span = f' colspan="{n_index}"' if n_index > 1 else ""
    rows = []
    for level in range(levels):
        cells = [f"<th{corner_span}>{_cell(corner) if level == levels - 1 else ''}</th>"]
        labels = [c[level] if levels > 1 else c for c in columns]
        i = 0
        while i < len(labels):
            j = i + 1
            if level < levels - 1:
                while j < len(labels) and labels[j] == labels[i]:
                    j += 1
            span = f' colspan="{j - i}"' if j - i > 1 else ""
            kind = ' class="avx-text"' if j - i == 1 and columns[i] in text else ""
            cells.append(f'<th scope="col"{span}{kind}>{_cell(labels[i])}</th>')
            i = j
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return rows


def html_table(
    frame: pd.DataFrame, text_columns: Iterable[str] = (), corner: str = "", wrap_labels: bool = False
) -> str:
    """``frame`` as a compact HTML table: its index as row labels (a two-level index groups its
    first level with ``rowspan``; ``corner`` heads them), names typeset, ``text_columns`` left-aligned.
    Row labels keep to one line and text cells wrap, unless ``wrap_labels`` (long labels, short cells)."""
    text = set(text_columns)
    n_index = frame.index.nlevels
    body = []
    keys = [k if isinstance(k, tuple) else (k,) for k in frame.index]
    for i, key in enumerate(keys):
        heads = []
        for level, label in enumerate(key):
            if level < n_index - 1:  # the outer level spans its run of rows
                if i and keys[i - 1][: level + 1] == key[: level + 1]:
                    continue
                run = sum(1 for k in keys[i:] if k[: level + 1] == key[: level + 1])
                span = f' rowspan="{run}"' if run > 1 else ""
                heads.append(f'<th scope="row"{span}>{_cell(label)}</th>')
            else:
                heads.append(f'<th scope="row">{_cell(label)}</th>')
        cells = [
            f'<td class="avx-text">{_cell(v)}</td>' if c in text else f"<td>{_cell(v)}</td>"
            for c, v in zip(frame.columns, frame.iloc[i])
        ]
        body.append("<tr>" + "".join(heads + cells) + "</tr>")
    head = "".join(_header_rows(frame.columns, n_index, corner, text))
    kind = "dataframe avx-bench avx-wrap" if wrap_labels else "dataframe avx-bench"
    return f'<table class="{kind}"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


def note(text: str) -> str:
    """A short line under a table, from plain text (see :func:`render`)."""
    return f'<p class="avx-bench-note">{render(text)}</p>'


def details(summary: str, body: str) -> str:
    """``body`` in a block that opens on a click, headed by ``summary``."""
    return f'<details class="avx-bench-more"><summary>{html.escape(summary)}</summary>{body}</details>'


def show(
    frame: pd.DataFrame,
    *,
    notes: Sequence[str] = (),
    text_columns: Iterable[str] = (),
    corner: str = "",
    wrap_labels: bool = False,
    more: tuple[str, str] | None = None,
) -> Shown:
    """A frame as a :class:`Shown`: the table, its ``notes`` (plain text) under it and, with
    ``more`` = (summary, HTML), a block of detail that opens on a click."""
    parts = [_STYLE, html_table(frame, text_columns, corner, wrap_labels)] + [note(n) for n in notes]
    if more is not None:
        parts.append(details(*more))
    return Shown("\n".join(parts), frame.to_string())


def signed(value: float, digits: int = 2) -> str:
    """``+4.87``, ``−3.48``; a dash for NaN."""
    return "–" if math.isnan(value) else f"{value:+.{digits}f}".replace("-", "−")


def turned(frame: pd.DataFrame, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A wide frame with few rows turned on its side (its columns become rows), each quantity
    renamed by ``names``: many columns read better as rows on a narrow page."""
    out = frame.T
    if names:
        out.index = [names.get(c, c) for c in out.index]
    return out
