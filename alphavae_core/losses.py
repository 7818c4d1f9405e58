"""Reconstruction losses and the Table 1 regularisers, looked up by name in a registry.

Loss (equation 14 with the divergence weight lambda): per-image reconstruction, summed over
pixels, plus ``weight`` times the divergence, summed over latent dimensions; both averaged over
the batch. Every divergence comes from :mod:`alphavae_core.divergences`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .divergences import gjs_normal, kl_normal

RECONSTRUCTIONS = ("mse", "bernoulli")


def reconstruction_loss(logits: Tensor, target: Tensor, kind: str) -> Tensor:
    """Per-image reconstruction loss (B,), summed over pixels.

    ``mse``: squared error of the sigmoid output; ``bernoulli``: binary cross-entropy of the
    decoder's Bernoulli means (computed from logits, for stability).
    """
    if kind == "mse":
        return (torch.sigmoid(logits) - target).pow(2).flatten(1).sum(1)
    if kind == "bernoulli":
        return F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1)
    raise ValueError(f"unknown reconstruction {kind!r}; choose one of {', '.join(RECONSTRUCTIONS)}")


def gaussian_kernel(x: Tensor, y: Tensor) -> Tensor:
    """k(x, y) = exp(-||x - y||^2 / (2 sigma^2)) with 2 sigma^2 = the dimension of x (InfoVAE's choice)."""
    sq_dist = (x.unsqueeze(-2) - y.unsqueeze(-3)).pow(2).sum(-1)
    return torch.exp(-sq_dist / x.shape[-1])


def mmd(x: Tensor, y: Tensor) -> Tensor:
    """Unbiased estimate of MMD^2 between samples x (n, d) and y (m, d) with :func:`gaussian_kernel`."""
    n, m = x.shape[-2], y.shape[-2]
    kxx, kyy, kxy = gaussian_kernel(x, x), gaussian_kernel(y, y), gaussian_kernel(x, y)
    # the diagonal of a Gaussian kernel is exactly 1: drop it for the unbiased U-statistic
    within_x = (kxx.sum((-2, -1)) - n) / (n * (n - 1))
    within_y = (kyy.sum((-2, -1)) - m) / (m * (m - 1))
    return within_x + within_y - 2.0 * kxy.mean((-2, -1))


@dataclass(frozen=True)
class Inputs:
    """What a regulariser may look at: posterior moments, the sampled z, the skew, prior draws."""

    mu: Tensor
    logvar: Tensor
    z: Tensor
    alpha: Tensor
    prior_draws: Tensor  # standard-normal draws shaped like (mu, logvar) concatenated: (B, 2d)


@dataclass(frozen=True)
class Regulariser:
    """A named divergence term. ``divergence`` returns (B,) or a batch-level scalar."""

    name: str
    description: str
    default_weight: float
    divergence: Callable[[Inputs], Tensor]
    uses_skew: bool = False  # alpha means something (the JS^G_alpha family)
    trainable_skew: bool = False
    default_alpha: float = 0.5


def _kl(i: Inputs) -> Tensor:
    zeros = torch.zeros_like(i.mu)
    return kl_normal(i.mu, i.logvar, zeros, zeros)


def _fwdkl(i: Inputs) -> Tensor:
    zeros = torch.zeros_like(i.mu)
    return kl_normal(zeros, zeros, i.mu, i.logvar)


def _gjs(dual: bool) -> Callable[[Inputs], Tensor]:
    def divergence(i: Inputs) -> Tensor:
        # the trainer keeps alpha in [0, 1] by clamping; validation would break vmap
        return gjs_normal(i.mu, i.logvar, i.alpha, dual=dual, validate=False)

    return divergence


def _mmd_samples(i: Inputs) -> Tensor:
    d = i.mu.shape[-1]
    return mmd(i.z, i.prior_draws[..., :d])


def _mmd_moments(i: Inputs) -> Tensor:
    return mmd(torch.cat([i.mu, i.logvar], dim=-1), i.prior_draws)


REGULARISERS: dict[str, Regulariser] = {
    r.name: r
    for r in (
        Regulariser("kl", "vanilla VAE: KL(q||p)", 1.0, _kl),
        Regulariser("fwdkl", "forward KL: KL(p||q)", 1.0, _fwdkl),
        Regulariser("beta", "beta-VAE: beta * KL(q||p)", 4.0, _kl),
        Regulariser(
            "mmd",
            "InfoVAE: lambda * MMD between posterior samples z and prior samples (Gaussian kernel)",
            500.0,
            _mmd_samples,
        ),
        Regulariser(
            "mmd_moments",
            "InfoVAE as in the paper's released code: MMD between concatenated (mu, logvar) and N(0, I_2d)",
            500.0,
            _mmd_moments,
        ),
        Regulariser("gjs", "JS^G_alpha, fixed skew (eqs 5-6)", 1.0, _gjs(dual=False), True),
        Regulariser("dgjs", "dual JS_*^G_alpha, fixed skew (eqs 7-8)", 1.0, _gjs(dual=True), True),
        Regulariser("tgjs", "alpha-VAE: JS^G_alpha, trainable skew", 1.0, _gjs(dual=False), True, True),
        Regulariser(
            "tdgjs", "alpha*-VAE: dual JS_*^G_alpha, trainable skew", 1.0, _gjs(dual=True), True, True
        ),
    )
}

# The Table 1 rows, in the paper's order.
TABLE1_REGULARISERS = ("beta", "mmd", "kl", "gjs", "dgjs", "tgjs", "tdgjs")


def get_regulariser(name: str) -> Regulariser:
    """The regulariser called ``name``; ``ValueError`` listing the choices otherwise."""
    if name not in REGULARISERS:
        raise ValueError(f"unknown regulariser {name!r}; choose one of {', '.join(REGULARISERS)}")
    return REGULARISERS[name]
