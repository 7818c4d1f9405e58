"""The denoising and rate-distortion catalogues, train-set metrics, and two writers on one results folder."""

from __future__ import annotations

import multiprocessing as mp
import subprocess

import pytest
import torch

from alphavae_core.config import TrainConfig
from alphavae_core.experiments import grid
from alphavae_core.experiments.catalogue import (
    DENOISING_REGULARISERS,
    benchmark_configs,
    denoising_configs,
    rate_distortion_configs,
)
from alphavae_core.experiments.presets import SCALES
from alphavae_core.experiments.results import KEY, append_rows, git_commit, read_json, read_table, update_json
from alphavae_core.trainer import Trainer


def test_denoising_grid_is_noise_levels_by_regularisers_by_seeds_reusing_table1_at_sigma_zero() -> None:
    configs = denoising_configs("cpu")
    scale = SCALES["cpu"]
    noisy = [c for c in configs if c.noise > 0]
    assert len(noisy) == len(scale.noise_levels) * len(DENOISING_REGULARISERS) * len(scale.seeds)
    assert {c.noise for c in noisy} == {0.5, 1.0, 1.5, 2.0, 2.5, 3.0}
    # sigma = 0: only forward KL, which chapter 4's Table 1 does not train
    assert {(c.regulariser, c.seed) for c in configs if c.noise == 0} == {("fwdkl", s) for s in scale.seeds}
    assert [c.seed for c in configs] == sorted(c.seed for c in configs)  # whole seeds first
    table1 = {grid.key_of(c) for c in benchmark_configs("cpu")}
    assert not table1 & {grid.key_of(c) for c in configs}  # sigma = 0 is chapter 4's, not retrained
    # the same schedule as chapter 4's cpu runs
    mnist = next(c for c in benchmark_configs("cpu") if c.dataset == "mnist")
    assert {(c.epochs, c.batch_size, c.lr) for c in configs} == {(mnist.epochs, mnist.batch_size, mnist.lr)}


def test_rate_distortion_lambda_one_runs_share_their_key_with_chapter_4() -> None:
    configs = rate_distortion_configs("cpu")
    assert {c.weight for c in configs} == {0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 0.2, 0.35, 0.75, 0.9}
    extra = SCALES["cpu"].reference_weights  # the VAE's extra points
    assert extra == (0.2, 0.35, 0.75, 0.9)
    assert {c.regulariser for c in configs if c.weight in extra} == {"kl"}
    unit = {grid.key_of(c) for c in configs if c.weight == 1.0}
    assert len(unit) == 4 * len(SCALES["cpu"].seeds)
    assert unit <= {grid.key_of(c) for c in benchmark_configs("cpu")}


def test_unknown_experiment_is_one_line(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        grid.main(["--experiment", "figure9", "--list"])
    assert exit_info.value.code == 2
    assert "unknown experiment 'figure9'" in capsys.readouterr().err


def test_train_metrics_equal_the_test_metrics_when_both_sets_are_the_same_images(data_root) -> None:
    """train_mse/train_rate go through the same code as test_mse/rate: on identical images they agree."""
    cfg = TrainConfig(subset=256, test_subset=256, epochs=1, batch_size=64, landscape_points=0, seed=3)
    trainer = Trainer([cfg], "cpu")
    trainer.test_x = trainer.train_x[:256]
    trainer.train_epoch(show_progress=False)
    (metrics,) = trainer.evaluate()
    assert metrics["train_mse"] == pytest.approx(metrics["test_mse"], rel=1e-9)
    assert metrics["train_rate"] == pytest.approx(metrics["rate"], rel=1e-9)


def test_train_metrics_use_clean_targets_and_fixed_noise(data_root) -> None:
    cfg = TrainConfig(subset=128, test_subset=64, epochs=1, batch_size=64, landscape_points=0, noise=1.0)
    a, b = Trainer([cfg], "cpu"), Trainer([cfg], "cpu")
    assert a.evaluate() == b.evaluate()  # the evaluation noise is fixed, not drawn afresh
    clean = Trainer([TrainConfig(subset=128, test_subset=64, epochs=1, landscape_points=0)], "cpu")
    assert a.evaluate()[0]["train_mse"] != clean.evaluate()[0]["train_mse"]


def _writer(folder: str, name: str, n: int) -> None:
    from pathlib import Path

    for i in range(n):
        append_rows(Path(folder) / "t.csv", [{KEY: f"{name}-{i}", "value": i}])
        update_json(Path(folder) / "t_histories.json", {f"{name}-{i}": [i]})


def test_two_processes_writing_one_table_lose_no_row(tmp_path) -> None:
    n = 40
    ctx = mp.get_context("spawn")
    writers = [ctx.Process(target=_writer, args=(str(tmp_path), name, n)) for name in ("a", "b")]
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
        assert w.exitcode == 0
    keys = set(read_table(tmp_path / "t.csv")[KEY])
    assert keys == {f"{name}-{i}" for name in ("a", "b") for i in range(n)}
    assert set(read_json(tmp_path / "t_histories.json")) == keys


def test_keys_and_commits_that_look_like_numbers_stay_text(tmp_path) -> None:
    """A hex key or commit can be a float literal ("73258e422103" is 7.3e422107, inf): a table whose
    only rows hold such values keeps them, through every append."""
    path = tmp_path / "t.csv"
    append_rows(path, [{KEY: "73258e422103", "commit": "06e8759", "value": 1.5}])
    append_rows(path, [{KEY: "012345678901", "commit": "1234567", "value": 2.5}])
    table = read_table(path)
    assert list(table[KEY]) == ["73258e422103", "012345678901"]
    assert list(table["commit"]) == ["06e8759", "1234567"] and list(table["value"]) == [1.5, 2.5]


@pytest.mark.slow
def test_grid_writes_each_experiment_to_its_own_table_with_train_columns(data_root, tmp_path) -> None:
    base = dict(epochs=1, subset=64, test_subset=32, batch_size=32, landscape_images=16, landscape_points=3)
    noisy = TrainConfig(regulariser="kl", noise=1.0, **base).resolved()
    weak = TrainConfig(regulariser="tdgjs", weight=0.1, **base).resolved()
    grid.run_grid([noisy], tmp_path, "cpu", show_progress=False, table="denoising")
    grid.run_grid([weak], tmp_path, "cpu", show_progress=False, table="rate_distortion")
    assert grid.pending([noisy], tmp_path, "rate_distortion") == [noisy]  # tables do not mix
    for table, config in (("denoising", noisy), ("rate_distortion", weak)):
        rows = read_table(tmp_path / f"{table}.csv")
        assert list(rows[KEY]) == [grid.key_of(config)]
        for column in ("noise", "weight", "test_mse", "rate", "train_mse", "train_rate"):
            assert column in rows.columns and rows[column].notna().all()
        assert rows["alpha_final"].notna().all() == (config.regulariser == "tdgjs")  # no skew, no alpha
    assert torch.isfinite(torch.tensor(read_table(tmp_path / "denoising.csv")["train_mse"].values)).all()


def test_provenance_commit_is_dirty_for_changed_code_not_for_new_rows(tmp_path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "rows.csv").write_text("a\n")
    (tmp_path / "model.py").write_text("x = 1\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start")
    head = git("rev-parse", "--short", "HEAD").strip()
    (tmp_path / "results" / "rows.csv").write_text("a\n1\n")  # a grid appended a row
    assert git_commit(tmp_path) == head
    (tmp_path / "model.py").write_text("x = 2\n")  # the code changed
    assert git_commit(tmp_path) == f"{head}+dirty"
