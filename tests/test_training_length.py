"""The training-length experiment: records along the way, its catalogue, and the weights it keeps."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from alphavae_core import data
from alphavae_core.chapters import benchmarks as bm
from alphavae_core.chapters import training_length as tl
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
        weights = tmp_path / "weights" / f"{row['config_key']}.safetensors"
        assert weights.stat().st_mode & 0o777 == 0o644  # readable by others, as the tables are
        params, saved = grid.load_weights(weights)
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


# ----------------------------------------------------------------------------- the chapter's analysis
def _synthetic(settings_epochs: int = 100) -> tuple[pd.DataFrame, dict]:
    """Runs of the catalogue's part 1 with made-up records: the VAE's distortion falls as
    30 - 4 log(rate) at every epoch, the skewed model lies 0.5 below that line, seeds add 0.01 s."""
    rows, histories = [], {}
    for seed in (0, 1, 2):
        for reg, weight in (("tdgjs", 1.0), ("kl", 1.0), ("kl", 0.5), ("kl", 0.35), ("kl", 0.2)):
            key = f"{reg}-{weight}-{seed}"
            recs = []
            for epoch in (1, 2, 5, 10, 20, 50, 100):
                rate = (16.0 if reg == "tdgjs" else 9.0 / weight**0.5) + epoch / 50
                mse = 30 - 4 * np.log(rate) - (0.5 if reg == "tdgjs" else 0.0) + 0.01 * seed
                recs.append({"epoch": epoch, "test_mse": mse, "rate": rate, "train_mse": mse - 0.1,
                             "train_rate": rate, "alpha": 0.4 if reg == "tdgjs" else None})  # fmt: skip
            rows.append({"dataset": "mnist", "regulariser": reg, "alpha0": 0.5 if reg == "tdgjs" else np.nan,
                         "weight": weight, "seed": seed, "epochs": settings_epochs, "config_key": key,
                         **{m: recs[-1][m] for m in ("test_mse", "rate", "train_mse", "train_rate")}})  # fmt: skip
            histories[key] = {"records": recs}
    return pd.DataFrame(rows), histories


def test_records_at_an_epoch_read_as_results_rows() -> None:
    rows, histories = _synthetic()
    recs = tl.records(rows, histories)
    assert len(recs) == len(rows) * 7 and tl.recorded_epochs(recs) == [1, 2, 5, 10, 20, 50, 100]
    last = tl.at_epoch(recs, 100).set_index("config_key")
    for _, row in rows.iterrows():  # the last record is the run's row
        assert last.loc[row["config_key"], "test_mse"] == pytest.approx(row["test_mse"])
    assert set(tl.at_epoch(recs, 5)["epochs"]) == {5}


def test_matched_rate_over_epochs_finds_the_built_in_gain() -> None:
    rows, histories = _synthetic()
    table = tl.matched_rate_over_epochs(tl.records(rows, histories))
    assert list(table.index) == [1, 2, 5, 10, 20, 50, 100]
    # the model sits 0.5 below a VAE curve linear in log rate, the same at every seed: -0.50 +- 0.00
    assert all(d.startswith("-0.50") for d in table["difference"])
    assert set(table["verdict"]) == {"lower"}  # no seed spread: every interval excludes zero
    assert tl.matched_rate_trend_text(tl.records(rows, histories)).endswith("holds throughout.")


def test_the_primal_skew_is_read_at_equal_rate_too() -> None:
    """Part 2's α-VAE (t-JS^Gα) at λ = 1, here 0.3 above the VAE's curve at a rate between the VAE's
    at λ = 1 and 0.5: its own table, summary line and verdict row."""
    rows, histories = _synthetic()
    before = tl.matched_rate_over_epochs(tl.records(rows, histories), "tgjs")
    assert before.empty and repr(tl.view(before)) == "No runs yet."
    for seed in (0, 1, 2):
        key, recs = f"tgjs-1.0-{seed}", []
        for epoch in (1, 2, 5, 10, 20, 50, 100):
            rate = 11.0 + epoch / 50
            mse = 30 - 4 * np.log(rate) + 0.3 + 0.01 * seed
            recs.append({"epoch": epoch, "test_mse": mse, "rate": rate, "train_mse": mse - 0.1,
                         "train_rate": rate, "alpha": 0.1})  # fmt: skip
        rows.loc[len(rows)] = {"dataset": "mnist", "regulariser": "tgjs", "alpha0": 0.5, "weight": 1.0,
                               "seed": seed, "epochs": 100, "config_key": key,
                               **{m: recs[-1][m] for m in ("test_mse", "rate", "train_mse", "train_rate")}}  # fmt: skip
        histories[key] = {"records": recs}
    recs = tl.records(rows, histories)
    table = tl.matched_rate_over_epochs(recs, "tgjs")
    assert all(d.startswith("+0.30") for d in table["difference"]) and set(table["verdict"]) == {"higher"}
    settings = tl.chapter_settings("cpu")
    assert "t-JS}^{G_\\alpha}$) at λ = 1 minus the VAE: +0.30" in tl.summary_text(recs, settings)
    verdicts = tl.verdicts(recs, histories, settings)
    primal = verdicts.loc["λ = 1: t-JS^Gα minus the VAE at equal rate (chapter 6's rule)"]
    dual = verdicts.loc["λ = 1: t-JS*^Gα minus the VAE at equal rate (chapter 6's rule)"]
    assert all(v.startswith("+0.30") and v.endswith("higher") for v in primal)
    assert all(v.startswith("-0.50") and v.endswith("lower") for v in dual)


def test_table1_over_epochs_is_the_mean_and_std_over_seeds() -> None:
    rows, histories = _synthetic()
    recs = tl.records(rows, histories)
    settings = tl.chapter_settings("cpu")
    table = tl.table1_over_epochs(recs, settings)
    assert list(table.columns) == [
        "5 epochs",
        "10 epochs",
        "20 epochs",
        "50 epochs",
        "100 epochs",
        "paper (100 epochs)",
    ]
    kl = [30 - 4 * np.log(9.0 + 20 / 50) + 0.01 * s for s in (0, 1, 2)]  # the VAE at lambda = 1, epoch 20
    assert table.loc["VAE (KL(q‖p))", "20 epochs"] == f"{np.mean(kl):.2f} ± {np.std(kl, ddof=1):.2f}"
    assert table.loc["β-VAE (β·KL(q‖p))", "5 epochs"] == "missing"
    assert table.loc["VAE (KL(q‖p))", "paper (100 epochs)"] == "10.67 ± 0.27"


def test_table1_rows_leave_out_the_vae_at_other_weights() -> None:
    """Chapter 7 also trains the VAE at lambda < 1: Table 1 (and Figure 1's baselines) read lambda = 1 only."""
    rows, _ = _synthetic()
    assert set(rows.loc[rows["regulariser"] == "kl", "weight"]) > {1.0}
    t1 = bm.table1_rows(rows)
    assert set(t1["weight"]) == {1.0} and set(t1["regulariser"]) == {"kl", "tdgjs"}
    assert len(t1) == len(rows[rows["weight"] == 1.0])


def test_five_epoch_check_compares_with_the_committed_short_runs() -> None:
    check = tl.five_epoch_check(tl.records(*_synthetic()), "cpu")
    assert check.loc[0, "runs compared"] > 0  # chapter 4 and 6 have these settings at 5 epochs
    empty = tl.five_epoch_check(tl.records(pd.DataFrame(columns=_synthetic()[0].columns), {}), "cpu")
    assert empty.loc[0, "runs compared"] == 0


def test_summary_and_train_test_texts_read_the_records() -> None:
    rows, histories = _synthetic()
    recs = tl.records(rows, histories)
    settings = tl.chapter_settings("cpu")
    text = tl.summary_text(recs, settings)
    kl = [30 - 4 * np.log(9.0 + 2) + 0.01 * s for s in (0, 1, 2)]  # the VAE at lambda = 1, epoch 100
    assert f"test MSE {np.mean(kl):.2f} ± {np.std(kl, ddof=1):.2f} over 3 seeds after 100 epochs" in text
    assert "the paper 10.67 ± 0.27" in text and "learnt α 0.400 ± 0.000, the paper 0.360 ± 0.000" in text
    assert "minus the VAE: -0.50 ± 0.00 (95% interval, 3 seeds), lower" in text
    gaps = tl.train_test_text(recs)  # train error 0.1 below test at every epoch; test falls throughout
    assert "by 0.10 for the" in gaps and "a generalisation gap" in gaps


def test_matched_rate_table_keeps_the_two_readings_apart() -> None:
    """A seed whose VAE has no point above the model's rate is read by the rule (best with no more nats)
    but not by plain interpolation: the table counts the seeds of each reading separately."""
    rows, histories = _synthetic()
    keep = ~((rows["seed"] == 1) & (rows["regulariser"] == "kl") & (rows["weight"] < 0.5))
    table = tl.matched_rate_over_epochs(tl.records(rows[keep], histories))
    assert set(table["seeds"]) == {3} and set(table["its seeds"]) == {2}
    assert table.loc[100, "VAE weights λ (seeds)"] == "0.2 (2), 0.35 (2), 0.5 (3), 1 (3)"
    assert table.loc[100, "plain interpolation"] == "-0.50 ± 0.00"  # the two interpolated seeds


def test_trend_text_says_how_few_seeds_and_quotes_chapter_6() -> None:
    rows, histories = _synthetic()
    two = tl.records(rows[rows["seed"] < 2], histories)
    text = tl.matched_rate_trend_text(two, preset="cpu")
    assert "These are 2 seeds so far: their 95% interval is ±9.0 standard deviations" in text
    assert "The mean difference is negative at every recorded length." in text
    assert "Chapter 6's own 5-epoch runs, trained separately, give " in text  # its committed cpu rows
    assert "seeds so far" not in tl.matched_rate_trend_text(tl.records(rows, histories))


def test_sweep_text_says_whether_part_5_is_in() -> None:
    settings = tl.chapter_settings("cpu")
    rows, _ = _synthetic()  # part 1 only
    assert "has 0 of its 8 runs" in tl.sweep_text(settings, rows)
    sweep = pd.DataFrame({"config_key": [grid.key_of(c) for c in tl.part_configs(settings)[4]]})
    assert tl.sweep_text(settings, sweep).startswith("All 8 runs of the initial-α sweep")
