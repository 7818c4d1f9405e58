"""Chapter 3, the synthetic mixtures (the paper's Figure 2): ``distributions`` (mixtures and the JS^Galpha
estimators), ``fit`` (the experiment, ``alphavae mixtures``) and ``analysis`` (tables and panels).
"""

from alphavae_core.chapters.synthetic_mixtures.analysis import (
    Figure2Results,
    dual_trend,
    history_of,
    illustration,
    load_figure2,
    plot_fits_2d,
    plot_panel,
    skew_table,
    summarise,
)
from alphavae_core.chapters.synthetic_mixtures.distributions import (
    DTYPE,
    Gaussian,
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
    CODE_VERSION,
    EXPERIMENT,
    ILLUSTRATION,
    LEARNS_ALPHA,
    OBJECTIVES,
    PLOT_KEY,
    RATIO,
    SETTINGS,
    FitResult,
    Objective,
    configs,
    evaluate_fit,
    fit_gaussian,
    fit_options,
    key_of,
    missing_configs,
    run_figure2,
    run_one,
)
