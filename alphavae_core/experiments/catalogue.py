"""Named experiment grids, per preset: the benchmarks (Table 1, Table 3, Figures 1, 3, 4, 6),
denoising (Figure 5) and rate-distortion (Figure 7).

Layered defaults as in the paper's released code: preset (:mod:`.presets`) -> dataset -> regulariser. Every run is
a fully resolved :class:`~.config.TrainConfig`; its row in the results is keyed by that
configuration and :data:`CODE_VERSION`, so a changed setting never reuses a stale row.
"""

from __future__ import annotations

from dataclasses import replace

from alphavae_core.config import TrainConfig
from alphavae_core.experiments.presets import SCALES, Scale, check_preset
from alphavae_core.losses import TABLE1_REGULARISERS

# Bump when a change to the trainer, model or data changes what a configuration produces.
CODE_VERSION = "benchmarks-1"

SKEWED = ("gjs", "dgjs", "tgjs", "tdgjs")


def _run(scale: Scale, dataset: str, **kwargs) -> TrainConfig:
    if dataset not in scale.epochs:
        raise ValueError(
            f"dataset {dataset!r} has no settings in this preset; choose from {', '.join(scale.epochs)}"
        )
    return TrainConfig(
        dataset=dataset,
        epochs=scale.epochs[dataset],
        batch_size=scale.batch_size[dataset],
        subset=scale.subset_for(dataset),
        test_subset=scale.test_subset_for(dataset),
        **scale.extra,
        **kwargs,
    ).resolved()


def benchmark_configs(
    preset: str,
    datasets: tuple[str, ...] | None = None,
    regularisers: tuple[str, ...] | None = None,
    seeds: tuple[int, ...] | None = None,
    figure1: bool = True,
) -> list[TrainConfig]:
    """Every run of the benchmark chapter at ``preset``: Table 1 (all regularisers x seeds) and
    Figure 1 (skewed regularisers x initial alpha, seed 0), without duplicates, in a fixed order."""
    scale = SCALES[check_preset(preset)]
    datasets = scale.datasets if datasets is None else datasets
    seeds = scale.seeds if seeds is None else seeds
    regularisers = regularisers or TABLE1_REGULARISERS
    # Table 1 for every dataset first, so an interrupted grid has finished the main table
    runs = [_run(scale, d, regulariser=r, seed=s) for d in datasets for r in regularisers for s in seeds]
    skewed = [r for r in regularisers if r in SKEWED]
    for dataset in (d for d in datasets if figure1 and d in scale.figure1_datasets):
        runs += [
            _run(scale, dataset, regulariser=r, alpha0=a, seed=0)
            for r in skewed
            for a in scale.figure1_alpha0
        ]
    unique = list(dict.fromkeys(runs))  # frozen dataclasses hash by value
    return unique


def with_epochs(configs: list[TrainConfig], epochs: int) -> list[TrainConfig]:
    """The same runs with another number of epochs (for a quick look at a preset)."""
    return [replace(c, epochs=epochs) for c in configs]


# The released Figure 5's five regularisers, and Figure 7's three (plus the primal alpha-VAE).
DENOISING_REGULARISERS = ("kl", "fwdkl", "mmd", "tgjs", "tdgjs")
RATE_DISTORTION_REGULARISERS = ("kl", "dgjs", "tdgjs", "tgjs")


def denoising_configs(
    preset: str,
    datasets: tuple[str, ...] | None = None,
    regularisers: tuple[str, ...] | None = None,
    seeds: tuple[int, ...] | None = None,
) -> list[TrainConfig]:
    """Figure 5: every noise level x regulariser x seed, trained on noisy inputs against clean
    targets, seed-major (an interrupted grid has finished whole seeds). sigma = 0 is the benchmark
    grid's run where Table 1 has the regulariser; only the others (forward KL) are trained here."""
    scale = SCALES[check_preset(preset)]
    regularisers = regularisers or DENOISING_REGULARISERS
    clean = [r for r in regularisers if r not in TABLE1_REGULARISERS]
    return [
        _run(scale, d, regulariser=r, noise=sigma, seed=s)
        for d in datasets or ("mnist",)
        for s in (scale.seeds if seeds is None else seeds)
        for sigma, regs in ((0.0, clean), *((sigma, regularisers) for sigma in scale.noise_levels))
        for r in regs
    ]


def rate_distortion_configs(
    preset: str,
    datasets: tuple[str, ...] | None = None,
    regularisers: tuple[str, ...] | None = None,
    seeds: tuple[int, ...] | None = None,
) -> list[TrainConfig]:
    """Figure 7: every divergence weight (lambda, eq. 14) x regulariser x seed, seed-major. The
    lambda = 1 runs share their configuration (and key) with the benchmark grid's Table 1 runs. The
    VAE (``kl``) also trains at the preset's ``reference_weights``, after the shared lambdas."""
    scale = SCALES[check_preset(preset)]
    chosen = regularisers or RATE_DISTORTION_REGULARISERS
    return [
        _run(scale, d, regulariser=r, weight=w, seed=s)
        for d in datasets or ("mnist",)
        for s in (scale.seeds if seeds is None else seeds)
        for w, regs in (
            *((w, chosen) for w in scale.weights),
            *((w, ("kl",)) for w in scale.reference_weights),
        )
        for r in regs
        if r in chosen
    ]


# Each experiment's catalogue, by the name of its results table: (preset, datasets, regularisers, seeds)
EXPERIMENTS = {
    "benchmarks": benchmark_configs,
    "denoising": denoising_configs,
    "rate_distortion": rate_distortion_configs,
}
