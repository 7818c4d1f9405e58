"""Figure 2 (section 4.1): fit a Gaussian to a mixture of Gaussians and learn the skew.

A Gaussian q (:class:`~.distributions.GaussianFit`) is fitted by Adam to a mixture p
(:func:`~.distributions.make_mixture`) under one of four objectives, each estimated from
fresh samples at every step (:data:`OBJECTIVES`):

* ``dual``: JS_*^Galpha (eqs 7-8) with trainable alpha (the paper's Figure 2 curve);
* ``primal``: JS^Galpha (eqs 5-6) with trainable alpha, for comparison;
* ``fwdkl``: KL(p‖q); ``kl``: KL(q‖p).

As in section 4 the skew has its own Adam optimiser, stepped after q's on the same gradient
evaluation, then clamped to [0, 1]. Both learning rates are constant for the first half of the
run and then follow a cosine to 5 % of their value, so the final skew is not step noise.

Panel (a): 2-D, increasing number of components. Panel (b): dimension d with 5 d components.
``alphavae mixtures --preset cpu`` computes the runs missing from
``results/<preset>/figure2.csv`` (one row per run, keyed by ``results.config_key``) and
``figure2_histories.json`` (alpha and loss trajectories and the fitted q, by key).

q has a full covariance by default. The paper fits a Gaussian *ball* N(m, s^2 I):
``alphavae mixtures --preset cpu --covariance ball`` fits that model on a subset of the settings
(:data:`BALL_SETTINGS`, the learnt-skew objectives only) into ``figure2_ball.csv``, so chapter 3 can
show what the difference changes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from alphavae_core.chapters.synthetic_mixtures.distributions import (
    DTYPE,
    Gaussian,
    GaussianBallFit,
    GaussianFit,
    GaussianMixture,
    gjs_mc,
    make_mixture,
)
from alphavae_core.errors import ArgumentParser, cli_entry
from alphavae_core.experiments import results
from alphavae_core.experiments.presets import check_preset, select
from alphavae_core.paths import results_dir
from alphavae_core.progress import progress

CODE_VERSION = "figure2-v1"
EXPERIMENT = "figure2"
RATIO = 5  # panel (b): mixture components per dimension, as in the paper

_COMMON: dict[str, Any] = {
    "objectives": ["dual", "primal", "fwdkl", "kl"],
    "lr": 0.05,
    "alpha_lr": 0.01,
    "alpha0": 0.5,
}

# Per preset: panel (a) component counts (2-D), panel (b) dimensions, seeds, optimisation length.
SETTINGS: dict[str, dict[str, Any]] = {
    "smoke": {
        **_COMMON,
        "components": [1, 5],
        "dims": [1, 2],
        "seeds": [0, 1],
        "steps": 150,
        "n_samples": 128,
        "n_eval": 4096,
        "record_every": 10,
    },
    "cpu": {
        **_COMMON,
        "components": [1, 2, 3, 5, 8, 12, 20],
        "dims": [1, 2, 3, 4, 6, 8, 10],
        "seeds": [0, 1, 2, 3, 4],
        "steps": 1500,
        "n_samples": 256,
        "n_eval": 16384,
        "record_every": 25,
    },
    "paper": {
        **_COMMON,
        "components": list(range(1, 11)),
        "dims": list(range(1, 11)),
        "seeds": list(range(10)),
        "steps": 10000,
        "n_samples": 512,
        "n_eval": 65536,
        "record_every": 100,
    },
}

ILLUSTRATION = {"panel": "a", "n_components": 5, "seed": 0}  # the 2-D example drawn in chapter 3

# The model of q: full covariance (this book's default) or the paper's Gaussian ball N(m, s^2 I).
COVARIANCES: dict[str, type] = {"full": GaussianFit, "ball": GaussianBallFit}
# The ball is fitted on a subset of each preset's settings (a few CPU minutes at cpu), learnt skew only.
BALL_SETTINGS: dict[str, dict[str, Any]] = {
    "smoke": {"components": [5], "dims": [2], "seeds": [0, 1]},
    "cpu": {"components": [2, 5], "dims": [10], "seeds": [0, 1, 2, 3, 4]},
    "paper": {"components": list(range(1, 11)), "dims": list(range(1, 11)), "seeds": list(range(10))},
}

# --------------------------------------------------------------------------- objectives

Objective = Callable[[Gaussian, GaussianMixture, Tensor, int, torch.Generator], Tensor]


def _kl_qp(q: Gaussian, p: GaussianMixture, alpha: Tensor, n: int, g: torch.Generator) -> Tensor:
    z = q.rsample(n, g)  # reparameterised: pathwise gradient
    return (q.log_prob(z) - p.log_prob(z)).mean()


def _kl_pq(q: Gaussian, p: GaussianMixture, alpha: Tensor, n: int, g: torch.Generator) -> Tensor:
    z = p.sample(n, g)  # samples "from the data"; the gradient flows through log q
    return (p.log_prob(z) - q.log_prob(z)).mean()


OBJECTIVES: dict[str, Objective] = {
    "dual": lambda q, p, a, n, g: gjs_mc(q, p, a, True, n, g).value,
    "primal": lambda q, p, a, n, g: gjs_mc(q, p, a, False, n, g).value,
    "fwdkl": _kl_pq,
    "kl": _kl_qp,
}
LEARNS_ALPHA = ("dual", "primal")

# palette / label keys of alphavae_core.plotting for each objective
PLOT_KEY = {"dual": "tdgjs", "primal": "tgjs", "fwdkl": "fwdkl", "kl": "kl"}


def _check_objective(objective: str) -> None:
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")


def _lr_factor(step: int, steps: int) -> float:
    """1 for the first half, then a cosine from 1 down to 0.05 at the last step."""
    half = steps // 2
    if step < half:
        return 1.0
    t = (step - half) / max(steps - 1 - half, 1)
    return 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * t))


# --------------------------------------------------------------------------- fitting


@dataclass
class FitResult:
    """A finished fit: trajectories (one value per ``record_every`` steps) and the final q."""

    objective: str
    mean: list[float]
    covariance: list[list[float]]
    alpha_final: float
    alpha_history: list[float] = field(default_factory=list)
    loss_history: list[float] = field(default_factory=list)

    def gaussian(self) -> Gaussian:
        return Gaussian.from_covariance(
            torch.tensor(self.mean, dtype=DTYPE), torch.tensor(self.covariance, dtype=DTYPE)
        )


def fit_gaussian(
    p: GaussianMixture,
    objective: str,
    *,
    steps: int,
    n_samples: int,
    lr: float,
    alpha_lr: float,
    alpha0: float,
    seed: int,
    record_every: int = 10,
    covariance: str = "full",
) -> FitResult:
    """Fit q = N(m, L L^T), started at N(0, I), to ``p`` by Adam on ``objective``.

    ``covariance="ball"`` fits the paper's Gaussian ball N(m, s^2 I) instead of a full covariance.

    For ``dual`` and ``primal`` the skew alpha (started at ``alpha0``) has its own Adam
    optimiser (section 4), stepped after q's and clamped to [0, 1]. Each step draws fresh
    samples from a generator seeded with ``seed``. ``alpha_history`` and ``loss_history`` hold
    the skew at, and the mean loss over, each window of ``record_every`` steps.
    """
    _check_objective(objective)
    if steps < 1 or n_samples < 2 or record_every < 1:
        raise ValueError(
            f"need steps >= 1, n_samples >= 2, record_every >= 1; got {steps}, {n_samples}, {record_every}"
        )
    if not 0.0 <= alpha0 <= 1.0:
        raise ValueError(f"alpha0 must lie in [0, 1], got {alpha0}")
    if covariance not in COVARIANCES:
        raise ValueError(f"unknown covariance {covariance!r}; choose one of {', '.join(COVARIANCES)}")
    generator = torch.Generator().manual_seed(seed)
    model = COVARIANCES[covariance](p.dim)
    learns = objective in LEARNS_ALPHA
    alpha = torch.tensor(alpha0, dtype=DTYPE, requires_grad=learns)
    opt_q = torch.optim.Adam(model.parameters(), lr=lr)
    opt_a = torch.optim.Adam([alpha], lr=alpha_lr) if learns else None
    loss_fn = OBJECTIVES[objective]
    alphas, losses, window = [], [], []
    for step in range(steps):
        factor = _lr_factor(step, steps)
        opt_q.param_groups[0]["lr"] = lr * factor
        if opt_a is not None:
            opt_a.param_groups[0]["lr"] = alpha_lr * factor
            opt_a.zero_grad()
        opt_q.zero_grad()
        loss = loss_fn(model(), p, alpha, n_samples, generator)
        loss.backward()
        opt_q.step()
        if opt_a is not None:  # the skew's own optimiser, after q's (section 4)
            opt_a.step()
            with torch.no_grad():
                alpha.clamp_(0.0, 1.0)
        window.append(float(loss.detach()))
        if (step + 1) % record_every == 0 or step == steps - 1:
            alphas.append(float(alpha.detach()))
            losses.append(float(np.mean(window)))
            window = []
    q = model()
    return FitResult(
        objective=objective,
        mean=q.mean.detach().tolist(),
        covariance=q.covariance.detach().tolist(),
        alpha_final=float(alpha.detach()) if learns else float("nan"),
        alpha_history=alphas if learns else [],
        loss_history=losses,
    )


def evaluate_fit(q: Gaussian, p: GaussianMixture, fit: FitResult, n: int, seed: int) -> dict[str, float]:
    """KL(q‖p), KL(p‖q) and the fitted objective at the final skew, with ``n`` samples each."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        a = torch.tensor(0.5 if math.isnan(fit.alpha_final) else fit.alpha_final, dtype=DTYPE)
        out = {
            "kl_qp": float(_kl_qp(q, p, a, n, g)),
            "kl_pq": float(_kl_pq(q, p, a, n, g)),
        }
        out["objective_final"] = float(OBJECTIVES[fit.objective](q, p, a, n, g))
    return out


# --------------------------------------------------------------------------- experiment grid


def configs(preset: str, covariance: str = "full") -> list[dict[str, Any]]:
    """Every run of Figure 2 at ``preset``: panel (a) then panel (b), by setting, seed, objective.

    ``covariance="ball"``: the Gaussian-ball runs (settings of :data:`BALL_SETTINGS`, learnt skew
    only); their configurations carry ``"covariance": "ball"``, the full-covariance ones carry
    no such entry, so the keys of the committed full-covariance rows stay what they were.
    """
    if covariance not in COVARIANCES:
        raise ValueError(f"unknown covariance {covariance!r}; choose one of {', '.join(COVARIANCES)}")
    s = select(SETTINGS, preset)
    extra: dict[str, Any] = {}
    if covariance == "ball":
        s = {**s, **select(BALL_SETTINGS, preset), "objectives": list(LEARNS_ALPHA)}
        extra = {"covariance": "ball"}
    fixed = {k: s[k] for k in ("steps", "n_samples", "n_eval", "lr", "alpha_lr", "alpha0", "record_every")}
    settings = [("a", k, 2) for k in s["components"]] + [("b", RATIO * d, d) for d in s["dims"]]
    return [
        {
            "experiment": EXPERIMENT,
            "panel": panel,
            "n_components": k,
            "dim": d,
            "seed": seed,
            "objective": obj,
            **fixed,
            **extra,
        }
        for panel, k, d in settings
        for seed in s["seeds"]
        for obj in s["objectives"]
    ]


def fit_options(settings: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`fit_gaussian` held in a preset's settings or a run's config."""
    return {k: settings[k] for k in ("steps", "n_samples", "lr", "alpha_lr", "alpha0", "record_every")}


def key_of(config: dict[str, Any]) -> str:
    return results.config_key(config, CODE_VERSION)


def run_one(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit one configuration; return its results row and its histories entry."""
    start = time.perf_counter()
    p = make_mixture(config["n_components"], config["dim"], config["seed"])
    covariance = config.get("covariance", "full")
    fit = fit_gaussian(
        p, config["objective"], seed=config["seed"], covariance=covariance, **fit_options(config)
    )
    metrics = evaluate_fit(fit.gaussian(), p, fit, config["n_eval"], seed=10_000 + config["seed"])
    tail = fit.alpha_history[-max(len(fit.alpha_history) // 10, 1) :] if fit.alpha_history else [float("nan")]
    key = key_of(config)
    row = {
        **config,
        "alpha_final": fit.alpha_final,
        "alpha_tail_mean": float(np.mean(tail)),
        **metrics,
        results.KEY: key,
        **results.provenance("cpu"),
        "seconds": round(time.perf_counter() - start, 2),
    }
    history = {
        "alpha": [round(a, 5) for a in fit.alpha_history],
        "loss": [round(v, 5) for v in fit.loss_history],
        "mean": [round(m, 6) for m in fit.mean],
        "covariance": [[round(c, 6) for c in line] for line in fit.covariance],
    }
    return row, {key: history}


def _paths(root: Path, covariance: str = "full") -> tuple[Path, Path]:
    name = EXPERIMENT if covariance == "full" else f"{EXPERIMENT}_{covariance}"
    return root / f"{name}.csv", root / f"{name}_histories.json"


def command(preset: str, covariance: str = "full") -> str:
    """The shell command that computes the missing runs."""
    return f"alphavae mixtures --preset {preset}" + (
        "" if covariance == "full" else f" --covariance {covariance}"
    )


def missing_configs(preset: str, root: Path | None = None, covariance: str = "full") -> list[dict[str, Any]]:
    """The configurations of ``preset`` that have no row in the table under ``root``."""
    table_path, _ = _paths(results_dir(preset) if root is None else Path(root), covariance)
    todo = configs(preset, covariance)
    absent = set(results.missing([key_of(c) for c in todo], results.read_table(table_path)))
    return [c for c in todo if key_of(c) in absent]


def run_figure2(
    preset: str,
    root: Path | None = None,
    max_runs: int | None = None,
    flush_every: int = 20,
    covariance: str = "full",
) -> pd.DataFrame:
    """Compute the missing runs of ``preset`` into ``root`` (default ``results/<preset>/``).

    Rows are appended (and histories merged) every ``flush_every`` runs and at the end, so an
    interrupted run loses little. Returns the full table.
    """
    check_preset(preset)
    root = results_dir(preset) if root is None else Path(root)
    table_path, history_path = _paths(root, covariance)
    todo = missing_configs(preset, root, covariance)[:max_runs]
    rows: list[dict[str, Any]] = []
    histories: dict[str, Any] = {}

    def flush() -> None:
        if rows:
            results.append_rows(table_path, rows)
            results.update_json(history_path, histories)
            rows.clear()
            histories.clear()

    try:
        for config in progress(todo, desc=f"figure 2 ({preset})"):
            row, history = run_one(config)
            rows.append(row)
            histories.update(history)
            if len(rows) >= flush_every:
                flush()
    finally:
        flush()
    return results.read_table(table_path)


# --------------------------------------------------------------------------- command line


@cli_entry
def main(argv: list[str] | None = None, prog: str = "alphavae mixtures") -> None:
    """``alphavae mixtures --preset cpu``: compute Figure 2's missing runs."""
    parser = ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cpu", help="smoke, cpu or paper (default cpu)")
    parser.add_argument("--root", default=None, help="results folder (default results/<preset>/)")
    parser.add_argument("--max-runs", type=int, default=None, help="compute at most this many runs")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument(
        "--covariance",
        default="full",
        choices=list(COVARIANCES),
        help="q's covariance: full (default, Figure 2) or ball (the paper's N(m, s^2 I), fewer settings)",
    )
    args = parser.parse_args(argv)
    check_preset(args.preset)
    if args.threads <= 0:
        raise ValueError(f"--threads must be positive, got {args.threads}")
    if args.max_runs is not None and args.max_runs < 0:
        raise ValueError(f"--max-runs must be zero or positive, got {args.max_runs}")
    torch.set_num_threads(args.threads)
    root = Path(args.root) if args.root else results_dir(args.preset)
    cov = args.covariance
    todo = len(missing_configs(args.preset, root, cov))
    print(
        f"figure 2 ({cov} covariance), preset {args.preset}: {todo} of "
        f"{len(configs(args.preset, cov))} runs to compute into {root}"
    )
    start = time.perf_counter()
    table = run_figure2(args.preset, root, max_runs=args.max_runs, covariance=cov)
    print(f"done in {time.perf_counter() - start:.0f} s; {len(table)} rows in {_paths(root, cov)[0]}")
