"""``alphavae assignments``: build the graded assignments with otter-grader, and grade submissions.

``build`` writes, per chapter with graded exercises (:mod:`exercises`), an instructor notebook in
otter's format and runs ``otter assign`` on it: ``<out>/<chapter>/student/`` (the questions, cells
to fill, public checks; no solutions) and ``<out>/<chapter>/autograder/`` (solutions, hidden tests
and ``<chapter>-autograder_*.zip``). ``grade`` runs ``otter run`` (no Docker, no network) on every
notebook of a folder, each in its own process, and writes one CSV row per submission.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from alphavae_core.course.exercises import EXERCISES, Exercise, chapters
from alphavae_core.errors import UserError

TITLES = {
    "01_divergences": "Chapter 1: the divergence family in closed form",
    "02_skew_optimisation": "Chapter 2: where is the optimal skew?",
    "03_synthetic_mixtures": "Chapter 3: learning the skew on synthetic mixtures",
}


def _raw(text: str):
    return nbformat.v4.new_raw_cell(text)


def _code(text: str):
    return nbformat.v4.new_code_cell(text)


def _solution_source(ex: Exercise) -> str:
    """The solution cell: the book's solution lines between otter's solution markers."""
    lines = ex.solution_lines()
    source = Path(ex.solution.__code__.co_filename).read_text().splitlines()
    end = ex.solution.__code__.co_firstlineno
    ret = next(line.strip() for line in source[end:] if line.strip().startswith("return "))
    expr = ret.removeprefix("return ")
    if expr != ex.answer:
        lines.append(f"{ex.answer} = {expr}")
    return "\n".join(
        [f"# set {ex.answer}", *ex.solution_imports(), "# BEGIN SOLUTION", *lines, "# END SOLUTION"]
    )


def _hidden_test(ex: Exercise) -> str:
    return (
        f'""" # BEGIN TEST CONFIG\nhidden: true\npoints: {ex.points}\n""" # END TEST CONFIG\n'
        "from alphavae_core.course.exercises import check\n\n"
        f"check({ex.label!r}, ({ex.answer}))"
    )


def instructor_notebook(chapter: str) -> nbformat.NotebookNode:
    """The chapter's assignment in otter's format: config, then per question its prompt, setup,
    solution, public check and hidden test."""
    chosen = [e for e in EXERCISES if e.chapter == chapter]
    if not chosen:
        raise UserError(f"no graded exercises for {chapter!r}; chapters with some: {', '.join(chapters())}")
    config = {
        "name": chapter,
        "init_cell": False,
        "check_all_cell": False,
        "export_cell": False,
        "run_tests": True,
        "generate": {"zips": False},
        "environment": None,
    }
    config = {k: v for k, v in config.items() if v is not None}
    import yaml

    cells = [
        _raw("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False).strip()),
        nbformat.v4.new_markdown_cell(
            f"# {TITLES.get(chapter, chapter)}\n\nFill in each cell marked `...`, run it, then run the "
            "check below it. The checks here test the form of your answer; your instructor's grader "
            "also tests its value. Save the notebook and hand it in."
        ),
        _code("import otter\n\ngrader = otter.Notebook()"),
    ]
    for i, ex in enumerate(chosen, 1):
        cells += [
            _raw(f"# BEGIN QUESTION\nname: {ex.name}"),
            nbformat.v4.new_markdown_cell(
                f"**Question {i}** (exercise `{ex.label}` of the book). {ex.prompt}"
            ),
            _code(ex.setup),
            _raw("# BEGIN SOLUTION"),
            _code(_solution_source(ex)),
            _raw("# END SOLUTION"),
            _raw("# BEGIN TESTS"),
            _code(f'""" # BEGIN TEST CONFIG\npoints: 0\n""" # END TEST CONFIG\n{ex.public}'),
            _code(_hidden_test(ex)),
            _raw("# END TESTS"),
            _raw("# END QUESTION"),
        ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def build(out: Path, only: list[str] | None = None) -> list[Path]:
    """Write and ``otter assign`` each chapter's assignment under ``out``; returns the chapter folders."""
    done = []
    for chapter in only or chapters():
        folder = Path(out) / chapter
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        master = folder / f"{chapter}.ipynb"
        nbformat.write(instructor_notebook(chapter), master)
        run = subprocess.run(
            [sys.executable, "-m", "otter", "assign", "--no-pdfs", master.name, "dist"],
            cwd=folder, capture_output=True, text=True,
        )  # fmt: skip
        if run.returncode:
            raise UserError(
                f"otter assign failed for {chapter}: {(run.stderr or run.stdout).strip()[-2000:]}"
            )
        for part in ("student", "autograder"):
            shutil.move(folder / "dist" / part, folder / part)
        shutil.rmtree(folder / "dist")
        master.unlink()
        done.append(folder)
    return done


def autograder_zip(folder: Path) -> Path:
    zips = sorted(Path(folder).glob("autograder/*autograder*.zip")) or sorted(Path(folder).glob("*.zip"))
    if not zips:
        raise UserError(f"no autograder zip in {folder}: run `make assignments` first")
    return zips[-1]


def grade_one(submission: Path, zip_path: Path, timeout: int) -> dict:
    """Grade one notebook with ``otter run`` in its own process; never raises for the student's errors."""
    row = {
        "submission": submission.name,
        "status": "graded",
        "score": 0.0,
        "possible": 0.0,
        "failed": "",
        "message": "",
    }
    with tempfile.TemporaryDirectory(prefix="grade_") as tmp:
        try:
            nbformat.read(submission, as_version=4)
        except Exception as exc:  # not a notebook: say so and go on with the others
            return {**row, "status": "error", "message": f"not a readable notebook ({type(exc).__name__})"}
        try:
            run = subprocess.run(
                [sys.executable, "-m", "otter", "run", "--no-logo", "-a", str(zip_path), "-o", tmp, str(submission)],
                capture_output=True, text=True, timeout=timeout, env={**os.environ, "PYTHONHASHSEED": "0"},
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return {**row, "status": "error", "message": f"did not finish within {timeout} s"}
        results = Path(tmp) / "results.json"
        if run.returncode or not results.is_file():
            last = [line for line in (run.stderr or run.stdout).strip().splitlines() if line.strip()]
            return {**row, "status": "error", "message": (last[-1] if last else "otter run failed")[:300]}
        data = json.loads(results.read_text())
    # otter's Gradescope-style results: one entry per question, plus the public tests' summary
    scores = {
        t["name"]: (float(t["score"]), float(t["max_score"]))
        for t in data.get("tests", [])
        if t.get("score") is not None and t.get("max_score") is not None
    }
    row["score"] = sum(s for s, _ in scores.values())
    row["possible"] = sum(p for _, p in scores.values())
    row["failed"] = " ".join(sorted(n for n, (s, p) in scores.items() if s < p))
    row.update({f"q:{n}": s for n, (s, _) in sorted(scores.items())})
    return row


def grade(folder: Path, zip_path: Path, out: Path, timeout: int = 600) -> list[dict]:
    """Grade every ``*.ipynb`` in ``folder``; write ``out`` (CSV) and return its rows."""
    submissions = sorted(Path(folder).glob("*.ipynb"))
    if not submissions:
        raise UserError(f"no .ipynb submissions in {folder}")
    rows = []
    for sub in submissions:
        row = grade_one(sub, zip_path, timeout)
        rows.append(row)
        print(f"{sub.name}: {row['status']}, {row['score']:g}/{row['possible']:g}"
              + (f", failed: {row['failed']}" if row["failed"] else "")
              + (f" ({row['message']})" if row["message"] else ""), flush=True)  # fmt: skip
    full = max((r["possible"] for r in rows if r["status"] == "graded"), default=0.0)
    for row in rows:
        if row["status"] == "error":  # not graded: nothing scored out of the full marks
            row["possible"] = full
    columns = ["submission", "status", "score", "possible", "failed", "message"]
    columns += sorted({k for r in rows for k in r if k.startswith("q:")})
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv: list[str] | None = None, prog: str = "alphavae assignments") -> None:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    b = sub.add_parser("build", help="write the student and autograder versions of each assignment")
    b.add_argument("--out", type=Path, default=Path("assignments"), help="folder (default: assignments/)")
    b.add_argument("--only", nargs="*", help="chapters (default: every one with graded exercises)")
    g = sub.add_parser("grade", help="grade a folder of submitted notebooks into a CSV of scores")
    g.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    g.add_argument(
        "--assignment", type=Path, required=True, help="the chapter's folder, e.g. assignments/01_divergences"
    )
    g.add_argument("--out", type=Path, default=Path("scores.csv"), help="CSV to write (default: scores.csv)")
    g.add_argument("--timeout", type=int, default=600, help="seconds per submission (default 600)")
    args = parser.parse_args(argv)
    try:
        if args.action == "build":
            for folder in build(args.out, args.only):
                print(f"== {folder}: student/ and autograder/")
        else:
            if not args.submissions.is_dir():
                raise UserError(f"{args.submissions} is not a folder of submissions")
            rows = grade(args.submissions, autograder_zip(args.assignment), args.out)
            print(f"== {len(rows)} submission(s) graded into {args.out}")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
