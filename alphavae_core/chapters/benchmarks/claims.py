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

from alphavae_core.chapters.benchmarks.names import markdown, model_label, model_name
from alphavae_core.chapters.benchmarks.scale import falls_then_settles, landscape_minima, still_moving
from alphavae_core.chapters.benchmarks.settings import (
    DATASET_LABELS,
    PAPER_DATASETS,
    PAPER_SEEDS,
    PAPER_TABLE1,
    PAPER_TABLE3,
    STABLE_ALPHA_STD,
    TRAINABLE,
    ChapterSettings,
    paper_value,
    sweep_rows,
    table1_rows,
)
from alphavae_core.chapters.benchmarks.tables import _plural, summary
from alphavae_core.chapters.seeds import Paired, from_summaries, paired
from alphavae_core.experiments.presets import PAPER_EPOCHS, SCALES
from alphavae_core.losses import TABLE1_REGULARISERS
from alphavae_core.plotting import TEXT_NAMES


# ----------------------------------------------------------------------------- what the paper claims
def beats(diff: Paired, digits: int = 2) -> str:
    """Does the model have a lower test MSE than the one it is compared with, by the book's rule?

    ``diff`` is model minus reference (negative: the model is lower) with its 95% t-interval
    (:mod:`alphavae_core.chapters.seeds`): paired by seed for our rows, Welch's interval from
    (mean, std, seeds) for the paper's. "yes" only when the interval lies below zero.
    """
    if diff.n == 0 or math.isnan(diff.mean):
        return "no results"
    if diff.mean >= 0:
        return f"no: {diff.text(digits)}"
    if diff.n < 2 or math.isnan(diff.half_width):
        return f"lower on the means, spread unknown: {diff.mean:+.{digits}f}"
    if diff.resolved:
        return f"yes: {diff.text(digits)}"
    return f"not resolved: {diff.text(digits)}"


def _ours(stats: pd.DataFrame, d: str, r: str) -> tuple[float, float]:
    if (d, r) not in stats.index:
        return math.nan, math.nan
    s = stats.loc[(d, r)]
    return float(s["mean"]), float(s["std"])


def _paper(d: str, r: str) -> tuple[float, float, int]:
    m, s = paper_value("table1", r, d)
    return m, math.nan if s is None else s, PAPER_SEEDS


def _paper_diff(d: str, a: str, b: str) -> Paired:
    """The paper's Table 1: ``a`` minus ``b`` with Welch's 95% interval over its five seeds."""
    return from_summaries(_paper(d, a), _paper(d, b))


def _seed_pairs(rows: pd.DataFrame, dataset: str, a: str, b: str) -> pd.DataFrame:
    """Table 1's test MSE of ``a`` and ``b`` on ``dataset``, one row per seed both have
    (``test_mse_a``, ``test_mse_b``)."""
    t1 = table1_rows(rows)
    t1 = t1[t1["dataset"] == dataset]
    return pd.merge(
        t1.loc[t1["regulariser"] == a, ["seed", "test_mse"]],
        t1.loc[t1["regulariser"] == b, ["seed", "test_mse"]],
        on="seed",
        suffixes=("_a", "_b"),
    )


def _ours_diff(rows: pd.DataFrame, d: str, a: str, b: str) -> Paired:
    """Our Table 1 runs: ``a`` minus ``b``, paired by seed, with its 95% t-interval."""
    pair = _seed_pairs(rows, d, a, b)
    return paired(pair["test_mse_a"] - pair["test_mse_b"])


def _best(means: Mapping[str, float]) -> str:
    known = {r: m for r, m in means.items() if not math.isnan(m)}
    if not known:
        return "no results"
    best = min(known.values())
    text = " = ".join(model_label(r) for r, m in known.items() if m == best)
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
                paper, ours = beats(_paper_diff(d, a, b)), beats(_ours_diff(rows, d, a, b))
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
                    f"learnt α of {model_label(r)} agrees across seeds",
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
    pair = _seed_pairs(rows, dataset, a, b)
    if pair.empty:
        return ""
    wins = int((pair["test_mse_a"] < pair["test_mse_b"]).sum())
    return f"; lower on {wins} of {_plural(len(pair), 'seed')}"


def _kind(verdict: str) -> str:
    """The category of a :func:`beats` verdict: resolved, unresolved, unknown, no or none."""
    if verdict.startswith("yes"):
        return "resolved"
    if verdict.startswith("not resolved"):
        return "unresolved"
    if verdict.startswith("lower on the means"):
        return "unknown"
    return "none" if verdict == "no results" else "no"


def _stable(std: float) -> str:
    if math.isnan(std):
        return "one seed: unknown"
    verdict = "yes" if std <= STABLE_ALPHA_STD else "no"
    return f"{verdict}: std {std:.3f}"


_SWEEP_FIGURES = {"mnist": "Figure 1", "fashion": "Figure 6"}
ONE_VALUE_RANGE = 0.05  # "learnt alpha ends at one value": the sweep's final alphas lie within this
_VAE_MSE = "VAE's test MSE"


def sweep_losses(rows: pd.DataFrame, d: str) -> pd.DataFrame:
    """The runs of the initial-alpha sweep (seed 0) of the trainable models whose test MSE is not
    below the VAE's mean: the exceptions to the paper's Figure 1 claim. One run per point, so the
    comparison is on the values (no interval)."""
    t1 = table1_rows(rows)
    kl = t1[(t1["dataset"] == d) & (t1["regulariser"] == "kl")]["test_mse"].mean()
    out = []
    for r in TRAINABLE:
        for _, run in sweep_rows(rows, d, r).iterrows():
            if not run["test_mse"] < kl:
                out.append((model_label(r), run["alpha0"], run["test_mse"], kl, run["alpha_final"]))
    return pd.DataFrame(out, columns=["model", "α₀", "test MSE", _VAE_MSE, "final α"])


def _sweep_claim(rows: pd.DataFrame, d: str) -> tuple[str, str, str, str]:
    """The paper's Figures 1 and 6: does trainable skew beat KL from every initial alpha of the sweep?
    Also the range of the sweep runs' rate minus the VAE's mean rate."""
    claim = "t-skew beats KL from every initial α (paper's Figures 1 and 6)"
    paper = f"yes ({_SWEEP_FIGURES[d]})" if d in _SWEEP_FIGURES else "not shown"
    t1 = table1_rows(rows)
    kl = t1[(t1["dataset"] == d) & (t1["regulariser"] == "kl")]
    parts, gaps, total = [], [], 0
    for r in TRAINABLE:
        sweep = sweep_rows(rows, d, r)
        if len(sweep) < 2 or kl.empty:
            continue
        wins = int((sweep["test_mse"] < kl["test_mse"].mean()).sum())
        total += len(sweep) - wins
        parts.append(f"{model_name(r)}: {wins} of {len(sweep)}")
        gaps += list(sweep["rate"] - kl["rate"].mean())
    rate = f"{min(gaps):+.2f} to {max(gaps):+.2f}" if gaps else ""
    ours = f"{'no' if total else 'yes'}: {'; '.join(parts)}" if parts else "no sweep"
    return claim, paper, ours, rate


def _final_alphas(rows: pd.DataFrame, d: str) -> dict[str, pd.Series]:
    return {r: sweep_rows(rows, d, r)["alpha_final"].dropna() for r in TRAINABLE}


def _convergence_claim(rows: pd.DataFrame, d: str) -> tuple[str, str, str]:
    """The paper's Figure 4: does the learnt alpha end at the same value from every initial alpha
    (all final alphas of the sweep within :data:`ONE_VALUE_RANGE`)?"""
    claim = "learnt α ends at one value from every initial α (paper's Figure 4)"
    paper = "yes (Figure 4, MNIST)" if d == "mnist" else "not shown"
    parts, spread = [], []
    for r, final in _final_alphas(rows, d).items():
        if len(final) >= 2:
            parts.append(f"{model_name(r)}: {final.min():.3f} to {final.max():.3f}")
            spread.append(final.max() - final.min())
    if not parts:
        return claim, paper, "no sweep"
    return claim, paper, f"{'yes' if max(spread) <= ONE_VALUE_RANGE else 'no'}: {'; '.join(parts)}"


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
    """``"JS^Gα at α = 0"``; the VAE by its name."""
    return model_label("kl") if alpha is None else f"{TEXT_NAMES[regulariser]} at α = {alpha:g}"


def claims_count(table: pd.DataFrame, dataset: str) -> dict[str, list[str]]:
    """The paper's claims of :func:`claims` that this grid can test on ``dataset`` (the pairwise ones, and
    Figures 1 and 4 where the paper shows them; Figure 3's is read from the landscapes), sorted into ``held`` (resolved, or yes), ``unresolved``, ``unknown`` and
    ``failed`` (no), by claim text."""
    part = table[table["dataset"] == dataset]
    out: dict[str, list[str]] = {"held": [], "unresolved": [], "unknown": [], "failed": []}
    for claim, ours, paper in zip(part["claim"], part["ours"], part["paper"]):
        if (
            paper == "not shown"
        ):  # the book's own extension (Figure 4 on Fashion-MNIST): no claim of the paper
            continue
        if claim.endswith(("(KL)", "= 0.5")):
            kind = {"resolved": "held", "unresolved": "unresolved", "unknown": "unknown"}.get(
                _kind(ours), "failed" if _kind(ours) == "no" else None
            )
        elif "Figures 1 and 6" in claim or "Figure 4" in claim:
            kind = "held" if ours.startswith("yes") else "failed" if ours.startswith("no:") else None
        else:
            continue
        if kind:
            out[kind].append(claim)
    return out


def _unfinished_starts(rows: pd.DataFrame, d: str) -> set[float]:
    """The initial alphas whose final alpha lies outside :data:`ONE_VALUE_RANGE` of the run from the
    default start (0.5) of the same model: the runs that make the Figure 4 claim fail."""
    out = set()
    for r in TRAINABLE:
        sweep = sweep_rows(rows, d, r).dropna(subset=["alpha_final"])
        ref = sweep.loc[sweep["alpha0"] == 0.5, "alpha_final"]
        if len(ref):
            far = (sweep["alpha_final"] - ref.iloc[0]).abs() > ONE_VALUE_RANGE
            out |= set(sweep.loc[far, "alpha0"])
    return out


def _exceptions_text(rows: pd.DataFrame, d: str) -> str:
    """The Figure 1 and Figure 4 failures on ``d``, with the runs that make them fail."""
    losses = sweep_losses(rows, d)
    parts = []
    if not losses.empty:
        runs = "; ".join(
            f"{m} from α₀ = {a:g}: {v:.2f} (final α {f:.3f})"
            for m, a, v, _, f in losses.itertuples(index=False)
        )
        parts.append(
            f"the Figure 1 claim (trainable skew beats the VAE from every initial α) fails against the "
            f"VAE's {losses[_VAE_MSE].iloc[0]:.2f}: {runs} (seed 0, one run per start: "
            f"read on the values, no interval)"
        )
    finals = {r: f for r, f in _final_alphas(rows, d).items() if len(f) >= 2}
    if finals and max(f.max() - f.min() for f in finals.values()) > ONE_VALUE_RANGE:
        ranges = " and ".join(f"{f.min():.3f} to {f.max():.3f} ({model_label(r)})" for r, f in finals.items())
        what = "claim" if d == "mnist" else "check, which the paper shows for MNIST only,"
        parts.append(
            f"the Figure 4 {what} (learnt α ends at one value from every start) fails: final α {ranges}"
        )
    return "; ".join(parts)


def verdict_text(
    rows: pd.DataFrame, settings: ChapterSettings, histories: Mapping[str, Any] | None = None
) -> str:
    """A few sentences summarising :func:`claims` at this preset, for ``IPython.display.Markdown``:
    every claim the grid tests is counted (the pairwise ones by the book's 95%-interval rule, and the
    initial-alpha sweep's Figure 1 and Figure 4 claims), each dataset's with the rate the trainable
    models spend beyond the VAE's. Regulariser names are MyST maths (:func:`.names.markdown`)."""
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
        count = claims_count(table, d)
        pairwise = [c for c in part["claim"] if c.endswith(("(KL)", "= 0.5"))]
        kinds = [_kind(got[c]) for c in pairwise]
        n_all = sum(len(v) for v in count.values())
        text = (
            f"- **{d}**: lowest test MSE: {got['lowest test MSE']} (paper: {ref['lowest test MSE']}). "
            f"Of the paper's {n_all} claims that this grid tests, {len(count['held'])} hold and "
            f"{len(count['failed'])} {'fails' if len(count['failed']) == 1 else 'fail'} (Figure 3's, on the landscapes, is read in its own section)"
        )
        if count["unresolved"] or count["unknown"]:
            text += f" ({len(count['unresolved']) + len(count['unknown'])} undecided)"
        text += (
            f". Of the {len(pairwise)} pairwise claims (trainable skew beats KL, beats fixed α = 0.5), "
            f"{kinds.count('resolved')} hold with the 95% interval below zero"
        )
        if kinds.count("unknown"):
            text += f", {kinds.count('unknown')} hold on the means but have no interval (one seed)"
        text += f", {kinds.count('unresolved')} are not resolved and {kinds.count('no')} fail."
        key = next(k for k, v in DATASET_LABELS.items() if v == d)
        exceptions = _exceptions_text(rows, key)
        if exceptions:
            text += f" Of the initial-α sweep, {exceptions}."
            moving = still_moving(settings, rows, histories, key) if histories else pd.DataFrame()
            starts = set(sweep_losses(rows, key)["α₀"]) | _unfinished_starts(rows, key)
            if not moving.empty and starts <= set(moving.index[moving["still moving"]]):
                text += (
                    f" Every run behind these failures started at α₀ = "
                    f"{', '.join(f'{a:g}' for a in sorted(starts))} and was still moving α at about Adam's "
                    f"usual step in its last epoch (the section on Adam's travel): they are failures of "
                    f"training length at {scale.epochs[key]} epochs, which need not last to the paper's "
                    f"{PAPER_EPOCHS[key]}."
                )
        kl_rate = _ours(rates, key, "kl")[0]
        extra = [(model_label(r), _ours(rates, key, r)[0] - kl_rate) for r in TRAINABLE]
        if not math.isnan(kl_rate) and not any(math.isnan(x) for _, x in extra):
            text += (
                f" Both trainable models spend more rate than the VAE's {kl_rate:.1f} nats: "
                + " and ".join(f"{x:+.1f} nats ({name})" for name, x in extra)
                + "; whether that buys more than a weaker KL would is the rate–distortion chapter's question."
            )
        lines.append(text)
    return markdown("\n".join(lines))
