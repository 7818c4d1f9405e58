"""Chapter 3 like for like with the paper: the released values, the Gaussian ball, convergence, the claims.

* the released plotting script's "tGJS" values (the *primal* with trainable skew) beside our primal
  curve (:func:`released_comparison`, :func:`overlay_released`);
* the paper's Gaussian ball against this book's full covariance, on the same mixtures and seeds
  (:func:`load_ball`, :func:`ball_vs_full`, :func:`plot_ball_vs_full`);
* the skew's trajectories, to tell a converged value from one still moving (:func:`convergence_table`,
  :func:`plot_trajectories`), and what the decaying learning rate changes (:func:`schedule_effect`);
* the paper's claims about Figure 2, from its contributions paragraph and from section 4.1, tested on
  the same numbers (:func:`paper_claims`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from alphavae_core.chapters.synthetic_mixtures.analysis import Figure2Results, summarise
from alphavae_core.chapters.synthetic_mixtures.fit import (
    PLOT_KEY,
    RATIO,
    _paths,
    command,
    configs,
    key_of,
    missing_configs,
    run_figure2,
)
from alphavae_core.experiments import results
from alphavae_core.experiments.presets import check_preset
from alphavae_core.paths import results_dir

# --------------------------------------------------------------------------- like for like with the paper

# The values of the paper's released plotting script (``notebooks/low_dim_plots.py``), labelled
# "tGJS dimensions": in the released code ``tGJS`` is the *primal* divergence with trainable skew.
RELEASED_TGJS_DIMS: dict[int, float] = {
    1: 0.730, 2: 0.790, 3: 0.688, 4: 0.609, 5: 0.568, 6: 0.547, 7: 0.536, 8: 0.518, 9: 0.511, 10: 0.507,
}  # fmt: skip


def _mean_std(values: pd.Series) -> str:
    v = values.dropna()
    if v.empty:
        return "-"
    return f"{v.mean():.3f} ± {v.std(ddof=1):.3f}" if len(v) > 1 else f"{v.mean():.3f}"


def released_comparison(table: pd.DataFrame, ball: pd.DataFrame | None = None) -> pd.DataFrame:
    """Panel (b): the released "tGJS" (primal) values beside our learnt primal skew (full covariance
    and, where fitted, the ball) and our dual, mean ± std over seeds, per dimension."""
    b = table[table["panel"] == "b"]
    dims = sorted(set(b["dim"]) | set(RELEASED_TGJS_DIMS))
    out = []
    for d in dims:
        row = {"dim": d, "released 'tGJS' (primal)": RELEASED_TGJS_DIMS.get(d, math.nan)}
        row["ours, primal"] = _mean_std(b.loc[(b["dim"] == d) & (b["objective"] == "primal"), "alpha_final"])
        if ball is not None:
            bb = ball[ball["panel"] == "b"]
            row["ours, primal, ball"] = _mean_std(
                bb.loc[(bb["dim"] == d) & (bb["objective"] == "primal"), "alpha_final"]
            )
        row["ours, dual"] = _mean_std(b.loc[(b["dim"] == d) & (b["objective"] == "dual"), "alpha_final"])
        out.append(row)
    return pd.DataFrame(out).set_index("dim")


def overlay_released(ax, label: str = "released script's 'tGJS' (primal)") -> None:
    """The released values on a panel (b) axis in the primal's colour (dashed, crosses); a line at 1/2."""
    from alphavae_core.plotting import colour

    d = sorted(RELEASED_TGJS_DIMS)
    ax.plot(
        d,
        [RELEASED_TGJS_DIMS[k] for k in d],
        "x--",
        color=colour(PLOT_KEY["primal"]),
        ms=6,
        lw=1,
        label=label,
    )
    ax.axhline(0.5, color="0.5", lw=0.9, ls=":", label=r"$\alpha = \frac{1}{2}$")


def _value_at(history: list[float], record_every: int, step: int) -> float:
    """The skew recorded after ``step`` optimiser steps (histories hold one value per ``record_every``)."""
    i = step // record_every - 1
    return float(history[i]) if 0 <= i < len(history) else math.nan


def convergence_table(
    res: Figure2Results, panel: str = "b", settings: tuple[int, ...] = (8, 10)
) -> pd.DataFrame:
    """Per run of the learnt-skew objectives at ``settings`` (dimensions for panel b, components for a):
    alpha after a third of the steps, at the end of the constant learning rate (half the steps), and at
    the end; and how much it moved in the quarter of the run before the decay, and during the decay."""
    x = "dim" if panel == "b" else "n_components"
    runs = res.table[
        (res.table["panel"] == panel)
        & res.table[x].isin(settings)
        & res.table["objective"].isin(("dual", "primal"))
    ]
    out = []
    for _, row in runs.sort_values([x, "objective", "seed"]).iterrows():
        h = res.histories[row[results.KEY]]["alpha"]
        steps, every = int(row["steps"]), int(row["record_every"])
        at = {s: _value_at(h, every, s) for s in (steps // 3, steps // 4, steps // 2, steps)}
        out.append(
            {
                x: row[x],
                "objective": row["objective"],
                "seed": row["seed"],
                f"α, step {steps // 3}": at[steps // 3],
                f"α, step {steps // 2} (decay starts)": at[steps // 2],
                f"α, step {steps} (end)": at[steps],
                f"moved, steps {steps // 4}–{steps // 2}": abs(at[steps // 2] - at[steps // 4]),
                f"moved, steps {steps // 2}–{steps}": abs(at[steps] - at[steps // 2]),
            }
        )
    return pd.DataFrame(out).round(3).set_index([x, "objective", "seed"]) if out else pd.DataFrame()


def plot_trajectories(axes, res: Figure2Results, dims: tuple[int, ...] = (8, 10)) -> None:
    """Panel (b)'s skew trajectories, one axis per (dimension, objective): every seed, with the step
    where the learning rates start to decay."""
    from alphavae_core.plotting import colour, label

    axes = np.asarray(axes).reshape(len(dims), 2)
    for row_axes, d in zip(axes, dims):
        for ax, obj in zip(row_axes, ("dual", "primal")):
            runs = res.table[
                (res.table["panel"] == "b") & (res.table["dim"] == d) & (res.table["objective"] == obj)
            ]
            for i, (_, run) in enumerate(runs.sort_values("seed").iterrows()):
                h = res.histories[run[results.KEY]]["alpha"]
                steps = np.arange(1, len(h) + 1) * run["record_every"]
                shade = 0.35 + 0.65 * i / max(len(runs) - 1, 1)
                ax.plot(
                    steps, h, color=colour(PLOT_KEY[obj]), alpha=shade, lw=1.1, label=f"seed {run['seed']}"
                )
            if len(runs):
                ax.axvline(
                    int(runs["steps"].iloc[0]) // 2, color="0.5", ls="--", lw=0.9, label="decay starts"
                )
            ax.set_title(f"{label(PLOT_KEY[obj])}, d = {d}", fontsize="medium")
            ax.set_ylim(-0.03, 1.03)
            ax.set_ylabel(r"$\alpha$")
    for ax in axes[-1]:
        ax.set_xlabel("optimiser step")
    # one legend under the grid (beside it, it would squeeze the panels in a book column)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        axes[0, 0].figure.legend(
            handles, labels, loc="outside lower center", ncol=len(handles), fontsize="x-small"
        )


def schedule_effect(res: Figure2Results) -> pd.DataFrame:
    """What the decaying half of the schedule changes: per panel and learnt-skew objective, the mean and
    largest |alpha(end) - alpha(end of the constant learning rate)| over every run."""
    runs = res.table[res.table["objective"].isin(("dual", "primal")) & (res.table["n_components"] > 1)]
    out = []
    for (panel, obj), part in runs.groupby(["panel", "objective"]):
        moved = []
        for _, r in part.iterrows():
            h, every, steps = res.histories[r[results.KEY]]["alpha"], int(r["record_every"]), int(r["steps"])
            moved.append(abs(_value_at(h, every, steps) - _value_at(h, every, steps // 2)))
        out.append(
            {
                "panel": panel,
                "objective": obj,
                "runs": len(moved),
                "mean |Δα| in the decay": float(np.mean(moved)),
                "largest |Δα|": float(np.max(moved)),
            }
        )
    return pd.DataFrame(out).round(3).set_index(["panel", "objective"]) if out else pd.DataFrame()


# --------------------------------------------------------------------------- the Gaussian ball


def load_ball(preset: str, root: Path | None = None) -> Figure2Results:
    """The Gaussian-ball runs (``figure2_ball.csv``): read from ``results/<preset>/``, or at ``smoke``
    computed afresh into a temporary folder. A table with none of them is returned empty, with
    ``n_missing`` telling the chapter to print :func:`~.fit.command`."""
    import tempfile

    check_preset(preset)
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="figure2_ball_")) if preset == "smoke" else results_dir(preset)
    if preset == "smoke":
        run_figure2(preset, root, covariance="ball")
    table_path, history_path = _paths(root, "ball")
    table = results.read_table(table_path)
    keys = {key_of(c) for c in configs(preset, "ball")}
    if not table.empty:
        table = table[table[results.KEY].isin(keys)].reset_index(drop=True)
    return Figure2Results(
        table=table,
        histories=results.read_json(history_path, default={}) or {},
        n_missing=len(missing_configs(preset, root, "ball")),
        n_total=len(keys),
        root=root,
    )


def ball_status(preset: str, ball: Figure2Results) -> str:
    """How many ball runs exist, and the command for the rest."""
    text = f"{len(ball.table)} of {ball.n_total} Gaussian-ball runs available"
    return text if not ball.n_missing else f"{text}; compute the rest with `{command(preset, 'ball')}`"


def ball_vs_full(table: pd.DataFrame, ball: pd.DataFrame) -> pd.DataFrame:
    """Per panel, setting and learnt-skew objective fitted with both models: the learnt skew of the
    full covariance and of the ball (mean ± std over the seeds both have), their mean paired
    difference, and each model's mean KL(p||q) and KL(q||p) at the end."""
    out = []
    if ball.empty:
        return pd.DataFrame()
    for (panel, k, d, obj), part in ball.groupby(["panel", "n_components", "dim", "objective"]):
        full = table[
            (table["panel"] == panel)
            & (table["n_components"] == k)
            & (table["dim"] == d)
            & (table["objective"] == obj)
        ]
        pair = pd.merge(full, part, on="seed", suffixes=("_full", "_ball"))
        if pair.empty:
            continue
        out.append(
            {
                "panel": panel,
                "setting": f"K = {k}" if panel == "a" else f"d = {d}",
                "objective": obj,
                "seeds": len(pair),
                "α, full": _mean_std(pair["alpha_final_full"]),
                "α, ball": _mean_std(pair["alpha_final_ball"]),
                "ball − full": round(float((pair["alpha_final_ball"] - pair["alpha_final_full"]).mean()), 3),
                "KL(p‖q), full": round(float(pair["kl_pq_full"].mean()), 2),
                "KL(p‖q), ball": round(float(pair["kl_pq_ball"].mean()), 2),
                "KL(q‖p), full": round(float(pair["kl_qp_full"].mean()), 2),
                "KL(q‖p), ball": round(float(pair["kl_qp_ball"].mean()), 2),
            }
        )
    return pd.DataFrame(out).set_index(["panel", "setting", "objective"]) if out else pd.DataFrame()


def plot_ball_vs_full(axes, table: pd.DataFrame, ball: pd.DataFrame) -> None:
    """Both panels: the learnt skew with a full covariance (solid, filled) and with the ball (dashed,
    open markers), mean ± std over seeds, on the settings where the ball was fitted."""
    from alphavae_core.plotting import colour, label

    for ax, panel in zip(axes, ("a", "b")):
        x = "n_components" if panel == "a" else "dim"
        shown = set(ball.loc[ball["panel"] == panel, x]) if not ball.empty else set()
        for i, obj in enumerate(("dual", "primal")):
            for j, (name, data, style) in enumerate(
                (("full covariance", table, "o-"), ("ball", ball, "s--"))
            ):
                if data.empty:
                    continue
                s = summarise(data[data[x].isin(shown)], panel)
                s = s[s["objective"] == obj]
                if s.empty:
                    continue
                shift = (2 * i + j - 1.5) * 0.12
                c = colour(PLOT_KEY[obj])
                ax.errorbar(
                    s[x] + shift,
                    s["mean"],
                    yerr=s["std"],
                    fmt=style,
                    capsize=2,
                    color=c,
                    mfc="white" if name == "ball" else c,
                    label=f"{label(PLOT_KEY[obj])}, {name}",
                )
        ax.axhline(0.5, color="0.5", lw=0.9, ls=":")
        if shown:
            ax.set_xticks(sorted(shown))
            ax.set_xlim(min(shown) - 0.75, max(shown) + 0.75)
        ax.set_xlabel(
            "mixture components (2-D)" if panel == "a" else f"dimension $d$ ({RATIO}$d$ components)"
        )
        ax.set_ylim(-0.03, 1.03)
        if not shown:
            ax.text(
                0.5,
                0.5,
                "no Gaussian-ball runs yet",
                ha="center",
                va="center",
                transform=ax.transAxes,
                color="0.4",
            )
    axes[0].set_ylabel(r"learnt $\alpha$")


# --------------------------------------------------------------------------- the paper's claims


BALANCED = 0.01  # a mean skew within this of 1/2 leans to neither KL


def _trend(table: pd.DataFrame, panel: str, obj: str, lowest: int) -> tuple[pd.DataFrame, float]:
    s = summarise(table, panel)
    x = s.columns[1]
    s = s[(s["objective"] == obj) & (s[x] >= lowest)]
    slope = float(np.polyfit(np.log(s[x]), s["mean"], 1)[0]) if len(s) > 1 else math.nan
    return s.set_index(x), slope


def paper_claims(table: pd.DataFrame) -> pd.DataFrame:
    """The paper's four statements about Figure 2, each tested on ``table`` (one row per run).

    Section 4.1: the learnt dual skew *decreases* with the number of components (panel a) and with
    the dimension (panel b). Contributions paragraph: the skew "tends toward a balance of forward and
    reverse KL as dimensionality increases" (|alpha - 1/2| shrinks with d), and "for increasing
    distribution modes, training skew marginally favours forward KL" (in this book's convention the
    dual leans to KL(p||q), the forward KL, below 1/2, the primal above 1/2). Panel (a)'s one-component
    runs are left out (there q can equal p and the skew is arbitrary).
    """
    rows = []

    def add(source: str, claim: str, measured: str, verdict: str) -> None:
        rows.append((source, claim, measured, verdict))

    for panel, name, lowest in (("a", "the number of components", 2), ("b", "the dimension", 1)):
        s, slope = _trend(table, panel, "dual", lowest)
        if len(s) > 1:
            sym = "K" if panel == "a" else "d"
            first, last = s["mean"].iloc[0], s["mean"].iloc[-1]
            measured = (
                f"{first:.3f} ({sym} = {s.index[0]}) → {last:.3f} ({sym} = {s.index[-1]}); "
                f"slope {slope:+.3f} per unit of log {sym}"
            )
            verdict = "yes" if slope < 0 and last < first else "no"
            add("section 4.1", f"dual skew decreases as {name} increases (panel {panel})", measured, verdict)
    for obj in ("dual", "primal"):
        s, _ = _trend(table, "b", obj, 1)
        if len(s) > 1:
            dev = (s["mean"] - 0.5).abs()
            measured = (
                f"|mean α − ½|: {dev.iloc[0]:.3f} (d = {s.index[0]}) → {dev.iloc[-1]:.3f} (d = {s.index[-1]})"
            )
            verdict = "yes" if dev.iloc[-1] < dev.iloc[0] else "no"
            add("contributions", f"skew tends toward ½ as dimension increases ({obj})", measured, verdict)
    for obj, sign in (("dual", -1.0), ("primal", 1.0)):
        s, _ = _trend(table, "a", obj, 2)
        if len(s) > 1:
            lean = sign * (s["mean"] - 0.5)  # > 0: towards forward KL, KL(p||q)
            first, last = float(lean.iloc[0]), float(lean.iloc[-1])
            k0, k1 = s.index[0], s.index[-1]
            measured = (
                f"lean towards KL(p‖q): {first:+.3f} (K = {k0}) → {last:+.3f} ± {s['std'].iloc[-1]:.3f} (K = {k1}); "
                f"largest {float(lean.max()):+.3f}"
            )
            ends = "forward" if last > BALANCED else "reverse" if last < -BALANCED else "balanced"
            grows = last > first
            if ends == "forward" and grows:
                verdict = f"yes: moves towards forward KL and ends marginally on its side (K = {k1})"
                if last < s["std"].iloc[-1]:
                    verdict += ", within the spread over seeds"
            elif ends == "forward" or grows:
                verdict = f"partly: {'moves towards' if grows else 'moves away from'} forward KL, ends {ends}"
            else:
                verdict = f"no: moves away from forward KL and ends {ends} (K = {k1})"
            add(
                "contributions",
                f"with more components, the skew marginally favours forward KL ({obj})",
                measured,
                verdict,
            )
    return pd.DataFrame(rows, columns=["source", "claim", "measured (mean over seeds)", "verdict"])
