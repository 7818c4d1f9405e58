"""Chapter 7's tables and sentences: Table 1 and 3 over training, the matched-rate answer at every
recorded epoch, the verdicts at 5 and at 100 epochs, and the findings in numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from alphavae_core.chapters import rate_distortion as rd
from alphavae_core.chapters.benchmarks import (
    format_mean_std,
    mean_std,
    model_label,
    paper_value,
    table1_rows,
    table3,
)
from alphavae_core.chapters.benchmarks.names import markdown, typeset
from alphavae_core.chapters.seeds import Paired, paired
from alphavae_core.chapters.tables import Table, html_table, whole
from alphavae_core.chapters.training_length.runs import (
    EARLY,
    SHOWN_EPOCHS,
    LengthSettings,
    at_epoch,
    part_configs,
    recorded_epochs,
)
from alphavae_core.experiments.grid import key_of
from alphavae_core.experiments.presets import SCALES
from alphavae_core.experiments.results import KEY
from alphavae_core.losses import TABLE1_REGULARISERS


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
def _readings_over_epochs(
    recs: pd.DataFrame, model: str, weight: float, dataset: str
) -> list[tuple[int, Paired, Paired, float, pd.Series]]:
    """Per recorded epoch: chapter 6's two readings at equal rate (rule, plain interpolation), the
    mean rate of the seeds the rule counts, and how many seeds the VAE has at each weight."""
    out = []
    for e in recorded_epochs(recs):
        rows = at_epoch(recs[recs["dataset"] == dataset], e)
        rule, plain, rate = rd.equal_rate_readings(rows, model, weight)
        kl_seeds = rows[rows["regulariser"] == "kl"].groupby("weight")["seed"].nunique()
        out.append((e, rule, plain, rate, kl_seeds))
    return out


def _verdict(diff: Paired) -> str:
    """The verdict in a table that counts the seeds in a column of its own."""
    return "not resolved" if diff.n >= 2 and not diff.resolved else diff.word()


def matched_rate_over_epochs(
    recs: pd.DataFrame, model: str = "tdgjs", weight: float = 1.0, dataset: str = "mnist"
) -> pd.DataFrame:
    """Chapter 6's matched-rate comparison at ``weight``, after every recorded epoch: ``model``'s test
    MSE minus the VAE's at the same rate, paired by seed (± its 95% interval), by chapter 6's rule
    and by plain interpolation alone, and the VAE's weights with how many seeds each. Empty while
    ``model`` has no run at ``weight``."""
    runs = recs[(recs["dataset"] == dataset) & (recs["regulariser"] == model) & (recs["weight"] == weight)]
    if runs.empty:
        return pd.DataFrame()
    out = [
        {
            "epoch": e, "rate (nats)": "-" if np.isnan(rate) else f"{rate:.1f}", "difference": rule.short(),
            "verdict": _verdict(rule), "seeds": rule.n, "plain interpolation": plain.short(), "its seeds": plain.n,
            "VAE weights λ (seeds)": ", ".join(f"{w:g} ({n})" for w, n in kl_seeds.items()),
        }
        for e, rule, plain, rate, kl_seeds in _readings_over_epochs(recs, model, weight, dataset)
    ]  # fmt: skip
    return pd.DataFrame(out).set_index("epoch") if out else pd.DataFrame()


def matched_rate_trend_text(
    recs: pd.DataFrame,
    model: str = "tdgjs",
    weight: float = 1.0,
    form: str = "text",
    preset: str | None = None,
) -> str:
    """Does the gain at equal rate appear, grow or vanish with training? One paragraph from the
    readings behind :func:`matched_rate_over_epochs`, in plain text or (``form="markdown"``) with the
    names as MyST maths. With ``preset``, it ends with chapter 6's reading of its own, separately
    trained 5-epoch runs of that preset."""
    judged = [(e, rule) for e, rule, *_ in _readings_over_epochs(recs, model, weight, "mnist") if rule.n >= 2]
    who = f"The {model_label(model)} at λ = {weight:g}"
    if not judged:
        text = f"{who} has no recorded epoch with two seeds inside the VAE's curve yet: no answer."
    else:
        words = [f"epoch {e}: {rule.short()}, {_verdict(rule)}" for e, rule in judged]
        first, last = judged[0][1].word(), judged[-1][1].word()
        text = (f"{who} against the VAE at equal rate, by training length (difference ± its 95% interval over "
                "the seeds counted): " + "; ".join(words) + ".")  # fmt: skip
        n = min(rule.n for _, rule in judged)
        if n < 3:
            width = stats.t.ppf(0.975, n - 1) / np.sqrt(n)
            text += (f" These are {n} seeds so far: their 95% interval is ±{width:.1f} standard deviations of the "
                     "per-seed differences, against ±2.48 with three.")  # fmt: skip
        if all(rule.mean > 0 for _, rule in judged) or all(rule.mean < 0 for _, rule in judged):
            sign = "positive" if judged[0][1].mean > 0 else "negative"
            text += f" The mean difference is {sign} at every recorded length."
        if last == "lower" and first != "lower":
            text += " A gain at equal rate appears with training."
        elif first == "lower" and last != "lower":
            text += " The gain at equal rate seen early vanishes with training."
        elif last == "lower":
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
    final = at_epoch(recs[recs["dataset"] == dataset], last)
    t1 = table1_rows(final)
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
    for model in ("tdgjs", "tgjs"):
        rule, plain, _ = rd.equal_rate_readings(final, model, 1.0)
        if rule.n:
            lines.append(f"- At equal rate after {last} epochs, the {model_label(model)} at λ = 1 minus the VAE: "
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
    if which in MATCHED:
        table = rd.matched_rate(rows[rows["dataset"] == "mnist"], MATCHED[which])
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


MATCHED = {"matched": "tdgjs", "matched primal": "tgjs"}  # the verdicts at equal rate: whose
VERDICTS = {
    "lowest": "Table 1, MNIST: which model has the lowest test MSE",
    "tdgjs": "learnt dual skew against the fixed one (t-JS*^Gα minus JS*^Gα, test MSE)",
    "tgjs": "learnt primal skew against the fixed one (t-JS^Gα minus JS^Gα, test MSE)",
    "matched": "λ = 1: t-JS*^Gα minus the VAE at equal rate (chapter 6's rule)",
    "matched primal": "λ = 1: t-JS^Gα minus the VAE at equal rate (chapter 6's rule)",
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
    frame's own text otherwise (what a terminal shows). An empty frame: one line saying so."""
    if frame.empty:
        return Table("<p><em>No runs yet.</em></p>", "No runs yet.")

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
