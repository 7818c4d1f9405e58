"""Chapter 4, the benchmarks: read the grid's results, build Table 1 and Table 3, draw Figures 1, 3, 4.

The runs themselves are listed by :func:`.experiments.benchmark_configs` and trained by
:mod:`.grid` into ``results/<preset>/benchmarks.csv`` (one row per run) and
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

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, NullFormatter

from . import data
from .config import TrainConfig
from .dsprites import N_IMAGES
from .experiments import PAPER_BATCH, PAPER_EPOCHS, SCALES, benchmark_configs
from .grid import decode_images, key_of, run_grid, table_paths
from .losses import TABLE1_REGULARISERS, get_regulariser
from .paths import results_dir
from .plotting import colour, label
from .presets import check_preset
from .results import KEY, read_json, read_table

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

# Plain-text row names (tables print as text too, so no LaTeX here).
TEXT_LABELS = {
    "beta": "β-VAE (β·KL(q‖p))",
    "mmd": "InfoVAE (MMD)",
    "kl": "VAE (KL(q‖p))",
    "gjs": "α-VAE, fixed α (JS^Gα)",
    "dgjs": "α*-VAE, fixed α (JS*^Gα)",
    "tgjs": "α-VAE (t-JS^Gα)",
    "tdgjs": "α*-VAE (t-JS*^Gα)",
}

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
    return f"python -m alphavae_core.grid --preset {preset}{extra}"


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


def alpha_travel(settings: ChapterSettings) -> pd.DataFrame:
    """How far Adam can move alpha in one run: about its learning rate per step (chapter 2), so at
    most steps x alpha_lr. A learnt alpha further than this from 0.5 cannot be reached."""
    out = []
    for c in settings.configs:
        if c.regulariser in TRAINABLE and c.dataset not in {row[0] for row in out}:
            r = c.resolved()
            steps = _alpha_steps(settings, r.dataset)
            travel = round(steps * r.alpha_lr, 3) if isinstance(steps, int) else math.nan
            out.append((r.dataset, steps, r.alpha_lr, travel))
    frame = pd.DataFrame(out, columns=["dataset", "steps", "alpha lr", "max travel"])
    frame["dataset"] = frame["dataset"].map(DATASET_LABELS)
    return frame.set_index("dataset")


def regulariser_table() -> pd.DataFrame:
    """The seven regularisers of Table 1 from the registry: description, weight and skew."""
    out = []
    for r in TABLE1_REGULARISERS:
        reg = get_regulariser(r)
        skew = "learnt, from" if reg.trainable_skew else "fixed at"
        out.append(
            {
                "name": r,
                "Table 1 row": TEXT_LABELS[r],
                "divergence": reg.description,
                "weight": f"{reg.default_weight:g}",
                "skew α": f"{skew} {reg.default_alpha:g}" if reg.uses_skew else "-",
            }
        )
    return pd.DataFrame(out).set_index("name")


# ----------------------------------------------------------------------------- selecting rows
def table1_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Table 1's runs: each regulariser at its default setting (skewed ones at alpha0 = 0.5)."""
    default = rows["alpha0"].isna() | (rows["alpha0"] == _DEFAULT_ALPHA)
    return rows[default & rows["regulariser"].isin(TABLE1_REGULARISERS)]


def sweep_rows(rows: pd.DataFrame, dataset: str, regulariser: str) -> pd.DataFrame:
    """Figure 1's initial-alpha sweep of one skewed regulariser (seed 0, alpha0 = 0.5 included), by alpha0."""
    sel = (rows["dataset"] == dataset) & (rows["regulariser"] == regulariser) & (rows["seed"] == 0)
    return rows[sel & rows["alpha0"].notna()].sort_values("alpha0")


def history(histories: Mapping[str, Any], row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The history entry of a results row (``None`` if the sidecar lacks it)."""
    return histories.get(row[KEY])


# ----------------------------------------------------------------------------- Table 1 and Table 3
def mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (ddof=1; NaN for one value) and count."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return math.nan, math.nan, 0
    return float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else math.nan, int(x.size)


def format_mean_std(mean: float, std: float | None, digits: int = 2) -> str:
    """``"10.67 ± 0.27"``; just the mean when there is no spread; ``"-"`` for no value."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    if std is None or math.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def summary(rows: pd.DataFrame, metric: str = "test_mse") -> pd.DataFrame:
    """Mean, std (ddof=1) and seed count of ``metric`` per (dataset, regulariser) of Table 1's runs."""
    t1 = table1_rows(rows)
    out = []
    for (d, r), part in t1.groupby(["dataset", "regulariser"], sort=False):
        m, s, n = mean_std(part[metric].dropna())
        out.append(
            {"dataset": d, "regulariser": r, "mean": m, "std": s, "n": n, "epochs": int(part["epochs"].max())}
        )
    cols = ["dataset", "regulariser", "mean", "std", "n", "epochs"]
    frame = pd.DataFrame(out, columns=cols)
    order = {name: i for i, name in enumerate(PAPER_DATASETS + TABLE1_REGULARISERS)}
    frame = frame.sort_values(["dataset", "regulariser"], key=lambda col: col.map(order), kind="stable")
    return frame.set_index(["dataset", "regulariser"])


def _table_datasets(settings: ChapterSettings | None, rows: pd.DataFrame) -> list[str]:
    present = set(rows["dataset"])
    expected = set(settings.datasets) if settings is not None else set()
    return [d for d in PAPER_DATASETS if d in present or d in expected]


def table1(rows: pd.DataFrame, settings: ChapterSettings | None = None, digits: int = 2) -> pd.DataFrame:
    """Table 1: test MSE mean ± std per regulariser (rows) and dataset, ours beside the paper's.

    Columns are (dataset, "ours" / "paper"); the "ours" header gives epochs and seeds, and a cell
    adds "(n=k)" when fewer seeds than the preset's were found. Datasets appear when the preset
    expects them or rows exist; a missing cell reads "missing".
    """
    stats = summary(rows, "test_mse")
    seeds = len(SCALES[settings.preset].seeds) if settings is not None else None
    columns: dict[tuple[str, str], list[str]] = {}
    for d in _table_datasets(settings, rows):
        epochs = _epochs(settings, rows, d)
        n_seeds = seeds if seeds is not None else _max_n(stats, d)
        ours = f"ours ({epochs} ep., {_plural(n_seeds, 'seed')})"
        paper = "paper"
        cells, refs = [], []
        for r in TABLE1_REGULARISERS:
            if (d, r) in stats.index:
                s = stats.loc[(d, r)]
                cell = format_mean_std(s["mean"], s["std"], digits)
                cells.append(cell + (f" (n={int(s['n'])})" if n_seeds and s["n"] < n_seeds else ""))
            else:
                cells.append("missing")
            refs.append(format_mean_std(*paper_value("table1", r, d), digits=2))
        columns[(DATASET_LABELS[d], ours)] = cells
        columns[(DATASET_LABELS[d], paper)] = refs
    index = pd.Index([TEXT_LABELS[r] for r in TABLE1_REGULARISERS], name="VAE")
    frame = pd.DataFrame(columns, index=index)
    frame.columns = (
        pd.MultiIndex.from_tuples(list(columns), names=["dataset", ""]) if columns else frame.columns
    )
    return frame


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _epochs(settings: ChapterSettings | None, rows: pd.DataFrame, dataset: str) -> int | str:
    if settings is not None and dataset in SCALES[settings.preset].epochs:
        return SCALES[settings.preset].epochs[dataset]
    found = rows.loc[rows["dataset"] == dataset, "epochs"]
    return int(found.max()) if len(found) else "?"


def _max_n(stats: pd.DataFrame, dataset: str) -> int:
    if dataset not in stats.index.get_level_values(0):
        return 0
    return int(stats.loc[dataset]["n"].max())


def table3(rows: pd.DataFrame, settings: ChapterSettings | None = None, digits: int = 3) -> pd.DataFrame:
    """Table 3: learnt alpha (final, mean ± std over seeds) of t-JS^Gα and t-JS*^Gα beside the paper's."""
    stats = summary(rows, "alpha_final")
    columns: dict[tuple[str, str], list[str]] = {}
    for d in _table_datasets(settings, rows):
        ours, refs = [], []
        for r in TRAINABLE:
            if (d, r) in stats.index:
                s = stats.loc[(d, r)]
                ours.append(format_mean_std(s["mean"], s["std"], digits) + f" (n={int(s['n'])})")
            else:
                ours.append("missing")
            m, s = paper_value("table3", r, d)
            refs.append(format_mean_std(m, s, digits=_decimals(m, digits)))
        columns[(DATASET_LABELS[d], "ours")] = ours
        columns[(DATASET_LABELS[d], "paper")] = refs
    frame = pd.DataFrame(columns, index=pd.Index([TEXT_LABELS[r] for r in TRAINABLE], name="VAE"))
    if columns:
        frame.columns = pd.MultiIndex.from_tuples(list(columns), names=["dataset", ""])
    return frame


def _decimals(value: float, least: int) -> int:
    """Enough decimals to print ``value`` as the paper does (0.0377 needs four)."""
    d = least
    while round(value, d) != value and d < 6:
        d += 1
    return d


def rate_table(rows: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """Test MSE and rate (mean KL(q||p)) per regulariser and dataset, means over seeds."""
    mse, rate = summary(rows, "test_mse"), summary(rows, "rate")
    out = pd.DataFrame({"test MSE": mse["mean"], "rate KL(q‖p)": rate["mean"]}).round(digits)
    if out.empty:
        return out
    out.index = out.index.map(lambda k: (DATASET_LABELS[k[0]], TEXT_LABELS.get(k[1], k[1])))
    out.index.names = ["dataset", "VAE"]
    return out


# ----------------------------------------------------------------------------- what the paper claims
def beats(a: tuple[float, float], b: tuple[float, float], digits: int = 2) -> str:
    """Does ``a`` (mean, std) have a lower test MSE than ``b``, by more than the seed spread?

    The spread is the larger of the two standard deviations (unknown with one seed or for a
    paper row quoted without one). Returns a short verdict with the difference.
    """
    (ma, sa), (mb, sb) = a, b
    if any(math.isnan(v) for v in (ma, mb)):
        return "no results"
    diff = mb - ma
    spreads = [s for s in (sa, sb) if s is not None and not math.isnan(s)]
    spread = max(spreads) if len(spreads) == 2 else None
    if diff <= 0:
        return f"no: higher by {-diff:.{digits}f}"
    if spread is None:
        return f"yes, by {diff:.{digits}f} (spread unknown)"
    if diff > spread:
        return f"yes, by {diff:.{digits}f} > spread {spread:.{digits}f}"
    return f"within spread: by {diff:.{digits}f} ≤ {spread:.{digits}f}"


def _ours(stats: pd.DataFrame, d: str, r: str) -> tuple[float, float]:
    if (d, r) not in stats.index:
        return math.nan, math.nan
    s = stats.loc[(d, r)]
    return float(s["mean"]), float(s["std"])


def _paper(d: str, r: str) -> tuple[float, float]:
    m, s = paper_value("table1", r, d)
    return m, math.nan if s is None else s


def _best(means: Mapping[str, float]) -> str:
    known = {r: m for r, m in means.items() if not math.isnan(m)}
    if not known:
        return "no results"
    best = min(known.values())
    text = " = ".join(TEXT_LABELS[r] for r, m in known.items() if m == best)
    return text if len(known) == len(means) else f"{text} (of {len(known)} computed)"


def claims(rows: pd.DataFrame) -> pd.DataFrame:
    """The paper's benchmark claims, checked on the paper's own numbers and on ours, per dataset."""
    stats = summary(rows, "test_mse")
    alphas = summary(rows, "alpha_final")
    out = []
    for d in [d for d in PAPER_DATASETS if d in set(rows["dataset"])]:
        pairs = [
            ("lowest test MSE", None, None),
            ("α-VAE (t-JS^Gα) beats VAE (KL)", "tgjs", "kl"),
            ("α*-VAE (t-JS*^Gα) beats VAE (KL)", "tdgjs", "kl"),
            ("α-VAE beats fixed α = 0.5", "tgjs", "gjs"),
            ("α*-VAE beats fixed α = 0.5", "tdgjs", "dgjs"),
        ]
        for claim, a, b in pairs:
            if a is None:
                paper = _best({r: PAPER_TABLE1[r][d][0] for r in TABLE1_REGULARISERS})
                ours = _best({r: _ours(stats, d, r)[0] for r in TABLE1_REGULARISERS})
            else:
                paper, ours = beats(_paper(d, a), _paper(d, b)), beats(_ours(stats, d, a), _ours(stats, d, b))
                ours += _paired(rows, d, a, b)
            out.append((DATASET_LABELS[d], claim, paper, ours))
        for r in TRAINABLE:
            ps = PAPER_TABLE3[r][d][1]
            m, s = _ours(alphas, d, r)
            mine = "no results" if math.isnan(m) else _stable(s)
            out.append(
                (DATASET_LABELS[d], f"learnt α of {TEXT_LABELS[r]} agrees across seeds", _stable(ps), mine)
            )
        out.append((DATASET_LABELS[d], *_sweep_claim(rows, d)))
        out.append((DATASET_LABELS[d], *_convergence_claim(rows, d)))
    return pd.DataFrame(out, columns=["dataset", "claim", "paper", "ours"])


def _paired(rows: pd.DataFrame, dataset: str, a: str, b: str) -> str:
    """``"; lower on k of n seeds"``: runs of one seed share initial weights and data order, so
    comparing them seed by seed removes the seed's own effect from the spread."""
    t1 = table1_rows(rows)
    t1 = t1[t1["dataset"] == dataset]
    pair = pd.merge(
        t1.loc[t1["regulariser"] == a, ["seed", "test_mse"]],
        t1.loc[t1["regulariser"] == b, ["seed", "test_mse"]],
        on="seed",
        suffixes=("_a", "_b"),
    )
    if pair.empty:
        return ""
    wins = int((pair["test_mse_a"] < pair["test_mse_b"]).sum())
    return f"; lower on {wins} of {_plural(len(pair), 'seed')}"


def _kind(verdict: str) -> str:
    """The category of a :func:`beats` verdict."""
    if verdict.startswith("yes"):
        return "unknown" if "unknown" in verdict else "clear"
    if verdict.startswith("within"):
        return "within"
    return "none" if verdict == "no results" else "no"


def _stable(std: float) -> str:
    if math.isnan(std):
        return "one seed: unknown"
    verdict = "yes" if std <= STABLE_ALPHA_STD else "no"
    return f"{verdict}: std {std:.3f}"


_SWEEP_FIGURES = {"mnist": "Figure 1", "fashion": "Figure 6"}


def _sweep_claim(rows: pd.DataFrame, d: str) -> tuple[str, str, str]:
    """Figure 1: does trainable skew beat KL from every initial alpha of the sweep?"""
    claim = "t-skew beats KL from every initial α (Figure 1)"
    paper = f"yes ({_SWEEP_FIGURES[d]})" if d in _SWEEP_FIGURES else "not shown"
    kl = table1_rows(rows)
    kl = kl.loc[(kl["dataset"] == d) & (kl["regulariser"] == "kl"), "test_mse"]
    parts = []
    for r in TRAINABLE:
        sweep = sweep_rows(rows, d, r)
        if len(sweep) < 2 or kl.empty:
            continue
        wins = int((sweep["test_mse"] < kl.mean()).sum())
        parts.append(f"{'α*' if r == 'tdgjs' else 'α'}: {wins} of {len(sweep)}")
    return claim, paper, "; ".join(parts) if parts else "no sweep"


def _convergence_claim(rows: pd.DataFrame, d: str) -> tuple[str, str, str]:
    """Figure 4: does the learnt alpha end at the same value from every initial alpha?"""
    claim = "learnt α ends at one value from every initial α (Figure 4)"
    paper = "yes (Figure 4, MNIST)" if d == "mnist" else "not shown"
    parts = []
    for r in TRAINABLE:
        final = sweep_rows(rows, d, r)["alpha_final"].dropna()
        if len(final) >= 2:
            parts.append(f"{'α*' if r == 'tdgjs' else 'α'}: {final.min():.3f} to {final.max():.3f}")
    return claim, paper, "; ".join(parts) if parts else "no sweep"


def endpoint_check(rows: pd.DataFrame) -> pd.DataFrame:
    """Runs that optimise the same objective, side by side (seed 0): a check of the skew convention.

    Primal alpha=0 and dual alpha=1 are KL(q||p), the VAE's own regulariser; primal alpha=1 and
    dual alpha=0 are both KL(p||q). Each pair starts from the same seed, so their test MSEs should
    agree up to floating-point differences accumulated in training.
    """
    pairs = [
        (("gjs", 0.0), ("kl", None)),
        (("dgjs", 1.0), ("kl", None)),
        (("gjs", 1.0), ("dgjs", 0.0)),
    ]
    out = []
    seed0 = rows[rows["seed"] == 0]
    for d in [d for d in PAPER_DATASETS if d in set(rows["dataset"])]:
        for (ra, aa), (rb, ab) in pairs:
            mse = []
            for r, a in ((ra, aa), (rb, ab)):
                sel = (seed0["dataset"] == d) & (seed0["regulariser"] == r)
                sel &= seed0["alpha0"].isna() if a is None else seed0["alpha0"] == a
                mse.append(seed0.loc[sel, "test_mse"].round(2).tolist())
            if all(mse):
                out.append((DATASET_LABELS[d], _run_name(ra, aa), mse[0][0], _run_name(rb, ab), mse[1][0]))
    columns = ["dataset", "run", "test MSE", "same objective as", "its test MSE"]
    return pd.DataFrame(out, columns=columns)


def _run_name(regulariser: str, alpha: float | None) -> str:
    return regulariser if alpha is None else f"{regulariser}, α = {alpha:g}"


def verdict_text(rows: pd.DataFrame, settings: ChapterSettings) -> str:
    """A few sentences summarising :func:`claims` at this preset, for ``IPython.display.Markdown``."""
    table = claims(rows)
    scale = SCALES[settings.preset]
    if table.empty:
        return f"No benchmark results at preset `{settings.preset}` yet, so there is nothing to compare."
    lines = [
        f"At preset `{settings.preset}` (epochs "
        + ", ".join(f"{DATASET_LABELS[d]} {scale.epochs[d]} of {PAPER_EPOCHS[d]}" for d in scale.datasets)
        + f"; {len(scale.seeds)} of {PAPER_SEEDS} seeds):",
        "",
    ]
    for d, part in table.groupby("dataset", sort=False):
        got = dict(zip(part["claim"], part["ours"]))
        ref = dict(zip(part["claim"], part["paper"]))
        pairwise = [c for c in part["claim"] if c.endswith(("(KL)", "= 0.5"))]
        counts = {
            kind: sum(_kind(got[c]) == kind for c in pairwise)
            for kind in ("clear", "unknown", "within", "no", "none")
        }
        text = (
            f"- **{d}**: lowest test MSE: {got['lowest test MSE']} (paper: {ref['lowest test MSE']}). "
            f"Of the paper's {len(pairwise)} pairwise claims (trainable skew beats KL, beats fixed α = 0.5), "
            f"{counts['clear']} hold by more than the seed spread"
        )
        if counts["unknown"]:
            text += f", {counts['unknown']} hold on the means but the spread is unknown (one seed)"
        text += f", {counts['within']} hold only within the spread and {counts['no']} not at all."
        lines.append(text)
    return "\n".join(lines)


# ----------------------------------------------------------------------------- figure helpers
def _empty(ax: plt.Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def _axes(axes, ncols: int, nrows: int = 1, width: float = 8.0, height: float = 3.4):
    if axes is None:
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    else:
        axes = np.asarray(axes).reshape(nrows, ncols)
        fig = axes.flat[0].figure
    return fig, axes


def plot_figure1(rows: pd.DataFrame, dataset: str, axes=None) -> plt.Figure:
    """Figure 1: test MSE against initial alpha, fixed (gjs, dgjs) vs trainable (tgjs, tdgjs) skew.

    Stars: learnt alpha and test MSE of each seed of Table 1's trainable runs. Lines: the other
    regularisers' mean test MSE (they have no skew). Left primal, right dual.
    """
    fig, axes = _axes(axes, 2, width=9.6)
    t1 = table1_rows(rows)
    t1 = t1[t1["dataset"] == dataset]
    for ax, (fixed, trained) in zip(axes[0], (("gjs", "tgjs"), ("dgjs", "tdgjs"))):
        drawn = False
        for r, style in ((fixed, "o-"), (trained, "s-")):
            sweep = sweep_rows(rows, dataset, r)
            if len(sweep):
                ax.plot(sweep["alpha0"], sweep["test_mse"], style, color=colour(r), label=label(r), ms=4)
                drawn = True
        stars = t1[t1["regulariser"] == trained]
        if len(stars):
            ax.scatter(
                stars["alpha_final"],
                stars["test_mse"],
                marker="*",
                s=160,
                color=colour(trained),
                edgecolor="black",
                linewidth=0.6,
                zorder=5,
                label="learnt α (per seed)",
            )
            drawn = True
        for r in ("kl", "beta", "mmd"):
            base = t1.loc[t1["regulariser"] == r, "test_mse"]
            if len(base):
                ax.axhline(base.mean(), color=colour(r), ls="--", lw=1.2, label=label(r))
        if not drawn:
            _empty(ax, f"no {DATASET_LABELS[dataset]} runs of\n{fixed} / {trained} yet")
            continue
        ax.set_xlim(-0.03, 1.03)
        ax.set_xlabel("initial α (the fixed α for JS)")
        ax.set_title("primal" if fixed == "gjs" else "dual", fontsize="medium")
        ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[0, 0].set_ylabel("test MSE")
    fig.suptitle(DATASET_LABELS[dataset], fontsize="medium")
    return fig


def flat(values: Any) -> np.ndarray:
    """A landscape curve as a flat float array (the sidecar may nest each value in a list)."""
    return np.asarray(values, dtype=float).reshape(-1)


def grid_minimum(curve: Sequence[float], grid: np.ndarray | None = None) -> tuple[float, float]:
    """(alpha, value) at the minimum of a curve sampled on ``grid`` (default linspace(0, 1, n)),
    refined by the parabola through the lowest grid point and its two neighbours."""
    y = flat(curve)
    x = np.linspace(0.0, 1.0, y.size) if grid is None else np.asarray(grid, dtype=float)
    i = int(np.argmin(y))
    if 0 < i < y.size - 1:
        y0, y1, y2 = y[i - 1], y[i], y[i + 1]
        denom = y0 - 2 * y1 + y2
        if denom > 0:  # convex around the grid minimum: the vertex lies within half a cell
            shift = 0.5 * (y0 - y2) / denom
            h = x[i + 1] - x[i]
            return float(x[i] + shift * h), float(y1 - 0.25 * (y0 - y2) * shift)
    return float(x[i]), float(y[i])


def alpha_star_eq16(kl_qp: float, kl_pq: float) -> float:
    """Equation 16 in this book's convention, ``KL(q||p) / (KL(p||q) + KL(q||p))``.

    It minimises equation 18, the primal without the geometric mean's normaliser, so it only
    approximates the exact primal's minimiser (chapter 2). With KLs averaged over images it is
    the minimiser of the averaged equation 18.
    """
    total = kl_qp + kl_pq
    return math.nan if total <= 0 else kl_qp / total


def _epochs_to_show(n: int, most: int = 8) -> list[int]:
    if n <= most:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, most)})


def _plain_log_ticks(ax: plt.Axes) -> None:
    """Log-axis labels as plain numbers (0.3, 1, 6), with 2 and 5 labelled within two decades."""
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    low, high = ax.get_ylim()
    if high / low > 100:
        ax.yaxis.set_minor_formatter(NullFormatter())
        return

    def minor(v: float, _) -> str:
        lead = round(v / 10 ** math.floor(math.log10(v)))
        return f"{v:g}" if lead in (2, 5) else ""

    ax.yaxis.set_minor_formatter(FuncFormatter(minor))


def plot_landscapes(
    rows: pd.DataFrame, histories: Mapping[str, Any], dataset: str, seed: int = 0, axes=None
) -> plt.Figure:
    """Figure 3: the alpha landscape of the encoder after each epoch (primal from the t-JS^Gα run,
    dual from the t-JS*^Gα run of ``seed``), each curve's minimum (dot), the run's learnt alpha at
    that epoch (open circle) and, for the primal, equation 16's approximate minimiser (cross)."""
    fig, axes = _axes(axes, 2)
    t1 = table1_rows(rows)
    cmap = plt.get_cmap("viridis")
    for ax, (r, kind) in zip(axes[0], (("tgjs", "primal"), ("tdgjs", "dual"))):
        run = t1[(t1["dataset"] == dataset) & (t1["regulariser"] == r) & (t1["seed"] == seed)]
        hist = history(histories, run.iloc[0]) if len(run) else None
        land = (hist or {}).get("landscape") or []
        if not land:
            _empty(ax, f"no {DATASET_LABELS[dataset]} {r} landscape (seed {seed}) yet")
            continue
        shown = _epochs_to_show(len(land))
        for e in shown:
            y = flat(land[e][kind])
            x = np.linspace(0.0, 1.0, y.size)
            c = cmap(e / max(len(land) - 1, 1))
            ax.plot(x, y, color=c, lw=1.3, label=f"epoch {e + 1}")
            ax.plot(*grid_minimum(y, x), "o", color=c, ms=5)
            a = hist["alpha_history"][e + 1] if len(hist.get("alpha_history", [])) > e + 1 else None
            if a is not None:
                ax.plot(a, np.interp(a, x, y), "o", mfc="none", mec=c, ms=8, mew=1.2)
            if kind == "primal":
                star = alpha_star_eq16(land[e]["kl_qp"], land[e]["kl_pq"])
                ax.plot(star, np.interp(star, x, y), "x", color=c, ms=7, mew=1.5)
        ax.set_yscale("log")
        _plain_log_ticks(ax)
        ax.set_xlabel("α")
        ax.set_title(f"{kind}: {label(r)}", fontsize="medium")
        marks = [
            Line2D([], [], ls="", marker="o", color="0.3", label="minimum"),
            Line2D([], [], ls="", marker="o", mfc="none", mec="0.3", label="learnt α"),
        ]
        if kind == "primal":
            marks.append(Line2D([], [], ls="", marker="x", color="0.3", label="eq. 16 (approx.)"))
        handles, _ = ax.get_legend_handles_labels()
        ax.legend(handles=handles + marks, fontsize="x-small", ncol=2, loc="upper center")
    axes[0, 0].set_ylabel("mean divergence per image (nats)")
    fig.suptitle(f"{DATASET_LABELS[dataset]}, seed {seed}", fontsize="medium")
    return fig


def alpha_vs_eq16(
    rows: pd.DataFrame, histories: Mapping[str, Any], dataset: str, seed: int = 0
) -> pd.DataFrame:
    """Per epoch of the t-JS^Gα run (Table 1, ``seed``): its learnt alpha, the primal landscape's
    minimum on the grid (refined) and equation 16's approximation. Empty without the run."""
    t1 = table1_rows(rows)
    run = t1[(t1["dataset"] == dataset) & (t1["regulariser"] == "tgjs") & (t1["seed"] == seed)]
    hist = history(histories, run.iloc[0]) if len(run) else None
    columns = ["epoch", "learnt α", "landscape minimum", "eq. 16 (approx.)"]
    if not hist or not hist.get("landscape"):
        return pd.DataFrame(columns=columns)
    out = []
    for e, land in enumerate(hist["landscape"]):
        alpha = hist["alpha_history"][e + 1] if len(hist["alpha_history"]) > e + 1 else math.nan
        out.append(
            (e + 1, alpha, grid_minimum(land["primal"])[0], alpha_star_eq16(land["kl_qp"], land["kl_pq"]))
        )
    return pd.DataFrame(out, columns=columns).set_index("epoch").round(3)


def plot_alpha_trajectories(
    rows: pd.DataFrame, histories: Mapping[str, Any], dataset: str, axes=None
) -> plt.Figure:
    """Figure 4: alpha after each epoch, from every initial alpha of the sweep (seed 0; left) and
    for every seed from 0.5 (right); primal t-JS^Gα on top, dual t-JS*^Gα below. The dashed grey
    line (primal) is equation 16's approximate minimiser for the seed-0 run, per epoch."""
    fig, axes = _axes(axes, 2, 2, width=9.6, height=5.6)
    t1 = table1_rows(rows)
    t1 = t1[t1["dataset"] == dataset]
    for row_axes, r in zip(axes, TRAINABLE):
        panels = (
            (row_axes[0], sweep_rows(rows, dataset, r), "alpha0", "initial α"),
            (row_axes[1], t1[t1["regulariser"] == r].sort_values("seed"), "seed", "seed"),
        )
        for ax, runs, key, what in panels:
            curves = [
                (run[key], (history(histories, run) or {}).get("alpha_history") or [])
                for _, run in runs.iterrows()
            ]
            curves = [(k, a) for k, a in curves if a]
            if not curves:
                _empty(ax, f"no {DATASET_LABELS[dataset]} {r} runs yet")
                continue
            for i, (k, a) in enumerate(curves):
                shade = 0.35 + 0.65 * i / max(len(curves) - 1, 1)
                ax.plot(
                    range(len(a)),
                    a,
                    "-",
                    marker=".",
                    color=colour(r),
                    alpha=shade,
                    lw=1.2,
                    label=f"{what} {k:g}",
                )
            if r == "tgjs" and key == "seed":
                seed0 = runs[runs["seed"] == 0]
                land = (history(histories, seed0.iloc[0]) or {}).get("landscape", []) if len(seed0) else []
                stars = [alpha_star_eq16(e["kl_qp"], e["kl_pq"]) for e in land]
                if stars:
                    ax.plot(range(1, len(stars) + 1), stars, "--", color="0.5", label="eq. 16, seed 0")
            ax.set_ylim(-0.03, 1.03)
            ax.set_title(f"{label(r)}: {what} effect", fontsize="medium")
            ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel("α")
    fig.suptitle(DATASET_LABELS[dataset], fontsize="medium")
    return fig


def plot_reconstructions(
    rows: pd.DataFrame,
    histories: Mapping[str, Any],
    dataset: str,
    originals: torch.Tensor,
    seed: int = 0,
    ax=None,
) -> plt.Figure:
    """Originals (top) and each regulariser's reconstructions of them (Table 1's run of ``seed``)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.4, 4.4))
    fig = ax.figure
    t1 = table1_rows(rows)
    t1 = t1[(t1["dataset"] == dataset) & (t1["seed"] == seed)]
    strips, names = [originals.float().clamp(0, 1)], ["originals"]
    for r in TABLE1_REGULARISERS:
        run = t1[t1["regulariser"] == r]
        hist = history(histories, run.iloc[0]) if len(run) else None
        if hist and "reconstructions" in hist:
            strips.append(decode_images(hist["reconstructions"])[: len(originals)])
            names.append(TEXT_LABELS[r])
    if len(strips) == 1:
        _empty(ax, f"no {DATASET_LABELS[dataset]} reconstructions yet")
        return fig
    grid = montage(strips)
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    h = strips[0].shape[-2]
    ax.set_yticks([h * (i + 0.5) for i in range(len(names))], names, fontsize="small")
    ax.set_xticks([])
    ax.grid(False)
    return fig


def test_originals(dataset: str, n: int = 8) -> torch.Tensor:
    """The first ``n`` test images of ``dataset`` as floats: the inputs of the stored reconstructions."""
    return data.to_float(data.load_images(dataset, "test", subset=n))


def plot_reconstruction_grids(
    rows: pd.DataFrame, histories: Mapping[str, Any], datasets: Sequence[str]
) -> list[plt.Figure]:
    """One reconstruction grid per dataset that has Table 1 runs (originals loaded only then)."""
    figures = []
    for d in datasets:
        if not (table1_rows(rows)["dataset"] == d).any():
            continue
        fig = plot_reconstructions(rows, histories, d, test_originals(d))
        fig.suptitle(DATASET_LABELS[d], fontsize="medium")
        figures.append(fig)
    return figures


def montage(strips: Sequence[torch.Tensor]) -> np.ndarray:
    """Rows of images (each (N, C, H, W) in [0, 1]) tiled into one (rows*H, N*W[, C]) array."""
    tiles = []
    for images in strips:
        x = images.detach().cpu().float()
        tiles.append(torch.cat(list(x), dim=-1))  # (C, H, N*W)
    grid = torch.cat(tiles, dim=-2)  # (C, rows*H, N*W)
    return grid[0].numpy() if grid.shape[0] == 1 else grid.permute(1, 2, 0).numpy()
