"""The denoising chapter (the paper's Figure 5): test MSE against the clean image when the VAE is
trained and tested on noisy inputs, clamp(x + N(0, sigma^2), 0, 1), per regulariser and noise level.

The runs are listed by :func:`alphavae_core.experiments.catalogue.denoising_configs` and trained by
``alphavae grid --experiment denoising`` into ``results/<preset>/denoising.csv``. sigma = 0 is
chapter 4's Table 1 run where Table 1 has the regulariser (read from ``benchmarks.csv``); forward KL
is not in Table 1, so its sigma = 0 runs are part of the denoising grid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from alphavae_core import data
from alphavae_core.chapters.benchmarks import format_mean_std, mean_std, montage
from alphavae_core.config import TrainConfig
from alphavae_core.experiments.catalogue import DENOISING_REGULARISERS, benchmark_configs, denoising_configs
from alphavae_core.experiments.grid import decode_images, key_of, run_grid, table_paths
from alphavae_core.experiments.presets import check_preset
from alphavae_core.experiments.results import KEY, read_json, read_table
from alphavae_core.losses import TABLE1_REGULARISERS
from alphavae_core.paths import results_dir
from alphavae_core.plotting import colour, label

TABLE = "denoising"
TRAINABLE = ("tgjs", "tdgjs")
TEXT = {"kl": "KL(q‖p)", "fwdkl": "KL(p‖q)", "mmd": "MMD", "tgjs": "t-JS^Gα", "tdgjs": "t-JS*^Gα"}


@dataclass(frozen=True)
class DenoisingSettings:
    """The runs the chapter expects at one preset and where their rows live."""

    preset: str
    folder: Path
    configs: tuple[TrainConfig, ...]  # the denoising grid (noise > 0, and forward KL at 0)
    clean_configs: tuple[TrainConfig, ...]  # sigma = 0: chapter 4's Table 1 runs
    compute: bool  # only smoke trains inside the chapter

    def __repr__(self) -> str:
        return f"DenoisingSettings(preset={self.preset!r}, expected runs={len(self.expected)})"

    @property
    def expected(self) -> tuple[TrainConfig, ...]:
        return self.configs + self.clean_configs


def chapter_settings(preset: str, folder: str | Path | None = None) -> DenoisingSettings:
    """The denoising runs of ``preset`` (``results/<preset>/`` unless ``folder`` is given)."""
    check_preset(preset)
    table1 = tuple(r for r in DENOISING_REGULARISERS if r in TABLE1_REGULARISERS)
    clean = benchmark_configs(preset, datasets=("mnist",), regularisers=table1, figure1=False)
    return DenoisingSettings(
        preset=preset,
        folder=Path(folder) if folder is not None else results_dir(preset),
        configs=tuple(denoising_configs(preset)),
        clean_configs=tuple(clean),
        compute=preset == "smoke",
    )


def compute(settings: DenoisingSettings) -> int:
    """Train the missing runs of the smoke preset (larger presets are computed outside the book)."""
    if not settings.compute:
        raise ValueError(
            f"preset {settings.preset!r} is computed outside the book: {grid_command(settings.preset)}"
        )
    trained = run_grid(
        list(settings.configs), settings.folder, device="auto", show_progress=False, table=TABLE
    )
    return trained + run_grid(
        list(settings.clean_configs), settings.folder, device="auto", show_progress=False
    )


def grid_command(preset: str) -> str:
    return f"alphavae grid --experiment denoising --preset {preset}"


def load_results(settings: DenoisingSettings) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rows (and histories) of the expected runs: the denoising table plus chapter 4's sigma = 0 rows."""
    rows, histories = [], {}
    for table, configs in ((TABLE, settings.configs), ("benchmarks", settings.clean_configs)):
        csv_path, json_path = table_paths(settings.folder, table=table)
        found = read_table(csv_path)
        wanted = {key_of(c) for c in configs}
        if not found.empty:
            rows.append(found[found[KEY].isin(wanted)])
        stored = read_json(json_path, default={}) or {}
        histories.update({k: v for k, v in stored.items() if k in wanted})
    columns = ["regulariser", "noise", "seed", "test_mse", "rate", "alpha_final", KEY]
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)
    return frame[columns].sort_values(["noise", "regulariser", "seed"]).reset_index(drop=True), histories


def missing_text(settings: DenoisingSettings, rows: pd.DataFrame) -> str:
    """Which expected runs have no row yet, and the command that computes them."""
    have = set(rows[KEY])
    lost = [c for c in settings.expected if key_of(c) not in have]
    if not lost:
        return f"All {len(settings.expected)} runs of preset {settings.preset!r} are in results/{settings.preset}/."
    seeds = sorted({c.seed for c in lost})
    return (
        f"{len(lost)} of {len(settings.expected)} runs of preset {settings.preset!r} have no results yet "
        f"(seeds {', '.join(map(str, seeds))}); the figure and tables below use the rest.\n"
        f"Compute them with: {grid_command(settings.preset)}"
    )


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean, std (over seeds) and seed count of test MSE per (noise, regulariser)."""
    out = [
        (sigma, r, *mean_std(part["test_mse"]))
        for (sigma, r), part in rows.groupby(["noise", "regulariser"], sort=True)
    ]
    return pd.DataFrame(out, columns=["noise", "regulariser", "mean", "std", "n"])


def noise_table(rows: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """Test MSE (mean ± std over seeds) with sigma down the side and one column per regulariser."""
    s = summary(rows)
    s["cell"] = [format_mean_std(m, sd, digits) for m, sd in zip(s["mean"], s["std"])]
    table = s.pivot(index="noise", columns="regulariser", values="cell")
    table = table[[r for r in DENOISING_REGULARISERS if r in table.columns]].fillna("missing")
    table.columns = [TEXT[r] for r in table.columns]
    table.index.name = "σ"
    return table


def ranking(rows: pd.DataFrame) -> pd.DataFrame:
    """Per noise level: the lowest test MSE, the runner-up and the gap, in seed standard deviations."""
    s = summary(rows)
    out = []
    for sigma, part in s.groupby("noise"):
        part = part.sort_values("mean")
        best, second = part.iloc[0], part.iloc[1] if len(part) > 1 else None
        gap = np.nan if second is None else second["mean"] - best["mean"]
        stds = [v for v in (best["std"], np.nan if second is None else second["std"]) if np.isfinite(v)]
        spread = max(stds) if stds else np.nan
        out.append(
            {
                "σ": sigma,
                "lowest": TEXT[best["regulariser"]],
                "its test MSE": round(best["mean"], 1),
                "runner-up": "-" if second is None else TEXT[second["regulariser"]],
                "gap": round(gap, 1),
                "gap / seed std": "-" if not np.isfinite(spread) or spread == 0 else round(gap / spread, 1),
                "rank of KL(q‖p)": _rank(part, "kl"),
                "rank of MMD": _rank(part, "mmd"),
                "regularisers": len(part),
            }
        )
    return pd.DataFrame(out).set_index("σ")


def _rank(part: pd.DataFrame, regulariser: str) -> int | str:
    names = list(part["regulariser"])
    return names.index(regulariser) + 1 if regulariser in names else "-"


def verdict(rows: pd.DataFrame) -> str:
    """Does trainable skew give the lowest test MSE at every noise level (the paper's claim)?"""
    table = ranking(rows)
    if table.empty:
        return "No denoising results yet."
    complete = table[(table.index > 0) & (table["regularisers"] == len(DENOISING_REGULARISERS))]
    partial = int(((table.index > 0) & (table["regularisers"] < len(DENOISING_REGULARISERS))).sum())
    tail = f" ({partial} noise levels still lack a regulariser and are not counted.)" if partial else ""
    if complete.empty:
        return "No noise level has all five regularisers yet, so the claim cannot be judged." + tail
    wins = complete["lowest"].isin([TEXT[r] for r in TRAINABLE])
    lost = ", ".join(f"σ = {s:g} ({w})" for s, w in complete.loc[~wins, "lowest"].items())
    head = f"Trainable skew gives the lowest test MSE at {int(wins.sum())} of {len(complete)} noise levels above 0"
    seeds = summary(rows).query("noise in @complete.index")["n"].min()
    caveat = f" These levels have {seeds} seed(s) per regulariser so far." if seeds < 3 else ""
    return head + ("." if wins.all() else f"; at the others the lowest is: {lost}.") + caveat + tail


def plot_noise_curves(rows: pd.DataFrame, ax=None) -> plt.Figure:
    """Test MSE against sigma, one line per regulariser, error bars one seed std (the paper's Figure 5)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.8))
    s = summary(rows)
    for r in DENOISING_REGULARISERS:
        part = s[s["regulariser"] == r]
        if part.empty:
            continue
        dashed = "--" if r in ("kl", "fwdkl") else "-"
        ax.errorbar(part["noise"], part["mean"], yerr=part["std"].fillna(0), color=colour(r), ls=dashed,
                    marker="o", ms=4, capsize=3, label=label(r))  # fmt: skip
    ax.set_xlabel("input noise σ")
    ax.set_ylabel("test MSE vs clean image\n(squared error per image)")
    ax.legend(fontsize="small", ncols=2)
    return ax.figure


def noisy_inputs(settings: DenoisingSettings, sigma: float, n: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` clean test images and the noisy versions every model was scored on (fixed noise)."""
    config = next(c for c in settings.configs if c.noise == sigma)
    full = data.load_images("mnist", "test", subset=config.test_subset)
    noise = data.fixed_test_noise(tuple(full.shape), sigma, seed=0)[:n]  # the trainer's draw, then cut
    clean = data.to_float(full[:n])
    return clean, (clean + noise).clamp(0.0, 1.0)


def plot_examples(
    settings: DenoisingSettings,
    rows: pd.DataFrame,
    histories: Mapping[str, Any],
    sigmas: Sequence[float],
    regularisers: Sequence[str] = ("kl", "tdgjs"),
    seed: int = 0,
) -> plt.Figure:
    """Noisy input, reconstructions and the clean image for a few test digits at each ``sigma``."""
    fig, axes = plt.subplots(1, len(sigmas), figsize=(4.2 * len(sigmas), 3.2), squeeze=False)
    for ax, sigma in zip(axes[0], sigmas):
        clean, noisy = noisy_inputs(settings, sigma)
        strips, names = [noisy], ["noisy input"]
        for r in regularisers:
            run = rows[(rows["noise"] == sigma) & (rows["regulariser"] == r) & (rows["seed"] == seed)]
            hist = histories.get(run[KEY].iloc[0]) if len(run) else None
            if hist and "reconstructions" in hist:
                strips.append(decode_images(hist["reconstructions"])[: len(clean)])
                names.append(TEXT[r])
        strips.append(clean)
        names.append("clean image")
        ax.imshow(montage(strips), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        h = clean.shape[-2]
        ax.set_yticks([h * (i + 0.5) for i in range(len(names))], names, fontsize="small")
        ax.set_xticks([])
        ax.grid(False)
        ax.set_title(f"σ = {sigma:g}", fontsize="medium")
    return fig


def sanity_text(rows: pd.DataFrame) -> str:
    """The paper's two sanity checks, read off the ranking: reverse KL worse, MMD better, at high noise."""
    table = ranking(rows)
    complete = table[table["regularisers"] == len(DENOISING_REGULARISERS)]
    if len(complete) < 2:
        return "Too few complete noise levels yet to see a trend."
    low, high = complete.index.min(), complete.index.max()
    parts = []
    for name, column in (("KL(q‖p), the VAE's reverse KL,", "rank of KL(q‖p)"), ("MMD", "rank of MMD")):
        a, b = complete.loc[low, column], complete.loc[high, column]
        move = "falls" if b > a else "rises" if b < a else "keeps its place"
        parts.append(f"{name} ranks {a} of 5 at σ = {low:g} and {b} of 5 at σ = {high:g} (it {move})")
    return "; ".join(parts) + "."
