"""Gaussian mixtures, a trainable Gaussian, and consistent estimators of JS^Galpha between them.

Chapter 3 (section 4.1, Figure 2 of the paper) fits a Gaussian q to an additive mixture of
Gaussians p. Between a Gaussian and a mixture the skew-geometric Jensen-Shannon divergence has
no closed form: the geometric mean N_alpha ∝ q^alpha p^(1-alpha) (equations 9-10 generalised)
is not Gaussian and its normaliser Z_alpha = ∫ q^alpha p^(1-alpha) is not known. Writing
``log N_alpha = alpha log q + (1-alpha) log p - log Z_alpha`` (the convention of
:mod:`alphavae_core.divergences`) every term becomes an expectation plus ``log Z_alpha``:

* primal (eqs 5-6): KL(q‖N_a) = (1-a) KL(q‖p) + log Z_a,  KL(p‖N_a) = a KL(p‖q) + log Z_a, so
  ``JS^Ga = (1-a)^2 KL(q‖p) + a^2 KL(p‖q) + log Z_a``;
* dual (eqs 7-8): KL(N_a‖q) = (1-a) E_Na[log p/q] - log Z_a,  KL(N_a‖p) = -a E_Na[log p/q] - log Z_a,
  so ``JS_*^Ga = (1-2a) E_Na[log p/q] - log Z_a``.

:func:`gjs_mc` estimates these from samples (see its docstring for the estimator and why its
gradient is consistent); :func:`gjs_quadrature` computes them on a grid from the definitions
(1-D and 2-D only), as an independent check. The fitting loop and the Figure 2 experiment live
in :mod:`.fit`; ``alphavae mixtures --preset cpu`` runs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from alphavae_core.chapters.divergences.montecarlo import MCEstimate
from alphavae_core.divergences import check_alpha, gjs_mvn

__all__ = [
    "GJSEstimate",
    "Gaussian",
    "GaussianBallFit",
    "GaussianFit",
    "GaussianMixture",
    "gjs_mc",
    "gjs_mc_repeated",
    "gjs_quadrature",
    "make_mixture",
    "quadrature_terms",
    "released_script_objective",
    "validation_table",
]

DTYPE = torch.float64  # small problems: double precision costs little and keeps estimates clean
_LOG_2PI = math.log(2.0 * math.pi)


def _check_points(z: Tensor, dim: int) -> None:
    if z.dim() != 2 or z.shape[-1] != dim:
        raise ValueError(f"points must have shape (n, {dim}), got {tuple(z.shape)}")


@dataclass(frozen=True)
class Gaussian:
    """N(mean, L L^T) given by its mean (d,) and lower-triangular Cholesky factor L (d, d)."""

    mean: Tensor
    scale_tril: Tensor

    @property
    def dim(self) -> int:
        return self.mean.shape[-1]

    @property
    def covariance(self) -> Tensor:
        return self.scale_tril @ self.scale_tril.T

    @classmethod
    def from_covariance(cls, mean: Tensor, covariance: Tensor) -> Gaussian:
        chol, info = torch.linalg.cholesky_ex(covariance)
        if int(info) != 0:
            raise ValueError("covariance is not symmetric positive definite")
        return cls(mean, chol)

    def log_prob(self, z: Tensor) -> Tensor:
        """log N(z; mean, cov) for points z of shape (n, d)."""
        _check_points(z, self.dim)
        y = torch.linalg.solve_triangular(self.scale_tril, (z - self.mean).T, upper=False)
        log_det = torch.log(torch.diagonal(self.scale_tril)).sum()
        return -0.5 * y.pow(2).sum(0) - log_det - 0.5 * self.dim * _LOG_2PI

    def rsample(self, n: int, generator: torch.Generator) -> Tensor:
        """n reparameterised samples ``mean + L eps`` (gradients flow to mean and L)."""
        eps = torch.randn((n, self.dim), generator=generator, dtype=self.mean.dtype)
        return self.mean + eps @ self.scale_tril.T


@dataclass(frozen=True)
class GaussianMixture:
    """Additive mixture ``sum_k w_k N(means_k, L_k L_k^T)`` (weights (K,), means (K, d), L (K, d, d))."""

    weights: Tensor
    means: Tensor
    scale_trils: Tensor

    def __post_init__(self) -> None:
        k, d = self.means.shape
        if self.weights.shape != (k,) or self.scale_trils.shape != (k, d, d):
            raise ValueError(
                f"mixture shapes disagree: weights {tuple(self.weights.shape)}, means {(k, d)}, "
                f"scale_trils {tuple(self.scale_trils.shape)}"
            )
        if bool((self.weights < 0).any()) or abs(float(self.weights.sum()) - 1.0) > 1e-9:
            raise ValueError("mixture weights must be non-negative and sum to 1")

    @property
    def n_components(self) -> int:
        return self.means.shape[0]

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def covariances(self) -> Tensor:
        return self.scale_trils @ self.scale_trils.transpose(-2, -1)

    def component(self, k: int) -> Gaussian:
        return Gaussian(self.means[k], self.scale_trils[k])

    def mean(self) -> Tensor:
        """Mixture mean (the forward-KL optimum's mean for a Gaussian q)."""
        return self.weights @ self.means

    def covariance(self) -> Tensor:
        """Mixture covariance (the forward-KL optimum's covariance for a Gaussian q)."""
        centred = self.means - self.mean()
        spread = torch.einsum("k,ki,kj->ij", self.weights, centred, centred)
        return torch.einsum("k,kij->ij", self.weights, self.covariances) + spread

    def log_prob(self, z: Tensor) -> Tensor:
        """log p(z) = logsumexp_k [log w_k + log N(z; m_k, S_k)] for points (n, d)."""
        _check_points(z, self.dim)
        diff = (z.unsqueeze(0) - self.means.unsqueeze(1)).transpose(1, 2)  # (K, d, n)
        y = torch.linalg.solve_triangular(self.scale_trils, diff, upper=False)
        log_det = torch.log(torch.diagonal(self.scale_trils, dim1=-2, dim2=-1)).sum(-1)  # (K,)
        log_comp = -0.5 * y.pow(2).sum(1) - (log_det + 0.5 * self.dim * _LOG_2PI).unsqueeze(1)  # (K, n)
        return torch.logsumexp(torch.log(self.weights).unsqueeze(1) + log_comp, dim=0)

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """n samples: a component drawn by weight, then a Gaussian draw from it."""
        idx = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        eps = torch.randn((n, self.dim), generator=generator, dtype=self.means.dtype)
        return self.means[idx] + (self.scale_trils[idx] @ eps.unsqueeze(-1)).squeeze(-1)


def make_mixture(n_components: int, dim: int, seed: int) -> GaussianMixture:
    """The Figure 2 mixture of Gaussian balls (the generator of the paper's released scripts).

    With ``rng = numpy.random.default_rng([seed, n_components, dim])`` (one independent stream
    per setting): weights ~ Dirichlet(0.5, ..., 0.5); means ~ Uniform[-3, 3]^dim; isotropic
    covariances v_k I with v_k = 1 / (1 + U_k)^2, U_k ~ Uniform(0, 1), so v_k ∈ (0.25, 1].
    """
    if int(n_components) != n_components or n_components < 1:
        raise ValueError(f"n_components must be a positive integer, got {n_components}")
    if int(dim) != dim or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim}")
    rng = np.random.default_rng([int(seed), int(n_components), int(dim)])
    weights = rng.dirichlet([0.5] * n_components)
    weights = np.maximum(weights, 1e-12)  # Dirichlet(0.5) can underflow to 0; keep log w finite
    weights /= weights.sum()
    variances = 1.0 / np.square(rng.random(n_components) + 1.0)
    means = rng.random((n_components, dim)) * 6.0 - 3.0
    scale_trils = np.sqrt(variances)[:, None, None] * np.eye(dim)
    return GaussianMixture(
        torch.tensor(weights, dtype=DTYPE),
        torch.tensor(means, dtype=DTYPE),
        torch.tensor(scale_trils, dtype=DTYPE),
    )


class _TrainableGaussian(nn.Module):
    """What both fits share: a free mean, a scale kept positive by softplus, and ``forward``."""

    def __init__(self, dim: int, mean: Tensor | None, scale: float) -> None:
        super().__init__()
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        start = torch.zeros(dim, dtype=DTYPE) if mean is None else mean.detach().to(DTYPE).clone()
        self.mean = nn.Parameter(start)
        self.raw_start = math.log(math.expm1(scale))  # softplus^-1(scale): q starts at this scale

    def scale_tril(self) -> Tensor:
        raise NotImplementedError

    def forward(self) -> Gaussian:
        return Gaussian(self.mean, self.scale_tril())


class GaussianFit(_TrainableGaussian):
    """A trainable Gaussian q: free mean and a Cholesky factor with softplus diagonal.

    ``L = strictly_lower(raw) + diag(softplus(diag(raw)) + 1e-6)`` has a positive diagonal for
    every value of ``raw``, so the covariance L L^T stays positive definite throughout training.
    """

    def __init__(self, dim: int, mean: Tensor | None = None, scale: float = 1.0) -> None:
        super().__init__(dim, mean, scale)
        raw = torch.zeros(dim, dim, dtype=DTYPE)
        raw.diagonal().fill_(self.raw_start)
        self.raw_tril = nn.Parameter(raw)

    def scale_tril(self) -> Tensor:
        diag = F.softplus(torch.diagonal(self.raw_tril)) + 1e-6
        return torch.tril(self.raw_tril, diagonal=-1) + torch.diag(diag)


class GaussianBallFit(_TrainableGaussian):
    """A trainable Gaussian *ball* q = N(m, s^2 I), the paper's model in section 4.1.

    Free mean and one scale ``s = softplus(raw) + 1e-6`` shared by every dimension.
    """

    def __init__(self, dim: int, mean: Tensor | None = None, scale: float = 1.0) -> None:
        super().__init__(dim, mean, scale)
        self.raw_scale = nn.Parameter(torch.tensor(self.raw_start, dtype=DTYPE))

    def scale_tril(self) -> Tensor:
        s = F.softplus(self.raw_scale) + 1e-6
        return s * torch.eye(self.mean.shape[-1], dtype=DTYPE)


@dataclass(frozen=True)
class GJSEstimate:
    """An estimate of JS^Galpha or its dual with its pieces (all tensors, differentiable)."""

    value: Tensor
    log_z: Tensor  # log Z_alpha
    kl_qp: Tensor  # KL(q‖p) (sampled from q)
    kl_pq: Tensor  # KL(p‖q) (sampled from p)
    first: Tensor  # KL(q‖N_a) (primal) or KL(N_a‖q) (dual)
    second: Tensor  # KL(p‖N_a) (primal) or KL(N_a‖p) (dual)


def _as_alpha(alpha: float | Tensor) -> Tensor:
    check_alpha(alpha.detach() if isinstance(alpha, Tensor) else alpha)
    return alpha.to(DTYPE) if isinstance(alpha, Tensor) else torch.tensor(float(alpha), dtype=DTYPE)


def gjs_mc(
    q: Gaussian, p: GaussianMixture, alpha: float | Tensor, dual: bool, n: int, generator: torch.Generator
) -> GJSEstimate:
    """Monte Carlo JS^Galpha(q, p) (eqs 5-6) or its dual (eqs 7-8), normaliser included.

    Samples: n reparameterised draws z_q ~ q and n draws z_p ~ p. KL(q‖p) and KL(p‖q) are
    plain means over z_q and z_p (pathwise gradients through z_q). For Z_alpha and E_Na the
    pooled 2n points (z_q detached) are a draw from the defensive proposal r = (q + p) / 2,
    with r's density held fixed (detached) at the current q. With h = q^a p^(1-a) and weights
    w_i = h(z_i) / r(z_i):

    * ``log Z_a ≈ log(mean_i w_i)``;
    * ``E_Na[log p/q] ≈ sum_i w̄_i log(p/q)(z_i)`` with self-normalised weights ``w̄ = w / sum w``.

    Gradients differentiate the integrand h (through log q and alpha), not the sampling
    distribution. Because ``∫ h = E_r[h / r]`` holds for every (q, alpha) near the current point
    with r fixed, the gradient of the estimate is a consistent (for Z, unbiased) estimate of the
    gradient of the quantity. The gradient must pass through the self-normalised weights: that
    gives ``sum w̄ ∇g + Cov_w̄(∇ log h, g)``, whose limit is ∇E_Na[g]; stopping it at the weights
    would drop the covariance term and be inconsistent. Since a^t b^(1-t) <= max(a, b) <= a + b,
    every weight is at most 2, so the estimators have bounded weights for every alpha.
    """
    if int(n) != n or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n}")
    if q.dim != p.dim:
        raise ValueError(f"q has dimension {q.dim} but p has dimension {p.dim}")
    a = _as_alpha(alpha)
    z_q = q.rsample(n, generator)
    z_p = p.sample(n, generator)
    log_q_zq, log_p_zq = q.log_prob(z_q), p.log_prob(z_q)
    log_q_zp, log_p_zp = q.log_prob(z_p), p.log_prob(z_p)
    kl_qp = (log_q_zq - log_p_zq).mean()
    kl_pq = (log_p_zp - log_q_zp).mean()
    # pool: fixed points; log q re-evaluated at the detached z_q so only the integrand carries gradient
    log_q = torch.cat([q.log_prob(z_q.detach()), log_q_zp])
    log_p = torch.cat([log_p_zq.detach(), log_p_zp])
    log_r = torch.logaddexp(log_q.detach(), log_p) - math.log(2.0)
    log_w = a * log_q + (1.0 - a) * log_p - log_r
    log_z = torch.logsumexp(log_w, 0) - math.log(2 * n)
    if dual:
        e_log_ratio = (torch.softmax(log_w, 0) * (log_p - log_q)).sum()  # E_Na[log p/q]
        first = (1.0 - a) * e_log_ratio - log_z  # KL(N_a‖q)
        second = -a * e_log_ratio - log_z  # KL(N_a‖p)
    else:
        first = (1.0 - a) * kl_qp + log_z  # KL(q‖N_a)
        second = a * kl_pq + log_z  # KL(p‖N_a)
    value = (1.0 - a) * first + a * second
    return GJSEstimate(value, log_z, kl_qp, kl_pq, first, second)


def gjs_mc_repeated(
    q: Gaussian, p: GaussianMixture, alpha: float, dual: bool, n: int, repeats: int, seed: int
) -> MCEstimate:
    """Mean of ``repeats`` independent :func:`gjs_mc` estimates and its standard error.

    The estimator is a ratio (biased by O(1/n)); repeating it gives an honest standard error.
    """
    if repeats < 2:
        raise ValueError(f"repeats must be at least 2, got {repeats}")
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        values = torch.stack([gjs_mc(q, p, alpha, dual, n, g).value for _ in range(repeats)])
    return MCEstimate(values.mean(), values.std() / math.sqrt(repeats))


def _grid(q: Gaussian, p: GaussianMixture, points: int, span: float) -> tuple[Tensor, float]:
    """A regular grid covering q and every component of p to ``span`` standard deviations."""
    sd_q = torch.sqrt(torch.diagonal(q.covariance))
    sd_p = torch.sqrt(torch.diagonal(p.covariances, dim1=-2, dim2=-1))
    lo = torch.minimum(q.mean - span * sd_q, (p.means - span * sd_p).min(0).values)
    hi = torch.maximum(q.mean + span * sd_q, (p.means + span * sd_p).max(0).values)
    axes = [torch.linspace(float(lo[i]), float(hi[i]), points, dtype=DTYPE) for i in range(q.dim)]
    cell = math.prod(float(ax[1] - ax[0]) for ax in axes)
    mesh = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, q.dim)
    return mesh, cell


def quadrature_terms(
    q: Gaussian, p: GaussianMixture, alpha: float, points: int = 601, span: float = 9.0
) -> dict[str, float]:
    """log Z_alpha and the four KL terms of eqs 5-8 by quadrature on a grid (1-D or 2-D only).

    Computed from the definitions, sharing nothing with :func:`gjs_mc` but the log densities:
    ``log N_a = a log q + (1-a) log p - log Z_a`` with ``Z_a`` summed on the grid, and each KL
    ``sum_grid f (log f - log g) dA``. Keys: ``log_z``, ``kl_q_n``, ``kl_p_n``, ``kl_n_q``, ``kl_n_p``.
    """
    if q.dim not in (1, 2):
        raise ValueError(f"quadrature is for 1-D or 2-D only, got dimension {q.dim}")
    check_alpha(alpha)
    z, cell = _grid(q, p, points, span)
    with torch.no_grad():
        log_q, log_p = q.log_prob(z), p.log_prob(z)
        log_h = alpha * log_q + (1.0 - alpha) * log_p
        log_z = torch.logsumexp(log_h, 0) + math.log(cell)
        log_n = log_h - log_z

    def kl(log_f: Tensor, log_g: Tensor) -> float:
        f = torch.exp(log_f)
        return float((f * (log_f - log_g)).sum() * cell)  # 0 log 0 = 0: f underflows to exactly 0

    return {
        "log_z": float(log_z),
        "kl_q_n": kl(log_q, log_n),
        "kl_p_n": kl(log_p, log_n),
        "kl_n_q": kl(log_n, log_q),
        "kl_n_p": kl(log_n, log_p),
    }


def gjs_quadrature(
    q: Gaussian, p: GaussianMixture, alpha: float, dual: bool, points: int = 601, span: float = 9.0
) -> float:
    """JS^Galpha (eqs 5-6) or its dual (eqs 7-8) by quadrature (see :func:`quadrature_terms`)."""
    t = quadrature_terms(q, p, alpha, points, span)
    if dual:
        return (1.0 - alpha) * t["kl_n_q"] + alpha * t["kl_n_p"]
    return (1.0 - alpha) * t["kl_q_n"] + alpha * t["kl_p_n"]


def released_script_objective(q: Gaussian, p: GaussianMixture, alpha: float, z: Tensor) -> Tensor:
    """The dual "tdGJS" loss of the paper's released synthetic script, for comparison only.

    On data samples z ~ p it averages ``(1-a)^2 q^a p^(1-a) log(p/q) + a^2 q^a p^(1-a) log(q/p)``,
    which is ``(1-2a) * mean(q^a p^(1-a) log(p/q))``: it vanishes identically at a = 1/2, omits
    ``-log Z_a`` and weights samples from p by unnormalised densities. Not an estimator of eq 7-8.
    """
    log_q, log_p = q.log_prob(z), p.log_prob(z)
    h = torch.exp(alpha * log_q + (1.0 - alpha) * log_p)
    return ((1.0 - alpha) ** 2 * h * (log_p - log_q) + alpha**2 * h * (log_q - log_p)).mean()


def validation_table(
    alphas: tuple[float, ...] = (0.0, 0.3, 0.7, 1.0), n: int = 2048, repeats: int = 16, seed: int = 0
) -> pd.DataFrame:
    """:func:`gjs_mc` against the closed form (one component) and quadrature (two components).

    One-component p = N((0.5, -0.3), [[1, 0.4], [0.4, 0.6]]) and q = N((-0.4, 0.6), [[1.5, -0.3],
    [-0.3, 0.8]]), closed form from :func:`alphavae_core.divergences.gjs_mvn`; the 2-D mixture is
    ``make_mixture(2, 2, seed=3)`` with the same q. Columns: case, divergence, alpha, reference,
    estimate, stderr, z (= |estimate - reference| / stderr).
    """
    q = Gaussian.from_covariance(
        torch.tensor([-0.4, 0.6], dtype=DTYPE), torch.tensor([[1.5, -0.3], [-0.3, 0.8]], dtype=DTYPE)
    )
    mu_p = torch.tensor([0.5, -0.3], dtype=DTYPE)
    cov_p = torch.tensor([[1.0, 0.4], [0.4, 0.6]], dtype=DTYPE)
    single = Gaussian.from_covariance(mu_p, cov_p)
    one = GaussianMixture(torch.ones(1, dtype=DTYPE), mu_p[None], single.scale_tril[None])
    two = make_mixture(2, 2, seed=3)
    rows = []
    for case, p in (("1 component vs closed form", one), ("2 components vs quadrature", two)):
        for dual in (False, True):
            for a in alphas:
                if p is one:
                    ref = float(gjs_mvn(q.mean, q.covariance, mu_p, cov_p, a, dual=dual))
                else:
                    ref = gjs_quadrature(q, p, a, dual)
                est = gjs_mc_repeated(q, p, a, dual, n, repeats, seed)
                rows.append(
                    {
                        "case": case,
                        "divergence": "dual" if dual else "primal",
                        "alpha": a,
                        "reference": ref,
                        "estimate": float(est.value),
                        "stderr": float(est.stderr),
                    }
                )
    table = pd.DataFrame(rows)
    table["z"] = (table["estimate"] - table["reference"]).abs() / table["stderr"]
    return table
