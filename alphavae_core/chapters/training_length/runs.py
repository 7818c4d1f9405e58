"""Chapter 7's runs: settings, loading, the parts of the grid, and the records of every run along the way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alphavae_core.chapters import rate_distortion as rd
from alphavae_core.config import TrainConfig
from alphavae_core.experiments.catalogue import TRAINING_LENGTH_PARTS, training_length_configs
from alphavae_core.experiments.grid import key_of, run_grid, table_paths
from alphavae_core.experiments.presets import SCALES, check_preset
from alphavae_core.experiments.results import KEY, read_json, read_table
from alphavae_core.losses import get_regulariser
from alphavae_core.paths import results_dir

TABLE = "training_length"
CONFIG_COLUMNS = ("dataset", "regulariser", "alpha0", "weight", "seed")
METRICS = ("test_mse", "rate", "train_mse", "train_rate")
SHOWN_EPOCHS = (5, 10, 20, 50, 100)  # Table 1's columns over training
EARLY = 5  # the book's other chapters train for 5 epochs at the cpu preset


@dataclass(frozen=True)
class LengthSettings:
    """The runs the chapter expects at one preset and where their rows live."""

    preset: str
    folder: Path
    configs: tuple[TrainConfig, ...]
    compute: bool  # only smoke trains inside the chapter
    epochs: int  # each run's length: the paper's 100 (3 at smoke)
    seeds: int

    def __repr__(self) -> str:
        return (f"LengthSettings(preset={self.preset!r}, epochs={self.epochs}, seeds={self.seeds}, "
                f"expected runs={len(self.configs)})")  # fmt: skip


def chapter_settings(preset: str, folder: str | Path | None = None) -> LengthSettings:
    """The training-length runs of ``preset`` (``results/<preset>/`` unless ``folder`` is given)."""
    scale = SCALES[check_preset(preset)]
    folder = Path(folder) if folder is not None else results_dir(preset)
    configs = tuple(training_length_configs(preset))
    return LengthSettings(preset, folder, configs, preset == "smoke", scale.long_epochs, len(scale.seeds))


def grid_command(preset: str) -> str:
    return f"alphavae grid --experiment training_length --preset {preset}"


def compute(settings: LengthSettings) -> int:
    """Train the missing runs of the smoke preset (larger presets are computed outside the book)."""
    if not settings.compute:
        raise ValueError(
            f"preset {settings.preset!r} is computed outside the book: {grid_command(settings.preset)}"
        )
    return run_grid(list(settings.configs), settings.folder, device="auto", show_progress=False, table=TABLE)


def load_results(settings: LengthSettings) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rows of the expected runs, in catalogue order, and their histories (records, alpha)."""
    csv_path, json_path = table_paths(settings.folder, table=TABLE)
    found = read_table(csv_path)
    histories = read_json(json_path, default={}) or {}
    columns = [*CONFIG_COLUMNS, "epochs", *METRICS, "alpha_final", "seconds", KEY]
    if found.empty:
        return pd.DataFrame(columns=columns), {}
    order = {key_of(c): i for i, c in enumerate(settings.configs)}
    found = found[found[KEY].isin(order) & found[KEY].isin(histories)]
    found = found.assign(_order=found[KEY].map(order)).sort_values("_order")
    return found[columns].reset_index(drop=True), histories


def part_configs(settings: LengthSettings) -> list[list[TrainConfig]]:
    """The expected runs of each of the five parts, in order (part 5: the initial-alpha sweep)."""
    out = []
    for part in [*TRAINING_LENGTH_PARTS, None]:
        if part is None:
            mine = [
                c
                for c in settings.configs
                if c.alpha0 not in (None, get_regulariser(c.regulariser).default_alpha)
            ]
        else:
            points = {(d, r, get_regulariser(r).default_weight if w is None else w) for d, r, w in part}
            mine = [
                c for c in settings.configs
                if (c.dataset, c.regulariser, c.weight) in points
                and c.alpha0 in (None, get_regulariser(c.regulariser).default_alpha)
            ]  # fmt: skip
        out.append(mine)
    return out


def missing_text(settings: LengthSettings, rows: pd.DataFrame) -> str:
    """How many runs have rows, part by part, and the command that computes the rest."""
    have = set(rows[KEY])
    n = len(settings.configs)
    counts = [
        f"part {i}: {sum(key_of(c) in have for c in mine)} of {len(mine)}"
        for i, mine in enumerate(part_configs(settings), start=1)
    ]
    done = sum(key_of(c) in have for c in settings.configs)
    text = f"{done} of {n} runs of {settings.epochs} epochs have results ({'; '.join(counts)})."
    if done < n:
        text += f"\nThe rest: {grid_command(settings.preset)}"
    return text


# ----------------------------------------------------------------------------- records
def records(rows: pd.DataFrame, histories: Mapping[str, Any]) -> pd.DataFrame:
    """One row per (run, recorded epoch): the run's configuration and its metrics after that epoch."""
    out = []
    for _, row in rows.iterrows():
        for rec in (histories.get(row[KEY]) or {}).get("records", []):
            out.append(
                {**{c: row[c] for c in CONFIG_COLUMNS}, KEY: row[KEY], "run_epochs": row["epochs"], **rec}
            )
    columns = [*CONFIG_COLUMNS, KEY, "run_epochs", "epoch", *METRICS, "alpha"]
    return pd.DataFrame(out, columns=columns)


def at_epoch(recs: pd.DataFrame, epoch: int) -> pd.DataFrame:
    """The runs as they stood after ``epoch``, as ordinary results rows (``epochs`` = ``epoch``,
    ``alpha_final`` = alpha then): what chapters 4 and 6 read."""
    part = recs[recs["epoch"] == epoch]
    return part.assign(epochs=epoch, alpha_final=part["alpha"]).drop(columns=["alpha", "epoch", "run_epochs"])


def recorded_epochs(recs: pd.DataFrame) -> list[int]:
    return sorted(int(e) for e in recs["epoch"].unique())


def five_epoch_check(recs: pd.DataFrame, preset: str) -> pd.DataFrame:
    """The records after 5 epochs beside the 5-epoch runs of chapters 4 and 6 with the same settings
    (their committed rows): how many runs match, and the largest and median absolute difference of
    test MSE and rate. One row; ``runs compared`` is 0 when there is nothing to compare yet."""
    early = at_epoch(recs, EARLY)
    tables = [
        t for t in (read_table(results_dir(preset) / f"{n}.csv") for n in ("benchmarks", rd.TABLE)) if len(t)
    ]
    both = pd.DataFrame()
    if len(early) and tables:
        short = pd.concat(tables, ignore_index=True)
        short = short[(short["epochs"] == EARLY) & (short["noise"] == 0) & short["subset"].isna()]
        on, fill = list(CONFIG_COLUMNS), {"alpha0": -1.0}  # no skew: compare the missing skew as a value
        both = early.fillna(fill).merge(short.fillna(fill).drop_duplicates(on), on=on, suffixes=("", "_5"))
    out: dict[str, float | int] = {"runs compared": len(both)}
    for m in ("test_mse", "rate"):
        diff = (both[m] - both[f"{m}_5"]).abs() if len(both) else pd.Series(dtype=float)
        out[f"largest |difference|, {m}"] = round(float(diff.max()), 3) if len(diff) else np.nan
        out[f"median |difference|, {m}"] = round(float(diff.median()), 3) if len(diff) else np.nan
    return pd.DataFrame([out])
