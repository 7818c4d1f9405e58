"""Chapter 4's verdicts: each claim of the paper checked against the measured rows.

Every "beats" verdict on test MSE carries the rate difference (mean KL(q||p), nats) beside it: a
lower distortion bought with a higher rate is a different trade-off, not a free improvement
(the rate-distortion chapter compares models at equal rate).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from alphavae_core.chapters.benchmarks.scale import falls_then_settles, landscape_minima
from alphavae_core.chapters.benchmarks.settings import (
    DATASET_LABELS,
    PAPER_DATASETS,
    PAPER_SEEDS,
    PAPER_TABLE1,
    PAPER_TABLE3,
    STABLE_ALPHA_STD,
    TEXT_LABELS,
    TRAINABLE,
    ChapterSettings,
    paper_value,
    sweep_rows,
    table1_rows,
)
from alphavae_core.chapters.benchmarks.tables import _plural, summary
from alphavae_core.experiments.presets import PAPER_EPOCHS, SCALES
from alphavae_core.losses import TABLE1_REGULARISERS


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


RATE_COLUMN = "rate difference, ours (nats)"


def _rate_gap(rates: pd.DataFrame, d: str, a: str, b: str) -> str:
    """``"+4.87 (14.38 vs 9.51)"``: mean rate of ``a`` minus that of ``b`` on ``d``, with both."""
    ra, rb = _ours(rates, d, a)[0], _ours(rates, d, b)[0]
    if math.isnan(ra) or math.isnan(rb):
        return "-"
    return f"{ra - rb:+.2f} ({ra:.2f} vs {rb:.2f})"


def claims(rows: pd.DataFrame, histories: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The paper's benchmark claims, checked on the paper's own numbers and on ours, per dataset.

    Pairwise claims on test MSE carry our rate difference (nats) in :data:`RATE_COLUMN`. With
    ``histories``, two rows check the paper's Figure 3 claim (the optimal alpha falls during training,
    then settles) on the landscapes of the t-JS^Gα (primal) and t-JS*^Gα (dual) runs.
    """
    stats = summary(rows, "test_mse")
    alphas = summary(rows, "alpha_final")
    rates = summary(rows, "rate")
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
                rate = ""
            else:
                paper, ours = beats(_paper(d, a), _paper(d, b)), beats(_ours(stats, d, a), _ours(stats, d, b))
                ours += _paired(rows, d, a, b)
                rate = _rate_gap(rates, d, a, b)
            out.append((DATASET_LABELS[d], claim, paper, ours, rate))
        for r in TRAINABLE:
            ps = PAPER_TABLE3[r][d][1]
            m, s = _ours(alphas, d, r)
            mine = "no results" if math.isnan(m) else _stable(s)
            out.append(
                (
                    DATASET_LABELS[d],
                    f"learnt α of {TEXT_LABELS[r]} agrees across seeds",
                    _stable(ps),
                    mine,
                    "",
                )
            )
        out.append((DATASET_LABELS[d], *_sweep_claim(rows, d)))
        out.append((DATASET_LABELS[d], *_convergence_claim(rows, d), ""))
        if histories is not None:
            for r in TRAINABLE:
                kind = "primal" if r == "tgjs" else "dual"
                claim = f"optimal α falls during training, then settles (paper's Figure 3): {kind}"
                paper = "yes (Figure 3)" if d == "fashion" else "not shown"
                out.append(
                    (
                        DATASET_LABELS[d],
                        claim,
                        paper,
                        falls_then_settles(landscape_minima(rows, histories, d, r)),
                        "",
                    )
                )
    return pd.DataFrame(out, columns=["dataset", "claim", "paper", "ours", RATE_COLUMN])


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


def _sweep_claim(rows: pd.DataFrame, d: str) -> tuple[str, str, str, str]:
    """The paper's Figures 1 and 6: does trainable skew beat KL from every initial alpha of the sweep?
    Also the range of the sweep runs' rate minus the VAE's mean rate."""
    claim = "t-skew beats KL from every initial α (paper's Figures 1 and 6)"
    paper = f"yes ({_SWEEP_FIGURES[d]})" if d in _SWEEP_FIGURES else "not shown"
    t1 = table1_rows(rows)
    kl = t1[(t1["dataset"] == d) & (t1["regulariser"] == "kl")]
    parts, gaps = [], []
    for r in TRAINABLE:
        sweep = sweep_rows(rows, d, r)
        if len(sweep) < 2 or kl.empty:
            continue
        wins = int((sweep["test_mse"] < kl["test_mse"].mean()).sum())
        parts.append(f"{'α*' if r == 'tdgjs' else 'α'}: {wins} of {len(sweep)}")
        gaps += list(sweep["rate"] - kl["rate"].mean())
    rate = f"{min(gaps):+.2f} to {max(gaps):+.2f}" if gaps else ""
    return claim, paper, "; ".join(parts) if parts else "no sweep", rate


def _convergence_claim(rows: pd.DataFrame, d: str) -> tuple[str, str, str]:
    """The paper's Figure 4: does the learnt alpha end at the same value from every initial alpha?"""
    claim = "learnt α ends at one value from every initial α (paper's Figure 4)"
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
    """A few sentences summarising :func:`claims` at this preset, for ``IPython.display.Markdown``,
    each dataset's with the rate the trainable models spend beyond the VAE's."""
    table = claims(rows)
    rates = summary(rows, "rate")
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
        key = next(k for k, v in DATASET_LABELS.items() if v == d)
        kl_rate = _ours(rates, key, "kl")[0]
        extra = [(TEXT_LABELS[r], _ours(rates, key, r)[0] - kl_rate) for r in TRAINABLE]
        if not math.isnan(kl_rate) and not any(math.isnan(x) for _, x in extra):
            text += (
                f" Both trainable models spend more rate than the VAE's {kl_rate:.1f} nats: "
                + " and ".join(f"{x:+.1f} nats ({name})" for name, x in extra)
                + "; whether that buys more than a weaker KL would is the rate–distortion chapter's question."
            )
        lines.append(text)
    return "\n".join(lines)
