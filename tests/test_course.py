"""Teaching with the book: self-checks, graded exercises, assignments and execution records."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from alphavae_core.course import exercises, questions, records
from alphavae_core.course.selfcheck import Choice, Number, selfcheck_html
from alphavae_core.errors import UserError

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
# Chapters whose notebooks do not carry their self-check cell yet (the cell is in book/course.md's notes).
PENDING: set[str] = set()


def _selfcheck_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and "self_check(" in c.source]


@pytest.mark.parametrize("chapter", sorted(questions.BUILDERS))
def test_questions_are_computed_and_render_the_same_bytes(chapter: str) -> None:
    inputs = questions.reference_inputs(chapter, "cpu")
    qs = questions.questions(chapter, **inputs)
    assert 2 <= len(qs) <= 5
    assert all(isinstance(q, Choice | Number) for q in qs)
    first, second = questions.self_check(chapter, **inputs), questions.self_check(chapter, **inputs)
    assert first == second and f'id="selfcheck-{chapter}"' in first
    assert "http" not in first.lower(), "a self-check loads nothing"


@pytest.mark.parametrize("chapter", sorted(set(questions.BUILDERS) - PENDING))
def test_chapter_shows_its_self_check_as_the_library_computes_it(chapter: str) -> None:
    nb = nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4)
    (cell,) = _selfcheck_cells(nb)
    assert "hide-input" in cell.metadata.get("tags", [])
    shown = cell.outputs[0]["data"]["text/html"]
    shown = "".join(shown) if isinstance(shown, list) else shown
    assert shown == questions.self_check(chapter, **questions.reference_inputs(chapter, "cpu"))


def test_every_chapter_with_questions_is_pending_or_has_its_cell() -> None:
    for chapter in questions.BUILDERS:
        cells = _selfcheck_cells(nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4))
        assert bool(cells) != (chapter in PENDING), f"{chapter}: update PENDING in this test"


def test_question_mistakes_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match="not an index"):
        Choice("?", ("a", "b"), 2)
    with pytest.raises(ValueError, match="positive tolerance"):
        Number("?", 1.0, 0.0)
    with pytest.raises(UserError, match="no self-checks for chapter 'nope'"):
        questions.questions("nope")
    with pytest.raises(ValueError, match="no self-check questions"):
        selfcheck_html("x", [])
    assert Number("?", 0.5, 0.01).accepts(0.505) and not Number("?", 0.5, 0.01).accepts(0.52)


def _solution_cell(nb, label: str) -> str:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and f"{{solution-start}} {label}" in cell.source:
            return next(c.source for c in nb.cells[i + 1 :] if c.cell_type == "code")
    raise AssertionError(f"no solution-start block for {label}")


@pytest.mark.parametrize("ex", exercises.EXERCISES, ids=lambda e: e.label)
def test_book_solution_shows_the_graded_solution(ex: exercises.Exercise) -> None:
    shown = [
        line.strip()
        for line in _solution_cell(nbformat.read(BOOK / f"{ex.chapter}.ipynb", 4), ex.label).splitlines()
    ]
    missing = [line for line in ex.solution_lines() if line.strip() not in shown]
    assert not missing, f"the book's solution of {ex.label} no longer shows: {missing}"


@pytest.mark.parametrize(
    "ex", [e for e in exercises.EXERCISES if e.label != "ex-mix-start"], ids=lambda e: e.label
)
def test_check_accepts_the_solution_and_rejects_others(ex: exercises.Exercise) -> None:
    ref = ex.reference()
    exercises.check(ex.label, ref)
    wrong = tuple(1.01 * v for v in ref) if isinstance(ref, tuple) else 1.01 * ref
    with pytest.raises(AssertionError, match="not the expected value"):
        exercises.check(ex.label, wrong)
    with pytest.raises(UserError, match="no graded exercise"):
        exercises.check("ex-nope", ref)


def _same(a, b) -> bool:
    import dataclasses

    import torch

    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if dataclasses.is_dataclass(a):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return a == b


def test_setup_code_defines_the_inputs_the_check_uses() -> None:
    for ex in exercises.EXERCISES:
        namespace: dict = {}
        exec(ex.setup, namespace)  # the cell the student is given
        for name, value in ex.inputs().items():
            assert _same(namespace[name], value), (ex.label, name)


def test_execution_records(tmp_path: Path) -> None:
    path = tmp_path / records.FILE_NAME
    records.record(path, "01_divergences", "cpu", 12.34)
    entry = records.record(path, "01_divergences", "smoke", 3)
    data = records.load(path)
    assert list(data["01_divergences"]) == ["cpu", "smoke"]
    assert data["01_divergences"]["cpu"]["seconds"] == 12.3 and entry["cores"] == os.cpu_count()
    assert {"torch", "cpu", "date", "python"} <= set(entry)
    committed = records.load(BOOK / records.FILE_NAME)
    assert {"smoke", "cpu"} <= set(committed["01_divergences"])


@pytest.mark.slow
def test_assignments_build_and_grade_offline_without_docker(tmp_path: Path) -> None:
    """Build chapter 1's assignment, then grade a correct, a wrong and a broken submission with no
    network (a private network namespace, where available) and a `docker` that fails if called."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "0"}
    cli = [sys.executable, "-m", "alphavae_core", "assignments"]
    out = tmp_path / "assignments"
    subprocess.run(
        [*cli, "build", "--out", str(out), "--only", "01_divergences"], check=True, env=env, cwd=tmp_path
    )
    folder = out / "01_divergences"
    student = nbformat.read(folder / "student" / "01_divergences.ipynb", 4)
    text = json.dumps(student)
    for ex in (e for e in exercises.EXERCISES if e.chapter == "01_divergences"):
        assert all(line not in text for line in ex.solution_lines()), "no solution in the student's notebook"
    assert "exercises import check" not in text and '"hidden": true' not in text, (
        "no hidden test in the student's notebook"
    )
    instructor = json.dumps(nbformat.read(folder / "autograder" / "01_divergences.ipynb", 4))
    assert '"hidden": true' in instructor and "bhattacharyya = (mu**2" in instructor

    subs = tmp_path / "submissions"
    subs.mkdir()
    shutil.copy(folder / "autograder" / "01_divergences.ipynb", subs / "alice.ipynb")
    for cell in student.cells:
        if cell.source.startswith("# set bhattacharyya"):
            cell.source = "bhattacharyya = 0.5"
        elif cell.source.startswith("# set swapped"):
            cell.source = "swapped = dv.gjs_normal(mu2, logvar2, 0.7, dual, mu_prior=mu, logvar_prior=logvar)"
    nbformat.write(student, subs / "bob.ipynb")
    (subs / "carol.ipynb").write_text('{"cells": [ not a notebook')

    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "docker").write_text(f"#!/bin/sh\ntouch {tmp_path / 'docker-was-called'}\nexit 1\n")
    (fake / "docker").chmod(0o755)
    env["PATH"] = f"{fake}:{env['PATH']}"
    grade = [*cli, "grade", str(subs), "--assignment", str(folder), "--out", str(tmp_path / "scores.csv")]
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"]).returncode == 0:
        # no network at all: only a loopback interface (the kernel talks to its client over it)
        grade = ["unshare", "-rn", "sh", "-c", 'ip link set lo up 2>/dev/null; exec "$@"', "grade", *grade]
    run = subprocess.run(grade, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert not (tmp_path / "docker-was-called").exists()
    rows = {r["submission"]: r for r in csv.DictReader(open(tmp_path / "scores.csv"))}
    assert (rows["alice.ipynb"]["score"], rows["alice.ipynb"]["possible"], rows["alice.ipynb"]["failed"]) == (
        "2.0",
        "2.0",
        "",
    )
    assert rows["bob.ipynb"]["score"] == "1.0" and rows["bob.ipynb"]["failed"] == "div_bhattacharyya"
    assert (
        rows["carol.ipynb"]["status"] == "error"
        and "not a readable notebook" in rows["carol.ipynb"]["message"]
    )
    assert "bob.ipynb: graded, 1/2, failed: div_bhattacharyya" in run.stdout


def test_grade_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    from alphavae_core.course import assignments

    with pytest.raises(SystemExit) as exit_info:
        assignments.main(["grade", str(tmp_path / "nope"), "--assignment", str(tmp_path)])
    assert exit_info.value.code == 2
    (tmp_path / "subs").mkdir()
    with pytest.raises(UserError, match="no autograder zip"):
        assignments.autograder_zip(tmp_path)
    with pytest.raises(UserError, match="no graded exercises"):
        assignments.instructor_notebook("04_benchmarks")
