"""Chapter 2: the skew landscape, where alpha is optimal (Proposition 1, equations 15-16, 18-25).

Propositions 1-2 of the paper (equations 15-17, proofs in Appendix B, equations 18-28) against the
exact closed-form divergence of :mod:`alphavae_core.divergences`, which this module only calls.

Conventions. Ours (the released code's, see :mod:`alphavae_core.divergences`): N_alpha ∝
q^alpha p^(1-alpha); the primal skew alpha=0 is KL(q||p) and alpha=1 is KL(p||q). Appendix B puts
the prior first, so its alpha is ``1 - alpha`` here. Writing ``A = KL(p||q)`` and ``B = KL(q||p)``:

* Equation 18 (paper): ``(1 - a)^2 A + a^2 B``, minimised at ``a* = A / (A + B)`` (eq. 16).
* The same in our convention: ``alpha^2 A + (1 - alpha)^2 B``, minimised at
  ``alpha* = B / (A + B) = KL(q||p) / (KL(p||q) + KL(q||p))``.

Equation 18 drops the normaliser of the geometric mean. Keeping it, with
``log Z_alpha = log ∫ q^alpha p^(1-alpha) <= 0`` (zero at both ends, convex in alpha), the exact
divergences are

* primal: ``alpha^2 A + (1 - alpha)^2 B + log Z_alpha``;
* dual: ``(2 alpha - 1) E_{N_alpha}[log q - log p] - log Z_alpha``, with
  ``E_{N_alpha}[log q - log p] = d log Z_alpha / d alpha``.

:func:`log_normaliser` recovers ``log Z_alpha`` from the closed forms (exact minus eq. 18), so the
chapter can check these identities rather than assume them.

All computations run in float64. ``mu`` and ``logvar`` are the posterior's parameters with the latent
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from alphavae_core.divergences import check_alpha, gjs_normal, kl_normal
from alphavae_core.experiments.presets import select

DTYPE = torch.float64
OBJECTIVES = ("exact", "approx")

# Sweep sizes and trajectory lengths for chapter 2, by preset (read with ``settings``).
SETTINGS: dict[str, dict] = {
    "smoke": {
        "grid": 201,
        "sweep_means": 9,
        "sweep_logvars": 13,
        "random_dims": (2, 10),
        "random_per_dim": 20,
        "gd_steps": 12,
        "adam_steps": 400,
        "starts": (0.05, 0.5, 0.95),
        "seed": 0,
    },
    "cpu": {
        "grid": 401,
        "sweep_means": 41,
        "sweep_logvars": 61,
        "random_dims": (2, 10, 32),
        "random_per_dim": 200,
        "gd_steps": 25,
        "adam_steps": 8000,
        "starts": (0.05, 0.5, 0.95),
        "seed": 0,
    },
    "paper": {
        "grid": 801,
        "sweep_means": 81,
        "sweep_logvars": 121,
        "random_dims": (2, 10, 32, 64),
        "random_per_dim": 1000,
        "gd_steps": 25,
        "adam_steps": 20000,
        "starts": (0.05, 0.25, 0.5, 0.75, 0.95),
        "seed": 0,
    },
}

# The documented sweep: q = N(m * 1, e^s I) with m and s on these ranges (p is symmetric in m).
MEAN_RANGE = (0.0, 4.0)
LOGVAR_RANGE = (-8.0, 4.0)
# Heterogeneous q's: per-dimension means ~ N(0, RANDOM_MEAN_SD^2), log-variances ~ U(LOGVAR_RANGE).
RANDOM_MEAN_SD = 1.5

_CHUNK_ELEMENTS = 2**19  # bound on batch x grid x dim per evaluation (memory, not speed)


def settings(preset: str) -> dict:
    """The chapter's settings for ``preset`` (``smoke``, ``cpu`` or ``paper``)."""
    return select(SETTINGS, preset)


# ---------------------------------------------------------------------------- input checks


def _as_q(mu, logvar) -> tuple[Tensor, Tensor]:
    mu = torch.as_tensor(mu, dtype=DTYPE)
    logvar = torch.as_tensor(logvar, dtype=DTYPE)
    if mu.dim() == 0 or mu.shape != logvar.shape:
        raise ValueError(
            f"mu and logvar must have the same shape with the latent dimension last, got "
            f"{tuple(mu.shape)} and {tuple(logvar.shape)}"
        )
    if mu.shape[-1] == 0:
        raise ValueError("mu and logvar need at least one latent dimension")
    if not (torch.isfinite(mu).all() and torch.isfinite(logvar).all()):
        raise ValueError("mu and logvar must be finite (no NaN or inf)")
    return mu, logvar


def _as_alphas(alphas) -> Tensor:
    alphas = torch.as_tensor(alphas, dtype=DTYPE)
    if alphas.dim() != 1 or alphas.numel() == 0:
        raise ValueError(f"alphas must be a non-empty 1-D sequence, got shape {tuple(alphas.shape)}")
    check_alpha(alphas)
    return alphas


def _check_objective(objective: str) -> None:
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")


def _check_count(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# ------------------------------------------------------------------------- the two formulas


def kl_directions(mu, logvar) -> tuple[Tensor, Tensor]:
    """``(KL(p||q), KL(q||p))`` for q = N(mu, diag e^logvar) and p = N(0, I), via ``kl_normal``."""
    mu, logvar = _as_q(mu, logvar)
    zero = torch.zeros_like(mu)
    return kl_normal(zero, zero, mu, logvar), kl_normal(mu, logvar, zero, zero)


def alpha_star_eq16(mu, logvar, convention: str = "ours") -> Tensor:
    """Equation 16, the minimiser of the unnormalised approximation (eq. 18).

    ``convention="ours"`` (default): ``KL(q||p) / (KL(p||q) + KL(q||p))``, the skew in the
    convention of :func:`gjs_normal` (primal alpha=0 is KL(q||p)).
    ``convention="paper"``: eq. 16 as printed, ``KL(p||q) / (KL(p||q) + KL(q||p))``, which is one
    minus the former. NaN when q equals the prior (0/0: every skew is then a minimiser).
    """
    if convention not in ("ours", "paper"):
        raise ValueError(f"unknown convention {convention!r}; choose 'ours' or 'paper'")
    fwd, rev = kl_directions(mu, logvar)
    return (fwd if convention == "paper" else rev) / (fwd + rev)


def alpha_star_dual_chord(mu, logvar) -> Tensor:
    """Our heuristic analogue of eq. 16 for the dual (not in the paper), ``(3A + B) / (4(A + B))``.

    Dropping log Z_alpha from the exact dual leaves ``(2 alpha - 1) E_{N_alpha}[log q - log p]``,
    which still needs the normalised N_alpha. Replacing that expectation by the straight line
    between its end values (``-A`` at alpha=0, ``B`` at alpha=1; ``A = KL(p||q)``,
    ``B = KL(q||p)``) gives a quadratic with this minimiser. The chapter shows it is a poor guide.
    """
    fwd, rev = kl_directions(mu, logvar)
    return (3.0 * fwd + rev) / (4.0 * (fwd + rev))


# ------------------------------------------------------------------------------ landscapes


def landscape(mu, logvar, alphas, dual: bool = False) -> Tensor:
    """The exact JS^Galpha (or dual) at each skew of ``alphas``, shape ``(*batch, len(alphas))``.

    Values from :func:`alphavae_core.divergences.gjs_normal` (equations 5-10).
    """
    mu, logvar = _as_q(mu, logvar)
    alphas = _as_alphas(alphas)
    return _objective_fn(mu, logvar, dual, "exact")(alphas)


def approx_landscape(mu, logvar, alphas) -> Tensor:
    """Equation 18 in our convention, ``alpha^2 KL(p||q) + (1 - alpha)^2 KL(q||p)``.

    The primal divergence with the geometric mean's normaliser dropped; same shape as
    :func:`landscape`.
    """
    alphas = _as_alphas(alphas)
    fwd, rev = kl_directions(mu, logvar)
    return alphas**2 * fwd.unsqueeze(-1) + (1.0 - alphas) ** 2 * rev.unsqueeze(-1)


def log_normaliser(mu, logvar, alphas) -> Tensor:
    """``log Z_alpha = log ∫ q^alpha p^(1-alpha)``, as the exact primal minus eq. 18.

    Not a new closed form: the difference of :func:`landscape` and :func:`approx_landscape`,
    which equals log Z_alpha by the identity in the module docstring (the tests check it by
    quadrature).
    """
    return landscape(mu, logvar, alphas) - approx_landscape(mu, logvar, alphas)


def _objective_fn(mu: Tensor, logvar: Tensor, dual: bool, objective: str) -> Callable[[Tensor], Tensor]:
    """f(alpha) for skews of shape ``(*batch, k)``, returning ``(*batch, k)``."""
    _check_objective(objective)
    if objective == "approx":
        if dual:
            raise ValueError("eq. 18 approximates the primal only; use objective='exact' with dual=True")
        fwd, rev = kl_directions(mu, logvar)
        return lambda a: a**2 * fwd.unsqueeze(-1) + (1.0 - a) ** 2 * rev.unsqueeze(-1)
    mu_b, logvar_b = mu.unsqueeze(-2), logvar.unsqueeze(-2)

    def exact(a: Tensor) -> Tensor:
        # gjs_normal wants the skew to add no batch axes of its own: give q every axis of the skew's
        shape = (*torch.broadcast_shapes(a.shape, mu_b.shape[:-1]), mu.shape[-1])
        return gjs_normal(mu_b.expand(shape), logvar_b.expand(shape), a, dual=dual)

    return exact


def _derivatives(fn: Callable[[Tensor], Tensor], alphas: Tensor, order: int) -> Tensor:
    """d^order f / d alpha^order at each skew; each output depends on its own skew only."""
    a = alphas.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad(fn(a).sum(), a, create_graph=order > 1)
    if order == 1:
        return first.detach()
    (second,) = torch.autograd.grad(first.sum(), a)
    return second.detach()


def derivative(mu, logvar, alphas, dual: bool = False, objective: str = "exact") -> Tensor:
    """d f / d alpha at each skew (autograd through ``gjs_normal``); eq. 15/19 for the approximation."""
    mu, logvar = _as_q(mu, logvar)
    alphas = _as_alphas(alphas).expand(*mu.shape[:-1], -1)
    return _derivatives(_objective_fn(mu, logvar, dual, objective), alphas, 1)


def curvature(mu, logvar, alphas, dual: bool = False, objective: str = "exact") -> Tensor:
    """d^2 f / d alpha^2 at each skew (double autograd); eq. 20/22 says 2(KL(p||q)+KL(q||p)) for eq. 18."""
    mu, logvar = _as_q(mu, logvar)
    alphas = _as_alphas(alphas).expand(*mu.shape[:-1], -1)
    return _derivatives(_objective_fn(mu, logvar, dual, objective), alphas, 2)


# ------------------------------------------------------------------------------ minimisers


def minimise_skew(
    fn: Callable[[Tensor], Tensor],
    batch_shape: Sequence[int] = (),
    grid: int = 401,
    iters: int = 60,
    flat_tol: float = 1e-13,
) -> Tensor:
    """Global minimiser over [0, 1] of a batch of smooth 1-D functions of the skew, in float64.

    ``fn`` maps skews of shape ``(*batch_shape, k)`` to values of the same shape, each value
    depending on its own skew only (so autograd of the sum gives every derivative at once).
    A dense grid of ``grid`` skews finds the best cell; bisection on the autograd derivative
    inside the two neighbouring cells refines it to float64 precision (a minimum at 0 or 1 is
    found the same way, the derivative keeping its sign). A landscape flatter than ``flat_tol``
    over the grid (q equal to the prior: every skew minimises) gives NaN.
    """
    grid = _check_count("grid", grid, 3)
    iters = _check_count("iters", iters, 1)
    batch_shape = tuple(batch_shape)
    alphas = torch.linspace(0.0, 1.0, grid, dtype=DTYPE)
    with torch.no_grad():
        values = fn(alphas.expand(*batch_shape, grid))
    best = values.argmin(-1)
    lo = alphas[(best - 1).clamp(min=0)]
    hi = alphas[(best + 1).clamp(max=grid - 1)]
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        rising = _derivatives(fn, mid.unsqueeze(-1), 1).squeeze(-1) > 0
        hi = torch.where(rising, mid, hi)
        lo = torch.where(rising, lo, mid)
    found = 0.5 * (lo + hi)
    flat = (values.max(-1).values - values.min(-1).values) <= flat_tol
    return torch.where(flat, torch.full_like(found, math.nan), found)


def _chunks(mu: Tensor, logvar: Tensor, grid: int):
    """Row slices of a (n, d) batch small enough that n x grid x d stays under the memory bound."""
    chunk = max(1, _CHUNK_ELEMENTS // (grid * mu.shape[-1]))
    return zip(mu.split(chunk), logvar.split(chunk), strict=True)


def exact_alpha_star(mu, logvar, dual: bool = False, grid: int = 401) -> Tensor:
    """The skew minimising the exact divergence (``gjs_normal``), one per q: shape ``mu.shape[:-1]``.

    Compare with :func:`alpha_star_eq16` (eq. 16, exact only for eq. 18's approximation).
    NaN when q equals the prior, where every skew gives divergence 0. Batches are evaluated in
    chunks to bound memory.
    """
    mu, logvar = _as_q(mu, logvar)
    batch, d = mu.shape[:-1], mu.shape[-1]
    out = []
    for m, lv in _chunks(mu.reshape(-1, d), logvar.reshape(-1, d), grid):
        fn = _objective_fn(m, lv, dual, "exact")
        out.append(minimise_skew(fn, (m.shape[0],), grid=grid))
    return torch.cat(out).reshape(batch)
