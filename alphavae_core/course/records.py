"""Execution records: how long each chapter took to execute, when, and on what (torch, CPU).

``scripts/execute_book.py`` writes one record per (chapter, preset) to ``book/execution_records.json``;
the status and course pages render them (``_ext/course_pages.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from pathlib import Path

from alphavae_core.experiments.bench import cpu_name

FILE_NAME = "execution_records.json"


def environment() -> dict:
    """torch and Python versions, the CPU and its core count, the platform."""
    import torch

    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "platform": f"{platform.system()} {platform.machine()}",
    }


def load(path: Path) -> dict:
    """``{chapter: {preset: record}}``; empty when the file does not exist yet."""
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else {}


def record(path: Path, chapter: str, preset: str, seconds: float, when: dt.datetime | None = None) -> dict:
    """Store one execution of ``chapter`` at ``preset`` (replacing the previous one) and return it."""
    when = when or dt.datetime.now(dt.timezone.utc)
    entry = {
        "seconds": round(float(seconds), 1),
        "date": when.strftime("%Y-%m-%d %H:%M UTC"),
        **environment(),
    }
    data = load(path)
    data.setdefault(chapter, {})[preset] = entry
    ordered = {c: dict(sorted(data[c].items())) for c in sorted(data)}
    Path(path).write_text(json.dumps(ordered, indent=1, sort_keys=False) + "\n")
    return entry
