"""The rate-distortion figure (the paper's Figure 7): every point, and a close-up of the stretch where
the skewed models' rates meet the VAE's, with each VAE point labelled by its lambda where the label
covers no other point, error bar or line."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter

from alphavae_core.chapters.rate_distortion.curves import curves
from alphavae_core.experiments.catalogue import RATE_DISTORTION_REGULARISERS
from alphavae_core.plotting import colour, label, new_figure

CLOSE_UP_WEIGHT = 0.1  # the close-up shows the skewed models' points at lambda >= this
# Where a lambda label may go, tried in this order: offset (points) and alignment. Below-left first:
# the VAE's curve falls and flattens, so the space below and left of it holds no model.
PLACES = (
    (-4, -4, "right", "top"),
    (-6, 0, "right", "center"),
    (0, -6, "center", "top"),
    (4, -4, "left", "top"),
    (6, 0, "left", "center"),
    (-4, 4, "right", "bottom"),
    (0, 6, "center", "bottom"),
    (4, 4, "left", "bottom"),
)


def plot_rate_distortion(rows: pd.DataFrame, annotate: str = "kl") -> Figure:
    """Distortion against rate as lambda varies, solid for test and dashed for train (the paper's
    Figure 7). Top: every point. Bottom: the rates the skewed models reach at lambda >= 0.1 (the grey
    box above), where the comparison at equal rate is read. The ``annotate`` curve's points carry their
    lambda: in the close-up those inside it, above the others. Error bars are the standard deviation
    over seeds, drawn only where there are two or more."""
    fig, (full, close) = new_figure(nrows=2, width=6.8, height=7.0, height_ratios=(1, 1.1))
    c = curves(rows)
    for ax in (full, close):
        _draw(ax, c)
    full.plot([], [], color="0.4", ls="--", label="train (dashed)")
    full.legend(fontsize="small", ncols=2, loc="best")
    full.set_title("every λ", fontsize="medium")
    window = _close_up(c, annotate)
    ref = c[c["regulariser"] == annotate]
    if window is None or ref.empty:
        close.set_visible(False)
        return fig
    (x0, x1), (y0, y1) = window
    close.set_xlim(x0, x1)
    close.set_ylim(y0, y1)
    close.set_xticks([t for t in (8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80) if x0 <= t <= x1])
    close.set_title(_close_up_title(c, annotate), fontsize="medium")
    full.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="0.5", lw=0.8, ls=":"))
    inside = (ref["rate"] >= x0) & (ref["rate"] <= x1) & (ref["test_mse"] >= y0) & (ref["test_mse"] <= y1)
    fig.canvas.draw()  # fix the layout: labels are placed in the final coordinates
    _label(close, ref[inside], c, colour(annotate))
    _label(full, ref[~inside], c, colour(annotate))
    return fig


def _draw(ax: Axes, c: pd.DataFrame) -> None:
    """Every regulariser's test points (with error bars) and train points, rate on a log scale."""
    for r in RATE_DISTORTION_REGULARISERS:
        part = c[c["regulariser"] == r].sort_values("rate")
        if part.empty:
            continue
        ax.errorbar(part["rate"], part["test_mse"], xerr=part["rate_std"], yerr=part["test_mse_std"],
                    color=colour(r), marker="o", ms=4, capsize=2, label=f"{label(r)}, test")  # fmt: skip
        ax.plot(part["train_rate"], part["train_mse"], color=colour(r), ls="--", marker=".", lw=1)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 10, 100: not 10^1, 10^2
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))
    ax.set_xlabel("rate: KL(q‖p) per image (nats, log scale)")
    ax.set_ylabel("distortion: squared error\nper image")


def _close_up(c: pd.DataFrame, reference: str) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Rate and distortion limits around the skewed models' points at lambda >= CLOSE_UP_WEIGHT, and
    every point (with its error bar) at those rates; None without such points."""
    skewed = _skewed(c, reference)
    if skewed.empty:
        return None
    x0, x1 = skewed["rate"].min() / 1.12, skewed["rate"].max() * 1.12
    at = c[(c["rate"] >= x0) & (c["rate"] <= x1)]
    lo = np.nanmin(at["test_mse"] - at["test_mse_std"].fillna(0))
    hi = np.nanmax(at["test_mse"] + at["test_mse_std"].fillna(0))
    lo, hi = min(lo, at["train_mse"].min()), max(hi, at["train_mse"].max())
    pad = 0.08 * (hi - lo)
    return (x0, x1), (lo - pad, hi + pad)


def _skewed(c: pd.DataFrame, reference: str) -> pd.DataFrame:
    """The points the close-up frames: every model but ``reference`` at lambda >= CLOSE_UP_WEIGHT."""
    return c[(c["regulariser"] != reference) & (c["weight"] >= CLOSE_UP_WEIGHT)]


def _close_up_title(c: pd.DataFrame, reference: str) -> str:
    """Name what the close-up frames: one skewed model by name, several as a group; one lambda by its value."""
    skewed = _skewed(c, reference)
    who = (
        label(skewed["regulariser"].iloc[0]) if skewed["regulariser"].nunique() == 1 else "the skewed models"
    )
    at = f"= {skewed['weight'].iloc[0]:g}" if skewed["weight"].nunique() == 1 else f"≥ {CLOSE_UP_WEIGHT:g}"
    return f"close-up: {who} at λ {at}"


def _obstacles(ax: Axes, c: pd.DataFrame) -> np.ndarray:
    """Display coordinates of points along every curve, train and test, and along every error bar."""
    paths = []
    for _, part in c.groupby("regulariser"):
        part = part.sort_values("rate")
        for x, y in ((part["rate"], part["test_mse"]), (part["train_rate"], part["train_mse"])):
            paths.append(np.column_stack([x, y]))
        for _, p in part.iterrows():
            dx, dy = np.nan_to_num(p["rate_std"]), np.nan_to_num(p["test_mse_std"])
            paths.append(np.array([[p["rate"], p["test_mse"] - dy], [p["rate"], p["test_mse"] + dy]]))
            paths.append(np.array([[p["rate"] - dx, p["test_mse"]], [p["rate"] + dx, p["test_mse"]]]))
    dots = []
    for path in paths:
        display = ax.transData.transform(np.clip(path, 1e-9, None))
        for a, b in zip(display[:-1], display[1:]):  # a dot every pixel or so along each segment
            steps = int(np.clip(np.hypot(*(b - a)), 2, 2000)) if np.isfinite(b - a).all() else 2
            dots.append(a + np.linspace(0, 1, steps)[:, None] * (b - a))
        dots.append(display)
    return np.concatenate(dots) if dots else np.zeros((0, 2))


def _label(ax: Axes, points: pd.DataFrame, c: pd.DataFrame, color: str) -> None:
    """Label each point with its lambda at the first place (:data:`PLACES`, then the same directions
    further out, with a leader line) where the label stays inside the axes and covers no curve, error
    bar or other label; at the first place if none is free."""
    renderer = ax.figure.canvas.get_renderer()
    dots, taken = _obstacles(ax, c), []
    frame = ax.get_window_extent(renderer)
    tries = [(k, *place) for k in (1, 3, 5) for place in PLACES]
    for _, p in points.sort_values("rate").iterrows():
        for i, (k, dx, dy, ha, va) in enumerate(tries):
            free = i == len(tries) - 1  # nowhere free: the first place, as the least bad
            k, dx, dy, ha, va = tries[0] if free else (k, dx, dy, ha, va)
            text = ax.annotate(
                f"λ={p['weight']:g}", (p["rate"], p["test_mse"]), textcoords="offset points",
                xytext=(k * dx, k * dy), ha=ha, va=va, fontsize="x-small", color=color,
                arrowprops={"arrowstyle": "-", "color": color, "lw": 0.6, "shrinkA": 0, "shrinkB": 3} if k > 1 else None,
            )  # fmt: skip
            text.set_in_layout(False)
            text.update_positions(renderer)
            box = Text.get_window_extent(text, renderer).padded(2)  # the words, not the leader line
            inside = (
                (dots[:, 0] > box.x0) & (dots[:, 0] < box.x1) & (dots[:, 1] > box.y0) & (dots[:, 1] < box.y1)
            )
            free = free or (
                frame.contains(box.x0, box.y0)
                and frame.contains(box.x1, box.y1)
                and not any(box.overlaps(t) for t in taken)
                and not inside.any()
            )
            if free:
                taken.append(Text.get_window_extent(text, renderer))
                break
            text.remove()
