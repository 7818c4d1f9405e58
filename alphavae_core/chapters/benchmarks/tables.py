"""Chapter 4's tables: Table 1 (test MSE), Table 3 (learnt alpha) and the rate table, with their summaries."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from alphavae_core.chapters.benchmarks.names import model_label
from alphavae_core.chapters.benchmarks.settings import (
    DATASET_LABELS,
    PAPER_DATASETS,
    SKEWED,
    TRAINABLE,
    ChapterSettings,
    paper_value,
    table1_rows,
)
from alphavae_core.experiments.presets import SCALES
from alphavae_core.losses import TABLE1_REGULARISERS


# ----------------------------------------------------------------------------- Table 1 and Table 3
def mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (ddof=1; NaN for one value) and count."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return math.nan, math.nan, 0
    return float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else math.nan, int(x.size)


def format_mean_std(mean: float, std: float | None, digits: int = 2) -> str:
    """``"10.67 ± 0.27"``; just the mean when there is no spread; ``"-"`` for no value. A spread that
    ``digits`` would round to zero keeps one significant figure (``"8.56 ± 0.003"``): seeds that differ
    are not shown as identical."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    if std is None or math.isnan(std):
        return f"{mean:.{digits}f}"
    spread = f"{std:.{digits}f}"
    decimals = -math.floor(math.log10(std)) if std > 0 else digits
    if float(spread) == 0 and digits < decimals <= digits + 3:  # smaller still: rounding noise, shown as 0
        spread = f"{std:.{decimals}f}"
    return f"{mean:.{digits}f} ± {spread}"


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
    if columns:
        columns[("note", "")] = [TABLE1_NOTES.get(r, "") for r in TABLE1_REGULARISERS]
    index = pd.Index([model_label(r) for r in TABLE1_REGULARISERS], name="VAE")
    frame = pd.DataFrame(columns, index=index)
    frame.columns = (
        pd.MultiIndex.from_tuples(list(columns), names=["dataset", ""]) if columns else frame.columns
    )
    return frame


# Said beside the rows where our run and the paper's number differ in what is computed.
TABLE1_NOTES = {
    "beta": "paper: from Deasy et al. (2020), no spread",
    "mmd": "ours: MMD of sampled z vs prior samples; paper: from Deasy et al. (2020), whose code "
    "takes the MMD of (μ, log σ²) vs N(0, I)",
}


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
    """Table 3: learnt alpha (final, mean ± std over seeds) of t-JS^Gα and t-JS*^Gα beside the paper's.

    As in :func:`table1`, a cell adds "(n=k)" only when fewer seeds than the preset's were found
    (without ``settings``, fewer than the most any cell of the dataset has)."""
    stats = summary(rows, "alpha_final")
    seeds = len(SCALES[settings.preset].seeds) if settings is not None else None
    columns: dict[tuple[str, str], list[str]] = {}
    for d in _table_datasets(settings, rows):
        n_seeds = seeds if seeds is not None else _max_n(stats, d)
        ours, refs = [], []
        for r in TRAINABLE:
            if (d, r) in stats.index:
                s = stats.loc[(d, r)]
                few = f" (n={int(s['n'])})" if n_seeds and s["n"] < n_seeds else ""
                ours.append(format_mean_std(s["mean"], s["std"], digits) + few)
            else:
                ours.append("missing")
            m, s = paper_value("table3", r, d)
            refs.append(format_mean_std(m, s, digits=_decimals(m, digits)))
        columns[(DATASET_LABELS[d], "ours")] = ours
        columns[(DATASET_LABELS[d], "paper")] = refs
    frame = pd.DataFrame(columns, index=pd.Index([model_label(r) for r in TRAINABLE], name="VAE"))
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
    """Test MSE and rate (mean KL(q||p), nats) per regulariser and dataset, means over seeds, with
    each one's difference from the VAE (KL) of the same dataset."""
    mse, rate = summary(rows, "test_mse"), summary(rows, "rate")
    out = pd.DataFrame({"test MSE": mse["mean"], "rate KL(q‖p) (nats)": rate["mean"]})
    if out.empty:
        return out
    for col, name in (("test MSE", "test MSE − VAE's"), ("rate KL(q‖p) (nats)", "rate − VAE's (nats)")):
        kl = {d: out.loc[(d, "kl"), col] for d in out.index.get_level_values(0) if (d, "kl") in out.index}
        out[name] = [v - kl.get(d, math.nan) for (d, _), v in out[col].items()]
    out = out.round(digits)
    out.index = out.index.map(lambda k: (DATASET_LABELS[k[0]], model_label(k[1])))
    out.index.names = ["dataset", "VAE"]
    return out


def rate_correlations(rows: pd.DataFrame) -> pd.DataFrame:
    """Per dataset: Spearman's rank correlation of test MSE and rate (means over seeds) over all
    seven regularisers, and over the VAE and the four skewed ones (NaN with fewer than three)."""
    table = rate_table(rows)
    family = {model_label(r) for r in ("kl", *SKEWED)}
    out = {}
    for dataset, part in table.groupby(level="dataset", sort=False):
        part = part.droplevel("dataset")
        out[dataset] = {}
        for name, sub in (("all 7", part), ("VAE and the 4 skewed", part[part.index.isin(family)])):
            rho = (
                sub["test MSE"].corr(sub["rate KL(q‖p) (nats)"], method="spearman")
                if len(sub) > 2
                else math.nan
            )
            out[dataset][name] = round(rho, 2)
    return pd.DataFrame(out).T
