"""The rate-distortion runs a preset expects, their rows, and the points of distortion against rate (Figure 7)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alphavae_core.chapters.benchmarks import DATASET_LABELS, format_mean_std, mean_std
from alphavae_core.config import TrainConfig
from alphavae_core.experiments.catalogue import RATE_DISTORTION_REGULARISERS, rate_distortion_configs
from alphavae_core.experiments.grid import key_of, run_grid, table_paths
from alphavae_core.experiments.presets import check_preset
from alphavae_core.experiments.results import KEY, read_table
from alphavae_core.paths import results_dir
from alphavae_core.plotting import name

TABLE = "rate_distortion"
METRICS = ("rate", "test_mse", "train_rate", "train_mse")
# MNIST is the paper's Figure 7; Fashion-MNIST repeats the question on a second dataset
DATASETS = ("mnist", "fashion")


def model_name(key: str, form: str = "text") -> str:
    """A regulariser's name (:func:`alphavae_core.plotting.name`, ``form`` text, html or markdown);
    the fixed dual skew carries its alpha, "JS*^Gα (α = ½)", since its trainable version is beside it."""
    return name(key, form) + (" (α = ½)" if key == "dgjs" else "")


@dataclass(frozen=True)
class RateDistortionSettings:
    """The runs the chapter expects at one preset and where their rows live."""

    preset: str
    folder: Path
    configs: tuple[TrainConfig, ...]
    compute: bool  # only smoke trains inside the chapter
    dataset: str = "mnist"

    def __repr__(self) -> str:
        return (f"RateDistortionSettings(preset={self.preset!r}, dataset={self.dataset!r}, "
                f"expected runs={len(self.configs)})")  # fmt: skip


def chapter_settings(
    preset: str, folder: str | Path | None = None, dataset: str = "mnist"
) -> RateDistortionSettings:
    """The rate-distortion runs of ``preset`` on ``dataset`` (``results/<preset>/`` unless ``folder``
    is given)."""
    check_preset(preset)
    if dataset not in DATASETS:
        raise ValueError(f"no rate-distortion grid for dataset {dataset!r}: use one of {', '.join(DATASETS)}")
    folder = Path(folder) if folder is not None else results_dir(preset)
    configs = tuple(rate_distortion_configs(preset, datasets=(dataset,)))
    return RateDistortionSettings(preset, folder, configs, preset == "smoke", dataset)


def grid_command(preset: str, dataset: str = "mnist") -> str:
    command = f"alphavae grid --experiment rate_distortion --preset {preset}"
    return command if dataset == "mnist" else f"{command} --datasets {dataset}"


def compute(settings: RateDistortionSettings) -> int:
    """Train the missing runs of the smoke preset (larger presets are computed outside the book)."""
    if not settings.compute:
        raise ValueError(
            f"preset {settings.preset!r} is computed outside the book: {grid_command(settings.preset)}"
        )
    return run_grid(list(settings.configs), settings.folder, device="auto", show_progress=False, table=TABLE)


def load_results(settings: RateDistortionSettings) -> pd.DataFrame:
    """The rows of the expected runs (rows of other settings or code versions are left out)."""
    found = read_table(table_paths(settings.folder, table=TABLE)[0])
    columns = ["regulariser", "weight", "seed", *METRICS, "alpha_final", KEY]
    if found.empty:
        return pd.DataFrame(columns=columns)
    found = found[found[KEY].isin({key_of(c) for c in settings.configs})]
    return found[columns].sort_values(["regulariser", "weight", "seed"]).reset_index(drop=True)


def chapter4_runs(settings: RateDistortionSettings) -> pd.DataFrame:
    """Chapter 4's Table 1 runs of the same dataset (lambda = 1, the same configurations and seeds as
    this grid's lambda = 1 runs, trained separately): the rerun that :func:`rerun_text` compares."""
    from alphavae_core.chapters.benchmarks import chapter_settings as bench_settings
    from alphavae_core.chapters.benchmarks import load_results as bench_results
    from alphavae_core.chapters.benchmarks import table1_rows

    bench = bench_settings(settings.preset, folder=settings.folder)
    rows, _ = bench_results(bench)
    t1 = table1_rows(rows)
    return t1[t1["dataset"] == settings.dataset][["regulariser", "seed", "test_mse", "rate"]]


def missing_text(settings: RateDistortionSettings, rows: pd.DataFrame) -> str:
    """Which expected runs have no row yet, and the command that computes them."""
    have = set(rows[KEY])
    lost = [c for c in settings.configs if key_of(c) not in have]
    n = len(settings.configs)
    name = DATASET_LABELS[settings.dataset]
    if not lost:
        return f"All {n} {name} runs of preset {settings.preset!r} are in results/{settings.preset}/."
    regs = ", ".join(dict.fromkeys(c.regulariser for c in lost))
    return (
        f"{len(lost)} of {n} {name} runs of preset {settings.preset!r} have no results yet ({regs}); the "
        f"figure and tables below use the rest.\nCompute them with: "
        f"{grid_command(settings.preset, settings.dataset)}"
    )


def curves(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds of rate and distortion (test and train) per (regulariser, lambda)."""
    out = []
    for (r, w), part in rows.groupby(["regulariser", "weight"], sort=True):
        entry = {"regulariser": r, "weight": w, "n": len(part)}
        for m in METRICS:
            entry[m], entry[f"{m}_std"], _ = mean_std(part[m].dropna())
        out.append(entry)
    columns = ["regulariser", "weight", "n", *(f"{m}{s}" for m in METRICS for s in ("", "_std"))]
    return pd.DataFrame(out, columns=columns)  # the columns even with no rows: empty curves plot as nothing


def curve_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The rate-distortion points as a table: rate (nats) and test MSE per lambda, one row per point."""
    c = curves(rows)
    if c.empty:
        return pd.DataFrame()
    table = pd.DataFrame(
        {
            "regulariser": [model_name(r) for r in c["regulariser"]],
            "λ": c["weight"],
            "test rate (nats)": [format_mean_std(m, s, 1) for m, s in zip(c["rate"], c["rate_std"])],
            "test MSE": [format_mean_std(m, s, 1) for m, s in zip(c["test_mse"], c["test_mse_std"])],
            "train rate (nats)": [
                format_mean_std(m, s, 1) for m, s in zip(c["train_rate"], c["train_rate_std"])
            ],
            "train MSE": [format_mean_std(m, s, 1) for m, s in zip(c["train_mse"], c["train_mse_std"])],
            "seeds": c["n"],
        }
    )
    order = {model_name(r): i for i, r in enumerate(RATE_DISTORTION_REGULARISERS)}
    table = table.sort_values(
        ["regulariser", "λ"], key=lambda s: s.map(order) if s.name == "regulariser" else s
    )
    return table.set_index(["regulariser", "λ"])
