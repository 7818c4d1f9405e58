"""The denoising chapter's figures: test MSE against the noise level, and noisy inputs beside their reconstructions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import torch

from alphavae_core import data
from alphavae_core.chapters.benchmarks import montage
from alphavae_core.chapters.denoising.settings import DenoisingSettings, summary
from alphavae_core.experiments.catalogue import DENOISING_REGULARISERS
from alphavae_core.experiments.grid import decode_images
from alphavae_core.experiments.results import KEY
from alphavae_core.plotting import colour, label


def plot_noise_curves(rows: pd.DataFrame, baseline: float | None = None, ax=None) -> plt.Figure:
    """Test MSE against sigma, one line per regulariser (the paper's Figure 5). Error bars are one
    seed std, drawn only where there are two or more seeds; the legend gives the seed count, and
    ``baseline`` (see :func:`mean_image_mse`) is drawn as a grey dashed line."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.8))
    s = summary(rows)
    for r in DENOISING_REGULARISERS:
        part = s[s["regulariser"] == r]
        if part.empty:
            continue
        lo, hi = int(part["n"].min()), int(part["n"].max())
        seeds = f"n = {lo}" if lo == hi else f"n = {lo}–{hi}"
        dashed = "--" if r in ("kl", "fwdkl") else "-"
        ax.plot(
            part["noise"],
            part["mean"],
            color=colour(r),
            ls=dashed,
            marker="o",
            ms=4,
            label=f"{label(r)}, {seeds}",
        )
        spread = part[part["n"] > 1]  # one seed has no spread: a zero-width bar would claim one
        if not spread.empty:
            ax.errorbar(
                spread["noise"], spread["mean"], yerr=spread["std"], color=colour(r), ls="none", capsize=3
            )
    if baseline is not None:
        ax.axhline(baseline, color="0.55", ls="--", lw=1, label="mean training image (rate 0)")
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
    sigmas: Sequence[float] | None = None,
    regularisers: Sequence[str] = ("kl", "tdgjs"),
    seed: int = 0,
) -> plt.Figure:
    """Noisy input, reconstructions and the clean image for a few test digits at each ``sigma``
    (by default the lowest and the highest noise level above 0 in ``settings``)."""
    if sigmas is None:
        levels = sorted({c.noise for c in settings.configs if c.noise > 0})
        sigmas = (levels[0], levels[-1])
    # one noise level per row, the column's full width: digits large enough to see the noise
    fig, axes = plt.subplots(len(sigmas), 1, figsize=(6.8, 3.0 * len(sigmas)), squeeze=False)
    for ax, sigma in zip(axes[:, 0], sigmas):
        clean, noisy = noisy_inputs(settings, sigma)
        strips, names = [noisy], ["noisy input"]
        for r in regularisers:
            run = rows[(rows["noise"] == sigma) & (rows["regulariser"] == r) & (rows["seed"] == seed)]
            hist = histories.get(run[KEY].iloc[0]) if len(run) else None
            if hist and "reconstructions" in hist:
                strips.append(decode_images(hist["reconstructions"])[: len(clean)])
                names.append(label(r))
        strips.append(clean)
        names.append("clean image")
        ax.imshow(montage(strips), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        h = clean.shape[-2]
        ax.set_yticks([h * (i + 0.5) for i in range(len(names))], names)
        ax.set_xticks([])
        ax.grid(False)
        ax.set_title(f"σ = {sigma:g}", fontsize="medium")
    return fig
