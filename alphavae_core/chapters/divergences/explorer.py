"""Chapter 1's explorer: how the skew alpha moves N_alpha and the JS^Galpha divergences.

One drawing function, :func:`draw_alpha_panel`, serves both front ends:

* :func:`alpha_explorer` — ipywidgets sliders (alpha, q's mean and log-variance) for a live kernel;
* :func:`alpha_animation` — a kernel-free ``FuncAnimation.to_jshtml`` page whose frame slider
  sweeps alpha, for the static HTML book.

Everything is one-dimensional with a standard-normal prior p, in the released-code convention of
:mod:`alphavae_core.divergences` (N_alpha ∝ q^alpha p^(1-alpha), equations 5-10).
"""

from __future__ import annotations

from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np
import torch

from alphavae_core.divergences import geometric_mean_normal, gjs_normal, kl_normal
from alphavae_core.plotting import DENSITY_COLOURS, PALETTE, frame_animation, label, live_panels, new_figure

__all__ = [
    "SETTINGS",
    "alpha_animation",
    "alpha_explorer",
    "divergence_curves",
    "draw_alpha_panel",
    "plot_divergence_vs_alpha",
]

# Animation settings for chapter 1, by preset (read with ``presets.select``).
SETTINGS: dict[str, dict[str, int]] = {
    "smoke": {"n_frames": 5},
    "cpu": {"n_frames": 21},
    "paper": {"n_frames": 21},
}

Z_RANGE = (-6.0, 6.0)  # wide enough for |mu| <= 3 and logvar <= 2 (3 sd = 8 at the extreme)
PRIMAL_COLOUR = PALETTE["gjs"]
DUAL_COLOUR = PALETTE["dgjs"]
PRIMAL_LABEL = r"JS$^{G_\alpha}(q\|p)$"
DUAL_LABEL = r"JS$_*^{G_\alpha}(q\|p)$"


def _param(x: float) -> torch.Tensor:
    return torch.tensor([float(x)], dtype=torch.float64)


@lru_cache(maxsize=64)
def divergence_curves(mu: float, logvar: float, n_alpha: int = 101) -> dict[str, np.ndarray | float]:
    """Primal and dual JS^Galpha on an alpha grid for q = N(mu, e^logvar) against N(0, 1).

    Returns ``alpha``, ``primal``, ``dual`` (arrays) and the endpoint references ``kl_qp`` =
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


def draw_alpha_panel(axes, mu: float, logvar: float, alpha: float) -> None:
    """Draw p, q and N_alpha (left) and both divergences against alpha (right) on two axes.

    Clears and redraws both axes, with fixed limits so that successive frames line up.
    """
    ax_d, ax_c = axes
    ax_d.clear()
    ax_c.clear()
    mu_a, logvar_a = geometric_mean_normal(_param(mu), _param(logvar), _param(0.0), _param(0.0), alpha)
    z = np.linspace(*Z_RANGE, 401)
    for name, (m, lv), text in (
        ("p", (0.0, 0.0), r"$p=\mathcal{N}(0,1)$"),
        ("q", (mu, logvar), r"$q$"),
        ("n_alpha", (float(mu_a), float(logvar_a)), r"$N_\alpha \propto q^\alpha p^{1-\alpha}$"),
    ):
        ax_d.plot(
            z, _density(z, m, lv), color=DENSITY_COLOURS[name], label=text, lw=2 if name == "n_alpha" else 1.5
        )
    peak = max(_density(np.array([mu]), mu, logvar)[0], _density(np.array([0.0]), 0.0, 0.0)[0])
    ax_d.set(xlim=Z_RANGE, ylim=(0.0, 1.1 * peak), xlabel="$z$", ylabel="density")
    ax_d.legend(loc="upper left", fontsize="small")

    c = divergence_curves(float(mu), float(logvar))
    ax_c.plot(c["alpha"], c["primal"], color=PRIMAL_COLOUR, label=PRIMAL_LABEL)
    ax_c.plot(c["alpha"], c["dual"], color=DUAL_COLOUR, label=DUAL_LABEL)
    ax_c.axhline(c["kl_qp"], color=PALETTE["kl"], ls="--", lw=1, label=label("kl"))
    ax_c.axhline(c["kl_pq"], color=PALETTE["fwdkl"], ls=":", lw=1.5, label=label("fwdkl"))
    ax_c.axvline(alpha, color="0.6", lw=1)
    here = [float(gjs_normal(_param(mu), _param(logvar), alpha, dual=d)) for d in (False, True)]
    ax_c.plot([alpha, alpha], here, "o", color="0.2", ms=4)
    top = max(c["kl_qp"], c["kl_pq"], c["primal"].max(), c["dual"].max())
    ax_c.set(xlim=(0.0, 1.0), ylim=(0.0, 1.45 * top), xlabel=r"$\alpha$", ylabel="divergence")
    ax_c.set_title(rf"$\alpha={alpha:.2f}$", fontsize="medium")
    ax_c.legend(loc="upper center", fontsize="x-small", ncol=2)


def alpha_explorer(mu: float = 1.0, logvar: float = -1.0, alpha: float = 0.5):
    """ipywidgets UI: sliders for alpha, q's mean and q's log-variance redraw the panel.

    Needs a live kernel; the static book shows :func:`alpha_animation` instead. Returns the
    ``ipywidgets.interactive`` object (its ``children`` are the three sliders and the output).
    """
    import ipywidgets as widgets

    style = {"description_width": "initial"}
    return live_panels(
        draw_alpha_panel,
        alpha=widgets.FloatSlider(value=alpha, min=0.0, max=1.0, step=0.01, description="α", style=style),
        mu=widgets.FloatSlider(value=mu, min=-3.0, max=3.0, step=0.1, description="mean of q", style=style),
        logvar=widgets.FloatSlider(
            value=logvar, min=-3.0, max=2.0, step=0.1, description="log-variance of q", style=style
        ),
    )


def alpha_animation(
    mu: float = 1.0,
    logvar: float = -1.0,
    n_frames: int = 21,
    dpi: int = 72,
    figsize: tuple[float, float] = (7.5, 2.8),
) -> str:
    """Kernel-free version of :func:`alpha_explorer`: HTML whose frame slider sweeps alpha.

    ``n_frames`` evenly spaced skews from 0 to 1, each frame a PNG of :func:`draw_alpha_panel`
    embedded in the page, re-encoded with a 64-colour palette (about 12 kB a frame by default).
    """
    if isinstance(n_frames, bool) or int(n_frames) != n_frames or n_frames < 2:
        raise ValueError(f"n_frames must be an integer >= 2, got {n_frames}")
    alphas = np.linspace(0.0, 1.0, int(n_frames))
    return frame_animation(
        lambda axes, i: draw_alpha_panel(axes, mu, logvar, float(alphas[i])), len(alphas), dpi, figsize
    )


def plot_divergence_vs_alpha(examples: dict[str, tuple[float, float]], ax=None):
    """Primal (solid) and dual (dashed) JS^Galpha against alpha for several 1-D q's.

    ``examples`` maps a legend name to ``(mu, logvar)``; each q gets one colour and its two
    endpoints are marked with the KL values they must equal. Returns the axes.
    """
    if ax is None:
        _, ax = new_figure()
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (name, (mu, logvar)), col in zip(examples.items(), colours, strict=False):
        c = divergence_curves(float(mu), float(logvar))
        ax.plot(c["alpha"], c["primal"], color=col, label=f"{name}: primal")
        ax.plot(c["alpha"], c["dual"], color=col, ls="--", label=f"{name}: dual")
        ax.plot([0, 1], [c["kl_qp"], c["kl_pq"]], "o", color=col, mfc="none", ms=7)
        ax.plot([0, 1], [c["kl_pq"], c["kl_qp"]], "s", color=col, mfc="none", ms=7)
    ax.set(xlabel=r"$\alpha$", ylabel="divergence", xlim=(-0.03, 1.03))
    # below the axes: the curves reach the top corners, where a legend inside would cover them
    ax.legend(fontsize="x-small", ncol=len(examples), loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return ax
