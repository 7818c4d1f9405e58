"""Chapter 1's explorer and figures: how the skew alpha moves N_alpha and the JS^Galpha divergences.

The explorer has two front ends that show the same picture:

* :func:`alpha_explorer_html` — a self-contained HTML/SVG/JavaScript control, computed in the page
  (``explorer.js``, with the closed forms of :mod:`alphavae_core.divergences` mirrored in
  ``closed_forms.js``): works in the static book, with no kernel and no network;
* :func:`alpha_explorer` — ipywidgets sliders redrawing :func:`draw_alpha_panel` in a live kernel.

Both have sliders for alpha, q's mean and q's log-variance (:data:`SLIDERS`). Everything is
one-dimensional with a standard-normal prior p, in the released-code convention of
:mod:`alphavae_core.divergences` (N_alpha ∝ q^alpha p^(1-alpha), equations 5-10).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from alphavae_core.divergences import geometric_mean_normal, gjs_normal, kl_normal
from alphavae_core.plotting import (
    DENSITY_COLOURS,
    PALETTE,
    kernel_free_html,
    label,
    legend_markup,
    live_panels,
    new_figure,
    sliders_markup,
    value_row,
)

__all__ = [
    "SCRIPTS",
    "SLIDERS",
    "alpha_explorer",
    "alpha_explorer_html",
    "divergence_curves",
    "draw_alpha_panel",
    "plot_divergence_vs_alpha",
    "plot_geometric_means",
]

# (min, max, step) of each slider, shared by both front ends.
SLIDERS: dict[str, tuple[float, float, float]] = {
    "alpha": (0.0, 1.0, 0.01),
    "mu": (-3.0, 3.0, 0.1),
    "logvar": (-3.0, 2.0, 0.1),
}
Z_RANGE = (-6.0, 6.0)  # wide enough for |mu| <= 3 and logvar <= 2 (3 sd = 8 at the extreme)
N_ALPHA = 101  # skews on the divergence curves
N_Z = 241  # points on the density curves
PRIMAL_COLOUR = PALETTE["gjs"]
DUAL_COLOUR = PALETTE["dgjs"]
PRIMAL_LABEL = r"primal JS$^{G_\alpha}(q\|p)$"
DUAL_LABEL = r"dual JS$_*^{G_\alpha}(q\|p)$"
_HERE = Path(__file__).resolve().parent
# The page's JavaScript, in load order: SVG drawing, the closed forms, the control.
SCRIPTS: tuple[Path, ...] = (_HERE / "svgplot.js", _HERE / "closed_forms.js", _HERE / "explorer.js")


def _param(x: float) -> torch.Tensor:
    return torch.tensor([float(x)], dtype=torch.float64)


@lru_cache(maxsize=64)
def divergence_curves(mu: float, logvar: float, n_alpha: int = N_ALPHA) -> dict[str, np.ndarray | float]:
    """Primal and dual JS^Galpha on an alpha grid for q = N(mu, e^logvar) against N(0, 1).

    Returns ``alpha``, ``primal``, ``dual`` (arrays, nats) and the endpoint references ``kl_qp`` =
    KL(q||p) and ``kl_pq`` = KL(p||q). Cached (the widget redraws on every alpha change), so
    treat the returned arrays as read-only.
    """
    alpha = torch.linspace(0.0, 1.0, n_alpha, dtype=torch.float64)
    mu_t = _param(mu).expand(n_alpha, 1)
    lv_t = _param(logvar).expand(n_alpha, 1)
    zero = torch.zeros(1, dtype=torch.float64)
    return {
        "alpha": alpha.numpy(),
        "primal": gjs_normal(mu_t, lv_t, alpha).numpy(),
        "dual": gjs_normal(mu_t, lv_t, alpha, dual=True).numpy(),
        "kl_qp": float(kl_normal(_param(mu), _param(logvar), zero, zero)),
        "kl_pq": float(kl_normal(zero, zero, _param(mu), _param(logvar))),
    }


def _density(z: np.ndarray, mu: float, logvar: float) -> np.ndarray:
    var = np.exp(logvar)
    return np.exp(-0.5 * (z - mu) ** 2 / var) / np.sqrt(2.0 * np.pi * var)


def _draw_densities(ax, mu: float, logvar: float, alphas: tuple[float, ...]) -> None:
    """p, q and N_alpha for each skew of ``alphas`` (N_alpha darker as alpha grows)."""
    z = np.linspace(*Z_RANGE, N_Z)
    ax.plot(z, _density(z, 0.0, 0.0), color=DENSITY_COLOURS["p"], lw=1.8, label=r"prior $p=\mathcal{N}(0,1)$")
    ax.plot(z, _density(z, mu, logvar), color=DENSITY_COLOURS["q"], lw=1.8, label=r"posterior $q$")
    for i, alpha in enumerate(alphas):
        mu_a, lv_a = geometric_mean_normal(_param(mu), _param(logvar), _param(0.0), _param(0.0), alpha)
        shade = 1.0 if len(alphas) == 1 else 0.35 + 0.65 * i / (len(alphas) - 1)
        ax.plot(
            z, _density(z, float(mu_a), float(lv_a)), color=DENSITY_COLOURS["n_alpha"], alpha=shade, lw=2.2,
            ls="--" if len(alphas) > 1 else "-",
            label=rf"$N_\alpha$, $\alpha={alpha:g}$" if len(alphas) > 1 else r"$N_\alpha \propto q^\alpha p^{1-\alpha}$",
        )  # fmt: skip
    peak = max(_density(np.array([mu]), mu, logvar)[0], _density(np.array([0.0]), 0.0, 0.0)[0])
    ax.set(xlim=Z_RANGE, ylim=(0.0, 1.1 * peak), xlabel="latent $z$", ylabel="probability density")


def draw_alpha_panel(axes, mu: float, logvar: float, alpha: float) -> None:
    """Draw p, q and N_alpha (left) and both divergences against alpha (right) on two axes.

    Clears and redraws both axes, with fixed limits so that successive redraws line up. The
    kernel-free control (``explorer.js``) draws the same two panels.
    """
    ax_d, ax_c = axes
    ax_d.clear()
    ax_c.clear()
    _draw_densities(ax_d, mu, logvar, (alpha,))
    ax_d.legend(loc="upper left", fontsize="small")
    ax_d.set_title(rf"densities at $\alpha={alpha:.2f}$", fontsize="medium")

    c = divergence_curves(float(mu), float(logvar))
    ax_c.axhline(c["kl_qp"], color=PALETTE["kl"], ls="--", lw=1.3, label=label("kl"))
    ax_c.axhline(c["kl_pq"], color=PALETTE["fwdkl"], ls=":", lw=1.6, label=label("fwdkl"))
    ax_c.plot(c["alpha"], c["primal"], color=PRIMAL_COLOUR, lw=2.2, label=PRIMAL_LABEL)
    ax_c.plot(c["alpha"], c["dual"], color=DUAL_COLOUR, lw=2.2, ls="--", label=DUAL_LABEL)
    ax_c.axvline(alpha, color="0.6", lw=1)
    for dual, col in ((False, PRIMAL_COLOUR), (True, DUAL_COLOUR)):
        ax_c.plot(
            [alpha], [float(gjs_normal(_param(mu), _param(logvar), alpha, dual=dual))], "o", color=col, ms=5
        )
    top = max(c["kl_qp"], c["kl_pq"], c["primal"].max(), c["dual"].max())
    ax_c.set(xlim=(0.0, 1.0), ylim=(0.0, 1.1 * top if top > 0 else 1.0), xlabel=r"skew $\alpha$")
    ax_c.set(ylabel="divergence (nats)")
    ax_c.set_title(r"divergences against $\alpha$", fontsize="medium")
    ax_c.legend(loc="upper center", fontsize="x-small", ncol=2, bbox_to_anchor=(0.5, -0.22))


def alpha_explorer(mu: float = 1.0, logvar: float = -1.0, alpha: float = 0.5):
    """ipywidgets UI: sliders for alpha, q's mean and q's log-variance redraw the panel.

    Needs a live kernel; the static book shows :func:`alpha_explorer_html` instead. Returns the
    ``ipywidgets.interactive`` object (its ``children`` are the three sliders and the output).
    """
    import ipywidgets as widgets

    style = {"description_width": "initial"}

    def slider(name: str, value: float, text: str):
        lo, hi, step = SLIDERS[name]
        return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, description=text, style=style)

    return live_panels(
        draw_alpha_panel,
        width=8.0,
        height=3.4,
        alpha=slider("alpha", alpha, "α"),
        mu=slider("mu", mu, "mean of q"),
        logvar=slider("logvar", logvar, "log-variance of q"),
    )


def alpha_explorer_html(
    mu: float = 1.0, logvar: float = -1.0, alpha: float = 0.5, prefix: str = "explorer"
) -> str:
    """The explorer as a kernel-free HTML control: the same panels, computed by JavaScript in the page.

    Element ids (for readers' scripts and the browser test): sliders ``{prefix}-alpha``,
    ``{prefix}-mu``, ``{prefix}-logvar``; SVG panels ``{prefix}-densities``, ``{prefix}-curves``;
    printed values ``{prefix}-kl-qp``, ``{prefix}-kl-pq``, ``{prefix}-primal``, ``{prefix}-dual``,
    ``{prefix}-n-alpha-mean``, ``{prefix}-n-alpha-var``, each with its full float64 value in
    ``data-value``. The same arguments give the same bytes.
    """
    js, js_dual = "JS<sup>G<sub>α</sub></sup>(q‖p)", "JS<sub>*</sub><sup>G<sub>α</sub></sup>(q‖p)"
    sliders = sliders_markup(
        prefix,
        SLIDERS,
        (
            ("alpha", "skew α", alpha),
            ("mu", "mean of q", mu),
            ("logvar", "log-variance of q", logvar),
        ),
    )
    left = legend_markup(
        [
            ("prior p = N(0, 1)", DENSITY_COLOURS["p"], "solid"),
            ("posterior q", DENSITY_COLOURS["q"], "solid"),
            ("N<sub>α</sub> ∝ q<sup>α</sup> p<sup>1−α</sup>", DENSITY_COLOURS["n_alpha"], "solid"),
        ]
    )
    right = legend_markup(
        [
            (f"primal {js}", PRIMAL_COLOUR, "solid"),
            (f"dual {js_dual}", DUAL_COLOUR, "dashed"),
            ("KL(q‖p)", PALETTE["kl"], "dashed"),
            ("KL(p‖q)", PALETTE["fwdkl"], "dotted"),
        ]
    )
    rows = "".join(
        value_row(prefix, name, text, unit)
        for name, text, unit in (
            ("kl-qp", "KL(q‖p), the reverse KL (primal at α = 0)", "nats"),
            ("kl-pq", "KL(p‖q), the forward KL (primal at α = 1)", "nats"),
            ("primal", f"primal {js} at the current α", "nats"),
            ("dual", f"dual {js_dual} at the current α", "nats"),
            ("n-alpha-mean", "mean of N<sub>α</sub>", ""),
            ("n-alpha-var", "variance of N<sub>α</sub>", ""),
        )
    )
    body = (
        f'<div class="avx-sliders">{sliders}</div>\n<div class="avx-panels">'
        f'<div class="avx-panel"><div class="avx-title">densities at α = <span id="{prefix}-alpha-now">'
        f'</span></div><svg id="{prefix}-densities"></svg>{left}</div>'
        f'<div class="avx-panel"><div class="avx-title">divergences against α (dots: the current α)</div>'
        f'<svg id="{prefix}-curves"></svg>{right}</div></div>\n'
        f'<table class="avx-values"><tbody>{rows}</tbody></table>'
    )
    config = {
        "prefix": prefix,
        "n_alpha": N_ALPHA,
        "n_z": N_Z,
        "z_range": list(Z_RANGE),
        "colours": {
            **DENSITY_COLOURS,
            "primal": PRIMAL_COLOUR,
            "dual": DUAL_COLOUR,
            "kl": PALETTE["kl"],
            "fwdkl": PALETTE["fwdkl"],
        },
    }
    return kernel_free_html(prefix, body, SCRIPTS, "mountAlphaExplorer", config)


def plot_divergence_vs_alpha(examples: dict[str, tuple[float, float]], axes=None):
    """One panel per 1-D q: primal and dual JS^Galpha against alpha, with the two KLs they join.

    ``examples`` maps a panel title to ``(mu, logvar)``. Without ``axes`` the panels fill a grid two
    wide (a book column holds two legible panels, not three), and the legend takes a spare cell of
    the grid, or the foot of the figure when there is none. Returns the axes of the panels.
    """
    if axes is None:
        nrows = -(-(len(examples) + 1) // 2)
        _, grid = new_figure(ncols=2, nrows=nrows, width=6.4, height=2.6 * nrows + 0.2)
        axes = np.atleast_1d(grid).ravel()
    axes = np.atleast_1d(axes).ravel()
    panels, spare = axes[: len(examples)], axes[len(examples) :]
    for ax, (name, (mu, logvar)) in zip(panels, examples.items(), strict=True):
        c = divergence_curves(float(mu), float(logvar))
        ax.axhline(c["kl_qp"], color=PALETTE["kl"], ls="--", lw=1.3, label=label("kl"))
        ax.axhline(c["kl_pq"], color=PALETTE["fwdkl"], ls=":", lw=1.6, label=label("fwdkl"))
        ax.plot(c["alpha"], c["primal"], color=PRIMAL_COLOUR, lw=2.2, label=PRIMAL_LABEL)
        ax.plot(c["alpha"], c["dual"], color=DUAL_COLOUR, lw=2.2, ls="--", label=DUAL_LABEL)
        top = max(c["kl_qp"], c["kl_pq"])
        ax.set(xlim=(0.0, 1.0), ylim=(0.0, 1.12 * top), xlabel=r"skew $\alpha$", title=name)
    ncols = 2 if len(panels) > 1 else 1
    for ax in panels[::ncols]:
        ax.set_ylabel("divergence (nats)")
    handles, labels = panels[0].get_legend_handles_labels()
    order = [2, 3, 0, 1]
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    for ax in spare:
        ax.axis("off")
    if len(spare):
        spare[0].legend(handles, labels, loc="center", fontsize="medium")
    else:
        panels[0].figure.legend(handles, labels, loc="outside lower center", ncol=2, fontsize="small")
    return panels


def plot_geometric_means(mu: float, logvar: float, alphas: tuple[float, ...], ax=None):
    """The prior, q and N_alpha for several skews: N_alpha slides from p (alpha=0) to q (alpha=1)."""
    if ax is None:
        _, ax = new_figure(width=6.4, height=3.4)
    _draw_densities(ax, mu, logvar, tuple(alphas))
    ax.set_xlim(-4.0, 4.0)
    ax.legend(loc="upper left", fontsize="small")
    return ax
