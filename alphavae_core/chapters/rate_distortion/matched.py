"""Rate-distortion verdicts: each model against the best the VAE reaches with no more nats, paired by seed; the gain split and the chapter's answer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from alphavae_core.chapters.benchmarks import mean_std
from alphavae_core.chapters.rate_distortion.curves import curves, model_name
from alphavae_core.chapters.seeds import Paired, paired


def _interp_log_rate(rate: float, curve: pd.DataFrame, column: str) -> float:
    """``column`` of a curve (sorted by rate) at ``rate``, linear in log rate; NaN outside its range."""
    log_r = np.log(curve["rate"].to_numpy(float))
    if not log_r[0] <= np.log(rate) <= log_r[-1]:
        return np.nan
    return float(np.interp(np.log(rate), log_r, curve[column].to_numpy(float)))


def best_at_rate(rate: float, curve: pd.DataFrame) -> float:
    """The lowest test MSE the reference curve reaches at a rate no higher than ``rate``.

    The curve is linear in log rate between its measured points; where it rises again (at 5 epochs
    a very small lambda under-trains), a model spending more nats is held to the best point the
    reference reached with fewer. NaN below the curve's smallest rate (no extrapolation)."""
    curve = curve.sort_values("rate")
    if curve.empty or rate < curve["rate"].iloc[0]:
        return np.nan
    reached = curve.loc[curve["rate"] <= rate, "test_mse"].min()
    between = _interp_log_rate(rate, curve, "test_mse")
    return float(np.nanmin([reached, between]))


def plain_at_rate(rate: float, curve: pd.DataFrame) -> float:
    """The reference curve's test MSE at ``rate`` by plain interpolation, linear in log rate between
    its measured points, without :func:`best_at_rate`'s lowest-distortion rule; NaN outside its range."""
    curve = curve.sort_values("rate")
    return np.nan if curve.empty else _interp_log_rate(rate, curve, "test_mse")


def per_seed(rows: pd.DataFrame, model: str = "tdgjs", reference: str = "kl") -> pd.DataFrame:
    """One row per (lambda, seed) of ``model``: its rate and test MSE, the reference's best at that rate
    (same seed, :func:`best_at_rate`), its plain interpolation there (:func:`plain_at_rate`) and the
    reference's own point at the same lambda."""
    out = []
    for (w, seed), point in rows[rows["regulariser"] == model].groupby(["weight", "seed"]):
        ref = rows[(rows["regulariser"] == reference) & (rows["seed"] == seed)]
        same = ref[ref["weight"] == w]
        p = point.iloc[0]
        out.append(
            {
                "weight": w,
                "seed": seed,
                "rate": p["rate"],
                "test_mse": p["test_mse"],
                "reference": best_at_rate(p["rate"], ref) if len(ref) >= 2 else np.nan,
                "plain": plain_at_rate(p["rate"], ref) if len(ref) >= 2 else np.nan,
                "same_rate": float(same["rate"].iloc[0]) if len(same) else np.nan,
                "same_mse": float(same["test_mse"].iloc[0]) if len(same) else np.nan,
            }
        )
    columns = ["weight", "seed", "rate", "test_mse", "reference", "plain", "same_rate", "same_mse"]
    return pd.DataFrame(out, columns=columns)


def _matched(rows: pd.DataFrame, model: str, reference: str) -> list[tuple[float, pd.DataFrame, int, Paired]]:
    """Per lambda of ``model``: the seeds where the reference reaches its rate, how many were left out,
    and the paired difference, model minus the reference's best at that rate (the book's sign:
    negative means the model reconstructs better)."""
    out = []
    for w, part in per_seed(rows, model, reference).groupby("weight"):
        inside = part.dropna(subset=["reference"])
        out.append((w, inside, len(part) - len(inside), paired(inside["test_mse"] - inside["reference"])))
    return out


def equal_rate_readings(
    rows: pd.DataFrame, model: str = "tdgjs", weight: float = 1.0, reference: str = "kl"
) -> tuple[Paired, Paired, float]:
    """At ``weight``: ``model`` minus the reference at equal rate by the lowest-distortion rule and by
    plain interpolation (each paired by seed over the seeds it can read), and the mean rate of the
    seeds the rule counts (NaN where none)."""
    for w, inside, _, diff in _matched(rows, model, reference):
        if w == weight:
            rate = float(inside["rate"].mean()) if len(inside) else np.nan
            return diff, _plain(inside), rate
    return paired([]), paired([]), np.nan


def _plain(inside: pd.DataFrame) -> Paired:
    """Model minus the reference read by plain interpolation, paired by seed (NaN readings dropped)."""
    return paired(inside["test_mse"] - inside["plain"])


def matched_rate(rows: pd.DataFrame, model: str = "tdgjs", reference: str = "kl") -> pd.DataFrame:
    """Per lambda of ``model``: its test MSE minus the reference's best at the same rate, paired by seed.

    Only seeds where the reference reaches that rate count, for every column of the row; ``left out``
    counts the others. Negative: the model reconstructs better than any reference point spending no
    more nats. The difference carries its 95% t-interval over seeds (:mod:`.seeds`). Where the
    lowest-distortion rule of :func:`best_at_rate` changes the reading, ``plain interpolation`` gives
    the difference read without it ("same" where the two agree, "-" outside the curve's range)."""
    out = [
        {
            "λ": w,
            "rate (nats)": round(inside["rate"].mean(), 1),
            f"{model_name(model)} test MSE": round(inside["test_mse"].mean(), 2),
            f"best {model_name(reference)} at ≤ that rate": round(inside["reference"].mean(), 2),
            "difference": diff.text(),
            "verdict": diff.word(),
            "plain interpolation": _plain_cell(inside),
            "seeds": diff.n,
            "left out": left_out,
        }
        for w, inside, left_out, diff in _matched(rows, model, reference)
    ]
    return pd.DataFrame(out).set_index("λ") if out else pd.DataFrame()


def _plain_cell(inside: pd.DataFrame) -> str:
    if np.allclose(inside["plain"], inside["reference"], equal_nan=True):
        return "same"
    plain = _plain(inside)
    return "-" if plain.n == 0 else f"{plain.text()}: {plain.word()}"


def equivalent_kl_weight(rows: pd.DataFrame, model: str = "tdgjs", weight: float = 1.0) -> float:
    """The KL weight whose (seed-mean) test rate equals ``model``'s at ``weight`` (log-log interpolation);
    NaN outside the KL curve's range. Learnt skew spends rate as a VAE with this smaller weight would."""
    c = curves(rows)
    point = c[(c["regulariser"] == model) & (c["weight"] == weight)]
    kl = c[c["regulariser"] == "kl"].sort_values("rate").assign(log_weight=lambda f: np.log(f["weight"]))
    if point.empty or len(kl) < 2:
        return np.nan
    return float(np.exp(_interp_log_rate(float(point["rate"].iloc[0]), kl, "log_weight")))


def equivalent_weight_text(
    rows: pd.DataFrame, models: Sequence[str] = ("tdgjs",), weight: float = 1.0
) -> str:
    """One Markdown sentence: the KL weight at which the VAE spends as many nats as each of ``models``
    does at ``weight``."""
    found = {m: equivalent_kl_weight(rows, m, weight) for m in models}
    found = {m: w for m, w in found.items() if np.isfinite(w)}
    if not found:
        return f"Not enough points on the {_names(models)} and {model_name('kl', 'markdown')} curves yet."
    each = " respectively" if len(found) > 1 else ""
    return (
        f"At λ = {weight:g}, {_names(found)} spend{'s' * (len(found) == 1)} as much rate as a VAE with "
        f"λ ≈ {_names([f'{w:.2f}' for w in found.values()], plain=True)}{each}."
    )


def _names(items: Sequence[str], plain: bool = False) -> str:
    """``"A, B and C"`` of regulariser names in Markdown (of the items themselves with ``plain``)."""
    words = list(items) if plain else [model_name(m, "markdown") for m in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def gain_split(rows: pd.DataFrame, model: str = "tdgjs", weight: float = 1.0, reference: str = "kl") -> dict:
    """``model``'s test-MSE gain over ``reference`` at the same ``weight``, split in two, per seed.

    ``total``: the reference's test MSE minus the model's at ``weight`` (a gain, positive when the
    model is lower); ``by_rate``: what the reference gains by spending the model's rate (its best at
    that rate, as in :func:`matched_rate`); ``equal_rate``: the matched-rate difference, model minus
    the reference's best at its rate, with the book's sign (negative: the skew does better), so that
    ``total = by_rate - equal_rate`` seed by seed. Means are (mean, std, seeds) over the seeds that
    have all three points; ``paired`` is the :class:`.seeds.Paired` of ``equal_rate``."""
    t = per_seed(rows, model, reference)
    t = t[t["weight"] == weight].dropna(subset=["reference", "same_mse"])
    parts = {
        "total": t["same_mse"] - t["test_mse"],
        "by_rate": t["same_mse"] - t["reference"],
        "equal_rate": t["test_mse"] - t["reference"],
        "rate": t["rate"],
        "reference_rate": t["same_rate"],
    }
    out: dict = {k: mean_std(v) for k, v in parts.items()}
    out["paired"] = paired(parts["equal_rate"])
    return out


def answer_text(rows: pd.DataFrame, model: str = "tdgjs", reference: str = "kl") -> str:
    """The chapter's answer in a few sentences: at the lambdas with two or more seeds, is ``model``'s
    distortion resolved lower than the best ``reference`` reaches at the same rate (the book's rule,
    :mod:`.seeds`), where is its mean difference negative without being resolved, and how large a gain
    the 95% intervals still allow there."""
    judged = {w: diff for w, _, _, diff in _matched(rows, model, reference) if diff.n >= 2}
    if not judged:
        return f"No λ has two seeds of {model_name(model, 'markdown')} inside the {model_name(reference, 'markdown')} curve yet: no answer."

    def lams(ws) -> str:
        return ", ".join(f"{w:g}" for w in ws)

    lower = [w for w, d in judged.items() if d.word() == "lower"]
    higher = [w for w, d in judged.items() if d.word() == "higher"]
    if lower:
        head = (
            f"At λ = {lams(lower)}, {model_name(model, 'markdown')} reconstructs better than the best {model_name(reference, 'markdown')} "
            f"model spending no more nats (95% interval below zero): there it buys more than a smaller λ would."
        )
    else:
        head = (
            f"At no λ with two or more seeds (λ = {lams(judged)}) is {model_name(model, 'markdown')}'s distortion resolved "
            f"lower than the best {model_name(reference, 'markdown')} model reaches at the same rate: at this scale we find no "
            f"resolved sign that it does better than a VAE with a smaller λ."
        )
    if higher:
        head += f" At λ = {lams(higher)} it is resolved higher."
    open_ = [w for w, d in judged.items() if not d.resolved]
    negative = [w for w in open_ if judged[w].mean < 0]
    tail = ""
    if negative:
        tail += f" Its mean difference is negative, but not resolved, at λ = {lams(negative)}."
    if open_:
        allowed = ", ".join(f"{judged[w].largest_gain():.2f} (λ = {w:g})" for w in open_)
        tail += (
            f" Where no verdict is reached, the 95% intervals still allow a gain at equal rate of at most "
            f"{allowed} per image (test MSE)"
        )
    spread = rows.groupby(["regulariser", "weight"])["test_mse"].std().median()
    tail += (
        f"{';' if open_ else ' For comparison,'} one model's test MSE typically varies by {spread:.2f} "
        f"(standard deviation) from seed to seed."
    )
    return head + tail


def readings_text(rows: pd.DataFrame, models: Sequence[str] = ("tdgjs",), reference: str = "kl") -> str:
    """Where the reference's curve has risen again, the lowest-distortion rule of :func:`best_at_rate`
    and plain interpolation (:func:`plain_at_rate`) read it differently. One Markdown paragraph: the
    curve's lowest point, and where the two readings give different verdicts (the numbers of both are
    in :func:`matched_rate`, column ``plain interpolation``)."""
    c = curves(rows)
    ref = c[c["regulariser"] == reference]
    if ref.empty:
        return f"No {model_name(reference, 'markdown')} curve yet."
    low = ref.loc[ref["test_mse"].idxmin()]
    changed, unread, differ, compared = [], {}, 0, 0
    for model in models:
        for w, inside, _, diff in _matched(rows, model, reference):
            compared += int(diff.n > 0)
            if np.allclose(inside["plain"], inside["reference"], equal_nan=True) or diff.n == 0:
                continue
            differ += 1
            plain = _plain(inside)
            if plain.n == 0:
                unread.setdefault(w, []).append(model)
            elif plain.word() != diff.word():
                changed.append(
                    f"{model_name(model, 'markdown')} at λ = {w:g} (the rule: {diff.word()}; plain "
                    f"interpolation: {plain.word()})"
                )
    text = (
        f"The {model_name(reference, 'markdown')} curve's lowest test MSE (seed means) is {low['test_mse']:.2f}, "
        f"at λ = {low['weight']:g} ({low['rate']:.1f} nats)."
    )
    if not differ:
        return text + " The two readings agree for every model at every λ."
    text += (
        f" The two readings differ at {differ} of the {compared} points compared; the verdict changes with "
        "the reading " + (f"for {'; '.join(changed)}." if changed else "for none of them.")
    )
    for w, who in unread.items():
        text += (
            f" At λ = {w:g} plain interpolation has no reading for {_names(who)}: "
            f"{'it spends' if len(who) == 1 else 'they spend'} more nats than the "
            f"{model_name(reference, 'markdown')} curve's largest rate."
        )
    return text


def without_reference_points(
    rows: pd.DataFrame, drop: tuple[float, ...], model: str = "tdgjs", reference: str = "kl"
) -> str:
    """How the matched-rate verdicts change when the reference's runs at the weights ``drop`` are
    left out: which readings depend on how densely the reference curve is sampled."""
    fewer = rows[~((rows["regulariser"] == reference) & rows["weight"].isin(drop))]
    full = {w: d for w, _, _, d in _matched(rows, model, reference)}
    less = {w: d for w, _, _, d in _matched(fewer, model, reference)}
    weights = ", ".join(f"{w:g}" for w in drop)
    changed = [w for w in full if w in less and full[w].word() != less[w].word()]
    if not changed:
        return (f"Without {model_name(reference, 'markdown')}'s runs at λ = {weights}, no verdict of {model_name(model, 'markdown')} "
                f"changes.")  # fmt: skip
    parts = [
        f"at λ = {w:g} it reads {less[w].text()}, {less[w].word()}, instead of {full[w].text()}, "
        f"{full[w].word()}"
        for w in changed
    ]
    return (
        f"Without {model_name(reference, 'markdown')}'s runs at λ = {weights}, {'; '.join(parts)}: that verdict depends on how "
        f"densely the {model_name(reference, 'markdown')} curve is sampled near the model's rate."
    )


def rerun_text(
    rows: pd.DataFrame, rerun: pd.DataFrame, model: str = "tdgjs", reference: str = "kl", weight: float = 1.0
) -> str:
    """How much the matched-rate difference at ``weight`` rests on one training of its runs.

    ``rerun`` holds other runs of the same configurations and seeds at ``weight`` (columns
    regulariser, seed, test_mse, rate; chapter 4's Table 1 runs at lambda = 1). Gives the largest
    test-MSE difference between the two trainings of a run, and the matched-rate difference with the
    rerun rows in their place: whether its sign and its size survive."""
    here = rows[(rows["weight"] == weight) & rows["regulariser"].isin([model, reference])]
    both = here.merge(rerun[["regulariser", "seed", "test_mse", "rate"]], on=["regulariser", "seed"],
                      suffixes=("", "_rerun"))  # fmt: skip
    if both.empty:
        return f"No rerun of the λ = {weight:g} runs to compare with."
    gap = (both["test_mse"] - both["test_mse_rerun"]).abs()
    worst = both.loc[gap.idxmax()]
    swapped = rows.copy()
    for _, r in both.iterrows():
        at = (swapped["regulariser"] == r["regulariser"]) & (swapped["seed"] == r["seed"])
        at &= swapped["weight"] == weight
        swapped.loc[at, ["test_mse", "rate"]] = [r["test_mse_rerun"], r["rate_rerun"]]
    first = {w: d for w, _, _, d in _matched(rows, model, reference)}.get(weight)
    second = {w: d for w, _, _, d in _matched(swapped, model, reference)}.get(weight)
    if first is None or second is None:
        return f"No matched-rate difference at λ = {weight:g}."
    same_sign = np.sign(first.mean) == np.sign(second.mean)
    text = (
        f"A second training of this grid's λ = {weight:g} runs (same configurations and seeds) differs "
        f"from them by up to {gap.max():.2f} per image ({model_name(worst['regulariser'], 'markdown')}, seed "
        f"{int(worst['seed'])}). With the second training in their place, {model_name(model, 'markdown')}'s difference at "
        f"equal rate at λ = {weight:g} is {second.text()}, {second.word()}, instead of {first.text()}, "
        f"{first.word()}: "
    )
    if same_sign and abs(first.mean) <= gap.max():
        text += (
            f"the sign survives the rerun, the size does not: a difference of {abs(first.mean):.2f} is no "
            f"larger than the rerun spread of {gap.max():.2f}."
        )
    elif same_sign:
        text += "the sign survives the rerun, and the size exceeds the rerun spread."
    else:
        text += "even the sign does not survive the rerun."
    return text
