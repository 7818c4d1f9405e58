"""The denoising and rate-distortion chapters' analysis, on rows whose answers are known."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from alphavae_core.chapters import rate_distortion as rd
from alphavae_core.experiments.results import KEY


def _rd_rows() -> pd.DataFrame:
    """KL: distortion = 40 - 8 log(rate); the alpha-VAE sits `offset` below that line, per seed."""
    rows = []
    for seed, offset in ((0, 1.0), (1, 1.2), (2, 0.8)):
        for w, rate in zip((0.1, 0.5, 1.0, 2.0), (40.0, 20.0, 10.0, 5.0)):
            rows.append(("kl", w, seed, rate, 40 - 8 * math.log(rate)))
        for w, rate in zip((0.5, 1.0), (30.0, 15.0)):
            rows.append(("tdgjs", w, seed, rate, 40 - 8 * math.log(rate) - offset))
        rows.append(("tdgjs", 0.01, seed, 90.0, 1.0))  # beyond the KL curve: never extrapolated
    frame = pd.DataFrame(rows, columns=["regulariser", "weight", "seed", "rate", "test_mse"])
    frame["train_rate"], frame["train_mse"] = frame["rate"], frame["test_mse"] - 1
    frame["alpha_final"], frame[KEY] = np.nan, [f"k{i}" for i in range(len(frame))]
    return frame


def test_matched_rate_recovers_the_offset_below_the_reference_curve() -> None:
    table = rd.matched_rate(_rd_rows(), "tdgjs", "kl").set_index("λ")
    # linear interpolation in log rate is exact for a curve linear in log rate
    assert table.loc[0.5, "mean"] == pytest.approx(-1.0, abs=1e-9)
    assert table.loc[0.5, "std"] == pytest.approx(0.2, abs=1e-9)
    assert table.loc[1.0, "difference"] == "-1.00 ± 0.20"
    assert table.loc[0.01, "seeds"] == 0 and math.isnan(table.loc[0.01, "mean"])
    verdict = rd.matched_rate_verdict(table.reset_index(), "tdgjs", "kl")
    assert verdict.count("lower than") == 2 and "0.01" not in verdict


def test_matched_rate_within_two_seed_deviations_is_no_difference() -> None:
    rows = _rd_rows()
    model = rows["regulariser"] == "tdgjs"
    rows.loc[model & (rows["seed"] == 0), "test_mse"] += 1.0  # offsets 0, -0.2, +0.2: mean 0
    rows.loc[model & (rows["seed"] == 1), "test_mse"] += 1.0
    rows.loc[model & (rows["seed"] == 2), "test_mse"] += 1.0
    assert "no different from" in rd.matched_rate_verdict(rd.matched_rate(rows))


def test_matched_rate_with_one_seed_names_the_difference_without_a_verdict() -> None:
    verdict = rd.matched_rate_verdict(rd.matched_rate(_rd_rows()[lambda r: r["seed"] == 0]))
    assert "differs from KL(q‖p)'s at the same rate by -1.00 (one seed" in verdict
    assert "lower than" not in verdict


def test_gain_split_adds_up_to_the_gain_and_puts_the_offset_beyond_rate() -> None:
    split = rd.gain_split(_rd_rows(), "tdgjs", 1.0)
    # KL at lambda = 1: rate 10, 40 - 8 log 10; tdgjs: rate 15, 40 - 8 log 15 - offset
    by_rate = 8 * math.log(1.5)
    assert split["by_rate"][0] == pytest.approx(by_rate) and split["by_rate"][1] == pytest.approx(0, abs=1e-9)
    assert split["beyond_rate"][:2] == pytest.approx((1.0, 0.2))
    assert split["total"][0] == pytest.approx(by_rate + 1.0) and split["total"][2] == 3
    text = rd.gain_split_text(_rd_rows(), "tdgjs", 1.0)
    assert f"would gain {by_rate:.2f} ± 0.00; the remaining 1.00 ± 0.20" in text
    assert text.endswith("above zero by more than two seed standard deviations.")
    assert "one seed, so no spread" in rd.gain_split_text(_rd_rows()[lambda r: r["seed"] == 0], "tdgjs", 1.0)
    assert rd.gain_split_text(_rd_rows(), "tdgjs", 2.0).startswith("No seed has both")


def test_equivalent_kl_weight_interpolates_weight_against_rate_in_log_log() -> None:
    rows = _rd_rows()
    # tdgjs at lambda = 1 has rate 15: between KL's (1.0, 10) and (0.5, 20) in log-log
    expected = math.exp(np.interp(math.log(15), [math.log(10), math.log(20)], [math.log(1.0), math.log(0.5)]))
    assert rd.equivalent_kl_weight(rows, "tdgjs", 1.0) == pytest.approx(expected)
    assert math.isnan(rd.equivalent_kl_weight(rows, "tdgjs", 0.01))


def test_curve_table_and_figure_from_rows() -> None:
    rows = _rd_rows()
    table = rd.curve_table(rows)
    assert list(table.index.get_level_values(0).unique()) == ["KL(q‖p)", "t-JS*^Gα"]
    assert set(table["seeds"]) == {3}
    fig = rd.plot_rate_distortion(rows)
    assert fig.axes[0].get_xscale() == "log"
    plt.close(fig)
