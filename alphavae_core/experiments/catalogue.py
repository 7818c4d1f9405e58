"""Named experiment grids, per preset: the benchmarks (Table 1, Table 3, Figures 1, 3, 4, 6),
denoising (Figure 5), rate-distortion (Figure 7) and training length (the paper's 100 epochs).

Layered defaults as in the paper's released code: preset (:mod:`.presets`) -> dataset -> regulariser. Every run is
a fully resolved :class:`~.config.TrainConfig`; its row in the results is keyed by that
configuration and :data:`CODE_VERSION`, so a changed setting never reuses a stale row.
"""

from __future__ import annotations

from dataclasses import replace

from alphavae_core.config import TrainConfig
from alphavae_core.experiments.presets import SCALES, Scale, check_preset
from alphavae_core.losses import TABLE1_REGULARISERS, get_regulariser

# Bump when a change to the trainer, model or data changes what a configuration produces.
CODE_VERSION = "benchmarks-1"

SKEWED = ("gjs", "dgjs", "tgjs", "tdgjs")


def _run(scale: Scale, dataset: str, epochs: int | None = None, **kwargs) -> TrainConfig:
    if dataset not in scale.epochs:
        raise ValueError(
            f"dataset {dataset!r} has no settings in this preset; choose from {', '.join(scale.epochs)}"
        )
    return TrainConfig(
        dataset=dataset,
        epochs=scale.epochs[dataset] if epochs is None else epochs,
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


# The training-length experiment, in the order that answers the most important question first:
# (dataset, regulariser, weight) points, each part trained for every seed (seed-major) before the next.
# Part 1 is the matched-rate comparison at lambda = 1 (the VAE at weights around the alpha*-VAE's rate),
# part 2 adds the alpha-VAE and the VAE's curve on both sides of it, part 3 completes Table 1's MNIST
# column, part 4 gives Table 3's Fashion-MNIST column. None: the regulariser's default weight.
TRAINING_LENGTH_PARTS: tuple[tuple[tuple[str, str, float | None], ...], ...] = (
    (("mnist", "tdgjs", 1.0), ("mnist", "kl", 1.0), ("mnist", "kl", 0.5), ("mnist", "kl", 0.35),
     ("mnist", "kl", 0.2)),
    (("mnist", "tgjs", 1.0), ("mnist", "kl", 0.75), ("mnist", "kl", 0.1)),
    (("mnist", "beta", None), ("mnist", "mmd", None), ("mnist", "gjs", None), ("mnist", "dgjs", None)),
    (("fashion", "kl", 1.0), ("fashion", "tgjs", 1.0), ("fashion", "tdgjs", 1.0)),
)  # fmt: skip
TRAINABLE_SKEWS = ("tgjs", "tdgjs")


def training_length_configs(
    preset: str,
    datasets: tuple[str, ...] | None = None,
    regularisers: tuple[str, ...] | None = None,
    seeds: tuple[int, ...] | None = None,
) -> list[TrainConfig]:
    """The training-length experiment: :data:`TRAINING_LENGTH_PARTS` for the preset's ``long_epochs``
    (the paper's 100), each part seed-major, then part 5, Figures 1 and 4 at full length: both
    trainable skews from every initial alpha of the preset's Figure 1 sweep, seed 0, MNIST. Every run
    records its metrics on the way (:data:`.trainer.RECORD_EPOCHS`)."""
    scale = SCALES[check_preset(preset)]
    seeds = scale.seeds if seeds is None else seeds

    def wanted(dataset: str, regulariser: str) -> bool:
        return (datasets is None or dataset in datasets) and (
            regularisers is None or regulariser in regularisers
        )

    long = scale.long_epochs
    runs = [
        _run(scale, d, epochs=long, regulariser=r, weight=w, seed=s)
        for part in TRAINING_LENGTH_PARTS
        for s in seeds
        for d, r, w in part
        if wanted(d, r)
    ]
    runs += [
        _run(scale, "mnist", epochs=long, regulariser=r, alpha0=a, seed=0)
        for r in TRAINABLE_SKEWS
        for a in scale.figure1_alpha0
        if wanted("mnist", r) and 0 in seeds
    ]
    return list(dict.fromkeys(runs))


def keeps_weights(config: TrainConfig) -> bool:
    """Whether the training-length grid keeps a run's final weights (float16, for samples): seed 0 of
    each of Table 1's MNIST models, at its default weight and initial skew."""
    reg = get_regulariser(config.regulariser)
    return (
        config.dataset == "mnist"
        and config.seed == 0
        and config.regulariser in TABLE1_REGULARISERS
        and config.weight == reg.default_weight
        and config.alpha0 in (None, reg.default_alpha)
    )


# Each experiment's catalogue, by the name of its results table: (preset, datasets, regularisers, seeds)
EXPERIMENTS = {
    "benchmarks": benchmark_configs,
    "denoising": denoising_configs,
    "rate_distortion": rate_distortion_configs,
    "training_length": training_length_configs,
}
# The experiments whose grid keeps some runs' final weights, and which runs
KEEP_WEIGHTS = {"training_length": keeps_weights}
