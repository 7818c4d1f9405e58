"""Chapter 3's reading of the Figure 2 results: summaries, the skew table, trends and the figure's panels."""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from alphavae_core.chapters.synthetic_mixtures.distributions import (
    DTYPE,
    Gaussian,
    GaussianMixture,
    make_mixture,
)
from alphavae_core.chapters.synthetic_mixtures.fit import (
    ILLUSTRATION,
    OBJECTIVES,
    PLOT_KEY,
    RATIO,
    _paths,
    configs,
    key_of,
    missing_configs,
    run_figure2,
)
from alphavae_core.errors import UserError
from alphavae_core.experiments import results
from alphavae_core.experiments.presets import check_preset
from alphavae_core.paths import results_dir


@dataclass
class Figure2Results:
    """What chapter 3 reads: the table, the histories, and which runs are missing."""

    table: pd.DataFrame
    histories: dict[str, Any]
    n_missing: int
    n_total: int
    root: Path


def load_figure2(preset: str) -> Figure2Results:
    """Figure 2's results for a chapter: read from ``results/<preset>/``, or at ``smoke``
    computed afresh into a temporary folder (seconds). Other presets never train here: with
    some runs missing the chapter shows the rest; with none, ``UserError`` names the command."""
    check_preset(preset)
    root = Path(tempfile.mkdtemp(prefix="figure2_")) if preset == "smoke" else results_dir(preset)
    if preset == "smoke":
        run_figure2(preset, root)
    table_path, history_path = _paths(root)
    table = results.read_table(table_path)
    keys = {key_of(c) for c in configs(preset)}
    if not table.empty:
        table = table[table[results.KEY].isin(keys)].reset_index(drop=True)  # current code version only
    if table.empty:
        raise UserError(
            f"no Figure 2 results for preset {preset!r} in {root}; "
            f"compute them with `alphavae mixtures --preset {preset}`"
        )
    return Figure2Results(
        table=table,
        histories=results.read_json(history_path, default={}) or {},
        n_missing=len(missing_configs(preset, root)),
        n_total=len(keys),
        root=root,
    )


def summarise(table: pd.DataFrame, panel: str, column: str = "alpha_final") -> pd.DataFrame:
    """Mean, standard deviation and count of ``column`` per setting and objective of a panel."""
    if panel not in ("a", "b"):
        raise ValueError(f"panel must be 'a' or 'b', got {panel!r}")
    x = "n_components" if panel == "a" else "dim"
    sub = table[(table["panel"] == panel)]
    return (
        sub.groupby(["objective", x])[column]
        .agg(["mean", "std", "count"])
        .reset_index()
        .sort_values(["objective", x])
    )


def skew_table(
    table: pd.DataFrame, panel: str, objectives: tuple[str, ...] = ("dual", "primal")
) -> pd.DataFrame:
    """Learnt skew as "mean ± std" over seeds, one row per setting, one column per objective."""
    s = summarise(table, panel)
    s = s[s["objective"].isin(objectives)]
    s = s.assign(alpha=s["mean"].map("{:.3f}".format) + " ± " + s["std"].map("{:.3f}".format))
    return s.pivot(index=s.columns[1], columns="objective", values="alpha")


def dual_trend(table: pd.DataFrame, panel: str) -> str:
    """One line: mean learnt dual skew at the smallest and largest setting, and the slope in log x.

    Panel (a)'s one-component runs are left out: there q can equal p and the skew is arbitrary.
    """
    s = summarise(table, panel)
    x_name = s.columns[1]
    s = s[(s["objective"] == "dual") & ((s[x_name] > 1) | (panel == "b"))]
    x, m = s[x_name].to_numpy(), s["mean"].to_numpy()
    slope = np.polyfit(np.log(x), m, 1)[0] if len(x) > 1 else float("nan")
    return f"from {m[0]:.3f} to {m[-1]:.3f} ({x_name} = {x[0]} to {x[-1]}); slope per unit of log {x_name}: {slope:+.3f}"


def illustration(res: Figure2Results) -> tuple[GaussianMixture, dict[str, Gaussian], pd.DataFrame]:
    """The 2-D example of :data:`ILLUSTRATION`: its mixture, the Gaussian fitted under each
    objective, and a table of their learnt skews and KLs."""
    p = make_mixture(ILLUSTRATION["n_components"], 2, ILLUSTRATION["seed"])
    fits, rows = {}, []
    for objective in OBJECTIVES:
        row, hist = history_of(res, objective=objective, **ILLUSTRATION)
        mean, cov = (torch.tensor(hist[k], dtype=DTYPE) for k in ("mean", "covariance"))
        fits[objective] = Gaussian.from_covariance(mean, cov)
        rows.append(
            {
                "objective": objective,
                "learnt alpha": row["alpha_final"],
                "KL(q||p)": row["kl_qp"],
                "KL(p||q)": row["kl_pq"],
            }
        )
    return p, fits, pd.DataFrame(rows)


def history_of(res: Figure2Results, **where: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (row, histories entry) of the one run matching ``where`` (e.g. panel, seed, objective)."""
    sub = res.table
    for name, value in where.items():
        sub = sub[sub[name] == value]
    if len(sub) != 1:
        raise ValueError(f"expected exactly one run matching {where}, found {len(sub)}")
    row = sub.iloc[0].to_dict()
    return row, res.histories[row[results.KEY]]


# --------------------------------------------------------------------------- plotting


def plot_panel(ax, table: pd.DataFrame, panel: str, objectives: tuple[str, ...] = ("dual", "primal")) -> None:
    """Learnt skew (mean ± std over seeds, seeds as dots) against the panel's complexity axis."""
    from alphavae_core.plotting import colour, label

    x = "n_components" if panel == "a" else "dim"
    summary = summarise(table, panel)
    for i, obj in enumerate(objectives):
        s = summary[summary["objective"] == obj]
        shift = (i - (len(objectives) - 1) / 2) * 0.12
        ax.errorbar(
            s[x] + shift,
            s["mean"],
            yerr=s["std"],
            marker="o",
            capsize=3,
            color=colour(PLOT_KEY[obj]),
            label=label(PLOT_KEY[obj]),
        )
        dots = table[(table["panel"] == panel) & (table["objective"] == obj)]
        ax.scatter(dots[x] + shift, dots["alpha_final"], s=8, alpha=0.35, color=colour(PLOT_KEY[obj]))
    ax.set_xlabel("mixture components (2-D)" if panel == "a" else f"dimension $d$ ({RATIO}$d$ components)")
    ax.set_ylabel(r"learnt $\alpha$")
    ax.set_ylim(-0.03, 1.03)


def plot_fits_2d(ax, p: GaussianMixture, fits: dict[str, Gaussian], extent: float = 4.5) -> None:
    """Density of a 2-D mixture p (filled contours) and the 1- and 2-sigma ellipses of each fit."""
    from matplotlib.patches import Ellipse

    from alphavae_core.plotting import colour, label

    axis = torch.linspace(-extent, extent, 200, dtype=DTYPE)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)
    dens = torch.exp(p.log_prob(grid)).reshape(200, 200)
    ax.contourf(axis, axis, dens, levels=12, cmap="Greys")
    for name, q in fits.items():
        vals, vecs = torch.linalg.eigh(q.covariance)
        angle = math.degrees(math.atan2(float(vecs[1, -1]), float(vecs[0, -1])))
        for k, style in ((1, "-"), (2, "--")):
            ax.add_patch(
                Ellipse(
                    q.mean.tolist(),
                    2 * k * math.sqrt(float(vals[-1])),
                    2 * k * math.sqrt(float(vals[0])),
                    angle=angle,
                    fill=False,
                    lw=1.8,
                    ls=style,
                    color=colour(PLOT_KEY[name]),
                    label=label(PLOT_KEY[name]) if k == 1 else None,
                )
            )
    ax.set_aspect("equal")
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)


def figure_legend(axes) -> None:
    """One legend for a row of panels, under them: every label of ``axes`` once, in order of appearance.

    Below the panels it hides no data point, which a legend inside a narrow panel would.
    """
    seen: dict[str, Any] = {}
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(text, handle)
    if seen:
        axes[0].figure.legend(
            list(seen.values()), list(seen), loc="outside lower center", ncol=2, fontsize="small"
        )


def shade_map(name: str):
    """A colour map from a pale tint to the palette colour of ``name`` (a regulariser or KL
    direction), for an ordered series drawn in that one colour."""
    from matplotlib.colors import LinearSegmentedColormap, to_rgb

    from alphavae_core.plotting import colour

    rgb = np.asarray(to_rgb(colour(name)))
    return LinearSegmentedColormap.from_list(f"shade_{name}", [tuple(rgb + (1 - rgb) * 0.8), tuple(rgb)])


def plot_skew_histories(axes, res: Figure2Results, panel: str = "a") -> None:
    """The learnt skew during training of every dual (left) and primal (right) run of a panel, shaded
    by the panel's setting (pale: smallest, full colour: largest), each axis with its colour bar."""
    import matplotlib.pyplot as plt

    from alphavae_core.plotting import label

    x = "n_components" if panel == "a" else "dim"
    for ax, kind in zip(axes, ("dual", "primal")):
        runs = res.table[(res.table["panel"] == panel) & (res.table["objective"] == kind)]
        values = sorted(runs[x].unique())
        cmap = shade_map(PLOT_KEY[kind])
        for _, row in runs.iterrows():
            hist = res.histories[row[results.KEY]]["alpha"]
            steps = np.arange(1, len(hist) + 1) * row["record_every"]
            ax.plot(steps, hist, lw=0.8, color=cmap(values.index(row[x]) / max(len(values) - 1, 1)))
        ax.set_title(label(PLOT_KEY[kind]), fontsize="medium")
        ax.set_xlabel("optimiser step")
        ax.set_ylim(-0.03, 1.03)
        if values:
            scale = plt.cm.ScalarMappable(norm=plt.Normalize(min(values), max(values)), cmap=cmap)
            ax.figure.colorbar(scale, ax=ax, label="components K" if panel == "a" else "dimension d")
    axes[0].set_ylabel(r"learnt $\alpha$")


def low_skew_share(
    table: pd.DataFrame, panel: str, objective: str = "primal", below: float = 0.35
) -> pd.Series:
    """Per setting of a panel: how many runs of ``objective`` end with the skew below ``below``, as
    "k of n" (the learnt primal skew ends near one of two values, about 0.15-0.25 or 0.45-0.6)."""
    x = "n_components" if panel == "a" else "dim"
    sub = table[(table["panel"] == panel) & (table["objective"] == objective)]
    return (
        sub.groupby(x)["alpha_final"]
        .apply(lambda v: f"{int((v < below).sum())} of {len(v)}")
        .rename(f"runs with α < {below:g}")
    )
