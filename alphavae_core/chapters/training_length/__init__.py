"""The training-length chapter: do the book's 5-epoch verdicts hold after the paper's 100 epochs?

The runs are :func:`alphavae_core.experiments.catalogue.training_length_configs`, trained by
``alphavae grid --experiment training_length`` into ``results/<preset>/training_length.csv``. Every
run records its metrics after epochs 1, 2, 5, 10, 20, 50 and 100 (:data:`.trainer.RECORD_EPOCHS`), so
one 100-epoch run gives the reader every shorter run of the same configuration too: its record at
epoch k is bit for bit what the run stopped at k would report. :func:`at_epoch` turns the records of
one epoch into ordinary results rows, which the analysis of chapters 4 and 6 then reads unchanged.

Parts: runs, analysis, figures; every public name is re-exported here."""

from alphavae_core.chapters.training_length.analysis import (
    VERDICTS,
    matched_rate_over_epochs,
    matched_rate_trend_text,
    summary_text,
    sweep_text,
    table1_over_epochs,
    table3_final,
    train_test_text,
    verdicts,
    view,
)
from alphavae_core.chapters.training_length.figures import (
    load_model,
    plot_rate_distortion_at,
    plot_samples,
    plot_train_test,
    samples,
)
from alphavae_core.chapters.training_length.runs import (
    CONFIG_COLUMNS,
    EARLY,
    METRICS,
    SHOWN_EPOCHS,
    TABLE,
    LengthSettings,
    at_epoch,
    chapter_settings,
    compute,
    five_epoch_check,
    grid_command,
    load_results,
    missing_text,
    part_configs,
    recorded_epochs,
    records,
)

__all__ = [
    "CONFIG_COLUMNS", "EARLY", "METRICS", "SHOWN_EPOCHS", "TABLE", "VERDICTS", "LengthSettings", "at_epoch",
    "chapter_settings", "compute", "five_epoch_check", "grid_command", "load_model", "load_results",
    "matched_rate_over_epochs", "matched_rate_trend_text", "missing_text", "part_configs", "plot_rate_distortion_at",
    "plot_samples", "plot_train_test", "recorded_epochs", "records", "samples", "summary_text", "sweep_text",
    "table1_over_epochs", "table3_final", "train_test_text", "verdicts", "view",
]  # fmt: skip
