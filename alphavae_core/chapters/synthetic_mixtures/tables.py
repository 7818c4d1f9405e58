"""Chapter 3's tables as a reader sees them: compact HTML, rounded, answer first.

Each ``*_html`` function returns one HTML string for ``IPython.display.HTML``: a short table that
answers the section's question, and, where the evidence is long, the full table in a collapsed
``<details>`` block under it. Regularisers are named by :data:`alphavae_core.plotting.HTML_NAMES`
(the learnt-skew objectives with their reading, e.g. "t-JS*^Gα (dual)"). The tables are built from
the library's data frames (:func:`~alphavae_core.chapters.synthetic_mixtures.validation_table`,
:func:`~alphavae_core.chapters.synthetic_mixtures.skew_table`, ...), which keep their plain columns
for tests and scripts.
"""

from __future__ import annotations

import html

import pandas as pd

from alphavae_core.chapters.synthetic_mixtures.analysis import Figure2Results, low_skew_share, skew_table
from alphavae_core.chapters.synthetic_mixtures.comparison import ball_vs_full, convergence_table
from alphavae_core.chapters.synthetic_mixtures.distributions import GaussianMixture
from alphavae_core.chapters.synthetic_mixtures.fit import PLOT_KEY
from alphavae_core.plotting import name

KL_QP, KL_PQ = name("kl", "html"), name("fwdkl", "html")
# The validation compares fixed-skew divergences; the experiment's objectives learn the skew.
FIXED_KEY = {"primal": "gjs", "dual": "dgjs"}


def objective_html(objective: str) -> str:
    """An objective of the experiment by its typeset name; learnt skews also say primal or dual."""
    typeset = name(PLOT_KEY[objective], "html")
    return f"{typeset} ({objective})" if objective in ("dual", "primal") else typeset


NBSP_PM = "\u00a0±\u00a0"  # "0.46 ± 0.07" on one line


def html_table(table: pd.DataFrame, index: bool = True, left: bool = False) -> str:
    """``table`` as a compact HTML table; its cells and labels may hold markup (names, sub/sup).

    A "mean ± std" never breaks across lines; ``left`` aligns the cells left (for sentences).
    """
    text = table.to_html(escape=False, border=0, index=index, na_rep="–", justify="left")
    text = text.replace(" ± ", NBSP_PM)
    return text.replace("<td>", '<td style="text-align:left">') if left else text


def details(summary: str, body: str) -> str:
    """``body`` in a collapsed block whose one-line ``summary`` says what it holds."""
    return f"<details>\n<summary>{summary}</summary>\n{body}\n</details>\n"


def mixture_html(p: GaussianMixture) -> str:
    """One row per component of a mixture: weight, mean and variance, rounded for reading."""
    variances = p.covariances.diagonal(dim1=-2, dim2=-1)[:, 0]
    rows = {
        "weight w<sub>k</sub>": [f"{float(w):.3f}" for w in p.weights],
        "mean m<sub>k</sub>": ["(" + ", ".join(f"{float(v):.2f}" for v in m) + ")" for m in p.means],
        "variance v<sub>k</sub>": [f"{float(v):.3f}" for v in variances],
    }
    table = pd.DataFrame(rows, index=pd.Index(range(1, len(p.weights) + 1), name="component k"))
    return html_table(table)


def validation_html(check: pd.DataFrame) -> str:
    """The estimator's checks: the worst error per case and divergence, then every check (collapsed).

    ``check`` is :func:`validation_table`'s frame (reference, estimate, stderr in nats; z the error
    in standard errors).
    """
    check = check.assign(
        error=(check["estimate"] - check["reference"]).abs(),
        divergence=check["divergence"].map(lambda d: name(FIXED_KEY[d], "html")),
    )
    worst = check.groupby(["case", "divergence"], sort=False).agg(
        checks=("z", "size"), largest_z=("z", "max"), largest_error=("error", "max")
    )
    worst = pd.DataFrame(
        {
            "checks": worst["checks"],
            "largest error (standard errors)": worst["largest_z"].map("{:.2f}".format),
            "largest error (nats)": worst["largest_error"].map("{:.3f}".format),
        }
    )
    every = check.set_index(["case", "divergence", "alpha"])[["reference", "estimate", "stderr", "z"]]
    every = every.rename(columns={"stderr": "s.e.", "z": "error / s.e."}).rename_axis(index={"alpha": "α"})
    every = every.apply(lambda c: c.map("{:.2f}".format if c.name == "error / s.e." else "{:.3f}".format))
    summary = f"all {len(check)} checks (reference, estimate and standard error s.e. in nats)"
    return html_table(worst) + details(summary, html_table(every))


def skew_tables_html(table: pd.DataFrame) -> str:
    """Panel (a) and panel (b)'s learnt skews (mean ± std over seeds) as two small tables side by side."""
    parts = []
    for panel, caption in (("a", "(a) 2-D, K components"), ("b", "(b) dimension d, 5d components")):
        t = skew_table(table, panel).rename(columns=objective_html)
        t = t.rename_axis(index={"n_components": "K", "dim": "d"}).rename_axis(columns=None)
        parts.append(f"<div><p><strong>{caption}</strong></p>\n{html_table(t)}</div>")
    lead = "<p>Learnt skew, mean ± standard deviation over seeds:</p>\n"
    return lead + '<div style="display:flex;flex-wrap:wrap;gap:0 2em">\n' + "\n".join(parts) + "\n</div>\n"


def convergence_html(res: Figure2Results, dims: tuple[int, ...] = (8, 10)) -> str:
    """Has panel (b)'s skew settled at ``dims``? Per dimension and objective: where the seeds end,
    and the largest move before and during the decay; then share of primal runs in the lower basin
    at every dimension, and every run (collapsed)."""
    moves = convergence_table(res, "b", dims)
    if moves.empty:
        return "<p>no runs at d = 8 or 10 at this preset</p>\n"
    end, before, during = moves.columns[2], moves.columns[3], moves.columns[4]
    groups = moves.groupby(level=["dim", "objective"])
    compact = pd.DataFrame(
        {
            "seeds": groups.size(),
            "α at the end, range over seeds": groups[end].agg(lambda v: f"{v.min():.2f}–{v.max():.2f}"),
            f"largest move, {before.removeprefix('moved, ')}": groups[before].max().map("{:.3f}".format),
            f"largest move, {during.removeprefix('moved, ')} (decay)": groups[during]
            .max()
            .map("{:.3f}".format),
        }
    )
    compact.index = compact.index.set_levels(compact.index.levels[1].map(objective_html), level=1)
    compact = compact.rename_axis(index={"dim": "d"})
    low = low_skew_share(res.table, "b")
    share = low.rename(_primal_runs_below(low)).rename_axis("d").to_frame()
    every = moves.map("{:.3f}".format)
    every.index = every.index.set_levels(every.index.levels[1].map(objective_html), level=1)
    every = every.rename_axis(index={"dim": "d"})
    return (
        html_table(compact)
        + html_table(share)
        + details(f"every run at d = {', '.join(map(str, dims))}", html_table(every))
    )


def _primal_runs_below(low: pd.Series) -> str:
    threshold = low.name.removeprefix("runs with α < ")
    return f"{name('tgjs', 'html')} runs ending below α = {html.escape(threshold)}"


def fitted_html(fitted: pd.DataFrame) -> str:
    """:func:`illustration`'s table: each objective's learnt skew and the two KLs of its fit (nats)."""
    t = pd.DataFrame(
        {
            "learnt α": fitted["learnt alpha"].map(lambda a: "–" if pd.isna(a) else f"{a:.3f}"),
            f"{KL_QP} (nats)": fitted["KL(q||p)"].map("{:.3f}".format),
            f"{KL_PQ} (nats)": fitted["KL(p||q)"].map("{:.3f}".format),
        }
    )
    t.index = pd.Index(fitted["objective"].map(objective_html), name="objective")
    return html_table(t)


def ball_vs_full_html(table: pd.DataFrame, ball: pd.DataFrame) -> str:
    """The ball against the full covariance: learnt skews and KL(p‖q), then KL(q‖p) and seeds (collapsed)."""
    compare = ball_vs_full(table, ball)
    if compare.empty:
        return "<p>no Gaussian-ball runs yet</p>\n"
    compare = compare.reset_index()
    setting = "(" + compare["panel"] + ") " + compare["setting"]
    index = pd.MultiIndex.from_arrays(
        [setting, compare["objective"].map(objective_html)], names=["setting", "objective"]
    )
    alpha, kl_pq, kl_qp = "learnt α", f"{KL_PQ} (nats)", f"{KL_QP} (nats)"
    answer = pd.DataFrame(
        {
            (alpha, "full"): compare["α, full"].to_numpy(),
            (alpha, "ball"): compare["α, ball"].to_numpy(),
            (alpha, "ball − full"): compare["ball − full"].map("{:+.3f}".format).to_numpy(),
            (kl_pq, "full"): compare["KL(p‖q), full"].map("{:.2f}".format).to_numpy(),
            (kl_pq, "ball"): compare["KL(p‖q), ball"].map("{:.2f}".format).to_numpy(),
        },
        index=index,
    )
    rest = pd.DataFrame(
        {
            ("", "seeds"): compare["seeds"].to_numpy(),
            (kl_qp, "full"): compare["KL(q‖p), full"].map("{:.2f}".format).to_numpy(),
            (kl_qp, "ball"): compare["KL(q‖p), ball"].map("{:.2f}".format).to_numpy(),
        },
        index=index,
    )
    return html_table(answer) + details(f"{KL_QP} and the number of seeds", html_table(rest))


def released_html(comparison: pd.DataFrame) -> str:
    """:func:`released_comparison`'s table with the objectives typeset (mean ± std over seeds)."""
    primal, dual = objective_html("primal"), objective_html("dual")
    names = {
        "ours, primal": f"ours, {primal}",
        "ours, primal, ball": f"ours, {primal}, ball",
        "ours, dual": f"ours, {dual}",
    }
    shown = comparison.rename(columns=names).rename_axis(index={"dim": "d"})
    shown = shown.apply(lambda c: c.map(lambda v: f"{v:.3f}" if isinstance(v, float) else v))
    return html_table(shown.replace("-", "–"))


def claims_html(claims: pd.DataFrame) -> str:
    """:func:`paper_claims`'s table, answer first: each claim (and where the paper makes it), the
    verdict, then what was measured."""
    shown = pd.DataFrame(
        {
            "the paper says": claims["claim"].map(html.escape) + " <em>(" + claims["source"] + ")</em>",
            "verdict": claims["verdict"].map(html.escape),
            "measured (mean over seeds)": claims["measured (mean over seeds)"].map(html.escape),
        }
    )
    return html_table(shown, index=False, left=True)
