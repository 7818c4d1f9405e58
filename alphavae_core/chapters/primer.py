"""The primer chapter (00): its settings, the trainer's batches for the plain loop, the check against
:class:`~alphavae_core.trainer.Trainer`, and the chapter's figures and tables.

The α-VAE itself (the loss of equation 14 and its two optimisers) is written out in the chapter,
in plain PyTorch; this module only holds what would clutter it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from alphavae_core import data
from alphavae_core.config import TrainConfig
from alphavae_core.divergences import gjs_normal, kl_normal
from alphavae_core.losses import get_regulariser
from alphavae_core.paths import results_dir
from alphavae_core.plotting import colour, new_figure
from alphavae_core.trainer import Trainer

REGULARISER = "tdgjs"  # the dual α-VAE, t-JS_*^Gα: learnt skew (eqs 7-10 in eq. 14)


@dataclass(frozen=True)
class PrimerSettings:
    """How long and on what the chapter trains its α-VAE (MNIST, Table 2 network)."""

    subset: int | None  # the first N MNIST training images (None: all 60,000)
    epochs: int
    test_images: int  # MNIST test images the trained encoder is examined on
    batch_size: int = 64  # the paper's, for MNIST (Appendix C)
    lr: float = 1e-4  # the network's Adam: the paper's learning rate
    alpha_lr: float = 1e-3  # the skew's Adam: ten times the paper's, so α moves within a few hundred steps
    alpha0: float = 0.5  # initial skew
    weight: float = 1.0  # lambda in equation 14
    seed: int = 0  # network initialisation, data order and reparameterisation noise
    latent_dim: int = 10  # Table 2, MNIST
    results_preset: str = "cpu"  # the committed benchmark results the chapter quotes

    @property
    def n_images(self) -> int:
        return 60_000 if self.subset is None else min(self.subset, 60_000)

    @property
    def steps(self) -> int:
        """Optimiser steps: every epoch is ceil(images / batch size) batches, the last one partial."""
        return self.epochs * math.ceil(self.n_images / self.batch_size)

    def train_config(self) -> TrainConfig:
        """The same run, as the library's trainer takes it (alpha recorded after every step)."""
        return TrainConfig(
            dataset="mnist", regulariser=REGULARISER, alpha0=self.alpha0, weight=self.weight,
            epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, alpha_lr=self.alpha_lr,
            seed=self.seed, subset=self.subset, test_subset=self.test_images,
            latent_dim=self.latent_dim, landscape_points=0, alpha_every=1,
        )  # fmt: skip


SETTINGS: dict[str, PrimerSettings] = {
    "smoke": PrimerSettings(subset=320, epochs=4, test_images=200),  # 20 steps
    "cpu": PrimerSettings(subset=9600, epochs=2, test_images=1000),  # 300 steps
    "paper": PrimerSettings(subset=None, epochs=1, test_images=10_000),  # 938 steps, all of MNIST
}


def chapter_settings(preset: str) -> PrimerSettings:
    """The chapter's settings for ``preset``; ``ValueError`` listing the presets otherwise."""
    if preset not in SETTINGS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(SETTINGS)}")
    return SETTINGS[preset]


def describe(settings: PrimerSettings) -> str:
    """One line saying what the chapter trains."""
    return (
        f"{settings.steps} steps: {settings.epochs} epoch(s) over {settings.n_images:,} MNIST images, "
        f"batches of {settings.batch_size}; network lr {settings.lr:g}, skew lr {settings.alpha_lr:g}, "
        f"initial skew {settings.alpha0}, seed {settings.seed}"
    )


# ----------------------------------------------------------------------------- the trainer's batches
def _generator(seed: int, stream: int) -> torch.Generator:
    # the trainer's streams: 1 shuffles the data, 2 draws the noise (trainer._seeded)
    return torch.Generator().manual_seed(seed * 1_000_003 + stream)


def batches(images: Tensor, settings: PrimerSettings) -> Iterator[tuple[Tensor, Tensor]]:
    """Every step's images x (B, 1, 32, 32) in [0, 1] and reparameterisation noise eps (B, d).

    The same batches as :meth:`Trainer.train_epoch`: each epoch a fresh ``randperm`` from one
    seeded generator, cut into consecutive batches; and from a second generator, every step, the
    noise of equation 14's one-sample estimate followed by (B, 2d) prior draws, which only the MMD
    regulariser uses but which the trainer draws for every run.
    """
    shuffle, noise = _generator(settings.seed, 1), _generator(settings.seed, 2)
    n, size, d = images.shape[0], settings.batch_size, settings.latent_dim
    for _ in range(settings.epochs):
        order = torch.randperm(n, generator=shuffle)
        for start in range(0, n, size):
            idx = order[start : start + size]
            eps = torch.randn(len(idx), d, generator=noise)
            torch.randn(len(idx), 2 * d, generator=noise)  # the prior draws, unused here
            yield data.to_float(images[idx]), eps


# ----------------------------------------------------------------------------- the trainer's run
@dataclass
class Run:
    """One training run, step by step: the chapter's loop or the library's trainer."""

    alpha: list[float]  # after every step
    loss: list[float]  # every step's loss (eq. 14), before that step's update
    params: dict[str, Tensor]  # the network after the last step, by parameter name
    epoch_loss: list[float] | None = None  # the trainer's own record: mean loss per epoch
    seconds: float | None = None


class _RecordingTrainer(Trainer):
    """The library's trainer, unchanged, that also keeps every step's loss (it records epoch means)."""

    step_losses: list[float]

    def _batch_loss(self, x: Tensor, target: Tensor, eps: Tensor, prior: Tensor) -> tuple[Tensor, Tensor]:
        loss, div = super()._batch_loss(x, target, eps, prior)
        self.step_losses.append(loss[0].item())
        return loss, div


def train_with_trainer(settings: PrimerSettings, fast_layers: bool = False) -> Run:
    """Train the chapter's run with :class:`Trainer` on the CPU.

    ``fast_layers=False`` turns off the trainer's faster (algebraically equal) last transposed
    convolution, so that it rounds exactly as ``VAE.decoder`` does.
    """
    trainer = _RecordingTrainer([settings.train_config()], device="cpu")
    trainer.step_losses = []
    trainer.fast_layers = fast_layers
    start = time.perf_counter()
    for _ in range(settings.epochs):
        trainer.train_epoch(show_progress=False)
    history = trainer.histories[0]
    return Run(
        alpha=[a for _, a in history.alpha_steps],
        loss=list(trainer.step_losses),
        params={k: v.detach().clone() for k, v in trainer.leaves.items()},
        epoch_loss=list(history.train_loss),
        seconds=time.perf_counter() - start,
    )


def compare(mine: Run, theirs: Run) -> pd.DataFrame:
    """Largest absolute differences between two runs: the skew, the loss and every weight."""
    if len(mine.alpha) != len(theirs.alpha) or len(mine.loss) != len(theirs.loss):
        raise ValueError(f"{len(mine.alpha)} steps in one run, {len(theirs.alpha)} in the other")
    if set(mine.params) != set(theirs.params):
        raise ValueError("the two networks have different parameters")
    weights = [(mine.params[k].detach() - theirs.params[k]).abs().max().item() for k in mine.params]
    rows = {
        "skew α after each step": (len(mine.alpha), np.abs(np.subtract(mine.alpha, theirs.alpha)).max()),
        "loss at each step (eq. 14)": (len(mine.loss), np.abs(np.subtract(mine.loss, theirs.loss)).max()),
        "network weights after the last step": (
            sum(p.numel() for p in mine.params.values()),
            max(weights),
        ),
    }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["values compared", "largest |difference|"])
    return table.rename_axis("quantity")


# ----------------------------------------------------------------------------- the trained encoder
@dataclass
class Landscape:
    """The regulariser of a trained encoder against the skew: means over images, nats per image."""

    alpha: np.ndarray  # the skew grid
    dual: np.ndarray  # JS_*^Gα(q || p) on the grid (eqs 7-10)
    kl_qp: float  # KL(q || p): the VAE's regulariser, the dual at α = 1
    kl_pq: float  # KL(p || q): the dual at α = 0

    @property
    def minimiser(self) -> float:
        return float(self.alpha[self.dual.argmin()])


@torch.no_grad()
def landscape(encoder: nn.Module, images: Tensor, points: int = 101) -> Landscape:
    """Encode ``images`` (uint8) and evaluate the dual divergence on ``points`` skews in [0, 1]."""
    mu, logvar = encoder(data.to_float(images))
    grid = torch.linspace(0.0, 1.0, points).view(-1, 1)  # (A, 1) skews against (1, N, d) posteriors
    dual = gjs_normal(mu[None], logvar[None], grid, dual=True).mean(-1)
    zeros = torch.zeros_like(mu)
    return Landscape(
        alpha=grid.squeeze(1).numpy(),
        dual=dual.numpy(),
        kl_qp=kl_normal(mu, logvar, zeros, zeros).mean().item(),
        kl_pq=kl_normal(zeros, zeros, mu, logvar).mean().item(),
    )


def landscape_table(land: Landscape, learnt_alpha: float) -> pd.DataFrame:
    """The learnt skew beside the skew that minimises the regulariser, and the two KL ends."""
    rows = {
        "learnt skew": (learnt_alpha, float(np.interp(learnt_alpha, land.alpha, land.dual))),
        "smallest regulariser": (land.minimiser, float(land.dual.min())),
        "KL(q‖p), the VAE's regulariser": (1.0, land.kl_qp),
        "KL(p‖q)": (0.0, land.kl_pq),
    }
    columns = ["skew α", "JS*^Gα (nats per image)"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


# ----------------------------------------------------------------------------- chapter 4's rates
TABLE_NAMES = {
    "beta": "β-VAE, β = 4",
    "kl": "VAE, KL(q‖p)",
    "gjs": "α-VAE, fixed α = 0.5",
    "dgjs": "α*-VAE, fixed α = 0.5",
    "tgjs": "α-VAE, learnt α",
    "tdgjs": "α*-VAE, learnt α",
}


def benchmark_rates(preset: str = "cpu", dataset: str = "mnist") -> pd.DataFrame:
    """Mean rate and test MSE per regulariser from the committed benchmark results (chapter 4).

    Table 1's runs: clean inputs, each regulariser at its default weight, skewed ones starting at
    α = 0.5. Rate is the mean KL(q||p) over the test images, in nats.
    """
    rows = pd.read_csv(results_dir(preset) / "benchmarks.csv")
    rows = rows[(rows["dataset"] == dataset) & (rows["noise"] == 0) & rows["subset"].isna()]
    rows = rows[rows["regulariser"].isin(list(TABLE_NAMES))]
    default_weight = rows["regulariser"].map(lambda r: get_regulariser(r).default_weight)
    rows = rows[(rows["weight"] == default_weight) & (rows["alpha0"].isna() | (rows["alpha0"] == 0.5))]
    if rows.empty:
        raise ValueError(f"no {dataset} benchmark rows in {results_dir(preset)}")
    table = rows.groupby("regulariser").agg(
        rate=("rate", "mean"),
        test_mse=("test_mse", "mean"),
        seeds=("seed", "nunique"),
        epochs=("epochs", "max"),
    )
    table = table.reindex([r for r in TABLE_NAMES if r in table.index])
    table.index = table.index.map(TABLE_NAMES)
    return table.rename_axis("VAE").rename(columns={"rate": "rate KL(q‖p)", "test_mse": "test MSE"})


# ----------------------------------------------------------------------------- figures
def plot_training(alphas: list[float], losses: list[float], window: int = 20):
    """Loss (with a running mean over ``window`` steps) and the skew against the step."""
    fig, (left, right) = new_figure(ncols=2, width=8.0, height=3.0)
    steps = np.arange(1, len(losses) + 1)
    left.plot(steps, losses, color="0.75", lw=0.8, label="each step")
    if len(losses) >= window:
        running = np.convolve(losses, np.ones(window) / window, mode="valid")
        left.plot(steps[window - 1 :], running, color=colour(REGULARISER), label=f"mean of {window} steps")
    left.set(xlabel="training step (batch of 64 images)", ylabel="loss per image (squared error + nats)")
    left.legend()
    right.plot(steps, alphas, color=colour(REGULARISER))
    right.set(xlabel="training step (batch of 64 images)", ylabel="skew α (dimensionless)")
    return fig


def plot_landscape(land: Landscape, learnt_alpha: float):
    """The trained encoder's dual divergence against α, both KLs, and the learnt skew."""
    fig, ax = new_figure(width=7.2, height=3.2)
    ax.plot(land.alpha, land.dual, color=colour(REGULARISER), label=r"JS$_*^{G_\alpha}(q\|p)$")
    ax.axhline(land.kl_qp, color=colour("kl"), ls="--", label=r"KL$(q\|p)$, the VAE's")
    ax.axhline(land.kl_pq, color=colour("fwdkl"), ls=":", label=r"KL$(p\|q)$")
    ax.axvline(learnt_alpha, color="0.3", lw=0.8, label="learnt skew")
    ax.plot([land.minimiser], [land.dual.min()], "o", color=colour(REGULARISER), label="smallest value")
    ax.set(xlabel="skew α (dimensionless)", ylabel="divergence (nats per image)", ylim=(0, None))
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig
