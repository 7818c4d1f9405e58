"""Chapter 4 at a small preset: what its scale allows, measured from the committed rows and histories.

* :func:`split_rows`: the preset's own datasets (compared with the paper) apart from the optional
  ones it has settings for (at ``cpu``, dSprites), which are only a *pipeline check*;
* :func:`pipeline_check`: those optional runs in one table, never in the comparisons;
* :func:`alpha_travel`: how far Adam moved the skew, against steps x learning rate;
* :func:`still_moving` and :func:`travel_limit_text`: which starts the travel still limits;
* :func:`landscape_minima` and :func:`falls_then_settles`: the paper's Figure 3 claim, per epoch;
* :func:`table3_ordering`: what differs between the datasets whose learnt skews Table 3 orders;
* :func:`sweep_status`: which runs of the initial-alpha sweep (Figures 1 and 6) exist.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from alphavae_core.adam import BETAS
from alphavae_core.chapters.benchmarks.names import model_label
from alphavae_core.chapters.benchmarks.settings import (
    _DEFAULT_ALPHA,
    DATASET_LABELS,
    PAPER_DATASETS,
    TRAINABLE,
    ChapterSettings,
    _alpha_steps,
    grid_command,
    history,
    missing_runs,
    paper_value,
    table1_rows,
)
from alphavae_core.chapters.benchmarks.tables import format_mean_std, mean_std
from alphavae_core.chapters.seeds import paired
from alphavae_core.data import default_reconstruction
from alphavae_core.experiments.presets import PAPER_EPOCHS, SCALES
from alphavae_core.losses import TABLE1_REGULARISERS

# Kingma & Ba (2015, section 2.1): with (1 - beta1) > sqrt(1 - beta2), as for the defaults, one Adam
# step is at most about lr * (1 - beta1) / sqrt(1 - beta2) (3.16 lr); it is about lr when the
# gradient keeps its sign and size.
ADAM_STEP_CEILING = (1.0 - BETAS[0]) / math.sqrt(1.0 - BETAS[1])
SETTLED = 0.2  # "settles": the last epoch moves the minimum by at most this share of its largest move
_KIND = {"tgjs": "primal", "tdgjs": "dual"}


def split_rows(rows: pd.DataFrame, settings: ChapterSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows of the preset's own datasets, rows of its optional datasets: the pipeline check)."""
    main = rows["dataset"].isin(settings.datasets)
    return rows[main].reset_index(drop=True), rows[~main].reset_index(drop=True)


def pipeline_check(rows: pd.DataFrame, settings: ChapterSettings) -> pd.DataFrame:
    """The optional datasets' Table 1 runs, one row per regulariser: test MSE (ours, the paper's),
    rate and learnt alpha, with the steps a run took. Empty when none were computed."""
    _, checks = split_rows(rows, settings)
    t1 = table1_rows(checks)
    out = []
    for d in [d for d in PAPER_DATASETS if d in set(t1["dataset"])]:
        for r in TABLE1_REGULARISERS:
            part = t1[(t1["dataset"] == d) & (t1["regulariser"] == r)]
            if part.empty:
                continue
            mse, rate, alpha = (mean_std(part[c].dropna()) for c in ("test_mse", "rate", "alpha_final"))
            trained = r in TRAINABLE
            out.append(
                {
                    "dataset": DATASET_LABELS[d],
                    "VAE": model_label(r),
                    "steps per run": _alpha_steps(settings, d),
                    "test MSE, ours": format_mean_std(mse[0], mse[1], 1),
                    "test MSE, paper": format_mean_std(*paper_value("table1", r, d), digits=2),
                    "rate (nats)": f"{rate[0]:.1f}",
                    "learnt α (from 0.5)": format_mean_std(alpha[0], alpha[1], 3) if trained else "-",
                }
            )
    return pd.DataFrame(out).set_index(["dataset", "VAE"]) if out else pd.DataFrame()


def pipeline_note(rows: pd.DataFrame, settings: ChapterSettings) -> str:
    """One sentence per optional dataset with rows: its scale against the paper's."""
    _, checks = split_rows(rows, settings)
    scale = SCALES[settings.preset]
    lines = []
    for d in [d for d in PAPER_DATASETS if d in set(checks["dataset"])]:
        n = scale.subset_for(d)
        images = "all" if n is None else f"{n:,}"
        lines.append(
            f"{DATASET_LABELS[d]} at preset {settings.preset!r}: {scale.epochs[d]} epochs over {images} "
            f"training images, {_alpha_steps(settings, d)} optimiser steps per run (the paper: "
            f"{PAPER_EPOCHS[d]} epochs over all images). A pipeline check only: not compared with the paper."
        )
    return "\n".join(lines) if lines else "No optional dataset has been computed at this preset."


# ----------------------------------------------------------------------------- how far alpha travels
def _trajectories(rows: pd.DataFrame, histories: Mapping[str, Any], dataset: str) -> list[tuple[float, list]]:
    runs = rows[(rows["dataset"] == dataset) & rows["regulariser"].isin(TRAINABLE)]
    out = []
    for _, run in runs.iterrows():
        a = (history(histories, run) or {}).get("alpha_history") or []
        if len(a) >= 2:
            out.append((float(run["alpha0"]), [float(v) for v in a]))
    return out


def alpha_travel(
    settings: ChapterSettings, rows: pd.DataFrame | None = None, histories: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Per dataset: the steps of one run, steps x alpha_lr (what Adam moves alpha when every step is
    about the learning rate), Adam's usual per-step ceiling times the steps, and, from the
    trainable runs' histories (sweep included), the largest measured travel |alpha_end - alpha_0| and
    the largest move in one epoch as a multiple of that epoch's steps x alpha_lr."""
    out = []
    for d in settings.datasets:
        cfg = next(
            (c.resolved() for c in settings.configs if c.dataset == d and c.regulariser in TRAINABLE), None
        )
        steps = _alpha_steps(settings, d)
        if cfg is None or not isinstance(steps, int):
            continue
        lr, epochs = cfg.alpha_lr, cfg.epochs
        row = {
            "dataset": DATASET_LABELS[d],
            "steps per run": steps,
            "α learning rate": f"{lr:g}",
            "steps × lr": round(steps * lr, 3),
            f"{ADAM_STEP_CEILING:.2f} × steps × lr": round(ADAM_STEP_CEILING * steps * lr, 2),
            "largest travel (measured)": math.nan,
            "from α₀": "-",
            "largest one-epoch move / (epoch's steps × lr)": math.nan,
        }
        runs = _trajectories(rows, histories or {}, d) if rows is not None else []
        if runs:
            a0, traj = max(runs, key=lambda t: abs(t[1][-1] - t[1][0]))
            row["largest travel (measured)"] = round(abs(traj[-1] - traj[0]), 3)
            row["from α₀"] = f"{a0:g}"
            per_epoch = steps / epochs * lr
            row["largest one-epoch move / (epoch's steps × lr)"] = round(
                max(float(np.max(np.abs(np.diff(t)))) for _, t in runs) / per_epoch, 2
            )
        out.append(row)
    return pd.DataFrame(out).set_index("dataset") if out else pd.DataFrame()


STILL_MOVING = 0.5  # a run whose last epoch moved alpha by more than this x that epoch's steps x lr
_RATIO = "/ (epoch's steps × lr)"


def still_moving(
    settings: ChapterSettings, rows: pd.DataFrame, histories: Mapping[str, Any], dataset: str
) -> pd.DataFrame:
    """Per initial alpha of the trainable runs on ``dataset``: the largest last-epoch move of alpha,
    as a multiple of one epoch's steps x lr, and the range of the final alphas. A run that still
    moves by more than :data:`STILL_MOVING` of that in its last epoch is limited by its travel: it
    moves at about Adam's usual step and has not arrived."""
    cfg = next(
        (c.resolved() for c in settings.configs if c.dataset == dataset and c.regulariser in TRAINABLE), None
    )
    steps = _alpha_steps(settings, dataset)
    runs = _trajectories(rows, histories, dataset)
    if cfg is None or not isinstance(steps, int) or not runs:
        return pd.DataFrame()
    per_epoch = steps / cfg.epochs * cfg.alpha_lr
    out = []
    for a0 in sorted({a for a, _ in runs}):
        trajs = [t for a, t in runs if a == a0]
        last = max(abs(t[-1] - t[-2]) for t in trajs)
        out.append(
            {
                "α₀": a0,
                "runs": len(trajs),
                "largest last-epoch move": last,
                _RATIO: last / per_epoch,
                "final α, lowest": min(t[-1] for t in trajs),
                "final α, highest": max(t[-1] for t in trajs),
                "still moving": last / per_epoch > STILL_MOVING,
            }
        )
    return pd.DataFrame(out).set_index("α₀")


def travel_limit_text(settings: ChapterSettings, rows: pd.DataFrame, histories: Mapping[str, Any]) -> str:
    """Which runs' learnt alpha is limited by how far Adam can move it, per dataset, from
    :func:`still_moving`: the runs from the default start (0.5) and those still moving."""
    lines = []
    for d in settings.datasets:
        m = still_moving(settings, rows, histories, d)
        if m.empty:
            continue
        moving = m[m["still moving"]]
        settled = m[~m["still moving"]]
        name = DATASET_LABELS[d]
        text = f"{name}: the runs started at α₀ = {', '.join(f'{a:g}' for a in settled.index)} moved α by at most "
        text += f"{settled[_RATIO].max():.2f} × one epoch's steps × lr in their last epoch"
        if _DEFAULT_ALPHA in settled.index:
            text += f" (those from {_DEFAULT_ALPHA:g}, Table 1's runs, sit on their landscape's minimum)"
        if moving.empty:
            text += "; no run is still moving at Adam's usual step."
        else:
            text += (
                f"; the runs from α₀ = {', '.join(f'{a:g}' for a in moving.index)} still moved α by up to "
                f"{moving['largest last-epoch move'].max():.3f} "
                f"({moving[_RATIO].max():.2f} × one epoch's steps × lr) in "
                f"their last epoch and end at α = {moving['final α, lowest'].min():.3f} to "
                f"{moving['final α, highest'].max():.3f}: for them, the travel is what limits the learnt α."
            )
        lines.append(text)
    return "\n\n".join(lines)


# ----------------------------------------------------------------------------- the paper's Figure 3 claim
def landscape_minima(
    rows: pd.DataFrame, histories: Mapping[str, Any], dataset: str, regulariser: str
) -> pd.DataFrame:
    """The minimiser of the alpha landscape after each epoch (rows: epoch; columns: seed) of the
    Table 1 runs of ``regulariser``: the primal landscape of t-JS^Gα runs, the dual of t-JS*^Gα runs."""
    from alphavae_core.chapters.benchmarks.figures import grid_minimum

    kind = _KIND[regulariser]
    t1 = table1_rows(rows)
    runs = t1[(t1["dataset"] == dataset) & (t1["regulariser"] == regulariser)].sort_values("seed")
    columns = {}
    for _, run in runs.iterrows():
        land = (history(histories, run) or {}).get("landscape") or []
        if land:
            columns[int(run["seed"])] = [grid_minimum(e[kind])[0] for e in land]
    if not columns:
        return pd.DataFrame()
    n = min(len(v) for v in columns.values())
    frame = pd.DataFrame({s: v[:n] for s, v in columns.items()}, index=pd.RangeIndex(1, n + 1, name="epoch"))
    frame.columns.name = "seed"
    return frame


def _signed(x: float) -> str:
    """``+0.012``, ``−0.105``; a change that rounds to zero prints as ``0.000``."""
    return "0.000" if abs(x) < 0.0005 else f"{x:+.3f}".replace("-", "−")


def falls_then_settles(minima: pd.DataFrame) -> str:
    """The paper's Figure 3 claim on one set of minima: does the optimal alpha fall during training
    (the book's rule: each seed's change from the first to the last epoch, paired, with a 95%
    interval below zero; see :mod:`..seeds`), then settle (the last epoch moves the mean minimum by at
    most :data:`SETTLED` of its largest one-epoch move)?"""
    if minima.empty or len(minima) < 3:
        return "too few epochs with a landscape"
    m = minima.mean(axis=1).to_numpy()
    change = paired((minima.iloc[-1] - minima.iloc[0]).to_numpy(float))
    steps = np.diff(m)
    largest, last = float(np.abs(steps).max()), float(steps[-1])
    path = (
        f"{m[0]:.3f} → {m[-1]:.3f} (epochs 1 → {len(m)}; change {change.text(3)}); last epoch "
        f"{_signed(last)}, largest {_signed(float(steps[np.argmax(np.abs(steps))]))}"
    )
    if change.n < 2:
        return f"not judged (one seed): {path}"
    if not (change.resolved and change.mean < 0):
        return f"no: does not fall ({change.word('lower', 'higher')}), {path}"
    if abs(last) <= SETTLED * largest:
        return f"yes: falls, then settles, {path}"
    return f"falls, not settled yet: {path}"


# ----------------------------------------------------------------------------- Table 3's ordering
def table3_ordering(rows: pd.DataFrame, histories: Mapping[str, Any]) -> pd.DataFrame:
    """Per trainable regulariser and dataset (means over seeds of Table 1's runs): the learnt alpha
    (ours, the paper's), the landscape minimum after the last epoch and its change in that epoch,
    KL(q||p) and KL(p||q) of the encoder then, the reconstruction loss and the training loss per image."""
    t1 = table1_rows(rows)
    out = []
    for r in TRAINABLE:
        for d in [d for d in PAPER_DATASETS if d in set(t1["dataset"])]:
            runs = t1[(t1["dataset"] == d) & (t1["regulariser"] == r)]
            if runs.empty:
                continue
            minima = landscape_minima(rows, histories, d, r).mean(axis=1)
            ends = [(history(histories, run) or {}) for _, run in runs.iterrows()]
            lands = [h["landscape"][-1] for h in ends if h.get("landscape")]
            losses = [h["train_loss"][-1] for h in ends if h.get("train_loss")]
            out.append(
                {
                    "VAE": model_label(r),
                    "dataset": DATASET_LABELS[d],
                    "learnt α, ours": round(float(runs["alpha_final"].mean()), 3),
                    "learnt α, paper": paper_value("table3", r, d)[0],
                    "landscape minimum, last epoch": round(float(minima.iloc[-1]), 3)
                    if len(minima)
                    else math.nan,
                    "its change in the last epoch": round(float(minima.diff().iloc[-1]), 3)
                    if len(minima) > 1
                    else math.nan,
                    "KL(q‖p) (nats)": round(float(np.mean([e["kl_qp"] for e in lands])), 1)
                    if lands
                    else math.nan,
                    "KL(p‖q) (nats)": round(float(np.mean([e["kl_pq"] for e in lands])), 1)
                    if lands
                    else math.nan,
                    "reconstruction loss": default_reconstruction(d),
                    "training loss per image, last epoch": round(float(np.mean(losses)), 1)
                    if losses
                    else math.nan,
                }
            )
    return pd.DataFrame(out).set_index(["VAE", "dataset"]) if out else pd.DataFrame()


# ----------------------------------------------------------------------------- the sweep of Figures 1 and 6
def sweep_status(settings: ChapterSettings, rows: pd.DataFrame, dataset: str) -> str:
    """Which runs of ``dataset``'s initial-alpha sweep exist, which are missing, and the command."""
    label = DATASET_LABELS[dataset]
    if dataset not in settings.figure1_datasets:
        return f"Preset {settings.preset!r} has no {label} initial-α sweep."
    expected = [
        c.resolved()
        for c in settings.configs
        if c.dataset == dataset
        and c.resolved().alpha0 is not None
        and c.resolved().alpha0 != _DEFAULT_ALPHA
        and c.seed == 0
    ]
    lost = missing_runs(settings, rows)
    lost = lost[(lost["dataset"] == dataset) & lost["alpha0"].notna() & (lost["alpha0"] != _DEFAULT_ALPHA)]
    have = len(expected) - len(lost)
    text = f"{label} initial-α sweep: {have} of {len(expected)} runs (seed 0) are in the results."
    if lost.empty:
        return text
    parts = [
        f"{r}: α₀ = " + ", ".join(f"{a:g}" for a in sorted(part["alpha0"]))
        for r, part in lost.groupby("regulariser", sort=False)
    ]
    return (
        f"{text}\nMissing: " + "; ".join(parts) + ".\n"
        f"Compute them from the repository root with\n  {grid_command(settings.preset, [dataset])}\n"
        "then re-run this chapter; the panels below show what exists."
    )
