"""Chapter 4's figures: the paper's Figures 1, 3, 4 and 6 redrawn from our runs, and the reconstructions.

Each function draws one figure (a chapter captions it through the cell's metadata); colours and
legend labels come from :mod:`alphavae_core.plotting`, one per regulariser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, NullFormatter

from alphavae_core import data
from alphavae_core.chapters.benchmarks.settings import (
    DATASET_LABELS,
    TRAINABLE,
    history,
    sweep_rows,
    table1_rows,
)
from alphavae_core.experiments.grid import decode_images
from alphavae_core.losses import TABLE1_REGULARISERS
from alphavae_core.plotting import colour, label


# ----------------------------------------------------------------------------- figure helpers
def shade(name: str, t: float) -> tuple[float, float, float]:
    """The palette colour of ``name`` mixed with white: light at ``t = 0``, the colour itself at ``t = 1``
    (an ordered series, such as epochs, drawn in one regulariser's colour)."""
    rgb = np.asarray(to_rgb(colour(name)))
    return tuple(float(v) for v in rgb + (1.0 - rgb) * 0.75 * (1.0 - t))


def _grey(t: float) -> tuple[float, float, float]:
    """A grey from light (``t = 0``) to dark (``t = 1``): a legend entry for an ordered series drawn in
    each panel's own colour."""
    v = 0.8 - 0.6 * t
    return (v, v, v)


def _legend_below(fig: plt.Figure, handles: list, ncol: int = 3) -> None:
    """One legend for the whole figure, under its panels (labels repeated across panels kept once)."""
    seen: dict[str, Any] = {}
    for h in handles:
        seen.setdefault(h.get_label(), h)
    fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncol=ncol, fontsize="small")


def _empty(ax: plt.Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


# Figures are stored at plotting.FIGURE_DPI (110); at this width one fills the book's column (about
# 670-720 px on a laptop) at 85 % or more of its natural size, so its labels stay legible.
FIGURE_WIDTH = 6.8


def _axes(axes, ncols: int, nrows: int = 1, width: float = FIGURE_WIDTH, height: float = 3.4):
    if axes is None:
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False, layout="constrained")
    else:
        axes = np.asarray(axes).reshape(nrows, ncols)
        fig = axes.flat[0].figure
    return fig, axes


def plot_figure1(rows: pd.DataFrame, dataset: str, axes=None) -> plt.Figure:
    """Figure 1: test MSE against initial alpha, fixed (gjs, dgjs) vs trainable (tgjs, tdgjs) skew.

    Stars: learnt alpha and test MSE of each seed of Table 1's trainable runs. Lines: the other
    regularisers' mean test MSE (they have no skew). Left primal, right dual.
    """
    fig, axes = _axes(axes, 2, height=4.3)
    t1 = table1_rows(rows)
    t1 = t1[t1["dataset"] == dataset]
    handles = []
    for ax, (fixed, trained) in zip(axes[0], (("gjs", "tgjs"), ("dgjs", "tdgjs"))):
        drawn = False
        for r, style in ((fixed, "o-"), (trained, "s-")):
            sweep = sweep_rows(rows, dataset, r)
            if len(sweep):
                ax.plot(sweep["alpha0"], sweep["test_mse"], style, color=colour(r), label=label(r), ms=4)
                drawn = True
        stars = t1[t1["regulariser"] == trained]
        if len(stars):
            ax.scatter(
                stars["alpha_final"],
                stars["test_mse"],
                marker="*",
                s=160,
                color=colour(trained),
                edgecolor="black",
                linewidth=0.6,
                zorder=5,
                label=f"{label(trained).split(' (')[0]}: learnt α (per seed)",
            )
            drawn = True
        if not drawn:  # the baselines alone would read as a result
            _empty(ax, f"no {DATASET_LABELS[dataset]} runs of\n{fixed} / {trained} yet")
            continue
        for r in ("kl", "beta", "mmd"):
            base = t1.loc[t1["regulariser"] == r, "test_mse"]
            if len(base):
                ax.axhline(base.mean(), color=colour(r), ls="--", lw=1.2, label=label(r))
        ax.set_xlim(-0.03, 1.03)
        ax.set_xlabel("initial α (fixed skew: its α)")
        ax.set_title(
            f"{DATASET_LABELS[dataset]}, {'primal' if fixed == 'gjs' else 'dual'}", fontsize="medium"
        )
        handles += ax.get_legend_handles_labels()[0]
    axes[0, 0].set_ylabel("test MSE (per image)")
    if handles:  # by column: the primal's three marks, the dual's, then the three baselines
        skewed = [h for h in handles if h.get_linestyle() != "--"]
        _legend_below(fig, skewed + [h for h in handles if h.get_linestyle() == "--"], ncol=3)
    return fig


def flat(values: Any) -> np.ndarray:
    """A landscape curve as a flat float array (the sidecar may nest each value in a list)."""
    return np.asarray(values, dtype=float).reshape(-1)


def grid_minimum(curve: Sequence[float], grid: np.ndarray | None = None) -> tuple[float, float]:
    """(alpha, value) at the minimum of a curve sampled on ``grid`` (default linspace(0, 1, n)),
    refined by the parabola through the lowest grid point and its two neighbours."""
    y = flat(curve)
    x = np.linspace(0.0, 1.0, y.size) if grid is None else np.asarray(grid, dtype=float)
    i = int(np.argmin(y))
    if 0 < i < y.size - 1:
        y0, y1, y2 = y[i - 1], y[i], y[i + 1]
        denom = y0 - 2 * y1 + y2
        if denom > 0:  # convex around the grid minimum: the vertex lies within half a cell
            shift = 0.5 * (y0 - y2) / denom
            h = x[i + 1] - x[i]
            return float(x[i] + shift * h), float(y1 - 0.25 * (y0 - y2) * shift)
    return float(x[i]), float(y[i])


def alpha_star_eq16(kl_qp: float, kl_pq: float) -> float:
    """Equation 16 in this book's convention, ``KL(q||p) / (KL(p||q) + KL(q||p))``.

    It minimises equation 18, the primal without the geometric mean's normaliser, so it only
    approximates the exact primal's minimiser (chapter 2). With KLs averaged over images it is
    the minimiser of the averaged equation 18.
    """
    total = kl_qp + kl_pq
    return math.nan if total <= 0 else kl_qp / total


def _epochs_to_show(n: int, most: int = 8) -> list[int]:
    if n <= most:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, most)})


def _plain_log_ticks(ax: plt.Axes) -> None:
    """Log-axis labels as plain numbers (0.3, 1, 6), with 2 and 5 labelled within two decades."""
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    low, high = ax.get_ylim()
    if high / low > 100:
        ax.yaxis.set_minor_formatter(NullFormatter())
        return

    def minor(v: float, _) -> str:
        lead = round(v / 10 ** math.floor(math.log10(v)))
        return f"{v:g}" if lead in (2, 5) else ""

    ax.yaxis.set_minor_formatter(FuncFormatter(minor))


def plot_landscapes(
    rows: pd.DataFrame, histories: Mapping[str, Any], dataset: str, seed: int = 0, axes=None
) -> plt.Figure:
    """Figure 3: the alpha landscape of the encoder after each epoch (primal from the t-JS^Gα run,
    dual from the t-JS*^Gα run of ``seed``), each curve's minimum (dot), the run's learnt alpha at
    that epoch (open circle) and, for the primal, equation 16's approximate minimiser (cross)."""
    fig, axes = _axes(axes, 2, height=3.9)
    t1 = table1_rows(rows)
    handles: list = []
    for ax, (r, kind) in zip(axes[0], (("tgjs", "primal"), ("tdgjs", "dual"))):
        run = t1[(t1["dataset"] == dataset) & (t1["regulariser"] == r) & (t1["seed"] == seed)]
        hist = history(histories, run.iloc[0]) if len(run) else None
        land = (hist or {}).get("landscape") or []
        if not land:
            _empty(ax, f"no {DATASET_LABELS[dataset]} {r} landscape (seed {seed}) yet")
            continue
        shown = _epochs_to_show(len(land))
        for e in shown:
            y = flat(land[e][kind])
            x = np.linspace(0.0, 1.0, y.size)
            t = e / max(len(land) - 1, 1)
            c = shade(r, t)
            ax.plot(x, y, color=c, lw=1.3)
            handles.append(Line2D([], [], color=_grey(t), lw=1.3, label=f"epoch {e + 1}"))
            ax.plot(*grid_minimum(y, x), "o", color=c, ms=5)
            a = hist["alpha_history"][e + 1] if len(hist.get("alpha_history", [])) > e + 1 else None
            if a is not None:
                ax.plot(a, np.interp(a, x, y), "o", mfc="none", mec=c, ms=8, mew=1.2)
            if kind == "primal":
                star = alpha_star_eq16(land[e]["kl_qp"], land[e]["kl_pq"])
                ax.plot(star, np.interp(star, x, y), "x", color=c, ms=7, mew=1.5)
        ax.set_yscale("log")
        _plain_log_ticks(ax)
        ax.set_xlabel("α")
        ax.set_title(f"{kind}: {label(r)}", fontsize="medium")
    if handles:
        handles += [
            Line2D([], [], ls="", marker="o", color="0.3", label="minimum"),
            Line2D([], [], ls="", marker="o", mfc="none", mec="0.3", label="learnt α"),
            Line2D([], [], ls="", marker="x", color="0.3", label="eq. 16 (approx., primal)"),
        ]
        _legend_below(fig, handles, ncol=4)
    axes[0, 0].set_ylabel("mean divergence per image (nats)")
    fig.suptitle(f"{DATASET_LABELS[dataset]}, seed {seed}", fontsize="medium")
    return fig


def alpha_vs_eq16(
    rows: pd.DataFrame, histories: Mapping[str, Any], dataset: str, seed: int = 0
) -> pd.DataFrame:
    """Per epoch of the t-JS^Gα run (Table 1, ``seed``): its learnt alpha, the primal landscape's
    minimum on the grid (refined) and equation 16's approximation. Empty without the run."""
    t1 = table1_rows(rows)
    run = t1[(t1["dataset"] == dataset) & (t1["regulariser"] == "tgjs") & (t1["seed"] == seed)]
    hist = history(histories, run.iloc[0]) if len(run) else None
    columns = ["epoch", "learnt α", "landscape minimum", "eq. 16 (approx.)"]
    if not hist or not hist.get("landscape"):
        return pd.DataFrame(columns=columns)
    out = []
    for e, land in enumerate(hist["landscape"]):
        alpha = hist["alpha_history"][e + 1] if len(hist["alpha_history"]) > e + 1 else math.nan
        out.append(
            (e + 1, alpha, grid_minimum(land["primal"])[0], alpha_star_eq16(land["kl_qp"], land["kl_pq"]))
        )
    return pd.DataFrame(out, columns=columns).set_index("epoch").round(3)


def plot_alpha_trajectories(
    rows: pd.DataFrame, histories: Mapping[str, Any], dataset: str, axes=None
) -> plt.Figure:
    """Figure 4: alpha after each epoch, from every initial alpha of the sweep (seed 0; left) and
    for every seed from 0.5 (right); primal t-JS^Gα on top, dual t-JS*^Gα below. The dashed grey
    line (primal) is equation 16's approximate minimiser for the seed-0 run, per epoch."""
    fig, axes = _axes(axes, 2, 2, height=6.4)
    t1 = table1_rows(rows)
    t1 = t1[t1["dataset"] == dataset]
    legends: dict[str, dict[str, Any]] = {"alpha0": {}, "seed": {}}  # one legend per column
    for row_axes, r in zip(axes, TRAINABLE):
        panels = (
            (row_axes[0], sweep_rows(rows, dataset, r), "alpha0", "initial α"),
            (row_axes[1], t1[t1["regulariser"] == r].sort_values("seed"), "seed", "seed"),
        )
        for ax, runs, key, what in panels:
            curves = [
                (run[key], (history(histories, run) or {}).get("alpha_history") or [])
                for _, run in runs.iterrows()
            ]
            curves = [(k, a) for k, a in curves if a]
            if not curves:
                _empty(ax, f"no {DATASET_LABELS[dataset]} {r} runs yet")
                continue
            for i, (k, a) in enumerate(curves):
                shade = 0.35 + 0.65 * i / max(len(curves) - 1, 1)
                ax.plot(range(len(a)), a, "-", marker=".", color=colour(r), alpha=shade, lw=1.2)
                name = f"{'α₀ =' if key == 'alpha0' else 'seed'} {k:g}"
                legends[key].setdefault(
                    name, Line2D([], [], marker=".", color="0.2", alpha=shade, label=name)
                )
            if r == "tgjs" and key == "seed":
                seed0 = runs[runs["seed"] == 0]
                land = (history(histories, seed0.iloc[0]) or {}).get("landscape", []) if len(seed0) else []
                stars = [alpha_star_eq16(e["kl_qp"], e["kl_pq"]) for e in land]
                if stars:
                    ax.plot(range(1, len(stars) + 1), stars, "--", color="0.5")
                    legends[key]["eq16"] = Line2D([], [], ls="--", color="0.5", label="eq. 16, seed 0")
            ax.set_ylim(-0.03, 1.03)
            ax.set_title(f"{label(r)}: by {what}", fontsize="medium")
    for ax, handles in zip(axes[1], legends.values()):
        ax.set_xlabel("epoch")
        if handles:
            ax.legend(
                handles=list(handles.values()),
                fontsize="small",
                ncol=2,
                loc="upper center",
                bbox_to_anchor=(0.5, -0.22),
            )
    for ax in axes[:, 0]:
        ax.set_ylabel("α")
    fig.suptitle(DATASET_LABELS[dataset], fontsize="medium")
    return fig


def plot_reconstructions(
    rows: pd.DataFrame,
    histories: Mapping[str, Any],
    dataset: str,
    originals: torch.Tensor,
    seed: int = 0,
    ax=None,
) -> plt.Figure:
    """Originals (top) and each regulariser's reconstructions of them (Table 1's run of ``seed``)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.4, 4.4))
    fig = ax.figure
    t1 = table1_rows(rows)
    t1 = t1[(t1["dataset"] == dataset) & (t1["seed"] == seed)]
    strips, names = [originals.float().clamp(0, 1)], ["originals"]
    for r in TABLE1_REGULARISERS:
        run = t1[t1["regulariser"] == r]
        hist = history(histories, run.iloc[0]) if len(run) else None
        if hist and "reconstructions" in hist:
            strips.append(decode_images(hist["reconstructions"])[: len(originals)])
            names.append(label(r))
    if len(strips) == 1:
        _empty(ax, f"no {DATASET_LABELS[dataset]} reconstructions yet")
        return fig
    grid = montage(strips)
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    h = strips[0].shape[-2]
    ax.set_yticks([h * (i + 0.5) for i in range(len(names))], names, fontsize="small")
    ax.set_xticks([])
    ax.grid(False)
    return fig


def test_originals(dataset: str, n: int = 8) -> torch.Tensor:
    """The first ``n`` test images of ``dataset`` as floats: the inputs of the stored reconstructions."""
    return data.to_float(data.load_images(dataset, "test", subset=n))


def plot_reconstruction_grid(rows: pd.DataFrame, histories: Mapping[str, Any], dataset: str) -> plt.Figure:
    """:func:`plot_reconstructions` for one dataset, titled; an empty panel (and no data read) when
    the dataset has no Table 1 runs."""
    if not (table1_rows(rows)["dataset"] == dataset).any():
        fig, ax = plt.subplots(figsize=(5.4, 1.6))
        _empty(ax, f"no {DATASET_LABELS[dataset]} runs at this preset yet")
    else:
        fig = plot_reconstructions(rows, histories, dataset, test_originals(dataset))
    fig.suptitle(DATASET_LABELS[dataset], fontsize="medium")
    return fig


def plot_reconstruction_grids(
    rows: pd.DataFrame, histories: Mapping[str, Any], datasets: Sequence[str]
) -> list[plt.Figure]:
    """One reconstruction grid per dataset that has Table 1 runs (originals loaded only then)."""
    figures = []
    for d in datasets:
        if not (table1_rows(rows)["dataset"] == d).any():
            continue
        fig = plot_reconstructions(rows, histories, d, test_originals(d))
        fig.suptitle(DATASET_LABELS[d], fontsize="medium")
        figures.append(fig)
    return figures


def montage(strips: Sequence[torch.Tensor]) -> np.ndarray:
    """Rows of images (each (N, C, H, W) in [0, 1]) tiled into one (rows*H, N*W[, C]) array."""
    tiles = []
    for images in strips:
        x = images.detach().cpu().float()
        tiles.append(torch.cat(list(x), dim=-1))  # (C, H, N*W)
    grid = torch.cat(tiles, dim=-2)  # (C, rows*H, N*W)
    return grid[0].numpy() if grid.shape[0] == 1 else grid.permute(1, 2, 0).numpy()
