"""Chapter 4, the benchmarks (the paper's Tables 1 and 3, Figures 1, 3, 4 and 6), read from the results.

``settings`` (which runs a preset expects, loading), ``tables``, ``scale`` (what a small preset
allows: the pipeline check, alpha's travel, the landscape's trend, Table 3's ordering), ``claims``
(verdicts, each "beats" with its rate difference), ``figures``, and ``page`` (the tables laid out for
the page, with ``views`` and ``names``, the typeset row labels); every public name is re-exported
here, so a chapter imports this package alone.
"""

from alphavae_core.chapters.benchmarks.claims import (
    RATE_COLUMN,
    beats,
    claims,
    claims_count,
    endpoint_check,
    sweep_losses,
    verdict_text,
)
from alphavae_core.chapters.benchmarks.figures import (
    alpha_star_eq16,
    alpha_vs_eq16,
    flat,
    grid_minimum,
    montage,
    plot_alpha_trajectories,
    plot_figure1,
    plot_landscapes,
    plot_reconstruction_grid,
    plot_reconstruction_grids,
    plot_reconstructions,
    test_originals,
)
from alphavae_core.chapters.benchmarks.names import model_label, model_name, typeset
from alphavae_core.chapters.benchmarks.page import (
    claims_summary,
    claims_view,
    endpoint_view,
    landscape_view,
    ordering_view,
    pipeline_view,
    rate_view,
    regulariser_view,
    scale_view,
    status_view,
    table1_view,
    table3_view,
    travel_view,
)
from alphavae_core.chapters.benchmarks.scale import (
    ADAM_STEP_CEILING,
    SETTLED,
    alpha_travel,
    falls_then_settles,
    landscape_minima,
    pipeline_check,
    pipeline_note,
    split_rows,
    still_moving,
    sweep_status,
    table3_ordering,
    travel_limit_text,
)
from alphavae_core.chapters.benchmarks.settings import (
    DATASET_LABELS,
    FIXED_OF,
    NEEDS_DATA,
    PAPER_DATASETS,
    PAPER_SEEDS,
    PAPER_TABLE1,
    PAPER_TABLE3,
    ROW_COLUMNS,
    SKEWED,
    STABLE_ALPHA_STD,
    TRAIN_IMAGES,
    TRAINABLE,
    ChapterSettings,
    chapter_settings,
    compute,
    grid_command,
    history,
    load_results,
    missing_runs,
    paper_value,
    regulariser_table,
    scale_table,
    status_preset,
    status_table,
    status_text,
    sweep_rows,
    table1_rows,
)
from alphavae_core.chapters.benchmarks.tables import (
    TABLE1_NOTES,
    format_mean_std,
    mean_std,
    rate_correlations,
    rate_table,
    summary,
    table1,
    table3,
)
from alphavae_core.chapters.benchmarks.views import Shown, show
