"""Chapter 2: how fast gradient descent and Adam reach the optimal skew (Proposition 2, equations 17, 26-28)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from alphavae_core.chapters.skew_optimisation.landscape import (
    DTYPE,
    _as_q,
    _check_count,
    _check_objective,
    _derivatives,
    _objective_fn,
    alpha_star_eq16,
    exact_alpha_star,
    kl_directions,
)
from alphavae_core.divergences import check_alpha

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
    bound by more than ``rtol * beta``, float64 rounding; missing (``<NA>``) if never within ``steps``),
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
            "first_violation": pd.Series(first.reshape(-1).numpy())
            .where(lambda t: t <= steps)
            .astype("Int64"),
            "ratio_after_1": ratio.reshape(-1).numpy(),
            "final_error": (traj[-1] - star.unsqueeze(-1)).abs().reshape(-1).numpy(),
            "predicted_factor": factor.unsqueeze(-1).expand(n_q, n_s).reshape(-1).numpy(),
        }
    )
