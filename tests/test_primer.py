"""The primer chapter: its plain-PyTorch α-VAE loop, run from the chapter's own cells, against the
library's trainer (same seed, same α trajectory and loss), and its pieces at the smoke preset."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest

from alphavae_core import data
from alphavae_core.chapters import primer

NOTEBOOK = Path(__file__).resolve().parents[1] / "book" / "00_primer.ipynb"
# the chapter's cells that make up the α-VAE loop, in the order the chapter runs them
LOOP_CELLS = ("alpha_opt = torch.optim.Adam", "def alpha_vae_loss", "def training_step", "primer.batches(")


def run_chapter_loop(settings: primer.PrimerSettings) -> dict:
    """Execute the chapter's imports and loop cells with ``settings``; return their namespace."""
    cells = [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    namespace: dict = {}
    exec(cells[0], namespace)  # the imports cell
    namespace["settings"] = settings
    for marker in LOOP_CELLS:
        exec(next(c for c in cells if marker in c and "next(primer.batches" not in c), namespace)
    return namespace


def chapter_run(namespace: dict) -> primer.Run:
    params = dict(namespace["model"].named_parameters())
    return primer.Run(namespace["alphas"], namespace["losses"], params)


def epoch_means(losses: list[float], settings: primer.PrimerSettings) -> list[float]:
    """Mean loss per epoch, each batch weighted by its size, as the trainer records it."""
    per_epoch = math.ceil(settings.n_images / settings.batch_size)
    sizes = [min(settings.batch_size, settings.n_images - s * settings.batch_size) for s in range(per_epoch)]
    chunks = [losses[e * per_epoch : (e + 1) * per_epoch] for e in range(settings.epochs)]
    return [sum(loss * b for loss, b in zip(chunk, sizes)) / settings.n_images for chunk in chunks]


def test_settings_for_every_preset() -> None:
    assert primer.chapter_settings("smoke").steps == 20
    assert primer.chapter_settings("cpu").steps == 300
    assert primer.chapter_settings("paper").steps == 938  # all 60,000 images, the last batch partial
    with pytest.raises(ValueError, match="smoke, cpu, paper"):
        primer.chapter_settings("laptop")
    config = primer.chapter_settings("cpu").train_config().resolved()
    assert (config.regulariser, config.alpha0, config.alpha_lr, config.alpha_every) == ("tdgjs", 0.5, 1e-3, 1)


def test_benchmark_rates_read_table1_runs() -> None:
    rates = primer.benchmark_rates("cpu")
    assert list(rates.index) == list(primer.TABLE_NAMES.values())
    assert (rates["seeds"] >= 1).all() and rates["rate KL(q‖p)"].notna().all()


@pytest.fixture(scope="module")
def small_run(data_root, one_thread) -> tuple[primer.PrimerSettings, dict]:
    # 300 images in batches of 64: four full batches and one of 44 per epoch; six epochs, 30 steps
    settings = primer.PrimerSettings(subset=300, epochs=6, test_images=64)
    return settings, run_chapter_loop(settings)


@pytest.mark.slow
def test_chapter_loop_matches_trainer(small_run) -> None:
    settings, namespace = small_run
    mine = chapter_run(namespace)
    assert len(mine.alpha) == len(mine.loss) == settings.steps == 30
    assert len(set(mine.alpha)) > 1 and all(0.0 <= a <= 1.0 for a in mine.alpha)

    run = primer.train_with_trainer(settings, fast_layers=False)
    diff = primer.compare(mine, run)["largest |difference|"]
    assert diff["skew α after each step"] <= 1e-6
    assert diff["loss at each step (eq. 14)"] <= 1e-6 * max(mine.loss)
    assert diff["network weights after the last step"] <= 1e-6
    np.testing.assert_allclose(epoch_means(mine.loss, settings), run.epoch_loss, rtol=1e-5)

    # the trainer's fast layer rounds differently: float tolerance, not bit equality
    fast = primer.compare(mine, primer.train_with_trainer(settings, fast_layers=True))["largest |difference|"]
    assert fast["skew α after each step"] <= 1e-4
    assert fast["loss at each step (eq. 14)"] <= 1e-4 * max(mine.loss)


@pytest.mark.slow
def test_primer_runs_at_smoke_settings(data_root, one_thread) -> None:
    settings = primer.chapter_settings("smoke")
    namespace = run_chapter_loop(settings)
    mine = chapter_run(namespace)
    assert len(mine.loss) == settings.steps and mine.loss[-1] < mine.loss[0]

    land = primer.landscape(namespace["model"].encoder, data.load_images("mnist", "test", subset=32))
    assert land.dual[-1] == pytest.approx(land.kl_qp, rel=1e-4)  # the dual at α = 1 is KL(q||p)
    assert land.dual[0] == pytest.approx(land.kl_pq, rel=1e-4)  # and at α = 0 KL(p||q)
    assert land.dual.min() <= min(land.kl_qp, land.kl_pq)
    table = primer.landscape_table(land, mine.alpha[-1])
    assert table.notna().all().all() and table.loc["learnt skew", "skew α"] == mine.alpha[-1]

    for fig in (primer.plot_training(mine.alpha, mine.loss), primer.plot_landscape(land, mine.alpha[-1])):
        assert fig.axes
        plt.close(fig)
