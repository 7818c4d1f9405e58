"""Chapter 2's sweeps over posteriors and the summaries the chapter prints (the gap to equation 16, Proposition 2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from alphavae_core.chapters.skew_optimisation.landscape import (
    DTYPE,
    LOGVAR_RANGE,
    MEAN_RANGE,
    RANDOM_MEAN_SD,
    _check_count,
    _chunks,
    _derivatives,
    _objective_fn,
    alpha_star_dual_chord,
    alpha_star_eq16,
    curvature,
    exact_alpha_star,
    kl_directions,
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
        violated = check["first_violation"].notna()
        per_q = check.groupby("q")["predicted_factor"].first()
        rows.append(
            {
                "objective": name,
                "(q, start) pairs": len(check),
                "bound violated (%)": round(100 * float(violated.mean()), 1),
                "median first violation T": (
                    int(check.loc[violated, "first_violation"].median()) if violated.any() else "never"
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

    ``trajectory`` is ``(steps + 1, ...)``; ``target`` broadcasts against one row. For a reader,
    :func:`reach_table` prints the -1s as words.
    """
    close = (trajectory - torch.as_tensor(target, dtype=trajectory.dtype)).abs() < tol
    # settled from step t on: every later step is close too (reverse cumulative AND)
    settled = close.flip(0).to(torch.int64).cumprod(0).flip(0).bool()
    first = settled.to(torch.int64).argmax(0)
    return torch.where(settled.any(0), first, torch.full_like(first, -1))


def reach_table(reach: Tensor, rows: Sequence[str], columns: Sequence[str], steps: int) -> pd.DataFrame:
    """:func:`steps_to_reach` results ``(len(rows), len(columns))`` as a table a reader can read:
    a step count, or "not within N steps" where the skew never settled within the ``steps`` run."""
    cells = [[f"{int(v):,}" if v >= 0 else f"not within {steps:,}" for v in row] for row in reach.tolist()]
    return pd.DataFrame(cells, index=list(rows), columns=list(columns))


def _sig(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def readable(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits as a reader writes it: ``0.0257``, ``2,890``, and
    ``2.56 × 10⁷`` or ``9.86 × 10⁻⁶`` outside [0.01, 10⁴) rather than ``2.56e+07``."""
    value = _sig(float(value), digits)
    if value == 0 or 0.01 <= abs(value) < 1e4:
        decimals = max(0, digits - 1 - int(np.floor(np.log10(abs(value))))) if value else 0
        return f"{value:,.{decimals}f}"
    exponent = int(np.floor(np.log10(abs(value))))
    mantissa = value / 10**exponent
    return f"{mantissa:.{digits - 1}f} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def curvature_summary(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Convexity over sweeps: f''(alpha) / lambda (eq. 22), per sweep and direction, as :func:`readable`
    text with 3 significant digits.

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
                    "min over grid": readable(table[f"min_curv_{direction}"].min()),
                    "max over grid": readable(table[f"max_curv_{direction}"].max()),
                    "at α*, min": readable(table[f"curv_at_star_{direction}"].min()),
                    "at α*, median": readable(table[f"curv_at_star_{direction}"].median()),
                    "at α*, max": readable(table[f"curv_at_star_{direction}"].max()),
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
            f"primal: f''/λ from {readable(both['min_curv_primal'].min())} to "
            f"{readable(both['max_curv_primal'].max())} (convex, never below λ); dual: f'' > 0 at every grid "
            f"point (min f''/λ {readable(both['min_curv_dual'].min())}), convex on the sweep but flat at its "
            f"minimum (median f''(α*)/λ {readable(both['curv_at_star_dual'].median())})",
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
