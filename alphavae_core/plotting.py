"""One figure style and one palette for every chapter.

Each regulariser (and each divergence direction) has one colour everywhere in the book.
"""

from __future__ import annotations

import base64
import io
import re

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


def live_panels(draw, ncols: int = 2, width: float = 8.0, height: float = 3.0, **sliders):
    """An ``ipywidgets.interactive`` that redraws ``draw(axes, **values)`` when a slider moves.

    Needs a live kernel; the static book shows :func:`frame_animation` of the same ``draw``.
    """
    import ipywidgets as widgets
    from IPython.display import display

    def update(**values) -> None:
        fig, axes = new_figure(ncols=ncols, width=width, height=height)
        draw(axes, **values)
        display(fig)
        plt.close(fig)

    return widgets.interactive(update, **sliders)


def frame_animation(draw, n_frames: int, dpi: int, figsize: tuple[float, float], fps: int = 4) -> str:
    """Kernel-free HTML (matplotlib's jshtml) with a frame slider: frame i is ``draw(axes, i)``.

    Frames are re-encoded with a 64-colour palette, which loses nothing visible in a line plot
    and keeps an animation of ~20 frames to a few hundred kB.
    """
    from matplotlib.animation import FuncAnimation

    if isinstance(n_frames, bool) or int(n_frames) != n_frames or n_frames < 2:
        raise ValueError(f"n_frames must be an integer >= 2, got {n_frames}")
    with mpl.rc_context({"savefig.dpi": dpi, "figure.dpi": dpi, "animation.frame_format": "png"}):
        fig, axes = plt.subplots(1, 2, figsize=figsize)
        try:
            anim = FuncAnimation(fig, lambda i: draw(axes, i), frames=int(n_frames))
            html = anim.to_jshtml(fps=fps, default_mode="once")
        finally:
            plt.close(fig)
    return _FRAME.sub(_quantise_frame, html)


# matplotlib's HTMLWriter embeds each frame as base64 PNG split by backslash-newlines
_FRAME = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)")


def _quantise_frame(match: re.Match) -> str:
    from PIL import Image

    png = base64.b64decode(match.group(1).replace("\\\n", ""))
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")
