"""Chapter 4, the benchmarks: which runs a preset expects, the paper's values, loading the results.

The runs themselves are listed by :func:`alphavae_core.experiments.catalogue.benchmark_configs` and trained
by :mod:`alphavae_core.experiments.grid` into ``results/<preset>/benchmarks.csv`` (one row per run) and
``benchmarks_histories.json`` (alpha per epoch, the per-epoch alpha landscape, reconstructions).
Everything here only reads those files: a row counts when its ``config_key`` is the key of a run
the preset asks for, so rows of other settings or of an older code version are ignored.

Conventions. Test "MSE" is the per-image sum of squared errors over all pixels, decoded from the
mean latent and averaged over every test image; rate is the mean KL(q||p) (Table 1). The skew
follows :mod:`.divergences` (the paper's released code): primal alpha=0 is KL(q||p), alpha=1 is
KL(p||q); the dual the reverse. The paper's Table 3 skews are in this convention.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from alphavae_core.chapters.benchmarks.names import model_label
from alphavae_core.config import TrainConfig
from alphavae_core.data.dsprites import N_IMAGES
from alphavae_core.experiments.catalogue import benchmark_configs
from alphavae_core.experiments.grid import key_of, run_grid, table_paths
from alphavae_core.experiments.presets import PAPER_BATCH, PAPER_EPOCHS, SCALES, check_preset
from alphavae_core.experiments.results import KEY, read_json, read_table
from alphavae_core.losses import TABLE1_REGULARISERS, get_regulariser
from alphavae_core.paths import results_dir

PAPER_DATASETS = ("mnist", "fashion", "dsprites", "chairs", "celeba")
PAPER_SEEDS = 5
DATASET_LABELS = {
    "mnist": "MNIST",
    "fashion": "Fashion-MNIST",
    "dsprites": "dSprites",
    "chairs": "Chairs",
    "celeba": "CelebA",
}
# Datasets a reader must download and place under $ALPHAVAE_DATA (see data.py); the others are
# fetched (MNIST variants) or generated (dSprites).
NEEDS_DATA = ("chairs", "celeba")
SKEWED = ("gjs", "dgjs", "tgjs", "tdgjs")
TRAINABLE = ("tgjs", "tdgjs")
FIXED_OF = {"tgjs": "gjs", "tdgjs": "dgjs"}  # the fixed-skew counterpart of each trainable one

# The paper's Table 1 (test MSE, mean ± std over 5 seeds), copied from Deasy et al., "α-VAEs".
# The beta-VAE (beta=4) and InfoVAE (lambda=500) rows are quoted there from Deasy et al. (2020)
# without a spread (None). Fixed-skew rows use alpha = 0.5, trainable rows start there.
PAPER_TABLE1: dict[str, dict[str, tuple[float, float | None]]] = {
    "beta": {"mnist": (11.75, None), "fashion": (13.32, None), "dsprites": (10.51, None),
             "chairs": (20.79, None), "celeba": (269.52, None)},
    "mmd": {"mnist": (13.19, None), "fashion": (11.10, None), "dsprites": (11.87, None),
            "chairs": (18.85, None), "celeba": (271.71, None)},
    "kl": {"mnist": (10.67, 0.27), "fashion": (12.36, 0.22), "dsprites": (7.78, 0.24),
           "chairs": (20.33, 0.34), "celeba": (262.53, 2.07)},
    "gjs": {"mnist": (11.24, 0.05), "fashion": (11.07, 0.67), "dsprites": (12.07, 0.06),
            "chairs": (19.11, 0.14), "celeba": (270.33, 0.78)},
    "dgjs": {"mnist": (8.82, 0.04), "fashion": (9.80, 0.06), "dsprites": (5.72, 0.07),
             "chairs": (16.40, 0.15), "celeba": (264.27, 0.45)},
    "tgjs": {"mnist": (8.89, 0.07), "fashion": (9.90, 0.05), "dsprites": (5.03, 0.31),
             "chairs": (16.48, 0.08), "celeba": (259.50, 0.32)},
    "tdgjs": {"mnist": (8.52, 0.07), "fashion": (9.59, 0.03), "dsprites": (3.88, 0.27),
              "chairs": (15.98, 0.17), "celeba": (259.52, 0.36)},
}  # fmt: skip

# The paper's Table 3 (learnt alpha, mean ± std over 5 seeds), as printed (released-code convention).
PAPER_TABLE3: dict[str, dict[str, tuple[float, float]]] = {
    "tgjs": {"mnist": (0.118, 0.001), "fashion": (0.165, 0.002), "dsprites": (0.06, 0.007),
             "chairs": (0.121, 0.001), "celeba": (0.0377, 0.000)},
    "tdgjs": {"mnist": (0.360, 0.000), "fashion": (0.377, 0.002), "dsprites": (0.39, 0.001),
              "chairs": (0.365, 0.001), "celeba": (0.310, 0.000)},
}  # fmt: skip

ROW_COLUMNS = ("dataset", "regulariser", "alpha0", "seed", "epochs", "test_mse", "rate", "alpha_final")
# Training-set sizes where they are fixed (dSprites: the grid less its held-out 10%, see data.py);
# Chairs and CelebA depend on the copy a reader supplies.
TRAIN_IMAGES = {"mnist": 60_000, "fashion": 60_000, "dsprites": N_IMAGES - int(N_IMAGES * 0.1)}
_DEFAULT_ALPHA = get_regulariser("gjs").default_alpha  # 0.5: the skew of Table 1's runs
STABLE_ALPHA_STD = 0.01  # "learnt alpha agrees across seeds" when its std is at most this


def paper_value(table: str, regulariser: str, dataset: str) -> tuple[float, float | None]:
    """The paper's (mean, std) for ``table`` ("table1" or "table3"); ``ValueError`` if it has none."""
    source = {"table1": PAPER_TABLE1, "table3": PAPER_TABLE3}.get(table)
    if source is None:
        raise ValueError(f"unknown paper table {table!r}; choose 'table1' or 'table3'")
    if regulariser not in source or dataset not in source[regulariser]:
        raise ValueError(f"the paper's {table} has no entry for {regulariser!r} on {dataset!r}")
    return source[regulariser][dataset]


# ----------------------------------------------------------------------------- settings and loading
@dataclass(frozen=True)
class ChapterSettings:
    """What the chapter reads at one preset (see :func:`chapter_settings`)."""

    preset: str
    folder: Path
    datasets: tuple[str, ...]  # the preset's own datasets: their runs are expected
    optional: tuple[str, ...]  # datasets the preset has settings for, shown only if computed
    configs: tuple[TrainConfig, ...]  # every expected run
    optional_configs: tuple[TrainConfig, ...]
    compute: bool  # True only at smoke: the chapter trains its tiny grid itself
    figure1_datasets: tuple[str, ...]  # where the initial-alpha sweep runs (Figures 1 and 4)
    landscape_dataset: str  # Figure 3's dataset: Fashion-MNIST as in the paper, when the preset has it

    def __repr__(self) -> str:  # the configurations are many; show what matters
        return (
            f"ChapterSettings(preset={self.preset!r}, datasets={self.datasets}, "
            f"expected runs={len(self.configs)}, compute={self.compute})"
        )


def chapter_settings(preset: str, folder: str | Path | None = None) -> ChapterSettings:
    """The runs of chapter 4 at ``preset`` and where their results live (``results/<preset>/``).

    Only ``smoke`` computes (a tiny grid, about a minute); ``cpu`` and ``paper`` only read what
    is committed and say which runs are missing and how to compute them.
    """
    scale = SCALES[check_preset(preset)]
    optional = tuple(d for d in PAPER_DATASETS if d in scale.epochs and d not in scale.datasets)
    return ChapterSettings(
        preset=preset,
        folder=Path(folder) if folder is not None else results_dir(preset),
        datasets=scale.datasets,
        optional=optional,
        configs=tuple(benchmark_configs(preset)),
        optional_configs=tuple(benchmark_configs(preset, datasets=optional)) if optional else (),
        compute=preset == "smoke",
        figure1_datasets=tuple(d for d in scale.figure1_datasets if d in scale.datasets),
        landscape_dataset="fashion" if "fashion" in scale.datasets else scale.datasets[0],
    )


def compute(settings: ChapterSettings) -> int:
    """Train the missing runs of the smoke preset (refused at larger presets); return how many."""
    if not settings.compute:
        raise ValueError(
            f"preset {settings.preset!r} is computed outside the book: {grid_command(settings.preset)}"
        )
    return run_grid(list(settings.configs), settings.folder, device="auto", show_progress=False)


def load_results(settings: ChapterSettings) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The results rows of the runs this preset asks for (expected or optional), and their histories.

    Rows of other settings or code versions are left out. An absent table gives an empty frame
    with the usual columns, so every function below works on it.
    """
    csv_path, json_path = table_paths(settings.folder)
    table = read_table(csv_path)
    wanted = {key_of(c) for c in settings.configs + settings.optional_configs}
    if table.empty:
        table = pd.DataFrame(columns=[*ROW_COLUMNS, KEY])
    rows = table[table[KEY].isin(wanted)].reset_index(drop=True)
    histories = read_json(json_path, default={}) or {}
    return rows, {k: v for k, v in histories.items() if k in wanted}


def grid_command(preset: str, datasets: Sequence[str] | None = None) -> str:
    """The shell command that computes (the missing runs of) a preset's benchmark grid."""
    extra = f" --datasets {','.join(datasets)}" if datasets else ""
    return f"alphavae grid --preset {preset}{extra}"


def missing_runs(settings: ChapterSettings, rows: pd.DataFrame) -> pd.DataFrame:
    """The expected runs without a row: dataset, regulariser, alpha0, seed, epochs."""
    have = set(rows[KEY]) if KEY in rows.columns else set()
    todo = [c for c in settings.configs if key_of(c) not in have]
    return pd.DataFrame(
        [(c.dataset, c.regulariser, c.resolved().alpha0, c.seed, c.epochs) for c in todo],
        columns=["dataset", "regulariser", "alpha0", "seed", "epochs"],
    )


def status_table(settings: ChapterSettings, rows: pd.DataFrame) -> pd.DataFrame:
    """Per paper dataset: runs found / expected at this preset, a short status and the command."""
    lost = missing_runs(settings, rows)
    out = []
    for d in PAPER_DATASETS:
        found = int((rows["dataset"] == d).sum())
        command = grid_command(status_preset(settings, d), [d])
        if d in settings.datasets:
            expected = sum(c.dataset == d for c in settings.configs)
            n_missing = int((lost["dataset"] == d).sum())
            status = "complete" if n_missing == 0 else f"{n_missing} missing"
        elif d in settings.optional:
            expected = sum(c.dataset == d for c in settings.optional_configs)
            status = "optional, computed" if found else "optional, not computed"
        else:
            expected = 0
            status = "paper preset only"
        if d in NEEDS_DATA and not found:
            status = "needs the dataset (under $ALPHAVAE_DATA)"
        done = status in ("complete", "optional, computed")
        out.append((DATASET_LABELS[d], found, expected, status, "" if done else command))
    columns = ["dataset", "runs found", "runs expected", "status", "command"]
    return pd.DataFrame(out, columns=columns).set_index("dataset")


def status_preset(settings: ChapterSettings, dataset: str) -> str:
    """The preset whose grid has settings for ``dataset`` (this one if it does, else ``paper``)."""
    return settings.preset if dataset in SCALES[settings.preset].epochs else "paper"


def status_text(settings: ChapterSettings, rows: pd.DataFrame) -> str:
    """One paragraph: are all expected runs present, and if not, which ones and the command."""
    lost = missing_runs(settings, rows)
    n = len(settings.configs)
    if lost.empty:
        return f"All {n} runs of preset {settings.preset!r} are in {_short(settings.folder)}."
    lines = [f"{len(lost)} of {n} runs of preset {settings.preset!r} have no results yet:"]
    for d, part in lost.groupby("dataset", sort=False):
        table1 = part[part["alpha0"].isna() | (part["alpha0"] == _DEFAULT_ALPHA)]
        sweep = part.drop(table1.index)
        regs = ", ".join(dict.fromkeys(table1["regulariser"]))
        text = f"  {DATASET_LABELS[d]}: {len(table1)} Table 1 runs ({regs or 'none'})"
        lines.append(text + (f" and {len(sweep)} Figure 1 sweep runs" if len(sweep) else ""))
    datasets = list(dict.fromkeys(lost["dataset"]))
    lines.append("Compute them (hours on a CPU, minutes on a GPU) from the repository root with")
    lines.append(f"  {grid_command(settings.preset, datasets)}")
    lines.append(f"({grid_command(settings.preset)} --list prints every missing run.)")
    return "\n".join(lines)


def _short(path: Path) -> str:
    return f"results/{path.name}/" if path.parent.name == "results" else str(path)


def scale_table(settings: ChapterSettings) -> pd.DataFrame:
    """The size of every run at this preset beside the paper's (Appendix C)."""
    scale = SCALES[settings.preset]
    out = []
    for d in settings.datasets + settings.optional:
        out.append(
            {
                "dataset": DATASET_LABELS[d],
                "epochs": scale.epochs[d],
                "paper epochs": PAPER_EPOCHS[d],
                "batch": scale.batch_size[d],
                "paper batch": PAPER_BATCH[d],
                "seeds": len(scale.seeds),
                "paper seeds": PAPER_SEEDS,
                "train images": "all" if scale.subset_for(d) is None else scale.subset_for(d),
                "test images": "all" if scale.test_subset_for(d) is None else scale.test_subset_for(d),
                "Figure 1 sweep": ", ".join(f"{a:g}" for a in scale.figure1_alpha0)
                if d in scale.figure1_datasets
                else "-",
                "α steps": _alpha_steps(settings, d),
            }
        )
    return pd.DataFrame(out).set_index("dataset")


def _alpha_steps(settings: ChapterSettings, dataset: str) -> int | str:
    """Optimiser steps of one run: epochs x batches per epoch ("?" where the data size is not fixed)."""
    scale = SCALES[settings.preset]
    if dataset not in TRAIN_IMAGES:
        return "?"
    subset = scale.subset_for(dataset)
    n = TRAIN_IMAGES[dataset] if subset is None else min(subset, TRAIN_IMAGES[dataset])
    return scale.epochs[dataset] * math.ceil(n / scale.batch_size[dataset])


def regulariser_table() -> pd.DataFrame:
    """The seven regularisers of Table 1 from the registry: description, weight and skew."""
    out = []
    for r in TABLE1_REGULARISERS:
        reg = get_regulariser(r)
        skew = "learnt, from" if reg.trainable_skew else "fixed at"
        out.append(
            {
                "name": r,
                "Table 1 row": model_label(r),
                "divergence": reg.description,
                "weight": f"{reg.default_weight:g}",
                "skew α": f"{skew} {reg.default_alpha:g}" if reg.uses_skew else "-",
            }
        )
    return pd.DataFrame(out).set_index("name")


# ----------------------------------------------------------------------------- selecting rows
def table1_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Table 1's runs: each regulariser at its default weight and skew (skewed ones at alpha0 = 0.5).
    A table that also holds other weights (chapter 7's VAE at lambda < 1) keeps only lambda = 1's runs."""
    if rows.empty:  # an empty table may lack the columns
        return rows
    t1 = rows[rows["regulariser"].isin(TABLE1_REGULARISERS)]
    default_weight = t1["regulariser"].map(lambda r: get_regulariser(r).default_weight)
    default_alpha = t1["alpha0"].isna() | (t1["alpha0"] == _DEFAULT_ALPHA)
    return t1[default_alpha & (t1["weight"] == default_weight)]


def sweep_rows(rows: pd.DataFrame, dataset: str, regulariser: str) -> pd.DataFrame:
    """Figure 1's initial-alpha sweep of one skewed regulariser (seed 0, alpha0 = 0.5 included), by alpha0."""
    sel = (rows["dataset"] == dataset) & (rows["regulariser"] == regulariser) & (rows["seed"] == 0)
    return rows[sel & rows["alpha0"].notna()].sort_values("alpha0")


def history(histories: Mapping[str, Any], row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The history entry of a results row (``None`` if the sidecar lacks it)."""
    return histories.get(row[KEY])
