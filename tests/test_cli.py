"""The command lines: one clear line and exit code 2 for a user's mistake; metrics.json; the grid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.error import URLError

import pytest
import torchvision.datasets as tvd

from alphavae_core.config import TrainConfig
from alphavae_core.experiments import grid, train
from alphavae_core.experiments.results import read_json, read_table

TINY_ARGS = ["--subset", "64", "--test-subset", "32", "--batch-size", "32", "--epochs", "1", "--quiet"]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--dataset", "cifar"], "unknown dataset 'cifar'"),
        (["--regulariser", "elbo"], "unknown regulariser 'elbo'"),
        (["--regulariser", "tgjs", "--alpha0", "1.2"], "alpha0 must lie in [0, 1], got 1.2"),
        (["--regulariser", "tgjs", "--alpha0", "nan"], "alpha0 must lie in [0, 1], got nan"),
        (["--batch-size", "0"], "batch size must be positive, got 0"),
        (["--lr", "-0.1"], "lr must be a positive number, got -0.1"),
        (["--device", "tpu"], "unknown device 'tpu'"),
    ],
)
def test_train_cli_bad_input_is_one_line_and_exit_2(argv, message, capsys, tmp_path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        train.main([*argv, "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"error: {err.strip()[len('error: ') :]}"] and message in err


def test_missing_data_is_one_line(tmp_path, monkeypatch, capsys) -> None:
    from alphavae_core import data

    monkeypatch.setenv("ALPHAVAE_DATA", str(tmp_path / "nothing"))
    monkeypatch.setattr(tvd.MNIST, "download", _offline)
    data.clear_cache()
    with pytest.raises(SystemExit) as exit_info:
        train.main([*TINY_ARGS, "--out", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nothing" in err
    data.clear_cache()


def _offline(self):
    raise URLError("no network")


@pytest.mark.slow
def test_train_cli_writes_metrics_and_is_deterministic(data_root, tmp_path) -> None:
    argv = ["--regulariser", "tdgjs", "--alpha0", "0.4", "--seed", "7", *TINY_ARGS]
    outputs = []
    for name in ("a", "b"):
        result = subprocess.run(
            [sys.executable, "-m", "alphavae_core", "train", *argv, "--out", str(tmp_path / name)],
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(json.loads(result.stdout))
        assert result.stderr == ""
    metrics = read_json(tmp_path / "a" / "metrics.json")
    for field in (
        "test_mse",
        "rate",
        "alpha",
        "alpha_history",
        "images_per_second",
        "train_seconds",
        "config",
    ):
        assert field in metrics
    assert metrics["config"]["alpha0"] == 0.4 and metrics["alpha_history"][0] == 0.4
    assert (tmp_path / "a" / "checkpoint.pt").exists()
    assert outputs[0]["test_mse"] == outputs[1]["test_mse"] and outputs[0]["alpha"] == outputs[1]["alpha"]


# ------------------------------------------------------------------------------- grid
def _tiny_grid() -> list[TrainConfig]:
    base = dict(epochs=1, subset=64, test_subset=32, batch_size=32, landscape_images=16, landscape_points=3)
    return [
        TrainConfig(regulariser=r, seed=s, **base).resolved() for r in ("kl", "tdgjs", "gjs") for s in (0, 1)
    ]


@pytest.mark.slow
def test_grid_skips_done_runs_and_shards_merge_without_duplicates(data_root, tmp_path) -> None:
    configs = _tiny_grid()
    assert grid.run_grid(configs[:2], tmp_path, "cpu", show_progress=False) == 2
    assert grid.run_grid(configs[:2], tmp_path, "cpu", show_progress=False) == 0  # already there
    for k in (1, 2):
        grid.run_grid(configs, tmp_path, "cpu", group_size=2, shard=(k, 2), show_progress=False)
    table = grid.merge(tmp_path)
    assert len(table) == len(configs) and table["config_key"].is_unique
    assert set(table["config_key"]) == {grid.key_of(c) for c in configs}
    assert not list(tmp_path.glob("*shard*"))
    histories = read_json(tmp_path / "benchmarks_histories.json")
    assert set(histories) == set(table["config_key"])
    for column in ("dataset", "regulariser", "alpha0", "seed", "epochs", "test_mse", "rate", "alpha_final"):
        assert column in table.columns
    assert grid.pending(configs, tmp_path) == []


def test_changed_configuration_is_a_new_key() -> None:
    a = TrainConfig(regulariser="tgjs", epochs=2)
    assert grid.key_of(a) != grid.key_of(TrainConfig(regulariser="tgjs", epochs=3))
    assert grid.key_of(a) == grid.key_of(
        TrainConfig(regulariser="tgjs", epochs=2, alpha0=0.5)
    )  # same resolved


@pytest.mark.slow
def test_grid_through_submitit_local_executor(data_root, tmp_path) -> None:
    configs = _tiny_grid()[:4]
    counts = grid.submit(configs, tmp_path, n_shards=2, executor="local", device="cpu", group_size=4)
    assert sum(counts) == 4
    assert len(read_table(tmp_path / "benchmarks.csv")) == 4


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--preset", "huge"], "unknown preset 'huge'"),
        (["--shard", "3/2"], "needs 1 <= K <= N"),
        (["--shard", "x"], "must look like K/N"),
        (["--regularisers", "elbo"], "unknown regulariser 'elbo'"),
        (["--datasets", "chairs", "--preset", "cpu"], "has no settings in this preset"),
        (
            ["--experiment", "rate_distortion", "--weights", "0.7"],
            "no run of this experiment has weight 0.7;",
        ),
        (["--experiment", "denoising", "--noise", "x"], "--noise takes numbers, got x"),
    ],
)
def test_grid_cli_bad_input(argv, message, capsys, tmp_path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        grid.main(
            [*argv, "--out", str(tmp_path), "--list"]
            if "--shard" not in argv
            else [*argv, "--out", str(tmp_path)]
        )
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_closed_pipe_stops_quietly() -> None:
    """``alphavae --help | head -0``: the reader is gone before we write; no traceback, exit 1."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    done = subprocess.run([sys.executable, "-m", "alphavae_core", "--help"], stdout=write_end,
                          stderr=subprocess.PIPE, text=True, timeout=120)  # fmt: skip
    os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 1


def test_grid_weights_and_noise_narrow_the_catalogue(capsys, tmp_path) -> None:
    grid.main(["--experiment", "rate_distortion", "--preset", "cpu", "--regularisers", "kl", "--seeds", "1",
               "--weights", "0.2,1", "--out", str(tmp_path), "--list"])  # fmt: skip
    assert capsys.readouterr().out.splitlines() == [
        f"mnist kl alpha0=None weight={w} noise=0.0 seed=1 epochs=5" for w in (1.0, 0.2)
    ]
    grid.main(["--experiment", "denoising", "--preset", "cpu", "--seeds", "2", "--noise", "3",
               "--out", str(tmp_path), "--list"])  # fmt: skip
    assert {line.split()[4] for line in capsys.readouterr().out.splitlines()} == {"noise=3.0"}
