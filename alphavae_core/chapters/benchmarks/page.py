"""Chapter 4's tables laid out for the page (see :mod:`.views`): each ``*_view`` shows one table of
``settings``, ``tables``, ``scale`` or ``claims`` narrowly, with every number it had, its short
headers explained in a line under it, and the long claims table behind a compact summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from alphavae_core.chapters.benchmarks.claims import RATE_COLUMN, _kind, claims, claims_count, endpoint_check
from alphavae_core.chapters.benchmarks.scale import (
    ADAM_STEP_CEILING,
    _signed,
    alpha_travel,
    falls_then_settles,
    landscape_minima,
    pipeline_check,
    pipeline_note,
    table3_ordering,
)
from alphavae_core.chapters.benchmarks.settings import (
    TRAINABLE,
    ChapterSettings,
    regulariser_table,
    scale_table,
    status_table,
)
from alphavae_core.chapters.benchmarks.tables import TABLE1_NOTES, _decimals, rate_table, table1, table3
from alphavae_core.chapters.benchmarks.views import Shown, html_table, show, signed, turned
from alphavae_core.losses import TABLE1_REGULARISERS
from alphavae_core.plotting import TEXT_NAMES

_EQUATIONS = {"beta": "1", "mmd": "–", "kl": "1", "gjs": "5–6", "dgjs": "7–8", "tgjs": "5–6", "tdgjs": "7–8"}


def regulariser_view() -> Shown:
    """The seven regularisers of Table 1: row label, the paper's equations, weight and skew."""
    regs = regulariser_table()
    frame = pd.DataFrame(
        {
            "Table 1 row": regs["Table 1 row"],
            "paper's eqs": [_EQUATIONS[r] for r in regs.index],
            "weight λ": regs["weight"],
            "skew α": regs["skew α"],
        }
    )
    return show(
        frame,
        text_columns=["Table 1 row", "skew α"],
        notes=[
            "Row labels are the names in `alphavae_core.losses`. InfoVAE's divergence is the MMD between "
            "posterior samples z and samples of the prior, with a Gaussian kernel; the trainable skews "
            "(t-) start at 0.5."
        ],
    )


def _count(n: int | str) -> str:
    return f"{n:,}" if isinstance(n, int) else str(n)


def scale_view(settings: ChapterSettings) -> Shown:
    """:func:`.scale_table` with each of our sizes beside the paper's in one cell (ours / paper)."""
    t = scale_table(settings)
    frame = pd.DataFrame(
        {
            "epochs": [f"{a} / {b}" for a, b in zip(t["epochs"], t["paper epochs"])],
            "batch": [f"{a} / {b}" for a, b in zip(t["batch"], t["paper batch"])],
            "seeds": [f"{a} / {b}" for a, b in zip(t["seeds"], t["paper seeds"])],
            "images (train, test)": [
                f"{_count(a)}, {_count(b)}" for a, b in zip(t["train images"], t["test images"])
            ],
            "sweep α₀": t["Figure 1 sweep"],
            "α steps": t["α steps"],
        },
        index=t.index,
    )
    return show(
        frame,
        text_columns=["sweep α₀"],
        notes=[
            f"Epochs, batch and seeds: preset `{settings.preset}` / the paper (its Appendix C); the paper "
            "trains and tests on all images. Sweep α₀: the initial α of Figure 1's extra runs (besides 0.5); "
            "α steps: optimiser steps of one run."
        ],
    )


def status_view(settings: ChapterSettings, rows: pd.DataFrame) -> Shown:
    """:func:`.status_table` with found / expected in one column; the commands, where a dataset still
    needs one, in a line under the table."""
    t = status_table(settings, rows)
    frame = pd.DataFrame(
        {"runs": [f"{a} of {b}" for a, b in zip(t["runs found"], t["runs expected"])], "status": t["status"]},
        index=t.index,
    )
    todo = [f"{d}: `{c}`" for d, c in t["command"].items() if c]
    return show(
        frame, text_columns=["status"], notes=["To compute: " + "; ".join(todo) + "."] if todo else ()
    )


_MARKS = {"beta": "¹", "mmd": "²"}  # Table 1's notes, keyed like TABLE1_NOTES


def table1_view(rows: pd.DataFrame, settings: ChapterSettings | None = None) -> Shown:
    """:func:`.table1` with its notes under the table, marked on their rows."""
    t = table1(rows, settings)
    if t.empty:
        return show(t)
    frame = t.drop(columns=[("note", "")])
    marks = [_MARKS.get(r, "") for r in TABLE1_REGULARISERS]
    frame.index = [f"{label} {m}".strip() for label, m in zip(frame.index, marks)]
    notes = ["Mean ± standard deviation over seeds; (n=k) marks a cell with fewer seeds than the preset's."]
    notes += [f"{_MARKS[r]} {TABLE1_NOTES[r]}." for r in _MARKS]
    return show(frame, notes=notes)


def endpoint_view(rows: pd.DataFrame) -> Shown:
    """:func:`.endpoint_check`, grouped by dataset."""
    check = endpoint_check(rows)
    for column in ("test MSE", "its test MSE"):
        check[column] = [f"{v:.2f}" for v in check[column]]
    return show(
        check.set_index(["dataset", "run"]) if len(check) else check, text_columns=["same objective as"]
    )


def rate_view(rows: pd.DataFrame) -> Shown:
    """:func:`.rate_table` with short headers; differences from the VAE signed."""
    t = rate_table(rows)
    if t.empty:
        return show(t)
    frame = pd.DataFrame(
        {
            "test MSE": [f"{v:.2f}" for v in t["test MSE"]],
            "rate": [f"{v:.2f}" for v in t["rate KL(q‖p) (nats)"]],
            "Δ test MSE": [signed(v) for v in t["test MSE − VAE's"]],
            "Δ rate": [signed(v) for v in t["rate − VAE's (nats)"]],
        },
        index=t.index,
    )
    return show(
        frame,
        notes=[
            "Means over seeds of Table 1's runs. Rate: mean KL(q‖p) over the test images, in nats. "
            "Δ: minus the VAE's on the same dataset (negative Δ test MSE: reconstructs better)."
        ],
    )


def table3_view(rows: pd.DataFrame, settings: ChapterSettings | None = None) -> Shown:
    """:func:`.table3` as it is (it is narrow), names typeset."""
    return show(table3(rows, settings), notes=["Mean ± standard deviation over seeds of the final α."])


_ORDERING_ROWS = {
    "learnt α, ours": "learnt α, ours",
    "learnt α, paper": "learnt α, paper",
    "landscape minimum, last epoch": "landscape minimum after the last epoch",
    "its change in the last epoch": "its change in the last epoch",
    "KL(q‖p) (nats)": "KL(q‖p) of the encoder (nats)",
    "KL(p‖q) (nats)": "KL(p‖q) of the encoder (nats)",
    "reconstruction loss": "reconstruction loss",
    "training loss per image, last epoch": "training loss per image, last epoch",
}


_ORDERING_DIGITS = {
    "learnt α, ours": 3,
    "landscape minimum, last epoch": 3,
    "KL(q‖p) (nats)": 1,
    "KL(p‖q) (nats)": 1,
    "training loss per image, last epoch": 1,
}


def ordering_view(rows: pd.DataFrame, histories: Mapping[str, Any]) -> Shown:
    """:func:`.table3_ordering` turned: one row per quantity, one column per model and dataset."""
    t = table3_ordering(rows, histories)
    if t.empty:
        return show(t)
    t = t.copy()
    for column, digits in _ORDERING_DIGITS.items():
        t[column] = [f"{v:.{digits}f}" for v in t[column]]
    t["its change in the last epoch"] = [_signed(v) for v in t["its change in the last epoch"]]
    t["learnt α, paper"] = [f"{v:.{_decimals(v, 3)}f}" for v in t["learnt α, paper"]]
    return show(
        turned(t, _ORDERING_ROWS),
        notes=["Means over the seeds of Table 1's runs, started at α = 0.5."],
    )


def travel_view(
    settings: ChapterSettings, rows: pd.DataFrame | None = None, histories: Mapping[str, Any] | None = None
) -> Shown:
    """:func:`.alpha_travel` turned: one row per quantity, one column per dataset."""
    t = alpha_travel(settings, rows, histories)
    ceiling = f"{ADAM_STEP_CEILING:.2f} × steps × lr"
    names = {
        "steps × lr": "steps × lr (every step the learning rate)",
        ceiling: f"{ceiling} (Adam's ceiling)",
        "largest travel (measured)": "largest travel |α_end − α₀| (measured)",
        "from α₀": "… of the run from α₀",
        "largest one-epoch move / (epoch's steps × lr)": "largest one-epoch move ÷ (epoch's steps × lr)",
    }
    return show(turned(t, names) if len(t) else t)


def landscape_view(rows: pd.DataFrame, histories: Mapping[str, Any], dataset: str) -> Shown:
    """The minimum of each seed's α landscape after each epoch (primal from t-JS^Gα runs, dual from
    t-JS*^Gα runs), with the verdict of :func:`.falls_then_settles` on each under the table."""
    parts, notes = {}, []
    for r in TRAINABLE:
        kind = "primal" if r == "tgjs" else "dual"
        minima = landscape_minima(rows, histories, dataset, r)
        notes.append(f"{kind} ({TEXT_NAMES[r]} runs): {falls_then_settles(minima)}.")
        if not minima.empty:
            parts[f"{kind}, {TEXT_NAMES[r]}: seed"] = minima.map(lambda v: f"{v:.3f}")
    if not parts:
        return show(pd.DataFrame(), notes=["No landscapes at this preset yet."])
    frame = pd.concat(parts, axis=1)
    frame.index.name = None
    return show(frame, notes=notes, corner="epoch")


def pipeline_view(rows: pd.DataFrame, settings: ChapterSettings) -> Shown:
    """:func:`.pipeline_note` over :func:`.pipeline_check` (its steps are in the note)."""
    check = pipeline_check(rows, settings)
    frame = check.drop(columns="steps per run") if len(check) else check
    return show(frame, notes=[pipeline_note(rows, settings)])


# ----------------------------------------------------------------------------- the claims, compact
def _pairwise_status(paper: str, ours: str, rate: str) -> str:
    word = {"resolved": "holds", "unresolved": "not resolved", "unknown": "lower, no interval"}
    text = word.get(_kind(ours), "fails" if _kind(ours) == "no" else "no results")
    if rate and rate != "-":
        text += f", rate {rate.split()[0].replace('-', '−')} nats"
    if _kind(paper) != "resolved":
        text += f" (paper: {paper.split(':')[0]})"
    return text


def _status(claim: str, paper: str, ours: str, rate: str) -> str:
    """A claims row of :func:`.claims` in a few words."""
    if claim == "lowest test MSE":
        text = f"holds: {ours}" if ours == paper else f"fails: {ours} (paper: {paper})"
        return "no results" if ours == "no results" else text
    if claim.endswith(("(KL)", "= 0.5")):
        text = _pairwise_status(paper, ours, rate)
    elif claim.endswith("across seeds"):
        verdict, _, std = ours.partition(": ")
        text = {"yes": "holds", "no": "fails"}.get(verdict, ours) + (
            f" ({std})" if std.startswith("std") else ""
        )
    elif "Figure 3" in claim:
        text = (
            "holds"
            if ours.startswith("yes")
            else "falls, not yet settled"
            if ours.startswith("falls")
            else ours.split(":")[0]
        )
    else:  # Figures 1, 4 and 6: read on the sweep's values
        text = "holds" if ours.startswith("yes") else "fails" if ours.startswith("no:") else ours
    return f"{text} (book's check)" if paper == "not shown" else text


def _short_claim(claim: str) -> str:
    """A claim of :func:`.claims` in fewer words (the full table keeps the long form)."""
    for long, short in _SHORT_CLAIMS.items():
        claim = claim.replace(long, short)
    return claim


_SHORT_CLAIMS = {
    " (t-JS^Gα)": "",
    " (t-JS*^Gα)": "",
    " beats VAE (KL)": " beats the VAE",
    "learnt α of α-VAE agrees": "α-VAE: learnt α agrees",
    "learnt α of α*-VAE agrees": "α*-VAE: learnt α agrees",
    "t-skew beats KL from every initial α (paper's Figures 1 and 6)": "trainable skew beats the VAE from every α₀ (Figs 1, 6)",
    "from every initial α (paper's Figure 4)": "from every α₀ (Fig. 4)",
    "optimal α falls during training, then settles (paper's Figure 3)": "optimal α falls, then settles (Fig. 3)",
}


def claims_summary(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`.claims` in a few words: one row per claim, one column per dataset, and a last row
    counting the paper's claims that this grid tests (:func:`.claims_count`)."""
    if table.empty:
        return pd.DataFrame()
    status = {
        (claim, d): _status(claim, p, o, r)
        for d, claim, p, o, r in table[["dataset", "claim", "paper", "ours", RATE_COLUMN]].itertuples(
            index=False
        )
    }
    datasets = list(dict.fromkeys(table["dataset"]))
    frame = pd.DataFrame(
        {d: [status.get((c, d), "") for c in dict.fromkeys(table["claim"])] for d in datasets},
        index=[_short_claim(c) for c in dict.fromkeys(table["claim"])],
    )
    counts = []
    for d in datasets:
        n = claims_count(table, d)
        undecided = len(n["unresolved"]) + len(n["unknown"])
        text = f"{len(n['held'])} of {sum(len(v) for v in n.values())} hold, {len(n['failed'])} fail"
        counts.append(text + (f", {undecided} undecided" if undecided else ""))
    frame.loc["the paper's claims tested here (Fig. 3 aside)"] = counts
    return frame


def claims_view(rows: pd.DataFrame, histories: Mapping[str, Any] | None = None) -> Shown:
    """The claims in a few words per dataset; the full table (every interval) opens on a click."""
    table = claims(rows, histories)
    if table.empty:
        return show(table, notes=["No results at this preset yet."])
    summary = claims_summary(table)
    full = table.set_index(["dataset", "claim"]).rename(columns={RATE_COLUMN: "rate Δ, ours (nats)"})
    detail = html_table(full, text_columns=list(full.columns))
    shown = show(
        summary,
        text_columns=list(summary.columns),
        wrap_labels=True,
        notes=[
            "holds: by the book's rule (for a comparison, the 95% interval of the difference lies below "
            "zero); rate: our model's rate minus that of the model it is compared with (nats); book's "
            "check: a claim the paper shows for the other dataset only. α₀: the initial α."
        ],
        more=("Every claim with its numbers (intervals, seeds, rates)", detail),
    )
    return Shown(shown.html, summary.to_string() + "\n\n" + table.to_string())
