"""The rate-distortion chapter's tables for the page: the answer first, the full detail folded below.

Each returns a :class:`alphavae_core.chapters.tables.Table`, typeset names in the page and plain ones
in text."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from alphavae_core.chapters.benchmarks import format_mean_std
from alphavae_core.chapters.rate_distortion.curves import curve_table, curves, model_name
from alphavae_core.chapters.rate_distortion.matched import _matched, _plain, gain_split, matched_rate
from alphavae_core.chapters.seeds import Paired
from alphavae_core.chapters.tables import Table, details, html_table, note, nowrap, whole
from alphavae_core.experiments.catalogue import RATE_DISTORTION_REGULARISERS

FORMS = ("html", "text")


def _seeds(counts: Sequence[int]) -> str:
    """``"3 seeds"`` or ``"2–3 seeds"``."""
    lo, hi = int(min(counts)), int(max(counts))
    return f"{lo} seed{'s' * (hi != 1)}" if lo == hi else f"{lo}–{hi} seeds"


def _fmt(value: float, digits: int = 1) -> str:
    return "–" if value != value else f"{value:.{digits}f}"


def curve_summary(rows: pd.DataFrame) -> Table:
    """The points of the figure: test rate and test MSE (seed means) per lambda, one column pair per
    regulariser; the full table (standard deviations, the training set) folded below."""
    c = curves(rows)
    if c.empty:
        return Table("<p>No rate-distortion rows yet.</p>", "No rate-distortion rows yet.")
    models = [r for r in RATE_DISTORTION_REGULARISERS if r in set(c["regulariser"])]
    frames = {}
    for form in FORMS:
        table = {}
        for r in models:
            part = c[c["regulariser"] == r].set_index("weight")
            table[(model_name(r, form), "rate")] = part["rate"]
            table[(model_name(r, form), "MSE")] = part["test_mse"]
        frame = pd.DataFrame(table).sort_index().map(_fmt)
        frame.index = [f"{w:g}" for w in frame.index]
        frame.index.name = "λ"
        frames[form] = frame
    text = (
        f"Test set, seed means over {_seeds(c['n'])}: rate in nats per image, MSE the squared error per "
        "image; – where the regulariser has no run at that λ."
    )
    full = curve_table(rows)
    detail = html_table(_full_html(rows), index=False)
    html = (
        html_table(frames["html"])
        + note(text)
        + details("Every point in full: mean ± standard deviation over seeds, test and training set", detail)
    )
    return Table(html, frames["text"].to_string() + "\n" + text + f"\n(full table: {len(full)} rows)")


def _full_html(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`curve_table` with typeset names, each name once at the head of its rows."""
    c = curves(rows)
    columns = {("test", "rate"): "rate", ("test", "MSE"): "test_mse",
               ("train", "rate"): "train_rate", ("train", "MSE"): "train_mse"}  # fmt: skip
    out = []
    for r in RATE_DISTORTION_REGULARISERS:
        part = c[c["regulariser"] == r].sort_values("weight")
        for i, (_, p) in enumerate(part.iterrows()):
            cells = {
                ("", "regulariser"): model_name(r, "html") if i == 0 else "",
                ("", "λ"): f"{p['weight']:g}",
            }
            for head, key in columns.items():
                cells[head] = whole(format_mean_std(p[key], p[f"{key}_std"], 1))
            if c["n"].nunique() > 1:
                cells[("", "seeds")] = int(p["n"])
            out.append(cells)
    frame = pd.DataFrame(out)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame


def _cell(diff: Paired, form: str) -> str:
    """A difference in a few characters: ``"+1.54 ± 1.04 higher"`` (bold in HTML) where resolved,
    ``"+0.04 ± 0.67"`` where not, ``"-1.00 (one seed)"``, or ``"–"`` with no reading."""
    if diff.n == 0:
        return "–"
    if diff.n == 1:
        return f"{diff.mean:+.2f} (one seed)"
    number = f"{diff.mean:+.2f} ± {diff.half_width:.2f}"
    if not diff.resolved:
        return whole(number) if form == "html" else number
    return f"<b>{whole(number)}</b> {diff.word()}" if form == "html" else f"{number} {diff.word()}"


def matched_overview(
    rows: pd.DataFrame, models: Sequence[str] = ("dgjs", "tgjs", "tdgjs"), reference: str = "kl"
) -> Table:
    """Every model's matched-rate difference (:func:`matched_rate`) in one table, a row per lambda;
    each model's comparison in full (rates, test MSEs, plain interpolation) folded below."""
    found = {m: {w: d for w, _, _, d in _matched(rows, m, reference)} for m in models}
    found = {m: v for m, v in found.items() if v}
    if not found:
        text = f"No model's points lie inside the {model_name(reference)} curve yet."
        return Table(f"<p>{text}</p>", text)
    weights = sorted({w for v in found.values() for w in v})
    frames = {}
    for form in FORMS:
        frame = pd.DataFrame(
            {
                (nowrap(model_name(m, "html")) if form == "html" else model_name(m)): [
                    _cell(v.get(w, Paired(math.nan, math.nan, 0)), form) for w in weights
                ]
                for m, v in found.items()
            },  # fmt: skip
            index=pd.Index([f"{w:g}" for w in weights], name="λ"),
        )
        frames[form] = frame
    counts = [d.n for v in found.values() for d in v.values() if d.n]

    def text(form: str) -> str:
        head = (f"Test MSE of each model minus the best {model_name(reference, form)} model with no more "
                "nats, paired by seed: ")  # fmt: skip
        tail = f" – where the {model_name(reference, form)} curve does not reach the model's rate."
        if max(counts) < 2:
            return head + "one seed, so no interval and no verdict." + tail
        return head + (
            f"mean ± half-width of the 95% interval over {_seeds(counts)}. A word (the number in bold) "
            "where the interval excludes zero: lower, the model reconstructs better; higher, worse." + tail
        )

    folded = "".join(
        f"<p><b>{model_name(m, 'html')}</b></p>" + html_table(_detail(rows, m, reference)) for m in found
    )
    html = (
        html_table(frames["html"])
        + note(text("html"))
        + details("Each comparison in full: rates, test MSEs and the plain interpolation", folded)
    )
    return Table(html, frames["text"].to_string() + "\n" + text("text"))


def _detail(rows: pd.DataFrame, model: str, reference: str) -> pd.DataFrame:
    """:func:`matched_rate` of one model, its numbers kept on one line each."""
    table = matched_rate(rows, model, reference)
    out = pd.DataFrame(index=pd.Index([f"{w:g}" for w in table.index], name="λ"))
    out["rate (nats)"] = [_fmt(v) for v in table["rate (nats)"]]
    out["test MSE"] = [_fmt(v, 2) for v in table.iloc[:, 1]]
    out[f"best {model_name(reference, 'html')} at ≤ that rate"] = [_fmt(v, 2) for v in table.iloc[:, 2]]
    diffs = {w: d for w, _, _, d in _matched(rows, model, reference)}
    out["difference"] = [_cell(diffs[w], "html") for w in table.index]
    plains = {w: inside for w, inside, _, _ in _matched(rows, model, reference)}
    out["plain interpolation"] = [
        "same" if cell == "same" else _cell(_plain(plains[w]), "html")
        for w, cell in zip(table.index, table["plain interpolation"])
    ]
    if (table["left out"] > 0).any() or table["seeds"].nunique() > 1:
        out["seeds (left out)"] = [f"{n} ({k})" for n, k in zip(table["seeds"], table["left out"])]
    return out


def gain_split_table(
    rows: pd.DataFrame, models: Sequence[str] = ("tgjs", "tdgjs"), weight: float = 1.0, reference: str = "kl"
) -> Table:
    """:func:`gain_split` for each model: its gain over the reference at ``weight``, what a reference
    spending as many nats gains, and the rest, the difference at equal rate (model minus reference)."""
    frames = {form: [] for form in FORMS}
    counts = []
    for m in models:
        g = gain_split(rows, m, weight, reference)
        if g["total"][2] == 0:
            continue
        counts.append(g["total"][2])
        for form in FORMS:
            keep = whole if form == "html" else str
            frames[form].append(
                {
                    "model": nowrap(model_name(m, form)) if form == "html" else model_name(m, form),
                    "its gain": keep(format_mean_std(g["total"][0], g["total"][1], 2)),
                    "its rate (nats)": keep(format_mean_std(g["rate"][0], g["rate"][1], 1)),
                    f"{model_name(reference, form)}'s rate": keep(
                        format_mean_std(g["reference_rate"][0], g["reference_rate"][1], 1)
                    ),
                    "gain at that rate": keep(format_mean_std(g["by_rate"][0], g["by_rate"][1], 2)),
                    "difference at equal rate": _cell(g["paired"], form),
                }
            )
    if not counts:
        text = f"No seed has both a model at λ = {weight:g} and a {model_name(reference)} curve around its rate yet."
        return Table(f"<p>{text}</p>", text)

    def text(form: str) -> str:
        ref = model_name(reference, form)
        return (
            f"At λ = {weight:g}, mean ± standard deviation over {_seeds(counts)}. Its gain: {ref}'s test "
            f"MSE minus the model's. Gain at that rate: what the best {ref} model spending no more nats "
            f"than the model gains over the λ = {weight:g} one. Its gain = gain at that rate − difference "
            "at equal rate, seed by seed; the difference is the matched-rate table's (95% interval)."
        )

    tables = {form: pd.DataFrame(frames[form]).set_index("model") for form in FORMS}
    tables["html"].index.name = ""
    return Table(
        html_table(tables["html"]) + note(text("html")), tables["text"].to_string() + "\n" + text("text")
    )
