"""The training-length chapter: do the book's 5-epoch verdicts hold after the paper's 100 epochs?

The runs are :func:`alphavae_core.experiments.catalogue.training_length_configs`, trained by
``alphavae grid --experiment training_length`` into ``results/<preset>/training_length.csv``. Every
run records its metrics after epochs 1, 2, 5, 10, 20, 50 and 100 (:data:`.trainer.RECORD_EPOCHS`), so
one 100-epoch run gives the reader every shorter run of the same configuration too: its record at
epoch k is bit for bit what the run stopped at k would report. :func:`at_epoch` turns the records of
one epoch into ordinary results rows, which the analysis of chapters 4 and 6 then reads unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.ticker import NullFormatter
from scipy import stats

from alphavae_core.chapters import rate_distortion as rd
from alphavae_core.chapters.benchmarks import (
    format_mean_std,
    mean_std,
    model_label,
    montage,
    paper_value,
    table1_rows,
    table3,
)
from alphavae_core.chapters.benchmarks.names import markdown, typeset
from alphavae_core.chapters.seeds import paired
from alphavae_core.chapters.tables import Table, html_table, whole
from alphavae_core.config import TrainConfig
from alphavae_core.experiments.catalogue import TRAINING_LENGTH_PARTS, keeps_weights, training_length_configs
from alphavae_core.experiments.grid import key_of, load_weights, run_grid, table_paths
from alphavae_core.experiments.presets import SCALES, check_preset
from alphavae_core.experiments.results import KEY, read_json, read_table
from alphavae_core.losses import TABLE1_REGULARISERS, get_regulariser
from alphavae_core.model import VAE, build_vae
from alphavae_core.paths import results_dir
from alphavae_core.plotting import colour, label, new_figure

TABLE = "training_length"
CONFIG_COLUMNS = ("dataset", "regulariser", "alpha0", "weight", "seed")
METRICS = ("test_mse", "rate", "train_mse", "train_rate")
SHOWN_EPOCHS = (5, 10, 20, 50, 100)  # Table 1's columns over training
_RATE_TICKS = (5, 6, 8, 10, 12, 14, 16, 18, 20, 22, 25, 30, 40, 50, 60, 80, 100, 150, 200, 300)
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


# ----------------------------------------------------------------------------- Tables 1 and 3 over training
def table1_over_epochs(recs: pd.DataFrame, settings: LengthSettings, dataset: str = "mnist") -> pd.DataFrame:
    """Table 1's column of ``dataset`` after 5, 10, 20, 50 and 100 epochs (mean ± std over seeds; a
    cell with fewer seeds than the preset's says how many), beside the paper's 100-epoch numbers."""
    shown = [e for e in (*SHOWN_EPOCHS, settings.epochs) if e <= settings.epochs]
    shown = list(
        dict.fromkeys(shown if settings.epochs >= max(SHOWN_EPOCHS) else recorded_epochs(recs) or shown)
    )
    t1 = table1_rows(recs[recs["dataset"] == dataset])
    columns: dict[str, list[str]] = {}
    for e in shown:
        cells = []
        for r in TABLE1_REGULARISERS:
            m, s, n = mean_std(t1.loc[(t1["regulariser"] == r) & (t1["epoch"] == e), "test_mse"])
            cell = format_mean_std(m, s, 2) if n else "missing"
            cells.append(cell + (f" (n={n})" if 0 < n < settings.seeds else ""))
        columns[f"{e} epochs"] = cells
    columns["paper (100 epochs)"] = [
        format_mean_std(*paper_value("table1", r, dataset)) for r in TABLE1_REGULARISERS
    ]
    return pd.DataFrame(columns, index=pd.Index([model_label(r) for r in TABLE1_REGULARISERS], name="VAE"))


def table3_final(recs: pd.DataFrame, settings: LengthSettings) -> pd.DataFrame:
    """Table 3 (learnt alpha beside the paper's) after the runs' full length, read as chapter 4 reads it."""
    return table3(table1_rows(at_epoch(recs, settings.epochs)))


# ----------------------------------------------------------------------------- the matched-rate answer
def matched_rate_over_epochs(
    recs: pd.DataFrame, model: str = "tdgjs", weight: float = 1.0, dataset: str = "mnist"
) -> pd.DataFrame:
    """Chapter 6's matched-rate comparison at ``weight``, after every recorded epoch: ``model``'s test
    MSE minus the VAE's at the same rate, paired by seed (± its 95% interval), by chapter 6's rule
    and by plain interpolation alone, and the VAE's weights with how many seeds each."""
    out = []
    for e in recorded_epochs(recs):
        rows = at_epoch(recs[recs["dataset"] == dataset], e)
        rule, plain, rate = rd.equal_rate_readings(rows, model, weight)
        kl_seeds = rows[rows["regulariser"] == "kl"].groupby("weight")["seed"].nunique()
        out.append({
            "epoch": e, "rate (nats)": "-" if np.isnan(rate) else f"{rate:.1f}", "difference": rule.short(),
            "verdict": "not resolved" if rule.n >= 2 and not rule.resolved else rule.word(), "seeds": rule.n,
            "plain interpolation": plain.short(), "its seeds": plain.n,
            "VAE weights λ (seeds)": ", ".join(f"{w:g} ({n})" for w, n in kl_seeds.items()),
        })  # fmt: skip
    return pd.DataFrame(out).set_index("epoch") if out else pd.DataFrame()


def matched_rate_trend_text(
    recs: pd.DataFrame,
    model: str = "tdgjs",
    weight: float = 1.0,
    form: str = "text",
    preset: str | None = None,
) -> str:
    """Does the gain at equal rate appear, grow or vanish with training? One paragraph from the table,
    in plain text or (``form="markdown"``) with the names as MyST maths. With ``preset``, it ends with
    chapter 6's reading of its own, separately trained 5-epoch runs of that preset."""
    table = matched_rate_over_epochs(recs, model, weight)
    judged = table[table["seeds"] >= 2] if len(table) else table
    who = f"The {model_label(model)} at λ = {weight:g}"
    if judged.empty:
        text = f"{who} has no recorded epoch with two seeds inside the VAE's curve yet: no answer."
    else:
        words = [f"epoch {e}: {p['difference']}, {p['verdict']}" for e, p in judged.iterrows()]
        first, last = judged.iloc[0], judged.iloc[-1]
        text = (f"{who} against the VAE at equal rate, by training length (difference ± its 95% interval over "
                "the seeds counted): " + "; ".join(words) + ".")  # fmt: skip
        n = int(judged["seeds"].min())
        if n < 3:
            width = stats.t.ppf(0.975, n - 1) / np.sqrt(n)
            text += (f" These are {n} seeds so far: their 95% interval is ±{width:.1f} standard deviations of the "
                     "per-seed differences, against ±2.48 with three.")  # fmt: skip
        signs = {d[0] for d in judged["difference"]}
        if len(signs) == 1:
            text += f" The mean difference is {'positive' if signs == {'+'} else 'negative'} at every recorded length."
        if last["verdict"] == "lower" and first["verdict"] != "lower":
            text += " A gain at equal rate appears with training."
        elif first["verdict"] == "lower" and last["verdict"] != "lower":
            text += " The gain at equal rate seen early vanishes with training."
        elif last["verdict"] == "lower":
            text += " The gain at equal rate holds throughout."
        else:
            text += (
                " At no recorded length is the skew's distortion resolved lower than the VAE's at equal rate."
            )
    if preset is not None:
        rule, _, _ = rd.equal_rate_readings(rd.load_results(rd.chapter_settings(preset)), model, weight)
        if rule.n:
            text += (f" Chapter 6's own {SCALES[preset].epochs['mnist']}-epoch runs, trained separately, give "
                     f"{rule.text()}, {rule.word()}.")  # fmt: skip
    return markdown(text) if form == "markdown" else text


def summary_text(recs: pd.DataFrame, settings: LengthSettings, dataset: str = "mnist") -> str:
    """The chapter's findings so far, after the runs' full length, as Markdown bullets: Table 1 and
    Table 3 beside the paper, and the matched-rate answer with both of its readings."""
    last = settings.epochs
    t1 = table1_rows(at_epoch(recs[recs["dataset"] == dataset], last))
    lines = []
    for r in TABLE1_REGULARISERS:
        part = t1[t1["regulariser"] == r]
        if part.empty:
            continue
        m, sd, n = mean_std(part["test_mse"])
        line = (f"- {model_label(r)}: test MSE {format_mean_std(m, sd, 2)} over {n} seed{'s' if n > 1 else ''} "
                f"after {last} epochs, the paper {format_mean_std(*paper_value('table1', r, dataset))}")  # fmt: skip
        if part["alpha_final"].notna().any():
            a, asd, _ = mean_std(part["alpha_final"])
            paper = format_mean_std(*paper_value("table3", r, dataset), 3)
            line += f"; learnt α {format_mean_std(a, asd, 3)}, the paper {paper}"
        lines.append(line + ".")
    rule, plain, _ = rd.equal_rate_readings(at_epoch(recs[recs["dataset"] == dataset], last), "tdgjs", 1.0)
    if rule.n:
        lines.append(f"- At equal rate after {last} epochs, the {model_label('tdgjs')} at λ = 1 minus the VAE: "
                     f"{rule.text()}, {rule.word()}; by plain interpolation alone: {plain.text()}, "
                     f"{plain.word()}.")  # fmt: skip
    if not lines:
        return "No run has reached its full length yet."
    return markdown("\n".join(lines))


# ----------------------------------------------------------------------------- verdicts at 5 and at 100 epochs
def _paired_difference(rows: pd.DataFrame, a: str, b: str, metric: str = "test_mse") -> Any:
    t1 = table1_rows(rows)
    pa = t1[t1["regulariser"] == a].set_index("seed")[metric]
    pb = t1[t1["regulariser"] == b].set_index("seed")[metric]
    return paired((pa - pb).dropna())


def _verdict_row(rows: pd.DataFrame, histories: Mapping[str, Any], which: str) -> str:
    """One verdict, read from the results rows of one training length."""
    t1 = table1_rows(rows[rows["dataset"] == "mnist"])
    if which == "lowest":
        means = t1.groupby("regulariser")["test_mse"].mean()
        if means.empty:
            return "not measured"
        best = means.idxmin()
        runner = means.drop(best).idxmin() if len(means) > 1 else None
        diff = _paired_difference(t1, best, runner) if runner else None
        rate = t1.groupby("regulariser")["rate"].mean()
        n = t1.loc[t1["regulariser"] == best, "seed"].nunique()
        mean = f"{means[best]:.2f}, rate {rate[best]:.1f} nats, mean of {n} seed{'s' if n > 1 else ''}"
        paired_with = (
            f"; against {model_label(runner)}, paired by seed: {diff.text()}, {diff.word()}" if diff else ""
        )
        partial = (
            f"partial, {len(means)} of {len(TABLE1_REGULARISERS)} models: "
            if len(means) < len(TABLE1_REGULARISERS)
            else ""
        )
        return f"{partial}{model_label(best)} lowest ({mean}){paired_with}"
    if which in ("tdgjs", "tgjs"):
        fixed = {"tdgjs": "dgjs", "tgjs": "gjs"}[which]
        diff = _paired_difference(t1, which, fixed)
        return f"{diff.text()}: {diff.word()}" if diff.n else "not measured"
    if which == "matched":
        table = rd.matched_rate(rows[rows["dataset"] == "mnist"], "tdgjs")
        if 1.0 not in getattr(table, "index", []) or table.loc[1.0, "seeds"] == 0:
            return "not measured"
        return f"{table.loc[1.0, 'difference']}: {table.loc[1.0, 'verdict']}"
    if which == "order":
        t = table1_rows(rows)
        alpha = (
            t[t["regulariser"].isin(("tgjs", "tdgjs"))]
            .groupby(["regulariser", "dataset"])["alpha_final"]
            .mean()
        )
        parts = []
        for r in ("tgjs", "tdgjs"):
            if (r, "mnist") in alpha.index and (r, "fashion") in alpha.index:
                m, f = alpha[(r, "mnist")], alpha[(r, "fashion")]
                parts.append(
                    f"{rd.model_name(r)}: MNIST {m:.3f} {'<' if m < f else '>'} Fashion-MNIST {f:.3f}"
                )
        return "; ".join(parts) or "not measured"
    raise ValueError(f"unknown verdict {which!r}")


VERDICTS = {
    "lowest": "Table 1, MNIST: which model has the lowest test MSE",
    "tdgjs": "learnt dual skew against the fixed one (t-JS*^Gα minus JS*^Gα, test MSE)",
    "tgjs": "learnt primal skew against the fixed one (t-JS^Gα minus JS^Gα, test MSE)",
    "matched": "λ = 1: t-JS*^Gα minus the VAE at equal rate (chapter 6's rule)",
    "order": "Table 3: learnt α on MNIST below Fashion-MNIST's, as in the paper",
}


def verdicts(recs: pd.DataFrame, histories: Mapping[str, Any], settings: LengthSettings) -> pd.DataFrame:
    """The book's 5-epoch verdicts beside the same verdicts after the runs' full length."""
    first = EARLY if EARLY < settings.epochs else min(recorded_epochs(recs), default=1)  # smoke: 3 epochs
    early, late = at_epoch(recs, first), at_epoch(recs, settings.epochs)
    out = []
    for which, what in VERDICTS.items():
        a, b = _verdict_row(early, histories, which), _verdict_row(late, histories, which)
        out.append({"verdict": what, f"after {first} epochs": a, f"after {settings.epochs} epochs": b})
    return pd.DataFrame(out).set_index("verdict")


def view(frame: pd.DataFrame) -> Table:
    """One of this chapter's tables for the page: typeset names and unbroken numbers in HTML, the
    frame's own text otherwise (what a terminal shows)."""

    def cell(value: Any) -> str:
        text = (
            "–"
            if isinstance(value, float) and np.isnan(value)
            else f"{value:g}"
            if isinstance(value, float)
            else str(value)
        )
        return whole(typeset(text)) if len(text) < 24 else typeset(text)

    shown = frame.copy()
    shown.index = [cell(i) for i in shown.index]
    shown.index.name = frame.index.name
    if isinstance(frame.columns, pd.MultiIndex):  # two header rows, as html_table draws them
        shown.columns = pd.MultiIndex.from_tuples(
            [tuple(typeset(str(c)) for c in col) for col in frame.columns]
        )
    else:
        shown.columns = [typeset(str(c)) for c in frame.columns]
    return Table(html_table(shown.map(cell)), frame.to_string())


# ----------------------------------------------------------------------------- figures
def plot_train_test(
    recs: pd.DataFrame, regularisers: Sequence[str] = ("kl", "tgjs", "tdgjs"), dataset: str = "mnist"
):
    """Test (solid) and train (dashed) MSE against the epoch, mean over seeds (the legend says how many)."""
    fig, ax = new_figure(width=6.8, height=3.6)
    t1 = table1_rows(recs[recs["dataset"] == dataset])
    for r in regularisers:
        runs = t1[t1["regulariser"] == r]
        part = runs.groupby("epoch")[["test_mse", "train_mse"]].mean()
        if part.empty:
            continue
        n = runs["seed"].nunique()
        seeds = f"{n} seed{'s' if n > 1 else ''}"
        ax.plot(
            part.index, part["test_mse"], "-o", ms=3, color=colour(r), label=f"{label(r)}, test ({seeds})"
        )
        ax.plot(part.index, part["train_mse"], "--", color=colour(r), lw=1)
    if not ax.lines:
        ax.text(0.5, 0.5, "no runs yet", ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.plot([], [], "--", color="0.4", label="train (dashed)")
    ax.set_xscale("log")
    ax.set(xlabel="epoch (log scale)", ylabel="squared error per image")
    ax.legend(fontsize="small")
    return fig


def train_test_text(
    recs: pd.DataFrame, regularisers: Sequence[str] = ("kl", "tgjs", "tdgjs"), dataset: str = "mnist"
) -> str:
    """The gap between test and training error at the last recorded epoch, and whether the test error
    fell at every recorded epoch (means over seeds): over-fitting or a generalisation gap? Markdown."""
    t1 = table1_rows(recs[recs["dataset"] == dataset])
    parts, rising = [], []
    for r in regularisers:
        runs = t1[t1["regulariser"] == r]
        if runs.empty:
            continue
        means = runs.groupby("epoch")[["test_mse", "train_mse"]].mean()
        last = means.index.max()
        n = runs.loc[runs["epoch"] == last, "seed"].nunique()
        gap = means.loc[last, "test_mse"] - means.loc[last, "train_mse"]
        parts.append(
            f"{gap:.2f} for the {model_label(r)}, at epoch {last} over {n} seed{'s' if n > 1 else ''}"
        )
        if (means["test_mse"].diff().dropna() > 0).any():
            rising.append(model_label(r))
    if not parts:
        return "No runs yet."
    text = (
        "At the last recorded epoch the test error exceeds the training error by "
        + "; and by ".join(parts)
        + ". "
    )
    if rising:
        text += (f"The test error of the {' and the '.join(rising)} rose between two recorded epochs: "
                 "that model over-fits.")  # fmt: skip
    else:
        text += ("Every model's test error fell at every recorded epoch, so the gap is a generalisation gap, "
                 "not over-fitting in the sense of getting worse on new images.")  # fmt: skip
    return markdown(text)


def sweep_text(settings: LengthSettings, rows: pd.DataFrame) -> str:
    """Whether the initial-alpha sweep (part 5) is in, so that its figures are not read before it is."""
    sweep = part_configs(settings)[4]
    done = sum(key_of(c) in set(rows[KEY]) for c in sweep)
    if done == len(sweep):
        return f"All {done} runs of the initial-α sweep have reached {settings.epochs} epochs."
    return (f"The initial-α sweep (part 5) has {done} of its {len(sweep)} runs, so the panels by initial α show "
            f"{'only the runs from α₀ = 0.5' if done == 0 else 'part of the sweep'}: whether the learnt α "
            f"converges from any start, as the paper reports, is not yet measured here.")  # fmt: skip


def plot_rate_distortion_at(recs: pd.DataFrame, epoch: int, dataset: str = "mnist"):
    """Chapter 6's rate-distortion figure drawn from the runs as they stood after ``epoch``: the VAE's
    curve over its weights, and each learnt skew's point at lambda = 1."""
    fig = rd.plot_rate_distortion(at_epoch(recs[recs["dataset"] == dataset], epoch))
    for ax in fig.axes:  # a narrow range of rates: label round rates inside it, not only powers of ten
        lo, hi = ax.get_xlim()
        ticks = [t for t in _RATE_TICKS if lo <= t <= hi]
        ax.set_xticks(ticks[:: 1 + len(ticks) // 7], [f"{t:g}" for t in ticks[:: 1 + len(ticks) // 7]])
        ax.xaxis.set_minor_formatter(NullFormatter())
    return fig


def load_model(settings: LengthSettings, rows: pd.DataFrame, regulariser: str) -> VAE | None:
    """Seed 0's trained network of one of Table 1's MNIST models, from its kept float16 weights."""
    for c in settings.configs:
        if c.regulariser == regulariser and keeps_weights(c):
            path = settings.folder / "weights" / f"{key_of(c)}.safetensors"
            if key_of(c) in set(rows[KEY]) and path.exists():
                params, config = load_weights(path)
                model = build_vae(config.image_shape, config.latent_dim, seed=0)
                model.load_state_dict(params)
                return model.eval()
    return None


@torch.no_grad()
def samples(model: VAE, originals: torch.Tensor, n: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    """Reconstructions (decoded posterior means), decoded prior samples, and an interpolation between
    the posterior means of the first two originals: each (n, C, H, W) in [0, 1]."""
    mu, _ = model.encoder(originals)
    z = torch.randn(n, mu.shape[1], generator=torch.Generator().manual_seed(seed))
    t = torch.linspace(0, 1, n).view(-1, 1)
    path = (1 - t) * mu[0] + t * mu[1]
    decode = lambda codes: torch.sigmoid(model.decoder(codes))  # noqa: E731
    return {"reconstructions": decode(mu[:n]), "prior samples": decode(z), "interpolation": decode(path)}


def plot_samples(models: Mapping[str, VAE | None], originals: torch.Tensor):
    """Side by side for each regulariser (key of ``models``): its reconstructions of ``originals``,
    decoded prior samples and an interpolation."""
    shown = {key: m for key, m in models.items() if m is not None}
    fig, axes = new_figure(ncols=max(len(shown), 1), width=1.2 + 3.8 * max(len(shown), 1), height=2.6)
    axes = np.atleast_1d(axes)
    if not shown:
        axes[0].text(0.5, 0.5, "no kept weights yet", ha="center", va="center", color="0.4")
        axes[0].axis("off")
        return fig
    for i, (ax, (key, model)) in enumerate(zip(axes, shown.items())):
        rows = samples(model, originals, len(originals))
        ax.imshow(montage([originals, *rows.values()]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        h = originals.shape[-2]
        names = ["originals", *rows] if i == 0 else []
        ax.set_yticks([h * (j + 0.5) for j in range(len(names))], names, fontsize="small")
        ax.set_xticks([])
        ax.grid(False)
        ax.set_title(label(key), fontsize="medium")
    return fig
