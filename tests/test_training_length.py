"""The training-length experiment: records along the way, its catalogue, and the weights it keeps."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from alphavae_core import data
from alphavae_core.config import TrainConfig
from alphavae_core.experiments import grid
from alphavae_core.experiments.catalogue import keeps_weights, training_length_configs
from alphavae_core.experiments.presets import SCALES
from alphavae_core.experiments.results import read_json, read_table
from alphavae_core.experiments.train import fit
from alphavae_core.model import build_vae

METRICS = ("test_mse", "rate", "train_mse", "train_rate")


def _small(regulariser: str, epochs: int) -> TrainConfig:
    return TrainConfig(
        regulariser=regulariser, subset=256, test_subset=128, epochs=epochs, batch_size=64,
        landscape_points=0, seed=1,
    )  # fmt: skip


@pytest.mark.parametrize("regulariser", ["tdgjs", "kl"])
def test_a_record_at_epoch_k_is_bit_for_bit_the_final_metrics_of_k_epochs(data_root, regulariser) -> None:
    torch.set_num_threads(1)
    (long,), _ = fit([_small(regulariser, 5)], "cpu", show_progress=False)
    assert [r["epoch"] for r in long["records"]] == [1, 2, 5]  # RECORD_EPOCHS it reaches, and the last
    for k in (1, 2):
        (short,), _ = fit([_small(regulariser, k)], "cpu", show_progress=False)
        record = next(r for r in long["records"] if r["epoch"] == k)
        assert {m: record[m] for m in METRICS} == {m: short[m] for m in METRICS}
        # alpha only where it is learnt
        assert record["alpha"] == (short["alpha"] if regulariser == "tdgjs" else None)
    assert {m: long["records"][-1][m] for m in METRICS} == {m: long[m] for m in METRICS}


def test_recording_leaves_training_unchanged(data_root) -> None:
    """The same run with no records on the way ends with the same weights and metrics."""
    torch.set_num_threads(1)
    config = _small("tdgjs", 3)
    (recorded,), a = fit([config], "cpu", show_progress=False)
    from alphavae_core.trainer import Trainer

    b = Trainer([config], "cpu")
    b.record_epochs = ()
    for _ in range(3):
        b.train_epoch(show_progress=False)
    assert all(torch.equal(a.params[k], b.params[k]) for k in a.params)
    assert {m: recorded[m] for m in METRICS} == b.evaluate()[0]
    assert [r["epoch"] for r in b.histories[0].records] == [3]  # only the last epoch


def test_catalogue_runs_the_matched_rate_comparison_first_seed_major() -> None:
    configs = training_length_configs("cpu")
    assert {(c.epochs, c.batch_size, c.lr) for c in configs} == {(100, 64, 1e-4)}
    first = [(c.regulariser, c.weight, c.seed) for c in configs[:15]]
    assert first[:5] == [("tdgjs", 1.0, 0), ("kl", 1.0, 0), ("kl", 0.5, 0), ("kl", 0.35, 0), ("kl", 0.2, 0)]
    assert [s for _, _, s in first] == [0] * 5 + [1] * 5 + [2] * 5
    part2 = {(c.regulariser, c.weight) for c in configs[15:24]}
    assert part2 == {("tgjs", 1.0), ("kl", 0.75), ("kl", 0.1)}
    mnist_alpha05 = {c.regulariser for c in configs if c.dataset == "mnist" and c.alpha0 in (None, 0.5)}
    assert mnist_alpha05 == {"beta", "mmd", "kl", "gjs", "dgjs", "tgjs", "tdgjs"}
    fashion = {(c.regulariser, c.weight, c.seed) for c in configs if c.dataset == "fashion"}
    assert fashion == {(r, 1.0, s) for r in ("kl", "tgjs", "tdgjs") for s in (0, 1, 2)}
    sweep = [(c.regulariser, c.alpha0) for c in configs if c.alpha0 not in (None, 0.5)]
    assert sweep == [(r, a) for r in ("tgjs", "tdgjs") for a in SCALES["cpu"].figure1_alpha0]
    assert len(configs) == len(set(configs)) == 24 + 12 + 9 + 8


def test_catalogue_filters_keep_its_order() -> None:
    configs = training_length_configs("cpu", regularisers=("kl",), seeds=(1,))
    assert [(c.dataset, c.weight) for c in configs] == [
        ("mnist", 1.0), ("mnist", 0.5), ("mnist", 0.35), ("mnist", 0.2), ("mnist", 0.75), ("mnist", 0.1),
        ("fashion", 1.0),
    ]  # fmt: skip


def test_grid_keeps_records_and_the_weights_that_decode_the_trained_network(data_root, tmp_path) -> None:
    torch.set_num_threads(1)
    configs = training_length_configs("smoke")[:2]
    assert [keeps_weights(c) for c in configs] == [True, True]
    assert not keeps_weights(replace(configs[0], seed=1))
    assert grid.run_grid(configs, tmp_path, "cpu", 1, show_progress=False, table="training_length") == 2
    rows = read_table(tmp_path / "training_length.csv")
    histories = read_json(tmp_path / "training_length_histories.json")
    for config, row in zip(configs, rows.to_dict("records")):
        records = histories[row["config_key"]]["records"]
        assert [r["epoch"] for r in records] == [1, 2, 3]
        assert records[-1]["test_mse"] == pytest.approx(row["test_mse"], rel=1e-6)
        params, saved = grid.load_weights(tmp_path / "weights" / f"{row['config_key']}.safetensors")
        assert saved == config
        # the float16 weights, loaded into a fresh network, reconstruct the test images as the run did
        model = build_vae(config.image_shape, config.latent_dim, seed=0)
        model.load_state_dict(params)
        images = data.to_float(data.load_images("mnist", "test", subset=config.test_subset))
        with torch.no_grad():
            mu, _ = model.encoder(images)
            mse = (torch.sigmoid(model.decoder(mu)) - images).pow(2).flatten(1).sum(1).mean().item()
        assert mse == pytest.approx(row["test_mse"], rel=1e-3)
    assert not (tmp_path / "checkpoints").exists() or not any((tmp_path / "checkpoints").iterdir())
