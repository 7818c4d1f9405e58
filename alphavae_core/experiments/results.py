"""The one results format: tidy CSV tables plus JSON sidecars, each row keyed by its configuration.

* ``results/<preset>/<experiment>.csv``: one row per finished run, with the configuration's
  columns, its metrics, ``config_key`` (hash of the full resolved configuration and the
  experiment's code version) and provenance (``device``, ``date``, ``commit``, ``seconds``).
* ``results/<preset>/<experiment>_<what>.json``: bulky per-run data (alpha histories,
  landscapes), a mapping from ``config_key`` to a value.

Writes are atomic (temporary file, then rename), and every read-modify-write of a table or a
sidecar holds a lock file beside it (``.<name>.lock``), so two processes writing to one results
folder never drop each other's rows. A table that cannot be parsed, or whose rows
lack their key, is moved aside (``<name>.corrupt``) with a warning and treated as missing, never
silently used; so is a JSON sidecar that does not parse. Readers select rows by the keys of the
configurations they want, so rows of other settings or code versions are never shown.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import subprocess
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

if TYPE_CHECKING:  # imported where used: pandas adds 0.15 s to every training process's start
    import pandas as pd

from alphavae_core.paths import REPO_ROOT

KEY = "config_key"
# Read as text, never as numbers: a hex key such as "73258e422103" or a commit such as "06e8759" is a
# valid float literal (7.3e422107 is inf), and a column of such values would be parsed as one.
TEXT_COLUMNS = (KEY, "commit", "code_version", "device", "date", "torch")


def config_key(config: Mapping[str, Any], code_version: str) -> str:
    """Stable 12-hex-digit hash of a configuration and the code version that produced it."""
    payload = json.dumps({"config": dict(config), "code_version": code_version}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def git_commit(root: Path = REPO_ROOT) -> str:
    """Short commit of the repository, with ``+dirty`` if tracked files other than ``results/`` have
    uncommitted changes; or ``unknown``. The grid's own new rows do not make the code dirty."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def provenance(device: str) -> dict[str, str]:
    """Where and when a result was computed."""
    import torch

    return {
        "device": device,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": git_commit(),
        "torch": torch.__version__,
    }


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600 files; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _lock(path: Path) -> FileLock:
    """The lock every writer of ``path`` holds while it reads, merges and replaces the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path.with_name(f".{path.name}.lock"))


def remove(path: str | Path) -> None:
    """Delete a results file (a merged shard) and its lock file."""
    path = Path(path)
    path.unlink(missing_ok=True)
    path.with_name(f".{path.name}.lock").unlink(missing_ok=True)


def _set_aside(path: Path, reason: str) -> None:
    bad = path.with_name(path.name + ".corrupt")
    os.replace(path, bad)
    warnings.warn(f"{path} is corrupt ({reason}); moved to {bad.name} and will be recomputed", stacklevel=3)


def read_table(path: str | Path) -> pd.DataFrame:
    """Rows of a results table; empty if the file is missing or corrupt (corrupt ones are set aside)."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        return pd.DataFrame()
    raw = path.read_bytes()
    if raw and not raw.endswith(b"\n"):  # every write ends with a newline: this one was cut short
        _set_aside(path, "truncated last line")
        return pd.DataFrame()
    if b"\0" in raw:  # zero-filled blocks, as a crash can leave them; never part of a CSV we write
        _set_aside(path, "NUL bytes")
        return pd.DataFrame()
    try:
        table = pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        _set_aside(path, str(err).splitlines()[0] if str(err) else type(err).__name__)
        return pd.DataFrame()
    if KEY not in table.columns or table[KEY].isna().any():
        _set_aside(path, f"rows without {KEY}")
        return pd.DataFrame()
    repeated = table[KEY].duplicated(keep="last")
    if repeated.any():  # e.g. a hand merge of two copies: the last row of a key is the newest
        warnings.warn(
            f"{path} has {int(repeated.sum())} repeated {KEY}s; the last row of each is used", stacklevel=2
        )
        table = table[~repeated].reset_index(drop=True)
    return table


def append_rows(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Add rows to a table, replacing earlier rows with the same ``config_key``; return the table."""
    import pandas as pd

    path = Path(path)
    new = pd.DataFrame(list(rows))
    if new.empty:
        return read_table(path)
    if KEY not in new.columns:
        raise ValueError(f"every results row needs a {KEY!r} column")
    with _lock(path):
        old = read_table(path)
        if not old.empty:
            old = old[~old[KEY].isin(new[KEY])]
            new = pd.concat([old, new], ignore_index=True)
        _atomic_write_text(path, new.to_csv(index=False))
    return new


def missing(keys: Iterable[str], table: pd.DataFrame) -> list[str]:
    """The keys that have no row in ``table`` (in their given order)."""
    have = set(table[KEY]) if KEY in table.columns else set()
    return [key for key in keys if key not in have]


def write_json(path: str | Path, obj: Any) -> None:
    """Write JSON atomically."""
    _atomic_write_text(Path(path), json.dumps(obj, indent=1, sort_keys=True, default=float) + "\n")


def read_json(path: str | Path, default: Any = None) -> Any:
    """Read JSON; ``default`` if missing; a corrupt file is set aside with a warning."""
    path = Path(path)
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        _set_aside(path, f"invalid JSON: {err}")
        return default


def update_json(path: str | Path, entries: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``entries`` into a JSON mapping on disk (atomically) and return the result."""
    with _lock(Path(path)):
        found = read_json(path, default={})
        if not isinstance(found, Mapping):  # valid JSON, but not the mapping from key to value it must be
            _set_aside(Path(path), f"a JSON {type(found).__name__}, not a mapping")
            found = {}
        merged = dict(found)
        merged.update(entries)
        write_json(path, merged)
    return merged
