"""Reliability (issue 8): training killed halfway resumes to the same result, damaged checkpoints,
results and data files are detected (recomputed with a warning, or named with their fix), a
diverging loss stops cleanly, and a user's mistake is one clear line, never a traceback.

Covered elsewhere, not repeated here: truncated, wrong-md5 and truncated-.gz MNIST files
(``test_data.py``: ``test_truncated_file_is_named``, ``test_wrong_md5_is_named``,
``test_truncated_gz_is_named``), the first sweeps of bad training and grid arguments
(``test_cli.py``), in-process resume and the NaN stop of the trainer (``test_trainer.py``), and
the divergences under random inputs (``test_divergence_properties.py``).
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from alphavae_core import data
from alphavae_core import divergences as div
from alphavae_core.chapters.synthetic_mixtures import fit as mixture_fit
from alphavae_core.config import TrainConfig, resolve_device
from alphavae_core.data.dsprites import NPZ_NAME
from alphavae_core.errors import UserError
from alphavae_core.experiments import grid, presets, results, train
from alphavae_core.trainer import Trainer

# One small run, as command-line arguments and as the configuration they resolve to.
RUN_ARGS = [
    "--regulariser", "tdgjs", "--alpha0", "0.3", "--seed", "3", "--subset", "256", "--test-subset", "64",
    "--batch-size", "32", "--epochs", "3", "--quiet",
]  # fmt: skip
ONE_THREAD = ["--threads", "1"]  # for the subprocesses: polite on a shared machine
RUN_CONFIG = TrainConfig(
    regulariser="tdgjs", alpha0=0.3, seed=3, subset=256, test_subset=64, batch_size=32, epochs=3
)
# Everything a run computes (not its timings): a resumed run must reproduce each exactly.
SAME = ("test_mse", "rate", "alpha", "alpha_history", "train_loss", "landscape", "epochs_trained")
TINY = TrainConfig(
    regulariser="tdgjs", alpha0=0.3, seed=5, epochs=2, subset=96, test_subset=64, batch_size=32
)
TINY_ARGS = [
    "--regulariser", "tdgjs", "--alpha0", "0.3", "--seed", "5", "--subset", "96", "--test-subset", "64",
    "--batch-size", "32", "--epochs", "2", "--quiet",
]  # fmt: skip

# The child stops (sleeps) right after writing its first checkpoint, so the SIGKILL always lands
# between epochs 1 and 2 however loaded the machine is; everything else is the real command line.
PAUSE_AFTER_FIRST_EPOCH = """
import sys, time
from alphavae_core import trainer
save = trainer.Trainer.save_checkpoint
def save_then_pause(self, path):
    save(self, path)
    if self.epoch == 1:
        time.sleep(600)
trainer.Trainer.save_checkpoint = save_then_pause
from alphavae_core.experiments.train import main
main(sys.argv[1:])
"""


def _env(data_root: Path) -> dict[str, str]:
    return {**os.environ, "ALPHAVAE_DATA": str(data_root), "ALPHAVAE_QUIET": "1", "PYTHONUNBUFFERED": "1"}


def _train_cli(out: Path, *extra: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "alphavae_core",
        "train",
        *RUN_ARGS,
        *ONE_THREAD,
        "--out",
        str(out),
        *extra,
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def _exit_and_stderr(main, argv: list[str], capsys) -> tuple[int, list[str]]:
    """Run a CLI ``main`` in-process; its exit code and its stderr lines."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code, capsys.readouterr().err.splitlines()


def _checkpoint_epoch(config: TrainConfig, path: Path) -> int:
    trainer = Trainer([config], "cpu")
    trainer.load_checkpoint(path)
    return trainer.epoch


# ------------------------------------------------------------------------------- killed mid-run
@pytest.fixture(scope="module")
def straight(data_root, tmp_path_factory) -> dict:
    """Metrics of the run trained without interruption, by the real command line."""
    out = tmp_path_factory.mktemp("straight")
    done = _train_cli(out, env=_env(data_root))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return results.read_json(out / "metrics.json")


@pytest.mark.slow
def test_sigkill_after_first_epoch_then_resume_gives_the_uninterrupted_metrics(
    straight, data_root, tmp_path, capsys
) -> None:
    out = tmp_path / "run"
    child = subprocess.Popen(
        [sys.executable, "-c", PAUSE_AFTER_FIRST_EPOCH, *RUN_ARGS, *ONE_THREAD, "--out", str(out)],
        env=_env(data_root),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300  # a safety net for a broken child, not a speed requirement
    while not (out / "checkpoint.pt").exists():
        assert child.poll() is None, f"the run ended before its first checkpoint: {child.communicate()}"
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail("no checkpoint after 300 s")
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert not (out / "metrics.json").exists()
    assert _checkpoint_epoch(RUN_CONFIG, out / "checkpoint.pt") == 1

    code, err = _exit_and_stderr(train.main, [*RUN_ARGS, "--out", str(out)], capsys)
    assert code == 2 and len(err) == 1 and "pass --resume" in err[0]  # never silently restarted

    resumed = _train_cli(out, "--resume", env=_env(data_root))
    assert resumed.returncode == 0 and resumed.stderr == "", resumed.stderr
    metrics = results.read_json(out / "metrics.json")
    for name in SAME:
        assert metrics[name] == straight[name], name
    assert len(metrics["alpha_history"]) == 4  # the start and three epochs, none repeated or lost


# ------------------------------------------------------------------------------- damaged checkpoints
@pytest.fixture(scope="module")
def tiny_straight(data_root) -> dict:
    (metrics,), _ = train.fit([TINY], "cpu", show_progress=False)
    return metrics


def _first_epoch_checkpoint(folder: Path) -> Path:
    trainer = Trainer([TINY], "cpu")
    trainer.train_epoch(show_progress=False)
    path = folder / "checkpoint.pt"
    trainer.save_checkpoint(path)
    return path


def _pickled_list(_: bytes) -> bytes:
    buffer = io.BytesIO()
    torch.save([1, 2, 3], buffer)
    return buffer.getvalue()


def _flip_a_weight(raw: bytes) -> bytes:
    """Flip one byte inside the largest stored tensor: the file still unzips and unpickles."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        entry = max(archive.infolist(), key=lambda info: info.file_size)
    start = entry.header_offset + 30 + len(entry.filename.encode()) + len(entry.extra)
    damaged = bytearray(raw)
    damaged[start + entry.file_size // 2] ^= 0xFF
    return bytes(damaged)


DAMAGE = {
    "truncated": lambda raw: raw[: len(raw) // 2],
    "cut by a byte": lambda raw: raw[:-1],
    "empty": lambda raw: b"",
    "garbage": lambda raw: bytes(range(256)) * 64,
    "not a checkpoint": _pickled_list,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_checkpoint_is_set_aside_and_recomputed(damage, tiny_straight, tmp_path) -> None:
    path = _first_epoch_checkpoint(tmp_path)
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    damaged = path.read_bytes()
    with pytest.warns(UserWarning, match=r"checkpoint\.pt is corrupt .*moved to checkpoint\.pt\.corrupt"):
        (metrics,), _ = train.fit([TINY], "cpu", out=tmp_path, resume=True, show_progress=False)
    assert (tmp_path / "checkpoint.pt.corrupt").read_bytes() == damaged  # kept for inspection
    for name in SAME:
        assert metrics[name] == tiny_straight[name], name
    assert _checkpoint_epoch(TINY, path) == TINY.epochs  # the recomputed run checkpointed again


def test_flipped_byte_in_a_checkpoint_is_detected(tiny_straight, tmp_path) -> None:
    path = _first_epoch_checkpoint(tmp_path)
    path.write_bytes(_flip_a_weight(path.read_bytes()))
    with pytest.warns(UserWarning, match="corrupt"):
        train.fit([TINY], "cpu", out=tmp_path, resume=True, show_progress=False)


def test_partial_temporary_checkpoint_is_ignored(tiny_straight, tmp_path) -> None:
    """A kill during a checkpoint write leaves only ``checkpoint.pt.tmp``; the last rename stands."""
    path = _first_epoch_checkpoint(tmp_path)
    (tmp_path / "checkpoint.pt.tmp").write_bytes(path.read_bytes()[:1000])
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*corrupt")
        (metrics,), _ = train.fit([TINY], "cpu", out=tmp_path, resume=True, show_progress=False)
    for name in SAME:
        assert metrics[name] == tiny_straight[name], name


def test_damaged_checkpoint_through_the_cli_is_one_warning_line(tiny_straight, tmp_path, capsys) -> None:
    path = _first_epoch_checkpoint(tmp_path)
    path.write_bytes(path.read_bytes()[:5000])
    train.main([*TINY_ARGS, "--out", str(tmp_path), "--resume"])
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("warning: ") and "moved to checkpoint.pt.corrupt" in err[0]
    assert results.read_json(tmp_path / "metrics.json")["test_mse"] == tiny_straight["test_mse"]


def test_checkpoint_of_other_settings_is_one_line_exit_2_and_left_alone(data_root, tmp_path, capsys) -> None:
    path = _first_epoch_checkpoint(tmp_path)
    before = path.read_bytes()
    argv = [*TINY_ARGS, "--alpha0", "0.6", "--out", str(tmp_path), "--resume"]  # another run's folder
    code, err = _exit_and_stderr(train.main, argv, capsys)
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error: ") and "written for other settings" in err[0] and "--out" in err[0]
    assert path.read_bytes() == before and not (tmp_path / "checkpoint.pt.corrupt").exists()


def test_ctrl_c_is_one_line_and_resume_finishes_the_run(tiny_straight, tmp_path, monkeypatch, capsys) -> None:
    original = Trainer.train_epoch

    def interrupted_in_second_epoch(self, *args, **kwargs):
        if self.epoch == 1:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "train_epoch", interrupted_in_second_epoch)
    code, err = _exit_and_stderr(train.main, [*TINY_ARGS, "--out", str(tmp_path)], capsys)
    assert code == 130 and len(err) == 1 and "--resume" in err[0]
    monkeypatch.setattr(Trainer, "train_epoch", original)
    train.main([*TINY_ARGS, "--out", str(tmp_path), "--resume"])
    assert results.read_json(tmp_path / "metrics.json")["alpha_history"] == tiny_straight["alpha_history"]


# ------------------------------------------------------------------------------- diverging loss
def test_diverging_loss_exits_3_naming_epoch_and_step_and_keeps_the_checkpoint(
    data_root, tmp_path, capsys
) -> None:
    # lr 1e30: Adam moves every weight by ~1e30 in the first step (one step an epoch here), so
    # the first forward pass of epoch 2 overflows, after epoch 1 was checkpointed.
    argv = ["--lr", "1e30", "--subset", "64", "--test-subset", "32", "--batch-size", "64", "--epochs", "3"]
    code, err = _exit_and_stderr(train.main, [*argv, "--quiet", "--out", str(tmp_path)], capsys)
    assert code == 3 and len(err) == 1
    assert "at epoch 2, step " in err[0] and f"last good checkpoint is kept in {tmp_path}" in err[0]
    config = TrainConfig(lr=1e30, subset=64, test_subset=32, batch_size=64, epochs=3)
    assert _checkpoint_epoch(config, tmp_path / "checkpoint.pt") == 1
    assert not (tmp_path / "metrics.json").exists()


# ------------------------------------------------------------------------------- results cache
GRID_BASE = dict(epochs=1, subset=64, test_subset=32, batch_size=32, landscape_images=16, landscape_points=3)
GRID = [
    TrainConfig(regulariser="tdgjs", seed=0, **GRID_BASE).resolved(),
    TrainConfig(regulariser="kl", seed=1, **GRID_BASE).resolved(),
]
METRICS = ["test_mse", "rate", "alpha_final"]


@pytest.fixture
def folder(data_root, tmp_path) -> Path:
    """A results folder (the grid keeps its scratch checkpoints inside it)."""
    return tmp_path / "results"


def _run(configs, folder: Path) -> int:
    return grid.run_grid(configs, folder, "cpu", show_progress=False)


def _by_key(table):
    return table.sort_values(results.KEY).reset_index(drop=True)


CSV_DAMAGE = {
    "cut mid-row": lambda raw: raw[:-7],
    "zero-filled block": lambda raw: raw[:40] + b"\0" * 64 + raw[104:],
    "merge conflict": lambda raw: b"<<<<<<< HEAD\n" + raw + b"=======\n>>>>>>> theirs\n",
    "empty": lambda raw: b"",
    "binary": lambda raw: bytes(range(256)) * 8,
}


@pytest.mark.parametrize("damage", list(CSV_DAMAGE))
def test_damaged_results_table_is_set_aside_and_recomputed(damage, folder) -> None:
    assert _run(GRID, folder) == 2
    csv_path, json_path = grid.table_paths(folder)
    before = _by_key(results.read_table(csv_path))
    csv_path.write_bytes(CSV_DAMAGE[damage](csv_path.read_bytes()))
    with pytest.warns(UserWarning, match=r"benchmarks\.csv is corrupt .*will be recomputed"):
        assert _run(GRID, folder) == 2
    assert (folder / "benchmarks.csv.corrupt").exists()
    after = _by_key(results.read_table(csv_path))
    assert after[results.KEY].tolist() == before[results.KEY].tolist()
    assert after[METRICS].equals(before[METRICS])  # recomputed to the same values, not reused
    assert set(results.read_json(json_path)) == set(after[results.KEY])


@pytest.mark.parametrize("damage", ["cut short", "not a mapping"])
def test_damaged_histories_are_set_aside_and_recomputed(damage, folder) -> None:
    assert _run(GRID, folder) == 2
    _, json_path = grid.table_paths(folder)
    keys = set(results.read_json(json_path))
    json_path.write_text(json_path.read_text()[:200] if damage == "cut short" else "[1, 2]\n")
    with pytest.warns(UserWarning, match="corrupt"):
        assert _run(GRID, folder) == 2
    assert set(results.read_json(json_path)) == keys


def test_changed_configuration_or_code_version_is_never_a_cached_row(folder, monkeypatch) -> None:
    run = GRID[0]
    assert _run([run], folder) == 1
    assert _run([run], folder) == 0  # unchanged: reused
    changed = [
        replace(run, weight=2.0),
        replace(run, epochs=2),
        replace(run, alpha0=0.7),
        replace(run, lr=2e-4),
    ]
    for other in changed:
        assert _run([other], folder) == 1, other  # one changed setting: trained, not reused
    monkeypatch.setattr(grid, "CODE_VERSION", "benchmarks-changed")
    assert grid.pending([run], folder) == [run]
    assert _run([run], folder) == 1  # same settings, new code: recomputed
    table = results.read_table(grid.table_paths(folder)[0])
    assert len(table) == 6 and table[results.KEY].is_unique
    current = table[table[results.KEY] == grid.key_of(run)]  # what a chapter selects
    assert current["code_version"].tolist() == ["benchmarks-changed"]


def test_repeated_keys_keep_the_newest_row_with_a_warning(tmp_path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("config_key,test_mse\nk1,1.0\nk2,2.0\nk1,3.0\n")
    with pytest.warns(UserWarning, match="1 repeated config_keys; the last row"):
        table = results.read_table(path)
    assert table.set_index(results.KEY)["test_mse"].to_dict() == {"k1": 3.0, "k2": 2.0}


def test_histories_that_are_not_a_mapping_are_set_aside(tmp_path) -> None:
    path = tmp_path / "h.json"
    path.write_text("[1, 2]\n")
    with pytest.warns(UserWarning, match="not a mapping"):
        assert results.update_json(path, {"k": 1}) == {"k": 1}
    assert (tmp_path / "h.json.corrupt").read_text() == "[1, 2]\n"


# ------------------------------------------------------------------------------- dataset files
def test_truncated_mnist_file_names_itself_and_its_fix_works(
    data_root, tmp_path, monkeypatch, capsys
) -> None:
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for archive in (data_root / "MNIST" / "raw").glob("*.gz"):
        shutil.copy(archive, raw / archive.name)
    images = raw / "train-images-idx3-ubyte"
    with gzip.open(raw / "train-images-idx3-ubyte.gz") as archive:
        images.write_bytes(archive.read(1000))  # the start of a copy that was cut short
    monkeypatch.setenv("ALPHAVAE_DATA", str(tmp_path))
    data.clear_cache()
    code, err = _exit_and_stderr(train.main, ["--epochs", "1", "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and len(err) == 1
    assert str(images) in err[0] and "truncated" in err[0] and "re-extract it from" in err[0]
    images.unlink()  # the fix the message gives
    assert data.load_images("mnist", "train", subset=3).shape == (3, 1, 32, 32)
    data.clear_cache()


def _fake_dsprites(path: Path, n: int = 20) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    np.savez_compressed(
        path,
        imgs=rng.integers(0, 2, (n, 64, 64), dtype=np.uint8),
        latents_classes=np.zeros((n, 6), dtype=np.int64),
        latents_values=np.zeros((n, 6)),
    )


@pytest.mark.parametrize("damage", ["truncated", "flipped byte"])
def test_damaged_dsprites_archive_names_itself(damage, tmp_path) -> None:
    path = tmp_path / "dsprites" / NPZ_NAME
    _fake_dsprites(path)
    raw = bytearray(path.read_bytes())
    if damage == "truncated":
        raw = raw[: len(raw) // 2]
    else:
        raw[len(raw) // 3] ^= 0xFF  # caught by the zip archive's CRC
    path.write_bytes(bytes(raw))
    data.clear_cache()
    with pytest.raises(UserError, match="truncated or corrupt|cannot be read") as err:
        data.load_images("dsprites", "train", root=tmp_path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    data.clear_cache()


# ------------------------------------------------------------------------------- bad input, Python API
MU, LOGVAR = torch.zeros(4, 3), torch.zeros(4, 3)
EYE, ORIGIN = torch.eye(2), torch.zeros(2)
NOT_PD = torch.tensor([[1.0, 2.0], [2.0, 1.0]])

API_CASES = [
    pytest.param(
        lambda: div.gjs_normal(MU, LOGVAR, 1.5), r"alpha must lie in \[0, 1\], got 1.5", id="alpha above 1"
    ),
    pytest.param(lambda: div.gjs_normal(MU, LOGVAR, -0.1, dual=True), "got -0.1", id="alpha below 0"),
    pytest.param(lambda: div.gjs_normal(MU, LOGVAR, float("nan")), "got nan", id="alpha nan"),
    pytest.param(
        lambda: div.geometric_mean_normal(MU, LOGVAR, MU, LOGVAR, float("inf")), "got inf", id="alpha inf"
    ),
    pytest.param(
        lambda: div.gjs_normal(MU, LOGVAR, torch.tensor([0.5, float("nan")] * 2)),
        "nan",
        id="alpha tensor with nan",
    ),
    pytest.param(lambda: div.gjs_normal_literal(MU, LOGVAR, 2.0), "got 2.0", id="alpha literal form"),
    pytest.param(lambda: div.gjs_mvn(ORIGIN, EYE, ORIGIN, EYE, 1.1), "got 1.1", id="alpha full covariance"),
    pytest.param(
        lambda: div.gjs_normal(MU, torch.zeros(4, 2), 0.5), r"same shape.*\(4, 3\)", id="mu vs logvar shape"
    ),
    pytest.param(
        lambda: div.kl_normal(MU, LOGVAR, torch.zeros(5, 3), torch.zeros(5, 3)), "shapes", id="kl shapes"
    ),
    pytest.param(
        lambda: div.kl_mvn(ORIGIN, NOT_PD, ORIGIN, EYE), "positive definite", id="covariance not PD"
    ),
    pytest.param(
        lambda: div.gjs_mvn(ORIGIN, EYE, ORIGIN, -EYE, 0.5), "positive definite", id="covariance negative"
    ),
    pytest.param(
        lambda: div.kl_mvn(torch.zeros(3), EYE, ORIGIN, EYE), "does not match", id="covariance shape"
    ),
    pytest.param(
        lambda: div.geometric_mean_mvn(ORIGIN, -EYE, ORIGIN, EYE, 0.5), "positive", id="geometric mean not PD"
    ),
    pytest.param(
        lambda: presets.check_preset("huge"), "unknown preset 'huge'; choose one of", id="unknown preset"
    ),
    pytest.param(lambda: presets.select({"cpu": {}}, "paper"), "not defined here", id="preset not in table"),
    pytest.param(lambda: resolve_device("tpu"), "unknown device 'tpu'", id="unknown device"),
    pytest.param(lambda: TrainConfig(lr=float("nan")), "lr must be a positive number, got nan", id="lr nan"),
    pytest.param(lambda: TrainConfig(lr=float("inf")), "got inf", id="lr inf"),
    pytest.param(lambda: TrainConfig(alpha_lr=0.0), "alpha_lr must be a positive number", id="alpha lr 0"),
    pytest.param(
        lambda: TrainConfig(weight=-1.0), "weight must be a non-negative number", id="weight negative"
    ),
    pytest.param(lambda: TrainConfig(noise=float("nan")), "noise must be", id="noise nan"),
    pytest.param(lambda: TrainConfig(subset=0), "subset must be positive", id="subset 0"),
    pytest.param(lambda: TrainConfig(latent_dim=0), "latent dim must be positive", id="latent dim 0"),
    pytest.param(
        lambda: TrainConfig(reconstruction="l1"), "unknown reconstruction 'l1'", id="unknown reconstruction"
    ),
    pytest.param(
        lambda: TrainConfig.from_dict({"epoch": 3}),
        "unknown configuration keys: epoch",
        id="unknown config key",
    ),
    pytest.param(lambda: train.fit([], "cpu"), "no configurations", id="no runs"),
    pytest.param(
        lambda: grid.run_grid(GRID, Path("unused"), group_size=0),
        "group-size must be positive",
        id="group size 0",
    ),
    pytest.param(lambda: grid.parse_shard("1/0"), "1 <= K <= N", id="shard 1/0"),
    pytest.param(
        lambda: results.append_rows(Path("unused.csv"), [{"a": 1}]), "config_key", id="row without key"
    ),
    pytest.param(
        lambda: div.gjs_normal(MU, LOGVAR, None),
        "alpha",
        id="alpha None",
    ),
    pytest.param(
        lambda: TrainConfig(epochs=2.5),
        "epochs must be",
        id="epochs 2.5",
    ),
    pytest.param(
        lambda: TrainConfig(epochs="3"),
        "epochs must be",
        id="epochs '3'",
    ),
]


@pytest.mark.parametrize("call,message", API_CASES)
def test_bad_input_is_one_value_error(call, message, data_root) -> None:
    with pytest.raises(ValueError, match=message) as err:
        call()
    assert "\n" not in str(err.value)


# ------------------------------------------------------------------------------- bad input, command lines
def _cli(main, argv: list[str], message: str):
    name = f"{main.__module__.rsplit('.', 1)[-1]} {' '.join(argv)}"
    return pytest.param(main, argv, message, id=name)


CLI_CASES = [
    _cli(train.main, ["--epochs", "0"], "epochs must be positive, got 0"),
    _cli(train.main, ["--epochs", "-3"], "epochs must be positive, got -3"),
    _cli(train.main, ["--epochs", "abc"], "argument --epochs: invalid int value: 'abc'"),
    _cli(train.main, ["--batch-size", "-1"], "batch size must be positive, got -1"),
    _cli(train.main, ["--lr", "nan"], "lr must be a positive number, got nan"),
    _cli(train.main, ["--lr", "inf"], "lr must be a positive number, got inf"),
    _cli(train.main, ["--alpha-lr", "0"], "alpha_lr must be a positive number"),
    _cli(train.main, ["--regulariser", "tdgjs", "--alpha0", "-0.5"], r"alpha0 must lie in [0, 1], got -0.5"),
    _cli(train.main, ["--regulariser", "kl", "--alpha0", "0.5"], "skewed regularisers only"),
    _cli(train.main, ["--weight", "-1"], "weight must be a non-negative number, got -1.0"),
    _cli(train.main, ["--weight", "nan"], "weight must be a non-negative number, got nan"),
    _cli(train.main, ["--noise", "-0.1"], "noise must be a non-negative number"),
    _cli(train.main, ["--subset", "0"], "subset must be positive, got 0"),
    _cli(train.main, ["--test-subset", "-5"], "test subset must be positive, got -5"),
    _cli(train.main, ["--alpha-every", "-1"], "alpha every must be zero or positive"),
    _cli(train.main, ["--threads", "0"], "--threads must be positive, got 0"),
    _cli(train.main, ["--bogus"], "unrecognized arguments: --bogus"),
    _cli(train.main, ["--out", "{file}"], "is a file, not a folder"),
    _cli(train.main, ["--out", "{file}/run"], "cannot be written"),
    _cli(grid.main, ["--preset", "smoke", "--group-size", "0"], "--group-size must be positive, got 0"),
    _cli(
        grid.main, ["--preset", "smoke", "--executor", "local", "--shards", "0"], "--shards must be positive"
    ),
    _cli(grid.main, ["--preset", "smoke", "--executor", "foo", "--shards", "2"], "unknown executor 'foo'"),
    _cli(grid.main, ["--preset", "smoke", "--seeds", "a,b", "--list"], "'a'"),
    _cli(mixture_fit.main, ["--preset", "huge"], "unknown preset 'huge'"),
    _cli(grid.main, ["--bogus"], "unrecognized arguments"),
    _cli(mixture_fit.main, ["--bogus"], "unrecognized arguments"),
    _cli(mixture_fit.main, ["--threads", "0"], "threads must be positive"),
]


@pytest.mark.parametrize("main,argv,message", CLI_CASES)
def test_cli_bad_input_is_one_line_and_exit_2(main, argv, message, tmp_path, capsys) -> None:
    (tmp_path / "file").write_text("")
    argv = [a.replace("{file}", str(tmp_path / "file")) for a in argv]
    if "--out" not in argv:
        argv += (
            ["--out", str(tmp_path / "out")] if main is not mixture_fit.main else ["--root", str(tmp_path)]
        )
    code, err = _exit_and_stderr(main, argv, capsys)
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err


@pytest.mark.slow
@pytest.mark.parametrize(
    "module,argv,message",
    [
        ("train", ["--epochs", "abc"], "invalid int value: 'abc'"),
        ("mixtures", ["--preset", "huge"], "unknown preset 'huge'"),
    ],
)
def test_real_command_line_prints_one_line_not_a_traceback(module, argv, message, tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "alphavae_core", module, *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [done.stderr.strip()] and message in done.stderr
    assert "Traceback" not in done.stderr
