"""The rate-distortion chapter (the paper's Figure 7): distortion against rate as the divergence
weight lambda of equation 14 varies, and whether learnt skew beats the VAE at equal rate.

Rate is KL(q||p) in closed form (nats per image, mean over images) for every regulariser, whatever
the model was trained with; distortion is the per-image summed squared error of the mean-latent
reconstruction. Both are measured on the test set and on a fixed subset of 10,000 training images
(``train_rate``, ``train_mse``). The runs come from
:func:`alphavae_core.experiments.catalogue.rate_distortion_configs`, trained by
``alphavae grid --experiment rate_distortion`` into ``results/<preset>/rate_distortion.csv``.

Parts: curves, matched, figure, tables; every public name is re-exported here."""

from alphavae_core.chapters.rate_distortion.curves import (
    DATASETS,
    METRICS,
    TABLE,
    RateDistortionSettings,
    chapter4_runs,
    chapter_settings,
    compute,
    curve_table,
    curves,
    grid_command,
    load_results,
    missing_text,
    model_name,
)
from alphavae_core.chapters.rate_distortion.figure import plot_rate_distortion
from alphavae_core.chapters.rate_distortion.matched import (
    answer_text,
    best_at_rate,
    equal_rate_readings,
    equivalent_kl_weight,
    equivalent_weight_text,
    gain_split,
    matched_rate,
    per_seed,
    plain_at_rate,
    readings_text,
    rerun_text,
    without_reference_points,
)
from alphavae_core.chapters.rate_distortion.tables import curve_summary, gain_split_table, matched_overview
