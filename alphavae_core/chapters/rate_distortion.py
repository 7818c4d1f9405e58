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

from alphavae_core.chapters.benchmarks import DATASET_LABELS, format_mean_std, mean_std
from alphavae_core.chapters.seeds import Paired, paired
from alphavae_core.config import TrainConfig
from alphavae_core.experiments.catalogue import RATE_DISTORTION_REGULARISERS, rate_distortion_configs
from alphavae_core.experiments.grid import key_of, run_grid, table_paths
from alphavae_core.experiments.presets import check_preset
from alphavae_core.experiments.results import KEY, read_table
from alphavae_core.paths import results_dir
from alphavae_core.plotting import colour, label

TABLE = "rate_distortion"
TEXT = {"kl": "KL(q‖p)", "dgjs": "JS*^Gα (α = ½)", "tdgjs": "t-JS*^Gα", "tgjs": "t-JS^Gα"}
METRICS = ("rate", "test_mse", "train_rate", "train_mse")
# MNIST is the paper's Figure 7; Fashion-MNIST repeats the question on a second dataset
DATASETS = ("mnist", "fashion")


@dataclass(frozen=True)
class RateDistortionSettings:
    """The runs the chapter expects at one preset and where their rows live."""

    preset: str
    folder: Path
    configs: tuple[TrainConfig, ...]
    compute: bool  # only smoke trains inside the chapter
    dataset: str = "mnist"

    def __repr__(self) -> str:
        return (f"RateDistortionSettings(preset={self.preset!r}, dataset={self.dataset!r}, "
                f"expected runs={len(self.configs)})")  # fmt: skip


def chapter_settings(
    preset: str, folder: str | Path | None = None, dataset: str = "mnist"
) -> RateDistortionSettings:
    """The rate-distortion runs of ``preset`` on ``dataset`` (``results/<preset>/`` unless ``folder``
    is given)."""
    check_preset(preset)
    if dataset not in DATASETS:
        raise ValueError(f"no rate-distortion grid for dataset {dataset!r}: use one of {', '.join(DATASETS)}")
    folder = Path(folder) if folder is not None else results_dir(preset)
    configs = tuple(rate_distortion_configs(preset, datasets=(dataset,)))
    return RateDistortionSettings(preset, folder, configs, preset == "smoke", dataset)


def grid_command(preset: str, dataset: str = "mnist") -> str:
    command = f"alphavae grid --experiment rate_distortion --preset {preset}"
    return command if dataset == "mnist" else f"{command} --datasets {dataset}"


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
    name = DATASET_LABELS[settings.dataset]
    if not lost:
        return f"All {n} {name} runs of preset {settings.preset!r} are in results/{settings.preset}/."
    regs = ", ".join(dict.fromkeys(c.regulariser for c in lost))
    return (
        f"{len(lost)} of {n} {name} runs of preset {settings.preset!r} have no results yet ({regs}); the "
        f"figure and tables below use the rest.\nCompute them with: "
        f"{grid_command(settings.preset, settings.dataset)}"
    )


def curves(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds of rate and distortion (test and train) per (regulariser, lambda)."""
    out = []
    for (r, w), part in rows.groupby(["regulariser", "weight"], sort=True):
        entry = {"regulariser": r, "weight": w, "n": len(part)}
        for m in METRICS:
            entry[m], entry[f"{m}_std"], _ = mean_std(part[m].dropna())
        out.append(entry)
    columns = ["regulariser", "weight", "n", *(f"{m}{s}" for m in METRICS for s in ("", "_std"))]
    return pd.DataFrame(out, columns=columns)  # the columns even with no rows: empty curves plot as nothing


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
    """Distortion against rate, solid for test and dashed for train, lambda annotated (the paper's Figure 7).

    Error bars are the standard deviation over seeds, drawn only where there are two or more."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.6, 4.2))
    c = curves(rows)
    shared = set(c.loc[c["regulariser"] != annotate, "weight"])  # the annotated curve's extra points
    for r in RATE_DISTORTION_REGULARISERS:
        part = c[c["regulariser"] == r].sort_values("rate")
        if part.empty:
            continue
        ax.errorbar(part["rate"], part["test_mse"], xerr=part["rate_std"], yerr=part["test_mse_std"],
                    color=colour(r), marker="o", ms=4, capsize=2, label=f"{label(r)}, test")  # fmt: skip
        ax.plot(part["train_rate"], part["train_mse"], color=colour(r), ls="--", marker=".", lw=1)
        if r == annotate:
            for _, p in part.iterrows():  # the reference-only points get their label above, not below
                below = p["weight"] in shared or not shared
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


def per_seed(rows: pd.DataFrame, model: str = "tdgjs", reference: str = "kl") -> pd.DataFrame:
    """One row per (lambda, seed) of ``model``: its rate and test MSE, the reference's best at that rate
    (same seed, :func:`best_at_rate`) and the reference's own point at the same lambda."""
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
                "same_rate": float(same["rate"].iloc[0]) if len(same) else np.nan,
                "same_mse": float(same["test_mse"].iloc[0]) if len(same) else np.nan,
            }
        )
    columns = ["weight", "seed", "rate", "test_mse", "reference", "same_rate", "same_mse"]
    return pd.DataFrame(out, columns=columns)


def _matched(rows: pd.DataFrame, model: str, reference: str) -> list[tuple[float, pd.DataFrame, int, Paired]]:
    """Per lambda of ``model``: the seeds where the reference reaches its rate, how many were left out,
    and the paired difference (model minus the reference's best at that rate)."""
    out = []
    for w, part in per_seed(rows, model, reference).groupby("weight"):
        inside = part.dropna(subset=["reference"])
        out.append((w, inside, len(part) - len(inside), paired(inside["test_mse"] - inside["reference"])))
    return out


def matched_rate(rows: pd.DataFrame, model: str = "tdgjs", reference: str = "kl") -> pd.DataFrame:
    """Per lambda of ``model``: its test MSE minus the reference's best at the same rate, paired by seed.

    Only seeds where the reference reaches that rate count, for every column of the row; ``left out``
    counts the others. Negative: the model reconstructs better than any reference point spending no
    more nats. The difference carries its 95% t-interval over seeds (:mod:`.seeds`)."""
    out = [
        {
            "λ": w,
            "rate (nats)": round(inside["rate"].mean(), 1),
            f"{TEXT[model]} test MSE": round(inside["test_mse"].mean(), 2),
            f"best {TEXT[reference]} at ≤ that rate": round(inside["reference"].mean(), 2),
            "difference": diff.text(),
            "verdict": diff.word(),
            "seeds": diff.n,
            "left out": left_out,
        }
        for w, inside, left_out, diff in _matched(rows, model, reference)
    ]
    return pd.DataFrame(out).set_index("λ") if out else pd.DataFrame()


def matched_rate_text(rows: pd.DataFrame, model: str = "tdgjs", reference: str = "kl") -> str:
    """One Markdown paragraph per lambda where the reference reaches the model's rate."""
    table = matched_rate(rows, model, reference)
    inside = table[table["seeds"] > 0] if len(table) else table
    if inside.empty:
        return f"No {TEXT[model]} point lies inside the rate range of the {TEXT[reference]} curve yet."
    lines = []
    for w, p in inside.iterrows():
        where = f"λ = {w:g}, rate {p['rate (nats)']:.1f} nats: {TEXT[model]}'s distortion"
        best = f"the best that {TEXT[reference]} reaches with no more nats"
        if p["verdict"] in ("lower", "higher"):
            lines.append(f"{where} is {p['verdict']} than {best}, by {p['difference']}.")
        elif p["seeds"] == 1:
            one = p["difference"].replace("(one seed)", "(one seed, so no verdict)")
            lines.append(f"{where} differs from {best} by {one}.")
        else:
            lines.append(f"{where} differs from {best} by {p['difference']}: {p['verdict']}.")
    return "\n\n".join(lines)


def equivalent_kl_weight(rows: pd.DataFrame, model: str = "tdgjs", weight: float = 1.0) -> float:
    """The KL weight whose (seed-mean) test rate equals ``model``'s at ``weight`` (log-log interpolation);
    NaN outside the KL curve's range. Learnt skew spends rate as a VAE with this smaller weight would."""
    c = curves(rows)
    point = c[(c["regulariser"] == model) & (c["weight"] == weight)]
    kl = c[c["regulariser"] == "kl"].sort_values("rate").assign(log_weight=lambda f: np.log(f["weight"]))
    if point.empty or len(kl) < 2:
        return np.nan
    return float(np.exp(_interp_log_rate(float(point["rate"].iloc[0]), kl, "log_weight")))


def equivalent_weight_text(rows: pd.DataFrame, model: str = "tdgjs", weight: float = 1.0) -> str:
    """One sentence: the KL weight at which the VAE spends as many nats as ``model`` at ``weight``."""
    w = equivalent_kl_weight(rows, model, weight)
    if not np.isfinite(w):
        return f"Not enough points on the {TEXT[model]} and KL(q‖p) curves yet."
    return f"At λ = {weight:g}, {TEXT[model]} spends as much rate as a VAE with λ ≈ {w:.2f}."


def gain_split(rows: pd.DataFrame, model: str = "tdgjs", weight: float = 1.0, reference: str = "kl") -> dict:
    """``model``'s test-MSE gain over ``reference`` at the same ``weight``, split in two, per seed.

    ``by_rate``: what the reference gains by spending the model's rate (its best at that rate, as in
    :func:`matched_rate`); ``beyond_rate``: the rest, the matched-rate difference with its sign
    flipped. Means are (mean, std, seeds) over the seeds that have all three points; ``paired`` is
    the :class:`.seeds.Paired` of ``beyond_rate``."""
    t = per_seed(rows, model, reference)
    t = t[t["weight"] == weight].dropna(subset=["reference", "same_mse"])
    parts = {
        "total": t["same_mse"] - t["test_mse"],
        "by_rate": t["same_mse"] - t["reference"],
        "beyond_rate": t["reference"] - t["test_mse"],
        "rate": t["rate"],
        "reference_rate": t["same_rate"],
    }
    out: dict = {k: mean_std(v) for k, v in parts.items()}
    out["paired"] = paired(parts["beyond_rate"])
    return out


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

    beyond = g["paired"]
    judged = {
        "higher": "more than zero: at equal rate the skew reconstructs better",
        "lower": "less than zero: at equal rate the skew reconstructs worse",
        "not judged (one seed)": "no verdict",
    }
    total = g["total"][0]
    return (
        f"At λ = {weight:g}, {TEXT[model]}'s test MSE is {'lower' if total >= 0 else 'higher'} than "
        f"{TEXT[reference]}'s by {format_mean_std(abs(total), g['total'][1], 2)} "
        f"({f'{n} seeds, mean ± std' if n > 1 else 'one seed'}). It spends {fmt('rate', 1)} nats per image "
        f"against {fmt('reference_rate', 1)}. The best {TEXT[reference]} model spending no more nats "
        f"than {TEXT[model]} is lower than the λ = {weight:g} one by {fmt('by_rate')}. The difference "
        f"of the two gains, {beyond.text()}, is what the skew adds at equal rate "
        f"({judged.get(beyond.word(), beyond.word())})."
    )


def answer_text(rows: pd.DataFrame, model: str = "tdgjs", reference: str = "kl") -> str:
    """The chapter's answer in a few sentences: at the lambdas with two or more seeds, is ``model``'s
    distortion lower than the best ``reference`` reaches at the same rate, and how large a gain the
    95% intervals still allow."""
    judged = {w: diff for w, _, _, diff in _matched(rows, model, reference) if diff.n >= 2}
    if not judged:
        return f"No λ has two seeds of {TEXT[model]} inside the {TEXT[reference]} curve yet: no answer."
    lower = [w for w, d in judged.items() if d.word() == "lower"]
    higher = [w for w, d in judged.items() if d.word() == "higher"]
    lams = ", ".join(f"{w:g}" for w in judged)
    if lower:
        head = (
            f"At λ = {', '.join(f'{w:g}' for w in lower)}, {TEXT[model]} reconstructs better than the best "
            f"{TEXT[reference]} model spending no more nats: there it buys more than a smaller λ would."
        )
    else:
        head = (
            f"At no λ with two or more seeds (λ = {lams}) is {TEXT[model]}'s distortion lower than the best "
            f"{TEXT[reference]} model reaches at the same rate: at this scale we find no sign that it "
            f"does better than a VAE with a smaller λ."
        )
    if higher:
        head += f" At λ = {', '.join(f'{w:g}' for w in higher)} its distortion is higher."
    spread = rows.groupby(["regulariser", "weight"])["test_mse"].std().median()
    open_ = [w for w, d in judged.items() if not d.resolved]
    # the largest gain (reference minus model) each unresolved interval still allows
    allowed = ", ".join(f"{max(judged[w].half_width - judged[w].mean, 0):.2f} (λ = {w:g})" for w in open_)
    tail = (
        f" Where no verdict is reached, the 95% intervals still allow a gain at equal rate of at most "
        f"{allowed} per image (test MSE)"
        if open_
        else ""
    )
    tail += (
        f"{';' if open_ else ' For comparison,'} one model's test MSE typically varies by {spread:.2f} "
        f"(standard deviation) from seed to seed."
    )
    return head + tail
