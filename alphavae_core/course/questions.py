"""Each chapter's self-check questions, their answers computed from what the chapter computes.

A builder takes the chapter's own objects (its example posterior, its results table) and returns
questions; :func:`self_check` renders them for the page and :func:`reference_inputs` loads the same
objects from the library at a preset, so tests can check the page against Python.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from alphavae_core import divergences as dv
from alphavae_core.course.selfcheck import Choice, Number, Question, choice_of, selfcheck_html
from alphavae_core.errors import UserError


def primer_questions(rates: pd.DataFrame) -> list[Question]:
    """Chapter 0: the KL of a one-dimensional Gaussian, and the rates of chapter 4's runs."""
    kl = float(dv.kl_normal(torch.tensor([1.0]), torch.tensor([0.0]), torch.zeros(1), torch.zeros(1)))
    rate = rates["rate KL(q‖p)"]
    vae = float(rate.loc["VAE, KL(q‖p)"])
    learnt = rate.loc[["α-VAE, learnt α", "α*-VAE, learnt α"]]
    return [
        Number("KL(q‖p) in nats for q = N(1, 1) and the prior p = N(0, 1)?", kl, 0.01, "nats", 2),
        Number("The VAE's rate KL(q‖p) on MNIST (mean over test images, in nats)?", vae, 0.3, "nats", 1),
        Choice(
            "Compared with the VAE, the α-VAEs with a learnt skew…",
            ("spend a higher rate (more nats)", "spend a lower rate (fewer nats)"),
            0 if learnt.mean() > vae else 1,
        ),
    ]


def divergences_questions(mu: torch.Tensor, logvar: torch.Tensor) -> list[Question]:
    """Chapter 1: the example posterior q = N(mu, diag e^logvar) against p = N(0, I)."""
    zero = torch.zeros_like(mu)
    kl_qp = float(dv.kl_normal(mu, logvar, zero, zero))
    kl_pq = float(dv.kl_normal(zero, zero, mu, logvar))
    at_zero = float(dv.gjs_normal(mu, logvar, 0.0, dual=False))
    ends = ("KL(q‖p)", "KL(p‖q)", "zero", "log 2")
    narrow = dv.kl_normal(
        zero[:1], zero[:1], torch.ones(1, dtype=mu.dtype), torch.tensor([-6.0], dtype=mu.dtype)
    )
    return [
        Number("KL(q‖p) for the chapter's example q (two dimensions), in nats?", kl_qp, 0.01, "nats"),
        Choice(
            "In this book's convention, the primal skew-geometric JS at α = 0 equals…",
            ends,
            choice_of(ends, (kl_qp, kl_pq, 0.0, float(np.log(2))), at_zero),
        ),
        Choice(
            "For the same q, which direction of KL is larger?",
            ("KL(q‖p)", "KL(p‖q)"),
            int(kl_pq > kl_qp),
            f"KL(q‖p) = {kl_qp:.3f} and KL(p‖q) = {kl_pq:.3f} nats.",
        ),
        Number(
            "KL(p‖q) in nats when q = N(1, e^−6) in one dimension?",
            float(narrow),
            0.5,
            "nats",
            1,
            "The forward KL grows like 1/σ².",
        ),
    ]


def skew_questions(mu: torch.Tensor, logvar: torch.Tensor) -> list[Question]:
    """Chapter 2: equation 16 and the exact minimiser for the chapter's q = N(1, e^−1)."""
    from alphavae_core.chapters import skew_optimisation as skew

    eq16 = float(skew.alpha_star_eq16(mu, logvar))
    exact = float(skew.exact_alpha_star(mu, logvar))
    narrow = (torch.tensor([1.0]), torch.tensor([-4.0]))
    gap = float(skew.exact_alpha_star(*narrow) - skew.alpha_star_eq16(*narrow))
    return [
        Number("Equation 16's α* for q = N(1, e^−1), in this book's convention?", eq16, 0.005),
        Number("The α minimising the exact primal divergence for the same q?", exact, 0.005),
        Choice(
            "For a narrow q = N(1, e^−4), the exact primal minimiser lies … equation 16's α*.",
            ("above", "below", "exactly on"),
            0 if gap > 1e-3 else 1 if gap < -1e-3 else 2,
        ),
    ]


def mixtures_questions(table: pd.DataFrame) -> list[Question]:
    """Chapter 3: Figure 2's learnt skews (``load_figure2(preset).table``)."""
    from alphavae_core.chapters.synthetic_mixtures import summarise

    dims = summarise(table, "b")
    dual_b = dims[dims["objective"] == "dual"].set_index("dim")["mean"]
    comps = summarise(table, "a")
    dual_a = comps[comps["objective"] == "dual"].sort_values("n_components")["mean"].to_numpy()
    runs = table[(table.objective == "dual") & (table.n_components > 1)]
    corr = float(np.corrcoef(np.log(runs.kl_pq / runs.kl_qp), runs.alpha_final)[0, 1])
    dim = int(dual_b.index.max())
    return [
        Number(f"Mean learnt dual skew at d = {dim} (panel b)?", float(dual_b.loc[dim]), 0.02, digits=2),
        Choice(
            "Does the learnt dual skew fall steadily as the number of components grows (panel a)?",
            ("yes", "no"),
            int(not bool(np.all(np.diff(dual_a) < 0))),
        ),
        Number(
            "The correlation of the learnt dual skew with log(KL(p‖q)/KL(q‖p)) over all runs?",
            corr,
            0.05,
            digits=2,
        ),
    ]


def benchmarks_questions(main: pd.DataFrame) -> list[Question]:
    """Chapter 4: Table 1's test MSE and rates (``benchmarks.split_rows``'s main rows)."""
    from alphavae_core.chapters import benchmarks

    mnist = benchmarks.rate_table(main).loc["MNIST"]
    mse = mnist["test MSE"]
    names = tuple(mse.index)
    return [
        Choice("Which regulariser gives the lowest test MSE on MNIST?", names, names.index(mse.idxmin())),
        Number("The VAE's test MSE on MNIST?", float(mse.loc["VAE (KL(q‖p))"]), 0.1, digits=2),
        Choice(
            "Do the four skewed α-VAEs have a higher rate than the VAE on MNIST?",
            ("yes, all four", "no"),
            int(not bool((mnist.loc[[n for n in names if "α" in n], "rate − VAE's (nats)"] > 0).all())),
        ),
    ]


def denoising_questions(rows: pd.DataFrame) -> list[Question]:
    """Chapter 5: test MSE against input noise (``denoising.load_results``'s rows)."""
    from alphavae_core.chapters import denoising

    ranked = denoising.ranking(rows)
    names = tuple(denoising.noise_table(rows).columns)
    vae = denoising.summary(rows).query("regulariser == 'kl'").set_index("noise")["mean"]
    sigma = 1.0 if 1.0 in vae.index else float(vae.index.max())
    return [
        Choice(
            "Which regulariser has the lowest test MSE without noise (σ = 0)?",
            names,
            names.index(ranked.loc[0.0, "lowest"]),
        ),
        Number(f"The VAE's (KL(q‖p)) test MSE at σ = {sigma:g}?", float(vae.loc[sigma]), 0.3, digits=1),
    ]


def rate_distortion_questions(rows: pd.DataFrame) -> list[Question]:
    """Chapter 6: the equivalent KL weight and matched-rate comparison (MNIST rows)."""
    from alphavae_core.chapters import rate_distortion as rd

    weight = rd.equivalent_kl_weight(rows, "tdgjs", 1.0)
    return [
        Number("The KL weight λ whose VAE has the α*-VAE's rate at λ = 1?", weight, 0.02, digits=2),
        Choice(
            "So at λ = 1 the α*-VAE's regulariser acts like a VAE's KL that is…",
            ("weaker (λ < 1)", "stronger (λ > 1)"),
            int(weight > 1),
        ),
    ]


def training_length_questions(recs: pd.DataFrame, epochs: int) -> list[Question]:
    """Chapter 7: what a record is, how far the learnt skew has travelled by epoch 5, and the VAE's
    test MSE over training (records of the MNIST runs at lambda = 1)."""
    from alphavae_core.chapters import training_length as tl
    from alphavae_core.chapters.benchmarks import table1_rows
    from alphavae_core.losses import get_regulariser

    out: list[Question] = [
        Choice(
            "A run's record after epoch 5 is…",
            (
                "exactly what the same run, stopped after 5 epochs, reports (same machine and threads)",
                "an estimate of it, from a subset of the test images",
                "the metrics of a separate, shorter run",
            ),
            0,
        )
    ]
    t1 = table1_rows(recs[recs["dataset"] == "mnist"])
    first = min(tl.EARLY, epochs)
    alpha = t1[t1["regulariser"] == "tdgjs"].groupby("epoch")["alpha"].mean()
    if {first, epochs} <= set(alpha.index) and first < epochs:
        start = get_regulariser("tdgjs").default_alpha
        mid, end = float(alpha.loc[first]), float(alpha.loc[epochs])
        share = (mid - start) / (end - start)
        out.append(
            Choice(
                f"The α*-VAE's α starts at {start:g}. By epoch {first}, how much of its travel over "
                f"{epochs} epochs has it made?",
                ("most of it (over two thirds)", "between a third and two thirds", "less than a third"),
                0 if share > 2 / 3 else 1 if share > 1 / 3 else 2,
                explain=f"Mean over seeds: α = {start:g} at the start, {mid:.3f} after epoch {first}, "
                f"{end:.3f} after epoch {epochs}.",
            )
        )
    by_epoch = t1[t1["regulariser"] == "kl"].groupby("epoch")["test_mse"].mean()
    if {first, epochs} <= set(by_epoch.index) and first < epochs:
        early, late = float(by_epoch.loc[first]), float(by_epoch.loc[epochs])
        out += [
            Number(
                f"The VAE's (λ = 1) test MSE on MNIST after {epochs} epochs (mean over seeds)?",
                late,
                0.1,
                digits=2,
            ),
            Choice(
                f"From {first} to {epochs} epochs, the VAE's test MSE…",
                ("falls by more than a third", "falls by less than a third", "rises"),
                0 if late < early * 2 / 3 else 1 if late < early else 2,
            ),
        ]
    return out


BUILDERS: dict[str, Callable[..., list[Question]]] = {
    "00_primer": primer_questions,
    "01_divergences": divergences_questions,
    "02_skew_optimisation": skew_questions,
    "03_synthetic_mixtures": mixtures_questions,
    "04_benchmarks": benchmarks_questions,
    "05_denoising": denoising_questions,
    "06_rate_distortion": rate_distortion_questions,
    "07_training_length": training_length_questions,
}


def questions(chapter: str, **inputs) -> list[Question]:
    """The questions of ``chapter`` (a notebook's name, e.g. ``"01_divergences"``) for its inputs."""
    if chapter not in BUILDERS:
        raise UserError(f"no self-checks for chapter {chapter!r}; known: {', '.join(BUILDERS)}")
    return BUILDERS[chapter](**inputs)


def self_check(chapter: str, **inputs) -> str:
    """The chapter's questions as kernel-free HTML (wrap in ``IPython.display.HTML``)."""
    return selfcheck_html(chapter, questions(chapter, **inputs))


def reference_inputs(chapter: str, preset: str = "cpu") -> dict:
    """What the chapter passes to :func:`self_check`, loaded by the library at ``preset``."""
    if chapter in ("01_divergences",):
        return {
            "mu": torch.tensor([1.0, -0.5], dtype=torch.float64),
            "logvar": torch.tensor([-1.0, 0.5], dtype=torch.float64),
        }
    if chapter == "02_skew_optimisation":
        return {"mu": torch.tensor([1.0]), "logvar": torch.tensor([-1.0])}
    if chapter == "00_primer":
        from alphavae_core.chapters import primer

        return {"rates": primer.benchmark_rates(primer.chapter_settings(preset).results_preset)}
    if chapter == "03_synthetic_mixtures":
        from alphavae_core.chapters.synthetic_mixtures import load_figure2

        return {"table": load_figure2(preset).table}
    if chapter == "04_benchmarks":
        from alphavae_core.chapters import benchmarks

        settings = benchmarks.chapter_settings(preset)
        return {"main": benchmarks.split_rows(benchmarks.load_results(settings)[0], settings)[0]}
    if chapter == "05_denoising":
        from alphavae_core.chapters import denoising

        return {"rows": denoising.load_results(denoising.chapter_settings(preset))[0]}
    if chapter == "06_rate_distortion":
        from alphavae_core.chapters import rate_distortion as rd

        return {"rows": rd.load_results(rd.chapter_settings(preset))}
    if chapter == "07_training_length":
        from alphavae_core.chapters import training_length as tl

        settings = tl.chapter_settings(preset)
        return {"recs": tl.records(*tl.load_results(settings)), "epochs": settings.epochs}
    raise UserError(f"no self-checks for chapter {chapter!r}; known: {', '.join(BUILDERS)}")
