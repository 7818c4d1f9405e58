"""The denoising chapter's tables for the page: test MSE per noise level, and the verdict per noise
level with the sanity checks' ranks folded below it.

Each returns a :class:`alphavae_core.chapters.tables.Table`: typeset names in the page, plain ones in
text (the DataFrames of :func:`.noise_table` and :func:`.ranking` stay the plain, full versions)."""

from __future__ import annotations

import pandas as pd

from alphavae_core.chapters.benchmarks import format_mean_std
from alphavae_core.chapters.denoising.settings import COLLAPSE_NATS, noise_table, summary
from alphavae_core.chapters.denoising.verdicts import _pair, _rank, ranking, trainable_vs_rest
from alphavae_core.chapters.seeds import Paired
from alphavae_core.chapters.tables import Table, details, html_table, note, nowrap, whole
from alphavae_core.experiments.catalogue import DENOISING_REGULARISERS
from alphavae_core.plotting import HTML_NAMES


def _sigma(sigma: float) -> str:
    return f"{sigma:g}"


def _difference(diff: Paired) -> str:
    """``"<b>-3.48 ± 0.68</b> lower"`` where the 95% interval excludes zero, the number alone where
    it does not, ``"+1.00 (one seed)"`` or ``"–"``."""
    if diff.n == 0:
        return "–"
    if diff.n == 1:
        return whole(f"{diff.mean:+.2f} (one seed)")
    number = whole(f"{diff.mean:+.2f} ± {diff.half_width:.2f}")
    return f"<b>{number}</b> {diff.word()}" if diff.resolved else number


def noise_summary(rows: pd.DataFrame, digits: int = 1) -> Table:
    """Test MSE, mean ± std over seeds, a row per noise level and a column per regulariser (the
    lowest mean of each row in bold); the text form is :func:`.noise_table`."""
    s = summary(rows)
    if s.empty:
        return Table("<p>No denoising results yet.</p>", "No denoising results yet.")
    cells = {}
    for r in DENOISING_REGULARISERS:
        part = s[s["regulariser"] == r].set_index("noise")
        if len(part):
            cells[HTML_NAMES[r]] = {
                sigma: whole(format_mean_std(m, sd, digits))
                for sigma, m, sd in zip(part.index, part["mean"], part["std"])
            }
    frame = pd.DataFrame(cells).fillna("missing")
    best = s.loc[s.groupby("noise")["mean"].idxmin()].set_index("noise")["regulariser"]
    for sigma, r in best.items():
        frame.loc[sigma, HTML_NAMES[r]] = f"<b>{frame.loc[sigma, HTML_NAMES[r]]}</b>"
    frame.index = pd.Index([_sigma(v) for v in frame.index], name="σ")
    n = sorted(set(s["n"]))
    seeds = f"{n[0]}" if len(n) == 1 else f"{n[0]}–{n[-1]}"
    text = f"Test MSE against the clean image, mean ± standard deviation over {seeds} seeds; in bold the lowest mean at each σ."
    return Table(html_table(frame) + note(text), noise_table(rows, digits).to_string() + "\n" + text)


def ranking_table(rows: pd.DataFrame) -> Table:
    """:func:`.ranking` for the page: per noise level the lowest model, and the better trainable-skew
    model against the best other one (paired by seed, with both mean rates). The ranks the paper's
    sanity checks read, forward minus reverse KL, and the collapsed posteriors are folded below."""
    s = summary(rows)
    if s.empty:
        return Table("<p>No denoising results yet.</p>", "No denoising results yet.")
    page, fold = [], []
    for sigma, part in s.groupby("noise"):
        part = part.sort_values("mean")
        rate = part.set_index("regulariser")["rate"]
        best, other, diff = trainable_vs_rest(rows, sigma)
        lowest = part["regulariser"].iloc[0]
        page.append(
            {
                "σ": _sigma(sigma),
                "lowest": nowrap(HTML_NAMES[lowest]),
                "its test MSE": f"{part['mean'].iloc[0]:.1f}",
                "trainable − best other": "–"
                if best is None
                else f"{nowrap(HTML_NAMES[best])} − {nowrap(HTML_NAMES[other])}",
                "paired difference": _difference(diff),
                "their rates (nats)": "–"
                if best is None
                else whole(f"{rate[best]:.1f} vs {rate[other]:.1f}"),
            }
        )
        gone = part[part["rate"] < COLLAPSE_NATS]
        both = {"kl", "fwdkl"} <= set(part["regulariser"])
        fold.append(
            {
                "σ": _sigma(sigma),
                **{f"rank of {HTML_NAMES[r]}": _rank(part, r) for r in ("kl", "fwdkl", "mmd")},
                f"{HTML_NAMES['fwdkl']} − {HTML_NAMES['kl']}": _difference(_pair(rows, sigma, "fwdkl", "kl"))
                if both
                else "–",
                "collapsed (mean rate, nats)": ", ".join(
                    f"{HTML_NAMES[r]} {v:.3f}" for r, v in zip(gone["regulariser"], gone["rate"])
                )
                or "–",
                "models": len(part),
            }
        )
    n = sorted(
        {d for _, _, p in (trainable_vs_rest(rows, sg) for sg in s["noise"].unique()) for d in [p.n] if d}
    )
    seeds = "no seeds" if not n else f"{n[0]} seeds" if len(n) == 1 else f"{n[0]}–{n[-1]} seeds"
    text = (
        "Paired differences are the model named first minus the other, seed by seed: mean ± half-width of "
        f"the 95% interval over {seeds}; in bold with a word where the interval excludes zero."
    )
    folded = details(
        "Per noise level: the ranks of the sanity checks, forward minus reverse KL, collapsed posteriors",
        html_table(pd.DataFrame(fold).set_index("σ"))
        + note(
            f"Ranks are by mean test MSE among the models; collapsed: mean rate below {COLLAPSE_NATS:g} nats."
        ),
    )
    html = html_table(pd.DataFrame(page).set_index("σ")) + note(text) + folded
    plain = ranking(rows)[
        ["lowest", "its test MSE", "trainable − other", "paired difference", "trainable skew is"]
    ]
    return Table(html, plain.to_string() + "\n" + text)
