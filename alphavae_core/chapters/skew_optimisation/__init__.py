"""Chapter 2, skew optimisation: where alpha is optimal (Proposition 1) and how fast descent gets there
(Proposition 2). ``landscape``, ``descent`` and ``sweeps`` are re-exported here; ``explorer`` draws.
"""

from alphavae_core.chapters.skew_optimisation.descent import (
    adam_trajectory,
    gd_trajectory,
    prop2_bound,
    prop2_check,
    prop2_step,
    suboptimality,
)
from alphavae_core.chapters.skew_optimisation.landscape import (
    DTYPE,
    LOGVAR_RANGE,
    MEAN_RANGE,
    OBJECTIVES,
    RANDOM_MEAN_SD,
    SETTINGS,
    alpha_star_dual_chord,
    alpha_star_eq16,
    approx_landscape,
    curvature,
    derivative,
    exact_alpha_star,
    kl_directions,
    landscape,
    log_normaliser,
    minimise_skew,
    settings,
)
from alphavae_core.chapters.skew_optimisation.sweeps import (
    curvature_summary,
    gap_summary,
    html_table,
    paper_vs_measured,
    prop2_summary,
    reach_table,
    readable,
    steps_to_reach,
    sweep_heterogeneous,
    sweep_isotropic,
)
