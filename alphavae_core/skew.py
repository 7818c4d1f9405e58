"""Chapter 2: where the skew alpha is optimal, and how fast gradient descent gets there.

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
dimension last (any leading batch dimensions); the prior is the standard normal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from .divergences import check_alpha, gjs_normal, kl_normal
from .presets import select

__all__ = [
    "SETTINGS",
    "adam_trajectory",
    "alpha_star_dual_chord",
    "alpha_star_eq16",
    "approx_landscape",
    "curvature",
    "curvature_summary",
    "derivative",
    "exact_alpha_star",
    "gap_summary",
    "gd_trajectory",
    "kl_directions",
    "landscape",
    "log_normaliser",
    "html_table",
    "minimise_skew",
    "paper_vs_measured",
    "prop2_bound",
    "prop2_check",
    "prop2_summary",
    "prop2_step",
    "settings",
    "steps_to_reach",
    "suboptimality",
    "sweep_heterogeneous",
    "sweep_isotropic",
]

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
        "n_frames": 5,
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
        "n_frames": 13,
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
        "n_frames": 17,
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


# ------------------------------------------------------------------------ Proposition 2


def prop2_step(mu, logvar) -> Tensor:
    """Equation 27: the gradient-descent step ``1 / (2 (KL(p||q) + KL(q||p)))``.

    It is ``2 / (lambda + beta)`` (eq. 26) with lambda = beta = the curvature of eq. 18 (eqs 22, 25),
    i.e. Newton's step for eq. 18, which therefore reaches its minimiser in one step.
    """
    fwd, rev = kl_directions(mu, logvar)
    return 1.0 / (2.0 * (fwd + rev))


def _starts(alpha0, batch: torch.Size) -> Tensor:
    alpha = torch.as_tensor(alpha0, dtype=DTYPE).reshape(-1)
    if alpha.numel() == 0:
        raise ValueError("give at least one starting skew")
    check_alpha(alpha)
    return alpha.expand(*batch, -1).clone()


def prop2_bound(mu, logvar, alpha1, alpha_star, steps: int) -> Tensor:
    """Equations 17 and 28: ``2 (KL(p||q) + KL(q||p)) |alpha_1 - alpha*|^2 e^(-4T)`` for T = 0..steps.

    A bound on the suboptimality ``f(alpha after T steps) - f(alpha*)``. We read eq. 17's
    ``D_1^2`` as ``|alpha_1 - alpha*|^2``, as in eq. 28 (eq. 17's own definition of D_1 as a
    squared norm would square it twice). ``alpha_star`` has the batch shape of ``mu`` (or is a
    number); ``alpha1`` holds the starts. Shape ``(steps + 1, *batch, len(alpha1))``.
    """
    mu, logvar = _as_q(mu, logvar)
    steps = _check_count("steps", steps, 0)
    batch = mu.shape[:-1]
    alpha1 = _starts(alpha1, batch)
    star = torch.as_tensor(alpha_star, dtype=DTYPE).expand(batch).unsqueeze(-1)
    fwd, rev = kl_directions(mu, logvar)
    beta = (2.0 * (fwd + rev)).unsqueeze(-1)
    t = torch.arange(steps + 1, dtype=DTYPE).reshape(-1, *([1] * (len(batch) + 1)))
    return beta * (alpha1 - star) ** 2 * torch.exp(-4.0 * t)


def gd_trajectory(
    mu,
    logvar,
    alpha0,
    steps: int,
    dual: bool = False,
    step_size: float | Tensor | None = None,
    objective: str = "exact",
) -> Tensor:
    """Projected gradient descent on the skew: ``alpha <- clip(alpha - step * f'(alpha), 0, 1)``.

    Every q of the batch (``mu`` of shape ``(*batch, d)``) starts from each skew of ``alpha0``;
    returns ``(steps + 1, *batch, n_starts)`` with the starts in row 0. ``step_size`` (a number
    or one per q) defaults to eq. 27. ``objective="exact"`` descends ``gjs_normal`` (primal or
    dual), ``"approx"`` eq. 18. Clipping to [0, 1] keeps the divergence defined, as the
    trainer's clamp does.
    """
    mu, logvar = _as_q(mu, logvar)
    steps = _check_count("steps", steps, 0)
    fn = _objective_fn(mu, logvar, dual, objective)
    if step_size is None:
        step = prop2_step(mu, logvar)
    else:
        step = torch.as_tensor(step_size, dtype=DTYPE)
        if not bool((torch.isfinite(step) & (step > 0)).all()):
            raise ValueError(f"step_size must be positive and finite, got {step_size}")
    step = step.expand(mu.shape[:-1]).unsqueeze(-1)
    alpha = _starts(alpha0, mu.shape[:-1])
    rows = [alpha.clone()]
    for _ in range(steps):
        alpha = (alpha - step * _derivatives(fn, alpha, 1)).clamp(0.0, 1.0)
        rows.append(alpha.clone())
    return torch.stack(rows)


def adam_trajectory(
    mu,
    logvar,
    alpha0,
    steps: int,
    lr: float | Sequence[float] = 1e-4,
    dual: bool = False,
    objective: str = "exact",
) -> Tensor:
    """Adam (torch defaults, betas 0.9/0.999) on the skew alone, clamped to [0, 1] after each step.

    The paper trains alpha with its own optimiser (Section 4); 1e-4 is the trainer's rate. Each
    (q, start) pair is its own coordinate, and Adam is per-coordinate, so they evolve
    independently. Returns ``(steps + 1, *batch, n_starts)``; with a sequence of rates, one Adam
    parameter group per rate shares each forward pass and the result is
    ``(steps + 1, n_rates, *batch, n_starts)``.
    """
    mu, logvar = _as_q(mu, logvar)
    steps = _check_count("steps", steps, 0)
    rates = [lr] if isinstance(lr, int | float) else list(lr)
    for rate in rates:
        if isinstance(rate, bool) or not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
            raise ValueError(f"lr must be a positive number (or a sequence of them), got {rate!r}")
    if not rates:
        raise ValueError("give at least one learning rate")
    fn = _objective_fn(mu, logvar, dual, objective)
    start = _starts(alpha0, mu.shape[:-1])
    params = [start.clone().requires_grad_(True) for _ in rates]
    optimiser = torch.optim.Adam(
        [{"params": [p], "lr": float(r)} for p, r in zip(params, rates, strict=True)]
    )
    out = torch.empty(steps + 1, len(rates), *start.shape, dtype=DTYPE)
    out[0] = start
    for t in range(1, steps + 1):
        optimiser.zero_grad()
        fn(torch.stack(params)).sum().backward()  # one pass for every rate
        optimiser.step()
        with torch.no_grad():
            for i, p in enumerate(params):
                out[t, i] = p.clamp_(0.0, 1.0)
    return out[:, 0] if isinstance(lr, int | float) else out


def suboptimality(mu, logvar, trajectory: Tensor, dual: bool = False, objective: str = "exact") -> Tensor:
    """``f(alpha_t) - min f`` along a trajectory (same shape), the quantity eq. 28 bounds.

    The minimum is at :func:`exact_alpha_star` for the exact divergence and at eq. 16 for eq. 18.
    Clipped at 0 (rounding can make it a hair negative).
    """
    mu, logvar = _as_q(mu, logvar)
    fn = _objective_fn(mu, logvar, dual, objective)
    star = alpha_star_eq16(mu, logvar) if objective == "approx" else exact_alpha_star(mu, logvar, dual=dual)
    with torch.no_grad():
        return (fn(trajectory) - fn(star.unsqueeze(-1))).clamp(min=0.0)


def prop2_check(
    mu, logvar, alpha0, steps: int, dual: bool = False, objective: str = "exact", rtol: float = 1e-12
) -> pd.DataFrame:
    """Does eq. 28 bound gradient descent with eq. 27's step? One row per (q, start).

    Runs :func:`gd_trajectory` and compares :func:`suboptimality` with :func:`prop2_bound`
    (taking alpha* as the true minimiser of the objective descended). Columns: ``q`` (index in the
    flattened batch), ``start``, ``first_violation`` (first step T at which the gap exceeds the
    bound by more than ``rtol * beta``, float64 rounding; -1 if never within ``steps``),
    ``ratio_after_1`` (gap / bound after one step; 0 if the gap is already at rounding level),
    ``final_error`` (``|alpha_T - alpha*|`` after the last step) and ``predicted_factor``
    (``|1 - f''(alpha*) * step|``, the local contraction of the error per step: GD converges
    iff it is below 1).
    """
    mu, logvar = _as_q(mu, logvar)
    _check_objective(objective)
    d = mu.shape[-1]
    mu, logvar = mu.reshape(-1, d), logvar.reshape(-1, d)
    traj = gd_trajectory(mu, logvar, alpha0, steps, dual=dual, objective=objective)
    gap = suboptimality(mu, logvar, traj, dual=dual, objective=objective)
    star = alpha_star_eq16(mu, logvar) if objective == "approx" else exact_alpha_star(mu, logvar, dual=dual)
    bound = prop2_bound(mu, logvar, traj[0, 0], star, steps)
    fwd, rev = kl_directions(mu, logvar)
    tol = (rtol * 2.0 * (fwd + rev)).unsqueeze(-1)
    violated = gap > bound + tol
    t = torch.arange(steps + 1).reshape(-1, 1, 1).expand_as(gap)
    first = torch.where(violated, t, steps + 1).min(0).values
    one = min(1, steps)
    ratio = torch.where(gap[one] > tol, gap[one] / bound[one], torch.zeros_like(gap[one]))
    curv = _derivatives(_objective_fn(mu, logvar, dual, objective), star.unsqueeze(-1), 2).squeeze(-1)
    factor = (1.0 - curv * prop2_step(mu, logvar)).abs()
    n_q, n_s = gap.shape[1:]
    return pd.DataFrame(
        {
            "q": np.repeat(np.arange(n_q), n_s),
            "start": traj[0].reshape(-1).numpy(),
            "first_violation": torch.where(first > steps, -1, first).reshape(-1).numpy(),
            "ratio_after_1": ratio.reshape(-1).numpy(),
            "final_error": (traj[-1] - star.unsqueeze(-1)).abs().reshape(-1).numpy(),
            "predicted_factor": factor.unsqueeze(-1).expand(n_q, n_s).reshape(-1).numpy(),
        }
    )


# ---------------------------------------------------------------------------------- sweeps


def _sweep_rows(mu: Tensor, logvar: Tensor, grid: int) -> dict[str, np.ndarray]:
    fwd, rev = kl_directions(mu, logvar)
    columns = {
        "kl_pq": fwd,
        "kl_qp": rev,
        "eq16": alpha_star_eq16(mu, logvar),
        "exact_primal": exact_alpha_star(mu, logvar, grid=grid),
        "exact_dual": exact_alpha_star(mu, logvar, dual=True, grid=grid),
        "dual_chord": alpha_star_dual_chord(mu, logvar),
    }
    alphas = torch.linspace(0.0, 1.0, grid, dtype=DTYPE)
    lam = 2.0 * (fwd + rev)
    # convexity over the whole grid, in units of eq. 22's lambda (eq. 18's constant curvature)
    for name, dual in (("primal", False), ("dual", True)):
        curv = torch.cat([curvature(m, lv, alphas, dual=dual) for m, lv in _chunks(mu, logvar, grid)])
        columns[f"min_curv_{name}"] = curv.min(-1).values / lam
        columns[f"max_curv_{name}"] = curv.max(-1).values / lam
        star = columns[f"exact_{name}"].nan_to_num(0.5).unsqueeze(-1)
        fn = _objective_fn(mu, logvar, dual, "exact")
        columns[f"curv_at_star_{name}"] = _derivatives(fn, star, 2).squeeze(-1) / lam
    return {k: v.numpy() for k, v in columns.items()}


def sweep_isotropic(n_means: int, n_logvars: int, dim: int = 1, grid: int = 401) -> pd.DataFrame:
    """Exact minimisers against eq. 16 for q = N(m * 1, e^s I) on an (m, s) grid.

    ``m`` spans :data:`MEAN_RANGE` and ``s`` :data:`LOGVAR_RANGE` evenly; the point q = p is left
    out (every skew minimises there). Columns: ``mean``, ``logvar``, ``dim``, the two KLs,
    ``eq16``, ``exact_primal``, ``exact_dual``, ``dual_chord`` and curvature summaries (min, max
    and at the minimiser, each divided by eq. 22's lambda).
    """
    n_means = _check_count("n_means", n_means, 1)
    n_logvars = _check_count("n_logvars", n_logvars, 1)
    dim = _check_count("dim", dim, 1)
    # rounded so that grid points meant to be 0 are exactly 0 (q = p is then recognised)
    means = torch.from_numpy(np.round(np.linspace(*MEAN_RANGE, n_means), 10))
    logvars = torch.from_numpy(np.round(np.linspace(*LOGVAR_RANGE, n_logvars), 10))
    m, s = torch.meshgrid(means, logvars, indexing="ij")
    keep = ~((m == 0) & (s == 0))
    m, s = m[keep], s[keep]
    mu = m.unsqueeze(-1).expand(-1, dim)
    logvar = s.unsqueeze(-1).expand(-1, dim)
    table = pd.DataFrame({"mean": m.numpy(), "logvar": s.numpy(), "dim": dim})
    return table.assign(**_sweep_rows(mu, logvar, grid))


def sweep_heterogeneous(dims: Sequence[int], per_dim: int, seed: int = 0, grid: int = 401) -> pd.DataFrame:
    """Exact minimisers against eq. 16 for random diagonal q's whose dimensions differ.

    For each ``d`` in ``dims``, ``per_dim`` q's with means ~ N(0, RANDOM_MEAN_SD^2) and
    log-variances ~ U(LOGVAR_RANGE), independently per dimension (seeded). Same columns as
    :func:`sweep_isotropic`, with ``mean`` and ``logvar`` the per-q averages.
    """
    per_dim = _check_count("per_dim", per_dim, 1)
    generator = torch.Generator().manual_seed(int(seed))
    tables = []
    for d in dims:
        d = _check_count("dimension", d, 1)
        mu = RANDOM_MEAN_SD * torch.randn(per_dim, d, generator=generator, dtype=DTYPE)
        low, high = LOGVAR_RANGE
        logvar = low + (high - low) * torch.rand(per_dim, d, generator=generator, dtype=DTYPE)
        table = pd.DataFrame({"mean": mu.mean(-1).numpy(), "logvar": logvar.mean(-1).numpy(), "dim": d})
        tables.append(table.assign(**_sweep_rows(mu, logvar, grid)))
    return pd.concat(tables, ignore_index=True)


def gap_summary(table: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """Max and median |exact - formula| over a sweep, and the q where the gap is largest.

    Rows: eq. 16 against the exact primal minimiser, eq. 16 against the exact dual minimiser,
    and the dual chord heuristic against the exact dual minimiser.
    """
    rows = []
    for name, formula, exact in (
        ("eq. 16 vs exact primal", "eq16", "exact_primal"),
        ("eq. 16 vs exact dual", "eq16", "exact_dual"),
        ("dual chord vs exact dual", "dual_chord", "exact_dual"),
    ):
        gap = (table[exact] - table[formula]).abs()
        worst = table.loc[gap.idxmax()]
        rows.append(
            {
                "comparison": name,
                "max |gap|": round(float(gap.max()), decimals),
                "median |gap|": round(float(gap.median()), decimals),
                "worst at mean": round(float(worst["mean"]), 2),
                "worst at logvar": round(float(worst["logvar"]), 2),
                "worst at dim": int(worst["dim"]),
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ chapter summaries


def prop2_summary(checks: Mapping[str, pd.DataFrame], decimals: int = 3) -> pd.DataFrame:
    """One row per :func:`prop2_check` table: how often, how soon and by how much eq. 28 fails.

    ``GD does not converge`` counts q's whose local error factor ``|1 - f''(alpha*) * step|`` is
    at least 1 (projected GD then settles into a cycle around alpha* instead of reaching it).
    For comparison, eq. 28 implies an error factor of at most ``e^-2 ≈ 0.135`` per step.
    """
    rows = []
    for name, check in checks.items():
        violated = check["first_violation"] >= 0
        per_q = check.groupby("q")["predicted_factor"].first()
        rows.append(
            {
                "objective": name,
                "(q, start) pairs": len(check),
                "bound violated (%)": round(100 * float(violated.mean()), 1),
                "median first violation T": (
                    int(check.loc[violated, "first_violation"].median()) if violated.any() else -1
                ),
                "GD does not converge (% of q)": round(100 * float((per_q >= 1).mean()), 1),
                "error factor per step, median": round(float(per_q.median()), decimals),
                "error factor per step, max": round(float(per_q.max()), decimals),
            }
        )
    return pd.DataFrame(rows)


def html_table(table: pd.DataFrame) -> str:
    """``table`` as plain HTML without the index and with untruncated cells, for ``IPython.display.HTML``.

    (The book renders notebook Markdown outputs as CommonMark, which has no pipe tables.)
    """
    return table.to_html(index=False, border=0, justify="left")


def steps_to_reach(trajectory: Tensor, target, tol: float = 0.01) -> Tensor:
    """First step at which ``|alpha_t - target| < tol`` and stays so; -1 if it never settles.

    ``trajectory`` is ``(steps + 1, ...)``; ``target`` broadcasts against one row.
    """
    close = (trajectory - torch.as_tensor(target, dtype=trajectory.dtype)).abs() < tol
    # settled from step t on: every later step is close too (reverse cumulative AND)
    settled = close.flip(0).to(torch.int64).cumprod(0).flip(0).bool()
    first = settled.to(torch.int64).argmax(0)
    return torch.where(settled.any(0), first, torch.full_like(first, -1))


def _sig(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


def curvature_summary(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Convexity over sweeps: f''(alpha) / lambda (eq. 22), per sweep and direction, 3 significant digits.

    ``min over grid`` is the smallest second derivative over every skew of the grid and every q
    (positive: convex on the grid); ``max over grid`` the largest; ``at alpha*`` the median over
    q's of the curvature at the exact minimiser, which sets gradient descent's local rate.
    """
    rows = []
    for name, table in tables.items():
        for direction in ("primal", "dual"):
            rows.append(
                {
                    "sweep": name,
                    "divergence": direction,
                    "min over grid": _sig(table[f"min_curv_{direction}"].min()),
                    "max over grid": _sig(table[f"max_curv_{direction}"].max()),
                    "at alpha*, min": _sig(table[f"curv_at_star_{direction}"].min()),
                    "at alpha*, median": _sig(table[f"curv_at_star_{direction}"].median()),
                    "at alpha*, max": _sig(table[f"curv_at_star_{direction}"].max()),
                }
            )
    return pd.DataFrame(rows)


def paper_vs_measured(
    iso: pd.DataFrame, het: pd.DataFrame, checks: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """The chapter's "what the paper says / what we measured" table, from the sweeps' results.

    ``checks`` holds :func:`prop2_check` tables under the keys ``"eq. 18 (primal)"``,
    ``"exact primal"`` and ``"exact dual"``.
    """
    both = pd.concat([iso, het], ignore_index=True)

    def gaps(table: pd.DataFrame, column: str) -> tuple[float, float]:
        gap = (table[column] - table["eq16"]).abs()
        return round(float(gap.max()), 3), round(float(gap.median()), 3)

    (p_max, p_med), (ph_max, ph_med) = gaps(iso, "exact_primal"), gaps(het, "exact_primal")
    (d_max, d_med), (dh_max, dh_med) = gaps(iso, "exact_dual"), gaps(het, "exact_dual")
    summary = prop2_summary(checks).set_index("objective")
    approx, exact, dual = (summary.loc[k] for k in ("eq. 18 (primal)", "exact primal", "exact dual"))
    rows = [
        (
            "Optimal primal skew (Prop. 1, eq. 16)",
            "KL(p‖q) / (KL(p‖q) + KL(q‖p)) with the prior first; KL(q‖p) / (KL(p‖q) + KL(q‖p)) in ours",
            f"exact minimiser − eq. 16: max {p_max}, median {p_med} (isotropic sweep); "
            f"max {ph_max}, median {ph_med} (random diagonal q); zero for pure mean shifts",
        ),
        (
            "Optimal dual skew",
            "no formula; training said to be well behaved",
            f"eq. 16 is off by max {d_max}, median {d_med} (isotropic); max {dh_max}, median {dh_med} "
            f"(random); exact dual α* lies in [{both['exact_dual'].min():.2f}, {both['exact_dual'].max():.2f}] "
            f"while eq. 16 spans [{_sig(both['eq16'].min(), 1):g}, {both['eq16'].max():.2f}]",
        ),
        (
            "Convexity in α (eq. 20)",
            "f'' = 2(KL(p‖q) + KL(q‖p)) = λ, constant",
            f"primal: f''/λ from {_sig(both['min_curv_primal'].min()):g} to {_sig(both['max_curv_primal'].max()):g} "
            f"(convex, never below λ); dual: f'' > 0 at every grid point (min f''/λ "
            f"{_sig(both['min_curv_dual'].min()):g}), convex on the sweep but flat at its minimum "
            f"(median f''(α*)/λ {_sig(both['curv_at_star_dual'].median()):g})",
        ),
        (
            "GD rate (Prop. 2, eqs 17, 27-28)",
            "f(α_T) − f(α*) ≤ 2(KL(p‖q) + KL(q‖p)) (α_1 − α*)² e^(−4T) with step eq. 27",
            f"eq. 18: holds ({approx['bound violated (%)']}% violated; one step reaches eq. 16); exact primal: "
            f"violated for {exact['bound violated (%)']}% of (q, start) pairs, from T = "
            f"{int(exact['median first violation T'])} (median); GD does not converge for "
            f"{exact['GD does not converge (% of q)']}% of q's; exact dual: violated for "
            f"{dual['bound violated (%)']}%",
        ),
    ]
    return pd.DataFrame(rows, columns=["claim", "paper", "measured (this chapter's sweep)"])
