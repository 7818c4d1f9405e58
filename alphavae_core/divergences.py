"""Closed-form divergences between Gaussians: KL and the skew-geometric Jensen-Shannon family.

This module is the one place in the project where these divergences are computed.

Conventions (those of the paper's released code, under which its Table 3 skews are reported):

* ``q`` is the variational posterior N(mu, diag exp(logvar)), ``p`` the prior (standard normal
  unless given).
* The geometric mean ``N_alpha ∝ q^alpha p^(1-alpha)`` has precision
  ``alpha * Lambda_q + (1 - alpha) * Lambda_p`` (equations 9-10 with the weights assigned this way).
* Primal (equations 3-6): ``JS^Galpha = (1 - alpha) KL(q || N_alpha) + alpha KL(p || N_alpha)``,
  so alpha=0 is the ELBO's KL(q || p) and alpha=1 is KL(p || q).
* Dual (equations 7-8): ``JS_*^Galpha = (1 - alpha) KL(N_alpha || q) + alpha KL(N_alpha || p)``,
  so alpha=0 is KL(p || q) and alpha=1 is KL(q || p).

The paper's equations (3)-(4), Figure 1(b) and Appendix B put the prior first; their alpha is
``1 - alpha`` here. Read literally, equations (5)-(10) vanish at both ends:
:func:`gjs_normal_literal` keeps that reading so chapter 1 can show it.

All functions take tensors with any leading batch dimensions; the last dimension is the latent
dimension and is summed (diagonal forms) or is the matrix dimension (full-covariance forms).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "check_alpha",
    "geometric_mean_mvn",
    "geometric_mean_normal",
    "gjs_mvn",
    "gjs_normal",
    "gjs_normal_literal",
    "kl_mvn",
    "kl_normal",
    "log_normal_density",
]


def check_alpha(alpha: float | Tensor) -> None:
    """Raise ``ValueError`` unless every skew value lies in [0, 1] (NaN included)."""
    if isinstance(alpha, Tensor):
        bad = torch.isnan(alpha) | (alpha < 0) | (alpha > 1)
        if bool(bad.any()):
            value = alpha.detach().flatten()[bad.flatten()][0].item()
            raise ValueError(f"alpha must lie in [0, 1], got {value}")
    else:
        try:
            value = float(alpha)
        except (TypeError, ValueError):
            raise ValueError(f"alpha must be a number or a tensor in [0, 1], got {alpha!r}") from None
        if not 0.0 <= value <= 1.0:  # NaN fails both comparisons
            raise ValueError(f"alpha must lie in [0, 1], got {alpha}")


def _same_shape(name_a: str, a: Tensor, name_b: str, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def _broadcasts(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> bool:
    """Whether two shapes broadcast together. Checked here: ``torch.broadcast_shapes`` imports
    sympy on first use, 0.4 s of every training process's start-up."""
    return all(x == y or x == 1 or y == 1 for x, y in zip(reversed(shape_a), reversed(shape_b)))


def _broadcastable(name_a: str, a: Tensor, name_b: str, b: Tensor) -> None:
    if not _broadcasts(a.shape, b.shape):
        raise ValueError(
            f"{name_a} and {name_b} have incompatible shapes {tuple(a.shape)} and {tuple(b.shape)}"
        ) from None


def _as_skew(alpha: float | Tensor, like: Tensor, validate: bool) -> Tensor:
    """Skew as a tensor with a trailing axis, so it broadcasts over the latent dimension."""
    if validate:
        check_alpha(alpha)
    if not isinstance(alpha, Tensor):
        return torch.tensor(float(alpha), dtype=like.dtype, device=like.device)
    batch = like.shape[:-1]
    if alpha.numel() == 1 and alpha.dim() > len(batch):
        alpha = alpha.reshape(())  # a one-element skew acts as a scalar
    # alpha may add no batch dimensions of its own, only broadcast against mu's
    if not (alpha.dim() <= len(batch) and _broadcasts(alpha.shape, batch)):
        raise ValueError(
            f"alpha of shape {tuple(alpha.shape)} does not broadcast to the batch shape {tuple(batch)} of mu"
        )
    return alpha.to(like.dtype).unsqueeze(-1)


def kl_normal(mu1: Tensor, logvar1: Tensor, mu2: Tensor, logvar2: Tensor) -> Tensor:
    """KL(N(mu1, diag e^logvar1) || N(mu2, diag e^logvar2)), summed over the last dimension.

    Equation (1) in closed form for diagonal Gaussians:
    ``0.5 * sum(logvar2 - logvar1 + (e^logvar1 + (mu1 - mu2)^2) / e^logvar2 - 1)``.
    """
    _same_shape("mu1", mu1, "logvar1", logvar1)
    _same_shape("mu2", mu2, "logvar2", logvar2)
    _broadcastable("mu1", mu1, "mu2", mu2)
    return _kl_normal(mu1, logvar1, mu2, logvar2)


def _kl_normal(mu1: Tensor, logvar1: Tensor, mu2: Tensor, logvar2: Tensor) -> Tensor:
    # exp of differences rather than ratios of exps keeps |logvar| up to ~40 finite in float32
    var_ratio = torch.exp(logvar1 - logvar2)
    mahalanobis = (mu1 - mu2).pow(2) * torch.exp(-logvar2)
    return 0.5 * (var_ratio + mahalanobis - 1.0 - (logvar1 - logvar2)).sum(-1)


def geometric_mean_normal(
    mu_q: Tensor, logvar_q: Tensor, mu_p: Tensor, logvar_p: Tensor, alpha: float | Tensor
) -> tuple[Tensor, Tensor]:
    """Mean and log-variance of N_alpha ∝ q^alpha p^(1-alpha) for diagonal Gaussians (eqs 9-10).

    Precision ``alpha / var_q + (1 - alpha) / var_p``; mean weighted by the same precisions.
    """
    _same_shape("mu_q", mu_q, "logvar_q", logvar_q)
    _same_shape("mu_p", mu_p, "logvar_p", logvar_p)
    _broadcastable("mu_q", mu_q, "mu_p", mu_p)
    return _geometric_mean_normal(mu_q, logvar_q, mu_p, logvar_p, _as_skew(alpha, mu_q, True))


def _geometric_mean_normal(
    mu_q: Tensor, logvar_q: Tensor, mu_p: Tensor, logvar_p: Tensor, skew: Tensor
) -> tuple[Tensor, Tensor]:
    # precisions, not log-space weights: log(alpha) would give NaN gradients at alpha = 0
    weighted_prec_q = skew * torch.exp(-logvar_q)
    weighted_prec_p = (1.0 - skew) * torch.exp(-logvar_p)
    precision = weighted_prec_q + weighted_prec_p
    mu_alpha = (weighted_prec_q * mu_q + weighted_prec_p * mu_p) / precision
    return mu_alpha, -torch.log(precision)


def gjs_normal(
    mu: Tensor,
    logvar: Tensor,
    alpha: float | Tensor,
    dual: bool = False,
    mu_prior: Tensor | None = None,
    logvar_prior: Tensor | None = None,
    *,
    validate: bool = True,
) -> Tensor:
    """Skew-geometric Jensen-Shannon divergence between q = N(mu, diag e^logvar) and the prior.

    Primal (equations 5-6): ``(1 - alpha) KL(q || N_alpha) + alpha KL(p || N_alpha)``.
    Dual (equations 7-8): ``(1 - alpha) KL(N_alpha || q) + alpha KL(N_alpha || p)``.
    N_alpha ∝ q^alpha p^(1-alpha) (equations 9-10, released-code weighting; see the module
    docstring). The prior defaults to the standard normal.

    ``alpha`` is a float or a tensor broadcastable to ``mu.shape[:-1]`` (trainable skews welcome).
    ``validate=False`` skips the range check, which needs a device sync and cannot run under
    ``torch.func.vmap``; callers that clamp alpha themselves (the trainer) use it.
    """
    mu_p = torch.zeros_like(mu) if mu_prior is None else mu_prior
    logvar_p = torch.zeros_like(logvar) if logvar_prior is None else logvar_prior
    _same_shape("mu", mu, "logvar", logvar)
    _same_shape("mu_prior", mu_p, "logvar_prior", logvar_p)
    _broadcastable("mu", mu, "mu_prior", mu_p)
    skew = _as_skew(alpha, mu, validate)
    mu_a, logvar_a = _geometric_mean_normal(mu, logvar, mu_p, logvar_p, skew)
    return _skewed_sum(mu, logvar, mu_p, logvar_p, mu_a, logvar_a, skew, dual)


def _skewed_sum(
    mu: Tensor, logvar: Tensor, mu_p: Tensor, logvar_p: Tensor,
    mu_a: Tensor, logvar_a: Tensor, skew: Tensor, dual: bool,
) -> Tensor:  # fmt: skip
    """(1 - alpha) KL(q || N_a) + alpha KL(p || N_a), or with N_a first for the dual (eqs 5-8)."""
    weight = skew.squeeze(-1) if skew.dim() else skew
    if dual:
        to_q = _kl_normal(mu_a, logvar_a, mu, logvar)
        to_p = _kl_normal(mu_a, logvar_a, mu_p, logvar_p)
    else:
        to_q = _kl_normal(mu, logvar, mu_a, logvar_a)
        to_p = _kl_normal(mu_p, logvar_p, mu_a, logvar_a)
    return (1.0 - weight) * to_q + weight * to_p


def gjs_normal_literal(mu: Tensor, logvar: Tensor, alpha: float | Tensor, dual: bool = False) -> Tensor:
    """Equations (5)-(10) read literally, with N_1 = q and N_2 = the standard-normal prior.

    Equations (9)-(10) give N_alpha precision ``(1 - alpha) Lambda_1 + alpha Lambda_2``, so
    N_alpha = N_1 at alpha=0 and N_2 at alpha=1, and each weighted KL term then vanishes:
    the divergence is zero at both ends. Kept only so the book can show this; use
    :func:`gjs_normal` for training.
    """
    _same_shape("mu", mu, "logvar", logvar)
    skew = _as_skew(alpha, mu, True)
    zeros = torch.zeros_like(mu)
    # literal eqs 9-10: weight (1 - alpha) on N_1 = q and alpha on N_2 = p
    mu_a, logvar_a = _geometric_mean_normal(mu, logvar, zeros, zeros, 1.0 - skew)
    return _skewed_sum(mu, logvar, zeros, zeros, mu_a, logvar_a, skew, dual)


def _check_mvn(name: str, mu: Tensor, cov: Tensor) -> Tensor:
    """Validate a (mean, covariance) pair; return the Cholesky factor of the covariance."""
    k = mu.shape[-1] if mu.dim() else 0
    if cov.dim() < 2 or cov.shape[-2:] != (k, k) or cov.shape[:-2] != mu.shape[:-1]:
        raise ValueError(
            f"{name}: covariance shape {tuple(cov.shape)} does not match mean shape {tuple(mu.shape)}"
        )
    if not torch.allclose(cov, cov.transpose(-2, -1), rtol=1e-5, atol=1e-8):
        raise ValueError(f"{name}: covariance is not symmetric")
    chol, info = torch.linalg.cholesky_ex(cov)
    if bool((info != 0).any()):
        raise ValueError(f"{name}: covariance is not symmetric positive definite")
    return chol


def _kl_mvn_chol(mu1: Tensor, cov1: Tensor, chol1: Tensor, mu2: Tensor, chol2: Tensor) -> Tensor:
    k = mu1.shape[-1]
    # tr(S2^-1 S1) = ||L2^-1 L1||_F^2 ; Mahalanobis = ||L2^-1 (mu2 - mu1)||^2
    a = torch.linalg.solve_triangular(chol2, chol1, upper=False)
    diff = (mu2 - mu1).unsqueeze(-1)
    b = torch.linalg.solve_triangular(chol2, diff, upper=False)
    logdet1 = 2.0 * torch.log(torch.diagonal(chol1, dim1=-2, dim2=-1)).sum(-1)
    logdet2 = 2.0 * torch.log(torch.diagonal(chol2, dim1=-2, dim2=-1)).sum(-1)
    return 0.5 * (a.pow(2).sum((-2, -1)) + b.pow(2).sum((-2, -1)) - k + logdet2 - logdet1)


def kl_mvn(mu1: Tensor, cov1: Tensor, mu2: Tensor, cov2: Tensor) -> Tensor:
    """KL(N(mu1, cov1) || N(mu2, cov2)) for full covariance matrices (equation 1 in closed form).

    ``0.5 * (tr(S2^-1 S1) + (mu2 - mu1)^T S2^-1 (mu2 - mu1) - k + log det S2 - log det S1)``.
    """
    chol1 = _check_mvn("first distribution", mu1, cov1)
    chol2 = _check_mvn("second distribution", mu2, cov2)
    _broadcastable("mu1", mu1, "mu2", mu2)
    return _kl_mvn_chol(mu1, cov1, chol1, mu2, chol2)


def geometric_mean_mvn(
    mu_q: Tensor, cov_q: Tensor, mu_p: Tensor, cov_p: Tensor, alpha: float | Tensor
) -> tuple[Tensor, Tensor]:
    """Mean and covariance of N_alpha ∝ q^alpha p^(1-alpha) (equations 9-10, full covariance)."""
    _check_mvn("q", mu_q, cov_q)
    _check_mvn("p", mu_p, cov_p)
    skew = _as_skew(alpha, mu_q, True)
    return _geometric_mean_mvn(mu_q, cov_q, mu_p, cov_p, skew)


def _geometric_mean_mvn(
    mu_q: Tensor, cov_q: Tensor, mu_p: Tensor, cov_p: Tensor, skew: Tensor
) -> tuple[Tensor, Tensor]:
    w = skew.unsqueeze(-1)  # broadcast over both matrix axes
    prec_q = torch.linalg.inv(cov_q)
    prec_p = torch.linalg.inv(cov_p)
    precision = w * prec_q + (1.0 - w) * prec_p
    cov_a = torch.linalg.inv(precision)
    cov_a = 0.5 * (cov_a + cov_a.transpose(-2, -1))
    eta = w * (prec_q @ mu_q.unsqueeze(-1)) + (1.0 - w) * (prec_p @ mu_p.unsqueeze(-1))
    return (cov_a @ eta).squeeze(-1), cov_a


def gjs_mvn(
    mu_q: Tensor,
    cov_q: Tensor,
    mu_p: Tensor,
    cov_p: Tensor,
    alpha: float | Tensor,
    dual: bool = False,
) -> Tensor:
    """Skew-geometric JS divergence between N(mu_q, cov_q) and N(mu_p, cov_p) (equations 5-10).

    Same convention as :func:`gjs_normal`: N_alpha ∝ q^alpha p^(1-alpha); primal
    ``(1 - alpha) KL(q || N_alpha) + alpha KL(p || N_alpha)``, dual
    ``(1 - alpha) KL(N_alpha || q) + alpha KL(N_alpha || p)``.
    """
    chol_q = _check_mvn("q", mu_q, cov_q)
    chol_p = _check_mvn("p", mu_p, cov_p)
    _broadcastable("mu_q", mu_q, "mu_p", mu_p)
    skew = _as_skew(alpha, mu_q, True)
    mu_a, cov_a = _geometric_mean_mvn(mu_q, cov_q, mu_p, cov_p, skew)
    chol_a = torch.linalg.cholesky(cov_a)
    weight = skew.squeeze(-1) if skew.dim() else skew
    if dual:
        to_q = _kl_mvn_chol(mu_a, cov_a, chol_a, mu_q, chol_q)
        to_p = _kl_mvn_chol(mu_a, cov_a, chol_a, mu_p, chol_p)
    else:
        to_q = _kl_mvn_chol(mu_q, cov_q, chol_q, mu_a, chol_a)
        to_p = _kl_mvn_chol(mu_p, cov_p, chol_p, mu_a, chol_a)
    return (1.0 - weight) * to_q + weight * to_p


def log_normal_density(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """log N(z; mu, diag e^logvar), summed over the last dimension (used by Monte Carlo checks)."""
    return -0.5 * ((z - mu).pow(2) * torch.exp(-logvar) + logvar + math.log(2 * math.pi)).sum(-1)
