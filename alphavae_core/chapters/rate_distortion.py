"""The rate-distortion chapter (the paper's Figure 7): distortion against rate as the divergence
weight lambda of equation 14 varies, and whether learnt skew beats the VAE at equal rate.

Rate is KL(q||p) in closed form (nats per image, mean over images) for every regulariser, whatever
the model was trained with; distortion is the per-image summed squared error of the mean-latent
reconstruction. Both are measured on the test set and on a fixed subset of 10,000 training images
(``train_rate``, ``train_mse``). The runs come from
:func:`alphavae_core.experiments.catalogue.rate_distortion_configs`, trained by
``alphavae grid --experiment rate_distortion`` into ``results/<preset>/rate_distortion.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from alphavae_core.chapters.benchmarks import format_mean_std, mean_std
from alphavae_core.config import TrainConfig
from alphavae_core.experiments.catalogue import RATE_DISTORTION_REGULARISERS, rate_distortion_configs
from alphavae_core.experiments.grid import key_of, run_grid, table_paths
from alphavae_core.experiments.presets import SCALES, check_preset
from alphavae_core.experiments.results import KEY, read_table
from alphavae_core.paths import results_dir
from alphavae_core.plotting import colour, label

TABLE = "rate_distortion"
TEXT = {"kl": "KL(q‖p)", "dgjs": "JS*^Gα (α = ½)", "tdgjs": "t-JS*^Gα", "tgjs": "t-JS^Gα"}
METRICS = ("rate", "test_mse", "train_rate", "train_mse")


@dataclass(frozen=True)
class RateDistortionSettings:
    """The runs the chapter expects at one preset and where their rows live."""

    preset: str
    folder: Path
    configs: tuple[TrainConfig, ...]
    compute: bool  # only smoke trains inside the chapter

    def __repr__(self) -> str:
        return f"RateDistortionSettings(preset={self.preset!r}, expected runs={len(self.configs)})"


def chapter_settings(preset: str, folder: str | Path | None = None) -> RateDistortionSettings:
    """The rate-distortion runs of ``preset`` (``results/<preset>/`` unless ``folder`` is given)."""
    check_preset(preset)
    folder = Path(folder) if folder is not None else results_dir(preset)
    return RateDistortionSettings(preset, folder, tuple(rate_distortion_configs(preset)), preset == "smoke")


def grid_command(preset: str) -> str:
    return f"alphavae grid --experiment rate_distortion --preset {preset}"


def compute(settings: RateDistortionSettings) -> int:
    """Train the missing runs of the smoke preset (larger presets are computed outside the book)."""
    if not settings.compute:
        raise ValueError(
            f"preset {settings.preset!r} is computed outside the book: {grid_command(settings.preset)}"
        )
    return run_grid(list(settings.configs), settings.folder, device="auto", show_progress=False, table=TABLE)


def load_results(settings: RateDistortionSettings) -> pd.DataFrame:
    """The rows of the expected runs (rows of other settings or code versions are left out)."""
    found = read_table(table_paths(settings.folder, table=TABLE)[0])
    columns = ["regulariser", "weight", "seed", *METRICS, "alpha_final", KEY]
    if found.empty:
        return pd.DataFrame(columns=columns)
    found = found[found[KEY].isin({key_of(c) for c in settings.configs})]
    return found[columns].sort_values(["regulariser", "weight", "seed"]).reset_index(drop=True)


def missing_text(settings: RateDistortionSettings, rows: pd.DataFrame) -> str:
    """Which expected runs have no row yet, and the command that computes them."""
    have = set(rows[KEY])
    lost = [c for c in settings.configs if key_of(c) not in have]
    n = len(settings.configs)
    if not lost:
        return f"All {n} runs of preset {settings.preset!r} are in results/{settings.preset}/."
    regs = ", ".join(dict.fromkeys(c.regulariser for c in lost))
    return (
        f"{len(lost)} of {n} runs of preset {settings.preset!r} have no results yet ({regs}); the figure "
        f"and tables below use the rest.\nCompute them with: {grid_command(settings.preset)}"
    )


def curves(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds of rate and distortion (test and train) per (regulariser, lambda)."""
    out = []
    for (r, w), part in rows.groupby(["regulariser", "weight"], sort=True):
        entry = {"regulariser": r, "weight": w, "n": len(part)}
        for m in METRICS:
            entry[m], entry[f"{m}_std"], _ = mean_std(part[m].dropna())
        out.append(entry)
    return pd.DataFrame(out)


def curve_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The rate-distortion points as a table: rate (nats) and test MSE per lambda, one row per point."""
    c = curves(rows)
    if c.empty:
        return pd.DataFrame()
    table = pd.DataFrame(
        {
            "regulariser": [TEXT[r] for r in c["regulariser"]],
            "λ": c["weight"],
            "test rate (nats)": [format_mean_std(m, s, 1) for m, s in zip(c["rate"], c["rate_std"])],
            "test MSE": [format_mean_std(m, s, 1) for m, s in zip(c["test_mse"], c["test_mse_std"])],
            "train rate (nats)": [
                format_mean_std(m, s, 1) for m, s in zip(c["train_rate"], c["train_rate_std"])
            ],
            "train MSE": [format_mean_std(m, s, 1) for m, s in zip(c["train_mse"], c["train_mse_std"])],
            "seeds": c["n"],
        }
    )
    order = {r: i for i, r in enumerate(TEXT.values())}
    table = table.sort_values(
        ["regulariser", "λ"], key=lambda s: s.map(order) if s.name == "regulariser" else s
    )
    return table.set_index(["regulariser", "λ"])


def plot_rate_distortion(rows: pd.DataFrame, ax=None, annotate: str = "kl") -> plt.Figure:
    """Distortion against rate, solid for test and dashed for train, lambda annotated (the paper's Figure 7)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.6, 4.2))
    c = curves(rows)
    for r in RATE_DISTORTION_REGULARISERS:
        part = c[c["regulariser"] == r].sort_values("rate")
        if part.empty:
            continue
        ax.errorbar(part["rate"], part["test_mse"], xerr=part["rate_std"].fillna(0),
                    yerr=part["test_mse_std"].fillna(0), color=colour(r), marker="o", ms=4, capsize=2,
                    label=f"{label(r)}, test")  # fmt: skip
        ax.plot(part["train_rate"], part["train_mse"], color=colour(r), ls="--", marker=".", lw=1)
        if r == annotate:
            shared = set(SCALES["cpu"].weights)
            for _, p in part.iterrows():  # the extra reference points get their label above, not below
                below = p["weight"] in shared
                ax.annotate(f"λ={p['weight']:g}", (p["rate"], p["test_mse"]), textcoords="offset points",
                            xytext=(0, -14 if below else 7), ha="center", fontsize="x-small",
                            color=colour(r))  # fmt: skip
    ax.plot([], [], color="0.4", ls="--", label="train (dashed)")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 10, 100: not 10^1, 10^2
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))
    ax.set_xlabel("rate: KL(q‖p) per image (nats, log scale)")
    ax.set_ylabel("distortion: squared error\nper image")
    ax.legend(fontsize="small")
    return ax.figure


def _interpolate(rate: float, curve: pd.DataFrame) -> float:
    """The reference curve's test MSE at ``rate`` (linear in log rate); NaN outside its range."""
    curve = curve.sort_values("rate")
    log_r = np.log(curve["rate"].to_numpy(float))
    if not log_r[0] <= np.log(rate) <= log_r[-1]:
        return np.nan
    return float(np.interp(np.log(rate), log_r, curve["test_mse"].to_numpy(float)))


def matched_rate(rows: pd.DataFrame, model: str = "tdgjs", reference: str = "kl") -> pd.DataFrame:
    """At each of ``model``'s points: its test MSE minus ``reference``'s at the same test rate.

    Per seed, the reference curve of the same seed (all its lambdas) is interpolated at the model's
    rate; the difference is then averaged over seeds (mean ± std). Negative: the model reconstructs
    better than the reference spending the same number of nats. NaN where the model's rate lies
    outside the reference curve's range (no extrapolation)."""
    out = []
    for (w, seed), point in rows[rows["regulariser"] == model].groupby(["weight", "seed"]):
        ref = rows[(rows["regulariser"] == reference) & (rows["seed"] == seed)]
        p = point.iloc[0]
        at = _interpolate(p["rate"], ref) if len(ref) >= 2 else np.nan
        out.append({"weight": w, "seed": seed, "rate": p["rate"], "test_mse": p["test_mse"], "reference": at})
    per_seed = pd.DataFrame(out, columns=["weight", "seed", "rate", "test_mse", "reference"])
    per_seed["difference"] = per_seed["test_mse"] - per_seed["reference"]
    summary = []
    for w, part in per_seed.groupby("weight"):
        diff = part["difference"].dropna()
        m, s, n = mean_std(diff)
        summary.append(
            {
                "λ": w,
                "rate (nats)": round(part["rate"].mean(), 1),
                f"{TEXT[model]} test MSE": round(part["test_mse"].mean(), 2),
                f"{TEXT[reference]} at that rate": round(part["reference"].mean(), 2) if n else np.nan,
                "difference": format_mean_std(m, s, 2),
                "seeds": n,
                "mean": m,
                "std": s,
            }
        )
    columns = ["λ", "rate (nats)", f"{TEXT[model]} test MSE", f"{TEXT[reference]} at that rate", "difference"]
    return pd.DataFrame(summary, columns=[*columns, "seeds", "mean", "std"])


def matched_rate_verdict(table: pd.DataFrame, model: str = "tdgjs", reference: str = "kl") -> str:
    """One sentence per point inside the reference's range: better, worse, or within the seed spread."""
    inside = table[table["seeds"] > 0]
    if inside.empty:
        return f"No {TEXT[model]} point lies inside the rate range of the {TEXT[reference]} curve yet."
    lines = []
    for _, p in inside.iterrows():
        m, s = p["mean"], p["std"]
        where = f"λ = {p['λ']:g}, rate {p['rate (nats)']:.1f} nats: {TEXT[model]}'s distortion"
        if not np.isfinite(s):  # one seed: a difference, but no spread to judge it by
            lines.append(
                f"{where} differs from {TEXT[reference]}'s at the same rate by {m:+.2f} "
                f"(one seed: too few to call it lower or higher)."
            )
            continue
        word = "no different from" if abs(m) <= 2 * s else "lower than" if m < 0 else "higher than"
        lines.append(
            f"{where} is {word} {TEXT[reference]}'s at the same rate ({p['difference']} over {p['seeds']} seeds)."
        )
    return "\n".join(lines)


def equivalent_kl_weight(rows: pd.DataFrame, model: str = "tdgjs", weight: float = 1.0) -> float:
    """The KL weight whose (seed-mean) test rate equals ``model``'s at ``weight`` (log-log interpolation);
    NaN outside the KL curve's range. Learnt skew spends rate as a VAE with this smaller weight would."""
    c = curves(rows)
    point = c[(c["regulariser"] == model) & (c["weight"] == weight)]
    kl = c[c["regulariser"] == "kl"].sort_values("rate")
    if point.empty or len(kl) < 2:
        return np.nan
    log_r = np.log(kl["rate"].to_numpy(float))
    target = np.log(float(point["rate"].iloc[0]))
    if not log_r[0] <= target <= log_r[-1]:
        return np.nan
    return float(np.exp(np.interp(target, log_r, np.log(kl["weight"].to_numpy(float)))))


def gain_split(rows: pd.DataFrame, model: str = "tdgjs", weight: float = 1.0, reference: str = "kl") -> dict:
    """``model``'s test-MSE gain over ``reference`` at the same ``weight``, split in two, per seed.

    ``by_rate``: what the reference gains by spending the model's rate (its own curve, interpolated
    as in :func:`matched_rate`); ``beyond_rate``: the rest, the matched-rate difference with its sign
    flipped. Each entry is (mean, std, seeds); NaN where a seed lacks a point."""
    parts: dict[str, list[float]] = {
        "total": [],
        "by_rate": [],
        "beyond_rate": [],
        "rate": [],
        "reference_rate": [],
    }
    for seed, point in rows[(rows["regulariser"] == model) & (rows["weight"] == weight)].groupby("seed"):
        ref = rows[(rows["regulariser"] == reference) & (rows["seed"] == seed)]
        same = ref[ref["weight"] == weight]
        p = point.iloc[0]
        at = _interpolate(p["rate"], ref) if len(ref) >= 2 else np.nan
        if same.empty or not np.isfinite(at):
            continue
        here = float(same["test_mse"].iloc[0])
        parts["total"].append(here - p["test_mse"])
        parts["by_rate"].append(here - at)
        parts["beyond_rate"].append(at - p["test_mse"])
        parts["rate"].append(p["rate"])
        parts["reference_rate"].append(float(same["rate"].iloc[0]))
    return {k: mean_std(v) for k, v in parts.items()}


def gain_split_text(
    rows: pd.DataFrame, model: str = "tdgjs", weight: float = 1.0, reference: str = "kl"
) -> str:
    """One paragraph: how much of ``model``'s gain at ``weight`` a reference spending as much rate matches."""
    g = gain_split(rows, model, weight, reference)
    n = g["total"][2]
    if n == 0:
        return (f"No seed has both {TEXT[model]} at λ = {weight:g} and a {TEXT[reference]} curve around "
                f"its rate yet.")  # fmt: skip

    def fmt(key: str, digits: int = 2) -> str:
        return format_mean_std(g[key][0], g[key][1], digits)

    m, s, _ = g["beyond_rate"]
    if n < 2:
        judged = "one seed, so no spread to judge it by"
    elif abs(m) <= 2 * s:
        judged = "within two seed standard deviations of zero"
    else:
        judged = f"{'above' if m > 0 else 'below'} zero by more than two seed standard deviations"
    total = g["total"][0]
    return (
        f"At λ = {weight:g}, {TEXT[model]}'s test MSE is {'lower' if total >= 0 else 'higher'} than "
        f"{TEXT[reference]}'s by {format_mean_std(abs(total), g['total'][1], 2)} "
        f"({n} seed{'s' if n > 1 else ''}). It spends {fmt('rate', 1)} nats per image against "
        f"{fmt('reference_rate', 1)}. A {TEXT[reference]} model spending as many nats (its λ curve, "
        f"interpolated) would gain {fmt('by_rate')}; the remaining {fmt('beyond_rate')} is what the "
        f"skew adds at equal rate: {judged}."
    )
