"""Execute the book's chapters with papermill.

* ``--preset P --out DIR``: execute every chapter at preset P into DIR and stage the book sources
  there (``_config.yml``, ``_toc.yml``, markdown pages), ready for ``jupyter-book build DIR``.
* ``--in-place``: re-execute the committed chapters at their default preset, refreshing the
  outputs that strict ``pytest --nbval`` compares against.

Every execution is recorded (seconds, date, torch version, CPU) in ``book/execution_records.json``,
which the book's status and course pages render: in place in the repository's copy; in a staged
book in the staged copy, and also in the repository's with ``--record``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import nbformat
import papermill

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from alphavae_core.course import records  # noqa: E402
from alphavae_core.experiments.presets import PRESET_NAMES  # noqa: E402

BOOK = REPO / "book"
STAGED = ("_config.yml", "_toc.yml")


def chapters() -> list[Path]:
    """The book's notebooks, in file-name order (which is the chapter order)."""
    return sorted(BOOK.glob("*.ipynb"))


def strip_execution_metadata(path: Path) -> None:
    """Drop papermill's timings so a refresh changes only what a reader sees."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def show_injected_parameters_only(path: Path) -> None:
    """In a staged book, hide the default ``parameters`` cell: papermill's injected cell below it
    shows the preset this build really used."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    nbformat.write(nb, path)


def execute(src: Path, dst: Path, preset: str | None) -> float:
    start = time.perf_counter()
    papermill.execute_notebook(
        str(src),
        str(dst),
        parameters=None if preset is None else {"preset": preset},
        cwd=str(src.parent),
        progress_bar=False,
        log_output=False,
        execution_timeout=1800,  # seconds per cell: a hung kernel fails instead of blocking
    )
    strip_execution_metadata(dst)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="cpu", choices=PRESET_NAMES)
    parser.add_argument("--out", type=Path, help="staging folder for the executed book")
    parser.add_argument("--in-place", action="store_true", help="refresh the committed outputs")
    parser.add_argument("--only", nargs="*", default=None, help="notebook names to execute (default: all)")
    parser.add_argument(
        "--record", action="store_true", help="with --out: also record the timings in the repository's book/"
    )
    args = parser.parse_args()
    if not args.in_place and args.out is None:
        parser.error("give --out DIR, or --in-place")

    selected = [nb for nb in chapters() if not args.only or nb.name in args.only or nb.stem in args.only]
    if args.in_place:
        for nb in selected:
            seconds = execute(nb, nb, None)
            records.record(BOOK / records.FILE_NAME, nb.stem, "cpu", seconds)
            print(f"== {nb.name} (default preset, in place): {seconds:.0f} s", flush=True)
        return

    out = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    (out / "book").mkdir(parents=True)
    for name in STAGED:
        shutil.copy(REPO / name, out / name)
    for path in BOOK.iterdir():
        if path.suffix != ".ipynb" and not path.name.startswith("."):
            copy = shutil.copytree if path.is_dir() else shutil.copy
            copy(path, out / "book" / path.name)
    for nb in chapters():
        if nb in selected:
            seconds = execute(nb, out / "book" / nb.name, args.preset)
            show_injected_parameters_only(out / "book" / nb.name)
            records.record(out / "book" / records.FILE_NAME, nb.stem, args.preset, seconds)
            if args.record:
                records.record(BOOK / records.FILE_NAME, nb.stem, args.preset, seconds)
            print(f"== {nb.name} (preset {args.preset}): {seconds:.0f} s", flush=True)
        else:
            shutil.copy(nb, out / "book" / nb.name)


if __name__ == "__main__":
    main()
