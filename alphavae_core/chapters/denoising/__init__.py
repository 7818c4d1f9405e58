"""The denoising chapter (the paper's Figure 5): test MSE against the clean image when the VAE is
trained and tested on noisy inputs, clamp(x + N(0, sigma^2), 0, 1), per regulariser and noise level.

The runs are listed by :func:`alphavae_core.experiments.catalogue.denoising_configs` and trained by
``alphavae grid --experiment denoising`` into ``results/<preset>/denoising.csv``. sigma = 0 is
chapter 4's Table 1 run where Table 1 has the regulariser (read from ``benchmarks.csv``); forward KL
is not in Table 1, so its sigma = 0 runs are part of the denoising grid.

The verdict pairs models by seed (:mod:`.seeds`), and a model whose mean rate is below
:data:`COLLAPSE_NATS` is called collapsed: its decoder sees (almost) nothing of the input, so its test
MSE is compared with :func:`mean_image_mse`, the error of predicting the mean training image.

Parts: settings, verdicts, tables, figures; every public name is re-exported here."""

from alphavae_core.chapters.denoising.figures import (
    noisy_inputs,
    plot_examples,
    plot_noise_curves,
)
from alphavae_core.chapters.denoising.settings import (
    CHUNK,
    COLLAPSE_NATS,
    OTHERS,
    TABLE,
    TRAINABLE,
    DenoisingSettings,
    chapter_settings,
    compute,
    grid_command,
    load_results,
    mean_image_mse,
    missing_text,
    noise_table,
    summary,
)
from alphavae_core.chapters.denoising.tables import noise_summary, ranking_table
from alphavae_core.chapters.denoising.verdicts import (
    MMD_CAVEAT,
    claims_markdown,
    claims_table,
    collapse_text,
    forward_reverse_text,
    ranking,
    rate_answer,
    rate_answer_text,
    sanity_text,
    trainable_vs_rest,
    verdict,
    verdict_text,
)
