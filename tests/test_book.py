"""The book's structure, and every chapter executed end to end at the smoke preset."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((REPO / "book").glob("*.ipynb"))


def _toc_files() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def test_every_chapter_is_in_the_toc_and_exists() -> None:
    listed = _toc_files()
    for nb in CHAPTERS:
        assert f"book/{nb.stem}" in listed, f"{nb.name} is missing from _toc.yml"
    for entry in listed:
        assert list(REPO.glob(entry + ".*")), f"_toc.yml lists {entry}, which does not exist"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_follows_the_template(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    assert re.fullmatch(r'\s*preset\s*=\s*"cpu"\s*', params[0].source), 'parameters cell holds preset = "cpu"'
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "In this chapter you will" in text
    assert re.search(r"^#+ Exercises", text, re.M), "an Exercises section"
    assert re.search(r"dropdown|hide-cell", text + str([c.metadata for c in nb.cells])), "hidden solutions"
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert not errors, "committed outputs hold an error"
    assert path.stat().st_size < 3_000_000, "notebook too large: store lean figures"


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_at_smoke_preset(path: Path, tmp_path: Path) -> None:
    papermill.execute_notebook(
        str(path),
        str(tmp_path / path.name),
        parameters={"preset": "smoke"},
        cwd=str(path.parent),
        progress_bar=False,
        execution_timeout=600,  # a lost kernel message fails the test instead of hanging CI
    )
