"""Where the repository, its committed results and the datasets live."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def results_dir(preset: str) -> Path:
    """Folder of committed results for a preset: ``results/<preset>/``."""
    return REPO_ROOT / "results" / preset


def data_root() -> Path:
    """Dataset root: ``$ALPHAVAE_DATA`` if set, else ``data/`` in the repository."""
    return Path(os.environ.get("ALPHAVAE_DATA", REPO_ROOT / "data")).expanduser()
