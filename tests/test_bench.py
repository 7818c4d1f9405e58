"""The speed benchmarks run and summarise; no speed is asserted (speed is reported, not tested)."""

from __future__ import annotations

import pandas as pd
import pytest

from alphavae_core.experiments import bench


def test_step_benchmark_runs_both_paths(data_root, one_thread) -> None:
    (row,) = bench.bench_step(blocks=1, threads=None, batch_sizes=(4,))
    assert row["benchmark"] == "training_step_ms" and row["batch_size"] == 4
    assert row["plain_ms"] > 0 and row["fast_ms"] > 0


def test_summaries_take_medians_and_ratios() -> None:
    common = {"date": "d", "cpu": "c", "cores": 2, "commit": "abc"}
    table = pd.DataFrame(
        [
            {**common, "benchmark": "mnist_epoch_whole_process", "plain_s": 20.0, "fast_s": 10.0},
            {**common, "benchmark": "mnist_epoch_whole_process", "plain_s": 18.0, "fast_s": 12.0},
            {**common, "benchmark": "training_step_ms", "batch_size": 64.0, "plain_ms": 9.0, "fast_ms": 6.0},
        ]
    )
    epoch = bench.epoch_summary(table)
    assert epoch.plain_s.tolist() == [19.0] and epoch.fast_s.tolist() == [11.0]
    assert epoch.speed_up.tolist() == [round(19 / 11, 2)]
    step = bench.step_summary(table)
    assert step.batch_size.tolist() == [64] and step.speed_up.tolist() == [1.5]
    assert bench.grid_summary(table).empty


def test_unknown_benchmark_is_one_line(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--what", "epochs"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "epoch, step, grid" in err


def test_bench_measures_on_the_device_it_is_given(data_root, one_thread, tmp_path) -> None:
    out = tmp_path / "speed.csv"
    bench.main(["--what", "step", "--blocks", "1", "--device", "cpu", "--out", str(out)])
    rows = pd.read_csv(out)
    assert rows.device.tolist() == ["cpu", "cpu"] and rows.batch_size.tolist() == [64, 1]
    assert (rows.fast_images_per_s == rows.batch_size / rows.fast_ms * 1e3).all()


def test_unknown_device_is_one_line(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--device", "tpu"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unknown device 'tpu'" in err
