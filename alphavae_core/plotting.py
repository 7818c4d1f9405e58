"""One figure style and one palette for every chapter.

Each regulariser (and each divergence direction) has one colour everywhere in the book.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

# Keys are the regulariser names of ``alphavae_core.losses`` plus the two KL directions.
PALETTE: dict[str, str] = {
    "kl": "#4c72b0",  # KL(q||p), the ELBO's reverse KL
    "fwdkl": "#dd8452",  # KL(p||q), forward KL
    "beta": "#8c8c8c",
    "mmd": "#937860",
    "gjs": "#55a868",
    "dgjs": "#c44e52",
    "tgjs": "#2ca02c",
    "tdgjs": "#8172b3",
}

LABELS: dict[str, str] = {
    "kl": r"KL$(q\|p)$",
    "fwdkl": r"KL$(p\|q)$",
    "beta": r"$\beta$-VAE",
    "mmd": "InfoVAE (MMD)",
    "gjs": r"JS$^{G_\alpha}$ (fixed $\alpha$)",
    "dgjs": r"JS$_*^{G_\alpha}$ (fixed $\alpha$)",
    "tgjs": r"t-JS$^{G_\alpha}$ ($\alpha$-VAE)",
    "tdgjs": r"t-JS$_*^{G_\alpha}$ ($\alpha_*$-VAE)",
}

# Distributions drawn in density plots.
DENSITY_COLOURS: dict[str, str] = {"p": "#4c4c4c", "q": "#4c72b0", "n_alpha": "#c44e52"}

FIGURE_DPI = 80  # committed notebooks carry PNGs at this DPI to stay lean


def apply_style() -> None:
    """Set the book's matplotlib style (call once, in a chapter's imports cell)."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)
    mpl.rcParams.update(
        {
            "figure.dpi": FIGURE_DPI,
            "savefig.dpi": FIGURE_DPI,
            "figure.figsize": (6.4, 3.6),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "figure.constrained_layout.use": True,
        }
    )


def colour(name: str) -> str:
    """The colour of a regulariser or KL direction; ``ValueError`` for an unknown name."""
    if name not in PALETTE:
        raise ValueError(f"no colour for {name!r}; known: {', '.join(PALETTE)}")
    return PALETTE[name]


def label(name: str) -> str:
    """The legend label of a regulariser or KL direction."""
    if name not in LABELS:
        raise ValueError(f"no label for {name!r}; known: {', '.join(LABELS)}")
    return LABELS[name]


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 3.6, **kwargs):
    """``plt.subplots`` with the book's default size."""
    return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)
