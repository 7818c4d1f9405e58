"""Chapter 7's figures: training and test error over the epochs, the rate-distortion picture at one
length, and samples from the kept weights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from matplotlib.ticker import NullFormatter

from alphavae_core.chapters import rate_distortion as rd
from alphavae_core.chapters.benchmarks import (
    montage,
    table1_rows,
)
from alphavae_core.chapters.training_length.runs import LengthSettings, at_epoch
from alphavae_core.experiments.catalogue import keeps_weights
from alphavae_core.experiments.grid import key_of, load_weights
from alphavae_core.experiments.results import KEY
from alphavae_core.model import VAE, build_vae
from alphavae_core.plotting import colour, label, new_figure

_RATE_TICKS = (5, 6, 8, 10, 12, 14, 16, 18, 20, 22, 25, 30, 40, 50, 60, 80, 100, 150, 200, 300)


# ----------------------------------------------------------------------------- figures
def plot_train_test(
    recs: pd.DataFrame, regularisers: Sequence[str] = ("kl", "tgjs", "tdgjs"), dataset: str = "mnist"
):
    """Test (solid) and train (dashed) MSE against the epoch, mean over seeds (the legend says how many)."""
    fig, ax = new_figure(width=6.8, height=3.6)
    t1 = table1_rows(recs[recs["dataset"] == dataset])
    for r in regularisers:
        runs = t1[t1["regulariser"] == r]
        part = runs.groupby("epoch")[["test_mse", "train_mse"]].mean()
        if part.empty:
            continue
        n = runs["seed"].nunique()
        seeds = f"{n} seed{'s' if n > 1 else ''}"
        ax.plot(
            part.index, part["test_mse"], "-o", ms=3, color=colour(r), label=f"{label(r)}, test ({seeds})"
        )
        ax.plot(part.index, part["train_mse"], "--", color=colour(r), lw=1)
    if not ax.lines:
        ax.text(0.5, 0.5, "no runs yet", ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.plot([], [], "--", color="0.4", label="train (dashed)")
    ax.set_xscale("log")
    ax.set(xlabel="epoch (log scale)", ylabel="squared error per image")
    ax.legend(fontsize="small")
    return fig


def plot_rate_distortion_at(recs: pd.DataFrame, epoch: int, dataset: str = "mnist"):
    """Chapter 6's rate-distortion figure drawn from the runs as they stood after ``epoch``: the VAE's
    curve over its weights, and each learnt skew's point at lambda = 1."""
    fig = rd.plot_rate_distortion(at_epoch(recs[recs["dataset"] == dataset], epoch))
    for ax in fig.axes:  # a narrow range of rates: label round rates inside it, not only powers of ten
        lo, hi = ax.get_xlim()
        ticks = [t for t in _RATE_TICKS if lo <= t <= hi]
        ax.set_xticks(ticks[:: 1 + len(ticks) // 7], [f"{t:g}" for t in ticks[:: 1 + len(ticks) // 7]])
        ax.xaxis.set_minor_formatter(NullFormatter())
    return fig


def load_model(settings: LengthSettings, rows: pd.DataFrame, regulariser: str) -> VAE | None:
    """Seed 0's trained network of one of Table 1's MNIST models, from its kept float16 weights."""
    for c in settings.configs:
        if c.regulariser == regulariser and keeps_weights(c):
            path = settings.folder / "weights" / f"{key_of(c)}.safetensors"
            if key_of(c) in set(rows[KEY]) and path.exists():
                params, config = load_weights(path)
                model = build_vae(config.image_shape, config.latent_dim, seed=0)
                model.load_state_dict(params)
                return model.eval()
    return None


@torch.no_grad()
def samples(model: VAE, originals: torch.Tensor, n: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    """Reconstructions (decoded posterior means), decoded prior samples, and an interpolation between
    the posterior means of the first two originals: each (n, C, H, W) in [0, 1]."""
    mu, _ = model.encoder(originals)
    z = torch.randn(n, mu.shape[1], generator=torch.Generator().manual_seed(seed))
    t = torch.linspace(0, 1, n).view(-1, 1)
    path = (1 - t) * mu[0] + t * mu[1]
    decode = lambda codes: torch.sigmoid(model.decoder(codes))  # noqa: E731
    return {"reconstructions": decode(mu[:n]), "prior samples": decode(z), "interpolation": decode(path)}


def plot_samples(models: Mapping[str, VAE | None], originals: torch.Tensor):
    """Side by side for each regulariser (key of ``models``): its reconstructions of ``originals``,
    decoded prior samples and an interpolation."""
    shown = {key: m for key, m in models.items() if m is not None}
    fig, axes = new_figure(ncols=max(len(shown), 1), width=1.2 + 3.8 * max(len(shown), 1), height=2.6)
    axes = np.atleast_1d(axes)
    if not shown:
        axes[0].text(0.5, 0.5, "no kept weights yet", ha="center", va="center", color="0.4")
        axes[0].axis("off")
        return fig
    for i, (ax, (key, model)) in enumerate(zip(axes, shown.items())):
        rows = samples(model, originals, len(originals))
        ax.imshow(montage([originals, *rows.values()]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        h = originals.shape[-2]
        names = ["originals", *rows] if i == 0 else []
        ax.set_yticks([h * (j + 0.5) for j in range(len(names))], names, fontsize="small")
        ax.set_xticks([])
        ax.grid(False)
        ax.set_title(label(key), fontsize="medium")
    return fig
