"""Chapter 3, the synthetic mixtures (the paper's Figure 2): ``distributions`` (mixtures and the JS^Galpha
estimators), ``fit`` (the experiment, ``alphavae mixtures``), ``analysis`` (tables and panels) and
``comparison`` (like for like with the paper: its released values, its Gaussian ball, convergence
and its claims).
"""

from alphavae_core.chapters.synthetic_mixtures.analysis import (
    Figure2Results,
    dual_trend,
    history_of,
    illustration,
    load_figure2,
    low_skew_share,
    plot_fits_2d,
    plot_panel,
    plot_skew_histories,
    shade_map,
    skew_table,
    summarise,
)
from alphavae_core.chapters.synthetic_mixtures.comparison import (
    RELEASED_TGJS_DIMS,
    ball_status,
    ball_vs_full,
    convergence_table,
    load_ball,
    overlay_released,
    paper_claims,
    plot_ball_vs_full,
    plot_trajectories,
    released_comparison,
    schedule_effect,
)
from alphavae_core.chapters.synthetic_mixtures.distributions import (
    DTYPE,
    Gaussian,
    GaussianBallFit,
    GaussianFit,
    GaussianMixture,
    GJSEstimate,
    gjs_mc,
    gjs_mc_repeated,
    gjs_quadrature,
    make_mixture,
    quadrature_terms,
    released_script_objective,
    validation_table,
)
from alphavae_core.chapters.synthetic_mixtures.fit import (
    BALL_SETTINGS,
    CODE_VERSION,
    COVARIANCES,
    EXPERIMENT,
    ILLUSTRATION,
    LEARNS_ALPHA,
    OBJECTIVES,
    PLOT_KEY,
    RATIO,
    SETTINGS,
    FitResult,
    Objective,
    command,
    configs,
    evaluate_fit,
    fit_gaussian,
    fit_options,
    key_of,
    missing_configs,
    run_figure2,
    run_one,
)
