"""The denoising chapter's runs: which the preset expects, where their rows live, the seed means and the mean-training-image baseline."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from alphavae_core import data
from alphavae_core.chapters.benchmarks import format_mean_std, mean_std
from alphavae_core.config import TrainConfig
from alphavae_core.experiments.catalogue import DENOISING_REGULARISERS, benchmark_configs, denoising_configs
from alphavae_core.experiments.grid import key_of, run_grid, table_paths
from alphavae_core.experiments.presets import check_preset
from alphavae_core.experiments.results import KEY, read_json, read_table
from alphavae_core.losses import TABLE1_REGULARISERS
from alphavae_core.paths import data_root, results_dir
from alphavae_core.plotting import TEXT_NAMES

TABLE = "denoising"
TRAINABLE = ("tgjs", "tdgjs")
OTHERS = tuple(r for r in DENOISING_REGULARISERS if r not in TRAINABLE)  # kl, fwdkl, mmd
# A mean rate below this many nats per image: the encoder passes (almost) nothing to the decoder.
# The collapsed runs seen at 5 epochs sit near 0.01; working encoders spend at least about 1.
COLLAPSE_NATS = 0.1
CHUNK = 10_000  # images per step of the mean-image baseline: bounded memory in float64


@dataclass(frozen=True)
class DenoisingSettings:
    """The runs the chapter expects at one preset and where their rows live."""

    preset: str
    folder: Path
    configs: tuple[TrainConfig, ...]  # the denoising grid (noise > 0, and forward KL at 0)
    clean_configs: tuple[TrainConfig, ...]  # sigma = 0: chapter 4's Table 1 runs
    compute: bool  # only smoke trains inside the chapter

    def __repr__(self) -> str:
        return f"DenoisingSettings(preset={self.preset!r}, expected runs={len(self.expected)})"

    @property
    def expected(self) -> tuple[TrainConfig, ...]:
        return self.configs + self.clean_configs


def chapter_settings(preset: str, folder: str | Path | None = None) -> DenoisingSettings:
    """The denoising runs of ``preset`` (``results/<preset>/`` unless ``folder`` is given)."""
    check_preset(preset)
    table1 = tuple(r for r in DENOISING_REGULARISERS if r in TABLE1_REGULARISERS)
    clean = benchmark_configs(preset, datasets=("mnist",), regularisers=table1, figure1=False)
    return DenoisingSettings(
        preset=preset,
        folder=Path(folder) if folder is not None else results_dir(preset),
        configs=tuple(denoising_configs(preset)),
        clean_configs=tuple(clean),
        compute=preset == "smoke",
    )


def compute(settings: DenoisingSettings) -> int:
    """Train the missing runs of the smoke preset (larger presets are computed outside the book)."""
    if not settings.compute:
        raise ValueError(
            f"preset {settings.preset!r} is computed outside the book: {grid_command(settings.preset)}"
        )
    trained = run_grid(
        list(settings.configs), settings.folder, device="auto", show_progress=False, table=TABLE
    )
    return trained + run_grid(
        list(settings.clean_configs), settings.folder, device="auto", show_progress=False
    )


def grid_command(preset: str) -> str:
    """The shell command that trains the denoising grid of ``preset``."""
    return f"alphavae grid --experiment denoising --preset {preset}"


def load_results(settings: DenoisingSettings) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rows (and histories) of the expected runs: the denoising table plus chapter 4's sigma = 0 rows."""
    rows, histories = [], {}
    for table, configs in ((TABLE, settings.configs), ("benchmarks", settings.clean_configs)):
        csv_path, json_path = table_paths(settings.folder, table=table)
        found = read_table(csv_path)
        wanted = {key_of(c) for c in configs}
        if not found.empty:
            rows.append(found[found[KEY].isin(wanted)])
        stored = read_json(json_path, default={}) or {}
        histories.update({k: v for k, v in stored.items() if k in wanted})
    columns = ["regulariser", "noise", "seed", "test_mse", "rate", "alpha_final", KEY]
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)
    return frame[columns].sort_values(["noise", "regulariser", "seed"]).reset_index(drop=True), histories


def missing_text(settings: DenoisingSettings, rows: pd.DataFrame) -> str:
    """Which expected runs have no row yet, and the command that computes them."""
    have = set(rows[KEY])
    lost = [c for c in settings.expected if key_of(c) not in have]
    if not lost:
        return f"All {len(settings.expected)} runs of preset {settings.preset!r} are in results/{settings.preset}/."
    seeds = sorted({c.seed for c in lost})
    return (
        f"{len(lost)} of {len(settings.expected)} runs of preset {settings.preset!r} have no results yet "
        f"(seeds {', '.join(map(str, seeds))}); the figure and tables below use the rest.\n"
        f"Compute them with: {grid_command(settings.preset)}"
    )


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (noise, regulariser): test MSE mean, std and seed count, and the mean rate (nats)."""
    out = [
        (sigma, r, *mean_std(part["test_mse"]), float(part["rate"].mean()))
        for (sigma, r), part in rows.groupby(["noise", "regulariser"], sort=True)
    ]
    return pd.DataFrame(out, columns=["noise", "regulariser", "mean", "std", "n", "rate"])


def noise_table(rows: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """Test MSE (mean ± std over seeds) with sigma down the side and one column per regulariser."""
    s = summary(rows)
    s["cell"] = [format_mean_std(m, sd, digits) for m, sd in zip(s["mean"], s["std"])]
    table = s.pivot(index="noise", columns="regulariser", values="cell")
    table = table[[r for r in DENOISING_REGULARISERS if r in table.columns]].fillna("missing")
    table.columns = [TEXT_NAMES[r] for r in table.columns]
    table.index.name = "σ"
    return table


def mean_image_mse(settings: DenoisingSettings) -> float:
    """Test MSE of predicting the mean training image for every test image (what a rate-0 model can do).

    Scored as ``test_mse`` is: per-image sum of squared errors against the clean test images in
    [0, 1], averaged over the test images, on the same training and test subsets as the grid."""
    config = settings.configs[0]
    root = str(data_root().expanduser().resolve())  # part of the cache key: tests swap the data root
    return _mean_image_mse(config.dataset, root, config.subset, config.test_subset)


@functools.lru_cache(maxsize=8)
def _mean_image_mse(dataset: str, root: str, subset: int | None, test_subset: int | None) -> float:
    """The cached computation behind :func:`mean_image_mse`, in float64, a chunk of images at a time."""
    train = data.load_images(dataset, "train", root=root, subset=subset)
    total = torch.zeros(train.shape[1:], dtype=torch.float64)
    for start in range(0, len(train), CHUNK):
        total += train[start : start + CHUNK].to(torch.float64).sum(0)
    mean = total / (255.0 * len(train))  # float64 throughout, not data.to_float's float32
    test = data.load_images(dataset, "test", root=root, subset=test_subset)
    sse = 0.0
    for start in range(0, len(test), CHUNK):
        diff = test[start : start + CHUNK].to(torch.float64) / 255.0 - mean
        sse += float(diff.pow(2).sum())
    return sse / len(test)
