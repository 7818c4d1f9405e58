"""Chapter 2's figures and explorer: the skew landscape of q = N(m 1, e^s I) and its minimum.

One drawing function, :func:`draw_skew_panel`, serves both front ends (as in chapter 1's
:mod:`alphavae_core.chapters.divergences.explorer`):

* :func:`skew_explorer` — ipywidgets sliders (mean m, log-variance s, dimension d) for a live kernel;
* :func:`skew_animation` — a kernel-free ``FuncAnimation.to_jshtml`` page whose frame slider sweeps
  q's mean, for the static HTML book.

The ``plot_*`` functions draw the chapter's static figures from :mod:`.landscape`, :mod:`.descent` and :mod:`.sweeps` results.

In the explorer, the left panel shows the exact primal JS^Galpha (``gjs_normal``) and equation 18's approximation, with the
exact minimiser and equation 16 marked. Right panel: the exact dual with its minimiser, and
equation 16 for reference (it was derived for the primal only). Convention of
:mod:`alphavae_core.divergences` (N_alpha ∝ q^alpha p^(1-alpha)).
"""

from __future__ import annotations

from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np
import torch

from alphavae_core.chapters.skew_optimisation.descent import (
    gd_trajectory,
    prop2_bound,
    suboptimality,
)
from alphavae_core.chapters.skew_optimisation.landscape import (
    alpha_star_eq16,
    approx_landscape,
    curvature,
    exact_alpha_star,
    kl_directions,
    landscape,
)
from alphavae_core.plotting import PALETTE, frame_animation, live_panels, new_figure

__all__ = [
    "draw_skew_panel",
    "plot_adam",
    "plot_curvature",
    "plot_gap_maps",
    "plot_gd",
    "plot_landscapes",
    "skew_animation",
    "skew_curves",
    "skew_explorer",
]

PRIMAL_COLOUR = PALETTE["gjs"]
DUAL_COLOUR = PALETTE["dgjs"]
APPROX_COLOUR = "0.45"
N_ALPHA = 201


@lru_cache(maxsize=128)
def skew_curves(mean: float, logvar: float, dim: int = 1) -> dict[str, np.ndarray | float]:
    """Landscapes and minimisers for q = N(mean * 1, e^logvar I_dim) against N(0, I).

    Returns ``alpha``, ``primal``, ``approx`` (eq. 18), ``dual`` (arrays) and the skews
    ``eq16``, ``exact_primal``, ``exact_dual`` (NaN when q is the prior). Cached for the widget.
    """
    mu = torch.full((int(dim),), float(mean), dtype=torch.float64)
    lv = torch.full((int(dim),), float(logvar), dtype=torch.float64)
    alphas = torch.linspace(0.0, 1.0, N_ALPHA, dtype=torch.float64)
    return {
        "alpha": alphas.numpy(),
        "primal": landscape(mu, lv, alphas).numpy(),
        "approx": approx_landscape(mu, lv, alphas).numpy(),
        "dual": landscape(mu, lv, alphas, dual=True).numpy(),
        "eq16": float(alpha_star_eq16(mu, lv)),
        "exact_primal": float(exact_alpha_star(mu, lv)),
        "exact_dual": float(exact_alpha_star(mu, lv, dual=True)),
    }


def _mark(ax, alpha: float, curve_alpha: np.ndarray, curve: np.ndarray, **style) -> None:
    if np.isfinite(alpha):
        ax.axvline(alpha, lw=1.2, **style)
        ax.plot([alpha], [np.interp(alpha, curve_alpha, curve)], "o", ms=4, color=style.get("color"))


def draw_skew_panel(axes, mean: float, logvar: float, dim: int = 1) -> None:
    """Draw the primal (left) and dual (right) landscapes with their minimisers on two axes."""
    ax_p, ax_d = axes
    ax_p.clear()
    ax_d.clear()
    c = skew_curves(float(mean), float(logvar), int(dim))
    a = c["alpha"]
    ax_p.plot(a, c["primal"], color=PRIMAL_COLOUR, lw=2, label="exact (gjs_normal)")
    ax_p.plot(a, c["approx"], color=APPROX_COLOUR, ls="--", label="eq. 18 (no normaliser)")
    _mark(ax_p, c["exact_primal"], a, c["primal"], color=PRIMAL_COLOUR, ls="-")
    _mark(ax_p, c["eq16"], a, c["approx"], color=APPROX_COLOUR, ls=":")
    ax_p.set_title(
        rf"primal: exact $\alpha^*$={c['exact_primal']:.3f}, eq. 16={c['eq16']:.3f}", fontsize="small"
    )
    ax_d.plot(a, c["dual"], color=DUAL_COLOUR, lw=2, label="exact (gjs_normal, dual)")
    _mark(ax_d, c["exact_dual"], a, c["dual"], color=DUAL_COLOUR, ls="-")
    if np.isfinite(c["eq16"]):
        ax_d.axvline(c["eq16"], color=APPROX_COLOUR, ls=":", lw=1.2, label="eq. 16")
    ax_d.set_title(rf"dual: exact $\alpha^*$={c['exact_dual']:.3f}", fontsize="small")
    for ax, curves in ((ax_p, (c["primal"], c["approx"])), (ax_d, (c["dual"],))):
        top = max(float(np.max(v)) for v in curves)
        ax.set(xlim=(0.0, 1.0), ylim=(0.0, 1.08 * top if top > 0 else 1.0), xlabel=r"$\alpha$")
        ax.legend(loc="upper center", fontsize="x-small")
    ax_p.set_ylabel("divergence (nats)")


def skew_explorer(mean: float = 1.0, logvar: float = -2.0, dim: int = 1):
    """ipywidgets UI: sliders for q's mean, log-variance and dimension redraw both landscapes.

    Needs a live kernel; the static book shows :func:`skew_animation` instead. Returns the
    ``ipywidgets.interactive`` object.
    """
    import ipywidgets as widgets

    style = {"description_width": "initial"}
    return live_panels(
        draw_skew_panel,
        mean=widgets.FloatSlider(value=mean, min=0.0, max=4.0, step=0.1, description="mean m", style=style),
        logvar=widgets.FloatSlider(
            value=logvar, min=-8.0, max=4.0, step=0.2, description="log-variance s", style=style
        ),
        dim=widgets.IntSlider(value=dim, min=1, max=64, step=1, description="dimension d", style=style),
    )


def skew_animation(
    logvar: float = -2.0,
    dim: int = 1,
    mean_range: tuple[float, float] = (0.0, 3.0),
    n_frames: int = 17,
    dpi: int = 60,
    figsize: tuple[float, float] = (7.5, 2.8),
) -> str:
    """Kernel-free version of :func:`skew_explorer`: HTML whose frame slider sweeps q's mean.

    ``n_frames`` evenly spaced means over ``mean_range`` at fixed ``logvar`` and ``dim``; each
    frame a PNG of :func:`draw_skew_panel` embedded in the page (about 20-30 kB a frame).
    """
    if isinstance(n_frames, bool) or int(n_frames) != n_frames or n_frames < 2:
        raise ValueError(f"n_frames must be an integer >= 2, got {n_frames}")
    means = np.linspace(*mean_range, int(n_frames))
    return frame_animation(
        lambda axes, i: draw_skew_panel(axes, float(means[i]), logvar, dim), len(means), dpi, figsize, fps=3
    )


# --------------------------------------------------------------------------- static figures


def _example_colours(n: int) -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key()["color"][:n]


def plot_landscapes(examples: dict[str, tuple[float, float]], axes=None):
    """Primal (exact and eq. 18) and dual landscapes of several 1-D q's, minimisers marked.

    ``examples`` maps a legend name to ``(mean, logvar)``. Each curve is divided by the larger of
    its two end values (the two KLs), so that q's of different scales share an axis. Filled
    circles: exact minimisers; open circles: eq. 16 on eq. 18's curve.
    """
    if axes is None:
        _, axes = new_figure(ncols=2, width=8.0, height=3.0, sharey=True)
    ax_p, ax_d = axes
    for (name, (mean, logvar)), col in zip(examples.items(), _example_colours(len(examples)), strict=True):
        c = skew_curves(float(mean), float(logvar))
        a, scale = c["alpha"], max(c["primal"][0], c["primal"][-1])
        ax_p.plot(a, c["primal"] / scale, color=col, lw=2, label=name)
        ax_p.plot(a, c["approx"] / scale, color=col, ls="--", lw=1)
        ax_p.plot([c["exact_primal"]], [np.interp(c["exact_primal"], a, c["primal"]) / scale], "o", color=col)
        ax_p.plot([c["eq16"]], [np.interp(c["eq16"], a, c["approx"]) / scale], "o", mfc="white", color=col)
        ax_d.plot(a, c["dual"] / scale, color=col, lw=2, label=name)
        ax_d.plot([c["exact_dual"]], [np.interp(c["exact_dual"], a, c["dual"]) / scale], "o", color=col)
        ax_d.axvline(c["eq16"], color=col, ls=":", lw=1)
    ax_p.set(
        xlabel=r"$\alpha$", ylabel="divergence / max(KL ends)", title="primal: exact (solid), eq. 18 (dashed)"
    )
    ax_d.set(xlabel=r"$\alpha$", title="dual: exact; eq. 16 dotted")
    ax_p.legend(fontsize="x-small")
    return axes


def plot_gap_maps(iso, het, axes=None):
    """Exact minimiser minus eq. 16 over the isotropic (mean, log-variance) sweep, primal and dual,
    and exact against eq. 16 for the heterogeneous sweep (one point per q).
    """
    if axes is None:
        _, axes = new_figure(ncols=3, width=10.5, height=3.2)
    means, logvars = np.unique(iso["mean"]), np.unique(iso["logvar"])
    for ax, column, title in ((axes[0], "exact_primal", "primal"), (axes[1], "exact_dual", "dual")):
        grid = (
            (iso[column] - iso["eq16"])
            .groupby([iso["mean"], iso["logvar"]])
            .first()
            .unstack()
            .reindex(index=means, columns=logvars)
        )
        limit = float(np.nanmax(np.abs(grid.to_numpy())))
        image = ax.pcolormesh(
            logvars, means, grid.to_numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit, shading="nearest"
        )
        ax.figure.colorbar(image, ax=ax, label=r"exact $\alpha^*$ $-$ eq. 16")
        ax.set(xlabel="log-variance $s$ of $q$", ylabel="mean $m$ of $q$", title=title)
        ax.grid(False)
    ax = axes[2]
    for column, colour, name in (
        ("exact_primal", PRIMAL_COLOUR, "primal"),
        ("exact_dual", DUAL_COLOUR, "dual"),
    ):
        ax.scatter(het["eq16"], het[column], s=6, alpha=0.5, color=colour, label=name)
    ax.plot([0, 1], [0, 1], color="0.3", lw=1)
    ax.set(
        xlabel="eq. 16",
        ylabel=r"exact $\alpha^*$",
        title="random diagonal q (d = 2-64)",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(fontsize="x-small", markerscale=2)
    return axes


def plot_curvature(examples: dict[str, tuple[float, float]], n_alpha: int = 201, axes=None):
    """Second derivative of the exact primal and dual over alpha, in units of eq. 22's lambda."""
    if axes is None:
        _, axes = new_figure(ncols=2, width=8.0, height=3.0, sharey=True)
    alphas = torch.linspace(0.0, 1.0, n_alpha, dtype=torch.float64)
    for (name, (mean, logvar)), col in zip(examples.items(), _example_colours(len(examples)), strict=True):
        mu = torch.tensor([float(mean)], dtype=torch.float64)
        lv = torch.tensor([float(logvar)], dtype=torch.float64)
        fwd, rev = kl_directions(mu, lv)
        lam = float(2 * (fwd + rev))
        for ax, dual in ((axes[0], False), (axes[1], True)):
            ax.plot(alphas, curvature(mu, lv, alphas, dual=dual) / lam, color=col, label=name)
    for ax, title in zip(axes, ("primal", "dual"), strict=True):
        ax.axhline(1.0, color="0.3", ls="--", lw=1)
        ax.set(yscale="log", xlabel=r"$\alpha$", title=title)
    axes[0].set_ylabel(r"$f''(\alpha)\,/\,\lambda$ (eq. 22)")
    axes[0].legend(fontsize="x-small")
    return axes


def plot_gd(mu, logvar, starts, steps: int, axes=None, title: str = ""):
    """Gradient descent with eq. 27's step: alpha_t (left) and f(alpha_t) - min f (right).

    Solid: the exact primal; dashed: eq. 18 (which it solves in one step). Right panel: the
    gap of the exact primal against eq. 28's bound (dotted, one per start).
    """
    if axes is None:
        _, axes = new_figure(ncols=2, width=8.0, height=3.0)
    steps_axis = np.arange(steps + 1)
    exact = gd_trajectory(mu, logvar, starts, steps)
    approx = gd_trajectory(mu, logvar, starts, steps, objective="approx")
    star = exact_alpha_star(mu, logvar)
    gap = suboptimality(mu, logvar, exact)
    bound = prop2_bound(mu, logvar, starts, star, steps)
    for i, col in enumerate(_example_colours(len(starts))):
        axes[0].plot(steps_axis, exact[:, i], color=col, marker=".", label=rf"$\alpha_1$={starts[i]:g}")
        axes[0].plot(steps_axis, approx[:, i], color=col, ls="--", lw=1)
        axes[1].semilogy(steps_axis, gap[:, i].clamp(min=1e-17), color=col, marker=".")
        axes[1].semilogy(steps_axis, bound[:, i], color=col, ls=":")
    axes[0].axhline(float(star), color="0.2", lw=1)
    axes[0].axhline(float(alpha_star_eq16(mu, logvar)), color="0.2", ls="--", lw=1)
    axes[0].set(xlabel="step $T$", ylabel=r"$\alpha_T$", ylim=(-0.03, 1.03), title=title)
    axes[0].legend(fontsize="x-small")
    axes[1].set(xlabel="step $T$", ylabel=r"$f(\alpha_T) - f(\alpha^*)$", ylim=(1e-17, None))
    axes[1].set_title("exact gap (solid) vs eq. 28 bound (dotted)", fontsize="small")
    return axes


def plot_adam(traj, rates, star: float, eq16: float, axes=None):
    """Adam on the skew: alpha_t for each learning rate (one panel each), exact alpha* and eq. 16 marked.

    ``traj`` is :func:`alphavae_core.adam_trajectory`'s ``(steps + 1, n_rates, n_starts)``.
    Dotted: the envelope eq. 28 implies for the primal's skew, ``|alpha_T - alpha*| <= sqrt(2)
    |alpha_1 - alpha*| e^(-2T)`` (from ``f - f* >= lambda/2 (alpha - alpha*)^2``, which holds for
    the exact primal since its curvature is at least lambda).
    """
    if axes is None:
        _, axes = new_figure(ncols=len(rates), width=4.0 * len(rates), height=3.0, sharey=True)
    steps_axis = np.arange(traj.shape[0])
    for k, (ax, rate) in enumerate(zip(np.atleast_1d(axes), rates, strict=True)):
        for i, col in enumerate(_example_colours(traj.shape[-1])):
            start = float(traj[0, k, i])
            ax.plot(steps_axis, traj[:, k, i], color=col, label=rf"$\alpha_1$={start:g}")
            envelope = np.sqrt(2.0) * (start - star) * np.exp(-2.0 * steps_axis)
            ax.plot(steps_axis, star + envelope, color=col, ls=":", lw=1.2)
        ax.axhline(star, color="0.2", lw=1, label=r"exact $\alpha^*$")
        ax.axhline(eq16, color="0.2", ls="--", lw=1, label="eq. 16")
        ax.set(xscale="symlog", xlabel="Adam step", title=f"lr = {rate:g}", ylim=(-0.03, 1.03))
        ax.set_xlim(0, steps_axis[-1])
    np.atleast_1d(axes)[0].set_ylabel(r"$\alpha_t$")
    np.atleast_1d(axes)[-1].legend(fontsize="x-small", loc="upper right")
    return axes
