"""The status page's and the course page's tables, rendered at build time from
``book/execution_records.json`` (written by ``scripts/execute_book.py`` whenever it executes a chapter).

``{execution-status}`` lists each chapter's last execution per preset: seconds, date, torch, CPU.
``{execution-times}`` puts each chapter's seconds at ``smoke`` and ``cpu`` side by side. Both read
only the committed file, so the pages are the same on every build and need no network.
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

RECORDS = Path("book") / "execution_records.json"


def _chapter_title(path: Path) -> str:
    try:
        cells = json.loads(path.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return path.stem
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def _table(header: list[str], rows: list[list[str]]) -> nodes.table:
    table = nodes.table(classes=["execution-table"])
    group = nodes.tgroup(cols=len(header))
    table += group
    group.extend(nodes.colspec(colwidth=1) for _ in header)
    head, body = nodes.thead(), nodes.tbody()
    for target, cells in ((head, [header]), (body, rows)):
        for values in cells:
            row = nodes.row()
            for value in values:
                row += nodes.entry("", nodes.paragraph(text=value))
            target += row
    group += head
    group += body
    return table


def _seconds(entry: dict | None) -> str:
    if not entry:
        return "not recorded"
    s = float(entry["seconds"])
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


class _RecordsDirective(SphinxDirective):
    has_content = False

    def records(self) -> tuple[dict, list[Path]]:
        path = Path(self.env.srcdir) / RECORDS
        self.env.note_dependency(str(path))
        data = json.loads(path.read_text()) if path.is_file() else {}
        chapters = sorted((Path(self.env.srcdir) / "book").glob("*.ipynb"))
        return data, chapters


class ExecutionStatus(_RecordsDirective):
    def run(self) -> list[nodes.Node]:
        data, chapters = self.records()
        rows = []
        for nb in chapters:
            for preset, entry in (data.get(nb.stem) or {"—": None}).items():
                if entry is None:
                    rows.append([_chapter_title(nb), "—", "not recorded", "", "", ""])
                    continue
                cpu = f"{entry['cpu']} ({entry['cores']} cores, {entry['threads']} threads)"
                rows.append([_chapter_title(nb), preset, _seconds(entry), entry["date"],
                             f"torch {entry['torch']}, Python {entry['python']}", cpu])  # fmt: skip
        header = ["chapter", "preset", "execution time", "executed", "software", "CPU"]
        return [_table(header, rows)]


class ExecutionTimes(_RecordsDirective):
    def run(self) -> list[nodes.Node]:
        data, chapters = self.records()
        rows = [
            [
                _chapter_title(nb),
                _seconds(data.get(nb.stem, {}).get("smoke")),
                _seconds(data.get(nb.stem, {}).get("cpu")),
            ]
            for nb in chapters
        ]
        return [_table(["chapter", "at smoke", "at cpu"], rows)]


def setup(app):
    app.add_directive("execution-status", ExecutionStatus)
    app.add_directive("execution-times", ExecutionTimes)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
