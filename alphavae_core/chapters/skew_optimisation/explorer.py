"""Chapter 2's figures and explorer: the skew landscape of q = N(m 1, e^s I) and its minimum.

The explorer has two front ends that show the same two panels (as chapter 1's
:mod:`alphavae_core.chapters.divergences.explorer`):

* :func:`skew_explorer_html` — a self-contained HTML/SVG/JavaScript control computed in the page
  (``explorer.js`` here, with chapter 1's ``svgplot.js`` and ``closed_forms.js``): works in the static
  book with no kernel and no network;
* :func:`skew_explorer` — ipywidgets sliders redrawing :func:`draw_skew_panel` in a live kernel.

Left panel: the exact primal JS^Galpha (``gjs_normal``) and equation 18's approximation, with the
exact minimiser and equation 16 marked. Right panel: the exact dual with its minimiser, and
equation 16 for reference (it was derived for the primal only). Convention of
:mod:`alphavae_core.divergences` (N_alpha ∝ q^alpha p^(1-alpha)).

The ``plot_*`` functions draw the chapter's static figures from :mod:`.landscape`, :mod:`.descent`
and :mod:`.sweeps` results.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from alphavae_core.chapters.divergences.explorer import SCRIPTS as CHAPTER1_SCRIPTS
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
from alphavae_core.plotting import (
    EXAMPLE_COLOURS,
    PALETTE,
    kernel_free_html,
    legend_markup,
    live_panels,
    new_figure,
    sliders_markup,
    value_row,
)

__all__ = [
    "MINIMISER",
    "SCRIPTS",
    "SLIDERS",
    "draw_skew_panel",
    "plot_adam",
    "plot_curvature",
    "plot_gap_maps",
    "plot_gd",
    "plot_landscapes",
    "skew_curves",
    "skew_explorer",
    "skew_explorer_html",
]

PRIMAL_COLOUR = PALETTE["gjs"]
DUAL_COLOUR = PALETTE["dgjs"]
APPROX_COLOUR = "#737373"  # eq. 18 and eq. 16: an approximation, not a regulariser of its own
N_ALPHA = 201
# (min, max, step) of each slider, shared by both front ends
SLIDERS: dict[str, tuple[float, float, float]] = {
    "mean": (0.0, 4.0, 0.1),
    "logvar": (-8.0, 4.0, 0.2),
    "dim": (1, 64, 1),
}
# exact_alpha_star's search, which the page repeats: grid, bisection steps, flatness tolerance
MINIMISER = {"grid": 401, "iters": 60, "flat_tol": 1e-13}
# The page's JavaScript, in load order: chapter 1's SVG drawing and closed forms, then this control.
SCRIPTS = (*CHAPTER1_SCRIPTS[:2], Path(__file__).resolve().parent / "explorer.js")
LINE_STYLES = ("-", "--", ":", "-.")


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
    """A vertical line at ``alpha`` and a dot where it meets the curve (nothing when alpha is NaN)."""
    if np.isfinite(alpha):
        colour, mfc, text = style.pop("color"), style.pop("mfc", None), style.pop("label", None)
        ax.axvline(alpha, lw=1.2, color=colour, **style)
        value = np.interp(alpha, curve_alpha, curve)
        ax.plot([alpha], [value], "o", ms=5, color=colour, mfc=mfc or colour, label=text)


def draw_skew_panel(axes, mean: float, logvar: float, dim: int = 1) -> None:
    """Draw the primal (left) and dual (right) landscapes with their minimisers on two axes.

    The kernel-free control (``explorer.js``) draws the same two panels.
    """
    ax_p, ax_d = axes
    ax_p.clear()
    ax_d.clear()
    c = skew_curves(float(mean), float(logvar), int(dim))
    a = c["alpha"]
    ax_p.plot(a, c["approx"], color=APPROX_COLOUR, ls="--", lw=1.6, label="eq. 18 (no normaliser)")
    ax_p.plot(a, c["primal"], color=PRIMAL_COLOUR, lw=2.2, label=r"exact primal JS$^{G_\alpha}$")
    _mark(ax_p, c["eq16"], a, c["approx"], color=APPROX_COLOUR, ls=":", mfc="white", label="eq. 16")
    _mark(ax_p, c["exact_primal"], a, c["primal"], color=PRIMAL_COLOUR, ls="-", label="exact minimiser")
    ax_p.set_title(
        rf"primal: exact $\alpha^*$ = {c['exact_primal']:.3f}, eq. 16 = {c['eq16']:.3f}", fontsize="small"
    )
    ax_d.plot(a, c["dual"], color=DUAL_COLOUR, lw=2.2, label=r"exact dual JS$_*^{G_\alpha}$")
    _mark(ax_d, c["exact_dual"], a, c["dual"], color=DUAL_COLOUR, ls="-", label="exact minimiser")
    if np.isfinite(c["eq16"]):
        ax_d.axvline(c["eq16"], color=APPROX_COLOUR, ls=":", lw=1.2, label="eq. 16, for reference")
    ax_d.set_title(rf"dual: exact $\alpha^*$ = {c['exact_dual']:.3f}", fontsize="small")
    for ax, curves in ((ax_p, (c["primal"], c["approx"])), (ax_d, (c["dual"],))):
        top = max(float(np.max(v)) for v in curves)
        ax.set(xlim=(0.0, 1.0), ylim=(0.0, 1.08 * top if top > 0 else 1.0), xlabel=r"skew $\alpha$")
        ax.set_ylabel("divergence (nats)")
        ax.legend(loc="upper center", fontsize="x-small")


def skew_explorer(mean: float = 1.0, logvar: float = -2.0, dim: int = 1):
    """ipywidgets UI: sliders for q's mean, log-variance and dimension redraw both landscapes.

    Needs a live kernel; the static book shows :func:`skew_explorer_html` instead. Returns the
    ``ipywidgets.interactive`` object.
    """
    import ipywidgets as widgets

    style = {"description_width": "initial"}
    (m_lo, m_hi, m_step), (s_lo, s_hi, s_step), (d_lo, d_hi, d_step) = (
        SLIDERS[k] for k in ("mean", "logvar", "dim")
    )
    return live_panels(
        draw_skew_panel,
        height=3.2,
        mean=widgets.FloatSlider(
            value=mean, min=m_lo, max=m_hi, step=m_step, description="mean m", style=style
        ),
        logvar=widgets.FloatSlider(
            value=logvar, min=s_lo, max=s_hi, step=s_step, description="log-variance s", style=style
        ),
        dim=widgets.IntSlider(
            value=dim, min=d_lo, max=d_hi, step=d_step, description="dimension d", style=style
        ),
    )


def skew_explorer_html(
    mean: float = 1.0, logvar: float = -2.0, dim: int = 1, prefix: str = "skew-explorer"
) -> str:
    """The explorer as a kernel-free HTML control: the same two landscapes, computed in the page.

    The JavaScript evaluates the closed forms (chapter 1's ``closed_forms.js``) and finds the exact
    minimisers as :func:`~alphavae_core.chapters.skew_optimisation.landscape.minimise_skew` does
    (a grid of :data:`MINIMISER` ``["grid"]`` skews, then bisection on the derivative). Element ids:
    sliders ``{prefix}-mean``, ``{prefix}-logvar``, ``{prefix}-dim``; SVG panels
    ``{prefix}-primal-plot``, ``{prefix}-dual-plot``; printed values ``{prefix}-kl-pq``,
    ``{prefix}-kl-qp``, ``{prefix}-eq16``, ``{prefix}-primal-star``, ``{prefix}-primal-gap``,
    ``{prefix}-primal-min``, ``{prefix}-dual-star``, ``{prefix}-dual-gap``, ``{prefix}-dual-min``,
    each with its full float64 value in ``data-value`` (NaN where q = p makes every skew a minimiser).
    """
    js, js_dual = "JS<sup>G<sub>α</sub></sup>", "JS<sub>*</sub><sup>G<sub>α</sub></sup>"
    sliders = sliders_markup(
        prefix,
        SLIDERS,
        (
            ("mean", "mean m of q", mean),
            ("logvar", "log-variance s of q", logvar),
            ("dim", "dimension d", dim),
        ),
    )
    left = legend_markup(
        [
            (f"exact primal {js}", PRIMAL_COLOUR, "solid"),
            ("eq. 18 (no normaliser)", APPROX_COLOUR, "dashed"),
            ("exact minimiser", PRIMAL_COLOUR, "dot"),
            ("eq. 16 (dotted line)", APPROX_COLOUR, "dotted"),
        ]
    )
    right = legend_markup(
        [
            (f"exact dual {js_dual}", DUAL_COLOUR, "solid"),
            ("exact minimiser", DUAL_COLOUR, "dot"),
            ("eq. 16, for reference", APPROX_COLOUR, "dotted"),
        ]
    )
    rows = "".join(
        value_row(prefix, name, text, unit)
        for name, text, unit in (
            ("kl-pq", "A = KL(p‖q), forward", "nats"),
            ("kl-qp", "B = KL(q‖p), reverse", "nats"),
            ("eq16", "eq. 16 in our convention, B / (A + B)", ""),
            ("primal-star", f"exact minimiser of the primal {js}", ""),
            ("primal-gap", "primal: exact minimiser − eq. 16", ""),
            ("primal-min", "primal at its minimiser", "nats"),
            ("dual-star", f"exact minimiser of the dual {js_dual}", ""),
            ("dual-gap", "dual: exact minimiser − eq. 16", ""),
            ("dual-min", "dual at its minimiser", "nats"),
        )
    )
    body = (
        f'<div class="avx-sliders">{sliders}</div>\n<div class="avx-panels">'
        f'<div class="avx-panel"><div class="avx-title">primal: exact and eq. 18</div>'
        f'<svg id="{prefix}-primal-plot"></svg>{left}</div>'
        f'<div class="avx-panel"><div class="avx-title">dual: exact</div>'
        f'<svg id="{prefix}-dual-plot"></svg>{right}</div></div>\n'
        f'<table class="avx-values"><tbody>{rows}</tbody></table>'
    )
    config = {
        "prefix": prefix,
        "n_alpha": N_ALPHA,
        "minimiser": MINIMISER,
        "colours": {"primal": PRIMAL_COLOUR, "dual": DUAL_COLOUR, "approx": APPROX_COLOUR},
    }
    return kernel_free_html(prefix, body, SCRIPTS, "mountSkewExplorer", config)


# --------------------------------------------------------------------------- static figures


def plot_landscapes(examples: dict[str, tuple[float, float]], axes=None):
    """One panel per 1-D q: exact primal, eq. 18 and exact dual over alpha, minimisers marked.

    ``examples`` maps a panel title to ``(mean, logvar)``; four examples fill a 2 x 2 grid. Filled
    circles: exact minimisers; open circle: eq. 16 on eq. 18's curve.
    """
    if axes is None:
        ncols = min(2, len(examples))
        nrows = -(-len(examples) // ncols)
        _, axes = new_figure(ncols=ncols, nrows=nrows, width=6.4, height=2.5 * nrows + 0.8)
    axes = np.atleast_1d(axes).ravel()
    for ax, (name, (mean, logvar)) in zip(axes, examples.items(), strict=True):
        c = skew_curves(float(mean), float(logvar))
        a = c["alpha"]
        ax.plot(a, c["approx"], color=APPROX_COLOUR, ls="--", lw=1.5, label="primal, eq. 18 (no normaliser)")
        ax.plot(a, c["primal"], color=PRIMAL_COLOUR, lw=2.2, label=r"primal JS$^{G_\alpha}$, exact")
        ax.plot(a, c["dual"], color=DUAL_COLOUR, lw=2.2, label=r"dual JS$_*^{G_\alpha}$, exact")
        ax.plot([c["eq16"]], [np.interp(c["eq16"], a, c["approx"])], "o", color=APPROX_COLOUR, mfc="white",
                ms=6, label="eq. 16")  # fmt: skip
        for key, curve, col in (
            ("exact_primal", "primal", PRIMAL_COLOUR),
            ("exact_dual", "dual", DUAL_COLOUR),
        ):
            ax.plot([c[key]], [np.interp(c[key], a, c[curve])], "o", color=col, ms=6)
        top = max(c["primal"].max(), c["approx"].max(), c["dual"].max())
        ax.set(xlim=(0, 1), ylim=(0, 1.05 * top), title=name)
    for ax in axes[-2:]:
        ax.set_xlabel(r"skew $\alpha$")
    for ax in axes[::2]:
        ax.set_ylabel("divergence (nats)")
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], marker="o", ls="", color="0.2"))
    labels.append("exact minimisers (filled)")
    axes[0].figure.legend(handles, labels, loc="outside lower center", ncol=2, fontsize="small")
    return axes


def plot_gap_maps(iso, het, axes=None):
    """Exact minimiser minus eq. 16 over the isotropic (mean, log-variance) sweep, primal and dual,
    and exact against eq. 16 for the heterogeneous sweep (one point per q).

    Without ``axes``: the two maps side by side above a square scatter, so that the figure fits a
    book column at its natural size. ``axes`` is otherwise three axes: primal map, dual map, scatter.
    """
    if axes is None:
        fig = plt.figure(figsize=(6.4, 6.2))
        axes = list(fig.subplot_mosaic([["primal", "dual"], ["scatter", "scatter"]]).values())
        axes[2].set_box_aspect(1)
    means, logvars = np.unique(iso["mean"]), np.unique(iso["logvar"])
    for ax, column, title in (
        (axes[0], "exact_primal", r"primal JS$^{G_\alpha}$"),
        (axes[1], "exact_dual", r"dual JS$_*^{G_\alpha}$"),
    ):
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
        ax.figure.colorbar(image, ax=ax, label=r"exact $\alpha^*$ $-$ eq. 16 (skew)", shrink=0.9)
        ax.set(xlabel="log-variance $s$ of $q$\n(log of a variance)", title=title)
        ax.grid(False)
    axes[0].set_ylabel("mean $m$ of $q$")
    axes[1].tick_params(labelleft=False)  # the same means as the primal's map: keep the colour bars clear
    ax = axes[2]
    for column, col, name in (
        ("exact_primal", PRIMAL_COLOUR, r"primal JS$^{G_\alpha}$"),
        ("exact_dual", DUAL_COLOUR, r"dual JS$_*^{G_\alpha}$"),
    ):
        ax.scatter(het["eq16"], het[column], s=7, alpha=0.6, color=col, label=name)
    ax.plot([0, 1], [0, 1], color="0.3", lw=1, label="equality")
    dims = sorted({int(d) for d in het["dim"]})
    ax.set(
        xlabel=r"eq. 16 (skew $\alpha$)",
        ylabel=r"exact $\alpha^*$ (skew $\alpha$)",
        title=f"random diagonal $q$, d = {', '.join(map(str, dims))}",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(fontsize="x-small", markerscale=2, loc="upper left")
    return axes


def plot_curvature(examples: dict[str, tuple[float, float]], n_alpha: int = 201, axes=None):
    """Second derivative of the exact primal and dual over alpha, in units of eq. 22's lambda.

    One line style per posterior of ``examples``; the primal in its colour, the dual in its own.
    """
    if axes is None:
        _, axes = new_figure(ncols=2, width=6.4, height=3.6, sharey=True)
    alphas = torch.linspace(0.0, 1.0, n_alpha, dtype=torch.float64)
    for (name, (mean, logvar)), style in zip(examples.items(), LINE_STYLES, strict=False):
        mu = torch.tensor([float(mean)], dtype=torch.float64)
        lv = torch.tensor([float(logvar)], dtype=torch.float64)
        fwd, rev = kl_directions(mu, lv)
        lam = float(2 * (fwd + rev))
        for ax, dual, col in ((axes[0], False, PRIMAL_COLOUR), (axes[1], True, DUAL_COLOUR)):
            ax.plot(
                alphas, curvature(mu, lv, alphas, dual=dual) / lam, color=col, ls=style, lw=1.8, label=name
            )
    for ax, title in zip(axes, (r"primal JS$^{G_\alpha}$", r"dual JS$_*^{G_\alpha}$"), strict=True):
        ax.axhline(1.0, color="0.3", ls="-", lw=0.8)
        ax.set(yscale="log", xlabel=r"skew $\alpha$", title=title, xlim=(0, 1))
    axes[0].set_ylabel(r"curvature $f''(\alpha)\,/\,\lambda$ (ratio)")
    # one legend for both panels: the line style names the posterior, whatever the colour
    handles = [plt.Line2D([], [], color="0.3", ls=style, lw=1.8) for _, style in zip(examples, LINE_STYLES)]
    axes[0].figure.legend(
        handles, list(examples), loc="outside lower center", ncol=len(handles), fontsize="small",
        title=r"posterior $q$ (grey line: eq. 20)", title_fontsize="small",
    )  # fmt: skip
    return axes


def plot_gd(mu, logvar, starts, steps: int, axes=None, title: str = ""):
    """Gradient descent with eq. 27's step: alpha_t (left) and f(alpha_t) - min f (right).

    One colour per start. Left, solid: the exact primal; dashed: eq. 18 (which it solves in one
    step). Right: the gap of the exact primal (solid) against eq. 28's bound (dotted).
    """
    if axes is None:
        _, axes = new_figure(ncols=2, width=6.4, height=3.0)
    steps_axis = np.arange(steps + 1)
    exact = gd_trajectory(mu, logvar, starts, steps)
    approx = gd_trajectory(mu, logvar, starts, steps, objective="approx")
    star = exact_alpha_star(mu, logvar)
    gap = suboptimality(mu, logvar, exact)
    bound = prop2_bound(mu, logvar, starts, star, steps)
    for i, col in enumerate(EXAMPLE_COLOURS[: len(starts)]):
        axes[0].plot(
            steps_axis, exact[:, i], color=col, marker=".", label=rf"start $\alpha_1$ = {starts[i]:g}"
        )
        axes[0].plot(steps_axis, approx[:, i], color=col, ls="--", lw=1)
        axes[1].semilogy(steps_axis, gap[:, i].clamp(min=1e-17), color=col, marker=".")
        axes[1].semilogy(steps_axis, bound[:, i], color=col, ls=":")
    axes[0].axhline(float(star), color=PRIMAL_COLOUR, lw=1.5, label=r"exact $\alpha^*$")
    axes[0].axhline(float(alpha_star_eq16(mu, logvar)), color=APPROX_COLOUR, ls="--", lw=1.2, label="eq. 16")
    axes[0].set(
        xlabel="gradient-descent step $T$", ylabel=r"skew $\alpha_T$", ylim=(-0.03, 1.03), title=title
    )
    axes[0].legend(fontsize="x-small", ncol=2, loc="upper right")
    axes[1].set(
        xlabel="gradient-descent step $T$", ylabel=r"$f(\alpha_T) - f(\alpha^*)$ (nats)", ylim=(1e-17, None)
    )
    axes[1].plot([], [], color="0.3", marker=".", label="exact primal: gap")
    axes[1].plot([], [], color="0.3", ls=":", label="eq. 28: bound")
    axes[1].legend(fontsize="x-small", loc="lower left")
    return axes


def plot_adam(traj, rates, star: float, eq16: float, axes=None):
    """Adam on the skew: alpha_t for each learning rate (one panel each), exact alpha* and eq. 16 marked.

    ``traj`` is :func:`alphavae_core.adam_trajectory`'s ``(steps + 1, n_rates, n_starts)``.
    Dotted: the envelope eq. 28 implies for the primal's skew, ``|alpha_T - alpha*| <= sqrt(2)
    |alpha_1 - alpha*| e^(-2T)`` (from ``f - f* >= lambda/2 (alpha - alpha*)^2``, which holds for
    the exact primal since its curvature is at least lambda).
    """
    if axes is None:
        _, axes = new_figure(ncols=len(rates), width=3.2 * len(rates), height=3.4, sharey=True)
    steps_axis = np.arange(traj.shape[0])
    for k, (ax, rate) in enumerate(zip(np.atleast_1d(axes), rates, strict=True)):
        for i, col in enumerate(EXAMPLE_COLOURS[: traj.shape[-1]]):
            start = float(traj[0, k, i])
            ax.plot(steps_axis, traj[:, k, i], color=col, lw=1.8, label=rf"start $\alpha_1$ = {start:g}")
            envelope = np.sqrt(2.0) * (start - star) * np.exp(-2.0 * steps_axis)
            ax.plot(steps_axis, star + envelope, color=col, ls=":", lw=1.2)
        ax.axhline(star, color=PRIMAL_COLOUR, lw=1.5, label=r"exact $\alpha^*$")
        ax.axhline(eq16, color=APPROX_COLOUR, ls="--", lw=1.2, label="eq. 16")
        ax.plot([], [], color="0.3", ls=":", label="eq. 28's envelope")
        ax.set(xscale="symlog", xlabel="Adam step (symmetric-log scale)", title=f"learning rate {rate:g}")
        ax.set(ylim=(-0.03, 1.03), xlim=(0, steps_axis[-1]))
    np.atleast_1d(axes)[0].set_ylabel(r"skew $\alpha_t$")
    handles, labels = np.atleast_1d(axes)[-1].get_legend_handles_labels()
    np.atleast_1d(axes)[-1].figure.legend(
        handles, labels, loc="outside lower center", ncol=3, fontsize="small"
    )
    return axes
