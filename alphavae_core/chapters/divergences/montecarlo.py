"""Monte Carlo estimates of the divergences of chapter 1, to check the closed forms against.

Every estimator draws its own samples from an explicit ``torch.Generator`` and evaluates
log-densities directly (``log_normal_density`` for diagonal Gaussians,
``torch.distributions.MultivariateNormal`` for full covariances), so it shares no algebra with
the closed forms in :mod:`alphavae_core.divergences` except the parameters of the geometric
mean N_alpha (equations 9-10), which the tests check separately.

Each estimator returns an :class:`MCEstimate` (value and standard error, one per batch
element), so a check can ask for agreement within a few standard errors.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import pandas as pd
import torch
from torch import Tensor
from torch.distributions import MultivariateNormal

from alphavae_core.divergences import (
    check_alpha,
    geometric_mean_mvn,
    geometric_mean_normal,
    gjs_mvn,
    gjs_normal,
    kl_mvn,
    kl_normal,
    log_normal_density,
)

__all__ = [
    "SETTINGS",
    "MCEstimate",
    "closed_form_vs_mc",
    "example_pairs",
    "for_readers",
    "mc_gjs_mvn",
    "mc_gjs_normal",
    "mc_js_normal",
    "mc_kl_mvn",
    "mc_kl_normal",
]

# Samples per Monte Carlo estimate for chapter 1, by preset (read with ``presets.select``).
SETTINGS: dict[str, dict[str, int]] = {
    "smoke": {"n_samples": 20_000, "seed": 0},
    "cpu": {"n_samples": 200_000, "seed": 0},
    "paper": {"n_samples": 1_000_000, "seed": 0},
}


class MCEstimate(NamedTuple):
    """A Monte Carlo estimate and its standard error (tensors of the batch shape)."""

    value: Tensor
    stderr: Tensor


def _check_n(n_samples: int) -> None:
    if int(n_samples) != n_samples or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples}")


def _mean_and_stderr(values: Tensor) -> MCEstimate:
    """Sample mean over the first axis and its standard error."""
    n = values.shape[0]
    return MCEstimate(values.mean(0), values.std(0) / math.sqrt(n))


def _sample_normal(mu: Tensor, logvar: Tensor, n: int, generator: torch.Generator) -> Tensor:
    eps = torch.randn((n, *mu.shape), generator=generator, dtype=mu.dtype, device=mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


def _combine(weights: tuple[Tensor, Tensor], estimates: tuple[MCEstimate, MCEstimate]) -> MCEstimate:
    """Weighted sum of two independent estimates (variances add with squared weights)."""
    (w1, w2), (e1, e2) = weights, estimates
    value = w1 * e1.value + w2 * e2.value
    stderr = torch.sqrt((w1 * e1.stderr) ** 2 + (w2 * e2.stderr) ** 2)
    return MCEstimate(value, stderr)


def _weights(alpha: float | Tensor, like: Tensor) -> tuple[Tensor, Tensor]:
    check_alpha(alpha)
    a = torch.as_tensor(alpha, dtype=like.dtype, device=like.device)
    return 1.0 - a, a


def mc_kl_normal(
    mu1: Tensor, logvar1: Tensor, mu2: Tensor, logvar2: Tensor, n_samples: int, generator: torch.Generator
) -> MCEstimate:
    """KL(N1 || N2) for diagonal Gaussians by sampling N1 (equation 1 as an expectation).

    ``E_{z ~ N1}[log N1(z) - log N2(z)]``; the latent dimension (last axis) is summed.
    """
    _check_n(n_samples)
    z = _sample_normal(mu1, logvar1, n_samples, generator)
    log_ratio = log_normal_density(z, mu1, logvar1) - log_normal_density(z, mu2, logvar2)
    return _mean_and_stderr(log_ratio)


def mc_gjs_normal(
    mu: Tensor,
    logvar: Tensor,
    alpha: float | Tensor,
    dual: bool,
    n_samples: int,
    generator: torch.Generator,
    mu_prior: Tensor | None = None,
    logvar_prior: Tensor | None = None,
) -> MCEstimate:
    """JS^Galpha (equations 5-6) or its dual (7-8) between q and the prior, by sampling.

    Released-code convention, as in :func:`alphavae_core.divergences.gjs_normal`: N_alpha ∝
    q^alpha p^(1-alpha). Primal: KL(q || N_alpha) sampled from q and KL(p || N_alpha) from p,
    independently. Dual: both terms are expectations under N_alpha, estimated from one sample.
    """
    _check_n(n_samples)
    mu_p = torch.zeros_like(mu) if mu_prior is None else mu_prior
    logvar_p = torch.zeros_like(logvar) if logvar_prior is None else logvar_prior
    w_q, w_p = _weights(alpha, mu)
    mu_a, logvar_a = geometric_mean_normal(mu, logvar, mu_p, logvar_p, alpha)
    if dual:
        z = _sample_normal(mu_a, logvar_a, n_samples, generator)
        log_a = log_normal_density(z, mu_a, logvar_a)
        terms = w_q * (log_a - log_normal_density(z, mu, logvar)) + w_p * (
            log_a - log_normal_density(z, mu_p, logvar_p)
        )
        return _mean_and_stderr(terms)
    to_q = mc_kl_normal(mu, logvar, mu_a, logvar_a, n_samples, generator)
    to_p = mc_kl_normal(mu_p, logvar_p, mu_a, logvar_a, n_samples, generator)
    return _combine((w_q, w_p), (to_q, to_p))


def mc_js_normal(
    mu1: Tensor, logvar1: Tensor, mu2: Tensor, logvar2: Tensor, n_samples: int, generator: torch.Generator
) -> MCEstimate:
    """The Jensen-Shannon divergence of equation (2), which has no closed form for Gaussians.

    The arithmetic mixture (N1 + N2) / 2 sits inside the logarithm, so the divergence is
    estimated by sampling each component: ``0.5 E_1[log N1 - log M] + 0.5 E_2[log N2 - log M]``.
    """
    _check_n(n_samples)

    def log_mixture(z: Tensor) -> Tensor:
        both = torch.stack([log_normal_density(z, mu1, logvar1), log_normal_density(z, mu2, logvar2)])
        return torch.logsumexp(both, 0) - math.log(2.0)

    z1 = _sample_normal(mu1, logvar1, n_samples, generator)
    z2 = _sample_normal(mu2, logvar2, n_samples, generator)
    e1 = _mean_and_stderr(log_normal_density(z1, mu1, logvar1) - log_mixture(z1))
    e2 = _mean_and_stderr(log_normal_density(z2, mu2, logvar2) - log_mixture(z2))
    half = torch.tensor(0.5, dtype=mu1.dtype)
    return _combine((half, half), (e1, e2))


def _sample_mvn(dist: MultivariateNormal, n: int, generator: torch.Generator) -> Tensor:
    # MultivariateNormal.sample takes no generator; draw the noise ourselves for reproducibility
    loc = dist.loc
    eps = torch.randn((n, *loc.shape), generator=generator, dtype=loc.dtype, device=loc.device)
    return loc + (dist.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)


def mc_kl_mvn(
    mu1: Tensor, cov1: Tensor, mu2: Tensor, cov2: Tensor, n_samples: int, generator: torch.Generator
) -> MCEstimate:
    """KL(N(mu1, cov1) || N(mu2, cov2)) for full covariances by sampling the first (equation 1)."""
    _check_n(n_samples)
    d1 = MultivariateNormal(mu1, covariance_matrix=cov1)
    d2 = MultivariateNormal(mu2, covariance_matrix=cov2)
    z = _sample_mvn(d1, n_samples, generator)
    return _mean_and_stderr(d1.log_prob(z) - d2.log_prob(z))


def mc_gjs_mvn(
    mu_q: Tensor,
    cov_q: Tensor,
    mu_p: Tensor,
    cov_p: Tensor,
    alpha: float | Tensor,
    dual: bool,
    n_samples: int,
    generator: torch.Generator,
) -> MCEstimate:
    """JS^Galpha or its dual between full-covariance Gaussians by sampling (equations 5-10)."""
    _check_n(n_samples)
    w_q, w_p = _weights(alpha, mu_q)
    mu_a, cov_a = geometric_mean_mvn(mu_q, cov_q, mu_p, cov_p, alpha)
    if dual:
        d_a = MultivariateNormal(mu_a, covariance_matrix=cov_a)
        z = _sample_mvn(d_a, n_samples, generator)
        log_a = d_a.log_prob(z)
        log_q = MultivariateNormal(mu_q, covariance_matrix=cov_q).log_prob(z)
        log_p = MultivariateNormal(mu_p, covariance_matrix=cov_p).log_prob(z)
        return _mean_and_stderr(w_q * (log_a - log_q) + w_p * (log_a - log_p))
    to_q = mc_kl_mvn(mu_q, cov_q, mu_a, cov_a, n_samples, generator)
    to_p = mc_kl_mvn(mu_p, cov_p, mu_a, cov_a, n_samples, generator)
    return _combine((w_q, w_p), (to_q, to_p))


def example_pairs() -> dict[str, tuple[Tensor, ...]]:
    """Chapter 1's example distributions, in float64.

    ``diag``: (mu, logvar) of a 2-D diagonal q, whose prior is N(0, I); ``full``: (mu_q, cov_q,
    mu_p, cov_p), a correlated pair for the full-covariance forms.
    """
    mu = torch.tensor([1.0, -0.5], dtype=torch.float64)
    logvar = torch.tensor([-1.0, 0.5], dtype=torch.float64)
    mu_q = torch.tensor([0.5, -1.0], dtype=torch.float64)
    cov_q = torch.tensor([[0.6, 0.3], [0.3, 0.8]], dtype=torch.float64)
    mu_p = torch.tensor([0.0, 0.5], dtype=torch.float64)
    cov_p = torch.tensor([[1.5, -0.4], [-0.4, 1.0]], dtype=torch.float64)
    return {"diag": (mu, logvar), "full": (mu_q, cov_q, mu_p, cov_p)}


def closed_form_vs_mc(
    n_samples: int,
    seed: int = 0,
    alphas: tuple[float, ...] = (0.25, 0.5, 0.75),
    diag: tuple[Tensor, Tensor] | None = None,
    full: tuple[Tensor, Tensor, Tensor, Tensor] | None = None,
) -> pd.DataFrame:
    """Every closed form of chapter 1 next to its Monte Carlo estimate, one row per check.

    ``diag`` = (mu, logvar) of q against the standard normal prior and ``full`` = (mu_q, cov_q,
    mu_p, cov_p) for the full-covariance forms; both default to :func:`example_pairs`. Columns: ``closed_form``, ``mc``,
    ``stderr``, ``abs_error`` and ``z`` (= abs_error / stderr). Where the integrand is constant
    (the dual at alpha = 1/2, whose integrand is ``-log Z``) the estimate is exact up to rounding,
    the standard error is zero and ``z`` is left as NaN.
    """
    g = torch.Generator().manual_seed(seed)
    mu, logvar = example_pairs()["diag"] if diag is None else diag
    zero = torch.zeros_like(mu)
    mu_q, cov_q, mu_p, cov_p = example_pairs()["full"] if full is None else full
    rows: list[tuple[str, Tensor, MCEstimate]] = [
        (
            "KL(q||p), diag",
            kl_normal(mu, logvar, zero, zero),
            mc_kl_normal(mu, logvar, zero, zero, n_samples, g),
        ),
        (
            "KL(p||q), diag",
            kl_normal(zero, zero, mu, logvar),
            mc_kl_normal(zero, zero, mu, logvar, n_samples, g),
        ),
    ]
    for dual in (False, True):
        name = "dual" if dual else "primal"
        for a in alphas:
            rows.append(
                (
                    f"{name} a={a}, diag",
                    gjs_normal(mu, logvar, a, dual=dual),
                    mc_gjs_normal(mu, logvar, a, dual, n_samples, g),
                )
            )
    rows.append(
        (
            "KL(q||p), full",
            kl_mvn(mu_q, cov_q, mu_p, cov_p),
            mc_kl_mvn(mu_q, cov_q, mu_p, cov_p, n_samples, g),
        )
    )
    for dual in (False, True):
        name = "dual" if dual else "primal"
        rows.append(
            (
                f"{name} a=0.5, full",
                gjs_mvn(mu_q, cov_q, mu_p, cov_p, 0.5, dual=dual),
                mc_gjs_mvn(mu_q, cov_q, mu_p, cov_p, 0.5, dual, n_samples, g),
            )
        )
    table = pd.DataFrame(
        [
            {"check": name, "closed_form": float(exact), "mc": float(est.value), "stderr": float(est.stderr)}
            for name, exact, est in rows
        ]
    ).set_index("check")
    table["abs_error"] = (table["closed_form"] - table["mc"]).abs()
    # a standard error at rounding level means a constant integrand: no meaningful z-score
    exact_rows = table["stderr"] <= 1e-9 * (1.0 + table["closed_form"].abs())
    table["z"] = (table["abs_error"] / table["stderr"]).mask(exact_rows)
    return table


def for_readers(table: pd.DataFrame, decimals: int = 4) -> pd.DataFrame:
    """:func:`closed_form_vs_mc`'s table as a reader sees it: units in the column names, the skew
    written as α, and the z-score of an exact (constant-integrand) estimate as words, not NaN."""
    shown = table.round(decimals).rename(
        columns={
            "closed_form": "closed form (nats)",
            "mc": "Monte Carlo (nats)",
            "stderr": "standard error (nats)",
            "abs_error": "|difference| (nats)",
            "z": "|difference| / standard error",
        },
        index=lambda name: name.replace(" a=", " α = ").replace(", diag", ", diagonal").replace("||", "‖"),
    )
    ratio = "|difference| / standard error"
    shown[ratio] = shown[ratio].astype(object).where(shown[ratio].notna(), "exact: constant integrand")
    return shown
